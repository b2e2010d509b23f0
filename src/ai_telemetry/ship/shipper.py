"""``ai-telemetry ship``: send the local log (and, the first time, the archives) to a server.

The shipper reads ``events.jsonl`` from where it last stopped, in batches of complete lines,
posts each through the `Sender` (gzip, retries with backoff and jitter) and moves its
**checkpoint** forward only after the server acknowledged the batch. The checkpoint
(``<telemetry dir>/ship/<server>.json``, one per server URL) holds:

- the log's identity: its inode and the SHA-256 of its first bytes (up to `HEAD_BYTES`, and
  how many), and the byte offset of the first line not yet acknowledged;
- the archive parts (``archives/manifest.json``) already sent.

It is written atomically (temp file, fsync, ``os.replace``, fsync of the directory), so a
shipper killed at any moment restarts from the last acknowledged batch: at worst it sends
again a batch whose answer it never saw, and the server (idempotent by ``event_id``) stores it
once. A server killed mid-batch answers nothing: the batch is retried until it is back.

A log that is not the one of the checkpoint any more is noticed before each batch: another
inode (retention swapped it, a rotation renamed it), a file shorter than the offset
(truncated), or other first bytes (copied over and truncated). The shipper then starts that
log from its first byte (the server drops what it has already) and sends the archive parts it
has not sent yet (retention moves old lines there).

One shipper per checkpoint at a time (an exclusive ``flock`` on ``<checkpoint>.lock``).

The hook daemon's forwarder runs the same `Shipper` over its forward spool with
``compact=True``: once everything is acknowledged the spool is emptied (under the log's
writers' lock, so no event written meanwhile is lost).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from ai_telemetry.errors import ConfigError, LogError, ShipError
from ai_telemetry.events.schema import MAX_LINE_BYTES
from ai_telemetry.log.files import atomic_write, open_fd, open_file
from ai_telemetry.log.writer import writers_lock
from ai_telemetry.ship.sender import BatchResult, BatchTooLarge

if TYPE_CHECKING:
    from collections.abc import Callable

HEAD_BYTES: Final = 4096
"""How many of the log's first bytes identify it (with its inode)."""
BATCH_LINES: Final = 5000
BATCH_BYTES: Final = 2 << 20
"""A batch holds at most this many lines and uncompressed bytes (the server's default caps are
4 MiB compressed and 20 MiB decompressed)."""
POLL: Final = 0.5
"""Seconds between looks at the log when following it and there is nothing new."""
CHECKPOINT_VERSION: Final = 1


class BatchSender(Protocol):
    """What the shipper sends through: `Sender` (HTTP to a server) or `StoreSender` (a
    PostgreSQL store, for ``serve --store``)."""

    url: str
    retries: int
    should_stop: Callable[[], bool]

    def send(self, lines: bytes, *, count: int) -> BatchResult: ...

    def close(self) -> None: ...


class StopFlag(Protocol):
    """What `Shipper.run` polls to stop (a `threading.Event` is one)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float) -> bool: ...


@dataclass(slots=True)
class LogPosition:
    """Where shipping a log stands: identity and the offset of the first unacknowledged byte."""

    inode: int = 0
    head_len: int = 0
    head_sha256: str = ""
    offset: int = 0


@dataclass(slots=True)
class Checkpoint:
    """The durable state of shipping one telemetry directory to one server."""

    url: str = ""
    log: LogPosition = field(default_factory=LogPosition)
    archives: list[str] = field(default_factory=list)
    """Archive parts (manifest ``file`` names) already acknowledged."""
    shipped: int = 0
    """Lines acknowledged so far, over the checkpoint's life."""

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": CHECKPOINT_VERSION,
                "url": self.url,
                "log": {
                    "inode": self.log.inode,
                    "head_len": self.log.head_len,
                    "head_sha256": self.log.head_sha256,
                    "offset": self.log.offset,
                },
                "archives": self.archives,
                "shipped": self.shipped,
            },
            indent=1,
        ).encode()


def read_checkpoint(path: Path, url: str) -> Checkpoint:
    """The checkpoint at ``path``; a fresh one when there is none.

    Raises:
        ConfigError: the file is there but not a checkpoint (one line: where, and what to do).
    """
    try:
        with open_file(path, "rb") as fh:
            data = fh.read(1 << 24)
    except FileNotFoundError:
        return Checkpoint(url=url)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the ship checkpoint ({exc.strerror})") from exc
    try:
        doc = json.loads(data)
        log = doc["log"]
        return Checkpoint(
            url=str(doc.get("url", url)),
            log=LogPosition(
                inode=int(log["inode"]),
                head_len=int(log["head_len"]),
                head_sha256=str(log["head_sha256"]),
                offset=int(log["offset"]),
            ),
            archives=[str(a) for a in doc.get("archives", [])],
            shipped=int(doc.get("shipped", 0)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path}: not a ship checkpoint ({type(exc).__name__}); delete it to ship "
            "everything again (the server drops what it already has)"
        ) from exc


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint atomically and durably (temp file, fsync, rename, fsync dir)."""
    atomic_write(path, checkpoint.to_json(), perms=0o600)


def checkpoint_path(telemetry_dir: Path, url: str) -> Path:
    """``<telemetry dir>/ship/<host>-<port>-<hash of the URL>.json``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = "".join(c if c.isalnum() or c in ".-" else "_" for c in (parts.hostname or "server"))
    digest = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:12]
    return telemetry_dir / "ship" / f"{host}-{parts.port or parts.scheme}-{digest}.json"


@dataclass(slots=True)
class ShipReport:
    """What one `Shipper.run` did."""

    batches: int = 0
    lines: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    bytes: int = 0
    retries: int = 0
    archive_parts: int = 0
    restarted: list[str] = field(default_factory=list)
    """Why the log was started again from its first byte (rotated, truncated, ...)."""
    rejections: list[str] = field(default_factory=list)
    """The first rejection messages from the server."""
    skipped: int = 0
    """Lines too long for any batch (over the contract's line limit), passed over."""

    def add(self, result: BatchResult, lines: int, size: int) -> None:
        self.batches += 1
        self.lines += lines
        self.bytes += size
        self.accepted += result.accepted
        self.duplicate += result.duplicate
        self.rejected += result.rejected
        for message in result.messages:
            if len(self.rejections) < 5:
                self.rejections.append(message)


def _identity(fd: int, size: int) -> tuple[int, str]:
    head_len = min(size, HEAD_BYTES)
    head = os.pread(fd, head_len, 0)
    return len(head), hashlib.sha256(head).hexdigest()


class Shipper:
    """Ships one log (and its archives) to one server through a `Sender`.

    Args:
        sender: posts the batches.
        log_path: the log to ship.
        checkpoint: the checkpoint file (see `checkpoint_path`).
        archives_dir: the telemetry directory's ``archives/`` (None: no archives to send).
        batch_lines, batch_bytes: the largest batch.
        compact: empty the log once all of it is acknowledged (the forward spool's mode).
        on_batch: called after every acknowledged batch (progress; tests).
    """

    def __init__(
        self,
        sender: BatchSender,
        *,
        log_path: Path,
        checkpoint: Path,
        archives_dir: Path | None = None,
        batch_lines: int = BATCH_LINES,
        batch_bytes: int = BATCH_BYTES,
        compact: bool = False,
        on_batch: Callable[[ShipReport], None] | None = None,
    ) -> None:
        self.sender = sender
        self.log_path = Path(log_path)
        self.checkpoint_path = Path(checkpoint)
        self.archives_dir = archives_dir
        self.batch_lines = batch_lines
        self.batch_bytes = batch_bytes
        self.compact = compact
        self.on_batch = on_batch
        self.report = ShipReport()
        self._checkpoint = Checkpoint(url=sender.url)
        self._lock_fd = -1

    def __enter__(self) -> Shipper:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def acquire(self, *, wait: float = 0.0) -> None:
        """Take the checkpoint's lock and read it.

        Raises:
            ShipError: another shipper holds it (after ``wait`` seconds).
        """
        lock = self.checkpoint_path.with_name(self.checkpoint_path.name + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = open_fd(lock, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise ShipError(
                        f"{self.checkpoint_path}: another `ai-telemetry ship` to {self.sender.url}"
                        " is running; stop it first (one shipper per server)"
                    ) from None
                time.sleep(0.05)
        self._lock_fd = fd
        self._checkpoint = read_checkpoint(self.checkpoint_path, self.sender.url)

    def release(self) -> None:
        """Let go of the lock (the checkpoint is already on disk)."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1
        self.sender.close()

    @property
    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    def run(
        self,
        *,
        follow: bool = False,
        stop: StopFlag | None = None,
        poll: float = POLL,
    ) -> ShipReport:
        """Ship the archives not sent yet, then the log up to its end (``follow``: and on,
        until ``stop`` is set). Returns the report of this run.

        Raises:
            ShipError: the server refused for good, or the sender gave up.
            LogError: the log cannot be read.
        """
        if self._lock_fd < 0:
            raise ShipError("Shipper.run called before acquire()")
        stop = stop or threading.Event()
        try:
            self._ship_archives(stop)
            while not stop.is_set():
                if self._ship_some(stop):
                    continue
                if self.compact:
                    self._compact()
                if not follow:
                    break
                stop.wait(poll)
        except ShipError:
            if not stop.is_set():
                raise  # stopped while retrying: what was acknowledged is in the checkpoint
        finally:
            self.report.retries = self.sender.retries
        return self.report

    # -- the log ---------------------------------------------------------------------------

    def _open_log(self) -> int | None:
        try:
            return open_fd(self.log_path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LogError(f"{self.log_path}: cannot read the log ({exc.strerror})") from exc

    def _ship_some(self, stop: StopFlag) -> bool:
        """Send one batch from the checkpoint's offset: True if there was one to send."""
        fd = self._open_log()
        if fd is None:
            return False
        try:
            info = os.fstat(fd)
            self._check_identity(fd, info.st_ino, info.st_size)
            position = self._checkpoint.log
            if info.st_size <= position.offset:
                return False
            data = os.pread(
                fd, min(self.batch_bytes, info.st_size - position.offset), position.offset
            )
            end = data.rfind(b"\n")
            if end < 0:
                return self._long_line(fd, info.st_size)
            data = data[: end + 1]
            lines = data.count(b"\n")
            if lines > self.batch_lines:
                cut = 0
                for _ in range(self.batch_lines):
                    cut = data.index(b"\n", cut) + 1
                data = data[:cut]
                lines = self.batch_lines
            result = self._send(data, lines, stop)
            position.offset += len(data)
            if position.head_len < HEAD_BYTES:
                position.head_len, position.head_sha256 = _identity(fd, info.st_size)
            self._checkpoint.shipped += lines
            write_checkpoint(self.checkpoint_path, self._checkpoint)
            self.report.add(result, lines, len(data))
            if self.on_batch is not None:
                self.on_batch(self.report)
            return True
        finally:
            os.close(fd)

    def _send(self, data: bytes, lines: int, stop: StopFlag) -> BatchResult:
        """Send a batch, halving it on 413 until the server takes the parts."""
        previous = self.sender.should_stop
        self.sender.should_stop = lambda: stop.is_set() or previous()
        try:
            try:
                return self.sender.send(data, count=lines)
            except BatchTooLarge:
                if lines <= 1:
                    raise
            split = data.index(b"\n", len(data) // 2 - 1) + 1 if lines > 1 else len(data)
            if split >= len(data):
                split = data.index(b"\n") + 1
            first, second = data[:split], data[split:]
            a = self._send(first, first.count(b"\n"), stop)
            b = self._send(second, second.count(b"\n"), stop)
            return BatchResult(
                accepted=a.accepted + b.accepted,
                duplicate=a.duplicate + b.duplicate,
                rejected=a.rejected + b.rejected,
                messages=a.messages + b.messages,
                attempts=a.attempts + b.attempts,
            )
        finally:
            self.sender.should_stop = previous

    def _long_line(self, fd: int, size: int) -> bool:
        """No newline within a batch's bytes: a line over the limit (skip it) or a line still
        being written (wait for it)."""
        position = self._checkpoint.log
        offset = position.offset
        while offset < size:
            chunk = os.pread(fd, 1 << 20, offset)
            if not chunk:
                break
            newline = chunk.find(b"\n")
            if newline >= 0:
                end = offset + newline + 1
                if end - position.offset <= MAX_LINE_BYTES and end - position.offset <= (
                    self.batch_bytes
                ):
                    return False  # cannot happen (the batch read would have found it)
                position.offset = end
                self.report.skipped += 1
                write_checkpoint(self.checkpoint_path, self._checkpoint)
                return True
            offset += len(chunk)
        return False  # an unfinished last line: its writer completes it, or the next closes it

    def _check_identity(self, fd: int, inode: int, size: int) -> None:
        position = self._checkpoint.log
        if position.inode == 0 and position.offset == 0:
            position.inode = inode
            position.head_len, position.head_sha256 = _identity(fd, size)
            return
        reason = ""
        if position.inode != inode:
            reason = "the log is another file (rotated, or rewritten by retention)"
        elif size < position.offset:
            reason = f"the log is shorter ({size:,} bytes) than what was sent ({position.offset:,})"
        elif position.head_len and size >= position.head_len:
            head = os.pread(fd, position.head_len, 0)
            if hashlib.sha256(head).hexdigest() != position.head_sha256:
                reason = "the log's first bytes changed (truncated and written again)"
        if not reason:
            return
        if len(self.report.restarted) < 20:
            self.report.restarted.append(reason)
        self._checkpoint.log = LogPosition(inode=inode, offset=0)
        self._checkpoint.log.head_len, self._checkpoint.log.head_sha256 = _identity(fd, size)
        write_checkpoint(self.checkpoint_path, self._checkpoint)
        self._ship_archives(threading.Event())

    def _compact(self) -> None:
        """Empty a fully acknowledged log (the forward spool), holding off its writers."""
        position = self._checkpoint.log
        if position.offset == 0:
            return
        try:
            with writers_lock(self.log_path, timeout=1.0):
                fd = self._open_log()
                if fd is None:
                    return
                try:
                    info = os.fstat(fd)
                    if info.st_ino != position.inode or info.st_size != position.offset:
                        return  # something new came in: ship it first
                    os.truncate(self.log_path, 0)
                finally:
                    os.close(fd)
        except (LogError, OSError):
            return  # busy: next time
        # Truncated before the checkpoint is reset: a crash in between leaves a log shorter
        # than the offset, which the next run notices and starts from its first byte.
        self._checkpoint.log = LogPosition(inode=position.inode, offset=0)
        write_checkpoint(self.checkpoint_path, self._checkpoint)

    # -- the archives ----------------------------------------------------------------------

    def _ship_archives(self, stop: StopFlag) -> None:
        if self.archives_dir is None:
            return
        manifest = self.archives_dir / "manifest.json"
        try:
            with open_file(manifest, "rb") as fh:
                doc = json.loads(fh.read())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            raise LogError(f"{manifest}: cannot read the archive manifest ({exc})") from exc
        done = set(self._checkpoint.archives)
        for part in doc.get("parts", []):
            name = part.get("file") if isinstance(part, dict) else None
            if not isinstance(name, str) or name in done or stop.is_set():
                continue
            path = self.archives_dir / name
            if not path.is_file():
                continue
            lines = archive_lines(path)
            for start in range(0, len(lines), self.batch_lines):
                chunk = lines[start : start + self.batch_lines]
                data = b"".join(chunk)
                result = self._send(data, len(chunk), stop)
                self.report.add(result, len(chunk), len(data))
            self._checkpoint.archives.append(name)
            self._checkpoint.shipped += len(lines)
            write_checkpoint(self.checkpoint_path, self._checkpoint)
            self.report.archive_parts += 1


def archive_lines(path: Path) -> list[bytes]:
    """The events of one Parquet archive part, as JSON Lines again (the contract's fields)."""
    import duckdb

    from ai_telemetry.events.schema import COMMON_FIELDS, EVENT_TYPES

    integers = {f.name for f in COMMON_FIELDS if f.kind == "integer"}
    for spec in EVENT_TYPES.values():
        integers.update(f.name for f in spec.fields if f.kind == "integer")
    con = duckdb.connect(":memory:")
    try:
        cursor = con.execute(
            "SELECT * EXCLUDE (seq), strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS _ts "
            "FROM read_parquet(?) ORDER BY ts",
            [str(path)],
        )
        names = [d[0] for d in cursor.description]
        out: list[bytes] = []
        for row in cursor.fetchall():
            event: dict[str, Any] = {}
            for name, value in zip(names, row, strict=True):
                if value is None or name == "ts":
                    continue
                if name == "_ts":
                    event["timestamp"] = value
                elif name in integers and isinstance(value, float) and value.is_integer():
                    event[name] = int(value)
                else:
                    event[name] = value
            out.append(json.dumps(event, separators=(",", ":")).encode() + b"\n")
        return out
    finally:
        con.close()
