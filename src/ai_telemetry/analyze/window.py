"""Time windows for metrics: day, ISO week (Monday 00:00Z to the next Monday), month, custom.

A window is half-open, ``[start, end)``, in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ai_telemetry.errors import AnalyticsError


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_moment(text: str, *, option: str = "time") -> datetime:
    """Parse a date or an ISO 8601 / RFC 3339 time as given to ``--start`` / ``--end``.

    A time without an offset is read as UTC; a bare date is its midnight UTC.

    Raises:
        AnalyticsError: the text is neither; the message shows the form to use.
    """
    value = text.strip()
    if value[-1:] in ("z", "Z"):
        value = value[:-1] + "+00:00"
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        raise AnalyticsError(
            f"{option} {text!r} is not a date or time; write 2025-12-15 or 2025-12-15T14:30:00Z"
        ) from None


def window_from(
    start: str | None,
    end: str | None,
    *,
    days: int = 7,
    now: datetime | None = None,
    names: tuple[str, str] = ("--start", "--end"),
) -> Window:
    """The window ``aggregate --start/--end`` means: ``end`` default now, ``start`` ``days`` before.

    Args:
        start: a date or RFC 3339 time, or None.
        end: the same (exclusive), or None for ``now``.
        days: the length when ``start`` is not given.
        now: the clock.
        names: how the two values are called in error messages.

    Raises:
        AnalyticsError: a value is not a date or time, or the end is not after the start.
    """
    end_at = parse_moment(end, option=names[1]) if end else _utc(now or datetime.now(UTC))
    start_at = parse_moment(start, option=names[0]) if start else end_at - timedelta(days=days)
    return Window(start_at, end_at)


def parse_window(text: str, *, now: datetime | None = None) -> Window:
    """A window written as ``7d`` (the N days ending now) or ``START/END`` (ISO 8601 interval).

    Raises:
        AnalyticsError: neither form; the message shows both.
    """
    value = text.strip()
    hint = "write 7d (the last 7 days) or 2025-12-01/2025-12-08 (start/end, end exclusive)"
    if value[:-1].isdigit() and value[-1:] in ("d", "D"):
        days = int(value[:-1])
        if days < 1:
            raise AnalyticsError(f"window {text!r}: at least one day; {hint}")
        return window_from(None, None, days=days, now=now)
    start, sep, end = value.partition("/")
    if not sep or not start or not end:
        raise AnalyticsError(f"window {text!r} is neither form; {hint}")
    return window_from(start, end, names=("window start", "window end"))


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
        """(start, end) as naive UTC datetimes, as the warehouse stores ``ts``."""
        return self.start.replace(tzinfo=None), self.end.replace(tzinfo=None)


def _fmt(moment: datetime) -> str:
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"
