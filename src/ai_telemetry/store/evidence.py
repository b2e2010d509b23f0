"""The rows the reviews, the audit, the comparisons and the proposals read (issue 14 §2): the
learnings and incidents of the log, the skills seen, one skill's finished runs, recent errors by
type. One SQL text per question, in the subset DuckDB and PostgreSQL share; the few differences
go through `ai_telemetry.store.catalogue_sql.Dialect`. Both stores call these with their cursor
(the PostgreSQL store's `Session` turns ``?`` into its placeholders).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ai_telemetry.ports import Incident, LearningRow
from ai_telemetry.store.catalogue_sql import DUCKDB, TERMINALS, Dialect
from ai_telemetry.store.catalogue_sql import project_clause as _only


def learnings(
    con: Any,
    *,
    until: datetime,
    as_of: datetime,
    dialect: Dialect = DUCKDB,
    project: str | None = None,
) -> list[LearningRow]:
    """Learnings created before ``until`` (naive UTC), each with the first ``learning_created``
    event's fields, and implemented (first ``learning_implemented``) before ``as_of``; oldest
    first; of ``project`` only, when given."""
    only, param = _only(project)
    first = {
        name: dialect.arg_min(name, "ts")
        for name in ("severity", "source", "skill", "learning_type", "tags")
    }
    rows = con.execute(
        "WITH c AS (SELECT learning_id, min(ts) AS created, "
        + ", ".join(f"{expr} AS {name}" for name, expr in first.items())
        + " FROM events WHERE event_type = 'learning_created' AND learning_id IS NOT NULL "
        f"AND ts < ?{only} GROUP BY learning_id), "
        "i AS (SELECT learning_id, min(ts) AS done FROM events "
        f"WHERE event_type = 'learning_implemented' AND learning_id IS NOT NULL AND ts < ?{only} "
        "GROUP BY learning_id) "
        "SELECT c.learning_id, c.created, c.severity, c.source, c.skill, c.learning_type, "
        "c.tags, i.done FROM c LEFT JOIN i ON i.learning_id = c.learning_id "
        "ORDER BY c.created, c.learning_id",
        [until, *param, as_of, *param],
    ).fetchall()
    return [LearningRow(*r) for r in rows]


def incidents(
    con: Any, *, until: datetime, dialect: Dialect = DUCKDB, project: str | None = None
) -> list[Incident]:
    """Incidents opened before ``until`` (naive UTC), each as its first ``incident_opened``
    event tells, oldest first; of ``project`` only, when given."""
    fields = ", ".join(dialect.arg_min(n, "ts") for n in ("severity", "root_cause", "learning_id"))
    only, param = _only(project)
    rows = con.execute(
        f"SELECT incident_id, min(ts), {fields} FROM events "
        f"WHERE event_type = 'incident_opened' AND incident_id IS NOT NULL AND ts < ?{only} "
        "GROUP BY incident_id ORDER BY 2, 1",
        [until, *param],
    ).fetchall()
    return [Incident(*r) for r in rows]


def skills_seen(con: Any, *, before: datetime, project: str | None = None) -> set[str]:
    """Skills named by a ``skill_execution`` or ``skill_load`` before ``before`` (naive UTC)."""
    only, param = _only(project)
    rows = con.execute(
        "SELECT DISTINCT skill FROM events WHERE event_type IN ('skill_execution', "
        f"'skill_load') AND skill IS NOT NULL AND ts < ?{only}",
        [before, *param],
    ).fetchall()
    return {str(r[0]) for r in rows}


def skill_outcomes(
    con: Any, skill: str, *, project: str | None = None
) -> list[tuple[datetime, str | None, str, float | None, float | None]]:
    """Every finished run of ``skill``, oldest first: ts (naive UTC), skill_version, outcome,
    duration_seconds, context_tokens."""
    only, param = _only(project)
    rows = con.execute(
        "SELECT ts, skill_version, outcome, duration_seconds, context_tokens FROM events "
        f"WHERE event_type = 'skill_execution' AND skill = ? AND outcome IN {TERMINALS}{only} "
        "ORDER BY ts, event_id",
        [skill, *param],
    ).fetchall()
    return [
        (
            r[0],
            None if r[1] is None else str(r[1]),
            str(r[2]),
            None if r[3] is None else float(r[3]),
            None if r[4] is None else float(r[4]),
        )
        for r in rows
    ]


def errors_by_type(
    con: Any, name: str, *, since: datetime, until: datetime, project: str | None = None
) -> list[tuple[str, int]]:
    """``(error_type, count)`` of the error events naming ``name`` as skill, agent or tool in
    ``[since, until)`` (naive UTC), most frequent first. Errors without a type count as
    ``unknown``."""
    only, param = _only(project)
    rows = con.execute(
        "SELECT coalesce(error_type, 'unknown') AS kind, count(*) AS n FROM events "
        "WHERE event_type IN ('skill_execution', 'agent_task', 'tool_call') "
        "AND outcome = 'error' AND (skill = ? OR agent = ? OR tool = ?) "
        f"AND ts >= ? AND ts < ?{only} GROUP BY kind ORDER BY n DESC, kind",
        [name, name, name, since, until, *param],
    ).fetchall()
    return [(str(kind), int(n)) for kind, n in rows]


__all__ = ["errors_by_type", "incidents", "learnings", "skill_outcomes", "skills_seen"]
