"""The PostgreSQL store on a real server: schema, migrations, partitions, batches, ids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ai_telemetry.config import Settings
from ai_telemetry.store import catalogue_sql
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
        assert list(range(1, SCHEMA_VERSION + 1)) == s.migrate()
        assert [] == s.migrate()
        assert SCHEMA_VERSION == s.schema_version()


def test_store_one_version_behind(postgres_url: str, settings: Settings) -> None:
    """A store at version 1 is refused in one line; `migrate` then applies the later ones only."""
    with PostgresStore(postgres_url, settings=settings, check=False) as s:
        assert [1] == s.migrate(to=1)
    with pytest.raises(
        StoreBehindError, match=f"version 1, this ai-telemetry needs {SCHEMA_VERSION}"
    ):
        PostgresStore(postgres_url, settings=settings).open()
    with PostgresStore(postgres_url, settings=settings, check=False) as s:
        assert list(range(2, SCHEMA_VERSION + 1)) == s.migrate()
    with PostgresStore(postgres_url, settings=settings) as s:
        assert SCHEMA_VERSION == s.schema_version()


def test_catalogue_columns_are_typed() -> None:
    """Every column the catalogue reads is a typed column of the store."""
    assert set(catalogue_sql.CATALOGUE_COLUMNS) <= set(TYPED_COLUMNS)


def test_batch_lands_in_month_partitions(store: PostgresStore, tmp_path: Path) -> None:
    """Rows of two months create both partitions and are counted once each."""
    batch = _write(
        tmp_path / "b.jsonl",
        [_call(1, "2025-01-31T23:59:59Z"), _call(2, "2025-02-01T00:00:00Z")],
    )
    report = store.ingest_jsonl(batch)
    assert 2 == report.sent
    names = [p[0] for p in store.partition_tables()]
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


def test_stored_id_last_in_a_batch_of_new_ones(store: PostgresStore, tmp_path: Path) -> None:
    """A batch of new ids whose last (in id order) is stored, moved to another month: the new
    ones are stored once, the stored one replaced (the plain id insert undone, then the upsert)."""
    store.ingest_jsonl(_write(tmp_path / "a.jsonl", [_call(9, "2025-03-31T23:59:00Z")]))
    batch = [_call(n, "2025-04-02T10:00:00Z") for n in range(9)]
    batch.append(_call(9, "2025-04-01T00:01:00Z", outcome="error"))
    report = store.ingest_jsonl(_write(tmp_path / "b.jsonl", batch))
    assert (10, 1) == (report.sent, report.replaced)
    with store.connection() as con:
        rows = con.execute("SELECT event_id, ts::text, outcome FROM events").fetchall()
        ids = con.execute("SELECT count(*), count(DISTINCT event_id) FROM event_ids").fetchone()
    assert 10 == len(rows) == len({r[0] for r in rows})
    assert ("e9", "2025-04-01 00:01:00", "error") in rows
    assert (10, 10) == ids


def _csv_row(event_id: str, ts: str, extra: str) -> str:
    cells = [event_id, ts, "tool_call", *[""] * (len(TYPED_COLUMNS) - 3)]
    return ",".join([*cells, '"' + extra.replace('"', '""') + '"', "1"]) + "\n"


def test_failed_batch_stores_nothing(store: PostgresStore, tmp_path: Path) -> None:
    """A batch whose last row's ``extra`` is not JSON fails whole: no row, no id, no
    generation bump (the ids were inserted before the rows failed)."""
    from ai_telemetry.errors import AnalyticsError

    csv = tmp_path / "b.csv"
    good = [_csv_row(f"e{n}", "2025-03-02 10:00:00", '{"tags": null}') for n in range(5)]
    csv.write_text("".join([*good, _csv_row("e9", "2025-03-02 10:00:00", "{not json")]))
    before = store.generation()
    with pytest.raises(AnalyticsError, match="PostgreSQL said"):
        store.copy_csv(csv)
    with store.connection() as con:
        ids = con.execute("SELECT count(*) FROM event_ids").fetchone()
    assert (0, (0,), before) == (store.count(), ids, store.generation())
    csv.write_text("".join(good))
    assert 5 == store.copy_csv(csv).sent
    assert 5 == store.count()


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
    with store.connection() as con:  # stored without the null fields
        extras = con.execute("SELECT extra FROM event_rows ORDER BY event_id").fetchall()
    assert [({"commit_hash": "abcdef1"},), ({"failed_count": 3, "passed_count": 40},)] == extras


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


def test_retention_archives_then_drops_old_partitions(store: PostgresStore, tmp_path: Path) -> None:
    """Months wholly older than 90 days go to verified Parquet and are dropped; newer stay."""
    import duckdb

    from ai_telemetry.store.pg_retention import apply_pg_retention, archive_root, read_manifest

    old = [_call(n, f"2025-01-{n + 1:02d}T10:00:00Z", duration_seconds=n + 0.5) for n in range(5)]
    old.append(
        {**_call(9, "2025-01-20T10:00:00Z"), "event_type": "commit", "commit_hash": "abc1234"}
    )
    del old[-1]["tool"]
    recent = [_call(100 + n, "2025-06-10T10:00:00Z") for n in range(3)]
    store.ingest_jsonl(_write(tmp_path / "b.jsonl", old + recent))
    now = datetime(2025, 6, 15, tzinfo=UTC)
    dry = apply_pg_retention(store, now=now, dry_run=True)
    assert 6 == dry.archived
    store.record_week(date(2023, 1, 2), [("events_total", "", 1.0)], generation=1)
    report = apply_pg_retention(store, now=now)
    assert 1 == report.metrics_pruned
    assert ["event_rows_y2025m01"] == report.partitions
    assert 6 == report.archived
    assert 3 == store.count()
    root = archive_root(store)
    (part,) = read_manifest(root)["parts"]
    assert "applied" == part["status"]
    assert 6 == part["events"]
    rows = (
        duckdb.connect()
        .execute(
            "SELECT event_id, duration_seconds, commit_hash "
            f"FROM read_parquet('{root / part['file']}') ORDER BY event_id"
        )
        .fetchall()
    )
    assert ("e0", 0.5, None) == rows[0]
    assert ("e9", None, "abc1234") == rows[-1]
    with store.connection() as con:
        ids = con.execute("SELECT count(*) FROM event_ids").fetchone()
    assert (3,) == ids
    assert "event_rows_y2025m01" not in [p[0] for p in store.partition_tables()]


def test_retention_recovers_after_a_crash(
    postgres_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Killed after the manifest step, a second run finishes: every old event once in Parquet."""
    import os
    import subprocess
    import sys

    import duckdb

    from ai_telemetry.store.pg_retention import archive_root, read_manifest

    with PostgresStore(postgres_url, settings=settings, check=False) as s:
        s.migrate()
        s.ingest_jsonl(
            _write(tmp_path / "b.jsonl", [_call(n, "2025-01-05T10:00:00Z") for n in range(20)])
        )
    script = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from ai_telemetry.config import load_settings\n"
        "from ai_telemetry.store.postgres import PostgresStore\n"
        "from ai_telemetry.store.pg_retention import apply_pg_retention\n"
        "with PostgresStore(sys.argv[1], settings=load_settings()) as s:\n"
        "    apply_pg_retention(s, now=datetime(2025, 6, 15, tzinfo=UTC))\n"
    )
    env = {**os.environ, "AI_TELEMETRY_RETENTION_CRASH_AT": "manifest"}
    crashed = subprocess.run([sys.executable, "-c", script, postgres_url], env=env, check=False)
    assert -9 == crashed.returncode
    root = archive_root(PostgresStore(postgres_url, settings=settings))
    assert ["pending"] == [p["status"] for p in read_manifest(root)["parts"]]
    env.pop("AI_TELEMETRY_RETENTION_CRASH_AT")
    subprocess.run([sys.executable, "-c", script, postgres_url], env=env, check=True)
    parts = read_manifest(root)["parts"]
    assert ["applied"] == [p["status"] for p in parts]
    files = ", ".join(f"'{root / p['file']}'" for p in parts)
    rows = (
        duckdb.connect()
        .execute(f"SELECT count(*), count(DISTINCT event_id) FROM read_parquet([{files}])")
        .fetchone()
    )
    assert (20, 20) == rows
    with PostgresStore(postgres_url, settings=settings) as s:
        assert 0 == s.count()


def test_store_migrate_command(postgres_url: str, settings: Settings) -> None:
    """`ai-telemetry store migrate --store URL` applies the schema, then finds nothing to do."""
    from click.testing import CliRunner

    from ai_telemetry.cli import cli

    first = CliRunner().invoke(cli, ["store", "migrate", "--store", postgres_url])
    assert 0 == first.exit_code, first.output
    every = ", ".join(str(v) for v in range(1, SCHEMA_VERSION + 1))
    assert f"applied migration(s) {every}; now at {SCHEMA_VERSION}" in first.output
    second = CliRunner().invoke(cli, ["store", "migrate", "--store", postgres_url])
    assert f"already at version {SCHEMA_VERSION}" in second.output


def test_the_postgres_store_is_a_store(postgres_url: str, settings: Settings) -> None:
    """`PostgresStore` has every method of the `Store` protocol (checked at run time too)."""
    from ai_telemetry.ports import Store

    assert isinstance(PostgresStore(postgres_url, settings=settings), Store)


def test_history_round_trip(store: PostgresStore) -> None:
    """record_week replaces a week; weeks, series and prune_history read and cut it."""
    from ai_telemetry.ports import HistoryRow

    monday, later = date(2025, 3, 3), date(2025, 3, 10)
    store.record_week(monday, [("skill_success_rate", "alpha", 0.5)], generation=3)
    assert 2 == store.record_week(
        monday, [("skill_success_rate", "alpha", 0.75), ("events_total", "", 9.0)], generation=4
    )
    store.record_week(later, [("events_total", "", 5.0)], generation=5)
    assert {monday: 4, later: 5} == store.weeks()
    assert [HistoryRow(monday, "skill_success_rate", "alpha", 0.75)] == store.series(
        "skill_success_rate", key="alpha", weeks=(monday, later)
    )
    assert 2 == store.prune_history(before=later)
    assert {later: 5} == store.weeks()


def test_top_and_partitions_through_the_protocol(store: PostgresStore, tmp_path: Path) -> None:
    """top ranks tools of a window; partitions counts events per month; drop_partitions drops."""
    from datetime import timedelta

    from ai_telemetry.ports import Partition, TopRow, Window

    events = [_call(n, "2025-03-02T10:00:00Z") for n in range(3)]
    events += [_call(10 + n, "2025-03-02T11:00:00Z", tool="Edit") for n in range(2)]
    events.append(_call(20, "2025-04-02T11:00:00Z", tool="Bash"))
    store.ingest_jsonl(_write(tmp_path / "b.jsonl", events))
    start = datetime(2025, 3, 1, tzinfo=UTC)
    window = Window(start, start + timedelta(days=7))
    assert [TopRow("Read", 3), TopRow("Edit", 2)] == store.top("tools", window)
    parts = {p.start: p for p in store.partitions()}
    assert Partition(date(2025, 3, 1), date(2025, 4, 1), 5) == parts[date(2025, 3, 1)]
    assert datetime(2025, 3, 2, 10) == store.first_event()
    assert 1 == store.drop_partitions(date(2025, 4, 1))  # March only
    assert 1 == store.count()


def test_task_runs_read_the_task_fields(store: PostgresStore, tmp_path: Path) -> None:
    """The recommender's rows (folders, task_kind from ``extra``) read as on DuckDB."""
    run = {
        "event_id": "r1",
        "timestamp": "2025-05-02T10:00:00Z",
        "event_type": "skill_execution",
        "skill": "tdd",
        "outcome": "success",
        "duration_seconds": 12.5,
        "folders": "src/api,tests",
        "task_kind": "test",
    }
    store.ingest_jsonl(
        _write(tmp_path / "t.jsonl", [run, {**run, "event_id": "r2", "folders": None}])
    )
    [row] = store.task_runs()
    assert ("tdd", ("src/api", "tests"), "test", 12.5) == (
        row.skill,
        row.folders,
        row.task_kind,
        row.duration_seconds,
    )
    assert [] == store.task_runs(until=datetime(2025, 5, 1))
