"""usage daily|weekly|monthly|session|blocks on fixture transcripts, against hand-computed totals.

The fixture (tests/data/claude_code/usage/) has five responses; their costs, by the list prices
(USD per million tokens), worked out by hand:

- u1 2026-03-01T22:30Z sonnet-4-5: 1000 in x3 + 500 out x15 + 1000 5m-write x3.75 + 1000
  1h-write x6 + 10000 read x0.3 = 23,250 -> $0.02325
- u2 2026-03-01T23:30Z haiku-4-5: 2000 x1 + 1000 x5 = 7,000 -> $0.007
- u3a 2026-03-02T09:59:30Z sonnet-4-5: the Skill call, no tokens -> $0
- u3 2026-03-02T10:00Z sonnet-4-5, skill tdd: 100 x3 + 100 x15 + 1000 x0.3 -> $0.0021
- u4 2026-03-09T09:00Z opus-4-5: 10 x5 + 20 x25 + 1000 5m-write x6.25 -> $0.0068
- u5 2026-03-09T10:00Z sonnet-4-5: 1000 x3 -> $0.003
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ai_telemetry.analyze.usage import blocks_document, split_blocks
from ai_telemetry.cli import cli
from ai_telemetry.config import load_settings
from ai_telemetry.log.sink import append_events
from ai_telemetry.stores import open_ingested

DATA = Path(__file__).parents[1] / "data" / "claude_code" / "usage"
U1, U2, U3, U4, U5 = 0.02325, 0.007, 0.0021, 0.0068, 0.003


@pytest.fixture
def telemetry(tmp_path: Path) -> Path:
    """The fixture imported, plus two tdd runs on 2026-03-02 (one success, one error)."""
    directory = tmp_path / "Telemetry"
    result = invoke(["import", "claude-code", str(DATA)], directory)
    assert 0 == result.exit_code, result.output
    runs = [
        ("2026-03-02T10:00:00Z", "started"),
        ("2026-03-02T10:05:00Z", "success"),
        ("2026-03-02T11:00:00Z", "started"),
        ("2026-03-02T11:05:00Z", "error"),
    ]
    append_events(
        [
            {"event_type": "skill_execution", "timestamp": ts, "skill": "tdd", "outcome": o}
            for ts, o in runs
        ],
        settings=load_settings(environ={}, telemetry_dir=directory),
    )
    return directory


def invoke(args: list[str], directory: Path) -> Any:
    return CliRunner().invoke(cli, args, env={"AI_TELEMETRY_DIR": str(directory)})


def report(directory: Path, *args: str) -> dict[str, Any]:
    result = invoke(["usage", *args, "--json"], directory)
    assert 0 == result.exit_code, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def costs(document: dict[str, Any]) -> dict[str, float]:
    return {r["key"]: r["cost_usd"] for r in document["rows"]}


def test_daily_in_utc(telemetry: Path) -> None:
    """Days are UTC days by default; totals are the five responses."""
    document = report(telemetry, "daily")
    assert {
        "2026-03-01": pytest.approx(U1 + U2),
        "2026-03-02": pytest.approx(U3),
        "2026-03-09": pytest.approx(U4 + U5),
    } == costs(document)
    totals = document["totals"]
    assert (6, 4110, 1620, 2000, 1000, 11000) == (
        totals["requests"],
        totals["input_tokens"],
        totals["output_tokens"],
        totals["cache_creation_5m_tokens"],
        totals["cache_creation_1h_tokens"],
        totals["cache_read_tokens"],
    )
    assert totals["cost_usd"] == pytest.approx(U1 + U2 + U3 + U4 + U5)


def test_daily_follows_the_timezone(telemetry: Path) -> None:
    """In Berlin (UTC+1 in March) u2 at 23:30Z falls on 2 March."""
    document = report(telemetry, "daily", "--timezone", "Europe/Berlin")
    assert {
        "2026-03-01": pytest.approx(U1),
        "2026-03-02": pytest.approx(U2 + U3),
        "2026-03-09": pytest.approx(U4 + U5),
    } == costs(document)
    assert "Europe/Berlin" == document["timezone"]


def test_since_and_until_are_local_days_included(telemetry: Path) -> None:
    """--since/--until keep whole local days (ccusage's YYYYMMDD form accepted)."""
    document = report(telemetry, "daily", "--since", "20260302", "--until", "2026-03-02")
    assert {"2026-03-02": pytest.approx(U3)} == costs(document)


def test_weekly_starts_on_monday(telemetry: Path) -> None:
    """1 March 2026 is a Sunday: its week began on 23 February."""
    assert {
        "2026-02-23": pytest.approx(U1 + U2),
        "2026-03-02": pytest.approx(U3),
        "2026-03-09": pytest.approx(U4 + U5),
    } == costs(report(telemetry, "weekly"))


def test_monthly(telemetry: Path) -> None:
    """One month holds everything."""
    assert {"2026-03": pytest.approx(U1 + U2 + U3 + U4 + U5)} == costs(report(telemetry, "monthly"))


def test_session_by_session_id_with_project(telemetry: Path) -> None:
    """Sessions by sessionId, each with the project named from its cwd."""
    document = report(telemetry, "session")
    rows = {r["key"]: (r["cost_usd"], r["project"], r["requests"]) for r in document["rows"]}
    assert {
        "sess-usage-1": (pytest.approx(U1 + U2 + U3), "alpha", 4),
        "sess-usage-2": (pytest.approx(U4 + U5), "beta", 2),
    } == rows


def test_breakdown_by_model_most_cost_first(telemetry: Path) -> None:
    """--breakdown model splits each day; the parts add up to the day."""
    day = report(telemetry, "daily", "--breakdown", "model")["rows"][0]
    parts = [(p["name"], p["cost_usd"]) for p in day["breakdown"]]
    assert [
        ("claude-sonnet-4-5-20250929", pytest.approx(U1)),
        ("claude-haiku-4-5-20251001", pytest.approx(U2)),
    ] == parts


def test_breakdown_by_skill_has_the_success_rate_beside_the_cost(telemetry: Path) -> None:
    """tdd on 2 March: its cost and 1 of 2 runs succeeded; the Skill call itself has none."""
    rows = report(telemetry, "daily", "--breakdown", "skill")["rows"]
    [day] = [r for r in rows if r["key"] == "2026-03-02"]
    parts = {p["name"]: p for p in day["breakdown"]}
    assert parts["tdd"]["cost_usd"] == pytest.approx(U3)
    assert (2, 0.5) == (parts["tdd"]["skill_runs"], parts["tdd"]["skill_success_rate"])
    assert (0.0, 0, None) == (
        parts["(none)"]["cost_usd"],
        parts["(none)"]["skill_runs"],
        parts["(none)"]["skill_success_rate"],
    )


def test_breakdown_by_project(telemetry: Path) -> None:
    """--breakdown project on the month: alpha and beta."""
    [month] = report(telemetry, "monthly", "--breakdown", "project")["rows"]
    assert {"alpha": pytest.approx(U1 + U2 + U3), "beta": pytest.approx(U4 + U5)} == {
        p["name"]: p["cost_usd"] for p in month["breakdown"]
    }


def test_blocks_and_the_active_one_projected(telemetry: Path) -> None:
    """Three 5-hour blocks; at 11:00 on 9 March the last is active, 3 h left, projected."""
    settings = load_settings(environ={}, telemetry_dir=telemetry)
    with open_ingested(settings, progress=False) as wh:
        document = blocks_document(wh, now=datetime(2026, 3, 9, 11, 0, tzinfo=UTC))
    starts = [b["start"] for b in document["blocks"]]
    assert ["2026-03-01T22:00:00Z", "2026-03-02T09:00:00Z", "2026-03-09T09:00:00Z"] == starts
    assert [pytest.approx(U1 + U2), pytest.approx(U3), pytest.approx(U4 + U5)] == [
        b["cost_usd"] for b in document["blocks"]
    ]
    active = document["active"]
    assert active is not None
    assert active["start"] == "2026-03-09T09:00:00Z"
    assert (180.0, 2030.0, 8120) == (
        active["remaining_minutes"],
        active["burn_tokens_per_hour"],
        active["projected_tokens"],
    )
    assert active["burn_cost_per_hour"] == pytest.approx(U4 + U5)
    assert active["projected_cost_usd"] == pytest.approx(4 * (U4 + U5))
    assert [False, False, True] == [b["active"] for b in document["blocks"]]


def test_no_active_block_long_after(telemetry: Path) -> None:
    """Today (months later) no block is active; the text says so."""
    assert report(telemetry, "blocks")["active"] is None
    assert "no active block" in invoke(["usage", "blocks"], telemetry).stdout


def test_a_gap_of_five_hours_starts_a_new_block() -> None:
    """A response 5 h after the previous one starts a block even inside the window."""
    from ai_telemetry.analyze.usage import Response

    def at(hour: int, minute: int = 0) -> Response:
        ts = datetime(2026, 1, 1, hour, minute, tzinfo=UTC)
        return Response(ts, "m", None, None, None, None, 1, 0, 0, 0, 0, 0.0)

    blocks = split_blocks([at(0, 10), at(4, 59), at(10), at(10, 30)])
    assert [(0, 2), (10, 2)] == [(s.hour, len(m)) for s, m in blocks]


def test_text_table_shows_the_document_numbers(telemetry: Path) -> None:
    """The text report prints the same totals as --json."""
    document = report(telemetry, "daily")
    text = invoke(["usage", "daily"], telemetry).stdout
    total = next(line for line in text.splitlines() if line.startswith("total"))
    assert f"{document['totals']['total_tokens']:,}" in total
    assert f"${document['totals']['cost_usd']:,.2f}" in total


def test_a_bad_timezone_is_a_clear_error(telemetry: Path) -> None:
    """--timezone Mars/Base: one line naming the option, exit 1."""
    result = invoke(["usage", "daily", "--timezone", "Mars/Base"], telemetry)
    assert 1 == result.exit_code
    assert "--timezone 'Mars/Base': unknown time zone" in result.stderr


def test_the_same_response_from_two_sources_counts_once(telemetry: Path) -> None:
    """An llm_request for u5 from another source (other event id) does not double it."""
    append_events(
        [
            {
                "event_type": "llm_request",
                "timestamp": "2026-03-09T10:00:01Z",
                "model": "claude-sonnet-4-5-20250929",
                "input_tokens": 1000,
                "output_tokens": 0,
                "request_id": "req_u5",
                "cost_usd": U5,
            }
        ],
        settings=load_settings(environ={}, telemetry_dir=telemetry),
        source="otlp",
    )
    assert {"2026-03-09": pytest.approx(U4 + U5)} == {
        k: v for k, v in costs(report(telemetry, "daily")).items() if k == "2026-03-09"
    }


def test_a_skill_that_ran_without_usage_still_shows_its_rate(telemetry: Path) -> None:
    """Runs of a skill with no attributed response: a row with no cost and its success rate."""
    append_events(
        [
            {"event_type": "skill_execution", "timestamp": ts, "skill": "review", "outcome": o}
            for ts, o in [("2026-03-09T09:10:00Z", "started"), ("2026-03-09T09:20:00Z", "success")]
        ],
        settings=load_settings(environ={}, telemetry_dir=telemetry),
    )
    rows = report(telemetry, "daily", "--breakdown", "skill")["rows"]
    [day] = [r for r in rows if r["key"] == "2026-03-09"]
    review = next(p for p in day["breakdown"] if p["name"] == "review")
    assert (0.0, 0, 1, 1.0) == (
        review["cost_usd"],
        review["requests"],
        review["skill_runs"],
        review["skill_success_rate"],
    )
