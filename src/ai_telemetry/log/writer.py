"""Line-atomic appends to ``events.jsonl``, safe for many threads and processes at once.

Every append takes an exclusive ``flock`` on a sidecar lock file (``events.jsonl.lock``; a
stable inode, so retention can swap the log itself while holding it), makes sure the file ends
in a newline (a fragment left by a killed writer is closed off, never glued to our event), and
writes all its lines in one ``write`` on an ``O_APPEND`` descriptor.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from ai_telemetry.errors import LogError


class EventLog:
    """Appender for one log file.

    Args:
        path: the ``events.jsonl`` file; its directory is created when missing.
        fsync: also ``fsync`` after every append (durability mode ``fsync``).
    """

    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._fsync = fsync
        self._fd = -1
        self._ino = -1
        self._lock_fd = -1
        self._thread_lock = threading.Lock()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._lock_fd < 0:
            self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(
            self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
        )
        self._ino = os.fstat(self._fd).st_ino

    def write_lines(self, data: bytes) -> None:
        """Append one or more complete ``\\n``-terminated lines in a single locked write.

        Raises:
            LogError: the file cannot be opened or written (disk full, read-only, ...).
        """
        if not data:
            return
        try:
            with self._thread_lock:
                if self._fd < 0:
                    self._open()
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
                try:
                    try:
                        current = os.stat(self.path).st_ino
                    except FileNotFoundError:
                        current = -1
                    if current != self._ino:  # rotated or swapped by retention: follow the path
                        self._open()
                    size = os.fstat(self._fd).st_size
                    if size and os.pread(self._fd, 1, size - 1) != b"\n":
                        data = b"\n" + data
                    view = memoryview(data)
                    while view:
                        written = os.write(self._fd, view)
                        view = view[written:]
                    if self._fsync:
                        os.fsync(self._fd)
                finally:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        except OSError as exc:
            raise LogError(f"{self.path}: cannot append ({exc.strerror or exc})") from exc

    def close(self) -> None:
        """Close the descriptors; a later write reopens them."""
        with self._thread_lock:
            for fd in (self._fd, self._lock_fd):
                if fd >= 0:
                    os.close(fd)
            self._fd = self._lock_fd = -1
            self._ino = -1
