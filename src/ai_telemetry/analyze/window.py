"""Parsing time windows for metrics: ``--start/--end``, ``7d``, ``START/END``.

The `Window` type itself (half-open, ``[start, end)``, UTC; day, ISO week, month) lives in
`ai_telemetry.ports`, below both analysis and storage; it is re-exported here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ai_telemetry.errors import AnalyticsError
from ai_telemetry.ports import Window


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


__all__ = ["Window", "parse_moment", "parse_window", "window_from"]
