"""Finished skill runs with the task they served (``folders``, ``task_kind``): the rows the skill
recommender (`ai_telemetry.analyze.recommend`) ranks skills from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SkillRun:
    """One terminal ``skill_execution`` event that recorded its task's folders."""

    skill: str
    ts: datetime
    """Naive UTC, as the warehouse keeps it."""
    outcome: str
    duration_seconds: float | None
    folders: tuple[str, ...]
    task_kind: str | None


def skill_runs_with_folders(
    con: Any, *, until: datetime | None = None, since: datetime | None = None
) -> list[SkillRun]:
    """Terminal skill runs with ``folders``, oldest first, in ``[since, until)`` (naive UTC).

    Args:
        con: an open warehouse connection (``Warehouse.con``), ingested.
        until: only runs before this moment (None: all).
        since: only runs from this moment (None: all).
    """
    rows = con.execute(
        "SELECT skill, ts, outcome, duration_seconds, folders, task_kind FROM events "
        "WHERE event_type = 'skill_execution' AND skill IS NOT NULL AND folders IS NOT NULL "
        "AND outcome IN ('success', 'error', 'rollback', 'handoff') "
        "AND (? IS NULL OR ts < ?) AND (? IS NULL OR ts >= ?) ORDER BY ts, event_id",
        [until, until, since, since],
    ).fetchall()
    return [
        SkillRun(
            skill=str(skill),
            ts=ts,
            outcome=str(outcome),
            duration_seconds=float(duration) if duration is not None else None,
            folders=tuple(f for f in str(folders).split(",") if f),
            task_kind=str(kind) if kind else None,
        )
        for skill, ts, outcome, duration, folders, kind in rows
    ]


__all__ = ["SkillRun", "skill_runs_with_folders"]
