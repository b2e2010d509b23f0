"""The weekly history of every metric: the series that trend charts and anomaly detection read.

Each complete ISO week's ``metrics`` are flattened into rows of the ``metric_history`` table
(``week_start``, ``metric``, ``key``, ``value``):

- a number: ``(metric, "")``, e.g. ``("learning_implementation_rate", "")``;
- an object keyed by skill, agent, tool, severity, ...: ``(metric, key)``;
- a statistics object (``p50``, ``p95``, ``p99``, ``max``, ``mean``, token kinds):
  ``("metric.p95", key)``, e.g. ``("skill_duration_seconds.p95", "systematic-debugger")``.

`record_weeks` fills it (``ai-telemetry aggregate`` records the last complete week each run;
``--backfill-weeks N`` the last N); `metric_series` reads one series. Rows older than two years
are pruned by retention.

A project has its own history beside the whole store's (``project=NAME``: each week's catalogue
of that project's events only), recorded the first time something asks for it (``trend
--project``, ``status --project``, ``detect`` of a project's metrics) and kept up to date the
same way: a week is recomputed when it is missing, or when it is the newest and events arrived
since.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ai_telemetry.config import Settings
from ai_telemetry.ports import STAT_KEYS, Store, Window

if TYPE_CHECKING:
    from ai_telemetry.documents.types import TrendDocument


def flatten(metrics: Mapping[str, Any]) -> Iterator[tuple[str, str, float]]:
    """(metric, key, value) rows of a ``metrics`` object; nulls are skipped."""
    for name, value in metrics.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            yield name, "", float(value)
        elif isinstance(value, Mapping):
            if value and set(value) <= STAT_KEYS:
                for stat, v in value.items():
                    if isinstance(v, int | float):
                        yield f"{name}.{stat}", "", float(v)
                continue
            for key, v in value.items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    yield name, str(key), float(v)
                elif isinstance(v, Mapping):
                    for stat, s in v.items():
                        if isinstance(s, int | float):
                            yield f"{name}.{stat}", str(key), float(s)


def last_complete_week(now: datetime | None = None) -> date:
    """Monday of the last ISO week that has ended by ``now``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    this_monday = moment.date() - timedelta(days=moment.weekday())
    return this_monday - timedelta(days=7)


def recorded_generation(
    store: Store, week_start: date, *, project: str | None = None
) -> int | None:
    """The ingest generation a week was recorded at, or None when it is not recorded."""
    return store.weeks(project=project).get(week_start)


def record_week(store: Store, week_start: date, *, project: str | None = None) -> int:
    """Compute and store the metrics of the ISO week starting ``week_start`` (of ``project``'s
    events only, when given); return the rows.

    A week with no events stores one marker row (``metric`` ``"events_total"``, value 0).
    """
    rows = week_rows(store.catalogue(Window.week_of(week_start), project=project))
    return store.record_week(week_start, rows, generation=store.generation(), project=project)


def week_rows(body: Mapping[str, Any]) -> list[tuple[str, str, float]]:
    """A week's catalogue as history rows: ``events_total`` first, then every metric."""
    return [("events_total", "", float(body["events"]["total"])), *flatten(body["metrics"])]


def _want_progress(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    return sys.stderr.isatty()


def record_weeks(
    store: Store,
    weeks: int,
    *,
    now: datetime | None = None,
    refresh: bool = True,
    progress: bool | None = None,
    project: str | None = None,
) -> list[date]:
    """Record the last ``weeks`` complete ISO weeks; return the Mondays written.

    Args:
        store: an open, ingested store.
        weeks: how many complete weeks back from ``now`` (none before the week of the first
            event, none at all without events: they would read as weeks without events).
        now: the clock.
        refresh: recompute weeks already recorded (back-fill); otherwise only missing weeks
            and the newest one when events were added since it was recorded.
        progress: show a progress bar (default: when stderr is a terminal and weeks > 4).
        project: record that project's own history (its events only) instead of the store's.
    """
    newest = last_complete_week(now)
    first = store.first_event()
    if first is None:
        return []  # no events yet: no history (weeks of 0 would read as a team gone quiet)
    first_week = Window.week_of(first).start.date()
    weeks = min(weeks, (newest - first_week).days // 7 + 1)
    todo: list[date] = []
    generation = store.generation()
    recorded = store.weeks(project=project)
    for i in range(weeks - 1, -1, -1):
        monday = newest - timedelta(days=7 * i)
        seen = recorded.get(monday)
        stale = i == 0 and seen != generation
        if refresh or seen is None or stale:
            todo.append(monday)
    if not todo:
        return []
    show = _want_progress(progress) and len(todo) > 4
    if not show:
        for monday in todo:
            record_week(store, monday, project=project)
        return todo
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("back-filling weekly metrics", total=len(todo))
        for monday in todo:
            record_week(store, monday, project=project)
            bar.advance(task)
    return todo


def read_series(
    store: Store,
    metric: str,
    *,
    key: str | None = None,
    weeks: int = 12,
    now: datetime | None = None,
    project: str | None = None,
) -> list[tuple[date, float | None]]:
    """The stored series of one metric (of ``project``'s history) for the last ``weeks``
    complete weeks, oldest first."""
    newest = last_complete_week(now)
    first = newest - timedelta(days=7 * (weeks - 1))
    rows = store.series(metric, key=key, weeks=(first, newest), project=project)
    values = {r.week_start: r.value for r in rows}
    return [
        (monday, values.get(monday))
        for monday in (first + timedelta(days=7 * i) for i in range(weeks))
    ]


def metric_series(
    metric_name: str,
    *,
    key: str | None = None,
    weeks: int = 12,
    settings: Settings,
    now: datetime | None = None,
    project: str | None = None,
) -> list[tuple[date, float | None]]:
    """One metric, week by week: ``[(monday, value or None), ...]``, oldest first.

    Ingests what is new and records any of the ``weeks`` weeks not recorded yet (and the newest
    one when events arrived since), so the series is complete without a separate back-fill.

    Args:
        metric_name: a catalogue name, with ``.p95`` etc. for a statistic
            (``skill_duration_seconds.p95``), or ``events_total``.
        key: the skill, agent, tool, severity, ... for a keyed metric.
        weeks: how many complete ISO weeks, ending with the last one.
        settings: where the telemetry is.
        now: the clock.
        project: that project's own history (its events only), recorded where missing.

    Raises:
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    from ai_telemetry.stores import open_store

    with open_store(settings) as store:
        store.ingest()
        record_weeks(store, weeks, now=now, refresh=False, project=project)
        return read_series(store, metric_name, key=key, weeks=weeks, now=now, project=project)


def prune_history(store: Store, *, before: date) -> int:
    """Delete weekly rows of weeks starting before ``before``; return how many."""
    return store.prune_history(before=before)


def render_trend(
    metric_name: str, series: list[tuple[date, float | None]], *, key: str | None, weeks: int
) -> str:
    """``ai-telemetry trend``'s text: one line per week with a bar scaled to the largest value."""
    from ai_telemetry.report.escape import terminal

    values = [v for _, v in series if v is not None]
    top_value = max(values, default=0.0) or 1.0
    label = terminal(metric_name + (f"[{key}]" if key else ""))
    lines = [f"{label}, last {weeks} weeks (week starting Monday, UTC):"]
    for monday, value in series:
        if value is None:
            lines.append(f"{monday}  {'-':>12}")
            continue
        bar = "#" * round(30 * value / top_value) if value > 0 else ""
        lines.append(f"{monday}  {value:>12.4g}  {bar}")
    if not values:
        lines.append(
            "(no values: check the metric name and --key; e.g. skill_invocation_total "
            "--key NAME, skill_duration_seconds.p95 --key NAME)"
        )
    return "\n".join(lines)


def trend_document(
    metric_name: str,
    series: list[tuple[date, float | None]],
    *,
    key: str | None,
    project: str | None = None,
) -> TrendDocument:
    """The ``trend --json`` document (docs/schemas/trend.json): the series `render_trend` shows."""
    from ai_telemetry.documents import finite, header

    return {
        **header("trend"),
        "metric": metric_name,
        "key": key,
        "project": project,
        "weeks": [{"week": monday.isoformat(), "value": finite(value)} for monday, value in series],
    }
