"""The metric catalogue of METRICS.md over the warehouse, and ``metrics.json``.

`compute_metrics` returns the document that ``ai-telemetry aggregate`` writes::

    {"schema_version": "1.0", "generated_at": ..., "window": {"start", "end"}, "project": ...,
     "events": {"total", "by_type", "by_project", "bad_lines"},
     "metrics": {<every metric under its own name>},
     "skill_metrics": {...}, "learning_metrics": {...}, "test_metrics": {...}}

The last three are the seed's own shape (a compatibility view). A metric with no input in the
window is ``null``. The catalogue itself comes from the store (`ai_telemetry.ports.Store`;
its SQL is in ``ai_telemetry.store.catalogue_sql``), which caches it per window and ingest
generation, so a second run with nothing new reads nothing but the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError, NoDataError
from ai_telemetry.log.files import atomic_write
from ai_telemetry.ports import Store, Window

SCHEMA_VERSION: Final = "1.0"


def compat_view(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The seed's ``skill_metrics`` / ``learning_metrics`` / ``test_metrics`` from the catalogue."""
    skills: dict[str, Any] = {}
    tokens = metrics.get("skill_context_tokens") or {}
    for skill, n in (metrics.get("skill_invocation_total") or {}).items():
        skills[skill] = {
            "invocations": n,
            "success_rate": (metrics.get("skill_success_rate") or {}).get(skill),
            "avg_duration_seconds": (metrics.get("skill_avg_duration_seconds") or {}).get(skill),
            "avg_context_tokens": (tokens.get(skill) or {}).get("mean"),
        }
    return {
        "skill_metrics": skills,
        "learning_metrics": {
            "total_entries": metrics.get("learning_entries_total") or 0,
            "severity_breakdown": metrics.get("learning_severity_breakdown") or {},
            "source_breakdown": metrics.get("learning_source_breakdown") or {},
        },
        "test_metrics": {
            "coverage_percent": metrics.get("test_coverage_percent"),
            "delta_percent": metrics.get("test_coverage_delta"),
        },
    }


def catalogue(store: Store, window: Window, *, project: str | None = None) -> dict[str, Any]:
    """Every metric of the catalogue for ``window`` from an open, ingested store.

    Returns:
        ``{"events": {...}, "metrics": {...}}`` (no compatibility view).
    """
    return store.catalogue(window, project=project)


cached_catalogue = catalogue
"""The store caches the catalogue itself (kept for callers of the old name)."""


def metrics_document(
    store: Store,
    window: Window,
    *,
    project: str | None = None,
    allow_empty: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``metrics.json`` document for ``window`` from an open, ingested store.

    Raises:
        NoDataError: the window holds no events (unless ``allow_empty``).
    """
    w = window.as_dict()
    body = store.catalogue(window, project=project)
    if not body["events"]["total"] and not allow_empty:
        where = f" of project {project!r}" if project else ""
        raise NoDataError(
            f"no events{where} between {w['start']} and {w['end']} in {store.source}; "
            "widen --start/--end or point --input at the right log"
        )
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window": window.as_dict(),
        "project": project,
        "events": {**body["events"], "bad_lines": store.bad_lines()},
        "metrics": body["metrics"],
    }
    doc.update(compat_view(body["metrics"]))
    return doc


def compute_metrics(
    window: Window,
    *,
    settings: Settings,
    project: str | None = None,
    allow_empty: bool = False,
    progress: bool | None = None,
    now: datetime | None = None,
    from_log: bool = False,
) -> dict[str, Any]:
    """Ingest what is new, then compute the ``metrics.json`` document for ``window``.

    Args:
        window: the time window.
        settings: where the log, archives and warehouse are.
        project: only events of this project.
        allow_empty: return a document of nulls instead of raising for an empty window.
        progress: show a progress bar while ingesting (default: when stderr is a terminal).
        now: the clock, for ``generated_at``.
        from_log: straight from the log and the archives, in memory, nothing written (the
            store's one-window mode, `ai_telemetry.stores.open_store` ``window=``): what a
            first ``aggregate`` over a large log does.

    Raises:
        NoDataError: the window holds no events.
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    from ai_telemetry.stores import open_store

    with open_store(settings, progress=progress, window=window if from_log else None) as store:
        store.ingest()
        return metrics_document(store, window, project=project, allow_empty=allow_empty, now=now)


def write_metrics_json(document: Mapping[str, Any], path: Path) -> None:
    """Write the document atomically (temp file, fsync, rename).

    Raises:
        AnalyticsError: the file cannot be written.
    """
    try:
        atomic_write(path, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        raise AnalyticsError(f"{path}: cannot write metrics ({exc.strerror or exc})") from None


def document_project(document: Mapping[str, Any]) -> str | None:
    """The project a metrics document is of (``aggregate --project``), None for all."""
    project = document.get("project")
    return project if isinstance(project, str) and project else None


def for_project(
    document: Mapping[str, Any], project: str | None, *, settings: Settings
) -> dict[str, Any]:
    """``document``, or, when ``project`` is given and the document is not of it, the metrics
    document of ``project`` for the same window (computed from the store): what ``status``,
    ``dashboard`` and ``detect`` show for ``--project``.

    Raises:
        AnalyticsError: the document has no window, or the store cannot be read.
    """
    if project is None or document_project(document) == project:
        return dict(document)
    window = document_window(document)
    return compute_metrics(window, settings=settings, project=project, allow_empty=True)


def document_window(document: Mapping[str, Any]) -> Window:
    """The window a metrics document is of.

    Raises:
        AnalyticsError: the document has no window {start, end}, or a malformed one.
    """
    from ai_telemetry.analyze.window import window_from

    span = document.get("window")
    if not isinstance(span, Mapping) or not span.get("start") or not span.get("end"):
        raise AnalyticsError("metrics.json has no window {start, end}; run `aggregate` again")
    return window_from(str(span["start"]), str(span["end"]), names=("window.start", "window.end"))


def project_slug(project: str) -> str:
    """A project name as a file-name part (``metrics-<slug>.json``): letters, digits, ``.``,
    ``_`` and ``-`` kept, any other run of characters one ``-``."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", project).strip("-.") or "project"


def metrics_path_for(settings: Settings, project: str | None) -> Path:
    """Where ``weekly`` writes the metrics: metrics.json, or metrics-<project>.json."""
    if project is None:
        return settings.metrics_path
    return settings.metrics_path.with_name(f"metrics-{project_slug(project)}.json")


def default_window(now: datetime | None = None) -> Window:
    """The seed's default: the 7 days ending now."""
    return Window.last_days(7, now=now)


__all__ = [
    "SCHEMA_VERSION",
    "compat_view",
    "compute_metrics",
    "default_window",
    "document_project",
    "document_window",
    "for_project",
    "metrics_document",
    "metrics_path_for",
    "project_slug",
    "write_metrics_json",
]
