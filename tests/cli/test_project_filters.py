"""``--project`` on ``top`` and ``trend`` (and ``?project=`` on their API routes): only that
project's events count (issue 16 §5)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from project_events import days_back, last_monday, two_projects, write_log
from project_events import run_cli as _run


def test_top_and_trend_count_only_the_project(tmp_path: Path, telemetry_dir: Path) -> None:
    """top skills --project alpha: tdd 3, review 1; beta: tdd 5; trend by project per week."""
    monday = last_monday()
    write_log(telemetry_dir / "events.jsonl", two_projects(monday))
    days = str(days_back(monday))
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


def test_projects_overview_matches_each_projects_own_documents(
    tmp_path: Path, telemetry_dir: Path
) -> None:
    """projects --json: one row per project, the numbers of that project's aggregate --json."""
    monday = last_monday()
    events = two_projects(monday)
    events[0]["outcome"] = "error"  # alpha: 2 of 3 tdd runs (and 1 review) succeed
    events.append(
        {
            "timestamp": (monday + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event_type": "agent_task",
            "agent": "implementer",
            "outcome": "success",
            "project": "beta",
        }
    )
    write_log(telemetry_dir / "events.jsonl", events)
    days = str(days_back(monday))
    doc = _run("projects", "--days", days, "--json", cwd=tmp_path)
    rows = {r["project"]: r for r in doc["projects"]}
    assert set(rows) == {"alpha", "beta"}
    assert (rows["alpha"]["skill_invocations"], rows["alpha"]["skill_success_rate"]) == (4, 0.75)
    assert (rows["beta"]["skill_invocations"], rows["beta"]["skill_success_rate"]) == (5, 1.0)
    assert (rows["beta"]["agent_tasks"], rows["beta"]["agent_completion_rate"]) == (1, 1.0)
    assert rows["alpha"]["agent_completion_rate"] is None
    start, end = doc["window"]["start"], doc["window"]["end"]
    for name, row in rows.items():
        target = tmp_path / f"{name}.json"
        args = ("--start", start, "--end", end, "--project", name, "--output", str(target))
        _run("aggregate", *args, "--json", cwd=tmp_path)
        own = json.loads(target.read_text())
        assert row["events"] == own["events"]["total"]
        assert row["skill_invocations"] == sum(own["metrics"]["skill_invocation_total"].values())
    assert doc["events_without_project"] == 0
    text = _run("projects", "--days", days, cwd=tmp_path, as_json=False)
    assert "alpha: 4 skill runs (75.0% success)" in text
