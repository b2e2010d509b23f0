"""The PostgreSQL store on a real server: schema, migrations, partitions, batches, ids."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from ai_telemetry.analyze import metrics
from ai_telemetry.config import Settings
from ai_telemetry.store.postgres import (
    SCHEMA_VERSION,
    TYPED_COLUMNS,
    PostgresStore,
    StoreBehindError,
    partition_name,
    store_url,
)


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


def _call(n: int, ts: str, **fields: Any) -> dict[str, Any]:
    return {
        "timestamp": ts,
        "event_type": "tool_call",
        "event_id": f"e{n}",
        "tool": "Read",
        **fields,
    }


@pytest.fixture
def store(postgres_url: str, settings: Settings) -> Any:
    with PostgresStore(postgres_url, settings=settings, check=False) as s:
        s.migrate()
    with PostgresStore(postgres_url, settings=settings) as s:
        yield s


def test_unmigrated_store_says_so_in_one_line(postgres_url: str, settings: Settings) -> None:
    """Opening a store whose schema is behind fails with one line naming `store migrate`."""
    with pytest.raises(StoreBehindError) as info:
        PostgresStore(postgres_url, settings=settings).open()
    message = str(info.value)
    assert "\n" not in message
    assert "ai-telemetry store migrate" in message
    assert f"needs {SCHEMA_VERSION}" in message


def test_migrate_twice_applies_once(postgres_url: str, settings: Settings) -> None:
    """The first migrate applies every version, the second none."""
    with PostgresStore(postgres_url, settings=settings, check=False) as s:
        assert [SCHEMA_VERSION] == s.migrate()
        assert [] == s.migrate()
        assert SCHEMA_VERSION == s.schema_version()


def test_catalogue_columns_are_typed() -> None:
    """Every column the catalogue reads is a typed column of the store."""
    assert set(metrics.CATALOGUE_COLUMNS) <= set(TYPED_COLUMNS)


def test_batch_lands_in_month_partitions(store: PostgresStore, tmp_path: Path) -> None:
    """Rows of two months create both partitions and are counted once each."""
    batch = _write(
        tmp_path / "b.jsonl",
        [_call(1, "2025-01-31T23:59:59Z"), _call(2, "2025-02-01T00:00:00Z")],
    )
    report = store.ingest_jsonl(batch)
    assert 2 == report.sent
    names = [p[0] for p in store.partitions()]
    assert partition_name(date(2025, 1, 1)) in names
    assert partition_name(date(2025, 2, 1)) in names
    with store.connection() as con:
        rows = con.execute(
            "SELECT tableoid::regclass::text, event_id FROM event_rows ORDER BY event_id"
        ).fetchall()
    assert [("event_rows_y2025m01", "e1"), ("event_rows_y2025m02", "e2")] == rows


def test_retried_batch_never_doubles(store: PostgresStore, tmp_path: Path) -> None:
    """The same batch stored twice leaves each event once; the retry counts as replaced."""
    batch = _write(tmp_path / "b.jsonl", [_call(n, "2025-03-02T10:00:00Z") for n in range(50)])
    store.ingest_jsonl(batch)
    again = store.ingest_jsonl(batch)
    assert 50 == again.replaced
    assert 50 == store.count()


def test_moved_timestamp_replaces_across_partitions(store: PostgresStore, tmp_path: Path) -> None:
    """A later copy whose timestamp moved to another month replaces the stored one."""
    store.ingest_jsonl(_write(tmp_path / "a.jsonl", [_call(1, "2025-03-31T23:59:00Z")]))
    store.ingest_jsonl(
        _write(tmp_path / "b.jsonl", [_call(1, "2025-04-01T00:01:00Z", outcome="error")])
    )
    with store.connection() as con:
        rows = con.execute("SELECT event_id, ts::text, outcome FROM events").fetchall()
        ids = con.execute("SELECT event_id, ts::text FROM event_ids").fetchall()
    assert [("e1", "2025-04-01 00:01:00", "error")] == rows
    assert [("e1", "2025-04-01 00:01:00")] == ids


def test_invalid_lines_are_not_stored(store: PostgresStore, tmp_path: Path) -> None:
    """A line the contract refuses (a negative duration) is left out, the rest stored."""
    good = _call(1, "2025-03-02T10:00:00Z", duration_seconds=1.5)
    bad = _call(2, "2025-03-02T10:00:00Z", duration_seconds=-1)
    store.ingest_jsonl(_write(tmp_path / "b.jsonl", [good, bad]))
    with store.connection() as con:
        rows = con.execute("SELECT event_id, duration_seconds FROM events").fetchall()
    assert [("e1", 1.5)] == rows


def test_extra_fields_round_trip_through_jsonb(store: PostgresStore, tmp_path: Path) -> None:
    """A field outside the typed columns is stored in jsonb and read back typed by the view."""
    event = {
        "timestamp": "2025-03-02T10:00:00Z",
        "event_type": "test_run",
        "event_id": "r1",
        "outcome": "failed",
        "failed_count": 3,
        "passed_count": 40,
    }
    commit = {
        "timestamp": "2025-03-02T10:00:00Z",
        "event_type": "commit",
        "event_id": "c1",
        "commit_hash": "abcdef1",
    }
    store.ingest_jsonl(_write(tmp_path / "b.jsonl", [event, commit]))
    names, rows = store.read_only_query("SELECT outcome, failed_count, passed_count FROM test_runs")
    assert ["outcome", "failed_count", "passed_count"] == names
    assert [("failed", 3.0, 40.0)] == rows
    assert [("abcdef1",)] == store.read_only_query("SELECT commit_hash FROM commits")[1]


def test_query_cannot_write(store: PostgresStore) -> None:
    """`read_only_query` refuses a DELETE."""
    from ai_telemetry.errors import QueryRefusedError

    with pytest.raises(QueryRefusedError):
        store.read_only_query("DELETE FROM event_rows")


def test_store_url_choice() -> None:
    """duckdb (or nothing) is the default; a postgresql:// URL picks PostgreSQL; else an error."""
    from ai_telemetry.errors import ConfigError

    assert store_url(None, {}) is None
    assert store_url(None, {"AI_TELEMETRY_STORE": "duckdb"}) is None
    url = "postgresql://u@h/db"
    assert url == store_url(None, {"AI_TELEMETRY_STORE": url})
    assert url == store_url(url, {"AI_TELEMETRY_STORE": "duckdb"})
    with pytest.raises(ConfigError, match="AI_TELEMETRY_STORE"):
        store_url(None, {"AI_TELEMETRY_STORE": "mysql://x"})


def test_text_sorts_by_bytes(store: PostgresStore) -> None:
    """Text columns use the C collation, so ORDER BY agrees with DuckDB's byte order."""
    with store.connection() as con:
        row = con.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'event_rows' AND column_name = 'skill'"
        ).fetchone()
    assert row is not None
    assert "C" == row[0]
    _ = psycopg
