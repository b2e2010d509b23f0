"""A writer never hangs on a lock another process holds (issue 20 §4): it spools.

A separate process holds the writers' lock (as a writer stopped with Ctrl-Z would, or
``validate`` rewriting a large log); an SDK script must still exit in bounded time, its events
kept in ``events.jsonl.spool/`` and appended by the next writer once the lock is free.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_telemetry.config import load_settings
from ai_telemetry.errors import LogLockTimeout
from ai_telemetry.log.sink import DEFAULT_LOCK_TIMEOUT
from ai_telemetry.log.writer import EventLog, spooled_files

CLI = str(Path(sys.executable).with_name("ai-telemetry"))
HOLDER = (
    "import sys, time\n"
    "from ai_telemetry.log.writer import writers_lock\n"
    "with writers_lock(sys.argv[1]):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(600)\n"
)
SDK_SCRIPT = (
    "import ai_telemetry\n"
    "for n in range(3):\n"
    "    ai_telemetry.log_session_end('spooled-skill', 'success', float(n))\n"
    "with ai_telemetry.skill_execution('spooled-ctx'):\n"
    "    pass\n"
)


@pytest.fixture
def held_lock(telemetry_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the writers' lock of the log until the test ends."""
    log = telemetry_dir / "events.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(log)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert "held" == holder.stdout.readline().strip()
    yield holder
    _release(holder)


def _release(holder: subprocess.Popen[str]) -> None:
    if holder.poll() is None:
        holder.send_signal(signal.SIGTERM)
        holder.wait(timeout=10)
    if holder.stdout is not None:
        holder.stdout.close()


def _run(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc, time.monotonic() - began


def _log_lines(telemetry_dir: Path) -> list[dict[str, object]]:
    log = telemetry_dir / "events.jsonl"
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


def test_sdk_script_exits_in_bounded_time_and_its_events_are_spooled(
    tmp_path: Path, telemetry_dir: Path, held_lock: subprocess.Popen[str]
) -> None:
    """With the lock held, the script exits 0 within a few seconds; its 5 events wait in the
    spool; doctor counts the failure; the next writer after the lock is free appends them."""
    proc, took = _run([sys.executable, "-c", SDK_SCRIPT], tmp_path)
    log = telemetry_dir / "events.jsonl"
    assert (0, "") == (proc.returncode, proc.stderr)
    assert took < 3 * DEFAULT_LOCK_TIMEOUT + 2, took
    assert [] == _log_lines(telemetry_dir)
    spooled = spooled_files(log)
    assert 5 == sum(len(p.read_bytes().splitlines()) for p in spooled)

    doctor, _ = _run([CLI, "doctor"], tmp_path)
    assert "log_locked: 5" in doctor.stdout, doctor.stdout
    assert "spool: 5 event(s)" in doctor.stdout, doctor.stdout

    _release(held_lock)
    cli, _ = _run(
        [CLI, "log", "skill_execution", "-f", "skill=after", "-f", "outcome=success"], tmp_path
    )
    assert 0 == cli.returncode, cli.stderr
    events = _log_lines(telemetry_dir)
    skills = [e["skill"] for e in events]
    assert ["spooled-skill"] * 3 + ["spooled-ctx"] * 2 + ["after"] == skills
    assert [] == spooled_files(log)


def test_cli_log_says_it_spooled(
    tmp_path: Path, telemetry_dir: Path, held_lock: subprocess.Popen[str]
) -> None:
    """ai-telemetry log under a held lock exits 0 and says the event waits in the spool."""
    proc, took = _run(
        [CLI, "log", "skill_execution", "-f", "skill=x", "-f", "outcome=success"], tmp_path
    )
    assert 0 == proc.returncode, proc.stderr
    assert "locked by another process: kept 1 event(s)" in proc.stderr
    assert took < DEFAULT_LOCK_TIMEOUT + 3


def test_same_process_replays_on_its_next_write(fresh_log: Path) -> None:
    """An SDK-style writer that spooled appends its spool itself on its next successful write,
    oldest first."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(fresh_log)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert "held" == holder.stdout.readline().strip()
    log = EventLog(fresh_log, lock_timeout=0.2, spool=True)
    try:
        assert False is log.write_lines(b'{"n":1}\n')
        assert False is log.write_lines(b'{"n":2}\n')
        _release(holder)
        assert True is log.write_lines(b'{"n":3}\n')
    finally:
        log.close()
        _release(holder)
    assert [1, 2, 3] == [json.loads(x)["n"] for x in fresh_log.read_text().splitlines()]
    assert (2, 2, []) == (log.spooled, log.replayed, spooled_files(fresh_log))


def test_without_spool_a_held_lock_is_a_clear_error(fresh_log: Path) -> None:
    """lock_timeout alone (no spool) raises LogLockTimeout naming the lock file."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(fresh_log)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert "held" == holder.stdout.readline().strip()
    try:
        with EventLog(fresh_log, lock_timeout=0.1) as log, pytest.raises(LogLockTimeout) as info:
            log.write_lines(b'{"n":1}\n')
        assert "events.jsonl.lock: still locked" in str(info.value)
    finally:
        _release(holder)


def test_sdk_counts_spooled_events(
    tmp_path: Path, telemetry_dir: Path, held_lock: subprocess.Popen[str]
) -> None:
    """In-process: the client's stats count the spooled events as written and spooled."""
    from ai_telemetry.collect.sdk import Telemetry

    settings = load_settings(environ={}, cwd=tmp_path, telemetry_dir=telemetry_dir)
    client = Telemetry(settings.replace(durability="write"))
    try:
        client.log_event("skill_execution", {"skill": "s", "outcome": "success"})
    finally:
        client.close()
    assert (1, 1, 0) == (client.stats.written, client.stats.spooled, client.stats.write_failures)


def test_a_long_lived_writer_replays_another_processes_spool(fresh_log: Path) -> None:
    """A writer already open when another process spooled appends that spool within a second."""
    fresh_log.parent.mkdir(parents=True)
    with EventLog(fresh_log) as log:
        log.write_lines(b'{"n":1}\n')
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\n"
                "from ai_telemetry.log.writer import EventLog, writers_lock\n"
                "log = EventLog(sys.argv[1], lock_timeout=0.05, spool=True)\n"
                "with writers_lock(sys.argv[1]):\n"
                "    assert not log.write_lines(b'{\"n\":2}\\n')\n",
                str(fresh_log),
            ],
            check=True,
            timeout=60,
        )
        assert 1 == len(spooled_files(fresh_log))
        time.sleep(1.1)
        log.write_lines(b'{"n":3}\n')
    assert [1, 2, 3] == [json.loads(x)["n"] for x in fresh_log.read_text().splitlines()]


def test_hook_under_a_held_lock_spools_and_exits(
    tmp_path: Path, telemetry_dir: Path, held_lock: subprocess.Popen[str]
) -> None:
    """The Claude Code hook (in-process, no daemon) exits 0 within its 1 s budget, its tool
    call kept in the hook's own spool (payloads, in the state directory; the SDK's and CLI's
    event lines go to events.jsonl.spool/), and doctor shows it waiting."""
    payload = {
        "session_id": "sess-spool",
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_use_id": "toolu_spool",
        "tool_input": {},
        "tool_response": {},
    }
    began = time.monotonic()
    proc = subprocess.run(
        [CLI, "hook"],
        cwd=tmp_path,
        env={**os.environ, "AI_TELEMETRY_HOOK_DAEMON": "0"},
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    took = time.monotonic() - began
    assert (0, "", "") == (proc.returncode, proc.stdout, proc.stderr)
    assert took < 1.0, took
    log = telemetry_dir / "events.jsonl"
    assert not log.exists() or b"Bash" not in log.read_bytes()
    assert [] == spooled_files(log)  # the hook keeps its events in its own spool, not the log's
    doctor, _ = _run([CLI, "doctor"], tmp_path)
    assert "1 hook call(s) waiting" in doctor.stdout, doctor.stdout
