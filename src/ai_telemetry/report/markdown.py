"""The weekly Markdown dashboard (the seed's ``generate_dashboard.py``).

`render_markdown` turns a `WeeklyReport` into Markdown; `write_dashboard` writes it (or the
HTML page) atomically; `default_dashboard_path` names it ``dashboards/weekly-YYYY-MM-DD.md``
after the date of the window's end (the Monday a weekly cron job runs), so rerunning the same
week rewrites the same file instead of adding one per run day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from ai_telemetry.errors import AITelemetryError
from ai_telemetry.log.files import atomic_write_text
from ai_telemetry.report.targets import GLOSSARY, STATUS_ICON
from ai_telemetry.report.templating import environment
from ai_telemetry.report.weekly import WeeklyReport

Format = Literal["md", "html"]


class ReportError(AITelemetryError):
    """A dashboard or report cannot be built or written."""


def render_markdown(report: WeeklyReport) -> str:
    """The dashboard as Markdown (GitHub-flavoured tables, no HTML).

    Every value is Markdown-escaped (`ai_telemetry.report.escape.markdown_inline`), so stored
    names cannot add HTML, links, emphasis or table columns.
    """
    text = (
        environment("md")
        .get_template("weekly.md.j2")
        .render(r=report, icons=STATUS_ICON, glossary=GLOSSARY)
    )
    # blank-line runs left by template blocks: at most one empty line in a row
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).rstrip() + "\n"


def default_dashboard_path(
    dashboards_dir: Path, end: datetime, fmt: Format = "md", *, project: str | None = None
) -> Path:
    """``<dashboards_dir>/weekly-YYYY-MM-DD.<fmt>``, the date of the window's end
    (``weekly-YYYY-MM-DD-<project>.<fmt>`` for one project's).

    A window ending at midnight is named after that day (the Monday after an ISO week).
    """
    from ai_telemetry.analyze.metrics import project_slug

    day = end.date() if end.time() == datetime.min.time() else (end + timedelta(0)).date()
    part = f"-{project_slug(project)}" if project else ""
    return dashboards_dir / f"weekly-{day.isoformat()}{part}.{fmt}"


def format_for(path: Path, fmt: str | None) -> Format:
    """The format asked for: ``--format`` wins, else the file's extension, else Markdown.

    Raises:
        ReportError: an unknown format.
    """
    chosen = (fmt or ("html" if path.suffix.lower() in (".html", ".htm") else "md")).lower()
    if chosen not in ("md", "html"):
        raise ReportError(f"--format {fmt!r}: use md or html")
    return "html" if chosen == "html" else "md"


def write_text_atomic(text: str, path: Path) -> None:
    """Write ``text`` (UTF-8) atomically (`atomic_write_text`).

    Raises:
        ReportError: the file cannot be written; the message says where.
    """
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ReportError(
            f"{path}: cannot write the dashboard ({exc.strerror or exc}); "
            "check the directory exists and is writable, or pass --output"
        ) from None


__all__ = [
    "ReportError",
    "default_dashboard_path",
    "format_for",
    "render_markdown",
    "write_text_atomic",
]
