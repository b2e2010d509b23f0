"""The hook's per-session state: a tiny JSON file, locked while read and rewritten.

Claude Code starts one hook process per event, several at once when tools run in parallel, so
the state that ties them together (when the session started, when each pending tool call
started, tool calls per task for the kill switch) lives in
``<telemetry dir>/hook-state/<session>.json`` and is read-modified-written under an exclusive
``flock``. SessionEnd deletes it. A corrupt or missing file is an empty state.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager

TYPE_CHECKING = False  # on the hook's path: no `typing`, no orjson (see hook.py)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

PENDING_MAX_AGE = 3600.0
"""Seconds after which a PreToolUse with no PostToolUse (an interrupted call) is forgotten."""


def state_path(state_dir: Path, session_id: str) -> Path:
    """Where one session's state lives; the id is reduced to a safe file name."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in session_id)[:128]
    return state_dir / f"{safe or 'unknown'}.json"


@contextmanager
def locked_state(path: Path, *, now: float) -> Iterator[dict[str, Any]]:
    """Yield the session's state as a dict; write it back (if changed) when the block ends.

    Setting the key ``"_delete"`` in the dict removes the file instead. Entries of ``"p"``
    (pending tool calls: tool_use_id -> start time) older than `PENDING_MAX_AGE` are dropped.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
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
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, data)
    finally:
        os.close(fd)  # closing releases the lock
