"""The weekly history detection judges against, read from the warehouse.

`load_history` turns the ``metric_history`` rows of the weeks before a metrics window back into
metrics.json-shaped documents (`unflatten`), so the rules and the z-score / SPC series read the past
the same way they read the present. `root_cause_counts` gives Incident Repeat its input: incidents
opened per root cause in the 28 days to the window's end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.ports import STAT_KEYS

if TYPE_CHECKING:
    from ai_telemetry.ports import Store

ROOT_CAUSE_DAYS: Final = 28


def unflatten(rows: Iterable[tuple[str, str, float]]) -> dict[str, Any]:
    """Rows of ``metric_history`` (metric, key, value) back into a ``metrics`` object."""
    out: dict[str, Any] = {}
    for metric, key, value in rows:
        name, _, stat = metric.partition(".")
        if stat and stat not in STAT_KEYS:
            name, stat = metric, ""
        if not key:
            if stat:
                out.setdefault(name, {})[stat] = value
            else:
                out[name] = value
            continue
        keyed = out.setdefault(name, {})
        if not isinstance(keyed, dict):
            continue
        if stat:
            keyed.setdefault(key, {})[stat] = value
        else:
            keyed[key] = value
    return out


@dataclass(frozen=True, slots=True)
class WeekMetrics:
    """One recorded week of the history: its Monday and its ``{"metrics": ...}`` document."""

    week_start: date
    document: dict[str, Any] = field(default_factory=dict)


def load_history(
    store: Store, *, before: datetime, weeks: int, project: str | None = None
) -> list[WeekMetrics]:
    """The recorded weeks that end at or before ``before``, at most ``weeks``, oldest first
    (of ``project``'s own history when given).

    Weeks without any event (before telemetry started) are left out.
    """
    moment = before.astimezone(UTC).replace(tzinfo=None)
    last = (moment - timedelta(days=7)).date()
    totals = store.series("events_total", weeks=(date.min, last), project=project)
    chosen = [r.week_start for r in totals if r.value > 0][-weeks:] if weeks > 0 else []
    if not chosen:
        return []
    grouped: dict[date, list[tuple[str, str, float]]] = {}
    wanted = set(chosen)
    for row in store.series(weeks=(chosen[0], last), project=project):
        monday = row.week_start
        if monday not in wanted:
            continue
        if datetime.combine(monday, datetime.min.time()) + timedelta(days=7) > moment:
            continue
        grouped.setdefault(monday, []).append((row.metric, row.key, row.value))
    return [WeekMetrics(m, {"metrics": unflatten(r)}) for m, r in sorted(grouped.items())]


def season_documents(
    weeks: Sequence[WeekMetrics], *, week_start: date, baseline: int, years: int = 2
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The week of ``week_start`` in each of the ``years`` earlier years that the recorded
    ``weeks`` hold (52 weeks back, 104, ...), each with the up to ``baseline`` recorded weeks
    before it then: what `ai_telemetry.alert.detect.detect_anomalies` reads a yearly shape from.
    """
    by_start = {w.week_start: i for i, w in enumerate(weeks)}
    out = []
    for year in range(1, years + 1):
        at = by_start.get(week_start - timedelta(weeks=52 * year))
        if at is None:
            continue
        before = [w.document for w in weeks[max(0, at - baseline) : at]]
        out.append((weeks[at].document, before))
    return out


def root_cause_counts(
    store: Store, *, end: datetime, days: int = ROOT_CAUSE_DAYS, project: str | None = None
) -> dict[str, int]:
    """Incidents opened per root cause in the ``days`` days before ``end`` (of ``project``)."""
    stop = end.astimezone(UTC).replace(tzinfo=None)
    return store.root_causes(stop - timedelta(days=days), stop, project=project)


ROOT_CAUSE_WINDOWS: Final = 13
"""How many earlier 28-day windows (about a year) Incident Repeat's evidence looks back on."""


def root_cause_windows(
    store: Store,
    *,
    end: datetime,
    history: Iterable[WeekMetrics] = (),
    windows: int = ROOT_CAUSE_WINDOWS,
    full: int = 12,
    project: str | None = None,
) -> list[dict[str, int]]:
    """Incidents per root cause in the earlier, non-overlapping 28-day windows, oldest first.

    The windows end 28, 56, ... days before ``end``. When ``history`` holds fewer weeks than
    ``full`` (telemetry began within it), only windows that start on or after its first week
    count: a window before telemetry began would say "never happened" for every cause. Without
    history, none.
    """
    weeks = [w.week_start for w in history]
    if not weeks:
        return []
    first = datetime.combine(min(weeks), datetime.min.time(), UTC)
    if len(weeks) >= full:
        first = datetime.min.replace(tzinfo=UTC)
    out = []
    for k in range(1, windows + 1):
        stop = end - timedelta(days=ROOT_CAUSE_DAYS * k)
        if stop - timedelta(days=ROOT_CAUSE_DAYS) < first:
            break
        out.append(root_cause_counts(store, end=stop, project=project))
    return out[::-1]
