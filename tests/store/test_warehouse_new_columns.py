"""A field added to the event contract after a warehouse file was made becomes a column."""

from __future__ import annotations

import duckdb
from store_test_helpers import append_raw

from ai_telemetry.config import Settings
from ai_telemetry.store.warehouse import Warehouse


def test_an_older_warehouse_gains_the_new_column(settings: Settings) -> None:
    """cache_creation_1h_input_tokens (issue 13) is added to a file made without it."""
    append_raw(settings, [{"timestamp": "2026-03-01T10:00:00Z", "event_type": "tool_call"}])
    with Warehouse(settings) as wh:
        wh.ingest()
    con = duckdb.connect(str(settings.telemetry_dir / "warehouse.duckdb"))
    con.execute("DROP VIEW IF EXISTS llm_requests")
    con.execute('ALTER TABLE events DROP COLUMN "cache_creation_1h_input_tokens"')
    con.close()
    append_raw(
        settings,
        [
            {
                "timestamp": "2026-03-01T10:00:01Z",
                "event_type": "llm_request",
                "event_id": "r1",
                "cache_creation_input_tokens": 30,
                "cache_creation_1h_input_tokens": 20,
            }
        ],
    )
    with Warehouse(settings) as wh:
        wh.ingest()
        rows = wh.con.execute(
            "SELECT cache_creation_1h_input_tokens FROM llm_requests WHERE event_id = 'r1'"
        ).fetchall()
    assert [(20.0,)] == rows
