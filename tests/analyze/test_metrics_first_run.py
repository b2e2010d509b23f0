"""The first ``aggregate`` over a large log: answered from the log, warehouse built behind it.

``compute_metrics(..., from_log=True)`` must give the warehouse's document (every catalogue
test checks that too, through `metrics_test_helpers.document`); these tests cover what those
do not: the demo's realistic mix over many windows, unusable lines, repeated and missing ids,
a torn last line, the archives, and the background build (a real child process, waited for on
the warehouse lock).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from metrics_test_helpers import ev, make_settings, write_jsonl

from ai_telemetry.analyze import catchup
from ai_telemetry.analyze.aggregate import CACHE_NAME, aggregate, answers_from_log
from ai_telemetry.analyze.metrics import compute_metrics
from ai_telemetry.analyze.window import Window
from ai_telemetry.collect.sdk import state_dir
from ai_telemetry.config import Settings
from ai_telemetry.demo import generate
from ai_telemetry.doctor import run_checks
from ai_telemetry.store.retention import apply_retention
from ai_telemetry.store.warehouse import WAREHOUSE_FILE, Warehouse

END = datetime(2025, 12, 22, tzinfo=UTC)  # a Monday
NOW = END + timedelta(days=2)


def _both(settings: Settings, window: Window, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (warehouse, from the log) documents, at the same clock."""
    args: dict[str, Any] = {"settings": settings, "allow_empty": True, "progress": False, **kw}
    stored = compute_metrics(window, now=NOW, **args)
    direct = compute_metrics(window, now=NOW, from_log=True, **args)
    return stored, direct


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path)
    write_jsonl(settings, generate(weeks=10, seed=3, end=END).events)
    return settings


def test_demo_mix_gives_the_same_document_for_every_window(demo: Settings) -> None:
    """Weeks, a day, a month and the whole range; all projects and one."""
    windows = [Window.week_of((END - timedelta(weeks=k)).date()) for k in range(1, 11, 3)]
    windows += [
        Window(END - timedelta(days=3), END - timedelta(days=2)),
        Window(END - timedelta(days=30), END),
        Window(END - timedelta(days=400), END + timedelta(days=30)),
    ]
    project = orjson.loads(demo.log_path.read_bytes().split(b"\n", 1)[0])["project"]
    for window in windows:
        for proj in (None, project):
            stored, direct = _both(demo, window, project=proj)
            assert stored["events"]["total"] > 0
            assert stored == direct, (window, proj)


def test_bad_lines_repeated_and_missing_ids_and_a_torn_line(tmp_path: Path) -> None:
    """Unusable lines are counted alike; a later copy of an id wins; id-less events stay
    distinct (and identical id-less lines are one event); a line without its newline waits."""
    settings = make_settings(tmp_path)
    run = {"skill": "s", "session_id": "a"}
    write_jsonl(
        settings,
        [
            ev("2025-12-16T10:00:00Z", "skill_execution", event_id="x1", outcome="error", **run),
            ev("2025-12-16T11:00:00Z", "skill_execution", outcome="success", **run),
            ev("2025-12-16T11:00:00Z", "skill_execution", outcome="success", **run),
            ev("2025-12-16T12:00:00Z", "skill_execution", outcome="error", skill="t"),
        ],
    )
    with settings.log_path.open("ab") as fh:
        fh.write(b"not json\n[1, 2]\n\n" + b'{"event_type": "tool_call"}\n')
    write_jsonl(
        settings,
        [ev("2025-12-16T10:00:00Z", "skill_execution", event_id="x1", outcome="success", **run)],
    )
    with settings.log_path.open("ab") as fh:
        fh.write(b'{"timestamp": "2025-12-16T13:00:00Z", "event_type"')
    stored, direct = _both(settings, Window.iso_week(2025, 51))
    assert stored == direct
    # x1 (its later copy: success), the two identical id-less lines as one, and t's error.
    assert ({"s": 2, "t": 1}, 1.0) == (
        direct["metrics"]["skill_invocation_total"],
        direct["metrics"]["skill_success_rate"]["s"],
    )
    # not JSON, not an object, blank, no timestamp (as validate counts them); the torn one waits
    assert 4 == direct["events"]["bad_lines"]


def test_a_later_copy_moved_across_the_windows_edge_still_replaces_the_first(
    tmp_path: Path,
) -> None:
    """The first run keeps a day around the window (30 days for executions), so a copy
    re-written with its time moved by minutes, out of the window or into it, wins as in the
    warehouse; events further away are not kept (nor needed)."""
    settings = make_settings(tmp_path)
    start = "2025-12-15T00:00:00Z"  # the ISO week 51
    llm = {"model": "m", "input_tokens": 10}
    write_jsonl(
        settings,
        [
            ev("2025-12-15T00:05:00Z", "llm_request", event_id="out", **llm),
            ev("2025-12-14T23:50:00Z", "llm_request", event_id="in", **llm),
            ev("2025-12-16T09:00:00Z", "tool_call", tool="Read", outcome="success"),
            ev("2025-12-01T09:00:00Z", "tool_call", tool="Read", outcome="success"),
        ],
    )
    write_jsonl(
        settings,
        [
            ev("2025-12-14T23:55:00Z", "llm_request", event_id="out", **llm),  # moved out
            ev("2025-12-15T00:01:00Z", "llm_request", event_id="in", **llm),  # moved in
        ],
    )
    stored, direct = _both(settings, Window.iso_week(2025, 51))
    assert stored == direct
    assert {"m": 1} == direct["metrics"]["llm_requests_total"]
    assert {"llm_request": 1, "tool_call": 1} == direct["events"]["by_type"]
    assert start == direct["window"]["start"]


def test_archived_events_count_on_the_first_run(tmp_path: Path) -> None:
    """Events moved to the Parquet archives by retention are read from there."""
    settings = make_settings(tmp_path)
    write_jsonl(settings, generate(weeks=8, seed=5, end=END).events)
    apply_retention(settings, raw_days=14, now=NOW)
    assert settings.archives_dir.is_dir()
    (settings.telemetry_dir / WAREHOUSE_FILE).unlink(missing_ok=True)
    stored, direct = _both(settings, Window(END - timedelta(weeks=8), END))
    assert stored == direct
    assert stored["events"]["total"] > 1000


def _wait_for_build(settings: Settings) -> Warehouse:
    """Open the warehouse: this waits on its lock while the background build runs."""
    wh = Warehouse(settings, lock_timeout=60)
    wh.open()
    return wh


def test_first_aggregate_answers_then_the_warehouse_is_built_behind_it(demo: Settings) -> None:
    """No warehouse yet and a log over the threshold: the document comes from the log, a
    child process builds the warehouse and records the week; then the warehouse path gives
    the same document."""
    window = Window.iso_week(2025, 51)
    first = aggregate(window, settings=demo, now=NOW, progress=False, direct_min_bytes=0)
    with _wait_for_build(demo) as wh:
        lines = demo.log_path.read_bytes().count(b"\n")
        weeks = wh.con.execute("SELECT DISTINCT week_start FROM metric_history").fetchall()
        assert (lines, [(window.start.date(),)]) == (wh.count(), weeks)
    (demo.telemetry_dir / CACHE_NAME).unlink()
    second = aggregate(window, settings=demo, now=NOW, progress=False, direct_min_bytes=0)
    assert {**first, "generated_at": None} == {**second, "generated_at": None}


def test_direct_read_only_when_the_windows_rows_fit_in_memory(demo: Settings) -> None:
    """A window whose range holds more than ``max_bytes`` of the log (from its first and last
    timestamps) is built inline: its table would not fit in memory, and the full build is as
    fast. A window far from the events is read directly; so is any window of a log under
    ``max_bytes``; never a log under ``min_bytes``, or once a warehouse exists. An unreadable
    first line leaves the direct read."""
    size = demo.log_path.stat().st_size
    limits = {"min_bytes": 0, "max_bytes": size // 2}
    assert not answers_from_log(demo, Window(END - timedelta(weeks=10), END), **limits)
    assert answers_from_log(demo, Window.iso_week(2024, 10), **limits)
    assert answers_from_log(demo, Window(END - timedelta(weeks=10), END), min_bytes=0)
    assert not answers_from_log(demo, Window.iso_week(2024, 10), min_bytes=size + 1)
    demo.log_path.write_bytes(b"not json\n" + demo.log_path.read_bytes())
    assert answers_from_log(demo, Window(END - timedelta(weeks=10), END), **limits)
    (demo.telemetry_dir / WAREHOUSE_FILE).write_bytes(b"")
    assert not answers_from_log(demo, Window.iso_week(2024, 10), **limits)


def test_small_log_is_ingested_inline(demo: Settings) -> None:
    """Under the threshold the first run builds the warehouse itself, before it returns."""
    aggregate(Window.iso_week(2025, 51), settings=demo, now=NOW, progress=False)
    with Warehouse(demo, lock_timeout=0) as wh:  # nobody else holds it
        assert demo.log_path.read_bytes().count(b"\n") == wh.count()


def test_background_build_failure_is_reported_for_doctor(
    demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child has no terminal: a failure goes to the status file ``doctor`` reads."""
    (demo.telemetry_dir / WAREHOUSE_FILE).write_bytes(b"not duckdb" * 100)
    monkeypatch.setenv("AI_TELEMETRY_DIR", str(demo.telemetry_dir))
    code = catchup.main(["--now", "2025-12-24T00:00:00Z"])
    status = (state_dir() / "sdk-status.jsonl").read_bytes().splitlines()
    kinds = [orjson.loads(line)["kind"] for line in status]
    assert (1, "warehouse_build") == (code, kinds[-1])
    shown = [c for c in run_checks(demo) if c.name == "sdk, hooks, background"]
    assert "warehouse_build: 1" in shown[0].detail


def test_groups_in_turn_give_what_they_give_side_by_side(
    demo: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over many rows the two query groups run one after the other: same document."""
    from ai_telemetry.store import duckdb_store

    window = Window(END - timedelta(days=60), END)
    side_by_side = compute_metrics(window, settings=demo, progress=False, now=NOW)
    monkeypatch.setattr(duckdb_store, "_SIDE_BY_SIDE_MAX_ROWS", 0)
    (demo.telemetry_dir / WAREHOUSE_FILE).unlink()
    in_turn = compute_metrics(window, settings=demo, progress=False, now=NOW)
    assert side_by_side["events"]["total"] > 1000
    assert side_by_side == in_turn
