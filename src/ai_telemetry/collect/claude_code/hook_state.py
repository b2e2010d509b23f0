"""The hook's per-session state: a tiny JSON file, locked while read and rewritten.

Claude Code starts one hook process per event, several at once when tools run in parallel, so
the state that ties them together (when the session started, when each pending tool call
started, tool calls per task for the kill switch) lives in
``<telemetry dir>/hook-state/<session>.json`` and is read-modified-written under an exclusive
``flock``. SessionEnd deletes it. A corrupt or missing file is an empty state. The lock is
waited for at most ``timeout`` seconds (a hook must answer Claude Code in time, and another
hook process may be stopped while holding it): then `StateUnavailable` is raised before the
block runs, and the caller goes on without the state.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager, suppress

TYPE_CHECKING = False  # on the hook's path: no `typing`, no orjson (see hook.py)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

PENDING_MAX_AGE = 3600.0
"""Seconds after which a PreToolUse with no PostToolUse (an interrupted call) is forgotten."""


class StateUnavailable(Exception):
    """The session state could not be had: still locked after the timeout, or not openable.

    Attributes:
        locked: True when another process held the lock the whole time.
    """

    def __init__(self, message: str, *, locked: bool) -> None:
        super().__init__(message)
        self.locked = locked


def state_path(state_dir: Path, session_id: str) -> Path:
    """Where one session's state lives; the id is reduced to a safe file name."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in session_id)[:128]
    return state_dir / f"{safe or 'unknown'}.json"


def _lock(fd: int, path: Path, timeout: float | None) -> None:
    from ai_telemetry.log.files import flock_within

    if not flock_within(fd, timeout):
        raise StateUnavailable(
            f"session state {path} still locked by another process after {timeout:g} s;"
            " this call's tool-call count and Pre/Post pairing were skipped",
            locked=True,
        )


@contextmanager
def locked_state(
    path: Path, *, now: float, timeout: float | None = None
) -> Iterator[dict[str, Any]]:
    """Yield the session's state as a dict; write it back (if changed) when the block ends.

    Setting the key ``"_delete"`` in the dict removes the file instead. Entries of ``"p"``
    (pending tool calls: tool_use_id -> start time) older than `PENDING_MAX_AGE` are dropped.
    A write-back that fails (disk full) is dropped: the block's result counts more.

    Raises:
        StateUnavailable: before the block runs, when the file cannot be opened or its lock
            is not free within ``timeout`` seconds (None: wait as long as it takes).
    """
    try:
        from ai_telemetry.log.files import own_directory

        own_directory(path.parent)  # a committed hook-state -> ~ link: refused
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise StateUnavailable(str(exc), locked=False) from exc
    try:
        _lock(fd, path, timeout)
        raw = b""
        while chunk := os.read(fd, 65536):
            raw += chunk
        try:
            state = json.loads(raw) if raw else {}
        except ValueError:
            state = {}
        if not isinstance(state, dict):
            state = {}
        yield state
        if state.pop("_delete", False):
            with suppress(OSError):
                path.unlink(missing_ok=True)
            return
        pending = state.get("p")
        if isinstance(pending, dict):
            stale = [
                k
                for k, v in pending.items()
                if not isinstance(v, int | float) or now - v > PENDING_MAX_AGE
            ]
            for key in stale:
                pending.pop(key, None)
        data = json.dumps(state, separators=(",", ":")).encode()
        if data != raw:
            try:  # overwrite, then cut: a full disk cannot leave the file empty
                os.pwrite(fd, data, 0)
                os.ftruncate(fd, len(data))
            except OSError:
                pass
    finally:
        os.close(fd)  # closing releases the lock
