"""A yearly shape that two earlier years agree on is expected, not an anomaly (issue 18 §1:
"trend and weekly or seasonal shape where the history allows")."""

from __future__ import annotations

import math
import random
from typing import Any

from ai_telemetry.alert import models
from ai_telemetry.alert.detect import DetectOptions, detect_anomalies

MODELS_ONLY = DetectOptions(rules=False)


def latency(value: float) -> dict[str, Any]:
    return {"metrics": {"mcp_tool_latency_seconds": {"p95": value}}}


def baseline(seed: int, level: float = 1.0) -> list[dict[str, Any]]:
    """Twelve ordinary weeks around ``level`` seconds (5% noise on a log scale)."""
    rng = random.Random(seed)
    return [latency(level * math.exp(rng.gauss(0, 0.05))) for _ in range(12)]


def alarms(current: float, seasons: list[Any]) -> list[str]:
    found = detect_anomalies(
        latency(current), history=baseline(1), options=MODELS_ONLY, seasons=seasons
    )
    return [a.metric for a in found]


def year(seed: int, that_week: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An earlier year's same calendar week (``that_week`` seconds) and its baseline then."""
    return latency(that_week), baseline(seed)


def test_a_holiday_week_two_years_agree_on_is_expected() -> None:
    """1.8 s in the week that was 1.75-1.85 s in both earlier years: no alarm; without them, one."""
    assert alarms(1.8, []) == ["mcp_tool_latency_seconds.p95"]
    assert alarms(1.8, [year(2, 1.85), year(3, 1.75)]) == []


def test_a_real_shift_in_the_seasonal_week_is_still_found() -> None:
    """3.6 s in that week (twice its usual holiday level) still alarms."""
    assert alarms(3.6, [year(2, 1.85), year(3, 1.75)]) == ["mcp_tool_latency_seconds.p95"]


def test_one_year_or_disagreeing_years_are_no_shape() -> None:
    """One earlier year, or two that disagree (one high, one low), change nothing."""
    assert alarms(1.8, [year(2, 1.85)]) == ["mcp_tool_latency_seconds.p95"]
    assert alarms(1.8, [year(2, 1.85), year(3, 0.6)]) == ["mcp_tool_latency_seconds.p95"]


def test_the_offset_is_the_smaller_of_the_agreeing_years() -> None:
    """Offsets +0.5 and +0.3 (on the identity scale): +0.3; the detail names the shape."""
    offset = models.seasonal_offset([(1.5, [1.0, 1.0, 1.0]), (1.3, [1.0, 1.0, 1.0])], float)
    assert offset is not None and math.isclose(offset, 0.3)
    judged = models.judge_count(
        3.0,
        [10.0, 11.0, 9.0, 10.0, 12.0, 10.0],
        side="down",
        alpha=0.001,
        seasons=[(3.0, [10.0, 10.0, 11.0]), (4.0, [9.0, 10.0, 10.0])],
    )
    assert "this week of the year" in judged.detail
    assert judged.expected < 5  # a holiday week's learnings are expected low
    assert judged.tail > 0.001


def test_season_documents_finds_the_same_week_52_and_104_weeks_back() -> None:
    """From 120 recorded weeks: the weeks 52 and 104 back, each with the 12 weeks before it."""
    from datetime import date, timedelta

    from ai_telemetry.alert.history import WeekMetrics, season_documents

    first = date(2023, 1, 2)
    weeks = [WeekMetrics(first + timedelta(weeks=i), latency(float(i))) for i in range(120)]
    now = first + timedelta(weeks=120)
    found = season_documents(weeks, week_start=now, baseline=12)
    assert [doc["metrics"]["mcp_tool_latency_seconds"]["p95"] for doc, _ in found] == [68.0, 16.0]
    assert [len(before) for _, before in found] == [12, 12]
    assert found[1][1][-1]["metrics"]["mcp_tool_latency_seconds"]["p95"] == 15.0
    assert (
        season_documents(weeks[-60:], week_start=now, baseline=12)[0][1][0] == weeks[-60].document
    )
