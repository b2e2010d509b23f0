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
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.analyze.window import Window
from ai_telemetry.config import Settings
from ai_telemetry.store.warehouse import Warehouse

if TYPE_CHECKING:
    from ai_telemetry.documents.types import TrendDocument

STAT_KEYS: Final = frozenset(
    {"p50", "p95", "p99", "max", "mean", "input", "output", "cache_creation", "cache_read"}
)


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


def _ensure_table(wh: Warehouse) -> None:
    wh.con.execute(
        "CREATE TABLE IF NOT EXISTS metric_history (week_start DATE, metric VARCHAR, "
        "key VARCHAR, value DOUBLE, generation BIGINT, computed_at TIMESTAMP)"
    )


def last_complete_week(now: datetime | None = None) -> date:
    """Monday of the last ISO week that has ended by ``now``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    this_monday = moment.date() - timedelta(days=moment.weekday())
    return this_monday - timedelta(days=7)


def recorded_generation(wh: Warehouse, week_start: date) -> int | None:
    """The ingest generation a week was recorded at, or None when it is not recorded."""
    _ensure_table(wh)
    row = wh.con.execute(
        "SELECT max(generation) FROM metric_history WHERE week_start = ?", [week_start]
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def record_week(wh: Warehouse, week_start: date) -> int:
    """Compute and store the metrics of the ISO week starting ``week_start``; return the rows.

    A week with no events stores one marker row (``metric`` ``"events_total"``, value 0).
    """
    from ai_telemetry.analyze.metrics import cached_catalogue

    _ensure_table(wh)
    body = cached_catalogue(wh, Window.week_of(week_start))
    rows = [("events_total", "", float(body["events"]["total"])), *flatten(body["metrics"])]
    generation = wh.generation
    con = wh.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM metric_history WHERE week_start = ?", [week_start])
        con.executemany(
            "INSERT INTO metric_history VALUES (?, ?, ?, ?, ?, now())",
            [(week_start, m, k, v, generation) for m, k, v in rows],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(rows)


def record_weeks(
    wh: Warehouse,
    weeks: int,
    *,
    now: datetime | None = None,
    refresh: bool = True,
    progress: bool | None = None,
) -> list[date]:
    """Record the last ``weeks`` complete ISO weeks; return the Mondays written.

    Args:
        wh: an open, ingested warehouse.
        weeks: how many complete weeks back from ``now`` (none before the week of the first
            event, none at all without events: they would read as weeks without events).
        now: the clock.
        refresh: recompute weeks already recorded (back-fill); otherwise only missing weeks
            and the newest one when events were added since it was recorded.
        progress: show a progress bar (default: when stderr is a terminal and weeks > 4).
    """
    from ai_telemetry.store.warehouse import _want_progress

    newest = last_complete_week(now)
    first = wh.con.execute("SELECT min(ts) FROM events").fetchone()
    if first is None or first[0] is None:
        return []  # no events yet: no history (weeks of 0 would read as a team gone quiet)
    first_week = Window.week_of(first[0]).start.date()
    weeks = min(weeks, (newest - first_week).days // 7 + 1)
    todo: list[date] = []
    generation = wh.generation
    for i in range(weeks - 1, -1, -1):
        monday = newest - timedelta(days=7 * i)
        seen = recorded_generation(wh, monday)
        stale = i == 0 and seen != generation
        if refresh or seen is None or stale:
            todo.append(monday)
    if not todo:
        return []
    show = _want_progress(progress) and len(todo) > 4
    if not show:
        for monday in todo:
            record_week(wh, monday)
        return todo
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("back-filling weekly metrics", total=len(todo))
        for monday in todo:
            record_week(wh, monday)
            bar.advance(task)
    return todo


def read_series(
    wh: Warehouse,
    metric: str,
    *,
    key: str | None = None,
    weeks: int = 12,
    now: datetime | None = None,
) -> list[tuple[date, float | None]]:
    """The stored series of one metric for the last ``weeks`` complete weeks, oldest first."""
    _ensure_table(wh)
    newest = last_complete_week(now)
    first = newest - timedelta(days=7 * (weeks - 1))
    rows = wh.con.execute(
        "SELECT week_start, value FROM metric_history WHERE metric = ? AND key = ? "
        "AND week_start BETWEEN ? AND ?",
        [metric, key or "", first, newest],
    ).fetchall()
    values = {r[0]: float(r[1]) for r in rows}
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

    Raises:
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    with Warehouse(settings) as wh:
        wh.ingest()
        record_weeks(wh, weeks, now=now, refresh=False)
        return read_series(wh, metric_name, key=key, weeks=weeks, now=now)


def prune_history(wh: Warehouse, *, before: date) -> int:
    """Delete weekly rows of weeks starting before ``before``; return how many."""
    _ensure_table(wh)
    row = wh.con.execute(
        "SELECT count(*) FROM metric_history WHERE week_start < ?", [before]
    ).fetchone()
    wh.con.execute("DELETE FROM metric_history WHERE week_start < ?", [before])
    return int(row[0]) if row else 0


def known_metrics(wh: Warehouse) -> list[str]:
    """Every metric name in the history (for ``ai-telemetry trend --help`` and errors)."""
    _ensure_table(wh)
    rows = wh.con.execute("SELECT DISTINCT metric FROM metric_history ORDER BY 1").fetchall()
    return [str(r[0]) for r in rows]


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
    metric_name: str, series: list[tuple[date, float | None]], *, key: str | None
) -> TrendDocument:
    """The ``trend --json`` document (docs/schemas/trend.json): the series `render_trend` shows."""
    from ai_telemetry.documents import finite, header

    return {
        **header("trend"),
        "metric": metric_name,
        "key": key,
        "weeks": [{"week": monday.isoformat(), "value": finite(value)} for monday, value in series],
    }
