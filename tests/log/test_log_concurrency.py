"""Many writer processes at once: every event lands whole, exactly once, never interleaved."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from log_test_helpers import log_lines, parsed, start_child

from ai_telemetry.log.reader import read_log


def run_writers(log: Path, writers: int, count: int, option: str = "write") -> None:
    """Start ``writers`` child processes appending ``count`` events each; wait for all."""
    children = [start_child("write", str(log), f"p{i}", str(count), option) for i in range(writers)]
    codes = [child.wait(timeout=600) for child in children]
    assert codes == [0] * writers


def sequences(log: Path) -> dict[str, list[int]]:
    """Per writer, the sequence numbers found in the log, in file order."""
    found: dict[str, list[int]] = defaultdict(list)
    for event in parsed(log):
        found[str(event["session_id"])].append(int(str(event["task_id"])))
    return found


@pytest.mark.slow
def test_eight_processes_fifty_thousand_events_each(fresh_log: Path) -> None:
    """8 processes x 50,000 events give exactly 400,000 valid lines, none torn or interleaved."""
    run_writers(fresh_log, 8, 50_000)
    report = read_log(fresh_log)
    events = parsed(fresh_log)  # raises on any torn or interleaved line
    assert (report.valid, report.bad, len(events)) == (400_000, [], 400_000)
    assert len({e["event_id"] for e in events}) == 400_000
    assert sequences(fresh_log) == {f"p{i}": list(range(50_000)) for i in range(8)}


def test_processes_through_the_sink(fresh_log: Path) -> None:
    """Writers going through LogSink (scrub, validate, append) also give whole, unique lines."""
    run_writers(fresh_log, 4, 1_500, "sink")
    report = read_log(fresh_log)
    assert (report.valid, report.bad) == (6_000, [])
    assert sequences(fresh_log) == {f"p{i}": list(range(1_500)) for i in range(4)}


def test_processes_in_fsync_mode(fresh_log: Path) -> None:
    """fsync mode under contention keeps the same guarantees."""
    run_writers(fresh_log, 4, 300, "fsync")
    assert all(line.endswith(b"\n") for line in log_lines(fresh_log))
    assert sequences(fresh_log) == {f"p{i}": list(range(300)) for i in range(4)}
