"""Retention: old raw events move to Parquet; nothing lost or doubled, even when killed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from store_test_helpers import append_raw, event, ids_in_archives, ids_in_jsonl

from ai_telemetry.analyze.history import record_week
from ai_telemetry.config import Settings
from ai_telemetry.store.duckdb_store import DuckDBStore
from ai_telemetry.store.retention import CRASH_ENV, STEPS, apply_retention, read_manifest
from ai_telemetry.store.warehouse import Warehouse

NOW = datetime.now(UTC).replace(microsecond=0)


def _ts(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fill(settings: Settings) -> list[str]:
    """Old events (two years of them), recent ones, some without ids, one bad line."""
    items: list[dict[str, object] | bytes] = []
    for n in range(30):
        items.append(event(_ts(400 - n * 10), n, with_id=n % 3 != 0))
    items.append(b"torn {line\n")
    items += [event(_ts(5 - n * 0.1), 100 + n) for n in range(10)]
    append_raw(settings, items)
    return ids_in_jsonl(settings.log_path)


def _all_ids(settings: Settings) -> Counter[str]:
    return Counter(ids_in_jsonl(settings.log_path)) + Counter(ids_in_archives(settings))


def test_apply_moves_old_events_to_parquet_by_year(settings: Settings) -> None:
    """Events older than 90 days leave the log for archives/YYYY/*.parquet; recent ones stay."""
    before = _fill(settings)
    report = apply_retention(settings)
    years = {p["file"].split("/")[0] for p in read_manifest(settings)["parts"]}
    kept = ids_in_jsonl(settings.log_path)
    assert Counter(before) == _all_ids(settings)
    assert all(p["status"] == "applied" for p in read_manifest(settings)["parts"])
    assert (
        len(before) - len(kept),
        {str((NOW - timedelta(days=d)).year) for d in (400, 120)} >= years,
    ) == (report.archived, True)
    assert b"torn {line\n" in settings.log_path.read_bytes()


def test_archived_events_still_count_in_queries(settings: Settings) -> None:
    """A fresh warehouse built after retention sees archived and live events."""
    before = _fill(settings)
    apply_retention(settings)
    with Warehouse(settings) as wh:
        wh.ingest()
        assert len(before) == wh.count()


def test_warehouse_built_before_retention_keeps_counting_once(settings: Settings) -> None:
    """A warehouse that ingested before retention neither loses nor doubles events after it."""
    before = _fill(settings)
    with Warehouse(settings) as wh:
        wh.ingest()
    apply_retention(settings)
    with Warehouse(settings) as wh:
        wh.ingest()
        assert len(before) == wh.count()


def test_dry_run_changes_nothing(settings: Settings) -> None:
    """--dry-run counts what would move and leaves every file as it was."""
    _fill(settings)
    content = settings.log_path.read_bytes()
    report = apply_retention(settings, dry_run=True)
    assert (content, False, 30) == (
        settings.log_path.read_bytes(),
        settings.archives_dir.exists(),
        report.archived,
    )


def test_second_run_has_nothing_to_do(settings: Settings) -> None:
    """Running retention twice archives nothing the second time."""
    _fill(settings)
    apply_retention(settings)
    again = apply_retention(settings)
    assert (0, []) == (again.archived, again.recovered)


@pytest.mark.parametrize("step", STEPS)
def test_sigkill_at_each_step_then_rerun_keeps_every_event_once(
    settings: Settings, step: str
) -> None:
    """A run SIGKILLed after any step, then run again, ends with every event exactly once."""
    before = _fill(settings)
    env = {**os.environ, CRASH_ENV: step}
    cli = shutil.which("ai-telemetry", path=str(Path(sys.executable).parent))
    assert cli is not None
    proc = subprocess.run(
        [cli, "retention", "apply"], env=env, capture_output=True, timeout=120, check=False
    )
    assert -signal.SIGKILL == proc.returncode
    assert Counter(before) == Counter(set(_all_ids(settings)))  # nothing lost, even mid-way
    apply_retention(settings)
    assert Counter(before) == _all_ids(settings)
    with Warehouse(settings) as wh:
        wh.ingest()
        assert len(before) == wh.count()


def test_events_appended_after_snapshot_survive_the_swap(settings: Settings) -> None:
    """Lines appended between staging and the swap are copied into the new log."""
    _fill(settings)
    env = {**os.environ, CRASH_ENV: "manifest"}
    cli = shutil.which("ai-telemetry", path=str(Path(sys.executable).parent))
    assert cli is not None
    subprocess.run(
        [cli, "retention", "apply"], env=env, capture_output=True, timeout=120, check=False
    )
    append_raw(settings, [event(_ts(0), 999)])
    apply_retention(settings)
    assert "e999" in ids_in_jsonl(settings.log_path)


def test_metric_history_older_than_two_years_is_pruned(settings: Settings) -> None:
    """Weekly metric rows older than two years go; newer ones stay."""
    append_raw(settings, [event(_ts(1), 1)])
    old_monday = date.fromisocalendar(NOW.year - 3, 10, 1)
    new_monday = date.fromisocalendar(NOW.year - 1, 10, 1)
    with DuckDBStore(settings) as wh:
        wh.ingest()
        record_week(wh, old_monday)
        record_week(wh, new_monday)
    report = apply_retention(settings)
    with Warehouse(settings) as wh:
        weeks = wh.con.execute("SELECT DISTINCT week_start FROM metric_history").fetchall()
    assert (report.metrics_pruned > 0, [(new_monday,)]) == (True, weeks)
