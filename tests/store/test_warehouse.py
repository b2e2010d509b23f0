"""The DuckDB warehouse: incremental ingest, de-duplication, bad lines, rotation, concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from store_test_helpers import append_raw, event

from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.store.warehouse import Warehouse


def _ingest(settings: Settings) -> tuple[object, int]:
    with Warehouse(settings) as wh:
        report = wh.ingest()
        return report, wh.count()


def test_first_ingest_stores_every_event(settings: Settings) -> None:
    """A new warehouse reads the whole log."""
    append_raw(settings, [event("2025-12-16T10:00:00Z", n) for n in range(5)])
    report, count = _ingest(settings)
    assert (5, 5) == (report.lines, count)  # type: ignore[attr-defined]


def test_second_ingest_reads_only_new_lines(settings: Settings) -> None:
    """Only bytes appended since the last ingest are read."""
    append_raw(settings, [event("2025-12-16T10:00:00Z", n) for n in range(5)])
    _ingest(settings)
    append_raw(settings, [event("2025-12-16T11:00:00Z", n) for n in range(5, 8)])
    report, count = _ingest(settings)
    assert (3, False, 8) == (report.lines, report.reread, count)  # type: ignore[attr-defined]


def test_nothing_new_reads_nothing(settings: Settings) -> None:
    """A warm ingest with no new bytes reads no line."""
    append_raw(settings, [event("2025-12-16T10:00:00Z", 1)])
    _ingest(settings)
    report, _ = _ingest(settings)
    assert 0 == report.lines  # type: ignore[attr-defined]


def test_repeated_event_id_is_stored_once(settings: Settings) -> None:
    """The same event_id within a batch and across batches is kept once."""
    append_raw(settings, [event("2025-12-16T10:00:00Z", 1), event("2025-12-16T10:00:00Z", 1)])
    _ingest(settings)
    append_raw(settings, [event("2025-12-16T10:00:00Z", 1)])
    report, count = _ingest(settings)
    assert (1, 1) == (count, report.duplicates)  # type: ignore[attr-defined]


def test_events_without_id_are_idempotent_on_reread(settings: Settings) -> None:
    """Hand-written events (no event_id) read twice after a rewrite are not doubled."""
    lines = [event(f"2025-12-16T10:0{n}:00Z", n, with_id=False) for n in range(3)]
    append_raw(settings, lines)
    _ingest(settings)
    settings.log_path.unlink()
    append_raw(settings, [event("2025-12-16T11:00:00Z", 9, with_id=False), *reversed(lines)])
    report, count = _ingest(settings)
    assert (True, 4) == (report.reread, count)  # type: ignore[attr-defined]


def test_bad_lines_are_counted_not_fatal(settings: Settings) -> None:
    """Invalid JSON, non-objects, missing type or timestamp: counted, the rest stored."""
    append_raw(
        settings,
        [
            event("2025-12-16T10:00:00Z", 1),
            b"not json\n",
            b"[1, 2]\n",
            b'{"timestamp": "2025-12-16T10:00:00Z"}\n',
            b'{"event_type": "tool_call", "timestamp": "yesterday"}\n',
            event("2025-12-16T10:01:00Z", 2),
        ],
    )
    with Warehouse(settings) as wh:
        report = wh.ingest()
        assert (6, 4, 2, 4) == (report.lines, report.bad_lines, wh.count(), wh.bad_lines())


def test_unfinished_last_line_waits_for_its_newline(settings: Settings) -> None:
    """A line being written (no newline yet) is read on the next ingest, whole."""
    append_raw(
        settings,
        [event("2025-12-16T10:00:00Z", 1), b'{"timestamp": "2025-12-16T10:01:00Z", "event_type"'],
    )
    first, count1 = _ingest(settings)
    append_raw(settings, [b': "tool_call", "event_id": "e2", "tool": "Read"}\n'])
    second, count2 = _ingest(settings)
    assert (1, 1, 1, 0, 2) == (first.lines, count1, second.lines, second.bad_lines, count2)  # type: ignore[attr-defined]


def test_truncated_log_is_read_again_from_start(settings: Settings) -> None:
    """A log that shrank is noticed; its new content is read and old events stay."""
    append_raw(settings, [event("2025-12-16T10:00:00Z", n) for n in range(4)])
    _ingest(settings)
    settings.log_path.write_bytes(b"")
    append_raw(settings, [event("2025-12-17T10:00:00Z", 10)])
    report, count = _ingest(settings)
    assert (True, 1, 5) == (report.reread, report.lines, count)  # type: ignore[attr-defined]


def test_rotated_log_with_same_size_is_noticed(settings: Settings) -> None:
    """A new file of the same size (different inode and bytes) is read again."""
    append_raw(settings, [event("2025-12-16T10:00:00Z", 1)])
    _ingest(settings)
    settings.log_path.rename(settings.log_path.with_name("events.jsonl.1"))
    append_raw(settings, [event("2025-12-16T10:00:00Z", 2)])
    report, count = _ingest(settings)
    assert (True, 2) == (report.reread, count)  # type: ignore[attr-defined]


APPENDER = textwrap.dedent(
    """
    import sys
    from ai_telemetry.config import load_settings
    from ai_telemetry.log.sink import append_events
    settings = load_settings()
    for batch in range(int(sys.argv[1])):
        append_events(
            [{"timestamp": "2025-12-16T10:00:00Z", "event_type": "tool_call", "tool": "Read",
              "event_id": f"b{batch}-{i}"} for i in range(20)],
            settings=settings,
        )
    """
)


def test_ingest_while_another_process_appends_loses_nothing(settings: Settings) -> None:
    """Ingests racing a real appender process end with every event exactly once."""
    batches = 150
    proc = subprocess.Popen([sys.executable, "-c", APPENDER, str(batches)], env=os.environ.copy())
    while proc.poll() is None:
        _ingest(settings)
    assert 0 == proc.returncode
    report, count = _ingest(settings)
    assert (batches * 20, 0) == (count, report.bad_lines)  # type: ignore[attr-defined]


def test_second_command_waits_then_fails_clearly(settings: Settings) -> None:
    """While one command holds the warehouse, another gives a clear error after its timeout."""
    with Warehouse(settings), pytest.raises(AnalyticsError, match="another ai-telemetry command"):
        Warehouse(settings, lock_timeout=0.2).open()


def test_corrupt_warehouse_file_is_a_clear_error(settings: Settings) -> None:
    """A warehouse file that is not DuckDB raises AnalyticsError saying to delete it."""
    settings.telemetry_dir.mkdir(parents=True)
    (settings.telemetry_dir / "warehouse.duckdb").write_bytes(b"garbage" * 1000)
    with pytest.raises(AnalyticsError, match="delete the file"):
        Warehouse(settings).open()


def test_unreadable_log_is_a_clear_error(settings: Settings) -> None:
    """A log path that cannot be read raises AnalyticsError naming it."""
    settings.log_path.mkdir(parents=True)
    with pytest.raises(AnalyticsError, match="cannot read the log"), Warehouse(settings) as wh:
        wh.ingest()


def test_views_per_event_type(settings: Settings) -> None:
    """The documented views select one event type with its own fields."""
    append_raw(
        settings,
        [
            event("2025-12-16T10:00:00Z", 1),
            {
                "timestamp": "2025-12-16T10:00:00Z",
                "event_type": "commit",
                "commit_hash": "abcdef1",
                "skill": "x",
            },
        ],
    )
    with Warehouse(settings) as wh:
        wh.ingest()
        rows = wh.con.execute("SELECT tool FROM tool_calls").fetchall()
        commits = wh.con.execute("SELECT commit_hash, skill FROM commits").fetchall()
    assert ([("T1",)], [("abcdef1", "x")]) == (rows, commits)


def test_rebuild_from_scratch_gives_same_count(settings: Settings, tmp_path: Path) -> None:
    """Deleting warehouse.duckdb loses nothing: it is rebuilt from the log."""
    append_raw(settings, [event("2025-12-16T10:00:00Z", n) for n in range(7)])
    _ingest(settings)
    (settings.telemetry_dir / "warehouse.duckdb").unlink()
    _, count = _ingest(settings)
    assert 7 == count
