"""Detection: threshold rules, z-score and SPC over the weekly history -> alerts."""

from __future__ import annotations

from typing import Any

import pytest

from ai_telemetry.alert.detect import DetectOptions, detect_anomalies, load_options
from ai_telemetry.alert.history import unflatten
from ai_telemetry.errors import ConfigError

STATS_ONLY = DetectOptions(rules=False, zscore=True, spc=True, model=False)


def week(**metrics: Any) -> dict[str, Any]:
    """A metrics.json document holding ``metrics``."""
    return {"metrics": metrics}


def skill_weeks(rates: list[float], *, count: int = 30) -> list[dict[str, Any]]:
    """Weekly documents of one skill's success rate (and a sample size)."""
    return [week(skill_success_rate={"s": r}, skill_invocation_total={"s": count}) for r in rates]


BASE = [0.95, 0.93, 0.96, 0.94, 0.95, 0.97, 0.94, 0.95]


def test_rule_becomes_an_alert_with_the_seed_fields() -> None:
    """A broken threshold rule gives an alert with value, threshold, analysis and action."""
    current = week(skill_error_rate={"acgme": 0.3}, skill_invocation_total={"acgme": 20})
    [alert] = detect_anomalies(current, options=DetectOptions(zscore=False, spc=False))
    assert (alert.rule, alert.severity, alert.key, alert.value) == (
        "skill_error_spike",
        "warning",
        "acgme",
        0.3,
    )
    assert (alert.current, alert.threshold_text) == ("30.0% (0.3)", "> 10.0%")
    assert alert.action == "Investigate skill implementation"


def test_rate_rule_needs_enough_executions() -> None:
    """One error in six runs is not an error spike: below min_count the rate rule is quiet."""
    current = week(skill_error_rate={"docs": 1 / 6}, skill_invocation_total={"docs": 6})
    assert detect_anomalies(current, options=DetectOptions(zscore=False, spc=False)) == []


def test_tool_call_loop_fires_on_a_single_task() -> None:
    """A count rule (max tool calls) is not subject to min_count."""
    current = week(
        agent_tool_call_count={"implementer": {"max": 64}},
        agent_invocation_total={"implementer": 1},
    )
    [alert] = detect_anomalies(current, options=DetectOptions(zscore=False, spc=False))
    assert (alert.rule, alert.severity) == ("tool_call_loop", "critical")


def test_incident_repeat_counts_root_causes_of_the_month() -> None:
    """Root-cause counts of the last 28 days feed Incident Repeat (same root cause 3+ times)."""
    alerts = detect_anomalies(
        week(),
        options=DetectOptions(zscore=False, spc=False),
        root_causes={"timezone-handling": 3, "race": 2},
        root_window="the 28 days to 2025-12-29",
    )
    [alert] = alerts
    assert (alert.rule, alert.key, alert.severity) == (
        "incident_repeat",
        "timezone-handling",
        "critical",
    )
    assert alert.current == (
        "3 (3 incidents with root cause timezone-handling in the 28 days to 2025-12-29)"
    )


def test_learning_stall_fires_after_two_weeks_without_learnings() -> None:
    """Two weeks in a row without learnings (metric absent or null) raise Learning Stall."""
    history = [week(learning_entries_per_week=9.0), week()]
    alerts = detect_anomalies(
        week(learning_entries_per_week=None),
        history=history,
        options=DetectOptions(zscore=False, spc=False),
    )
    assert [a.rule for a in alerts] == ["learning_stall"]


def test_zscore_fires_beyond_the_threshold_in_the_bad_direction() -> None:
    """A success rate far below its previous weeks gives an anomaly alert naming the z-score."""
    [alert] = detect_anomalies(
        skill_weeks([0.80])[0], history=skill_weeks(BASE), options=STATS_ONLY
    )
    assert (alert.rule, alert.metric, alert.key, alert.severity) == (
        "anomaly",
        "skill_success_rate",
        "s",
        "info",
    )
    assert "zscore" in alert.detectors
    assert "z = -" in alert.analysis


def test_zscore_ignores_the_good_direction() -> None:
    """A success rate far above its previous weeks is not an anomaly."""
    assert (
        detect_anomalies(skill_weeks([1.0])[0], history=skill_weeks(BASE), options=STATS_ONLY) == []
    )


def test_threshold_sets_how_far_is_too_far() -> None:
    """A value 2.5 sd out fires at threshold 2 and not at threshold 3."""
    history = skill_weeks(BASE)
    mean = sum(BASE) / len(BASE)
    sd = (sum((x - mean) ** 2 for x in BASE) / (len(BASE) - 1)) ** 0.5
    current = skill_weeks([mean - 2.5 * sd])[0]
    z_only = DetectOptions(rules=False, spc=False, zscore=True, model=False)
    fired = [
        bool(detect_anomalies(current, history=history, options=DetectOptions(
            rules=False, spc=False, zscore=True, model=False, threshold=t)))
        for t in (2.0, 3.0)
    ]  # fmt: skip
    assert fired == [True, False]
    assert z_only.threshold == 2.0


def test_spc_alone_reports_the_western_electric_rule() -> None:
    """With the z-score off, a point beyond 3 sigma (moving range) fires WE1."""
    [alert] = detect_anomalies(
        skill_weeks([0.70])[0],
        history=skill_weeks(BASE),
        options=DetectOptions(rules=False, zscore=False, spc=True, model=False),
    )
    assert alert.detectors == ("WE1",)
    assert "SPC WE1" in alert.analysis


def test_too_little_history_is_not_judged() -> None:
    """Fewer previous weeks than min_history: no statistical alert."""
    assert (
        detect_anomalies(skill_weeks([0.5])[0], history=skill_weeks(BASE[:3]), options=STATS_ONLY)
        == []
    )


def test_low_count_weeks_are_not_judged() -> None:
    """A week with fewer executions than min_count is not judged by the statistics."""
    current = skill_weeks([0.5], count=4)[0]
    assert detect_anomalies(current, history=skill_weeks(BASE), options=STATS_ONLY) == []


def test_anomaly_on_a_metric_a_rule_covers_is_left_out() -> None:
    """A rule alert and a statistical alert on the same metric and key give one alert."""
    history = [
        week(context_window_utilization={"p95": v}, learning_entries_per_week=9.0)
        for v in (0.7, 0.72, 0.71, 0.69, 0.7, 0.73)
    ]
    current = week(context_window_utilization={"p95": 0.97}, learning_entries_per_week=9.0)
    alerts = detect_anomalies(current, history=history)
    assert [a.rule for a in alerts] == ["context_saturation"]


def test_unflatten_rebuilds_keyed_and_statistic_metrics() -> None:
    """History rows go back into the metrics.json shape the rules read."""
    rows = [
        ("incident_rate", "", 1.0),
        ("skill_error_rate", "a", 0.1),
        ("agent_tool_call_count.max", "impl", 64.0),
        ("context_window_utilization.p95", "", 0.9),
    ]
    assert unflatten(rows) == {
        "incident_rate": 1.0,
        "skill_error_rate": {"a": 0.1},
        "agent_tool_call_count": {"impl": {"max": 64.0}},
        "context_window_utilization": {"p95": 0.9},
    }


def test_detect_options_come_from_the_config_section() -> None:
    """[detect] keys change the options."""
    options = load_options({"threshold": 3, "spc": False, "severity": "warning"})
    assert (options.threshold, options.spc, options.severity) == (3.0, False, "warning")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"treshold": 2}, "unknown key 'treshold'"),
        ({"threshold": -1}, "positive number"),
        ({"severity": "high"}, "use one of info, warning, critical"),
        ({"spc": "yes"}, "true or false"),
    ],
)
def test_bad_detect_options_say_what_is_wrong(section: dict[str, Any], message: str) -> None:
    """A wrong [detect] key or value is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=message):
        load_options(section)
