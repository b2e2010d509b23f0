"""The analytics commands as a user runs them: aggregate, top, trend, query, retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

CLI = str(Path(sys.executable).with_name("ai-telemetry"))
SEED_SESSION = [
    {
        "timestamp": "2025-12-15T14:30:00Z",
        "event_type": "skill_execution",
        "skill": "systematic-debugger",
        "outcome": "started",
        "context_tokens": 12500,
    },
    {
        "timestamp": "2025-12-15T14:42:00Z",
        "event_type": "learning_created",
        "id": "LEARN-2025-001",
        "severity": "critical",
        "source": "incident",
    },
    {
        "timestamp": "2025-12-15T15:10:00Z",
        "event_type": "test_run",
        "outcome": "passed",
        "coverage_percent": 87.3,
    },
    {
        "timestamp": "2025-12-15T15:15:00Z",
        "event_type": "skill_execution",
        "skill": "systematic-debugger",
        "outcome": "success",
        "duration_seconds": 2700,
        "context_tokens": 18900,
    },
]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )


def _write(path: Path, events: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        for e in events:
            fh.write(orjson.dumps(e) + b"\n")


def test_aggregate_as_the_seed_calls_it(tmp_path: Path, telemetry_dir: Path) -> None:
    """aggregate --input --start --end --output writes the seed's metrics shape."""
    log = tmp_path / "elsewhere" / "events.jsonl"
    _write(log, SEED_SESSION)
    out = tmp_path / "metrics.json"
    proc = _run(
        "aggregate",
        "--input",
        str(log),
        "--start",
        "2025-12-15T00:00:00+00:00",
        "--end",
        "2025-12-22T00:00:00+00:00",
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert 0 == proc.returncode, proc.stderr
    doc = json.loads(out.read_text())
    assert {
        "invocations": 1,
        "success_rate": 1.0,
        "avg_duration_seconds": 2700.0,
        "avg_context_tokens": 15700.0,
    } == doc["skill_metrics"]["systematic-debugger"]


def test_aggregate_empty_window_is_one_line_error(tmp_path: Path, telemetry_dir: Path) -> None:
    """A window with no events exits non-zero with one line naming the window, no traceback."""
    _write(telemetry_dir / "events.jsonl", SEED_SESSION)
    proc = _run("aggregate", "--start", "2020-01-01", "--end", "2020-01-08", cwd=tmp_path)
    assert (1, 1, "Traceback" not in proc.stderr) == (
        proc.returncode,
        len(proc.stderr.strip().splitlines()),
        True,
    )
    assert "no events between 2020-01-01T00:00:00Z and 2020-01-08T00:00:00Z" in proc.stderr


def test_aggregate_missing_input_is_clear_error(tmp_path: Path, telemetry_dir: Path) -> None:
    """--input naming no file fails with a message saying so."""
    proc = _run("aggregate", "--input", str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert 0 != proc.returncode and "no such file" in proc.stderr


def test_top_skills_prints_the_seed_query(tmp_path: Path, telemetry_dir: Path) -> None:
    """top skills --days 7 prints the seed's "Top 5 skills by usage" list."""
    now = datetime.now(UTC)
    counts = {"systematic-debugger": 3, "test-writer": 2, "code-review": 1}
    events = []
    for skill, n in counts.items():
        for i in range(n):
            ts = (now - timedelta(hours=i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            events.append(
                {
                    "timestamp": ts,
                    "event_type": "skill_execution",
                    "skill": skill,
                    "outcome": "success",
                }
            )
    events.append(
        {
            "timestamp": (now - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event_type": "skill_execution",
            "skill": "old",
            "outcome": "success",
        }
    )
    _write(telemetry_dir / "events.jsonl", events)
    proc = _run("top", "skills", "--days", "7", cwd=tmp_path)
    expected = (
        "Top 5 skills by usage (last 7 days):\n"
        "1. systematic-debugger: 3 invocations\n"
        "2. test-writer: 2 invocations\n"
        "3. code-review: 1 invocation\n"
    )
    assert expected == proc.stdout


def test_trend_shows_one_line_per_week(tmp_path: Path, telemetry_dir: Path) -> None:
    """trend METRIC --key --weeks N prints a header and N week lines."""
    _write(telemetry_dir / "events.jsonl", SEED_SESSION)
    proc = _run(
        "trend",
        "skill_invocation_total",
        "--key",
        "systematic-debugger",
        "--weeks",
        "3",
        cwd=tmp_path,
    )
    assert (0, 4) == (
        proc.returncode,
        len(proc.stdout.strip().splitlines()) - ("no values" in proc.stdout),
    )


def test_query_runs_sql_over_views(tmp_path: Path, telemetry_dir: Path) -> None:
    """query SQL --format json prints rows of the documented views."""
    _write(telemetry_dir / "events.jsonl", SEED_SESSION)
    proc = _run(
        "query",
        "SELECT skill, count(*) AS n FROM skill_executions GROUP BY skill",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert [{"skill": "systematic-debugger", "n": 2}] == json.loads(proc.stdout)


def test_query_with_bad_sql_is_one_line_error(tmp_path: Path, telemetry_dir: Path) -> None:
    """Broken SQL gives a one-line error, not a traceback."""
    _write(telemetry_dir / "events.jsonl", SEED_SESSION)
    proc = _run("query", "SELEC nothing", cwd=tmp_path)
    assert (1, "query failed") == (proc.returncode, proc.stderr.split(": ", 2)[2][:12])


def test_query_cannot_change_the_warehouse(tmp_path: Path, telemetry_dir: Path) -> None:
    """query is read-only: DROP and DELETE are refused with one line, the events stay, and a
    temporary table of one's own still works."""
    _write(telemetry_dir / "events.jsonl", SEED_SESSION)
    for sql in ("DROP TABLE events", "DELETE FROM events", "DROP VIEW skill_executions"):
        proc = _run("query", sql, cwd=tmp_path)
        assert 1 == proc.returncode
        assert "read-only mode" in proc.stderr, proc.stderr
    proc = _run(
        "query",
        "CREATE TEMP TABLE n AS SELECT count(*) AS n FROM skill_executions; SELECT n FROM n",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert [{"n": 2}] == json.loads(proc.stdout)


def test_retention_dry_run_reports_and_changes_nothing(tmp_path: Path, telemetry_dir: Path) -> None:
    """retention apply --dry-run says what would move and leaves the log alone."""
    _write(telemetry_dir / "events.jsonl", SEED_SESSION)
    before = (telemetry_dir / "events.jsonl").read_bytes()
    proc = _run("retention", "apply", "--dry-run", "--days", "1", cwd=tmp_path)
    assert (0, True, before) == (
        proc.returncode,
        proc.stdout.startswith("would archive 4 events"),
        (telemetry_dir / "events.jsonl").read_bytes(),
    )
