"""The composition root: `open_store` picks the store from the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_telemetry.config import Settings
from ai_telemetry.errors import ConfigError
from ai_telemetry.ports import Store, Window
from ai_telemetry.store.duckdb_store import DuckDBStore
from ai_telemetry.stores import open_store


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(telemetry_dir=tmp_path, log_path=tmp_path / "events.jsonl", extra=extra)


def test_default_is_the_embedded_duckdb_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without AI_TELEMETRY_STORE or [store] url the store is the DuckDB warehouse."""
    monkeypatch.delenv("AI_TELEMETRY_STORE", raising=False)
    store = open_store(_settings(tmp_path))
    assert (True, True) == (isinstance(store, DuckDBStore), isinstance(store, Store))


def test_an_unknown_scheme_is_one_clear_error_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mysql:// URL (not a store kind) is refused, naming the variable, never the secret."""
    monkeypatch.setenv("AI_TELEMETRY_STORE", "mysql://team:s3cret@db.example/telemetry")
    with pytest.raises(ConfigError) as caught:
        open_store(_settings(tmp_path))
    text = str(caught.value)
    assert ("AI_TELEMETRY_STORE" in text, "'mysql'" in text, "s3cret" in text) == (
        True,
        True,
        False,
    )


def test_config_section_names_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """[store] url in config.toml is read when the environment says nothing."""
    monkeypatch.delenv("AI_TELEMETRY_STORE", raising=False)
    with pytest.raises(ConfigError, match=r"\[store\] url"):
        open_store(_settings(tmp_path, store={"url": "sqlite:///x.db"}))


def test_store_roundtrip_of_the_weekly_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """record_week, weeks, series and prune_history through the protocol."""
    from datetime import date

    monkeypatch.delenv("AI_TELEMETRY_STORE", raising=False)
    monday, later = date(2025, 12, 1), date(2025, 12, 8)
    with open_store(_settings(tmp_path)) as store:
        store.record_week(monday, [("events_total", "", 3.0), ("x", "k", 1.5)], generation=4)
        store.record_week(later, [("events_total", "", 0.0)], generation=5)
        weeks = store.weeks()
        one = [(r.week_start, r.value) for r in store.series("x", key="k", weeks=(monday, later))]
        pruned = store.prune_history(before=later)
        left = [r.week_start for r in store.series(weeks=(monday, later))]
    assert ({monday: 4, later: 5}, [(monday, 1.5)], 2, [later]) == (weeks, one, pruned, left)


def test_top_refuses_an_unknown_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Store.top` of something it does not rank is an AnalyticsError naming the kinds."""
    from datetime import UTC, datetime

    from ai_telemetry.errors import AnalyticsError

    monkeypatch.delenv("AI_TELEMETRY_STORE", raising=False)
    window = Window(datetime(2025, 12, 1, tzinfo=UTC), datetime(2025, 12, 8, tzinfo=UTC))
    with open_store(_settings(tmp_path)) as store, pytest.raises(AnalyticsError, match="skills"):
        store.top("weather", window)


def test_partitions_are_months_and_drop_keeps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events of Nov and Dec: two partitions; dropping before Dec 1 leaves December's."""
    from datetime import date

    from store_test_helpers import append_raw, event

    monkeypatch.delenv("AI_TELEMETRY_STORE", raising=False)
    settings = _settings(tmp_path)
    append_raw(settings, [event("2025-11-20T10:00:00Z", 1), event("2025-12-02T10:00:00Z", 2)])
    with open_store(settings) as store:
        store.ingest()
        before = store.generation()
        parts = [(p.start, p.end, p.events) for p in store.partitions()]
        dropped = store.drop_partitions(date(2025, 12, 1))
        after = ([p.start for p in store.partitions()], store.count(), store.generation() > before)
    assert (
        [(date(2025, 11, 1), date(2025, 12, 1), 1), (date(2025, 12, 1), date(2026, 1, 1), 1)],
        1,
        ([date(2025, 12, 1)], 1, True),
    ) == (parts, dropped, after)
