"""Per-project weekly history and ``query(project=)`` on both engines (real DuckDB, real
PostgreSQL): a project's weeks live beside the whole store's and never mix with them, and a
PostgreSQL store migrated from version 4 keeps its history as the whole store's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ai_telemetry.analyze.history import read_series, record_weeks
from ai_telemetry.config import Settings
from ai_telemetry.store.duckdb_store import DuckDBStore
from ai_telemetry.store.postgres import SCHEMA_VERSION, PostgresStore
from project_events import last_monday, two_projects


def _events(settings: Settings) -> Path:
    settings.telemetry_dir.mkdir(parents=True, exist_ok=True)
    path = settings.log_path
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in two_projects(last_monday())))
    return path


@pytest.fixture(params=["duckdb", "postgresql"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Any]:
    path = _events(settings)
    if request.param == "duckdb":
        with DuckDBStore(settings) as s:
            s.ingest()
            yield s
        return
    url = request.getfixturevalue("postgres_url")
    with PostgresStore(url, settings=settings, check=False) as s:
        s.migrate()
    with PostgresStore(url, settings=settings) as s:
        s.ingest_jsonl(path)
        yield s


def test_each_project_has_its_own_weeks(store: Any) -> None:
    """alpha: tdd 2 then 3; beta: 0 then 5; the whole store: 2 then 8, all from one store."""
    now = last_monday() + timedelta(days=8)
    for project in (None, "alpha", "beta"):
        assert len(record_weeks(store, 2, now=now, refresh=False, project=project)) == 2
    series = {
        p: [
            v
            for _, v in read_series(
                store, "skill_invocation_total", key="tdd", weeks=2, now=now, project=p
            )
        ]
        for p in (None, "alpha", "beta")
    }
    assert series == {None: [2.0, 8.0], "alpha": [2.0, 3.0], "beta": [None, 5.0]}
    monday = last_monday().date()
    assert set(store.weeks(project="alpha")) == {monday - timedelta(days=7), monday}
    assert store.weeks(project="nobody") == {}
    # nothing new: no week of any scope is recomputed
    assert record_weeks(store, 2, now=now, refresh=False, project="alpha") == []
    # pruning removes every scope's old weeks
    assert store.prune_history(before=monday) > 0
    assert set(store.weeks(project="alpha")) == {monday}
    assert set(store.weeks()) == {monday}


def test_query_sees_only_the_project(store: Any) -> None:
    """query(project=) narrows events and the documented views; without it, everything."""
    sql = "SELECT count(*) FROM skill_executions"
    assert store.query(sql)[1] == [(11,)]
    assert store.query(sql, project="alpha")[1] == [(6,)]
    assert store.query("SELECT DISTINCT project FROM events", project="beta")[1] == [("beta",)]
    assert store.query(sql)[1] == [(11,)]  # the filter does not outlive its query


def test_version_4_history_becomes_the_whole_stores(postgres_url: str, settings: Settings) -> None:
    """Rows recorded before migration 5 read as the whole store's history, none a project's."""
    assert SCHEMA_VERSION == 5
    with PostgresStore(postgres_url, settings=settings, check=False) as s:
        s.migrate(to=4)
        with s.connection() as con:
            con.execute(
                "INSERT INTO metric_history VALUES (%s, 'events_total', '', 7, 1, now())",
                [date(2026, 1, 5)],
            )
        assert s.migrate() == [5]
        assert s.weeks() == {date(2026, 1, 5): 1}
        assert s.weeks(project="alpha") == {}
        rows = s.series("events_total", weeks=(date(2026, 1, 5), date(2026, 1, 5)))
        assert [r.value for r in rows] == [7.0]
