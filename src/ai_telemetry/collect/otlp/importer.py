"""``ai-telemetry import otlp FILE``: OTLP files into the log, once.

A file is one OTLP/JSON export request, JSON Lines of several (what the OpenTelemetry
Collector's ``file`` exporter writes; each line may be logs, metrics or traces), or one
OTLP/protobuf export request. Importing is idempotent twice over: a file whose content was
imported before is skipped (its SHA-256 is remembered in ``otlp-imports.json`` in the telemetry
directory), and every event's id comes from the record it was made of, so events already in the
log are filtered out even when the file changed around them (a growing collector file).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import orjson

from ai_telemetry.collect.idempotent import drop_logged, read_logged_events
from ai_telemetry.collect.otlp import otlp_to_events
from ai_telemetry.collect.otlp.decode import Kind, decode_json, detect_kind
from ai_telemetry.collect.otlp.mapping import SOURCE, OtlpResult
from ai_telemetry.config import Settings
from ai_telemetry.errors import CollectorError
from ai_telemetry.events.schema import timestamp_from_unix
from ai_telemetry.log.files import atomic_write
from ai_telemetry.log.sink import WriteReport, append_events

Format = Literal["json", "protobuf"]
STATE_FILE: Final = "otlp-imports.json"

_PROTOBUF_SUFFIXES: Final = (".pb", ".bin", ".binpb", ".proto", ".protobuf", ".protobuf-bin")


@dataclass(slots=True)
class ImportReport:
    """What one import did.

    Attributes:
        path: the file.
        already_imported: the same content was imported before; nothing was read.
        result: the mapping of every request in the file (events, records, skipped counts).
        requests: export requests read (JSON Lines: one per line).
        written: events appended to the log.
        duplicates: events already in the log (by ``event_id``), not appended again.
        covered_by_hook: events of a kind the Claude Code hook already recorded for the same
            session (`HOOK_OVERLAP`), left out so that nothing counts twice.
        write: the sink's report (rejected events, redactions).
    """

    path: Path
    already_imported: bool = False
    result: OtlpResult = field(default_factory=lambda: OtlpResult("logs"))
    requests: int = 0
    written: int = 0
    duplicates: int = 0
    covered_by_hook: int = 0
    write: WriteReport | None = None


def detect_format(path: Path, data: bytes) -> Format:
    """JSON or protobuf, from the file name, else from the first byte."""
    name = path.name.lower()
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "json"
    if name.endswith(_PROTOBUF_SUFFIXES):
        return "protobuf"
    head = data.lstrip()[:1]
    return "json" if head in (b"{", b"[") else "protobuf"


def kind_from_name(path: Path) -> Kind | None:
    """``logs``/``metrics``/``traces`` when the file name says so (for protobuf files)."""
    name = path.name.lower()
    for kind, words in (
        ("logs", ("log",)),
        ("metrics", ("metric",)),
        ("traces", ("trace", "span")),
    ):
        if any(w in name for w in words):
            return kind  # type: ignore[return-value]
    return None


def read_otlp_file(
    path: Path, *, kind: Kind | None = None, fmt: Format | None = None
) -> tuple[OtlpResult, int]:
    """Map every export request in a file: (merged result, number of requests).

    Raises:
        CollectorError: the file cannot be read, or a request in it is broken (with its line).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CollectorError(f"{path}: cannot read ({exc.strerror or exc})") from None
    chosen_fmt = fmt or detect_format(path, data)
    if chosen_fmt == "protobuf":
        try:
            result = otlp_to_events(
                data, kind=kind or kind_from_name(path), content_type="application/x-protobuf"
            )
        except CollectorError as exc:
            raise CollectorError(f"{path}: {exc}") from None
        return result, 1
    merged: OtlpResult | None = None
    requests = 0
    stripped = data.strip()
    chunks = (
        [stripped]
        if stripped.startswith(b"{") and _is_one_document(stripped)
        else data.splitlines()
    )
    for number, chunk in enumerate(chunks, start=1):
        if not chunk.strip():
            continue
        try:
            payload = decode_json(chunk)
            if not isinstance(payload, dict):
                raise CollectorError("an OTLP/JSON export request is a JSON object")
            result = otlp_to_events(payload, kind=kind if kind else detect_kind(payload))
        except CollectorError as exc:
            where = f"{path}, line {number}" if len(chunks) > 1 else str(path)
            raise CollectorError(f"{where}: {exc}") from None
        requests += 1
        if merged is None:
            merged = result
        else:
            merged.merge(result)
    if merged is None:
        raise CollectorError(f"{path}: the file holds no OTLP export request")
    return merged, requests


def _is_one_document(data: bytes) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


def _load_state(path: Path) -> dict[str, Any]:
    try:
        state = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return state if isinstance(state, dict) else {}


def _save_state(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, orjson.dumps(state, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


HOOK_OVERLAP: Final = frozenset({"tool_call", "skill_execution", "session_start"})
"""Event types that both Claude Code's OTLP export and its hooks (`ai-telemetry hook`) record."""


def hook_sessions(log_path: Path) -> set[tuple[str, str]]:
    """(session id, event type) pairs of the `HOOK_OVERLAP` events the hook wrote to the log.

    Claude Code's hooks and its OTLP export name a session by the same id; a session the hook
    saw already has its tool calls, skills and start in the log, so importing them from OTLP
    too would count them twice. Only lines naming the hook are parsed. The team server
    records a hook's events as ``hook:<token name>`` (docs/serve.md): those count as well.
    """
    return {
        (event["session_id"], event["event_type"])
        for event in read_logged_events(log_path, HOOK_OVERLAP, containing=b'"hook')
        if _from_hook(event.get("source")) and isinstance(event.get("session_id"), str)
    }


def _from_hook(source: object) -> bool:
    return isinstance(source, str) and (source == "hook" or source.startswith("hook:"))


def import_otlp_file(
    path: Path,
    *,
    settings: Settings,
    kind: Kind | None = None,
    fmt: Format | None = None,
    force: bool = False,
    clock: Callable[[], float] = time.time,
) -> ImportReport:
    """Import one OTLP file into the log, through the privacy guard.

    Args:
        path: the file (OTLP/JSON, JSON Lines of OTLP/JSON, or OTLP/protobuf).
        settings: where the log and the telemetry directory are.
        kind: logs, metrics or traces; detected per request when None.
        fmt: json or protobuf; detected from the name or content when None.
        force: read the file even if this content was imported before (events already in
            the log are still not appended twice).
        clock: Unix time source for the state file.

    Raises:
        CollectorError: the file is missing, unreadable or not OTLP (message names it).
        LogError: the log cannot be written.
    """
    path = Path(path)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise CollectorError(
            f"{path}: cannot read ({exc.strerror or exc}); check the path"
        ) from None
    state_path = settings.telemetry_dir / STATE_FILE
    state = _load_state(state_path)
    files = state.setdefault("files", {})
    if not isinstance(files, dict):
        files = state["files"] = {}
    report = ImportReport(path)
    if digest in files and not force:
        report.already_imported = True
        return report
    result, requests = read_otlp_file(path, kind=kind, fmt=fmt)
    report.result = result
    report.requests = requests
    hooked = hook_sessions(settings.log_path)
    events = [e for e in result.events if (e.get("session_id"), e.get("event_type")) not in hooked]
    report.covered_by_hook = len(result.events) - len(events)
    fresh = drop_logged(events, settings.log_path)
    report.duplicates = len(events) - len(fresh)
    if fresh:
        report.write = append_events(fresh, settings=settings, source=SOURCE)
        report.written = report.write.written
    files[digest] = {
        "path": str(path),
        "imported_at": timestamp_from_unix(clock()),
        "events": len(result.events),
    }
    _save_state(state_path, state)
    return report
