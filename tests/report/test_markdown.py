"""The weekly Markdown dashboard: golden file on the demo data, targets, nulls, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from report_fixtures import GOLDEN, DemoWeek

from ai_telemetry.report.markdown import default_dashboard_path, render_markdown
from ai_telemetry.report.targets import TARGETS, assess
from ai_telemetry.report.weekly import build_report

ALERT = {
    "severity": "critical",
    "metric": "incident_repeat_rate",
    "key": None,
    "value": 1.0,
    "threshold": 0.05,
    "analysis": "3 of 3 incidents this week share root cause timezone-handling",
    "action": "META_UPDATER priority update",
    "opened": "2025-12-29T09:00:00Z",
}


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


def test_dashboard_matches_golden(demo_week: DemoWeek) -> None:
    """The demo week renders exactly as the reviewed golden file (UPDATE_GOLDEN=1 rewrites it)."""
    report = build_report(demo_week.document, history=demo_week.history, alerts=[ALERT])
    _check_golden("weekly-2025-12-29.md", render_markdown(report))


def test_dashboard_without_history_matches_golden(demo_week: DemoWeek) -> None:
    """metrics.json alone (no warehouse) still gives a full page, saying what it lacks."""
    report = build_report(demo_week.document)
    text = render_markdown(report)
    assert "not enough weekly history yet" in text
    _check_golden("weekly-2025-12-29-no-history.md", text)


def test_seed_sections_present(demo_week: DemoWeek) -> None:
    """The seed's example sections and phrases appear with the demo's numbers."""
    text = render_markdown(build_report(demo_week.document, history=demo_week.history))
    invocations = demo_week.document["metrics"]["skill_invocation_total"]
    top = max(invocations, key=lambda s: invocations[s])
    assert f"1. {top}: {invocations[top]} invocations" in text
    for heading in (
        "## Agent Performance Summary (Week of 2025-12-22)",
        "## Learning Velocity (last 4 weeks)",
        "## Code Quality Scorecard",
        "## Incidents and errors",
        "## Context and resources",
        "## Tokens and cost",
        "## Glossary",
    ):
        assert heading in text
    assert "learnings implemented)" in text
    assert "since 4 weeks ago" in text


def test_every_target_row_shows_its_target(demo_week: DemoWeek) -> None:
    """Each metric table row carries the seed's target text next to the value."""
    text = render_markdown(build_report(demo_week.document, history=demo_week.history))
    for metric in ("skill_success_rate", "incident_mttr_seconds.p50", "test_coverage_percent"):
        target = TARGETS[metric]
        assert f"| {target.target_text} |" in text or target.target_text in text


def test_null_metric_says_no_data() -> None:
    """A null metric reads "no data this week", never 0."""
    document = {
        "window": {"start": "2025-12-22T00:00:00Z", "end": "2025-12-29T00:00:00Z"},
        "events": {"total": 1},
        "metrics": {"test_coverage_percent": None, "incident_mttr_seconds": None},
    }
    text = render_markdown(build_report(document))
    line = next(x for x in text.splitlines() if x.startswith("| Test coverage |"))
    assert "no data this week" in line
    assert "⚪ no data" in line


def test_off_target_row_gives_the_action() -> None:
    """An off-target value is marked act and carries the seed's action."""
    assessment = assess("skill_error_rate", 0.3)
    assert assessment.status == "act"
    assert assessment.action.startswith("Investigate the skill implementation")


def test_watch_band() -> None:
    """Slightly off target is watch, well off is act, on target has no action."""
    assert assess("test_coverage_percent", 84.0).status == "watch"
    assert assess("test_coverage_percent", 79.0).status == "act"
    on = assess("test_coverage_percent", 86.0)
    assert (on.status, on.action) == ("on target", "")


def test_markdown_escapes_pipes_in_names() -> None:
    """A skill name with a pipe cannot break the table."""
    document = {
        "window": {"start": "2025-12-22T00:00:00Z", "end": "2025-12-29T00:00:00Z"},
        "events": {"total": 2},
        "metrics": {"skill_invocation_total": {"a|b": 2}, "skill_success_rate": {"a|b": 1.0}},
    }
    text = render_markdown(build_report(document))
    assert "| a\\|b | 2 |" in text


def test_default_path_is_window_end_date(tmp_path: Path, demo_week: DemoWeek) -> None:
    """The default file is named after the window's end date, so reruns overwrite it."""
    from ai_telemetry.analyze.window import parse_moment

    end = parse_moment(demo_week.document["window"]["end"])
    assert default_dashboard_path(tmp_path, end) == tmp_path / "weekly-2025-12-29.md"


def test_cli_writes_default_dashboard(demo_week: DemoWeek) -> None:
    """`ai-telemetry dashboard --metrics` writes dashboards/weekly-<end>.md next to it."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ai_telemetry",
            "dashboard",
            "--metrics",
            str(demo_week.metrics_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AI_TELEMETRY_DIR": str(demo_week.settings.telemetry_dir)},
    )
    assert result.returncode == 0, result.stderr
    written = demo_week.settings.dashboards_dir / "weekly-2025-12-29.md"
    assert f"wrote {written}" in result.stdout
    assert written.read_text(encoding="utf-8").startswith("# Weekly AI Infrastructure Dashboard")


def test_cli_missing_metrics_is_one_line(tmp_path: Path) -> None:
    """A missing metrics.json gives one error line and exit 1, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "dashboard", "--metrics", str(tmp_path / "m.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "run `ai-telemetry aggregate` first" in result.stderr
