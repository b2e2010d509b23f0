"""``ai-telemetry status``: the week at a glance in a terminal 80 columns wide.

Rich tables of what needs attention, the top skills and the open alerts, with sparklines
(``▁▂▃▄▅▆▇█``) of the weekly history. Rendering reads no clock and no files: it takes a
`WeeklyReport` (`ai_telemetry.report.weekly.build_report`).

Every cell is a rich ``Text`` (`ai_telemetry.report.escape.rich_text`): rich parses no markup
and no emoji codes in it, and control characters in names are shown as escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ai_telemetry.report.escape import rich_text
from ai_telemetry.report.targets import TEXT_ICON, Assessment, assess, format_value
from ai_telemetry.report.weekly import WeeklyReport

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from ai_telemetry.analyze.sequential import Experiment
    from ai_telemetry.documents.types import (
        AssessmentDoc,
        ExperimentDoc,
        StatusDocument,
        StatusTrend,
        WeekValue,
    )

BARS: Final = "▁▂▃▄▅▆▇█"
STYLES: Final = {
    "on target": "green",
    "watch": "yellow",
    "act": "bold red",
    "no data": "dim",
    "info": "cyan",
}
MAX_ATTENTION: Final = 8

TRENDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("events_total", "", "Events recorded"),
    ("learning_entries_per_week", "", "New learnings"),
    ("learning_implementation_rate", "", "Learnings implemented"),
    ("test_coverage_percent", "", "Test coverage"),
    ("incident_rate", "", "Incidents"),
    ("test_failure_rate", "", "Failing builds"),
    ("context_window_utilization.p95", "", "Context use (p95)"),
    ("mcp_tool_latency_seconds.p95", "", "MCP latency (p95)"),
)
"""(metric, key, label) of the trend table, in order."""


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value on ``▁``..``█``, scaled to the values' range; a gap is ``·``.

    A flat series is drawn at mid height.
    """
    known = [v for v in values if v is not None]
    if not known:
        return "·" * len(values)
    low, high = min(known), max(known)
    span = high - low
    out = []
    for value in values:
        if value is None:
            out.append("·")
        elif span == 0:
            out.append(BARS[3])
        else:
            out.append(BARS[round((value - low) / span * (len(BARS) - 1))])
    return "".join(out)


def _mark(status: str) -> Text:
    return rich_text(f"{TEXT_ICON[status]} {status}", STYLES[status])


def _series(report: WeeklyReport, metric: str, key: str = "") -> list[float | None]:
    values = [v for _, v in report.history.get((metric, key), [])]
    if metric in ("learning_entries_per_week", "incident_rate"):
        recorded = [bool(v) for _, v in report.history.get(("events_total", ""), [])]
        values = [0.0 if v is None and r else v for v, r in zip(values, recorded, strict=False)]
    return values


def _header(report: WeeklyReport) -> RenderableType:
    from rich.text import Text

    overall = report.overall()
    text = Text.assemble(
        rich_text("AI telemetry", "bold"),
        rich_text(f" · project {report.project}" if report.project else ""),
        rich_text(f" · week {report.week_label} · {report.events_total:,} events · overall "),
        _mark(overall),
    )
    text.overflow = "fold"
    return text


def _attention(report: WeeklyReport) -> RenderableType:
    from rich.table import Table

    rows = report.attention()
    table = Table(title="Needs attention", title_justify="left", expand=True, pad_edge=False)
    table.add_column("Status", no_wrap=True, width=9)
    table.add_column("Measure", ratio=3)
    table.add_column("Now", justify="right", no_wrap=True)
    table.add_column("Target", ratio=2)
    for row in rows[:MAX_ATTENTION]:
        a = row.assessment
        label = a.target.label + (f" ({row.key})" if row.key else "")
        table.add_row(
            _mark(a.status),
            rich_text(label),
            rich_text(a.value_text),
            rich_text(a.target.target_text),
        )
    if not rows:
        table.add_row(_mark("on target"), rich_text("Every measure with a target"))
    elif len(rows) > MAX_ATTENTION:
        more = len(rows) - MAX_ATTENTION
        table.caption = f"and {more} more: ai-telemetry dashboard lists them all"
    return table


def _trends(report: WeeklyReport) -> RenderableType:
    from rich.table import Table

    weeks = len(report.history.get(("events_total", ""), []))
    table = Table(
        title=f"Trends (last {weeks} weeks, oldest left)" if weeks else "Trends (no history)",
        title_justify="left",
        expand=True,
        pad_edge=False,
    )
    table.add_column("Measure", ratio=3)
    table.add_column("Weekly", no_wrap=True, min_width=12)
    table.add_column("Latest week", justify="right", no_wrap=True)
    for metric, key, label in TRENDS:
        values = _series(report, metric, key)
        latest = next((v for v in reversed(values) if v is not None), None)
        if metric == "events_total":
            text = format_value(latest, "count")
        else:
            text = assess(metric, latest).value_text if latest is not None else "no data"
        table.add_row(
            rich_text(label), rich_text(sparkline(values) if values else "-"), rich_text(text)
        )
    return table


def _skills(report: WeeklyReport) -> RenderableType:
    from rich.table import Table

    table = Table(title="Top skills this week", title_justify="left", expand=True, pad_edge=False)
    table.add_column("Skill", ratio=3, overflow="ellipsis", no_wrap=True)
    table.add_column("Uses", justify="right")
    table.add_column("Weekly uses", no_wrap=True, min_width=12)
    table.add_column("Success", justify="right", no_wrap=True)
    table.add_column("Errors", justify="right", no_wrap=True)
    for skill in report.skills[:5]:
        trend = sparkline(_series(report, "skill_invocation_total", skill.name))
        table.add_row(
            rich_text(skill.name),
            rich_text(skill.invocations),
            rich_text(trend or "-"),
            rich_text(skill.success.value_text, STYLES[skill.success.status]),
            rich_text(skill.error.value_text, STYLES[skill.error.status]),
        )
    if not report.skills:
        table.add_row(rich_text("no skill used this week"))
    return table


def _alerts(report: WeeklyReport) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    if not report.alerts:
        return Text("Open alerts: none.")
    table = Table(title="Open alerts", title_justify="left", expand=True, pad_edge=False)
    table.add_column("Severity", no_wrap=True)
    table.add_column("What", ratio=2)
    table.add_column("Action", ratio=3)
    for alert in report.alerts:
        severity = str(alert.get("severity", ""))
        style = {"critical": "bold red", "warning": "yellow"}.get(severity, "cyan")
        what = str(alert.get("metric", "")) + (f" ({alert['key']})" if alert.get("key") else "")
        table.add_row(
            rich_text(severity, style), rich_text(what), rich_text(alert.get("action", ""))
        )
    return table


def status_renderable(report: WeeklyReport) -> RenderableType:
    """The whole status screen as one rich renderable."""
    from rich.console import Group
    from rich.text import Text

    return Group(
        _header(report),
        Text(""),
        _attention(report),
        _trends(report),
        _skills(report),
        _alerts(report),
        _experiments(report),
    )


def print_status(report: WeeklyReport, *, console: Console | None = None) -> None:
    """Print the status screen (to ``console``, default: a new stdout console)."""
    from rich.console import Console

    (console or Console(markup=False, emoji=False, highlight=False)).print(
        status_renderable(report)
    )


def _assessment(a: Assessment, key: str = "") -> AssessmentDoc:
    from ai_telemetry.documents import finite

    return {
        "metric": a.target.metric,
        "key": key,
        "label": a.target.label,
        "status": a.status,
        "value": finite(a.value),
        "value_text": a.value_text,
        "target_text": a.target.target_text,
        "action": a.action,
    }


def _weeks(report: WeeklyReport, metric: str, key: str = "") -> list[WeekValue]:
    from ai_telemetry.documents import finite

    mondays = [monday for monday, _ in report.history.get((metric, key), [])]
    return [
        {"week": monday.isoformat(), "value": finite(value)}
        for monday, value in zip(mondays, _series(report, metric, key), strict=False)
    ]


def status_document(report: WeeklyReport) -> StatusDocument:
    """The status screen's numbers as the ``status --json`` document (docs/schemas/status.json).

    The same rows as `status_renderable`, except that every measure needing attention is listed
    (the screen shows the first `MAX_ATTENTION`).
    """
    from ai_telemetry.alert.model import alert_document
    from ai_telemetry.documents import finite, header, utc_text

    trends: list[StatusTrend] = []
    for metric, key, label in TRENDS:
        values = _series(report, metric, key)
        latest = next((v for v in reversed(values) if v is not None), None)
        if metric == "events_total":
            text = format_value(latest, "count")
        else:
            text = assess(metric, latest).value_text if latest is not None else "no data"
        trends.append(
            {
                "metric": metric,
                "key": key,
                "label": label,
                "weeks": _weeks(report, metric, key),
                "latest": finite(latest),
                "latest_text": text,
            }
        )
    return {
        **header("status"),
        "window": {"start": str(utc_text(report.start)), "end": str(utc_text(report.end))},
        "week": report.week_label,
        "project": report.project,
        "events_total": report.events_total,
        "overall": report.overall(),
        "attention": [_assessment(row.assessment, row.key) for row in report.attention()],
        "trends": trends,
        "skills": [
            {
                "name": skill.name,
                "invocations": skill.invocations,
                "errors": skill.errors,
                "success": _assessment(skill.success, skill.name),
                "error": _assessment(skill.error, skill.name),
                "weekly_invocations": _weeks(report, "skill_invocation_total", skill.name),
            }
            for skill in report.skills[:5]
        ],
        "alerts": [alert_document(alert) for alert in report.alerts],
        "experiments": [experiment_document(e) for e in report.experiments],
    }


def experiment_document(experiment: Experiment) -> ExperimentDoc:
    """One skill experiment as its ``--json`` part (``ExperimentDoc``)."""
    from ai_telemetry.documents import utc_text
    from ai_telemetry.report.compare import sequential_doc

    return {
        "skill": experiment.skill,
        "previous": experiment.previous,
        "new": experiment.new,
        "opened": str(utc_text(experiment.opened)),
        "previous_runs": experiment.previous_runs,
        "new_runs": experiment.new_runs,
        "verdict": experiment.result.verdict,
        "runs_needed": experiment.result.runs_needed,
        "summary": experiment.line(),
        "sequential": sequential_doc(experiment.result),
    }


def _experiments(report: WeeklyReport) -> RenderableType:
    from rich.text import Text

    if not report.experiments:
        return Text("Skill experiments: none (no skill has a second skill_version yet).")
    lines = ["Skill experiments (sequential test, valid at every weekly look):"]
    lines += [f"  {e.line()}" for e in report.experiments]
    return rich_text("\n".join(lines))


__all__ = [
    "experiment_document",
    "print_status",
    "sparkline",
    "status_document",
    "status_renderable",
]
