"""Each metric of METRICS.md on small hand-built logs, against hand-computed values."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest
from metrics_test_helpers import ev, make_settings, metrics, write_jsonl

from ai_telemetry.config import Settings

WEEK = ("2025-12-15", "2025-12-22")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def _skill_runs(
    skill: str, outcomes: list[str], durations: list[float], day: int = 15
) -> list[dict[str, object]]:
    events = []
    for i, (outcome, duration) in enumerate(zip(outcomes, durations, strict=True)):
        sid = f"{skill}-{i}"
        events.append(
            ev(
                f"2025-12-{day}T10:{i:02d}:00Z",
                "skill_execution",
                skill=skill,
                outcome="started",
                session_id=sid,
            )
        )
        events.append(
            ev(
                f"2025-12-{day}T11:{i:02d}:00Z",
                "skill_execution",
                skill=skill,
                outcome=outcome,
                duration_seconds=duration,
                session_id=sid,
            )
        )
    return events


def test_skill_rates_and_percentiles_match_numpy(settings: Settings) -> None:
    """Success/error rates are fractions of finished runs; percentiles equal numpy's linear ones."""
    durations = [10.0, 20.0, 35.0, 80.0, 400.0]
    write_jsonl(
        settings,
        _skill_runs("tdd", ["success", "success", "error", "rollback", "success"], durations),
    )
    m = metrics(settings, *WEEK)
    expected = {f"p{q}": pytest.approx(float(np.percentile(durations, q))) for q in (50, 95, 99)}
    assert expected == m["skill_duration_seconds"]["tdd"]
    assert (m["skill_success_rate"]["tdd"], m["skill_error_rate"]["tdd"]) == (0.6, 0.2)
    assert pytest.approx(statistics.fmean(durations)) == m["skill_avg_duration_seconds"]["tdd"]


def test_outcome_totals_add_up_to_the_invocations(settings: Settings) -> None:
    """skill_outcome_total / agent_outcome_total: executions by how they ended, unfinished too."""
    outcomes = ["success", "success", "error", "rollback", "handoff"]
    write_jsonl(settings, _skill_runs("tdd", outcomes, [1.0] * 5))
    write_jsonl(
        settings,
        [
            ev("2025-12-16T09:00:00Z", "skill_execution", skill="tdd", outcome="started",
               session_id="open"),
            ev("2025-12-16T09:00:00Z", "agent_task", agent="dev", outcome="started",
               session_id="a1"),
            ev("2025-12-16T09:05:00Z", "agent_task", agent="dev", outcome="rollback",
               session_id="a1", duration_seconds=300.0),
            ev("2025-12-16T10:00:00Z", "agent_task", agent="dev", outcome="success",
               session_id="a2", duration_seconds=60.0),
        ],
    )  # fmt: skip
    m = metrics(settings, *WEEK)
    expected = {"success": 2, "error": 1, "rollback": 1, "handoff": 1, "unfinished": 1}
    assert expected == m["skill_outcome_total"]["tdd"]
    assert m["skill_invocation_total"]["tdd"] == sum(expected.values())
    agent = {"success": 1, "error": 0, "rollback": 1, "handoff": 0, "unfinished": 0}
    assert agent == m["agent_outcome_total"]["dev"]


def test_skill_invocation_rate_counts_seven_days_before_window_end(settings: Settings) -> None:
    """skill_invocation_rate = executions in the 7 days ending at the window's end / 7."""
    write_jsonl(settings, _skill_runs("a", ["success"] * 7, [1.0] * 7, day=20))
    write_jsonl(settings, _skill_runs("a", ["success"] * 3, [1.0] * 3, day=10))
    m = metrics(settings, "2025-12-20", "2025-12-21")
    assert m["skill_invocation_rate"]["a"] == 1.0


def test_context_tokens_mean_and_p95_over_every_skill_event(settings: Settings) -> None:
    """skill_context_tokens: mean and p95 of context_tokens on every skill_execution event."""
    tokens = [1000, 2000, 3000, 10000]
    write_jsonl(
        settings,
        [
            ev(
                f"2025-12-16T0{i}:00:00Z",
                "skill_execution",
                skill="s",
                outcome="started",
                context_tokens=t,
            )
            for i, t in enumerate(tokens)
        ],
    )
    m = metrics(settings, *WEEK)
    assert {"mean": 4000.0, "p95": pytest.approx(float(np.percentile(tokens, 95)))} == m[
        "skill_context_tokens"
    ]["s"]


def test_agent_rates_and_tool_call_count_fallback_to_tool_call_events(settings: Settings) -> None:
    """Agent rates over finished tasks; tool_call_count from tool_calls, else counted tool calls."""
    events = [
        ev(
            "2025-12-16T10:00:00Z",
            "agent_task",
            agent="planner",
            outcome="success",
            duration_seconds=60,
            tool_calls=4,
        ),
        ev(
            "2025-12-16T11:00:00Z",
            "agent_task",
            agent="planner",
            outcome="rollback",
            duration_seconds=120,
            task_id="t1",
        ),
        ev(
            "2025-12-16T12:00:00Z",
            "agent_task",
            agent="planner",
            outcome="handoff",
            duration_seconds=300,
            tool_calls=10,
        ),
        ev(
            "2025-12-16T13:00:00Z",
            "agent_task",
            agent="planner",
            outcome="success",
            duration_seconds=30,
            tool_calls=1,
        ),
    ]
    events += [
        ev(f"2025-12-16T10:5{i}:00Z", "tool_call", tool="Read", task_id="t1") for i in range(6)
    ]
    write_jsonl(settings, events)
    m = metrics(settings, *WEEK)
    assert (
        m["agent_task_completion_rate"]["planner"],
        m["agent_rollback_rate"]["planner"],
        m["agent_handoff_rate"]["planner"],
    ) == (0.5, 0.25, 0.25)
    calls = [4, 6, 10, 1]
    assert {
        "p50": float(np.percentile(calls, 50)),
        "p95": pytest.approx(float(np.percentile(calls, 95))),
        "max": 10.0,
    } == m["agent_tool_call_count"]["planner"]
    assert (
        pytest.approx(float(np.percentile([60, 120, 300, 30], 50)))
        == m["agent_time_to_resolution"]["planner"]["p50"]
    )


def test_learning_metrics_total_rate_and_time_to_implementation(settings: Settings) -> None:
    """Learnings: all-time total, share implemented by the window's end, p50 days to implement."""
    write_jsonl(
        settings,
        [
            ev(
                "2025-12-01T00:00:00Z",
                "learning_created",
                id="LEARN-2025-001",
                severity="critical",
                source="incident",
            ),
            ev(
                "2025-12-16T00:00:00Z",
                "learning_created",
                id="LEARN-2025-002",
                severity="warning",
                source="observation",
            ),
            ev(
                "2025-12-17T00:00:00Z",
                "learning_created",
                learning_id="LEARN-2025-003",
                severity="info",
                source="observation",
            ),
            ev("2025-12-05T00:00:00Z", "learning_implemented", id="LEARN-2025-001", pr=12),
            ev("2025-12-18T00:00:00Z", "learning_implemented", id="LEARN-2025-002", pr=13),
            ev("2025-12-30T00:00:00Z", "learning_implemented", id="LEARN-2025-003", pr=14),
        ],
    )
    m = metrics(settings, *WEEK)
    assert (3, 2.0, pytest.approx(2 / 3)) == (
        m["learning_entries_total"],
        m["learning_entries_per_week"],
        m["learning_implementation_rate"],
    )
    assert m["learning_time_to_implementation"]["p50"] == 3.0  # median of 4 and 2 days
    assert m["learning_source_breakdown"] == {"observation": 2, "incident": 1}


def test_code_quality_latest_values_in_window(settings: Settings) -> None:
    """Lint, type, doc coverage and open findings are the latest values in the window."""
    write_jsonl(
        settings,
        [
            ev("2025-12-15T01:00:00Z", "lint_report", lint_errors=9),
            ev("2025-12-16T01:00:00Z", "lint_report", lint_errors=4),
            ev("2025-12-16T02:00:00Z", "type_coverage", type_coverage_percent=71.5),
            ev("2025-12-16T03:00:00Z", "doc_coverage", doc_coverage_percent=64.0),
            ev("2025-12-16T04:00:00Z", "security_scan", open_findings=2, resolved_findings=1),
            ev("2025-12-23T01:00:00Z", "lint_report", lint_errors=1),
        ],
    )
    m = metrics(settings, *WEEK)
    assert (
        m["lint_errors"],
        m["type_coverage_percent"],
        m["doc_coverage_percent"],
        m["security_open_findings"],
    ) == (4.0, 71.5, 64.0, 2.0)


def test_incident_metrics(settings: Settings) -> None:
    """Incidents by severity, weekly rate, MTTR p50 and repeat rate of root causes."""
    write_jsonl(
        settings,
        [
            ev(
                "2025-12-01T00:00:00Z",
                "incident_opened",
                incident_id="I1",
                severity="critical",
                root_cause="timezone",
            ),
            ev(
                "2025-12-16T00:00:00Z",
                "incident_opened",
                incident_id="I2",
                severity="critical",
                root_cause="timezone",
            ),
            ev(
                "2025-12-16T06:00:00Z",
                "incident_opened",
                incident_id="I3",
                severity="warning",
                root_cause="cache",
            ),
            ev("2025-12-16T01:00:00Z", "incident_resolved", incident_id="I2"),
            ev("2025-12-16T09:00:00Z", "incident_resolved", incident_id="I3"),
        ],
    )
    m = metrics(settings, *WEEK)
    assert m["incidents_total"] == {"critical": 1, "warning": 1}
    assert (m["incident_rate"], m["incident_repeat_rate"]) == (2.0, 0.5)
    assert float(np.percentile([3600, 10800], 50)) == m["incident_mttr_seconds"]["p50"]


def test_test_failure_rate_prefers_ci_builds(settings: Settings) -> None:
    """test_failure_rate uses ci_build when there are builds, ignoring test_run."""
    write_jsonl(
        settings,
        [
            ev("2025-12-16T00:00:00Z", "ci_build", outcome="failed"),
            ev("2025-12-16T01:00:00Z", "ci_build", outcome="passed"),
            ev("2025-12-16T02:00:00Z", "ci_build", outcome="passed"),
            ev("2025-12-16T03:00:00Z", "ci_build", outcome="passed"),
            ev("2025-12-16T04:00:00Z", "test_run", outcome="failed"),
        ],
    )
    assert metrics(settings, *WEEK)["test_failure_rate"] == 0.25


def test_context_utilization_uses_configured_or_default_window(settings: Settings) -> None:
    """Utilisation = tokens / the event's window, else the configured model window, else 200k."""
    write_jsonl(
        settings,
        [
            ev(
                "2025-12-16T00:00:00Z",
                "context_snapshot",
                context_tokens=50000,
                context_window=100000,
            ),
            ev("2025-12-16T01:00:00Z", "context_snapshot", context_tokens=50000),
            ev("2025-12-16T02:00:00Z", "tool_call_limit_reached", limit=200, tool_calls=200),
        ],
    )
    m = metrics(settings, *WEEK)
    assert (
        pytest.approx(float(np.percentile([0.5, 0.25], 50)))
        == m["context_window_utilization"]["p50"]
    )
    assert m["tool_call_limit_reached"] == 1


def test_sessions_skill_loads_and_mcp_latency(settings: Settings) -> None:
    """Session length from session_end (or start/end pairs), skill load and MCP latency p95."""
    write_jsonl(
        settings,
        [
            ev("2025-12-16T00:00:00Z", "session_end", duration_seconds=600),
            ev("2025-12-16T01:00:00Z", "session_start", session_id="x"),
            ev("2025-12-16T01:30:00Z", "session_end", session_id="x"),
            ev("2025-12-16T02:00:00Z", "skill_load", skill="a", duration_seconds=0.2),
            ev(
                "2025-12-16T02:00:01Z",
                "tool_call",
                tool="mcp__sched__validate",
                duration_seconds=2.0,
            ),
            ev("2025-12-16T02:00:02Z", "tool_call", tool="Read", duration_seconds=9.0),
        ],
    )
    m = metrics(settings, *WEEK)
    assert float(np.percentile([10.0, 30.0], 50)) == m["session_length_minutes"]["p50"]
    assert (m["skill_load_time_seconds"]["p95"], m["mcp_tool_latency_seconds"]["p95"]) == (0.2, 2.0)


def test_llm_tokens_cost_and_cache_hit_rate_count_a_response_once(settings: Settings) -> None:
    """A request seen twice counts once with its largest usage; cache_hit_rate per METRICS."""
    write_jsonl(
        settings,
        [
            ev(
                "2025-12-16T00:00:00Z",
                "llm_request",
                model="m1",
                request_id="r1",
                input_tokens=10,
                output_tokens=5,
                cache_read_input_tokens=0,
                skill="a",
                cost_usd=0.1,
            ),
            ev(
                "2025-12-16T00:00:01Z",
                "llm_request",
                model="m1",
                request_id="r1",
                input_tokens=10,
                output_tokens=50,
                cache_read_input_tokens=70,
                skill="a",
                cost_usd=0.2,
            ),
            ev(
                "2025-12-16T00:01:00Z",
                "llm_request",
                model="m2",
                request_id="r2",
                input_tokens=10,
                cache_creation_input_tokens=10,
                agent="planner",
                cost_usd=0.3,
            ),
        ],
    )
    m = metrics(settings, *WEEK)
    assert m["llm_requests_total"] == {"m1": 1, "m2": 1}
    assert m["llm_tokens_total"]["m1"] == {
        "input": 10,
        "output": 50,
        "cache_creation": 0,
        "cache_read": 70,
    }
    assert (
        m["llm_cost_usd_by_skill"],
        m["llm_cost_usd_by_agent"],
    ) == ({"a": 0.2}, {"planner": 0.3})
    assert pytest.approx(70 / (20 + 10 + 70)) == m["cache_hit_rate"]


def test_metric_without_data_is_null(settings: Settings) -> None:
    """A window with events but none of a kind gives null for that kind's metrics."""
    write_jsonl(settings, [ev("2025-12-16T00:00:00Z", "commit", commit_hash="abcdef1")])
    m = metrics(settings, *WEEK)
    assert (m["skill_success_rate"], m["incident_rate"], m["cache_hit_rate"]) == (None, None, None)


def test_project_filter_counts_only_that_project(settings: Settings) -> None:
    """compute_metrics(project=...) sees only that project's events."""
    write_jsonl(settings, _skill_runs("a", ["success"], [1.0]))
    write_jsonl(settings, [{**e, "project": "p2"} for e in _skill_runs("b", ["error"], [1.0])])
    m = metrics(settings, *WEEK, project="p2")
    assert m["skill_invocation_total"] == {"b": 1}
