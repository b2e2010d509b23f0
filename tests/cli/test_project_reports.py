"""``--project`` on ``status``, ``dashboard``, ``detect``, ``weekly`` and ``query`` (issue 16 §5):
each reads that project's metrics, its own weekly history and its own alerts, and a project's
detect run leaves the other scopes' alerts alone. Real subprocesses of the installed command."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from project_events import last_monday, write_log
from project_events import run_cli as _run


def _runs(day: datetime, project: str, n: int, outcome: str) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": (day + timedelta(hours=9, minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event_type": "skill_execution",
            "skill": "tdd",
            "outcome": outcome,
            "duration_seconds": 10.0,
            "project": project,
        }
        for i in range(n)
    ]


def _world(telemetry_dir: Path) -> datetime:
    """Last complete week: alpha's 12 tdd runs all fail, beta's 12 succeed; the week before,
    alpha ran tdd twice (successfully)."""
    monday = last_monday()
    events = _runs(monday, "alpha", 12, "error") + _runs(monday, "beta", 12, "success")
    events += _runs(monday - timedelta(days=7), "alpha", 2, "success")
    write_log(telemetry_dir / "events.jsonl", sorted(events, key=lambda e: e["timestamp"]))
    return monday


def _spikes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in doc["alerts"] if a["rule"] == "skill_error_spike"]


def test_detect_status_and_dashboard_of_one_project(tmp_path: Path, telemetry_dir: Path) -> None:
    monday = _world(telemetry_dir)
    metrics = tmp_path / "week.json"
    start, end = monday.date().isoformat(), (monday + timedelta(days=7)).date().isoformat()
    _run(
        "aggregate",
        "--start",
        start,
        "--end",
        end,
        "--output",
        str(metrics),
        "--json",
        cwd=tmp_path,
    )

    whole = _run("detect", "--metrics", str(metrics), "--no-notify", "--json", cwd=tmp_path)
    assert [(a["key"], a["project"]) for a in _spikes(whole)] == [("tdd", None)]

    beta = _run(
        "detect", "--metrics", str(metrics), "--project", "beta", "--no-notify", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert _spikes(beta) == []  # beta's tdd runs all succeeded
    assert all(a["project"] == "beta" for a in beta["alerts"])
    assert beta["resolved"] == []  # the whole store's spike is not beta's to resolve

    alpha = _run(
        "detect", "--metrics", str(metrics), "--project", "alpha", "--no-notify", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    [spike] = _spikes(alpha)
    assert (spike["project"], spike["id"]) == (
        "alpha",
        "skill_error_spike|skill_error_rate|tdd|alpha",
    )
    assert spike["value"] == 1.0  # alpha's own rate, not the whole store's 0.5

    status = _run("status", "--metrics", str(metrics), "--project", "alpha", "--json", cwd=tmp_path)
    assert (status["project"], status["events_total"]) == ("alpha", 12)
    assert {a["project"] for a in status["alerts"]} == {"alpha"}
    assert "skill_error_spike|skill_error_rate|tdd|alpha" in {a["id"] for a in status["alerts"]}
    [events] = [t for t in status["trends"] if t["metric"] == "events_total"]
    assert [w["value"] for w in events["weeks"]][-2:] == [2.0, 12.0]  # alpha's own history

    nobody = _run("status", "--metrics", str(metrics), "--project", "nobody", "--json",
                  cwd=tmp_path)  # fmt: skip
    assert (nobody["events_total"], nobody["overall"]) == (0, "no data")  # not "on target"
    everyone = _run("status", "--metrics", str(metrics), "--json", cwd=tmp_path)
    assert (everyone["project"], everyone["events_total"]) == (None, 24)
    assert {None, "alpha"} <= {a["project"] for a in everyone["alerts"]}  # every scope's
    [events] = [t for t in everyone["trends"] if t["metric"] == "events_total"]
    assert [w["value"] for w in events["weeks"]][-2:] == [2.0, 24.0]

    _run("dashboard", "--metrics", str(metrics), cwd=tmp_path, as_json=False)
    team = (telemetry_dir / "dashboards" / f"weekly-{end}.md").read_text(encoding="utf-8")
    assert "## Projects" in team  # two projects this week: the cross-project overview
    assert "| alpha | 12 | 0.0% |" in team and "| beta | 12 | 100.0% |" in team
    said = _run("dashboard", "--metrics", str(metrics), "--project", "alpha", cwd=tmp_path,
                as_json=False)  # fmt: skip
    page = telemetry_dir / "dashboards" / f"weekly-{end}-alpha.md"
    assert str(page) in said
    text = page.read_text(encoding="utf-8")
    assert "**Project:** alpha" in text
    assert "## Projects" not in text


def test_query_and_weekly_of_one_project(tmp_path: Path, telemetry_dir: Path) -> None:
    _world(telemetry_dir)
    sql = "SELECT count(*) AS n FROM skill_executions"
    for project, n in (("alpha", 14), ("beta", 12), (None, 26)):
        scope = ("--project", project) if project else ()
        doc = _run("query", sql, *scope, "--json", cwd=tmp_path)
        assert doc["rows"] == [[n]], project
    doc = _run("query", "SELECT DISTINCT project FROM events", "--project", "beta", "--json",
               cwd=tmp_path)  # fmt: skip
    assert doc["rows"] == [["beta"]]

    said = _run("weekly", "--project", "alpha", "--no-retention", cwd=tmp_path, as_json=False)
    written = json.loads((telemetry_dir / "metrics-alpha.json").read_text(encoding="utf-8"))
    assert written["project"] == "alpha"
    assert not (telemetry_dir / "metrics.json").exists()  # the whole store's file is not touched
    assert list((telemetry_dir / "dashboards").glob("weekly-*-alpha.md"))
    assert "the whole store's step" in said  # push and retention skipped


def test_usage_of_one_project(tmp_path: Path, telemetry_dir: Path) -> None:
    """usage daily / blocks --project: only that project's LLM responses count."""
    requests = [
        {
            "timestamp": f"2026-11-0{2 + i}T10:00:00Z",
            "event_type": "llm_request",
            "model": "claude-sonnet-4-5-20250929",
            "input_tokens": tokens,
            "output_tokens": 10,
            "request_id": f"req_{i}",
            "project": project,
        }
        for i, (project, tokens) in enumerate((("alpha", 100), ("beta", 2000), ("alpha", 300)))
    ]
    write_log(telemetry_dir / "events.jsonl", requests)
    days = ("--since", "2026-11-01", "--until", "2026-11-30", "--json")
    for project, inputs, count in (("alpha", 400, 2), ("beta", 2000, 1), (None, 2400, 3)):
        scope = ("--project", project) if project else ()
        daily = _run("usage", "daily", *days, *scope, cwd=tmp_path)
        assert daily["project"] == project
        assert (daily["totals"]["input_tokens"], daily["totals"]["requests"]) == (inputs, count)
        blocks = _run("usage", "blocks", *days, *scope, cwd=tmp_path)
        assert blocks["totals"]["input_tokens"] == inputs


def test_gate_of_one_project(tmp_path: Path, telemetry_dir: Path) -> None:
    """A critical alert of project beta closes beta's gate and the whole gate, not alpha's."""
    from ai_telemetry.alert.model import Alert
    from ai_telemetry.alert.store import record_alerts
    from ai_telemetry.config import load_settings

    critical = Alert(
        rule="tool_call_loop", title="Tool Call Loop", severity="critical",
        metric="agent_tool_call_count.max", key="implementer", value=64, threshold=50,
        current="64", threshold_text="> 50", analysis="64 calls", action="Kill switch",
        project="beta",
    )  # fmt: skip
    record_alerts(load_settings(), [critical], project="beta")
    exits = {"alpha": 0, "beta": 1, None: 1}
    docs = {
        scope: _run(
            "gate", "--json", *(("--project", scope) if scope else ()), cwd=tmp_path, code=code
        )
        for scope, code in exits.items()
    }
    assert (docs["alpha"]["blocking"], docs["beta"]["blocking"][0]["project"]) == ([], "beta")


def test_recommend_from_one_project(tmp_path: Path, telemetry_dir: Path) -> None:
    """recommend --project ranks from that project's runs: on src/api alpha succeeds with tdd,
    beta with review."""
    runs = []
    for project, good, bad in (("alpha", "tdd", "review"), ("beta", "review", "tdd")):
        for i in range(8):
            for skill, outcome in ((good, "success"), (bad, "error")):
                runs.append(
                    {
                        "timestamp": f"2026-11-{1 + i:02d}T10:00:00Z",
                        "event_type": "skill_execution",
                        "skill": skill,
                        "outcome": outcome,
                        "folders": "src/api",
                        "project": project,
                    }
                )
    write_log(telemetry_dir / "events.jsonl", sorted(runs, key=lambda e: e["timestamp"]))
    for project, best in (("alpha", "tdd"), ("beta", "review")):
        doc = _run("recommend", "--paths", "src/api", "--project", project, "--json", cwd=tmp_path)
        assert (doc["project"], doc["recommended"], doc["similar_runs"]) == (project, best, 16)
    assert _run("recommend", "--paths", "src/api", "--json", cwd=tmp_path)["similar_runs"] == 32
