"""`ai-telemetry status`: fits 80 columns, shows key numbers, sparklines and alerts."""

from __future__ import annotations

import os
import subprocess
import sys

from report_fixtures import DemoWeek
from rich.console import Console

from ai_telemetry.report.status import print_status, sparkline
from ai_telemetry.report.weekly import build_report

ALERT = {
    "severity": "critical",
    "metric": "agent_tool_call_count.max",
    "key": "implementer",
    "value": 64,
    "threshold": 50,
    "analysis": "64 tool calls in one task",
    "action": "Kill switch, investigate agent logic",
    "opened": "2025-12-29T09:00:00Z",
}


def _render(demo_week: DemoWeek, alerts: list[dict[str, object]] | None = None) -> str:
    report = build_report(demo_week.document, history=demo_week.history, alerts=alerts)
    console = Console(width=80, record=True, force_terminal=True, color_system=None)
    print_status(report, console=console)
    return console.export_text()


def test_fits_80_columns(demo_week: DemoWeek) -> None:
    """No line of the status screen is wider than 80 columns."""
    text = _render(demo_week, [ALERT])
    widths = [len(line) for line in text.splitlines()]
    assert max(widths) <= 80


def test_key_numbers_appear(demo_week: DemoWeek) -> None:
    """Events, the top skill's uses and its success rate appear."""
    text = _render(demo_week)
    metrics = demo_week.document["metrics"]
    uses = metrics["skill_invocation_total"]
    top = max(uses, key=lambda s: uses[s])
    assert f"{demo_week.document['events']['total']:,} events" in text
    assert top in text
    assert f"{metrics['skill_success_rate'][top] * 100:.1f}%" in text
    assert "2025-12-22 to 2025-12-28" in text


def test_sparklines_drawn_from_history(demo_week: DemoWeek) -> None:
    """The trend table holds a 12-week sparkline of recorded events."""
    text = _render(demo_week)
    events = [v for _, v in demo_week.history[("events_total", "")]]
    assert sparkline(events) in text
    assert len(events) == 12


def test_open_alerts_listed(demo_week: DemoWeek) -> None:
    """An open alert shows its severity, metric and action."""
    text = _render(demo_week, [ALERT])
    assert "Open alerts" in text
    assert "critical" in text
    assert "implementer" in text
    assert "Kill switch" in text


def test_no_alerts_says_none(demo_week: DemoWeek) -> None:
    """Without alerts the screen says so."""
    assert "Open alerts: none." in _render(demo_week, [])


def test_sparkline_scale() -> None:
    """Lowest value is the lowest bar, highest the highest, gaps are dots, flat is mid."""
    assert sparkline([0, 7, None, 3.5]) == "▁█·▅"
    assert sparkline([2, 2]) == "▄▄"
    assert sparkline([None]) == "·"


def test_cli_status_from_metrics(demo_week: DemoWeek) -> None:
    """`ai-telemetry status --metrics` prints the screen and exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "status", "--metrics", str(demo_week.metrics_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert result.returncode == 0, result.stderr
    assert "Needs attention" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
