"""Looking at a hook daemon from outside, for the daemon tests: its status over the socket,
waiting for it to come up, and the pid in its lock file."""

from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path
from typing import Any

from ai_telemetry import __version__
from ai_telemetry.collect.claude_code.hook_client import (
    OP_STATUS,
    ask_daemon,
    encode_request,
    lock_path,
)


def daemon_status(sock: str) -> dict[str, Any] | None:
    """The daemon's status, or None when no daemon answers on ``sock``."""
    code, text = ask_daemon(sock, encode_request(OP_STATUS, __version__, "", [], b""))
    return json.loads(text) if code == 0 else None


def wait_for_daemon(sock: str, wait: float) -> dict[str, Any]:
    """The status of the daemon on ``sock`` once it answers (within ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        status = daemon_status(sock)
        if status is not None:
            return status
        time.sleep(0.05)
    raise AssertionError("no hook daemon came up")


def daemon_pid(sock: str) -> int | None:
    """The pid in the lock file, if a live daemon holds the lock."""
    lock = Path(lock_path(sock))
    if not lock.exists():
        return None
    with lock.open("rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            text = fh.read().strip()
    return int(text) if text.isdigit() else None
