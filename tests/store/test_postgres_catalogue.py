"""One catalogue, two engines: the same events give the same metrics.json on DuckDB and PostgreSQL.

Each event set is written to a log; DuckDB computes the document from its warehouse, the
PostgreSQL store computes it from the same events loaded into it (`PostgresStore.load_warehouse`:
the warehouse's rows, by COPY). Floats are compared to 1e-9 relative or one unit of the sixth
decimal place: both documents round to six places, and an average whose doubles the two engines
add in another order may differ in its 15th digit, which can move the rounded value by one unit
(seen: a skill's average duration 38.737938 on DuckDB, 38.737937 on PostgreSQL).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ai_telemetry import demo
from ai_telemetry.analyze.metrics import compute_metrics, metrics_document
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.ports import Window
from ai_telemetry.store.postgres import PostgresStore

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _settings(root: Path) -> Settings:
    return load_settings(environ={}, cwd=root, telemetry_dir=root / "Telemetry")


def _write(settings: Settings, events: list[dict[str, Any]]) -> None:
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    settings.log_path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))


def _close(expected: Any, actual: Any, where: str = "") -> None:
    if isinstance(expected, float) or isinstance(actual, float):
        assert isinstance(actual, int | float), f"{where}: {expected!r} != {actual!r}"
        assert isinstance(expected, int | float), f"{where}: {expected!r} != {actual!r}"
        assert math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1.001e-6), (
            f"{where}: {expected!r} != {actual!r}"
        )
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {expected!r} != {actual!r}"
        assert set(expected) == set(actual), f"{where}: keys {set(expected) ^ set(actual)}"
        for key in expected:
            _close(expected[key], actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: {expected!r} != {actual!r}"
        assert len(expected) == len(actual), f"{where}: {expected!r} != {actual!r}"
        for i, (a, b) in enumerate(zip(expected, actual, strict=True)):
            _close(a, b, f"{where}[{i}]")
    else:
        assert expected == actual, f"{where}: {expected!r} != {actual!r}"


def assert_same_documents(
    store: PostgresStore, settings: Settings, windows: list[Window], project: str | None = None
) -> None:
    """Load the log into the store, then compare the documents of every window."""
    store.load_warehouse(progress=False)
    for window in windows:
        duck = compute_metrics(
            window, settings=settings, project=project, allow_empty=True, progress=False, now=NOW
        )
        pg = metrics_document(store, window, project=project, allow_empty=True, now=NOW)
        _close(duck, pg, f"{window.as_dict()}")


@pytest.fixture(scope="module")
def shared_store(postgres_server: Any) -> Iterator[PostgresStore]:
    """One migrated database for the module (emptied by `fresh`)."""
    import uuid

    url = postgres_server.createdb(f"catalogue_{uuid.uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp))
        with PostgresStore(url, settings=settings, check=False) as s:
            s.migrate()
        yield PostgresStore(url, settings=settings)


def fresh(shared: PostgresStore, settings: Settings) -> PostgresStore:
    """The shared database emptied, for these settings."""
    with shared, shared.connection() as con:
        con.execute("TRUNCATE event_rows, event_ids, metric_cache, load_state")
        con.execute("UPDATE meta SET value = (value::bigint + 1)::text")
    store = PostgresStore(shared.url, settings=settings)
    store.open()
    return store


def test_demo_data_gives_the_same_documents(shared_store: PostgresStore, tmp_path: Path) -> None:
    """Twelve weeks of demo data: each week, the whole span, and one project, on both engines."""
    data = demo.generate(weeks=12, seed=7, end=NOW)
    settings = _settings(tmp_path)
    events = data.events
    # a second project, so the project filter has something to leave out
    for e in events[::5]:
        e["project"] = "other-project"
    _write(settings, events)
    weeks = [Window(NOW - timedelta(weeks=k + 1), NOW - timedelta(weeks=k)) for k in range(12)]
    store = fresh(shared_store, settings)
    try:
        assert_same_documents(store, settings, [*weeks, Window(NOW - timedelta(weeks=12), NOW)])
        assert_same_documents(store, settings, weeks[:2], project="other-project")
    finally:
        store.close()


START = datetime(2025, 12, 10, tzinfo=UTC)
SKILLS = st.sampled_from(["alpha", "beta", "gamma-skill"])
AGENTS = st.sampled_from(["implementer", "reviewer"])
SESSIONS = st.sampled_from([None, "s1", "s2", "s3"])
RUN_OUTCOMES = st.sampled_from(["started", "success", "error", "rollback", "handoff"])
DURATION = st.one_of(st.none(), st.floats(0, 5000, allow_nan=False).map(lambda x: round(x, 3)))
TOKENS = st.one_of(st.none(), st.integers(0, 50_000))


def _event_fields(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    if kind == "skill_execution":
        return st.fixed_dictionaries(
            {"skill": SKILLS, "outcome": RUN_OUTCOMES, "session_id": SESSIONS},
            optional={"duration_seconds": DURATION, "context_tokens": st.integers(0, 150_000)},
        )
    if kind == "agent_task":
        return st.fixed_dictionaries(
            {"agent": AGENTS, "outcome": RUN_OUTCOMES, "session_id": SESSIONS},
            optional={
                "duration_seconds": DURATION,
                "tool_calls": st.integers(0, 80),
                "task_id": st.sampled_from(["t1", "t2", "t3"]),
            },
        )
    if kind == "tool_call":
        return st.fixed_dictionaries(
            {"tool": st.sampled_from(["Read", "Edit", "mcp__db__query"])},
            optional={
                "outcome": st.sampled_from(["success", "error"]),
                "duration_seconds": DURATION,
                "task_id": st.sampled_from(["t1", "t2"]),
                "mcp_server": st.just("db"),
                "session_id": SESSIONS,
            },
        )
    if kind == "llm_request":
        return st.fixed_dictionaries(
            {"model": st.sampled_from(["opus", "haiku"])},
            optional={
                "input_tokens": TOKENS,
                "output_tokens": TOKENS,
                "cache_read_input_tokens": TOKENS,
                "cache_creation_input_tokens": TOKENS,
                "cost_usd": st.floats(0, 3, allow_nan=False).map(lambda x: round(x, 4)),
                "request_id": st.sampled_from(["r1", "r2", "r3", "r4"]),
                "skill": SKILLS,
                "agent": AGENTS,
            },
        )
    if kind == "context_snapshot":
        return st.fixed_dictionaries(
            {"context_tokens": st.integers(0, 200_000)},
            optional={"model": st.sampled_from(["opus", "haiku"]), "session_id": SESSIONS},
        )
    if kind in ("session_start", "session_end"):
        extra = {"duration_seconds": DURATION} if kind == "session_end" else {}
        return st.fixed_dictionaries(
            {"session_id": st.sampled_from(["s1", "s2", "s3"])}, optional=extra
        )
    if kind == "learning_created":
        return st.fixed_dictionaries(
            {"id": st.sampled_from(["L1", "L2", "L3"]), "title": st.just("a lesson")},
            optional={
                "severity": st.sampled_from(["low", "high"]),
                "source": st.sampled_from(["review", "incident"]),
            },
        )
    if kind == "learning_implemented":
        return st.fixed_dictionaries({"id": st.sampled_from(["L1", "L2", "L3"])})
    if kind == "incident_opened":
        return st.fixed_dictionaries(
            {"incident_id": st.sampled_from(["I1", "I2", "I3"])},
            optional={
                "severity": st.sampled_from(["sev1", "sev2"]),
                "root_cause": st.sampled_from(["tz", "cache"]),
            },
        )
    if kind == "incident_resolved":
        return st.fixed_dictionaries({"incident_id": st.sampled_from(["I1", "I2", "I3"])})
    if kind == "test_coverage":
        return st.fixed_dictionaries(
            {"coverage_percent": st.floats(0, 100).map(lambda x: round(x, 2))}
        )
    if kind in ("test_run", "ci_build"):
        return st.fixed_dictionaries({"outcome": st.sampled_from(["passed", "failed"])})
    if kind == "skill_load":
        return st.fixed_dictionaries({"skill": SKILLS, "duration_seconds": st.floats(0, 10)})
    if kind == "tool_call_limit_reached":
        return st.fixed_dictionaries(
            {"limit": st.integers(1, 100), "tool_calls": st.integers(1, 200)}
        )
    raise AssertionError(kind)


KINDS = [
    "skill_execution",
    "agent_task",
    "tool_call",
    "llm_request",
    "context_snapshot",
    "session_start",
    "session_end",
    "learning_created",
    "learning_implemented",
    "incident_opened",
    "incident_resolved",
    "test_coverage",
    "test_run",
    "ci_build",
    "skill_load",
    "tool_call_limit_reached",
]


@st.composite
def event_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=60))
    # distinct minutes over two weeks: no two events share a timestamp (ties of time in
    # `arg_min` pick any of the tied rows, on either engine)
    minutes = draw(
        st.lists(st.integers(0, 14 * 1440), min_size=len(kinds), max_size=len(kinds), unique=True)
    )
    events = []
    for n, (kind, minute) in enumerate(zip(kinds, minutes, strict=True)):
        moment = START + timedelta(minutes=minute)
        event = {
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event_type": kind,
            "event_id": f"ev-{n:04d}",
            "project": draw(st.sampled_from(["p1", "p2"])),
            **{k: v for k, v in draw(_event_fields(kind)).items() if v is not None},
        }
        events.append(event)
    return events


@hsettings(
    max_examples=12,
    # no shrinking: a failing set is printed whole, and shrinking one took minutes
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    report_multiple_bugs=False,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(events=event_sets())
def test_generated_events_give_the_same_documents(
    shared_store: PostgresStore, events: list[dict[str, Any]]
) -> None:
    """Generated event sets of every type the catalogue reads: equal documents per window."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp))
        _write(settings, events)
        store = fresh(shared_store, settings)
        try:
            windows = [
                Window(START, START + timedelta(days=7)),
                Window(START + timedelta(days=7), START + timedelta(days=14)),
                Window(START - timedelta(days=1), START + timedelta(days=15)),
            ]
            assert_same_documents(store, settings, windows)
            assert_same_documents(store, settings, windows[:1], project="p1")
        finally:
            store.close()
