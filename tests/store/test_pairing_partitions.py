"""Pairing only the sessions active in a window gives the window's executions unchanged.

`catalogue_sql.runs_sql` pairs the (name, session) partitions that have an event in the
window, over the events of the window and the margin around it. Given the margin itself as the
window, every partition is active: that is the pairing of all the margin's events, the
reference. Real DuckDB, random events around the window's edges (sessions that start before
it, end after it, never end, or have no session id).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_telemetry.store.catalogue_sql import PAIRING_MARGIN, runs_sql

LO = datetime(2026, 3, 2)
HI = LO + timedelta(days=7)
_OUTCOMES = ("started", "success", "error", "rollback", "handoff", "cancelled")

_event = st.tuples(
    st.sampled_from(("skill_execution", "agent_task")),
    st.sampled_from(("a", "b", None)),  # the skill or agent
    st.sampled_from(("s1", "s2", "s3", None)),  # the session
    st.integers(-40 * 24, 40 * 24),  # hours from the window's start, margin included
    st.sampled_from(_OUTCOMES),
    st.sampled_from((None, 1.5, 30.0)),  # duration
    st.sampled_from((None, 3)),  # tool calls
)


def _executions(
    con: duckdb.DuckDBPyConnection, event_type: str, window: tuple[datetime, datetime]
) -> list[tuple[Any, ...]]:
    key = "skill" if event_type == "skill_execution" else "agent"
    params = [*window, LO - PAIRING_MARGIN, HI + PAIRING_MARGIN]
    rows = con.execute(
        f"SELECT * FROM ({runs_sql(event_type, key)}) WHERE anchor_ts >= ? AND anchor_ts < ?",
        [*params, LO, HI],
    ).fetchall()
    return sorted(rows, key=repr)


@settings(max_examples=150, deadline=None)
@given(st.lists(_event, max_size=60))
def test_active_sessions_pair_as_all_sessions(events: list[tuple[Any, ...]]) -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ev (event_type VARCHAR, skill VARCHAR, agent VARCHAR, session_id VARCHAR,"
        " ts TIMESTAMP, outcome VARCHAR, duration_seconds DOUBLE, tool_calls BIGINT,"
        " task_id VARCHAR)"
    )
    for i, (kind, name, session, hours, outcome, duration, calls) in enumerate(events):
        con.execute(
            "INSERT INTO ev VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                kind,
                name if kind == "skill_execution" else None,
                name if kind == "agent_task" else None,
                session,
                LO + timedelta(hours=hours),
                outcome,
                duration,
                calls,
                f"t{i}" if kind == "agent_task" else None,
            ],
        )
    for event_type in ("skill_execution", "agent_task"):
        everything = _executions(con, event_type, (LO - PAIRING_MARGIN, HI + PAIRING_MARGIN))
        assert _executions(con, event_type, (LO, HI)) == everything
