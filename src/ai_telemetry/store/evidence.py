"""Evidence rows for proposals (issue 19 §5): recent errors of a skill, agent or tool by type."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def errors_by_type(
    con: Any, name: str, *, since: datetime, until: datetime
) -> list[tuple[str, int]]:
    """``(error_type, count)`` of the error events naming ``name`` as skill, agent or tool in
    ``[since, until)`` (naive UTC), most frequent first. Errors without a type count as
    ``unknown``."""
    rows = con.execute(
        "SELECT coalesce(error_type, 'unknown') AS kind, count(*) AS n FROM events "
        "WHERE event_type IN ('skill_execution', 'agent_task', 'tool_call') "
        "AND outcome = 'error' AND (skill = ? OR agent = ? OR tool = ?) "
        "AND ts >= ? AND ts < ? GROUP BY kind ORDER BY n DESC, kind",
        [name, name, name, since, until],
    ).fetchall()
    return [(str(kind), int(n)) for kind, n in rows]


__all__ = ["errors_by_type"]
