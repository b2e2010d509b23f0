"""A command that adds a few events leaves them in DuckDB's WAL instead of a checkpoint at close.

Each step is a separate `ai-telemetry` process, as users run them: the next process (a writing
one, or the read-only connection of `query`) replays the WAL, and every event counts once. A
first build is checkpointed into the file; a warehouse file deleted with its WAL left beside
it is rebuilt from the log without replaying that WAL into the new file.
"""

from __future__ import annotations

import json
import subprocess
import sys

from store_test_helpers import append_raw, event

from ai_telemetry.config import Settings
from ai_telemetry.store.warehouse import Warehouse


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
