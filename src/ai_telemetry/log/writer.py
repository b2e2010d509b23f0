"""Line-atomic appends to ``events.jsonl``, safe for many threads and processes at once.

Every append takes an exclusive ``flock`` on a sidecar lock file (``events.jsonl.lock``; a
stable inode, so retention and quarantine can swap the log itself while holding it), makes sure
the file ends in a newline (a fragment left by a killed writer is closed off, never glued to our
event), and writes all its lines in one ``write`` on an ``O_APPEND`` descriptor.

Guarantees, per `EventLog.write_lines` call:

- the bytes land as one contiguous run of complete lines (no interleaving with other writers,
  threads or processes, because every writer holds the lock while it writes);
- when the call returns, the lines are in the file (durability mode ``write``), and with
  ``fsync=True`` also on disk (mode ``fsync``); the SDK's ``buffered`` mode batches in memory
  and calls this at least every second;
- a failed write (disk full, ...) is rolled back to the previous end of file, so it leaves no
  fragment; only a process killed inside ``write(2)`` can, and the next writer closes it off;
- after ``fork`` the child opens its own descriptors (a ``flock`` belongs to the open file
  description, so a shared descriptor would not exclude the parent) and a fresh thread lock.

Use `writers_lock` to hold off every writer while a file is swapped (retention, quarantine).

No file is opened through a symlink (``O_NOFOLLOW``, see `ai_telemetry.log.files`): a cloned
repository that commits ``events.jsonl`` as a link to ``~/.bashrc`` gets an error, not an append.

A writer with a ``lock_timeout`` and a ``spool`` (every `LogSink`: the SDK, the hook, the
CLI) never waits longer than that for another process holding the lock (one stopped with
Ctrl-Z, ``validate`` rewriting a large log): it writes the batch to a file of its own in the
spool directory next to the log (``events.jsonl.spool/``) and returns. The next writer that
holds the lock appends the spooled batches before its own (checked when it first opens the
log, after a spooled batch of its own, and at most once a second by a long-lived writer), in
the order they were spooled.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

from ai_telemetry.errors import LogError, LogLockTimeout
from ai_telemetry.log.files import (
    NOFOLLOW,
    SYMLINK_REFUSED,
    flock_within,
    fsync_dir,
    open_fd,
    own_directory,
)

# Read-write: the newline check reads the last byte (pread needs a readable descriptor).
_OPEN_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | NOFOLLOW
_SPOOL_LOOK_EVERY = 1.0
"""A long-lived writer looks for other processes' spool files at most this often (seconds)."""
_STUCK_WAIT = 0.05
"""Seconds a writer waits for the lock before spooling once a wait has timed out (its own, or
another process's: there are spool files)."""
_LIVE_LOGS: weakref.WeakSet[EventLog] = weakref.WeakSet()


def spool_dir_for(log_path: Path) -> Path:
    """Where writers that could not get the lock in time leave their batches."""
    log_path = Path(log_path)
    return log_path.with_name(log_path.name + ".spool")


def spooled_files(log_path: Path) -> list[Path]:
    """The complete spool files of a log, oldest first (names start with a nanosecond time).

    None when the spool directory is a symlink: a repository committing
    ``events.jsonl.spool -> ~/data`` would otherwise have the replay append the ``*.jsonl``
    files found there to the log, and delete them.
    """
    directory = spool_dir_for(log_path)
    if directory.is_symlink():
        return []
    try:
        names = sorted(p.name for p in directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [directory / n for n in names if n.endswith(".jsonl")]


def lock_path_for(log_path: Path) -> Path:
    """The sidecar lock file of a log: ``events.jsonl`` -> ``events.jsonl.lock``."""
    log_path = Path(log_path)
    return log_path.with_name(log_path.name + ".lock")


@contextmanager
def writers_lock(log_path: Path, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold the writers' exclusive lock of a log: no `EventLog` appends while inside.

    Retention and quarantine use it to replace ``events.jsonl`` (write a new file, ``os.replace``
    it onto the log); writers notice the new inode under the lock and follow the path.
    Do not call `EventLog.write_lines` on the same log from inside the block: it would wait for
    this very lock.

    Args:
        log_path: the log (not the lock file).
        timeout: seconds to wait for the lock; ``None`` waits as long as it takes.

    Yields:
        The log path.

    Raises:
        LogError: the lock file cannot be opened, or the lock was not free within ``timeout``.
    """
    log_path = Path(log_path)
    lock_path = lock_path_for(log_path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = open_fd(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LogError(f"{lock_path}: cannot open the lock file ({exc.strerror or exc})") from exc
    try:
        _acquire(fd, lock_path, timeout)
        try:
            yield log_path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, lock_path: Path, timeout: float | None) -> None:
    """Take the exclusive flock, waiting at most ``timeout`` seconds (None: no limit)."""
    if not flock_within(fd, timeout):
        raise LogLockTimeout(
            f"{lock_path}: still locked by another process after {timeout:g} s; "
            "try again, or look for a stuck process holding it (fuser)"
        )


class EventLog:
    """Appender for one log file.

    Args:
        path: the ``events.jsonl`` file; its directory is created when missing.
        fsync: also ``fdatasync`` after every append (durability mode ``fsync``).
        lock_timeout: give up when another process holds the lock this many seconds, e.g.
            one stopped in a debugger; ``None`` (default) waits as long as it takes.
        spool: on such a timeout, keep the batch in the spool directory (see the module
            docstring) instead of raising; `write_lines` then returns ``False``.
    """

    def __init__(
        self,
        path: Path,
        *,
        fsync: bool = False,
        lock_timeout: float | None = None,
        spool: bool = False,
    ) -> None:
        self.path = Path(path)
        self.lock_path = lock_path_for(self.path)
        self._fsync = fsync
        self._lock_timeout = lock_timeout
        self._spool = spool
        self._replay_due = True  # look for spooled batches on the first locked write
        self._stuck = False  # the last wait for the lock timed out
        self._next_spool_look = 0.0  # monotonic time of the next look for others' spool files
        self.spooled = 0
        """Batches this writer left in the spool (lock not free in time)."""
        self.replayed = 0
        """Spool files (of any process) this writer appended to the log."""
        self._fd = -1
        self._id = (-1, -1)  # (st_dev, st_ino) of the file self._fd points at
        self._lock_fd = -1
        self._thread_lock = threading.Lock()
        _LIVE_LOGS.add(self)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open_lock(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = open_fd(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)

    def _open_log(self) -> None:
        """(Re)open the log at its path; called with the writers' lock held."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        created = False
        try:
            try:
                fd = os.open(self.path, _OPEN_FLAGS & ~os.O_CREAT)
            except FileNotFoundError:
                fd = os.open(self.path, _OPEN_FLAGS, 0o644)
                created = True
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OSError(errno.ELOOP, SYMLINK_REFUSED, str(self.path)) from None
            raise
        st = os.fstat(fd)
        self._fd = fd
        self._id = (st.st_dev, st.st_ino)
        if created and self._fsync:
            fsync_dir(self.path.parent)

    def write_lines(self, data: bytes) -> bool:
        """Append one or more complete ``\\n``-terminated lines in a single locked write.

        A missing final newline is added, so the next append can never be glued to ``data``.

        Returns:
            True when the lines are in the log; False when the lock was not free within
            ``lock_timeout`` and ``spool`` is on: the lines are in the spool, and the next
            writer holding the lock appends them.

        Raises:
            LogError: the file cannot be opened or written (disk full, read-only, a symlink,
                ...); nothing of ``data`` is left in the file then. `LogLockTimeout` when the
                lock was not free in time and the batch could not be spooled (or no spool).
        """
        if not data:
            return True
        if not data.endswith(b"\n"):
            data += b"\n"
        try:
            with self._thread_lock:
                if self._lock_fd < 0:
                    self._open_lock()
                try:
                    self._take_lock()
                except LogLockTimeout as exc:
                    if not self._spool:
                        raise
                    self._write_spool(data, exc)
                    self._stuck = True
                    return False
                self._stuck = False
                try:
                    self._append_locked(data)
                finally:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        except OSError as exc:
            raise LogError(f"{self.path}: cannot append ({exc.strerror or exc})") from exc
        return True

    def _take_lock(self) -> None:
        """The writers' lock, waiting at most ``lock_timeout``; only briefly (an append holds
        it for microseconds) once this writer or another process has already given up and
        spooled, so a host in durability "write", or each hook call, is not held up the full
        timeout again while the same process keeps the lock."""
        timeout = self._lock_timeout
        if timeout is not None and self._spool:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if self._stuck or spooled_files(self.path):
                    timeout = min(timeout, _STUCK_WAIT)
            else:
                return
        _acquire(self._lock_fd, self.lock_path, timeout)

    def _write_spool(self, data: bytes, timeout: LogLockTimeout) -> None:
        """Publish ``data`` as one spool file (temp file, then rename: never read half-done)."""
        directory = spool_dir_for(self.path)
        name = f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}"
        tmp = directory / f".{name}.tmp"
        try:
            own_directory(directory)  # a committed events.jsonl.spool -> ~ link: refused
            fd = open_fd(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self._fsync:
                    os.fdatasync(fd)
            finally:
                os.close(fd)
            tmp.rename(directory / f"{name}.jsonl")
        except OSError as exc:
            with suppress(OSError):
                tmp.unlink()
            raise LogLockTimeout(
                f"{timeout}; and the batch could not be spooled in {directory} "
                f"({exc.strerror or exc})"
            ) from exc
        self.spooled += 1
        self._replay_due = True

    def _append_locked(self, data: bytes) -> None:
        try:
            st = os.lstat(self.path)  # lstat: a symlink swapped in is a new file, refused
            current = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            current = (-1, -1)
        if self._fd < 0 or current != self._id:  # first use, or rotated/swapped: follow the path
            self._open_log()
        spooled: list[Path] = []
        now = time.monotonic()
        if self._replay_due or now >= self._next_spool_look:
            self._replay_due = False
            self._next_spool_look = now + _SPOOL_LOOK_EVERY
            older, spooled = _read_spooled(spooled_files(self.path))
            data = older + data
        size = os.fstat(self._fd).st_size
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # close off a fragment left by a killed writer
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if self._fsync or spooled:
                os.fdatasync(self._fd)  # the spool files go next: their lines must be on disk
        except OSError:
            # Roll back a partial append so a failed call leaves no fragment behind.
            with suppress(OSError):
                os.ftruncate(self._fd, size)
            if spooled:
                self._replay_due = True
            raise
        for path in spooled:
            with suppress(OSError):
                path.unlink()
        self.replayed += len(spooled)

    def close(self) -> None:
        """Close the descriptors; a later write reopens them."""
        with self._thread_lock:
            self._drop_fds()

    def _drop_fds(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd >= 0:
                with suppress(OSError):
                    os.close(fd)
        self._fd = self._lock_fd = -1
        self._id = (-1, -1)

    def _after_fork_in_child(self) -> None:
        # The parent's thread lock may have been held by a thread that does not exist here,
        # and the inherited lock descriptor shares its flock with the parent: start afresh.
        self._thread_lock = threading.Lock()
        self._drop_fds()


def _read_spooled(paths: list[Path]) -> tuple[bytes, list[Path]]:
    """The lines of the spool files that could be read, and those files (to delete after)."""
    parts: list[bytes] = []
    done: list[Path] = []
    for path in paths:
        try:
            fd = open_fd(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            with os.fdopen(fd, "rb") as handle:
                block = handle.read()
        except OSError:
            continue
        if block and not block.endswith(b"\n"):
            block += b"\n"
        parts.append(block)
        done.append(path)
    return b"".join(parts), done


def _reset_logs_after_fork() -> None:
    for log in list(_LIVE_LOGS):
        log._after_fork_in_child()


os.register_at_fork(after_in_child=_reset_logs_after_fork)
