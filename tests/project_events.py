"""Events of two projects over two weeks, shared by the --project tests of the CLI and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson


def two_projects(monday: datetime) -> list[dict[str, Any]]:
    """Last complete week: alpha runs `tdd` 3 times and `review` once, beta runs `tdd` 5
    times; the week before, alpha runs `tdd` twice."""
    out: list[dict[str, Any]] = []
    plan = [(monday, "alpha", "tdd", 3), (monday, "alpha", "review", 1), (monday, "beta", "tdd", 5)]
    plan.append((monday - timedelta(days=7), "alpha", "tdd", 2))
    for day, project, skill, n in plan:
        for i in range(n):
            ts = day + timedelta(hours=10, minutes=i)
            out.append(
                {
                    "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "event_type": "skill_execution",
                    "skill": skill,
                    "outcome": "success",
                    "duration_seconds": 10.0,
                    "project": project,
                }
            )
    return out


def last_monday() -> datetime:
    """The Monday of the last complete ISO week (UTC)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7)


def days_back(monday: datetime) -> int:
    """A ``--days`` / ``?days=`` reaching back to ``monday``."""
    return (datetime.now(UTC) - monday).days + 1


def write_log(path: Path, events: list[dict[str, Any]]) -> None:
    """``events`` as the JSON Lines log at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
