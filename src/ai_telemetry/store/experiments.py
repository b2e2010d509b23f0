"""The runs skill experiments compare: finished skill executions that carry a skill_version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ai_telemetry.analyze.sequential import VersionRun
    from ai_telemetry.store.warehouse import Warehouse


def skill_version_runs(wh: Warehouse, *, before: datetime) -> list[VersionRun]:
    """Every finished run with a ``skill_version`` before ``before``, oldest first.

    Finished: outcome success, error, rollback or handoff (the terminal ``skill_execution``).
    """
    stop = before.astimezone(UTC).replace(tzinfo=None)
    rows = wh.con.execute(
        "SELECT skill, skill_version, ts, outcome, duration_seconds, context_tokens FROM events "
        "WHERE event_type = 'skill_execution' AND skill IS NOT NULL AND skill_version IS NOT NULL "
        "AND outcome IN ('success', 'error', 'rollback', 'handoff') AND ts < ? "
        "ORDER BY ts, event_id",
        [stop],
    ).fetchall()
    return [
        (
            str(skill),
            str(version),
            ts,
            str(outcome),
            None if duration is None else float(duration),
            None if tokens is None else float(tokens),
        )
        for skill, version, ts, outcome, duration, tokens in rows
    ]
