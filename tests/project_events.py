"""Events of two projects over two weeks, and the command runner, shared by the --project tests
of the CLI and the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

CLI = str(Path(sys.executable).with_name("ai-telemetry"))
"""The installed command of this venv (run as a user runs it: a subprocess)."""


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


def run_cli(*args: str, cwd: Path, as_json: bool = True, code: int = 0) -> Any:
    """Run ``ai-telemetry ARGS`` in ``cwd``; it must exit with ``code``. Its ``--json`` document
    (``as_json``; a failing command's is ``{"error": ...}``), else its stdout and stderr."""
    done = subprocess.run(
        [CLI, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=180,
        check=False,
    )
    assert done.returncode == code, done.stdout + done.stderr
    return json.loads(done.stdout) if as_json else done.stdout + done.stderr
