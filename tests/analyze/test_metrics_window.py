"""Windows: day, ISO week, month, last N days, and parsing --start/--end."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ai_telemetry.analyze.window import Window, parse_moment
from ai_telemetry.errors import AnalyticsError


def test_iso_week_runs_monday_to_monday() -> None:
    """ISO week 51 of 2025 is Monday 15 December 00:00Z to Monday 22 December."""
    assert {"start": "2025-12-15T00:00:00Z", "end": "2025-12-22T00:00:00Z"} == Window.iso_week(
        2025, 51
    ).as_dict()


def test_month_window_crosses_year_end() -> None:
    """December's window ends on 1 January of the next year."""
    assert datetime(2026, 1, 1, tzinfo=UTC) == Window.month(2025, 12).end


def test_day_and_week_of() -> None:
    """A day is 24 hours; week_of finds the Monday of a Sunday."""
    assert (1.0, date(2025, 12, 15)) == (
        Window.day(date(2025, 12, 16)).days,
        Window.week_of(date(2025, 12, 21)).start.date(),
    )


def test_parse_moment_reads_offsets_and_bare_dates_as_utc() -> None:
    """--start accepts the seed's `date -Iseconds` output, Z, and bare dates."""
    assert [datetime(2025, 12, 15, 12, tzinfo=UTC)] * 3 == [
        parse_moment("2025-12-15T14:00:00+02:00"),
        parse_moment("2025-12-15T12:00:00Z"),
        parse_moment("2025-12-15T12:00:00"),
    ]


def test_bad_window_is_a_clear_error() -> None:
    """An unparsable time or an end before the start raises AnalyticsError."""
    with pytest.raises(AnalyticsError, match="not a date or time"):
        parse_moment("last tuesday", option="--start")
    with pytest.raises(AnalyticsError, match="swap --start and --end"):
        Window(datetime(2025, 12, 2, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC))
