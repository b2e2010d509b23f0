"""A real Prometheus scrapes ``export prometheus --listen``; what it stores equals metrics.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from export_helpers import Prometheus, wait_until, week_start_of

from ai_telemetry.config import Settings

PROJECT = "alpha"


def aggregate(settings: Settings, tmp_path: Path, start: str, end: str) -> dict[str, Any]:
    """metrics.json of ``ai-telemetry aggregate`` for one project and window (its CLI)."""
    out = tmp_path / f"metrics-{start[:10]}.json"
    env = {**os.environ, "AI_TELEMETRY_DIR": str(settings.telemetry_dir)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ai_telemetry",
            "aggregate",
            "--start",
            start,
            "--end",
            end,
            "--project",
            PROJECT,
            "--output",
            str(out),
            "--allow-empty",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    document: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return document


def value(server: Prometheus, expr: str) -> float:
    (only,) = server.query(expr)
    return float(only["value"][1])


def test_prometheus_stores_what_metrics_json_says(
    prometheus: Prometheus, settings: Settings, tmp_path: Path
) -> None:
    """Gauges and quantiles equal this week's metrics.json, counters the all-time one."""
    start = week_start_of(datetime.now(UTC))
    end = (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    week = aggregate(settings, tmp_path, start.strftime("%Y-%m-%dT%H:%M:%SZ"), end)["metrics"]
    whole = aggregate(settings, tmp_path, "1970-01-01T00:00:00Z", end)["metrics"]
    p = f'project="{PROJECT}"'
    skill = "systematic-debugger"
    for outcome, n in whole["skill_outcome_total"][skill].items():
        expr = f'ai_skill_invocations_total{{{p}, skill_name="{skill}", outcome="{outcome}"}}'
        assert n == value(prometheus, expr)
    assert week["skill_error_rate"][skill] == value(
        prometheus, f'ai_skill_error_ratio{{{p}, skill_name="{skill}"}}'
    )
    assert week["agent_time_to_resolution"]["backend-dev"]["p95"] == value(
        prometheus,
        f'ai_agent_time_to_resolution_seconds{{{p}, agent_name="backend-dev", quantile="0.95"}}',
    )
    assert week["test_coverage_percent"] / 100 == value(
        prometheus, f"ai_test_coverage_ratio{{{p}}}"
    )
    assert week["context_window_utilization"]["p95"] == value(
        prometheus, f'ai_context_window_utilization_ratio{{{p}, quantile="0.95"}}'
    )
    assert whole["llm_cost_usd"]["claude-sonnet-4"] == value(
        prometheus, f'ai_llm_cost_usd_total{{{p}, model="claude-sonnet-4"}}'
    )
    assert whole["learning_entries_total"] == value(prometheus, f"ai_learning_entries_total{{{p}}}")
    # every sample the exporter serves arrived, with its value
    from export_helpers import http_get
    from prometheus_client.parser import text_string_to_metric_families

    exposed = http_get(prometheus_target(prometheus)).decode()
    for family in text_string_to_metric_families(exposed):
        for sample in family.samples:
            selector = ", ".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            assert sample.value == value(prometheus, f"{sample.name}{{{selector}}}"), sample


def prometheus_target(server: Prometheus) -> str:
    (target,) = json.loads(__import__("export_helpers").http_get(f"{server.url}/api/v1/targets"))[
        "data"
    ]["activeTargets"]
    url: str = target["scrapeUrl"]
    return url


def test_counters_grow_and_rate_works(
    prometheus: Prometheus, settings: Settings, tmp_path: Path
) -> None:
    """A new execution in the log shows up in the next scrapes; increase() sees it."""
    from export_helpers import write_events

    labels = f'project="{PROJECT}", skill_name="systematic-debugger", outcome="success"'
    expr = f"ai_skill_invocations_total{{{labels}}}"
    before = value(prometheus, expr)
    assert [] == prometheus.query(f"increase({expr}[1m]) > 0")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_events(
        settings,
        [
            {
                "timestamp": now,
                "event_type": "skill_execution",
                "skill": "systematic-debugger",
                "outcome": "success",
                "duration_seconds": 5.0,
                "project": PROJECT,
                "event_id": "late-1",
            }
        ],
    )
    grown = wait_until(
        "increase() to see the new execution",
        lambda: prometheus.query(f"increase({expr}[1m]) > 0"),
    )
    assert 1 == len(grown)
    assert before + 1 == value(prometheus, expr)


def test_alert_rules_fire_in_prometheus(prometheus: Prometheus) -> None:
    """The exported rules load into Prometheus and Skill Error Spike fires on the sample log."""
    rules = json.loads(__import__("export_helpers").http_get(f"{prometheus.url}/api/v1/rules"))[
        "data"
    ]["groups"]
    names = {r["name"] for g in rules for r in g["rules"]}
    assert {"SkillErrorSpike", "ToolCallLoop", "ContextSaturation"} <= names
    firing = wait_until(
        "SkillErrorSpike to fire",
        lambda: prometheus.query('ALERTS{alertname="SkillErrorSpike", alertstate="firing"}'),
    )
    assert {"code-review", "systematic-debugger"} == {a["metric"]["skill_name"] for a in firing}
    assert {"warning"} == {a["metric"]["severity"] for a in firing}
