"""Charts for the HTML dashboard: inline SVG rendered offline by pygal, with text alternatives.

pygal (Kozea, LGPL, maintained since 2012) draws plain SVG in Python; its interactivity is an
optional script loaded from a CDN, which we turn off (``js=[]``) and strip, together with the
small inline config script it always writes, its generator comment (which carries the date of
rendering) and its random chart id (replaced by a stable one), so the page loads nothing and the
same data gives the same bytes.

Each chart is a `Chart`: the SVG (``role="img"``, ``aria-labelledby`` pointing at its ``<title>``
and ``<desc>``) and the same numbers as a table, which the page shows under ``<details>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.report.weekly import History, Series, WeeklyReport, learning_by_week

if TYPE_CHECKING:
    from collections.abc import Sequence

PALETTE: Final = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)
"""Colour-blind-aware categorical colours (Tableau 10 order), dark enough to print."""

SEVERITY_COLOURS: Final = {"critical": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}

_FONT: Final = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ID = re.compile(r'id="chart-([0-9a-f-]{36})"')


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: inline SVG plus its data as a table.

    Attributes:
        slug: stable id (``top-skills``), used for element ids.
        title: the heading and the SVG ``<title>``.
        description: one or two sentences saying what the chart shows (SVG ``<desc>``).
        svg: the sanitised ``<svg>`` element.
        headers: table column names.
        rows: table rows (already formatted text).
    """

    slug: str
    title: str
    description: str
    svg: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)


def _pygal() -> Any:
    """Import pygal, then drop the import hook it appends to ``sys.meta_path``.

    The hook only serves ``pygal.maps.*`` plug-ins (unused here) and, having no
    ``find_spec``, makes every later failed import in the process emit an ImportWarning.
    """
    import sys

    import pygal  # type: ignore[import-untyped,unused-ignore]

    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]
    return pygal


def _style(colours: Sequence[str] = PALETTE) -> Any:
    _pygal()
    from pygal.style import Style  # type: ignore[import-untyped,unused-ignore]

    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#222222",
        foreground_strong="#111111",
        foreground_subtle="#bbbbbb",
        opacity=".75",
        opacity_hover=".9",
        colors=tuple(colours),
        font_family=_FONT,
        title_font_family=_FONT,
        label_font_family=_FONT,
        major_label_font_family=_FONT,
        value_font_family=_FONT,
        legend_font_family=_FONT,
        title_font_size=18,
        label_font_size=14,
        major_label_font_size=14,
        legend_font_size=14,
        value_font_size=14,
    )


def _config(colours: Sequence[str] = PALETTE, **extra: Any) -> dict[str, Any]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": _style(colours),
        "width": 640,
        "height": 340,
        "explicit_size": False,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "x_label_rotation": 35,
        "margin": 16,
        "truncate_legend": 40,
        "truncate_label": 30,
        **extra,
    }


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def sanitise(svg: str, *, slug: str, title: str, description: str) -> str:
    """Make pygal's output self-contained, stable and accessible.

    Removes scripts and comments, replaces the random id with ``chart-<slug>``, and adds
    ``role="img"``, ``aria-labelledby`` and a ``<desc>`` after the chart's ``<title>``.
    Control characters in labels (skill names) become visible escapes, as everywhere.
    """
    from ai_telemetry.report.escape import terminal_block

    svg = terminal_block(_COMMENT.sub("", _SCRIPT.sub("", svg)))
    match = _ID.search(svg)
    if match:
        svg = svg.replace(match.group(1), slug)
    chart_id = f"chart-{slug}"
    label = f"{chart_id}-title {chart_id}-desc"
    svg = svg.replace(
        f'id="{chart_id}"',
        f'id="{chart_id}" role="img" aria-labelledby="{label}" preserveAspectRatio="xMidYMid meet"',
        1,
    )
    head = re.search(r"<title>.*?</title>", svg, re.DOTALL)
    desc = f'<desc id="{chart_id}-desc">{_escape(description)}</desc>'
    heading = f'<title id="{chart_id}-title">{_escape(title)}</title>'
    if head:
        return svg[: head.start()] + heading + desc + svg[head.end() :]
    opening = svg.index(">") + 1
    return svg[:opening] + heading + desc + svg[opening:]


def _render(chart: Any, slug: str, title: str, description: str) -> str:
    return sanitise(chart.render(is_unicode=True), slug=slug, title=title, description=description)


def _weeks(series: Series) -> list[str]:
    return [d.strftime("%d %b") for d, _ in series]


def _pct(value: float | None, scale: float = 100.0) -> str:
    return "no data" if value is None else f"{value * scale:.1f}%"


def top_skills_chart(report: WeeklyReport) -> Chart:
    """Bar chart: uses per skill this week."""
    pygal = _pygal()

    title = "Top skills by usage (this week)"
    skills = [(s.name, s.invocations) for s in report.skills]
    if skills:
        first = f"{skills[0][0]} was used most ({skills[0][1]} times)"
        description = f"Bar chart of uses per skill this week; {first}."
    else:
        description = "No skill was used this week."
    chart = pygal.HorizontalBar(
        **_config(show_legend=False, print_values=True, height=60 + 42 * max(len(skills), 2))
    )
    chart.title = title
    chart.x_labels = [name for name, _ in reversed(skills)]
    chart.add("Uses", [n for _, n in reversed(skills)])
    return Chart(
        "top-skills",
        title,
        description,
        _render(chart, "top-skills", title, description),
        ("Skill", "Uses", "Success rate", "Error rate"),
        [
            (s.name, str(s.invocations), s.success.value_text, s.error.value_text)
            for s in report.skills
        ],
    )


def _series(history: History, metric: str, key: str = "") -> Series:
    return list(history.get((metric, key), []))


def error_rate_chart(report: WeeklyReport) -> Chart:
    """Line chart: each skill's error rate per week, with the 5% target."""
    pygal = _pygal()

    title = "Skill error rates over time"
    names = [s.name for s in report.skills]
    series = {n: _series(report.history, "skill_error_rate", n) for n in names}
    series = {n: s for n, s in series.items() if any(v is not None for _, v in s)}
    mondays = next(iter(series.values()), [])
    top = max([v or 0.0 for values in series.values() for _, v in values] + [0.1])
    chart = pygal.Line(
        **_config(
            range=(0, min(1.0, top + 0.05)),
            value_formatter=lambda v: f"{v * 100:.0f}%",
            dots_size=3,
        )
    )
    chart.title = title
    chart.x_labels = _weeks(mondays)
    for name, values in series.items():
        chart.add(name, [v for _, v in values])
    if mondays:
        chart.add(
            "target (5%)",
            [0.05] * len(mondays),
            stroke_style={"dasharray": "6,4", "width": 2},
            show_dots=False,
        )
    worst_now = max(report.skills, key=lambda s: s.error.value or 0.0, default=None)
    description = (
        "Weekly error rate of each skill (share of finished runs that failed); "
        "the dashed line is the 5% target."
    )
    if worst_now is not None and worst_now.error.value is not None:
        description += f" Highest this week: {worst_now.name} at {worst_now.error.value_text}."
    rows = [(d.isoformat(), *(_pct(dict(series[n]).get(d)) for n in series)) for d, _ in mondays]
    return Chart(
        "error-rates",
        title,
        description,
        _render(chart, "error-rates", title, description),
        ("Week of", *series),
        rows,
    )


def learning_chart(report: WeeklyReport) -> Chart:
    """Stacked area chart: new learnings per week by severity."""
    pygal = _pygal()

    title = "Learning velocity (new learnings per week)"
    weeks = learning_by_week(report.history, end=report.end)
    severities = [
        s for s in ("critical", "warning", "info") if any(s in w.severities for w in weeks)
    ]
    colours = [SEVERITY_COLOURS[s] for s in severities]
    chart = pygal.StackedLine(**_config(colours or PALETTE, fill=True, dots_size=2, min_scale=4))
    chart.title = title
    chart.x_labels = [w.monday.strftime("%d %b") for w in weeks]
    for severity in severities:
        chart.add(severity, [w.severities.get(severity, 0) for w in weeks])
    total = sum(w.entries for w in weeks)
    zero_weeks = [w.monday.isoformat() for w in weeks if w.entries == 0]
    description = (
        "Stacked area of learnings written down each week by severity; "
        f"{total} over {len(weeks)} weeks."
    )
    if zero_weeks:
        description += f" Weeks with none: {', '.join(zero_weeks)}."
    return Chart(
        "learning-velocity",
        title,
        description,
        _render(chart, "learning-velocity", title, description),
        ("Week of", "New learnings", *severities),
        [
            (
                w.monday.isoformat(),
                str(w.entries),
                *(str(w.severities.get(s, 0)) for s in severities),
            )
            for w in weeks
        ],
    )


def coverage_chart(report: WeeklyReport) -> Chart:
    """Line chart: test coverage per week, with the 85% target."""
    pygal = _pygal()

    title = "Test coverage trend"
    series = _series(report.history, "test_coverage_percent")
    values = [v for _, v in series if v is not None]
    low = min([*values, 85.0]) - 2
    high = max([*values, 85.0]) + 2
    chart = pygal.Line(
        **_config(
            range=(low, high), value_formatter=lambda v: f"{v:.1f}%", dots_size=4, show_legend=True
        )
    )
    chart.title = title
    chart.x_labels = _weeks(series)
    chart.add("coverage", [v for _, v in series])
    if series:
        chart.add(
            "target (85%)",
            [85.0] * len(series),
            stroke_style={"dasharray": "6,4", "width": 2},
            show_dots=False,
        )
    description = (
        "Weekly test coverage (share of code exercised by tests); "
        "the dashed line is the 85% target."
    )
    if values:
        description += f" From {values[0]:.1f}% to {values[-1]:.1f}% over {len(series)} weeks."
    return Chart(
        "coverage",
        title,
        description,
        _render(chart, "coverage", title, description),
        ("Week of", "Coverage"),
        [(d.isoformat(), "no data" if v is None else f"{v:.1f}%") for d, v in series],
    )


def incidents_chart(report: WeeklyReport) -> Chart:
    """Bar chart: incidents opened per week."""
    pygal = _pygal()

    title = "Incidents per week"
    series = _series(report.history, "incident_rate")
    recorded = {d for d, v in _series(report.history, "events_total") if v}
    counts = [(d, v if v is not None else (0.0 if d in recorded else None)) for d, v in series]
    chart = pygal.Bar(**_config(PALETTE[1:], show_legend=False, print_values=True, min_scale=4))
    chart.title = title
    chart.x_labels = _weeks(series)
    chart.add("incidents", [v for _, v in counts])
    total = sum(v or 0 for _, v in counts)
    description = (
        f"Incidents opened each week; {total:.0f} over {len(counts)} weeks (target: decreasing)."
    )
    return Chart(
        "incidents",
        title,
        description,
        _render(chart, "incidents", title, description),
        ("Week of", "Incidents"),
        [(d.isoformat(), "no data" if v is None else f"{v:.0f}") for d, v in counts],
    )


def agent_chart(report: WeeklyReport) -> Chart:
    """Bar chart: each agent's completion rate this week, with the 95% target."""
    pygal = _pygal()

    title = "Agent task completion (this week)"
    agents = [a for a in report.agents if a.completion.value is not None]
    chart = pygal.Bar(
        **_config(
            range=(0, 1),
            value_formatter=lambda v: f"{v * 100:.0f}%",
            print_values=True,
            show_legend=True,
        )
    )
    chart.title = title
    chart.x_labels = [a.name for a in agents]
    chart.add("completion rate", [a.completion.value for a in agents])
    low = min(agents, key=lambda a: a.completion.value or 0.0, default=None)
    description = (
        "Share of each agent's finished tasks completed successfully, beside the 95% target."
    )
    if low is not None:
        description += f" Lowest: {low.name} at {low.completion.value_text}."
    return Chart(
        "agents",
        title,
        description,
        _render(chart, "agents", title, description),
        ("Agent", "Tasks", "Completion", "Rollback", "Handoff", "Median time"),
        [
            (
                a.name,
                str(a.invocations),
                a.completion.value_text,
                a.rollback.value_text,
                a.handoff.value_text,
                a.median.value_text,
            )
            for a in report.agents
        ],
    )


def dashboard_charts(report: WeeklyReport) -> dict[str, Chart]:
    """Every chart of the HTML dashboard, by slug."""
    charts = (
        top_skills_chart(report),
        error_rate_chart(report),
        learning_chart(report),
        coverage_chart(report),
        agent_chart(report),
        incidents_chart(report),
    )
    return {c.slug: c for c in charts}
