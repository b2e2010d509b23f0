"""aggregate(): the warm path returns the cached document without opening DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from metrics_test_helpers import ev, make_settings, write_jsonl

from ai_telemetry.analyze.aggregate import aggregate
from ai_telemetry.analyze.window import Window
from ai_telemetry.errors import AnalyticsError

WINDOW = Window.iso_week(2025, 51)
NOW = datetime(2025, 12, 24, tzinfo=UTC)


def _run(tmp_path: Path, n: int) -> None:
    settings = make_settings(tmp_path)
    write_jsonl(
        settings,
        [
            ev(f"2025-12-16T10:0{i}:00Z", "skill_execution", skill="s", outcome="success")
            for i in range(n)
        ],
    )


def test_warm_run_does_not_open_the_warehouse(tmp_path: Path) -> None:
    """With nothing new, aggregate answers from metrics-cache.json even if DuckDB is unusable."""
    _run(tmp_path, 2)
    settings = make_settings(tmp_path)
    first = aggregate(WINDOW, settings=settings, now=NOW)
    (settings.telemetry_dir / "warehouse.duckdb").write_bytes(b"not duckdb" * 100)
    second = aggregate(WINDOW, settings=settings, now=NOW)
    assert first == second


def test_new_line_invalidates_the_cache(tmp_path: Path) -> None:
    """An appended event makes the next aggregate read the warehouse and count it."""
    _run(tmp_path, 2)
    settings = make_settings(tmp_path)
    aggregate(WINDOW, settings=settings, now=NOW)
    write_jsonl(
        settings, [ev("2025-12-17T10:00:00Z", "skill_execution", skill="s", outcome="error")]
    )
    doc = aggregate(WINDOW, settings=settings, now=NOW)
    assert {"s": 3} == doc["metrics"]["skill_invocation_total"]


def test_invalidated_cache_really_reads_duckdb(tmp_path: Path) -> None:
    """After an append the warehouse is opened again (a broken one is then reported)."""
    _run(tmp_path, 1)
    settings = make_settings(tmp_path)
    aggregate(WINDOW, settings=settings, now=NOW)
    (settings.telemetry_dir / "warehouse.duckdb").write_bytes(b"not duckdb" * 100)
    write_jsonl(settings, [ev("2025-12-17T10:00:00Z", "commit", commit_hash="abcdef1")])
    with pytest.raises(AnalyticsError, match="delete the file"):
        aggregate(WINDOW, settings=settings, now=NOW)


def test_other_window_is_computed_not_cached(tmp_path: Path) -> None:
    """A different window is not answered from the cached one."""
    _run(tmp_path, 2)
    settings = make_settings(tmp_path)
    aggregate(WINDOW, settings=settings, now=NOW)
    doc = aggregate(Window.iso_week(2025, 50), settings=settings, now=NOW, allow_empty=True)
    assert (0, None) == (doc["events"]["total"], doc["metrics"]["skill_invocation_total"])
