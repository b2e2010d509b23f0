"""Foundation commands, run as a user runs them: real processes, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from ai_telemetry.demo import generate
from ai_telemetry.events.schema import EVENT_TYPES


def run(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ai_telemetry", *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def events(log: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines()]


def test_init_creates_the_seed_layout_once(telemetry_dir: Path) -> None:
    """init makes events.jsonl, dashboards/, alerts.log, archives/; a second run adds nothing."""
    first = run("init")
    assert 0 == first.returncode, first.stderr
    for name in ("events.jsonl", "dashboards", "alerts.log", "archives", "config.toml"):
        assert (telemetry_dir / name).exists(), name
    second = run("init")
    assert b"nothing to create" in second.stdout


def test_log_from_options(telemetry_dir: Path) -> None:
    """log EVENT_TYPE -f k=v writes one typed event with source cli."""
    done = run(
        "log",
        "skill_execution",
        "-f",
        "skill=test-writer",
        "-f",
        "outcome=success",
        "-f",
        "duration_seconds=12.5",
    )
    assert 0 == done.returncode, done.stderr
    [event] = events(telemetry_dir / "events.jsonl")
    assert ("test-writer", 12.5, "cli") == (
        event["skill"],
        event["duration_seconds"],
        event["source"],
    )


def test_log_rejects_a_bad_event_in_one_line(telemetry_dir: Path) -> None:
    """A bad event: one line on stderr naming the field, exit 1, no traceback, nothing written."""
    done = run("log", "--json", '{"event_type": "tool_call", "timestamp": "2025-12-26T10:30:00"}')
    assert 1 == done.returncode
    assert b"Traceback" not in done.stderr
    assert b"timestamp" in done.stderr and b"UTC offset" in done.stderr
    assert not (telemetry_dir / "events.jsonl").exists() or not events(
        telemetry_dir / "events.jsonl"
    )


def test_log_stdin_keeps_the_valid_lines_and_reports_the_rest(telemetry_dir: Path) -> None:
    """JSON Lines on stdin: valid events written, bad ones reported by line number, exit 1."""
    lines = b"\n".join(
        [
            b'{"timestamp":"2025-12-26T10:30:00Z","event_type":"lint_report","lint_errors":2}',
            b"not json",
            b'{"timestamp":"2025-12-26T10:31:00Z","event_type":"lint_report","lint_errors":"x"}',
            b'{"timestamp":"2025-12-26T10:32:00+01:00","event_type":"lint_report","lint_errors":0}',
        ]
    )
    done = run("log", "-", stdin=lines)
    assert 1 == done.returncode
    assert b"line 2" in done.stderr and b"line 3" in done.stderr
    written = events(telemetry_dir / "events.jsonl")
    assert [(2, "2025-12-26T10:30:00Z"), (0, "2025-12-26T09:32:00Z")] == [
        (e["lint_errors"], e["timestamp"]) for e in written
    ]


def test_log_never_writes_a_secret(telemetry_dir: Path) -> None:
    """A key pasted into a field is redacted before it reaches the file."""
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    done = run("log", "skill_execution", "-f", f"skill={secret}", "-f", "outcome=success")
    assert 0 == done.returncode, done.stderr
    raw = (telemetry_dir / "events.jsonl").read_bytes()
    assert secret.encode() not in raw
    assert b"REDACTED" in raw


def test_schema_prints_a_valid_json_schema() -> None:
    """schema prints a draft 2020-12 schema naming every event type."""
    import jsonschema

    done = run("schema")
    assert 0 == done.returncode
    schema = orjson.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(EVENT_TYPES) == set(schema["$defs"])


def test_doctor_on_a_fresh_directory(telemetry_dir: Path) -> None:
    """doctor after init reports the log as ok; before init it tells how to fix, exit 1."""
    before = run("doctor")
    assert 1 == before.returncode
    assert b"ai-telemetry init" in before.stdout
    run("init")
    after = run("doctor")
    assert 0 == after.returncode, after.stdout
    assert b"ok    log" in after.stdout


def test_bad_config_is_one_line(telemetry_dir: Path) -> None:
    """A broken setting: one line naming the variable, non-zero exit, no traceback."""
    done = run("init", env={"AI_TELEMETRY_DURABILITY": "sometimes"})
    assert 0 != done.returncode
    assert b"AI_TELEMETRY_DURABILITY" in done.stderr
    assert b"Traceback" not in done.stderr


def test_demo_is_reproducible_and_covers_every_event_type() -> None:
    """Same seed and end date: same events, ids included; every contract type appears."""
    first = generate(weeks=8, seed=7, end=None)
    again = generate(weeks=8, seed=7, end=None)
    assert first.events == again.events
    assert set(EVENT_TYPES) <= {e["event_type"] for e in first.events}
    assert 7 == len(first.anomalies)


def test_demo_fills_the_seven_days_to_now() -> None:
    """Without an end date, the week under way has events up to today: `status` and
    `top --days 7` read the 7 days to now, which held no demo skill run from Friday evening to
    Sunday when the data stopped at this week's Monday."""
    from datetime import UTC, datetime, timedelta

    from ai_telemetry.events.schema import format_timestamp

    now = datetime.now(UTC)
    today = format_timestamp(now.replace(hour=0, minute=0, second=0, microsecond=0))
    week_ago = format_timestamp(now - timedelta(days=7))
    events = generate(weeks=8, seed=7).events
    recent = [e for e in events if e["timestamp"] >= week_ago]
    assert max(e["timestamp"] for e in events) < today  # nothing of today: the same all day
    assert sum(e["event_type"] == "skill_execution" for e in recent) > 50


def test_demo_command_writes_its_own_directory(tmp_path: Path) -> None:
    """demo writes into its own directory, runs the pipeline and refuses a foreign one."""
    target = tmp_path / "demo"
    done = run("demo", "--dir", str(target), "--weeks", "8", "--end", "2025-12-29")
    assert 0 == done.returncode, done.stderr
    assert (target / "events.jsonl").stat().st_size > 0
    assert (target / "metrics.json").exists()
    assert list((target / "dashboards").glob("weekly-*.html"))
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    refused = run("demo", "--dir", str(foreign))
    assert 0 != refused.returncode
    assert (foreign / "keep.txt").exists()


@pytest.mark.parametrize("command", ["--help", "log --help", "import --help"])
def test_help_works(command: str) -> None:
    """Help texts print without error."""
    done = run(*command.split())
    assert 0 == done.returncode
    assert b"Usage" in done.stdout


def test_doctor_shows_what_the_claude_code_hook_swallowed(telemetry_dir: Path) -> None:
    """A hook that cannot keep its state still exits 0; doctor shows the swallowed error."""
    run("init")
    (telemetry_dir / "hook-state").write_text("a file where the hook's folder must be")
    hook = run("hook", stdin=b'{"hook_event_name": "SessionStart", "session_id": "s1"}')
    assert (0, b"", b"") == (hook.returncode, hook.stdout, hook.stderr)
    doctor = run("doctor")
    assert b"claude code hook: 1 swallowed error(s)" in doctor.stdout
