"""A tolerant, streaming reader of ``events.jsonl``, and the quarantine of bad lines.

The reader never crashes on a bad line: it keeps every valid event and reports each bad line
with its line number, byte offset and a reason. A line is bad when it is blank, not UTF-8, not
JSON, not a JSON object, not a valid event (`validate_event`), or the last line of the file
without its newline (a *torn* line: a writer was killed inside ``write``, or is still writing).
Unknown event types are valid and counted.

`quarantine_bad_lines` moves bad lines out of the log without losing them: under the writers'
lock it appends them (raw, wrapped in a JSON object) to the quarantine file and fsyncs it, and
only then replaces the log atomically with a copy that lacks them.

Events written by `LogSink` are already normalised, so most lines take a fast path
(`ai_telemetry.log.fastcheck`) that checks them without rebuilding them; anything the fast path
is not sure about goes through `validate_event`, the single source of truth.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, cast

import orjson

from ai_telemetry.errors import EventValidationError, LogError
from ai_telemetry.events.schema import EVENT_TYPES, MAX_LINE_BYTES, validate_event
from ai_telemetry.log.fastcheck import is_stored_event
from ai_telemetry.log.files import fsync_dir, open_fd, open_file
from ai_telemetry.log.writer import writers_lock

if TYPE_CHECKING:
    from ai_telemetry.documents.types import ValidateDocument

TORN = "torn last line: no newline at the end (a writer was killed mid-write, or is still writing)"
_READ_BUFFER = 1 << 20


@dataclass(frozen=True, slots=True)
class BadLine:
    """One line the reader could not accept.

    Attributes:
        line: 1-based line number (counted from ``start_offset`` when reading from one).
        offset: byte offset of the line's first byte in the file.
        reason: why it was refused, one line.
        raw: the bytes as on disk, without the newline.
    """

    line: int
    offset: int
    reason: str
    raw: bytes

    @property
    def torn(self) -> bool:
        """True for a last line without its newline."""
        return self.reason == TORN


@dataclass(slots=True)
class ReadReport:
    """What one pass over a log found.

    Attributes:
        path: the log read.
        valid: valid events (unknown types included).
        bad: every bad line, in file order.
        unknown_types: valid events of types outside the contract, by type.
        lines: lines seen (valid + bad).
        start_offset: where reading began.
        end_offset: just past the last complete (newline-terminated) line read; resume there.
        quarantined: bad lines moved to the quarantine file by this call.
        quarantine_path: where they went, when any did.
        redacted: values of valid events the privacy guard changed (`redact_log`), or would
            change when only reporting.
        redacted_lines: the lines holding them.
    """

    path: Path
    valid: int = 0
    bad: list[BadLine] = field(default_factory=list)
    unknown_types: Counter[str] = field(default_factory=Counter)
    lines: int = 0
    start_offset: int = 0
    end_offset: int = 0
    quarantined: int = 0
    quarantine_path: Path | None = None
    redacted: int = 0
    redacted_lines: int = 0

    def to_document(self, log: Path | None = None) -> ValidateDocument:
        """The ``validate --json`` document (docs/schemas/validate.json), every bad line in it.

        Args:
            log: the log's path as the user named it (default: `path`).
        """
        from ai_telemetry.documents import header

        return {
            **header("validate"),
            "log": str(log or self.path),
            "lines": self.lines,
            "valid": self.valid,
            "bad": [{"line": b.line, "offset": b.offset, "reason": b.reason} for b in self.bad],
            "unknown_types": dict(self.unknown_types.most_common()),
            "quarantined": self.quarantined,
            "quarantine_path": str(self.quarantine_path) if self.quarantine_path else None,
            "redacted": self.redacted,
            "redacted_lines": self.redacted_lines,
        }

    @property
    def ok(self) -> bool:
        """True when the log has no bad line."""
        return not self.bad


class LogLine(NamedTuple):
    """One line of the log as `scan_log` yields it: an event, or the reason it is bad."""

    line: int
    offset: int
    end: int
    event: dict[str, Any] | None
    reason: str | None
    unknown_type: bool
    raw: bytes


# --- classification ---------------------------------------------------------------------------


def _decode_error(raw: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"invalid UTF-8 at byte {bad.start} of the line"
    return f"not JSON ({exc})"


def oversized(length: int) -> str:
    """The reason given for a line of ``length`` bytes over `MAX_LINE_BYTES`."""
    return f"line is {length:,} bytes, more than the {MAX_LINE_BYTES:,} allowed (docs/log.md)"


def classify_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None, bool]:
    """Judge one line (without its newline): (event, None, unknown) or (None, reason, False)."""
    if len(raw) > MAX_LINE_BYTES:
        return None, oversized(len(raw)), False
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not raw.strip():
            return None, "blank line", False
        return None, _decode_error(raw, exc), False
    if type(obj) is not dict:
        return None, f"not a JSON object (a JSON {_json_kind(obj)})", False
    if is_stored_event(obj):
        return obj, None, obj["event_type"] not in EVENT_TYPES
    try:
        checked = validate_event(obj, assign_id=False)
    except EventValidationError as exc:
        return None, f"invalid event: {exc}", False
    return checked.event, None, checked.unknown_type


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


# --- scanning ---------------------------------------------------------------------------------


def _open_at(path: Path, start_offset: int) -> BinaryIO:
    try:
        fh = cast("BinaryIO", open_file(path, "rb", buffering=_READ_BUFFER))
    except FileNotFoundError:
        raise LogError(
            f"{path}: no such log; check --log / AI_TELEMETRY_LOG_PATH, or run ai-telemetry init"
        ) from None
    except OSError as exc:
        raise LogError(f"{path}: cannot read the log ({exc.strerror or exc})") from exc
    if start_offset:
        size = os.fstat(fh.fileno()).st_size
        if start_offset > size:
            fh.close()
            raise LogError(
                f"{path}: offset {start_offset} is past the end ({size} bytes); the log was "
                "rewritten (retention or quarantine): read it again from offset 0"
            )
        fh.seek(start_offset - 1)
        if fh.read(1) != b"\n":
            fh.close()
            raise LogError(
                f"{path}: offset {start_offset} is not at the start of a line; the log was "
                "rewritten (retention or quarantine): read it again from offset 0"
            )
    return fh


def scan_log(path: Path, *, start_offset: int = 0) -> Iterator[LogLine]:
    """Yield every line of a log from ``start_offset`` on, each judged by `classify_line`.

    Args:
        path: the log.
        start_offset: a byte offset at the start of a line (a previous report's ``end_offset``).

    Raises:
        LogError: the log is missing or unreadable, or ``start_offset`` is not a line start.
    """
    with _open_at(path, start_offset) as fh:
        offset = start_offset
        for number, chunk in enumerate(fh, 1):
            end = offset + len(chunk)
            if chunk[-1:] == b"\n":
                raw = chunk[:-1]
                event, reason, unknown = classify_line(raw)
            else:
                raw, event, reason, unknown = chunk, None, TORN, False
            yield LogLine(number, offset, end, event, reason, unknown, raw)
            offset = end


def read_log(path: Path, *, start_offset: int = 0) -> ReadReport:
    """Read a whole log (streaming) and report valid, bad and unknown-type lines.

    Raises:
        LogError: the log is missing or unreadable.
    """
    report = ReadReport(Path(path), start_offset=start_offset, end_offset=start_offset)
    valid = 0
    unknown_types = report.unknown_types
    bad = report.bad
    end_offset = start_offset
    with _open_at(path, start_offset) as fh:
        offset = start_offset
        number = 0
        for chunk in fh:
            number += 1
            size = len(chunk)
            if chunk[-1:] != b"\n":
                bad.append(BadLine(number, offset, TORN, chunk))
                break  # only the last line can lack its newline
            end_offset = offset + size
            event, reason, unknown = classify_line(chunk[:-1])
            if event is not None:
                valid += 1
                if unknown:
                    unknown_types[event["event_type"]] += 1
            else:
                bad.append(BadLine(number, offset, reason or "bad line", chunk[:-1]))
            offset += size
        report.lines = number
    report.valid = valid
    report.end_offset = end_offset
    return report


def iter_events(
    path: Path,
    *,
    event_types: Collection[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    start_offset: int = 0,
) -> Iterator[dict[str, Any]]:
    """Yield the valid events of a log, in file order, skipping bad lines silently.

    Args:
        path: the log.
        event_types: keep only these types (``None``: all).
        since: keep events at or after this aware datetime.
        until: keep events before this aware datetime.
        start_offset: start at this line-start byte offset (a report's ``end_offset``).

    Raises:
        LogError: the log is missing or unreadable, or ``start_offset`` is not a line start.
        ValueError: ``since`` or ``until`` is a naive datetime.
    """
    for bound in (since, until):
        if bound is not None and bound.tzinfo is None:
            raise ValueError("since/until must be aware datetimes (e.g. tzinfo=UTC)")
    wanted = None if event_types is None else frozenset(event_types)
    timed = since is not None or until is not None
    with _open_at(path, start_offset) as fh:
        for chunk in fh:
            if chunk[-1:] != b"\n":
                return
            event, _, _ = classify_line(chunk[:-1])
            if event is None:
                continue
            if wanted is not None and event["event_type"] not in wanted:
                continue
            if timed:
                moment = datetime.fromisoformat(event["timestamp"])
                if since is not None and moment < since:
                    continue
                if until is not None and moment >= until:
                    continue
            yield event


# --- quarantine -------------------------------------------------------------------------------


def _quarantine_record(bad: BadLine, log_path: Path, now: str) -> bytes:
    record: dict[str, Any] = {
        "quarantined_at": now,
        "log": str(log_path),
        "line": bad.line,
        "offset": bad.offset,
        "reason": bad.reason,
    }
    try:
        record["raw"] = bad.raw.decode("utf-8")
    except UnicodeDecodeError:
        record["raw_base64"] = base64.b64encode(bad.raw).decode("ascii")
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def _append_durably(path: Path, data: bytes) -> None:
    existed = path.exists()
    fd = open_fd(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if not existed:
        fsync_dir(path.parent)


def _rewrite_without(path: Path, drop: set[int]) -> None:
    """Atomically replace the log with a byte-exact copy lacking the lines at offsets ``drop``."""
    _rewrite(path, lambda offset, line: b"" if offset in drop else line)


def _rewrite(path: Path, line_at: Callable[[int, bytes], bytes]) -> None:
    """Atomically replace the log with a copy in which each line (with its newline) is
    ``line_at(offset, line)``; never through a link, fsynced, its mode kept."""
    mode = path.lstat().st_mode & 0o777
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb", buffering=_READ_BUFFER) as out, open_file(path, "rb") as src:
            offset = 0
            for chunk in src:
                out.write(line_at(offset, chunk))
                offset += len(chunk)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def quarantine_bad_lines(
    path: Path, *, quarantine_path: Path, lock_timeout: float | None = 30.0
) -> ReadReport:
    """Move every bad line of a log to the quarantine file, losing nothing.

    A clean log is only read (writers are not held up). Otherwise, under the writers' lock, the
    log is read again (so a torn last line is a real fragment, not a write in progress), its bad
    lines are appended to ``quarantine_path`` as JSON objects (``line``, ``offset``, ``reason``,
    ``raw`` or ``raw_base64`` for bytes that are not UTF-8) and fsynced, and only then is the log
    replaced atomically by a copy without them. A crash in between leaves the lines in both
    files (duplicated, never lost). Running it again on a clean log changes nothing.

    Args:
        path: the log.
        quarantine_path: where bad lines go (`Settings.quarantine_path`).
        lock_timeout: seconds to wait for the writers' lock (``None``: no limit).

    Returns:
        The report of the locked pass; ``quarantined`` says how many lines moved.

    Raises:
        LogError: the log is missing or cannot be read, written or locked.
    """
    path = Path(path)
    first = read_log(path)
    if first.ok:
        return first
    from ai_telemetry.events.schema import utc_now

    try:
        with writers_lock(path, timeout=lock_timeout):
            report = read_log(path)
            if report.ok:
                return report
            now = utc_now()
            data = b"".join(_quarantine_record(bad, path, now) for bad in report.bad)
            _append_durably(Path(quarantine_path), data)
            _rewrite_without(path, {bad.offset for bad in report.bad})
            report.end_offset = path.stat().st_size  # the new file holds only complete lines
    except OSError as exc:
        raise LogError(f"{path}: cannot quarantine bad lines ({exc.strerror or exc})") from exc
    report.quarantined = len(report.bad)
    report.quarantine_path = Path(quarantine_path)
    return report


# --- privacy ----------------------------------------------------------------------------------


def _redactions(path: Path) -> tuple[dict[int, bytes], int]:
    """The lines the privacy guard would change, by offset, and the values changed. Lines are
    only parsed (validation is `read_log`'s job); one that is not a JSON object is skipped."""
    from ai_telemetry.events.privacy import PrivacyGuard

    guard = PrivacyGuard(policy="redact", cache_limit=1 << 16)
    lines: dict[int, bytes] = {}
    values = 0
    loads = orjson.loads
    with _open_at(path, 0) as fh:
        offset = 0
        for chunk in fh:
            start = offset
            offset += len(chunk)
            if chunk[-1:] != b"\n":
                break  # a torn last line: a writer may still be writing it
            try:
                event = loads(chunk)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(event, dict):
                continue
            clean, changed = guard.redact_values(event)
            if changed:
                lines[start] = orjson.dumps(clean, option=orjson.OPT_APPEND_NEWLINE)
                values += changed
    return lines, values


def _rewrite_lines(path: Path, replace: dict[int, bytes]) -> None:
    """Atomically replace the log with a copy whose lines at the offsets of ``replace`` are
    the given bytes (each ending in a newline); every other byte is kept."""
    _rewrite(path, replace.get)


def redact_log(
    path: Path, *, apply: bool = True, lock_timeout: float | None = 30.0
) -> tuple[int, int]:
    """Apply the privacy guard to the valid events already in a log, in place.

    A line appended by hand (as the seed's ``log_session.py`` does) never met the writers'
    guard. Each valid event goes through `PrivacyGuard.redact_values`; a line it changes is
    replaced, under the writers' lock, by an atomic rewrite (temp file, fsync, rename), so a
    crash leaves the old log or the new one. Lines the guard leaves alone keep their bytes.

    Args:
        path: the log.
        apply: False only counts what would change.
        lock_timeout: seconds to wait for the writers' lock (``None``: no limit).

    Returns:
        (values changed, lines changed); with ``apply=False``, what would change.

    Raises:
        LogError: the log cannot be read, written or locked.
    """
    path = Path(path)
    lines, values = _redactions(path)
    if not lines or not apply:
        return values, len(lines)
    try:
        with writers_lock(path, timeout=lock_timeout):
            lines, values = _redactions(path)  # again, under the lock: a writer may have added
            if lines:
                _rewrite_lines(path, lines)
    except OSError as exc:
        raise LogError(f"{path}: cannot redact the log ({exc.strerror or exc})") from exc
    return values, len(lines)
