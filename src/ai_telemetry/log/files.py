"""Opening files in the telemetry folder without following symlinks.

A cloned repository may commit ``.claude/Telemetry/events.jsonl`` (or ``alerts.log``, a lock,
a state file) as a symlink to ``~/.bashrc``; following it, one hook call would append a JSON
line to the user's file. Every open here adds ``O_NOFOLLOW``, so a symlink in the last
component fails with ``ELOOP``, turned into an `OSError` whose ``strerror`` says what to do
(callers already put ``exc.strerror`` into their one-line messages). A temporary file that is
then ``os.replace``-d is safe the same way: ``O_CREAT`` with ``O_NOFOLLOW`` refuses a planted
link, and a rename replaces a link at the target instead of writing through it.

Imported by the Claude Code hook: ``os`` and ``errno`` only.
"""

from __future__ import annotations

import errno
import os
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO, Any

NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
"""``os.O_NOFOLLOW`` where the platform has it (every POSIX system ai-telemetry runs on)."""

SYMLINK_REFUSED = (
    "is a symbolic link; ai-telemetry does not follow links in the telemetry folder (a cloned "
    "repository could point one at ~/.bashrc); remove the link"
)

_FLAGS = {
    "r": os.O_RDONLY,
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_APPEND | os.O_CREAT,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def open_fd(path: Path | str, flags: int, mode: int = 0o644) -> int:
    """``os.open`` with ``O_NOFOLLOW | O_CLOEXEC``; a symlink raises a clear `OSError`.

    Raises:
        OSError: as ``os.open``; for a symlink, ``errno.ELOOP`` with `SYMLINK_REFUSED`.
    """
    try:
        return os.open(path, flags | NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, SYMLINK_REFUSED, str(path)) from None
        raise


def open_file(path: Path | str, mode: str = "rb", *, perms: int = 0o644, **kwargs: Any) -> IO[Any]:
    """`open` for a file in the telemetry folder: ``r``, ``w``, ``a`` or ``x``, with ``b``
    or text, ``+`` for read-write; never through a symlink. ``perms`` apply on creation."""
    flags = _FLAGS[mode[0]]
    if "+" in mode:
        flags = (flags & ~(os.O_WRONLY | os.O_RDONLY)) | os.O_RDWR
    fd = open_fd(path, flags, perms)
    try:
        return open(fd, mode, **kwargs)  # noqa: PTH123 - a descriptor, not a path
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: Path | str) -> bytes:
    """The whole file, never through a symlink."""
    with open_file(path, "rb") as handle:
        data: bytes = handle.read()
    return data


def own_directory(path: Path | str) -> None:
    """Create the directory ``path`` (and its parents) when missing; refuse a symlink there.

    ``O_NOFOLLOW`` guards only a file's last component: a repository that commits
    ``.claude/Telemetry/hook-state`` (or ``events.jsonl.spool``) as a link to ``~`` would
    have new files created in the home. The telemetry directory itself is guarded by
    `ai_telemetry.config.load_settings`.

    Raises:
        OSError: as ``os.makedirs``; for a symlink, ``errno.ELOOP`` with `SYMLINK_REFUSED`.
    """
    os.makedirs(path, exist_ok=True)  # noqa: PTH103 - os and errno only (see above)
    if os.path.islink(path):  # noqa: PTH114
        raise OSError(errno.ELOOP, SYMLINK_REFUSED, str(path))


def is_symlink_error(exc: BaseException) -> bool:
    """The error `open_fd` raises for a symlink."""
    return isinstance(exc, OSError) and exc.errno == errno.ELOOP


def flock_within(fd: int, timeout: float | None, *, max_pause: float = 0.01) -> bool:
    """Take the exclusive ``flock`` of ``fd`` within ``timeout`` seconds (None: as long as it
    takes); False when another process still holds it then. The caller says what that means.

    Polls with a non-blocking lock, the pause doubling from 0.5 ms up to ``max_pause``.
    """
    import fcntl
    import time

    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + timeout
    pause = 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, max_pause)
        else:
            return True


def fsync_dir(directory: Path | str) -> None:
    """Flush a directory entry change (create, rename) to disk; best effort where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    data: bytes,
    *,
    perms: int = 0o644,
    sync_dir: bool = True,
    make_dirs: bool = True,
    keep_mode: bool = False,
) -> None:
    """Publish ``data`` as ``path`` atomically: a temp file beside it (never through a symlink),
    fsync, rename over ``path`` (a planted link is replaced, not followed), then the directory.

    The one copy of this dance (the telemetry folder's files, and the reports, dashboards,
    exports and settings the commands write); a reader sees the old file or the new one,
    never a torn one.

    Args:
        perms: the new file's permission bits, as for `open` (the umask applies). ``0o666``
            is plain `open`'s; ``0o600`` for a file only the user may read.
        sync_dir: fsync the directory after the rename (skip it for a cache).
        make_dirs: create the missing parent directories first.
        keep_mode: when ``path`` exists, the new file gets its permission bits exactly (a
            user's ``chmod 600`` on a settings file survives the rewrite); else ``perms``.

    Raises:
        OSError: the file cannot be written (the temp file is removed).
    """
    if make_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    mode = None
    if keep_mode:
        try:  # noqa: SIM105 - contextlib is not imported on the hook's path
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open_file(tmp, "wb", perms=perms) as fh:
            fh.write(data)
            fh.flush()
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        try:  # noqa: SIM105 - contextlib is not imported on the hook's path
            tmp.unlink()
        except OSError:
            pass
        raise
    if sync_dir:
        fsync_dir(path.parent)


def atomic_write_text(
    path: Path,
    text: str,
    *,
    perms: int = 0o644,
    sync_dir: bool = True,
    make_dirs: bool = True,
    keep_mode: bool = False,
) -> None:
    """`atomic_write` of ``text`` as UTF-8 (newlines as given, never translated).

    Raises:
        OSError: the file cannot be written (the temp file is removed).
    """
    atomic_write(
        path,
        text.encode("utf-8"),
        perms=perms,
        sync_dir=sync_dir,
        make_dirs=make_dirs,
        keep_mode=keep_mode,
    )
