"""A command that adds a few events leaves them in DuckDB's WAL instead of a checkpoint at close.

Each step is a separate `ai-telemetry` process, as users run them: the next process (a writing
one, or the read-only connection of `query`) replays the WAL, and every event counts once. A
first build is checkpointed into the file; a warehouse file deleted with its WAL left beside
it is rebuilt from the log without replaying that WAL into the new file. A WAL grown large is
checkpointed by a background child after the command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from store_test_helpers import append_raw, event

from ai_telemetry.config import Settings
from ai_telemetry.store import checkpoint
from ai_telemetry.store.warehouse import Warehouse, take_lock


def _count(settings: Settings) -> int:
    """The events the warehouse holds, through `ai-telemetry query` in its own process."""
    sql = "SELECT count(*) AS n FROM events"
    proc = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "query", sql, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(json.loads(proc.stdout)[0]["n"])


def test_small_ingests_stay_in_the_wal_and_count_once(settings: Settings) -> None:
    wal = settings.telemetry_dir / "warehouse.duckdb.wal"
    append_raw(settings, [event(f"2026-03-02T10:00:0{n}Z", n) for n in range(3)])
    assert (_count(settings), wal.exists()) == (3, False)  # a first build: checkpointed

    append_raw(settings, [event("2026-03-02T11:00:00Z", 3), event("2026-03-02T11:00:01Z", 4)])
    assert (_count(settings), wal.exists()) == (5, True)

    append_raw(settings, [event("2026-03-02T12:00:00Z", 5), event("2026-03-02T12:00:01Z", 1)])
    assert _count(settings) == 6  # e1 again: replaced, not doubled
    with Warehouse(settings) as wh:  # and in this process, after the others' WALs
        assert wh.con.execute("SELECT count(*) FROM events").fetchone() == (6,)


def test_deleted_file_with_its_wal_left_is_rebuilt(settings: Settings) -> None:
    wal = settings.telemetry_dir / "warehouse.duckdb.wal"
    append_raw(settings, [event("2026-03-02T10:00:00Z", 0)])
    _count(settings)
    append_raw(settings, [event("2026-03-02T11:00:00Z", 1)])
    _count(settings)
    assert wal.exists()
    (settings.telemetry_dir / "warehouse.duckdb").unlink()
    append_raw(settings, [event("2026-03-02T12:00:00Z", 2)])
    assert _count(settings) == 3


def test_large_wal_is_checkpointed_by_a_background_child(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `WAL_BACKGROUND_BYTES` at close, a detached child (a real process) takes the lock
    over and moves the WAL into the file; the events are all there after it."""
    append_raw(settings, [event("2026-03-02T10:00:00Z", 0)])
    _count(settings)  # the first build, checkpointed in the foreground
    monkeypatch.setattr(checkpoint, "WAL_BACKGROUND_BYTES", 1)
    append_raw(settings, [event(f"2026-03-02T11:00:{n:02d}Z", n) for n in range(1, 40)])
    path = settings.telemetry_dir / "warehouse.duckdb"
    with Warehouse(settings) as wh:
        wh.ingest()
        assert checkpoint.wal_bytes(path) > 1
    fd = take_lock(path, timeout=60)  # the child holds the lock until it is done
    os.close(fd)
    assert checkpoint.wal_bytes(path) == 0
    assert _count(settings) == 40


def test_failed_background_checkpoint_loses_nothing(tmp_path: Path) -> None:
    """The child's checkpoint of a file DuckDB cannot open answers 1 and releases the lock."""
    path = tmp_path / "warehouse.duckdb"
    path.write_text("not a database\n")
    fd = take_lock(path, timeout=5)
    assert checkpoint.main(["--lock-fd", str(fd), str(path)]) == 1
    again = take_lock(path, timeout=0)  # free: the child's copy of the lock is closed
    os.close(again)
    assert path.read_text() == "not a database\n"
