"""``--project`` on ``top`` and ``trend`` (and ``?project=`` on their API routes): only that
project's events count (issue 16 §5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from project_events import _events, _last_monday

CLI = str(Path(sys.executable).with_name("ai-telemetry"))


def _run(*args: str, cwd: Path) -> Any:
    done = subprocess.run(
        [CLI, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_top_and_trend_count_only_the_project(tmp_path: Path, telemetry_dir: Path) -> None:
    """top skills --project alpha: tdd 3, review 1; beta: tdd 5; trend by project per week."""
    monday = _last_monday()
    log = telemetry_dir / "events.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in _events(monday)))
    days = str((datetime.now(UTC) - monday).days + 1)
    alpha = _run("top", "skills", "--days", days, "--project", "alpha", "--json", cwd=tmp_path)
    assert [(r["name"], r["count"]) for r in alpha["rows"]] == [("tdd", 3), ("review", 1)]
    assert alpha["project"] == "alpha"
    beta = _run("top", "skills", "--days", days, "--project", "beta", "--json", cwd=tmp_path)
    assert [(r["name"], r["count"]) for r in beta["rows"]] == [("tdd", 5)]
    everyone = _run("top", "skills", "--days", days, "--json", cwd=tmp_path)
    assert [(r["name"], r["count"]) for r in everyone["rows"]] == [("tdd", 8), ("review", 1)]
    assert everyone["project"] is None
    args = ("trend", "skill_invocation_total", "--key", "tdd", "--weeks", "2", "--json")
    trend = _run(*args, "--project", "alpha", cwd=tmp_path)
    assert [w["value"] for w in trend["weeks"]] == [2.0, 3.0]
    assert trend["project"] == "alpha"
    assert [w["value"] for w in _run(*args, cwd=tmp_path)["weeks"]] == [2.0, 8.0]
