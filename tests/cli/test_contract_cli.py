"""Issues 12 §4 and 20 §2, §3: validate and aggregate, as separate processes, see one contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson

CLI = str(Path(sys.executable).with_name("ai-telemetry"))
WINDOW = ("--start", "2026-01-05", "--end", "2026-01-12")
TS = "2026-01-06T10:00:00Z"


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env["AI_TELEMETRY_DIR"] = str(tmp / "T")
    return subprocess.run(
        [CLI, *args], cwd=tmp, capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _ev(**fields: object) -> bytes:
    event: dict[str, object] = {
        "timestamp": TS,
        "event_type": "skill_execution",
        "skill": "s",
        "outcome": "success",
    }
    event.update(fields)
    return orjson.dumps({k: v for k, v in event.items() if v is not None})


def _write(tmp: Path, lines: list[bytes]) -> None:
    (tmp / "T").mkdir(parents=True, exist_ok=True)
    (tmp / "T" / "events.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def _member(member: str) -> bytes:
    return (
        f'{{"timestamp":"{TS}","event_type":"skill_execution","skill":"s","outcome":"success",'
        f"{member}}}"
    ).encode()


BAD = [
    _ev(duration_seconds=-100),
    _member('"duration_seconds":NaN'),
    _member('"duration_seconds":Infinity'),
    _member('"duration_seconds":1e400'),
    _ev(duration_seconds="12"),
    _ev(skill=123),
    _ev(skill=None),
    _ev(duration_seconds=1e308),
    _ev(timestamp="2099-01-01T00:00:00Z"),
    _ev(timestamp="0000-01-01T00:00:00Z"),
    _ev(timestamp="0001-01-01T00:00:00+01:00"),
    _ev(skill="<script>alert(1)</script>"),
    _ev(skill="a|b"),
    _ev(skill="a\nb\x1b\x07"),
    b"",
]
GOOD = [_ev(duration_seconds=5.0), _ev(duration_seconds=7.0, skill="acgme-compliance")]


def _aggregate(tmp: Path) -> dict[str, object]:
    done = _run(tmp, "aggregate", *WINDOW, "--output", str(tmp / "m.json"))
    assert 0 == done.returncode, done.stderr
    doc: dict[str, object] = json.loads((tmp / "m.json").read_text())
    return doc


def test_aggregate_counts_the_lines_validate_rejects_and_none_of_their_values(
    tmp_path: Path,
) -> None:
    """bad_lines equals validate's count; no -100 s p50, no skill 123; after quarantine, 0."""
    _write(tmp_path, [*GOOD, *BAD])
    checked = _run(tmp_path, "validate", "--no-quarantine", "--json")
    assert 1 == checked.returncode, checked.stderr
    report = json.loads(checked.stdout)
    assert (len(GOOD), len(BAD)) == (report["valid"], len(report["bad"]))
    doc = _aggregate(tmp_path)
    events = doc["events"]
    assert isinstance(events, dict)
    assert len(BAD) == events["bad_lines"]
    metrics = doc["metrics"]
    assert isinstance(metrics, dict)
    assert {"s": 1, "acgme-compliance": 1} == metrics["skill_invocation_total"]
    assert 5.0 == metrics["skill_duration_seconds"]["s"]["p50"]
    moved = _run(tmp_path, "validate")
    assert 1 == moved.returncode and f"moved {len(BAD)} bad lines" in moved.stdout
    after = _aggregate(tmp_path)
    assert (0, metrics) == (after["events"]["bad_lines"], after["metrics"])  # type: ignore[index]


def test_a_year_zero_timestamp_crashes_nothing(tmp_path: Path) -> None:
    """aggregate, status and top answer (the line is one bad line), before and after validate."""
    _write(tmp_path, [*GOOD, _ev(timestamp="0000-01-01T00:00:00Z")])
    for args in (("aggregate", *WINDOW, "--output", "m.json"), ("status",), ("top", "skills")):
        done = _run(tmp_path, *args)
        assert "internal error" not in done.stderr, done.stderr
        assert 0 == done.returncode, (args, done.stderr)
    assert 1 == _aggregate(tmp_path)["events"]["bad_lines"]  # type: ignore[index]


def test_a_line_over_32_mb_is_one_bad_line(tmp_path: Path) -> None:
    """DuckDB's maximum_object_size is never reached: the long line is counted, not fatal."""
    _write(tmp_path, [*GOOD, _ev(error_type="x" * 34_000_000)])
    assert 1 == _aggregate(tmp_path)["events"]["bad_lines"]  # type: ignore[index]
    for args in (("status",), ("top", "skills")):
        done = _run(tmp_path, *args)
        assert 0 == done.returncode, (args, done.stderr)
    checked = _run(tmp_path, "validate", "--no-quarantine")
    assert "more than the 65,536 allowed" in checked.stdout


def test_log_refuses_out_of_range_times_and_bad_names_with_a_message(tmp_path: Path) -> None:
    """log --json with year 1 and an offset, and a name with a pipe: one clear line, exit 1."""
    event = '{"event_type":"lint_report","lint_errors":0,"timestamp":"0001-01-01T00:00:00+01:00"}'
    done = _run(tmp_path, "log", "--json", event)
    assert 1 == done.returncode
    assert "timestamp: '0001-01-01T00:00:00+01:00' is out of range" in done.stderr
    assert "internal error" not in done.stderr
    named = _run(tmp_path, "log", "skill_execution", "-f", "skill=a|b", "-f", "outcome=success")
    assert 1 == named.returncode and "is not a valid name" in named.stderr
