"""``ai-telemetry validate`` and ``ai-telemetry tail``, run as real subprocesses."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import orjson
import pytest
from log_test_helpers import child_env, log_lines
from log_writer_child import make_event, make_line

from ai_telemetry.cli.log import parse_when
from ai_telemetry.log.writer import EventLog


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ai_telemetry ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "ai_telemetry", *args],
        capture_output=True,
        text=True,
        env=env or child_env(),
        timeout=120,
        check=False,
    )


def event_line(seq: int, *, event_type: str = "tool_call", when: datetime | None = None) -> bytes:
    """A log line: writer ``c``'s event ``seq``, with another type or time when asked."""
    event = {**make_event("c", seq), "event_type": event_type}
    if event_type != "tool_call":
        del event["tool"], event["outcome"], event["duration_seconds"]
    if when is not None:
        event["timestamp"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return orjson.dumps(event) + b"\n"


@pytest.fixture
def bad_log(fresh_log: Path) -> Path:
    """A log with two valid events, one unknown type, a non-JSON line and a torn tail."""
    fresh_log.parent.mkdir(parents=True)
    fresh_log.write_bytes(
        event_line(0) + b"not json\n" + event_line(1, event_type="deploy") + event_line(2) + b'{"t'
    )
    return fresh_log


def test_validate_clean_log_exits_zero(fresh_log: Path) -> None:
    """A clean log: exit 0 and the count of valid events."""
    EventLog(fresh_log).write_lines(make_line("c", 0) + make_line("c", 1))
    done = run_cli("validate", "--log", str(fresh_log))
    assert (done.returncode, f"{fresh_log}: 2 valid events, 0 bad lines\n") == (0, done.stdout)


def test_validate_reports_bad_lines_and_exits_one(bad_log: Path) -> None:
    """Bad lines are listed as 'line N: reason', unknown types named, and the exit is 1."""
    done = run_cli("validate", "--log", str(bad_log), "--no-quarantine")
    assert done.returncode == 1
    assert "3 valid events, 2 bad lines" in done.stdout
    assert "  line 2: not JSON" in done.stdout
    assert "  line 5: torn last line" in done.stdout
    assert "unknown event types (kept): deploy (1)" in done.stdout


def test_validate_no_quarantine_leaves_the_log_alone(bad_log: Path) -> None:
    """--no-quarantine only reports: the log is unchanged and no quarantine file appears."""
    before = bad_log.read_bytes()
    run_cli("validate", "--log", str(bad_log), "--no-quarantine")
    quarantine = bad_log.with_name("events.quarantine.jsonl")
    assert (bad_log.read_bytes(), quarantine.exists()) == (before, False)


def test_validate_quarantines_by_default(bad_log: Path) -> None:
    """By default bad lines move to events.quarantine.jsonl beside the log."""
    done = run_cli("validate", "--log", str(bad_log))
    quarantine = bad_log.with_name("events.quarantine.jsonl")
    assert f"moved 2 bad lines to {quarantine}" in done.stdout
    assert [orjson.loads(line)["line"] for line in log_lines(quarantine)] == [2, 5]
    assert run_cli("validate", "--log", str(bad_log)).returncode == 0


def test_validate_json(bad_log: Path) -> None:
    """--json prints one JSON document with every bad line."""
    done = run_cli("validate", "--log", str(bad_log), "--json", "--no-quarantine")
    document = orjson.loads(done.stdout)
    assert (document["valid"], [b["line"] for b in document["bad"]], document["unknown_types"]) == (
        3,
        [2, 5],
        {"deploy": 1},
    )


def test_validate_missing_log_is_one_line_error(fresh_log: Path) -> None:
    """A missing log: non-zero exit, one line on stderr, no traceback."""
    done = run_cli("validate", "--log", str(fresh_log))
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1
    assert "no such log" in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_default_path_from_environment(bad_log: Path) -> None:
    """Without --log, AI_TELEMETRY_LOG_PATH names the log."""
    done = run_cli(
        "validate", "--no-quarantine", env={**child_env(), "AI_TELEMETRY_LOG_PATH": str(bad_log)}
    )
    assert (done.returncode, f"{bad_log}: 3 valid events, 2 bad lines") == (
        1,
        done.stdout.splitlines()[0],
    )


def test_validate_help_documents_exit_codes() -> None:
    """validate --help says what the exit status means."""
    assert "1 when bad lines were found" in run_cli("validate", "--help").stdout


def test_tail_last_n_events(fresh_log: Path) -> None:
    """-n N prints the last N valid events as JSON lines."""
    EventLog(fresh_log).write_lines(b"".join(make_line("c", seq) for seq in range(30)))
    done = run_cli("tail", "--log", str(fresh_log), "-n", "3")
    assert [orjson.loads(line)["task_id"] for line in done.stdout.splitlines()] == [
        "27",
        "28",
        "29",
    ]


def test_tail_filters_by_type(bad_log: Path) -> None:
    """--type keeps only that type (bad lines are skipped, not fatal)."""
    done = run_cli("tail", "--log", str(bad_log), "--type", "deploy")
    assert [orjson.loads(line)["event_type"] for line in done.stdout.splitlines()] == ["deploy"]


def test_tail_filters_by_relative_since(fresh_log: Path) -> None:
    """--since 1h keeps only the last hour's events."""
    now = datetime.now(UTC)
    old, recent = event_line(0, when=now - timedelta(hours=3)), event_line(1, when=now)
    EventLog(fresh_log).write_lines(old + recent)
    done = run_cli("tail", "--log", str(fresh_log), "--since", "1h")
    assert [orjson.loads(line)["task_id"] for line in done.stdout.splitlines()] == ["1"]


def test_tail_filters_by_absolute_until(fresh_log: Path) -> None:
    """--until with an RFC 3339 time keeps only earlier events."""
    first = event_line(0, when=datetime(2025, 12, 1, tzinfo=UTC))
    second = event_line(1, when=datetime(2025, 12, 20, tzinfo=UTC))
    EventLog(fresh_log).write_lines(first + second)
    done = run_cli("tail", "--log", str(fresh_log), "--until", "2025-12-10T00:00:00Z")
    assert [orjson.loads(line)["task_id"] for line in done.stdout.splitlines()] == ["0"]


def test_tail_text_format(fresh_log: Path) -> None:
    """--text prints timestamp, type and fields on one readable line."""
    EventLog(fresh_log).write_lines(make_line("c", 0))
    done = run_cli("tail", "--log", str(fresh_log), "--text")
    assert done.stdout.startswith("2025-12-26T10:30:00Z  tool_call  session_id=c task_id=0")


def test_tail_bad_since_is_a_usage_error(fresh_log: Path) -> None:
    """An unreadable --since is a usage error (exit 2), not a traceback."""
    EventLog(fresh_log).write_lines(make_line("c", 0))
    done = run_cli("tail", "--log", str(fresh_log), "--since", "last tuesday")
    assert (done.returncode, "Traceback" in done.stderr) == (2, False)


def test_tail_follow_prints_new_events(fresh_log: Path) -> None:
    """--follow prints events appended after it started."""
    log = EventLog(fresh_log)
    log.write_lines(make_line("c", 0))
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ai_telemetry",
            "tail",
            "--log",
            str(fresh_log),
            "-f",
            "--interval",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        env=child_env(),
    )
    try:
        assert follower.stdout is not None
        first = orjson.loads(follower.stdout.readline())["task_id"]
        time.sleep(0.2)
        log.write_lines(make_line("c", 1) + make_line("c", 2)[:30])  # the tail is still torn
        second = orjson.loads(follower.stdout.readline())["task_id"]
    finally:
        follower.terminate()
        follower.wait(timeout=30)
        if follower.stdout is not None:
            follower.stdout.close()
    assert (first, second) == ("0", "1")


def test_parse_when_relative() -> None:
    """Ages count back from the given now."""
    now = datetime(2025, 12, 26, 12, tzinfo=UTC)
    assert [parse_when(t, now=now) for t in ("7d", "2h", "30m")] == [
        now - timedelta(days=7),
        now - timedelta(hours=2),
        now - timedelta(minutes=30),
    ]


def test_parse_when_dates_are_utc() -> None:
    """A bare date or a time without offset is read as UTC; offsets are converted."""
    now = datetime(2025, 12, 26, tzinfo=UTC)
    assert [parse_when(t, now=now) for t in ("2025-12-01", "2025-12-01T01:00:00+01:00")] == [
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2025, 12, 1, tzinfo=UTC),
    ]


def test_parse_when_rejects_nonsense() -> None:
    """Text that is no time raises click's BadParameter with an example."""
    with pytest.raises(click.BadParameter, match="7d"):
        parse_when("soon", now=datetime(2025, 12, 26, tzinfo=UTC))
