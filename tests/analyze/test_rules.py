"""Threshold rules: the seed's defaults, config edits and their validation, evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_telemetry.analyze.rules import (
    DEFAULT_RULES,
    Rule,
    evaluate_rules,
    load_rules,
    metric_values,
    rules_from_settings,
)
from ai_telemetry.config import load_settings
from ai_telemetry.errors import ConfigError


def doc(**metrics: Any) -> dict[str, Any]:
    """A metrics.json-shaped document holding the given metrics."""
    return {"schema_version": "1.0", "metrics": metrics}


def fired(metrics: dict[str, Any], **kwargs: Any) -> list[tuple[str, str | None]]:
    """(rule, key) of every finding."""
    return [(f.rule, f.key) for f in evaluate_rules(metrics, **kwargs)]


def test_defaults_are_the_seed_table() -> None:
    """Six default rules with the seed's titles, severities and actions."""
    assert [(r.title, r.severity, r.action) for r in DEFAULT_RULES] == [
        ("Skill Error Spike", "warning", "Investigate skill implementation"),
        ("Learning Stall", "warning", "Review workflow, ensure capture"),
        ("Incident Repeat", "critical", "META_UPDATER priority update"),
        ("Coverage Decline", "warning", "Block merges until recovered"),
        ("Context Saturation", "info", "Consider breaking into sub-agents"),
        ("Tool Call Loop", "critical", "Kill switch, investigate agent logic"),
    ]


def test_skill_error_spike_fires_per_skill_above_ten_percent() -> None:
    """Only the skill above 10% errors gets a finding; exactly 10% is not above."""
    metrics = doc(skill_error_rate={"debugger": 0.25, "reviewer": 0.10, "planner": 0.0})
    assert fired(metrics) == [("skill_error_spike", "debugger")]


def test_finding_carries_value_threshold_action_and_analysis() -> None:
    """A finding says rule, severity, metric, key, value, threshold, action and why."""
    (finding,) = evaluate_rules(doc(skill_error_rate={"debugger": 0.25}))
    assert finding.to_json() == {
        "rule": "skill_error_spike",
        "title": "Skill Error Spike",
        "severity": "warning",
        "metric": "skill_error_rate",
        "key": "debugger",
        "value": 0.25,
        "threshold": 0.10,
        "op": ">",
        "action": "Investigate skill implementation",
        "analysis": (
            "skill_error_rate for debugger is 0.25 (25.0%), above the threshold 0.1 (10.0%)"
        ),
    }


def test_null_metric_never_fires() -> None:
    """A metric that is null (no data) gives no finding."""
    metrics = doc(skill_error_rate=None, test_coverage_delta=None, agent_tool_call_count=None)
    assert fired(metrics) == []


def test_absent_metric_never_fires() -> None:
    """A document without the metric gives no finding."""
    assert fired(doc()) == []


def test_coverage_decline_fires_on_drop_of_more_than_two_points() -> None:
    """test_coverage_delta -2.5 fires; exactly -2.0 does not."""
    assert fired(doc(test_coverage_delta=-2.5)) == [("coverage_decline", None)]
    assert fired(doc(test_coverage_delta=-2.0)) == []


def test_context_saturation_reads_p95_of_statistics_object() -> None:
    """context_window_utilization.p95 above 0.9 fires the info rule."""
    metrics = doc(context_window_utilization={"p50": 0.4, "p95": 0.93, "p99": 0.99})
    (finding,) = evaluate_rules(metrics)
    assert (finding.rule, finding.severity, finding.value) == ("context_saturation", "info", 0.93)


def test_tool_call_loop_reads_max_per_agent() -> None:
    """agent_tool_call_count.max above 50 fires per agent."""
    metrics = doc(
        agent_tool_call_count={
            "coder": {"p50": 10, "p95": 40, "max": 75},
            "tester": {"p50": 5, "p95": 9, "max": 50},
        }
    )
    assert fired(metrics) == [("tool_call_loop", "coder")]


def test_incident_repeat_fires_for_root_cause_seen_three_times() -> None:
    """incident_root_cause_total >= 3 for a root cause is critical."""
    metrics = doc(incident_root_cause_total={"timezone-handling": 3, "flaky-network": 2})
    (finding,) = evaluate_rules(metrics)
    assert (finding.rule, finding.key, finding.severity) == (
        "incident_repeat",
        "timezone-handling",
        "critical",
    )


def test_learning_stall_needs_two_weeks_of_no_learnings() -> None:
    """No learnings this week and last week fires; analytics reports zero as null."""
    last_week = doc(learning_entries_per_week=None)
    (finding,) = evaluate_rules(doc(learning_entries_per_week=None), history=[last_week])
    assert (finding.rule, finding.value) == ("learning_stall", 0.0)
    assert "has been 0, 0 in the last 2 windows" in finding.analysis


def test_learning_stall_quiet_when_last_week_had_learnings() -> None:
    """One quiet week after a week with learnings is not a stall."""
    history = [doc(learning_entries_per_week=3.0)]
    assert fired(doc(learning_entries_per_week=None), history=history) == []


def test_learning_stall_quiet_without_history() -> None:
    """With only the current week there is not enough history to call a stall."""
    assert fired(doc(learning_entries_per_week=None)) == []


def test_findings_sorted_critical_first() -> None:
    """Critical findings come before warnings, warnings before info."""
    metrics = doc(
        context_window_utilization={"p50": 0.5, "p95": 0.95, "p99": 0.99},
        skill_error_rate={"a": 0.5},
        agent_tool_call_count={"coder": {"p50": 1, "p95": 2, "max": 99}},
    )
    assert [f.severity for f in evaluate_rules(metrics)] == ["critical", "warning", "info"]


def test_bare_metrics_object_is_accepted() -> None:
    """The metrics object without the metrics.json envelope works too."""
    assert fired({"test_coverage_delta": -5.0}) == [("coverage_decline", None)]


def test_metric_values_of_keyed_statistics_without_stat_is_empty() -> None:
    """A per-key statistics metric named without a statistic yields nothing to compare."""
    metrics = doc(skill_duration_seconds={"a": {"p50": 1.0, "p95": 2.0, "p99": 3.0}})
    assert metric_values(metrics, "skill_duration_seconds") == {}


def write_config(tmp_path: Path, text: str) -> Path:
    """A telemetry dir holding config.toml with ``text``."""
    telemetry = tmp_path / "telemetry"
    telemetry.mkdir()
    (telemetry / "config.toml").write_text(text, encoding="utf-8")
    return telemetry


def rules_in(tmp_path: Path, text: str) -> tuple[Rule, ...]:
    """The rules a real config.toml gives through load_settings."""
    telemetry = write_config(tmp_path, text)
    settings = load_settings(environ={}, cwd=tmp_path, telemetry_dir=str(telemetry))
    return rules_from_settings(settings)


def test_config_changes_a_default_threshold(tmp_path: Path) -> None:
    """[rules.skill_error_spike] threshold = 0.3 raises the bar: 0.25 no longer fires."""
    rules = rules_in(tmp_path, "[rules.skill_error_spike]\nthreshold = 0.3\n")
    assert fired(doc(skill_error_rate={"a": 0.25}), rules=rules) == []


def test_config_disables_a_rule(tmp_path: Path) -> None:
    """enabled = false keeps the rule listed but silences it."""
    rules = rules_in(tmp_path, "[rules.coverage_decline]\nenabled = false\n")
    assert fired(doc(test_coverage_delta=-9.0), rules=rules) == []


def test_config_adds_a_rule(tmp_path: Path) -> None:
    """A new [rules.<name>] table with all required keys adds a rule after the defaults."""
    rules = rules_in(
        tmp_path,
        '[rules.slow_skill]\nmetric = "skill_duration_seconds.p95"\nop = ">"\n'
        'threshold = 900\nseverity = "warning"\naction = "Profile the skill"\n',
    )
    metrics = doc(skill_duration_seconds={"a": {"p50": 100.0, "p95": 1200.0, "p99": 1500.0}})
    assert (rules[-1].title, fired(metrics, rules=rules)) == ("Slow Skill", [("slow_skill", "a")])


def test_no_config_section_gives_defaults(tmp_path: Path) -> None:
    """A config.toml without [rules] leaves the defaults as they are."""
    assert rules_in(tmp_path, 'project = "demo"\n') == DEFAULT_RULES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rules.skill_error_spike]\nthreshhold = 0.2\n", "unknown key 'threshhold'; allowed keys"),
        ('[rules.skill_error_spike]\nseverity = "high"\n', "use one of info, warning, critical"),
        ('[rules.skill_error_spike]\nop = "gt"\n', "use one of >, >=, <, <=, ==, !="),
        ("[rules.skill_error_spike]\nthreshold = true\n", "threshold = True is not a number"),
        ('[rules.skill_error_spike]\nthreshold = "10%"\n', "is not a number"),
        ('[rules.skill_error_spike]\nenabled = "no"\n', "use true or false"),
        ("[rules.learning_stall]\nwindows = 0\n", "use a whole number >= 1"),
        ('[rules.my_rule]\nmetric = "x"\n', "a new rule needs op, threshold, severity, action"),
        ('[rules.my_rule]\nmetric = "Skill Error"\n', "use a metric name of metrics.json"),
        ("[rules]\nskill_error_spike = 0.2\n", "must be a table"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    """A wrong rules table is a ConfigError naming the file, rule, key and what is allowed."""
    with pytest.raises(ConfigError) as caught:
        rules_in(tmp_path, text)
    text_of_error = str(caught.value)
    assert message in text_of_error and "config.toml" in text_of_error and "rules" in text_of_error


def test_load_rules_rejects_non_table_section() -> None:
    """A [rules] value that is not a table is rejected."""
    with pytest.raises(ConfigError, match=r"\[rules\] must be a table"):
        load_rules(["skill_error_spike"])


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([">", ">=", "<", "<=", "==", "!="]),
)
def test_rule_fires_exactly_when_comparison_holds(value: float, threshold: float, op: str) -> None:
    """A custom rule fires on a plain metric exactly when `value op threshold` is true."""
    rule = Rule("r", "m", op, threshold, "info", "act")
    expected = eval(f"{value!r} {op} {threshold!r}")
    assert bool(fired({"m": value}, rules=[rule])) == expected
