"""Skill experiments open by themselves from skill_version and show their sequential verdict."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from report_fixtures import WINDOW_END, DemoWeek

from ai_telemetry.alert.detect import experiment_alerts
from ai_telemetry.analyze.sequential import VersionRun, skill_experiments
from ai_telemetry.report.markdown import render_markdown
from ai_telemetry.report.status import status_document
from ai_telemetry.report.weekly import build_report, load_experiments


def _runs(version: str, n: int, seconds: float, start: datetime, seed: int) -> list[VersionRun]:
    rng = random.Random(seed)
    return [
        (
            "triage",
            version,
            start + timedelta(hours=i),
            "success" if rng.random() < 0.9 else "error",
            seconds * math.exp(rng.gauss(0, 0.4)),
            12_000.0,
        )
        for i in range(n)
    ]


def test_a_new_version_opens_an_experiment() -> None:
    """Runs of v1, then v2: one experiment, v2 against v1, opened at v2's first run."""
    start = datetime(2025, 11, 1, tzinfo=UTC)
    runs = _runs("v1", 80, 100.0, start, 1) + _runs("v2", 80, 100.0, start + timedelta(days=9), 2)
    [experiment] = skill_experiments(runs)
    assert (experiment.skill, experiment.previous, experiment.new) == ("triage", "v1", "v2")
    assert experiment.opened == start + timedelta(days=9)
    assert (experiment.previous_runs, experiment.new_runs) == (80, 80)


def test_a_slower_update_is_worse_and_proposes_a_rollback() -> None:
    """v2 50% slower: verdict worse, and a warning alert proposing to roll back to v1."""
    start = datetime(2025, 11, 1, tzinfo=UTC)
    runs = _runs("v1", 80, 100.0, start, 1) + _runs("v2", 80, 150.0, start + timedelta(days=9), 2)
    [experiment] = skill_experiments(runs)
    assert experiment.result.verdict == "worse"
    [alert] = experiment_alerts([experiment])
    assert (alert.rule, alert.severity, alert.key) == ("skill_update_worse", "warning", "triage")
    assert alert.action.startswith("Roll triage back to v1")


def test_demo_experiments_show_in_status_json_and_the_dashboard(demo_week: DemoWeek) -> None:
    """The demo's skills carry v1/v2: status --json and the dashboard list the experiments."""
    experiments = load_experiments(demo_week.settings, now=WINDOW_END)
    assert experiments
    report = build_report(demo_week.document, history=demo_week.history, experiments=experiments)
    document = status_document(report)
    verdicts = {e["verdict"] for e in document["experiments"]}
    assert verdicts <= {"better", "worse", "no difference yet"}
    first = document["experiments"][0]
    assert first["summary"].startswith(f"{first['skill']} {first['new']} vs {first['previous']}")
    assert {m["name"] for m in first["sequential"]["metrics"]} == {
        "success_rate",
        "duration",
        "rollback_rate",
        "tokens",
    }
    text = render_markdown(report)
    assert "## Skill experiments" in text
    assert first["summary"].split(":")[0] in text
