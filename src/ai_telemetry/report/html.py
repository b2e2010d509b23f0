"""The HTML dashboard: one self-contained file (inline CSS and SVG, no script, no network).

The page carries a Content-Security-Policy that forbids loading anything (``default-src
'none'``), so even a browser that tried could not fetch from a CDN. Charts come from
`ai_telemetry.report.charts` (pygal, rendered offline); each has a ``<title>``, a ``<desc>``
and its numbers in a table under ``<details>``. A print stylesheet lays panels out one below
another without splitting them.
"""

from __future__ import annotations

from ai_telemetry.report.charts import dashboard_charts
from ai_telemetry.report.targets import GLOSSARY, TEXT_ICON
from ai_telemetry.report.templating import environment
from ai_telemetry.report.weekly import WeeklyReport


def render_html(report: WeeklyReport) -> str:
    """The dashboard as one HTML document (UTF-8 text)."""
    charts = dashboard_charts(report)
    text = (
        environment()
        .get_template("weekly.html.j2")
        .render(r=report, charts=charts, icons=TEXT_ICON, glossary=GLOSSARY)
    )
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip()) + "\n"


__all__ = ["render_html"]
