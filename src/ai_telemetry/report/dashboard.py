"""The library twin of ``ai-telemetry dashboard`` and ``ai-telemetry status``.

`make_dashboard` reads metrics.json, the weekly history of the telemetry directory it belongs
to and the open alerts, and writes the Markdown or HTML dashboard. `status_report` builds the
same `WeeklyReport` for the terminal, from metrics.json or straight from the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ai_telemetry.config import Settings, load_settings
from ai_telemetry.report.markdown import (
    ReportError,
    default_dashboard_path,
    format_for,
    render_markdown,
    write_text_atomic,
)
from ai_telemetry.report.weekly import WeeklyReport, build_report, load_history, load_open_alerts


def read_metrics(path: Path) -> dict[str, Any]:
    """Read a metrics.json document.

    Raises:
        ReportError: the file is missing, not JSON, or has no window.
    """
    try:
        doc = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ReportError(
            f"{path}: no such file; run `ai-telemetry aggregate` first or pass --metrics"
        ) from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except orjson.JSONDecodeError as exc:
        raise ReportError(
            f"{path}: not JSON ({exc}); regenerate it with ai-telemetry aggregate"
        ) from None
    window = doc.get("window") if isinstance(doc, dict) else None
    if not isinstance(window, dict) or not {"start", "end"} <= set(window):
        raise ReportError(
            f"{path}: not a metrics.json document (no window.start/window.end); "
            "regenerate it with ai-telemetry aggregate"
        )
    return dict(doc)


def settings_for(metrics_path: Path, settings: Settings | None = None) -> Settings:
    """The telemetry directory a metrics.json belongs to: its own folder when that holds a log."""
    if settings is not None:
        return settings
    if (metrics_path.parent / "events.jsonl").exists():
        return load_settings(telemetry_dir=metrics_path.parent)
    return load_settings()


def _end(doc: Mapping[str, Any]) -> datetime:
    from ai_telemetry.analyze.window import parse_moment

    return parse_moment(str(doc["window"]["end"]))


def report_for(
    doc: Mapping[str, Any],
    *,
    settings: Settings,
    history: bool = True,
    weeks: int = 12,
    alerts: Sequence[Mapping[str, Any]] | None = None,
    projects: bool = True,
) -> WeeklyReport:
    """Build the `WeeklyReport` of a metrics.json document.

    A document of one project (``aggregate --project``, `for_project`) reads that project's
    history and open alerts; the skill experiments are the team's and shown only on the whole
    store's.

    Args:
        doc: the metrics.json document.
        settings: the telemetry directory (history, alerts).
        history: read the weekly history from the warehouse (needs the log); the clock is the
            window's end, so the same document always gives the same report.
        weeks: how many weeks of history.
        alerts: open alerts; default: those of the alerting stage, when installed.
        projects: add the cross-project overview of the window when the whole store's
            document holds two projects or more (reads the store).
    """
    from ai_telemetry.analyze.metrics import document_project, document_window
    from ai_telemetry.report.weekly import load_experiments

    project = document_project(doc)
    series = None
    experiments = []
    if history and settings.log_path.exists():
        series = load_history(settings, now=_end(doc), weeks=weeks, project=project)
        if project is None:
            experiments = load_experiments(settings, now=_end(doc))
    found = list(alerts) if alerts is not None else load_open_alerts(settings, project=project)
    report = build_report(doc, history=series, alerts=found, experiments=experiments)
    by_project = (doc.get("events") or {}).get("by_project") or {}
    if projects and project is None and len(by_project) >= 2 and settings.log_path.exists():
        from ai_telemetry.report.projects import project_overview

        overview = project_overview(settings, document_window(doc), alerts=found)
        report.projects = overview["projects"]
    return report


def make_dashboard(
    metrics_path: Path,
    *,
    output: Path | None = None,
    fmt: str | None = None,
    settings: Settings | None = None,
    history: bool = True,
    weeks: int = 12,
    alerts: Sequence[Mapping[str, Any]] | None = None,
    project: str | None = None,
) -> Path:
    """Write the weekly dashboard; return its path.

    Args:
        metrics_path: the metrics.json to show.
        output: the file to write; default ``<telemetry dir>/dashboards/weekly-<end date>.md``
            (``.html`` for HTML).
        fmt: ``md`` or ``html``; default from ``output``'s extension, else ``md``.
        settings: the telemetry directory; default the one metrics.json sits in.
        history: include weekly trends (reads the warehouse).
        weeks: weeks of history.
        alerts: open alerts; default those of the alerting stage.
        project: show this project (its metrics for metrics.json's window, its history and
            alerts; the default file name ends in ``-<project>``).

    Raises:
        ReportError: metrics.json is missing or broken, or the output cannot be written.
        AnalyticsError: the history cannot be read.
    """
    from ai_telemetry.analyze.metrics import document_project, for_project

    conf = settings_for(metrics_path, settings)
    doc = for_project(read_metrics(metrics_path), project, settings=conf)
    chosen = format_for(output or Path("x.md"), fmt)
    target = output or default_dashboard_path(
        conf.dashboards_dir, _end(doc), chosen, project=document_project(doc)
    )
    report = report_for(doc, settings=conf, history=history, weeks=weeks, alerts=alerts)
    if chosen == "html":
        from ai_telemetry.report.html import render_html

        text = render_html(report)
    else:
        text = render_markdown(report)
    write_text_atomic(text, target)
    return target


def status_report(
    settings: Settings,
    *,
    metrics_path: Path | None = None,
    now: datetime,
    weeks: int = 12,
    project: str | None = None,
) -> WeeklyReport:
    """The report behind ``ai-telemetry status``.

    From ``metrics_path`` when given, else computed from the log for the 7 days ending ``now``;
    of ``project`` only, when given (its metrics, history and alerts).

    Raises:
        ReportError: metrics.json is missing or broken.
        AnalyticsError: the log or warehouse cannot be read.
    """
    if metrics_path is not None:
        from ai_telemetry.analyze.metrics import for_project

        doc = for_project(read_metrics(metrics_path), project, settings=settings)
    else:
        from ai_telemetry.analyze.metrics import compute_metrics
        from ai_telemetry.analyze.window import Window

        window = Window(now - timedelta(days=7), now)
        doc = compute_metrics(window, settings=settings, project=project, allow_empty=True, now=now)
    return report_for(doc, settings=settings, weeks=weeks)


__all__ = ["make_dashboard", "read_metrics", "report_for", "settings_for", "status_report"]
