"""A less kind world for the detection bench: weekly metrics documents with drift and holidays.

The demo generator's clean weeks are a stationary process. Real teams are not: this module
simulates the weekly ``metrics`` documents detection reads (the same metric names and shapes as
`ai_telemetry.alert.history.load_history` returns, plus the 28-day root-cause counts) directly,
with, over one year:

- weekly volume growing 2x (exponentially, week 0 to the last week);
- a slow drift in the skill mix (each skill's share moves by up to about +-40% over the year);
- low-volume holiday weeks (a quarter to a third of the usual volume; fewer learnings);
- a new skill appearing (``release-notes``, from week 20) and one retired (``docs-writer``,
  after week 30);
- week-to-week variation of the true rates (beta noise around each skill's error rate) on top of
  binomial noise.

The seven anomalies of the demo are injected in the same weeks, counted back from the last week,
at the demo's sizes (``scale=1``) or at half of them (``scale=0.5``: half the excess over normal).
Distributions (runs per week, error rates, lognormal durations, tool calls, context fill, CI
builds, incidents from three root causes) follow `ai_telemetry.demo`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

SKILLS = {
    # name: (weekly runs at the start, error rate, median duration s)
    "systematic-debugger": (46, 0.04, 240.0),
    "constraint-preflight": (34, 0.03, 35.0),
    "test-writer": (28, 0.05, 180.0),
    "acgme-compliance": (19, 0.03, 95.0),
    "code-review": (15, 0.02, 150.0),
    "docs-writer": (6, 0.02, 120.0),
    "legacy-migrator": (1, 0.10, 600.0),
    "release-notes": (20, 0.04, 70.0),
}
NEW_SKILL, NEW_FROM = "release-notes", 20
RETIRED_SKILL, RETIRED_AFTER = "docs-writer", 30
AGENTS = {
    # name: (weekly tasks, median minutes, tool calls)
    "explorer": (40, 2.5, 9),
    "planner": (22, 3.5, 6),
    "implementer": (30, 6.0, 22),
    "reviewer": (18, 3.0, 11),
    "test-runner": (25, 4.0, 8),
}
CAUSES = ("stale-cache", "flaky-fixture", "race-condition")
REPEAT_CAUSE = "timezone-handling"
HOLIDAYS = (8, 21, 22, 35)
"""Week indexes (from the first week) with a quarter to a third of the usual volume."""

EARLIEST = {
    "skill_error_spike": 0,
    "learning_stall": 1,  # "0 new learnings in 2 weeks": the second empty week
    "incident_repeat": 2,  # "same root cause 3+ times": the third repeat, one a week
    "coverage_decline": 0,
    "context_saturation": 0,
    "tool_call_loop": 0,
    "duration_shift": 0,
}
"""The earliest week (from the anomaly's first) its definition lets anything see it."""


@dataclass(frozen=True, slots=True)
class Injected:
    """One injected anomaly: kind, first week index, number of weeks."""

    kind: str
    first: int
    weeks: int


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def generate_world(seed: int, *, weeks: int = 52, scale: float = 1.0) -> dict[str, Any]:
    """Weekly documents, root-cause counts and injected anomalies of one seed.

    Returns:
        ``{"seed", "weeks": [[week_start, {"metrics": ...}, causes], ...], "anomalies"}`` with
        anomalies as ``{"kind", "index", "weeks"}`` (the bench's data shape).
    """
    rng = random.Random(seed * 7919 + round(scale * 100))
    last = weeks - 1
    injected = [
        Injected("skill_error_spike", last - 2, 1),
        Injected("learning_stall", last - 5, 2),
        Injected("incident_repeat", last - 3, 4),
        Injected("coverage_decline", last - 1, 1),
        Injected("context_saturation", last, 1),
        Injected("tool_call_loop", last, 1),
        Injected("duration_shift", last - 2, 3),
    ]
    active = {a.kind: range(a.first, a.first + a.weeks) for a in injected}
    drift = {s: rng.uniform(-0.5, 0.5) for s in SKILLS}
    holiday_factor = {w: rng.uniform(0.25, 0.35) for w in HOLIDAYS}
    coverage = 84.0
    cause_weeks: list[dict[str, int]] = []
    rows: list[list[Any]] = []
    start = date(2025, 1, 6)
    for i in range(weeks):
        growth = 2.0 ** (i / max(last, 1))
        volume = growth * holiday_factor.get(i, 1.0)
        m: dict[str, Any] = {}
        # skills
        runs, success, errors, p50, p95 = {}, {}, {}, {}, {}
        for skill, (weekly, error_rate, median) in SKILLS.items():
            if (skill == NEW_SKILL and i < NEW_FROM) or (
                skill == RETIRED_SKILL and i > RETIRED_AFTER
            ):
                continue
            mix = math.exp(drift[skill] * i / max(last, 1))
            n = _poisson(rng, weekly * volume * mix)
            if n == 0:
                continue
            rate = error_rate
            if skill == "acgme-compliance" and i in active["skill_error_spike"]:
                rate = error_rate + (0.30 - error_rate) * scale
            rate = rng.betavariate(rate * 300, (1 - rate) * 300)
            err = _binomial(rng, n, rate)
            other = _binomial(rng, n - err, 0.03)
            slow = 1.0
            if skill == "systematic-debugger" and i in active["duration_shift"]:
                slow = 1.0 + 0.6 * scale
            durations = [median * slow * math.exp(rng.gauss(0, 0.45)) for _ in range(n)]
            runs[skill] = float(n)
            success[skill] = (n - err - other) / n
            errors[skill] = err / n
            p50[skill] = _quantile(durations, 0.5)
            p95[skill] = _quantile(durations, 0.95)
        m["skill_invocation_total"] = runs
        m["skill_success_rate"] = success
        m["skill_error_rate"] = errors
        m["skill_duration_seconds"] = {s: {"p50": p50[s], "p95": p95[s]} for s in runs}
        # agents
        tasks, done, ttr, calls = {}, {}, {}, {}
        for agent, (weekly, minutes, mean_calls) in AGENTS.items():
            n = _poisson(rng, weekly * volume)
            if n == 0:
                continue
            ok = n - _binomial(rng, n, 0.08)
            times = [minutes * 60 * math.exp(rng.gauss(0, 0.5)) for _ in range(n)]
            counts = [max(1, round(rng.gauss(mean_calls, mean_calls / 4))) for _ in range(n)]
            if agent == "implementer" and i in active["tool_call_loop"]:
                counts[0] = round(max(counts) + (64 - max(counts)) * scale)
            tasks[agent] = float(n)
            done[agent] = ok / n
            ttr[agent] = {"p50": _quantile(times, 0.5), "p95": _quantile(times, 0.95)}
            calls[agent] = {"p50": _quantile([float(c) for c in counts], 0.5), "max": max(counts)}
        m["agent_invocation_total"] = tasks
        m["agent_task_completion_rate"] = done
        m["agent_time_to_resolution"] = ttr
        m["agent_tool_call_count"] = calls
        # learnings
        entries = rng.randint(7, 13)
        if i in holiday_factor:
            entries = _binomial(rng, entries, 0.35)
        if i in active["learning_stall"]:
            entries = round(entries * (1.0 - scale))
        m["learning_entries_per_week"] = float(entries) if entries else None
        if entries:
            m["learning_implementation_rate"] = _binomial(rng, entries, 0.78) / entries
        # incidents: 0-2 a week from three causes; the repeat adds one of a fourth
        opened = [rng.choice(CAUSES) for _ in range(rng.randint(0, 2))]
        if i in active["incident_repeat"] and rng.random() < scale:
            opened.append(REPEAT_CAUSE)
        week_causes: dict[str, int] = {}
        for cause in opened:
            week_causes[cause] = week_causes.get(cause, 0) + 1
        cause_weeks.append(week_causes)
        month: dict[str, int] = {}
        for earlier in cause_weeks[-4:]:
            for cause, count in earlier.items():
                month[cause] = month.get(cause, 0) + count
        m["incident_rate"] = float(len(opened)) if opened else None
        if opened:
            mttr = [28 * 60 * math.exp(rng.gauss(0, 0.7)) for _ in opened]
            m["incident_mttr_seconds"] = {"p50": _quantile(mttr, 0.5)}
        # CI and coverage
        previous = coverage
        if i in active["coverage_decline"]:
            coverage = previous - 2.6 * scale
        else:
            coverage = min(97.0, previous + rng.uniform(0.1, 0.6))
        coverage = round(coverage, 1)
        m["test_coverage_percent"] = coverage
        m["test_coverage_delta"] = round(coverage - previous, 1)
        builds = max(1, _poisson(rng, 30 * volume))
        fail_p = 0.04 + (0.08 * scale if i in active["coverage_decline"] else 0.0)
        m["test_failure_rate"] = _binomial(rng, builds, fail_p) / builds
        # context and tools
        fills = []
        for _ in range(max(1, _poisson(rng, 30 * volume))):
            for turn in range(rng.randint(3, 8)):
                fill = rng.betavariate(4, 5)
                if i in active["context_saturation"] and turn > 2:
                    fill = fill + (rng.uniform(0.92, 0.98) - fill) * scale
                fills.append(fill)
        m["context_window_utilization"] = {
            "p50": _quantile(fills, 0.5),
            "p95": _quantile(fills, 0.95),
        }
        latencies = [
            0.8 * math.exp(rng.gauss(0, 0.7)) for _ in range(max(1, _poisson(rng, 200 * volume)))
        ]
        m["mcp_tool_latency_seconds"] = {"p95": _quantile(latencies, 0.95)}
        m["events_total"] = float(sum(runs.values()) * 6)
        monday = (start + timedelta(weeks=i)).isoformat()
        rows.append([monday, {"metrics": m}, month])
    return {
        "seed": seed,
        "weeks": rows,
        "anomalies": [{"kind": a.kind, "index": a.first, "weeks": a.weeks} for a in injected],
    }
