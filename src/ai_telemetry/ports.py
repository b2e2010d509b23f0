"""The seam between analysis and storage: the `Window` type and the `Store` protocol.

Everything above storage (analyze/, report/, alert/, export/, serve/, the CLI) reads events and
the weekly history through a `Store`; the stores (``ai_telemetry.store``: the embedded DuckDB
warehouse today, PostgreSQL next) implement it. `ai_telemetry.stores.open_store` picks one
from the configuration. This module imports only the standard library, `ai_telemetry.events`
and `ai_telemetry.errors`, so both sides can depend on it and on nothing of each other.

A window is half-open, ``[start, end)``, in UTC; a week is named by its Monday (a `date`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import TracebackType
from typing import Any, Final, Protocol, Self, runtime_checkable

from ai_telemetry.errors import AnalyticsError
from ai_telemetry.events.schema import TERMINAL_OUTCOMES

STAT_KEYS: Final = frozenset(
    {"p50", "p95", "p99", "min", "max", "mean", "input", "output", "cache_creation", "cache_read"}
)
"""The keys of a statistics object (``{"p50": ..., "p95": ...}``, token kinds): a history row
``metric.stat`` with one of these splits back into ``metric`` and ``stat``."""

TOP_KINDS: Final = ("skills", "agents", "tools", "errors")
"""What `Store.top` ranks."""

__all__ = [
    "STAT_KEYS",
    "TERMINAL_OUTCOMES",
    "TOP_KINDS",
    "HistoryRow",
    "Incident",
    "IngestResult",
    "LearningRow",
    "Partition",
    "SkillRun",
    "Store",
    "TopRow",
    "Window",
]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _fmt(moment: datetime) -> str:
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open UTC time window ``[start, end)``.

    Raises:
        AnalyticsError: ``end`` is not after ``start``.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _utc(self.start))
        object.__setattr__(self, "end", _utc(self.end))
        if self.end <= self.start:
            raise AnalyticsError(
                f"window end {self.end:%Y-%m-%dT%H:%M:%SZ} is not after its start "
                f"{self.start:%Y-%m-%dT%H:%M:%SZ}; swap --start and --end"
            )

    @classmethod
    def day(cls, day: date) -> Window:
        """The UTC day ``day``."""
        start = datetime.combine(day, time(), UTC)
        return cls(start, start + timedelta(days=1))

    @classmethod
    def iso_week(cls, year: int, week: int) -> Window:
        """ISO week ``week`` of ``year``: Monday 00:00Z to the next Monday."""
        start = datetime.combine(date.fromisocalendar(year, week, 1), time(), UTC)
        return cls(start, start + timedelta(days=7))

    @classmethod
    def week_of(cls, moment: date | datetime) -> Window:
        """The ISO week holding ``moment``."""
        day = moment.date() if isinstance(moment, datetime) else moment
        iso = day.isocalendar()
        return cls.iso_week(iso.year, iso.week)

    @classmethod
    def month(cls, year: int, month: int) -> Window:
        """Calendar month ``month`` of ``year``."""
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return cls(start, end)

    @classmethod
    def last_days(cls, days: int, *, now: datetime | None = None) -> Window:
        """The ``days`` days ending at ``now`` (the seed's ``date -d '7 days ago'``)."""
        end = _utc(now or datetime.now(UTC))
        return cls(end - timedelta(days=days), end)

    @property
    def days(self) -> float:
        """Length in days."""
        return (self.end - self.start).total_seconds() / 86400

    @property
    def weeks(self) -> float:
        """Length in weeks."""
        return self.days / 7

    def as_dict(self) -> dict[str, str]:
        """``{"start": ..., "end": ...}`` as RFC 3339 UTC strings."""
        return {"start": _fmt(self.start), "end": _fmt(self.end)}

    def naive(self) -> tuple[datetime, datetime]:
        """(start, end) as naive UTC datetimes, as the stores keep ``ts``."""
        return self.start.replace(tzinfo=None), self.end.replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class TopRow:
    """One ranked name with its count (`Store.top`)."""

    name: str
    count: int


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One value of the weekly history: ``(week_start, metric, key, value)``.

    ``metric`` is a catalogue name, ``name.stat`` for a statistic (``skill_duration_seconds.p95``)
    or ``events_total``; ``key`` is the skill, agent, tool, ... or ``""``.
    """

    week_start: date
    metric: str
    key: str
    value: float


@dataclass(frozen=True, slots=True)
class Partition:
    """One time partition of a store's events: ``[start, end)`` (UTC days) and its events."""

    start: date
    end: date
    events: int


class IngestResult(Protocol):
    """What one `Store.ingest` did (the DuckDB store's ``IngestReport`` has more fields)."""

    @property
    def lines(self) -> int:
        """Complete lines read from the log this time."""

    @property
    def bad_lines(self) -> int:
        """Of those, lines that are not usable events."""

    @property
    def inserted(self) -> int:
        """New events stored."""

    @property
    def redacted(self) -> int:
        """String values the privacy guard changed in the stored copy."""


@dataclass(frozen=True, slots=True)
class SkillRun:
    """One terminal ``skill_execution`` event that recorded its task's folders."""

    skill: str
    ts: datetime
    """Naive UTC, as the warehouse keeps it."""
    outcome: str
    duration_seconds: float | None
    folders: tuple[str, ...]
    task_kind: str | None


@dataclass(frozen=True, slots=True)
class LearningRow:
    """One learning entry as its events tell it (`Store.learnings`); times naive UTC."""

    learning_id: str
    created: datetime
    severity: str | None
    source: str | None
    skill: str | None
    learning_type: str | None
    tags: str | None
    """Comma-separated, as the event carries them."""
    implemented: datetime | None


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident opened (its first ``incident_opened`` event); ``opened`` naive UTC."""

    id: str
    opened: datetime
    severity: str | None
    root_cause: str | None
    learning_id: str | None


@runtime_checkable
class Store(Protocol):
    """Where events and the weekly metric history live; all analysis reads through this.

    Times are naive-or-aware `datetime` (read as UTC); weeks are their Monday as a `date`.
    A ``project`` argument narrows a method to that project's events (None: every project).
    Errors are `AnalyticsError` (``QueryRefusedError`` for a refused `query`). Use as a
    context manager; one store is used by one thread at a time.
    """

    def __enter__(self) -> Self:
        """Open the store (connect, take its lock, create what is missing)."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store (turning a full or read-only disk into one clear error)."""

    def close(self) -> None:
        """Release the connection and the lock; a closed store may be opened again."""

    @property
    def source(self) -> str:
        """Where the events come from, for messages (a path, or a URL without a password)."""

    def ingest(self) -> IngestResult:
        """Read what is new in the log and its archives into the store."""

    def generation(self) -> int:
        """A counter that grows whenever events are added (caches are keyed by it)."""

    def count(self) -> int:
        """Events stored."""

    def bad_lines(self) -> int:
        """Unusable lines seen in the current log so far."""

    def first_event(self) -> datetime | None:
        """The (naive UTC) time of the earliest stored event, None when there is none."""

    def catalogue(self, window: Window, *, project: str | None = None) -> dict[str, Any]:
        """METRICS.md's catalogue for ``window``: ``{"events": {...}, "metrics": {...}}``."""

    def top(
        self, kind: str, window: Window, *, limit: int = 5, project: str | None = None
    ) -> list[TopRow]:
        """The ``limit`` most frequent skills, agents, tools or errors (`TOP_KINDS`)."""

    def skill_runs(
        self, lo: datetime, hi: datetime, *, project: str | None = None
    ) -> list[tuple[str, datetime, str]]:
        """Finished skill executions (skill, naive UTC start, outcome) started in ``[lo, hi)``."""

    def llm_responses(
        self,
        lo: datetime,
        hi: datetime,
        *,
        session_id: str | None = None,
        project: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Each LLM response in ``[lo, hi)`` once, oldest first: (ts, model, project, skill,
        agent, session_id, input, output, cache_creation, cache_creation_1h, cache_read, cost)."""

    def root_causes(
        self, lo: datetime, hi: datetime, *, project: str | None = None
    ) -> dict[str, int]:
        """Incidents opened per root cause in ``[lo, hi)`` (naive UTC), of ``project`` when
        given."""

    def skill_version_runs(
        self, *, before: datetime
    ) -> list[tuple[str, str, datetime, str, float | None, float | None]]:
        """Finished skill runs with a ``skill_version`` before ``before``, oldest first: skill,
        version, ts (naive UTC), outcome, duration_seconds, context_tokens."""

    def task_runs(
        self, *, until: datetime | None = None, project: str | None = None
    ) -> list[SkillRun]:
        """Finished skill runs that recorded their task's ``folders``, before ``until`` (naive
        UTC; None: all), oldest first: what the skill recommender ranks from."""

    def learnings(
        self, *, until: datetime, as_of: datetime, project: str | None = None
    ) -> list[LearningRow]:
        """Learnings created before ``until``, implemented if so before ``as_of`` (naive UTC),
        oldest first."""

    def incidents(self, *, until: datetime, project: str | None = None) -> list[Incident]:
        """Incidents opened before ``until`` (naive UTC), oldest first."""

    def skills_seen(self, *, before: datetime, project: str | None = None) -> set[str]:
        """Skills that ran or were loaded before ``before`` (naive UTC)."""

    def skill_outcomes(
        self, skill: str, *, project: str | None = None
    ) -> list[tuple[datetime, str | None, str, float | None, float | None]]:
        """Every finished run of ``skill``, oldest first: ts (naive UTC), skill_version,
        outcome, duration_seconds, context_tokens."""

    def errors_by_type(
        self, name: str, *, since: datetime, until: datetime, project: str | None = None
    ) -> list[tuple[str, int]]:
        """``(error_type, count)`` of the errors of the skill, agent or tool ``name`` in
        ``[since, until)`` (naive UTC), most frequent first."""

    def record_week(
        self,
        week_start: date,
        rows: Iterable[tuple[str, str, float]],
        *,
        generation: int,
        project: str | None = None,
    ) -> int:
        """Replace the history of one week with ``(metric, key, value)`` rows; return them.

        ``project`` None is the whole store's history; a name, that project's own (its events
        only), kept beside it."""

    def weeks(self, *, project: str | None = None) -> dict[date, int]:
        """The recorded weeks (of ``project``): Monday -> the `generation` it was recorded at."""

    def series(
        self,
        metric: str | None = None,
        *,
        key: str | None = None,
        weeks: tuple[date, date],
        project: str | None = None,
    ) -> list[HistoryRow]:
        """History rows (of ``project``) of the Mondays ``weeks[0]..weeks[1]`` (inclusive),
        oldest first; all metrics when ``metric`` is None, else that metric (and ``key``, ""
        when None)."""

    def prune_history(self, *, before: date) -> int:
        """Delete the history (of every project) of weeks starting before ``before``; return
        the rows deleted."""

    def partitions(self) -> list[Partition]:
        """The time partitions of the stored events, oldest first."""

    def drop_partitions(self, before: date) -> int:
        """Drop stored events of partitions ending on or before ``before``; return how many."""

    def query(
        self, sql: str, *, project: str | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run someone's read-only SQL on a locked-down connection: column names, rows (with
        ``project``, ``events`` and its views show only that project's events)."""
