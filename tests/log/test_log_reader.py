"""The tolerant reader: bad lines reported, valid ones kept, quarantine that loses nothing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from log_test_helpers import log_lines
from log_writer_child import make_event, make_line

from ai_telemetry.errors import LogError
from ai_telemetry.log.reader import (
    TORN,
    iter_events,
    quarantine_bad_lines,
    read_log,
    scan_log,
)
from ai_telemetry.log.writer import writers_lock

GOOD = make_line("w", 0)
BAD_LINES = {
    "not JSON": b'{"timestamp": "2025-12-26T10:30:00Z", "event_type":\n',
    "not a JSON object": b'["tool_call"]\n',
    "invalid event": b'{"timestamp": "2025-12-26T10:30:00", "event_type": "tool_call"}\n',
    "invalid UTF-8": b'{"event_type": "tool_call", "tool": "\xff\xfe"}\n',
    "blank line": b"  \n",
}


def write(path: Path, *chunks: bytes) -> Path:
    """Create the log with exactly these bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(chunks))
    return path


def quarantine_of(log: Path) -> Path:
    return log.with_name("events.quarantine.jsonl")


@pytest.mark.parametrize("reason", sorted(BAD_LINES))
def test_bad_line_reported_with_number_offset_and_reason(fresh_log: Path, reason: str) -> None:
    """Each kind of bad line is reported with its line number, byte offset and reason."""
    write(fresh_log, GOOD, BAD_LINES[reason], GOOD)
    report = read_log(fresh_log)
    bad = report.bad[0]
    assert (2, 1, len(GOOD), True) == (
        report.valid,
        len(report.bad),
        bad.offset,
        reason in bad.reason,
    )
    assert bad.line == 2


def test_torn_last_line_reported(fresh_log: Path) -> None:
    """A last line without its newline is reported as torn; end_offset stops before it."""
    write(fresh_log, GOOD, GOOD[:20])
    report = read_log(fresh_log)
    assert ([(2, TORN, GOOD[:20])], len(GOOD)) == (
        [(b.line, b.reason, b.raw) for b in report.bad],
        report.end_offset,
    )


def test_invalid_event_reason_names_the_field(fresh_log: Path) -> None:
    """The reason for an invalid event carries the validator's message (field and fix)."""
    write(fresh_log, BAD_LINES["invalid event"])
    assert "invalid event: timestamp: " in read_log(fresh_log).bad[0].reason


def test_unknown_types_are_valid_and_counted(fresh_log: Path) -> None:
    """Events of types outside the contract are kept and counted by type."""
    other = orjson.dumps({"timestamp": "2025-12-26T10:30:00Z", "event_type": "deploy"}) + b"\n"
    write(fresh_log, GOOD, other, other)
    report = read_log(fresh_log)
    assert (report.valid, dict(report.unknown_types), report.bad) == (3, {"deploy": 2}, [])


def test_iter_events_yields_only_valid_events(fresh_log: Path) -> None:
    """iter_events skips every bad line and the torn tail, and yields the rest in order."""
    write(fresh_log, make_line("w", 0), *BAD_LINES.values(), make_line("w", 1), b'{"tor')
    assert [e["task_id"] for e in iter_events(fresh_log)] == ["0", "1"]


def test_iter_events_filters_by_type(fresh_log: Path) -> None:
    """event_types keeps only the named types."""
    session = orjson.dumps({"timestamp": "2025-12-26T10:30:00Z", "event_type": "session_start"})
    write(fresh_log, GOOD, session + b"\n", GOOD)
    assert [e["event_type"] for e in iter_events(fresh_log, event_types={"session_start"})] == [
        "session_start"
    ]


def test_iter_events_filters_by_time(fresh_log: Path) -> None:
    """since is inclusive, until exclusive, compared on the parsed time (fractions included)."""
    stamps = ["2025-12-26T10:00:00Z", "2025-12-26T10:00:00.500000Z", "2025-12-26T11:00:00Z"]
    lines = [
        orjson.dumps({**make_event("w", i), "timestamp": s}) + b"\n" for i, s in enumerate(stamps)
    ]
    write(fresh_log, *lines)
    since = datetime(2025, 12, 26, 10, 0, 0, 500000, tzinfo=UTC)
    until = datetime(2025, 12, 26, 11, 0, 0, tzinfo=UTC)
    assert [e["task_id"] for e in iter_events(fresh_log, since=since, until=until)] == ["1"]


def test_iter_events_rejects_naive_datetimes(fresh_log: Path) -> None:
    """A naive since is a programming error, raised rather than silently compared."""
    write(fresh_log, GOOD)
    with pytest.raises(ValueError, match="aware"):
        list(iter_events(fresh_log, since=datetime(2025, 12, 26)))


def test_resume_from_end_offset(fresh_log: Path) -> None:
    """Reading from a report's end_offset yields only what was appended since."""
    write(fresh_log, make_line("w", 0), make_line("w", 1))
    end = read_log(fresh_log).end_offset
    with fresh_log.open("ab") as fh:
        fh.write(make_line("w", 2))
    assert [e["task_id"] for e in iter_events(fresh_log, start_offset=end)] == ["2"]


def test_start_offset_inside_a_line_raises(fresh_log: Path) -> None:
    """An offset that is not a line start (the log was rewritten) raises LogError."""
    write(fresh_log, GOOD, GOOD)
    with pytest.raises(LogError, match="not at the start of a line"):
        list(iter_events(fresh_log, start_offset=5))


def test_start_offset_past_the_end_raises(fresh_log: Path) -> None:
    """An offset past the end (the log shrank) raises LogError telling to read from 0."""
    write(fresh_log, GOOD)
    with pytest.raises(LogError, match="offset 0"):
        read_log(fresh_log, start_offset=10 * len(GOOD))


def test_missing_log_raises_log_error(fresh_log: Path) -> None:
    """A missing log is a LogError naming the path and how to fix it."""
    with pytest.raises(LogError, match="no such log"):
        read_log(fresh_log)


def test_scan_log_lines_carry_offsets(fresh_log: Path) -> None:
    """scan_log yields each line with its number and byte range."""
    write(fresh_log, GOOD, b"oops\n")
    assert [(1, 0, len(GOOD)), (2, len(GOOD), len(GOOD) + 5)] == [
        (line.line, line.offset, line.end) for line in scan_log(fresh_log)
    ]


def test_quarantine_moves_bad_lines_and_keeps_valid_ones(fresh_log: Path) -> None:
    """After quarantine the log holds exactly the valid lines, byte for byte, in order."""
    write(fresh_log, make_line("w", 0), *BAD_LINES.values(), make_line("w", 1), b'{"torn')
    report = quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    assert (6, [make_line("w", 0), make_line("w", 1)]) == (report.quarantined, log_lines(fresh_log))


def test_quarantine_loses_nothing(fresh_log: Path) -> None:
    """Kept lines and quarantined raw lines, merged by line number, rebuild the original."""
    original = [make_line("w", 0), *BAD_LINES.values(), make_line("w", 1), b'{"torn']
    write(fresh_log, *original)
    quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    records = [orjson.loads(line) for line in log_lines(quarantine_of(fresh_log))]
    moved = {
        r["line"]: r["raw"].encode() if "raw" in r else base64.b64decode(r["raw_base64"])
        for r in records
    }
    kept = log_lines(fresh_log)
    remaining = iter(kept)
    rebuilt = [
        moved[n] if n in moved else next(remaining).rstrip(b"\n")
        for n in range(1, len(original) + 1)
    ]
    assert (len(original), [line.rstrip(b"\n") for line in original]) == (
        len(kept) + len(records),
        rebuilt,
    )


def test_quarantine_record_fields(fresh_log: Path) -> None:
    """A quarantine record holds the line number, offset, reason and raw text."""
    write(fresh_log, GOOD, b"oops\n")
    quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    record = orjson.loads(quarantine_of(fresh_log).read_bytes())
    assert (2, len(GOOD), "oops", str(fresh_log)) == (
        record["line"],
        record["offset"],
        record["raw"],
        record["log"],
    )


def test_quarantine_twice_is_idempotent(fresh_log: Path) -> None:
    """A second quarantine finds nothing and changes neither file."""
    write(fresh_log, GOOD, *BAD_LINES.values(), GOOD)
    quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    before = (fresh_log.read_bytes(), quarantine_of(fresh_log).read_bytes())
    again = quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    after = (fresh_log.read_bytes(), quarantine_of(fresh_log).read_bytes())
    assert (0, before) == (again.quarantined, after)


def test_quarantine_of_a_clean_log_does_not_rewrite_it(fresh_log: Path) -> None:
    """A clean log keeps its inode (writers are not disturbed) and no quarantine file appears."""
    write(fresh_log, GOOD, GOOD)
    inode = fresh_log.stat().st_ino
    quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    assert (inode, False) == (fresh_log.stat().st_ino, quarantine_of(fresh_log).exists())


def test_quarantine_appends_to_an_existing_quarantine(fresh_log: Path) -> None:
    """Earlier quarantined lines stay; new ones are appended after them."""
    write(fresh_log, GOOD, b"first\n")
    quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    with fresh_log.open("ab") as fh:
        fh.write(b"second\n")
    quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    raws = [orjson.loads(line)["raw"] for line in log_lines(quarantine_of(fresh_log))]
    assert raws == ["first", "second"]


def test_quarantine_keeps_file_mode(fresh_log: Path) -> None:
    """The rewritten log keeps the permissions of the original."""
    write(fresh_log, GOOD, b"oops\n")
    fresh_log.chmod(0o640)
    quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log))
    assert fresh_log.stat().st_mode & 0o777 == 0o640


def test_quarantine_waits_for_the_writers_lock(fresh_log: Path) -> None:
    """Quarantine never rewrites while a writer holds the lock; it times out instead."""
    write(fresh_log, GOOD, b"oops\n")
    with writers_lock(fresh_log), pytest.raises(LogError, match="still locked"):
        quarantine_bad_lines(fresh_log, quarantine_path=quarantine_of(fresh_log), lock_timeout=0.1)
    assert log_lines(fresh_log) == [GOOD, b"oops\n"]
