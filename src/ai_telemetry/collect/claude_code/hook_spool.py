"""Hook events that could not be written yet, and the status line that says so.

A hook call must answer Claude Code within its budget whatever happens, so when the event
cannot be handled in time it is kept in the spool (`hook_client.spool_dir`, private, in the
state directory, so neither a full nor a locked telemetry directory stops it) and written
later by the hook daemon (every `REPLAY_EVERY` seconds and when it starts) or by the next
in-process hook call. Two kinds of file, each named by its request id (time first, so the
spool replays in order):

- ``<id>.req``: a whole request frame (`hook_client.encode_request`), not yet handled: the
  daemon spools each request before accepting it, and a client whose daemon did not answer
  (or which had to start one) spools its own. Replaying runs the hook with the request's
  environment, directory and time.
- ``<id>.ev``: the events of a handled request whose write failed (log locked by another
  process, disk full, ...): JSON ``{"env": {...}, "cwd": "...", "events": [...]}``.

A replayer holds an exclusive ``flock`` on a file while it handles it and deletes it after,
so one file is handled once (the daemon holds the lock on a request it is serving from the
moment the file exists). Anything the hook swallows is also counted in the SDK's status file
(``sdk-status.jsonl`` in the state directory), where ``ai-telemetry doctor`` shows it.
"""

# ruff: noqa: PTH103, PTH108, PTH118, PTH208, SIM105
# (os.path and plain try/except on the hook's path, as in hook_client)

from __future__ import annotations

import fcntl
import json
import os
import time

from ai_telemetry.collect.claude_code.hook_client import (
    FORWARDED_ENV,
    PROTOCOL,
    SPOOL_SUFFIX,
    spool_dir,
    state_base,
    write_spool_file,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

EVENTS_SUFFIX = ".ev"
REPLAY_EVERY = 1.0
"""Seconds between the daemon's passes over the spool."""
FILE_MAX = 64 << 20
"""Larger spool files are not ours: they are deleted unread."""
STATUS_FILE = "sdk-status.jsonl"


class Request:
    """One decoded hook request.

    Args:
        op: `hook_client.OP_HOOK` or `hook_client.OP_STATUS`.
        version: the client's package version.
        cwd: the client's working directory ("" when it had none).
        request_id: the client's id for it (its spool file's name), "" for none.
        unix_ns: when the client sent it (0: unknown).
        env: the client's forwarded environment variables.
        payload: the hook JSON, as Claude Code sent it.
    """

    __slots__ = ("cwd", "env", "op", "payload", "request_id", "unix_ns", "version")

    def __init__(
        self,
        op: bytes,
        version: str,
        cwd: str,
        env: dict[str, str],
        payload: bytes,
        *,
        request_id: str = "",
        unix_ns: int = 0,
    ) -> None:
        self.op = op
        self.version = version
        self.cwd = cwd
        self.env = env
        self.payload = payload
        self.request_id = request_id
        self.unix_ns = unix_ns


def decode_request(header: bytes, payload: bytes) -> Request | None:
    """A request from its header and payload; None if malformed or of another protocol."""
    fields = header.split(b"\0")
    if len(fields) < 6 or fields[0] != PROTOCOL:
        return None
    request_id = fields[4].decode("ascii", "replace")
    if request_id and not all(c.isalnum() or c == "-" for c in request_id):
        return None  # it names a file: nothing else than what `new_request_id` makes
    try:
        unix_ns = int(fields[5] or b"0")
    except ValueError:
        return None
    env: dict[str, str] = {}
    for item in fields[6:]:
        name, sep, value = item.partition(b"=")
        if sep:
            env[os.fsdecode(name)] = os.fsdecode(value)
    return Request(
        fields[1],
        fields[2].decode("utf-8", "replace"),
        os.fsdecode(fields[3]),
        env,
        payload,
        request_id=request_id,
        unix_ns=unix_ns,
    )


def decode_frame(frame: bytes) -> Request | None:
    """A request from a whole frame (a ``.req`` spool file); None if it is not one."""
    if len(frame) < 8:
        return None
    header_len = int.from_bytes(frame[:4], "big")
    payload_len = int.from_bytes(frame[4:8], "big")
    if len(frame) != 8 + header_len + payload_len:
        return None
    return decode_request(frame[8 : 8 + header_len], frame[8 + header_len :])


def hold_request(directory: str, request_id: str, frame: bytes) -> int | None:
    """Spool a request the daemon is about to serve, locked: the locked descriptor, or None.

    The lock is taken on the temp file before it gets its name, so a replayer never sees the
    file unlocked while its request is being served. Close the descriptor to let go of it.
    """
    name = request_id + SPOOL_SUFFIX
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.daemon.tmp")
    fd = -1
    try:
        os.makedirs(directory, 0o700, exist_ok=True)
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(frame)
        while view:
            view = view[os.write(fd, view) :]
        os.link(tmp, os.path.join(directory, name))
    except OSError:  # includes FileExistsError: its client spooled it already (it gave up)
        if fd >= 0:
            os.close(fd)
        fd = -1
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return fd if fd >= 0 else None


def release(directory: str, request_id: str, fd: int, *, done: bool) -> None:
    """Let go of a held request: delete it when ``done``, else leave it for the replay."""
    try:
        if done:
            os.unlink(os.path.join(directory, request_id + SPOOL_SUFFIX))
    except OSError:
        pass
    finally:
        os.close(fd)


def spool_events(
    env: Mapping[str, str], cwd: str | None, request_id: str, events: list[dict[str, Any]]
) -> str | None:
    """Keep events whose write failed, for the replay: the spool directory, or None if not."""
    directory = spool_dir(env)
    # Only what settings and the state directory read: the in-process hook's environment is
    # the whole of Claude Code's, API keys included, and none of that belongs on disk.
    kept = {k: v for k, v in env.items() if k.startswith("AI_TELEMETRY_") or k in FORWARDED_ENV}
    data = json.dumps({"env": kept, "cwd": cwd or "", "events": events}).encode()
    ok = write_spool_file(directory, request_id + EVENTS_SUFFIX, data)
    return directory if ok else None


def note_problem(
    env: Mapping[str, str], log_path: str, kind: str, message: str, *, count: int = 1
) -> None:
    """Append one line to the SDK status file doctor reads (as `collect.sdk.note_problem`).

    The hook's own writer: the SDK module's imports cost more than a whole hook call. The
    state directory is the request's (the daemon serves clients with their own environment).
    Never raises.
    """
    try:
        from ai_telemetry.events.schema import timestamp_from_unix

        directory = state_base(env)
        os.makedirs(directory, exist_ok=True)
        line = json.dumps(
            {
                "timestamp": timestamp_from_unix(time.time()),
                "log_path": log_path,
                "kind": kind,
                "count": count,
                "message": message[:300],
                "pid": os.getpid(),
            }
        )
        fd = os.open(
            os.path.join(directory, STATUS_FILE),
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
            0o644,
        )
        try:
            os.write(fd, line.encode() + b"\n")
        finally:
            os.close(fd)
    except Exception:  # noqa: S110 - the status file is best effort by design
        pass


def pending(directory: str) -> list[str]:
    """Names of the spool's files waiting to be written, oldest first."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(
        n for n in names if not n.startswith(".") and n.endswith((SPOOL_SUFFIX, EVENTS_SUFFIX))
    )


def replay(
    directory: str,
    handle: Callable[[str, bytes], bool],
    *,
    limit: int = 200,
    stop_after: float = 2.0,
) -> int:
    """Hand each waiting spool file to ``handle(name, data)``; delete those it says are done.

    ``handle`` returns False to keep a file (its log still cannot be written): the pass then
    stops, the next one tries again. Files locked by someone else are skipped. Returns how
    many files were done.
    """
    done = 0
    end = time.monotonic() + stop_after
    for name in pending(directory)[:limit]:
        if time.monotonic() > end:
            break
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # being served or replayed right now
            info = os.fstat(fd)
            if info.st_nlink == 0:
                continue  # done by someone else between our listdir and our lock
            import stat

            if not stat.S_ISREG(info.st_mode) or info.st_size > FILE_MAX:
                os.unlink(path)
                continue
            data = b""
            while chunk := os.read(fd, 1 << 20):
                data += chunk
            if not handle(name, data):
                break
            os.unlink(path)
            done += 1
        except OSError:
            continue
        finally:
            os.close(fd)
    return done
