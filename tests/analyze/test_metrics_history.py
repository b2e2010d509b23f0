"""The weekly metric history: recording, back-fill, metric_series, flattening."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from metrics_test_helpers import ev, make_settings, write_jsonl

from ai_telemetry.analyze.history import flatten, metric_series, record_weeks
from ai_telemetry.store.duckdb_store import DuckDBStore

NOW = datetime(2025, 12, 24, 12, 0, tzinfo=UTC)  # a Wednesday: last complete week starts 12-15


def _week_of_runs(monday: str, n: int) -> list[dict[str, object]]:
    return [
        ev(
            f"{monday}T10:{i:02d}:00Z",
            "skill_execution",
            skill="dbg",
            outcome="success",
            duration_seconds=10.0 * (i + 1),
        )
        for i in range(n)
    ]


def test_metric_series_gives_one_value_per_complete_week(tmp_path: Path) -> None:
    """metric_series returns (monday, value) oldest first, None for a week without data."""
    settings = make_settings(tmp_path)
    write_jsonl(settings, _week_of_runs("2025-12-01", 2) + _week_of_runs("2025-12-15", 5))
    series = metric_series("skill_invocation_total", key="dbg", weeks=3, settings=settings, now=NOW)
    assert [
        (date(2025, 12, 1), 2.0),
        (date(2025, 12, 8), None),
        (date(2025, 12, 15), 5.0),
    ] == series


def test_metric_series_reads_statistics_by_dotted_name(tmp_path: Path) -> None:
    """A percentile is addressed as metric.p50 with its key."""
    settings = make_settings(tmp_path)
    write_jsonl(settings, _week_of_runs("2025-12-15", 3))
    series = metric_series(
        "skill_duration_seconds.p50", key="dbg", weeks=1, settings=settings, now=NOW
    )
    assert [(date(2025, 12, 15), 20.0)] == series


def test_newest_week_is_recomputed_when_events_arrive(tmp_path: Path) -> None:
    """Events added after a week was recorded update that week on the next read."""
    settings = make_settings(tmp_path)
    write_jsonl(settings, _week_of_runs("2025-12-15", 1))
    metric_series("skill_invocation_total", key="dbg", weeks=1, settings=settings, now=NOW)
    write_jsonl(
        settings, [ev("2025-12-16T09:00:00Z", "skill_execution", skill="dbg", outcome="error")]
    )
    series = metric_series("skill_invocation_total", key="dbg", weeks=1, settings=settings, now=NOW)
    assert [(date(2025, 12, 15), 2.0)] == series


def test_backfill_recomputes_past_weeks(tmp_path: Path) -> None:
    """record_weeks(refresh=True) rewrites past weeks that late events changed."""
    settings = make_settings(tmp_path)
    write_jsonl(settings, _week_of_runs("2025-12-08", 1))
    metric_series("skill_invocation_total", key="dbg", weeks=2, settings=settings, now=NOW)
    write_jsonl(settings, _week_of_runs("2025-12-09", 2))
    with DuckDBStore(settings) as wh:
        wh.ingest()
        written = record_weeks(wh, 2, now=NOW, refresh=True)
    series = metric_series("skill_invocation_total", key="dbg", weeks=2, settings=settings, now=NOW)
    assert (
        [date(2025, 12, 8), date(2025, 12, 15)],
        [(date(2025, 12, 8), 3.0), (date(2025, 12, 15), None)],
    ) == (written, series)


def test_backfill_starts_at_the_week_of_the_first_event(tmp_path: Path) -> None:
    """--backfill-weeks 100000 records the weeks since the first event, not 1,900 years of
    empty ones (which would read as weeks without events, and take hours)."""
    settings = make_settings(tmp_path)
    with DuckDBStore(settings) as wh:  # no events yet: no history at all
        assert [] == record_weeks(wh, 4, now=NOW)
    write_jsonl(settings, _week_of_runs("2025-12-03", 1) + _week_of_runs("2025-12-15", 1))
    with DuckDBStore(settings) as wh:
        wh.ingest()
        written = record_weeks(wh, 100_000, now=NOW, refresh=True)
    assert [date(2025, 12, 1), date(2025, 12, 8), date(2025, 12, 15)] == written


def test_flatten_names_scalars_keys_and_statistics() -> None:
    """flatten turns numbers, keyed objects and stats objects into (metric, key, value) rows."""
    rows = set(
        flatten(
            {
                "learning_implementation_rate": 0.5,
                "skill_success_rate": {"a": 1.0},
                "skill_duration_seconds": {"a": {"p50": 2.0}},
                "incident_mttr_seconds": {"p50": 60.0},
                "cache_hit_rate": None,
            }
        )
    )
    assert {
        ("learning_implementation_rate", "", 0.5),
        ("skill_success_rate", "a", 1.0),
        ("skill_duration_seconds.p50", "a", 2.0),
        ("incident_mttr_seconds.p50", "", 60.0),
    } == rows
