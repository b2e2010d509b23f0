"""Threshold rules as Prometheus alerting rules: promtool accepts them, thresholds carry over."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from export_helpers import need_binary

from ai_telemetry.analyze.rules import DEFAULT_RULES, load_rules
from ai_telemetry.export.rules import render_rules, rule_expression, write_rules


def check_rules(path: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [need_binary("promtool"), "check", "rules", str(path)], capture_output=True, check=False
    )


def test_the_seeds_six_rules_pass_promtool(tmp_path: Path) -> None:
    """All six rules are written and `promtool check rules` passes."""
    target = tmp_path / "rules.yml"
    written, skipped = write_rules(DEFAULT_RULES, target)
    assert (6, []) == (written, skipped)
    done = check_rules(target)
    assert 0 == done.returncode, done.stdout + done.stderr
    assert b"SUCCESS: 6 rules found" in done.stdout


def test_thresholds_severities_and_actions_carry_over(tmp_path: Path) -> None:
    """Each alert has the rule's threshold (in the series' unit), severity and action."""
    text, _ = render_rules(DEFAULT_RULES)
    alerts = {r["alert"]: r for r in yaml.safe_load(text)["groups"][0]["rules"]}
    spike = alerts["SkillErrorSpike"]
    assert "ai_skill_error_ratio > 0.1" == spike["expr"]
    assert {"severity": "warning", "rule": "skill_error_spike"} == spike["labels"]
    assert "Investigate skill implementation" == spike["annotations"]["action"]
    assert "ai_test_coverage_delta_ratio < -0.02" == alerts["CoverageDecline"]["expr"]
    assert (
        'ai_context_window_utilization_ratio{quantile="0.95"} > 0.9'
        == (alerts["ContextSaturation"]["expr"])
    )
    assert "ai_agent_task_tool_calls_max > 50" == alerts["ToolCallLoop"]["expr"]
    assert "ai_incident_root_cause_repeats >= 3" == alerts["IncidentRepeat"]["expr"]
    stall = alerts["LearningStall"]
    assert ("(ai_learning_entries_per_week or vector(0)) == 0", "7d") == (
        stall["expr"],
        stall["for"],
    )
    assert {"critical"} == {alerts[n]["labels"]["severity"] for n in ("ToolCallLoop",)}


def test_configured_rules_are_exported_too(tmp_path: Path) -> None:
    """An added rule, a changed threshold and a disabled rule, as config.toml says."""
    rules = load_rules(
        {
            "slow_skill": {
                "metric": "skill_duration_seconds.p95",
                "op": ">",
                "threshold": 900,
                "severity": "warning",
                "action": "Profile the skill",
            },
            "tool_errors": {
                "metric": "skill_error_total",
                "op": ">",
                "threshold": 5,
                "severity": "info",
                "action": "Look at the failing skill",
            },
            "skill_error_spike": {"threshold": 0.15},
            "context_saturation": {"enabled": False},
        }
    )
    target = tmp_path / "rules.yml"
    written, skipped = write_rules(rules, target)
    assert ["context_saturation: disabled in config.toml"] == skipped
    assert 7 == written
    assert 0 == check_rules(target).returncode
    text = target.read_text(encoding="utf-8")
    assert 'ai_skill_duration_seconds{quantile=\\"0.95\\"} > 900' in text
    assert "increase(ai_skill_errors_total[1w]) > 5" in text  # a counter: its last week
    assert "ai_skill_error_ratio > 0.15" in text


def test_a_rule_over_an_unexported_metric_is_left_out() -> None:
    """No series, no expression: the rule is named in the skipped lines."""
    (rule,) = load_rules(
        {
            "odd": {
                "metric": "skill_context_tokens.p99",
                "op": ">",
                "threshold": 1,
                "severity": "info",
                "action": "x",
            }
        }
    )[-1:]
    assert rule_expression(rule) is None
    _, skipped = render_rules([rule])
    assert ["odd: skill_context_tokens.p99 is not an exported series"] == skipped


def test_cli_writes_the_rules_file(tmp_path: Path, telemetry_dir: Path) -> None:
    """`export prometheus-rules --output FILE`."""
    target = tmp_path / "out" / "ai.rules.yml"
    env = {**os.environ, "AI_TELEMETRY_DIR": str(telemetry_dir)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ai_telemetry",
            "export",
            "prometheus-rules",
            "--output",
            str(target),
        ],
        env=env,
        capture_output=True,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    assert b"wrote 6 alerting rules" in done.stdout
    assert 0 == check_rules(target).returncode
