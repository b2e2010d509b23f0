"""EventLog and writers_lock: line-atomic appends, fragments closed off, path following, fork."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from log_test_helpers import child_env, log_lines, parsed
from log_writer_child import make_line

from ai_telemetry.errors import LogError
from ai_telemetry.log.writer import EventLog, lock_path_for, writers_lock


def test_appends_lines_in_order(fresh_log: Path) -> None:
    """Each call's lines land at the end, in call order, byte for byte."""
    with EventLog(fresh_log) as log:
        log.write_lines(make_line("a", 0))
        log.write_lines(make_line("a", 1) + make_line("a", 2))
    assert make_line("a", 0) + make_line("a", 1) + make_line("a", 2) == fresh_log.read_bytes()


def test_creates_directory_and_lock_file(fresh_log: Path) -> None:
    """A missing telemetry directory is created, with the sidecar lock file beside the log."""
    EventLog(fresh_log).write_lines(make_line("a", 0))
    assert (fresh_log.is_file(), lock_path_for(fresh_log).is_file()) == (True, True)


def test_adds_missing_final_newline(fresh_log: Path) -> None:
    """Data without a final newline gets one, so the next append starts on its own line."""
    with EventLog(fresh_log) as log:
        log.write_lines(make_line("a", 0).rstrip(b"\n"))
        log.write_lines(make_line("a", 1))
    assert [make_line("a", 0), make_line("a", 1)] == log_lines(fresh_log)


def test_fragment_at_eof_is_closed_before_next_append(fresh_log: Path) -> None:
    """A fragment left by a killed writer gets a newline first: it is never glued to our event."""
    fresh_log.parent.mkdir(parents=True)
    fresh_log.write_bytes(make_line("a", 0) + b'{"timestamp": "2025-12')
    EventLog(fresh_log).write_lines(make_line("b", 0))
    assert [make_line("a", 0), b'{"timestamp": "2025-12\n', make_line("b", 0)] == log_lines(
        fresh_log
    )


def test_empty_data_writes_nothing(fresh_log: Path) -> None:
    """An empty batch does not even create the file."""
    EventLog(fresh_log).write_lines(b"")
    assert not fresh_log.exists()


def test_follows_the_path_after_the_log_is_replaced(fresh_log: Path) -> None:
    """After retention swaps in a new file, writers append to the new one, not the old inode."""
    log = EventLog(fresh_log)
    log.write_lines(make_line("a", 0))
    replacement = fresh_log.with_name("new.jsonl")
    replacement.write_bytes(make_line("kept", 0))
    with writers_lock(fresh_log):
        replacement.replace(fresh_log)
    log.write_lines(make_line("a", 1))
    assert [make_line("kept", 0), make_line("a", 1)] == log_lines(fresh_log)


def test_recreates_a_deleted_log(fresh_log: Path) -> None:
    """A log deleted between writes is created again rather than written into the void."""
    log = EventLog(fresh_log)
    log.write_lines(make_line("a", 0))
    fresh_log.unlink()
    log.write_lines(make_line("a", 1))
    assert [make_line("a", 1)] == log_lines(fresh_log)


def test_fsync_mode_appends(fresh_log: Path) -> None:
    """Durability mode fsync writes the same bytes (and syncs them)."""
    with EventLog(fresh_log, fsync=True) as log:
        for seq in range(3):
            log.write_lines(make_line("a", seq))
    assert [make_line("a", seq) for seq in range(3)] == log_lines(fresh_log)


def test_write_into_a_directory_raises_log_error(tmp_path: Path) -> None:
    """An unwritable log raises LogError naming the path, not a bare OSError."""
    target = tmp_path / "events.jsonl"
    target.mkdir()
    with pytest.raises(LogError, match=r"events\.jsonl: cannot append"):
        EventLog(target).write_lines(make_line("a", 0))


def test_writers_lock_holds_off_writers(fresh_log: Path) -> None:
    """While writers_lock is held no append happens; it goes through once released."""
    log = EventLog(fresh_log)
    log.write_lines(make_line("a", 0))
    with writers_lock(fresh_log):
        writer = threading.Thread(target=log.write_lines, args=(make_line("a", 1),))
        writer.start()
        time.sleep(0.3)
        during = log_lines(fresh_log)
    writer.join(timeout=10)
    assert ([make_line("a", 0)], 2) == (during, len(log_lines(fresh_log)))


def test_writers_lock_times_out(fresh_log: Path) -> None:
    """A lock held elsewhere makes writers_lock(timeout=...) raise LogError, not hang."""
    with (
        writers_lock(fresh_log),
        pytest.raises(LogError, match="still locked"),
        writers_lock(fresh_log, timeout=0.1),
    ):
        pass


def test_lock_timeout_gives_up_on_a_stuck_lock_holder(fresh_log: Path) -> None:
    """With lock_timeout, a lock held too long raises LogError and writes nothing."""
    log = EventLog(fresh_log, lock_timeout=0.2)
    with writers_lock(fresh_log), pytest.raises(LogError, match="still locked"):
        log.write_lines(make_line("a", 0))
    assert not fresh_log.exists()


def test_failed_partial_write_is_rolled_back(tmp_path: Path) -> None:
    """A write cut short (file size limit, like a full disk) leaves no fragment behind."""
    log_path = tmp_path / "events.jsonl"
    script = f"""
import resource, signal
from pathlib import Path
from ai_telemetry.errors import LogError
from ai_telemetry.log.writer import EventLog
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
log = EventLog(Path({str(log_path)!r}))
log.write_lines(b"x" * 899 + b"\\n")
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
try:
    log.write_lines(b"y" * 299 + b"\\n")
except LogError:
    print("refused")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, env=child_env(), check=True
    )
    assert (done.stdout, log_path.stat().st_size) == (b"refused\n", 900)


def test_threads_sharing_one_log(fresh_log: Path) -> None:
    """8 threads x 2,000 appends through one EventLog give 16,000 whole lines, none missing."""
    log = EventLog(fresh_log)

    def run(writer: str) -> None:
        for seq in range(2000):
            log.write_lines(make_line(writer, seq))

    threads = [threading.Thread(target=run, args=(f"t{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen = {(e["session_id"], e["task_id"]) for e in parsed(fresh_log)}
    assert {(f"t{i}", str(s)) for i in range(8) for s in range(2000)} == seen


def test_asyncio_tasks(fresh_log: Path) -> None:
    """16 asyncio tasks appending via to_thread (as async hosts do) lose and tear nothing."""
    log = EventLog(fresh_log)

    async def run(writer: str) -> None:
        for seq in range(300):
            await asyncio.to_thread(log.write_lines, make_line(writer, seq))

    async def main() -> None:
        await asyncio.gather(*(run(f"a{i}") for i in range(16)))

    asyncio.run(main())
    events = parsed(fresh_log)
    assert (len(events), len({e["event_id"] for e in events})) == (4800, 4800)


def test_forked_child_does_not_share_the_parents_lock(fresh_log: Path) -> None:
    """After fork the child takes its own flock, so it waits while the parent holds the lock."""
    log = EventLog(fresh_log)
    log.write_lines(make_line("parent", 0))
    fcntl.flock(log._lock_fd, fcntl.LOCK_EX)  # the parent is "mid-append" at fork time
    pid = os.fork()
    if pid == 0:  # child: with an inherited lock descriptor this would not wait
        try:
            log.write_lines(make_line("child", 0))
        finally:
            os._exit(0)
    time.sleep(0.3)
    during = len(log_lines(fresh_log))
    fcntl.flock(log._lock_fd, fcntl.LOCK_UN)
    _, status = os.waitpid(pid, 0)
    assert (during, status, len(log_lines(fresh_log))) == (1, 0, 2)


def test_forked_child_writes_while_a_parent_thread_held_the_thread_lock(fresh_log: Path) -> None:
    """A thread lock held in the parent at fork time does not deadlock the child."""
    log = EventLog(fresh_log)
    log.write_lines(make_line("parent", 0))
    with log._thread_lock:
        pid = os.fork()
        if pid == 0:
            signal.alarm(10)  # a deadlock kills the child instead of hanging the suite
            try:
                log.write_lines(make_line("child", 0))
            finally:
                os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert (0, [make_line("parent", 0), make_line("child", 0)]) == (status, log_lines(fresh_log))
