"""The seed's targets and baselines, in plain language, with the action for each metric.

One shared table (`TARGETS`) for every report, the alerting stage and the terminal status:
each entry says what a metric means in one sentence a clinician administrator can read, what
good looks like (the seed's Target/Baseline column), when to watch and when to act, and what
to do when it is off target. `assess` turns a value into a `Assessment` with a status word.

Statuses:

- ``on target``: the seed's target is met.
- ``watch``: off target but within the watch band (a small miss, or a first sign).
- ``act``: clearly off target; the action says what to do.
- ``no data``: the metric is null in metrics.json (nothing was recorded this week).
- ``info``: the seed gives no target (e.g. invocation counts, cost); shown for context.

Metric ids are metrics.json names, with a statistic where the metric is a statistics object
(``agent_time_to_resolution.p50``), as in `ai_telemetry.analyze.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Status = Literal["on target", "watch", "act", "no data", "info"]
Direction = Literal["higher", "lower", "baseline", "none"]
Unit = Literal["rate", "percent", "points", "minutes_from_seconds", "seconds", "days", "count"]

STATUS_ICON: Final[dict[str, str]] = {
    "on target": "✅",
    "watch": "⚠️",
    "act": "🔴",
    "no data": "⚪",
    "info": "ℹ️",
}
"""A symbol per status, always shown next to the word (never colour or symbol alone)."""

TEXT_ICON: Final[dict[str, str]] = {
    "on target": "✔",
    "watch": "⚠",
    "act": "✖",
    "no data": "○",
    "info": "ℹ",
}
"""Plain symbols for HTML and terminals: present in common fonts, one cell wide (no emoji)."""


@dataclass(frozen=True, slots=True)
class Target:
    """What good looks like for one metric.

    Attributes:
        metric: metrics.json name, with ``.stat`` for a statistics object.
        label: short display name.
        meaning: one plain-language sentence: what the number is.
        target_text: the seed's target or baseline, as written for people (``above 90%``).
        unit: how values are shown (`format_value`).
        direction: ``higher``/``lower`` is better than the bounds; ``baseline``: compared with
            the average of the previous weeks (the seed's "decreasing" / "stable or increasing");
            ``none``: no target, shown for information.
        good: on target when at or beyond this (``higher``: value >= good; ``lower``: <= good).
        act: act when at or beyond this on the wrong side; between ``good`` and ``act``: watch.
        action: what to do when the metric is off target.
        null_means_zero: metrics.json writes null for "none happened" (counts, rates of events);
            shown as "none this week" and assessed as 0.
    """

    metric: str
    label: str
    meaning: str
    target_text: str
    unit: Unit
    direction: Direction
    good: float | None = None
    act: float | None = None
    action: str = ""
    null_means_zero: bool = False


@dataclass(frozen=True, slots=True)
class Assessment:
    """One value judged against its target.

    Attributes:
        target: the table entry.
        value: the value (after ``null_means_zero``), or None when there is no data.
        status: ``on target``, ``watch``, ``act``, ``no data`` or ``info``.
        value_text: the value formatted for people (``96.5%``, ``4.2 min``, ``no data this week``).
        action: what to do (empty when on target or info).
    """

    target: Target
    value: float | None
    status: Status
    value_text: str
    action: str

    @property
    def icon(self) -> str:
        """The status symbol."""
        return STATUS_ICON[self.status]


_TABLE: Final[tuple[Target, ...]] = (
    # --- skills
    Target(
        "skill_invocation_total",
        "Invocations",
        "How many times each skill was used.",
        "track for 2 weeks (baseline)",
        "count",
        "none",
    ),
    Target(
        "skill_success_rate",
        "Success rate",
        "Share of finished skill runs that ended well.",
        "above 90%",
        "rate",
        "higher",
        0.90,
        0.85,
        "Read this skill's recent errors and the learnings that name it, then "
        "update the skill's instructions.",
    ),
    Target(
        "skill_error_rate",
        "Error rate",
        "Share of finished skill runs that failed.",
        "below 5%",
        "rate",
        "lower",
        0.05,
        0.10,
        "Investigate the skill implementation: read its recent errors and fix the cause.",
    ),
    # --- agents
    Target(
        "agent_task_completion_rate",
        "Completion rate",
        "Share of finished agent tasks that were completed successfully.",
        "above 95%",
        "rate",
        "higher",
        0.95,
        0.90,
        "Review the failed tasks of the agents below target and what went wrong.",
    ),
    Target(
        "agent_rollback_rate",
        "Rollback rate",
        "Share of agent tasks whose changes had to be undone.",
        "below 2%",
        "rate",
        "lower",
        0.02,
        0.05,
        "Review each rolled-back task; add a check or a learning so it does not recur.",
    ),
    Target(
        "agent_handoff_rate",
        "Handoff rate",
        "Share of agent tasks passed to a human because the agent could not finish.",
        "below 10%",
        "rate",
        "lower",
        0.10,
        0.15,
        "Look at what the handed-off tasks have in common; a skill may be missing.",
    ),
    Target(
        "agent_time_to_resolution.p50",
        "Median time to resolution",
        "Typical time an agent needs from start to finish of a task.",
        "under 5 min",
        "minutes_from_seconds",
        "lower",
        300.0,
        450.0,
        "Find the slowest agents and split their tasks into smaller steps.",
    ),
    Target(
        "agent_time_to_resolution.p95",
        "p95 time to resolution",
        "Time within which 95 of 100 agent tasks finish (the slow tail).",
        "for information",
        "minutes_from_seconds",
        "none",
    ),
    Target(
        "agent_tool_call_count.max",
        "Most tool calls in one task",
        "The largest number of tool calls a single task made; very high means a loop.",
        "50 or fewer",
        "count",
        "lower",
        50.0,
        50.5,
        "Stop the looping agent (kill switch) and investigate its logic.",
    ),
    # --- learning
    Target(
        "learning_entries_per_week",
        "New learnings",
        "Lessons written down this week (from incidents, reviews, observations).",
        "stable or increasing",
        "count",
        "baseline",
        action="Review the workflow and make sure lessons are being written down.",
        null_means_zero=True,
    ),
    Target(
        "learning_implementation_rate",
        "Implementation rate",
        "Share of all lessons learned that have been turned into a code or skill change.",
        "above 70%",
        "rate",
        "higher",
        0.70,
        0.60,
        "Schedule the oldest critical learnings for implementation.",
    ),
    Target(
        "learning_time_to_implementation.p50",
        "Median days to implement",
        "Typical number of days from writing a lesson down to the change that applies it.",
        "under 3 days",
        "days",
        "lower",
        3.0,
        5.0,
        "Make implementing learnings part of the weekly plan.",
    ),
    # --- code quality
    Target(
        "test_coverage_percent",
        "Test coverage",
        "Share of the code exercised by automated tests.",
        "above 85%",
        "percent",
        "higher",
        85.0,
        80.0,
        "Add tests for the code changed most recently.",
    ),
    Target(
        "test_coverage_delta",
        "Coverage change this week",
        "How test coverage moved since the week before, in percentage points.",
        "+0.5 points a week",
        "points",
        "higher",
        0.5,
        -2.0,
        "Coverage is falling: block merges that lower it until it recovers.",
    ),
    Target(
        "lint_errors",
        "Lint errors",
        "Style and correctness warnings from the code checker.",
        "decreasing (ideally 0)",
        "count",
        "baseline",
        action="Fix the new lint errors before they pile up.",
    ),
    Target(
        "type_coverage_percent",
        "Type coverage",
        "Share of functions that declare the kinds of data they take and return.",
        "100%",
        "percent",
        "higher",
        100.0,
        95.0,
        "Add type hints to the new functions.",
    ),
    Target(
        "doc_coverage_percent",
        "Docstring coverage",
        "Share of public functions that carry a short description.",
        "100%",
        "percent",
        "higher",
        100.0,
        95.0,
        "Add docstrings to the new public functions.",
    ),
    Target(
        "security_open_findings",
        "Open security findings",
        "Known security problems not yet fixed.",
        "0",
        "count",
        "lower",
        0.0,
        0.5,
        "Fix or formally accept each open security finding.",
    ),
    # --- incidents
    Target(
        "incident_rate",
        "Incidents",
        "Problems that needed someone's attention this week.",
        "decreasing",
        "count",
        "baseline",
        action="Read the incidents' root causes and turn each into a learning.",
        null_means_zero=True,
    ),
    Target(
        "incident_mttr_seconds.p50",
        "Median time to resolve an incident",
        "Typical time from an incident being opened to it being resolved.",
        "under 30 min",
        "minutes_from_seconds",
        "lower",
        1800.0,
        3600.0,
        "Write a runbook for the slowest incident type.",
    ),
    Target(
        "incident_repeat_rate",
        "Repeat incidents",
        "Share of this week's incidents whose root cause had been seen before.",
        "below 5%",
        "rate",
        "lower",
        0.05,
        0.10,
        "A lesson is not sticking: ask META_UPDATER for a priority update of the skill involved.",
    ),
    Target(
        "test_failure_rate",
        "Failing builds",
        "Share of automated builds (CI) whose tests failed.",
        "below 5%",
        "rate",
        "lower",
        0.05,
        0.10,
        "Fix or quarantine the failing tests before adding features.",
    ),
    # --- context and resources
    Target(
        "context_window_utilization.p95",
        "Context use (p95)",
        "How full the agent's working memory (context window) gets at its busiest.",
        "below 80%",
        "rate",
        "lower",
        0.80,
        0.90,
        "Break long tasks into sub-agents so each has room to think.",
    ),
    Target(
        "tool_call_limit_reached",
        "Tool call limit reached",
        "Times an agent hit the maximum number of tool calls allowed.",
        "0",
        "count",
        "lower",
        0.0,
        0.5,
        "Investigate the agent that hit the limit; it may be looping.",
        null_means_zero=True,
    ),
    Target(
        "session_length_minutes.p95",
        "Long sessions (p95)",
        "Length within which 95 of 100 working sessions end.",
        "monitor long tails",
        "minutes_from_seconds",
        "none",
    ),
    Target(
        "skill_load_time_seconds.p95",
        "Skill load time (p95)",
        "Time to load a skill's instructions, for the slowest 5 of 100 loads.",
        "under 2 s",
        "seconds",
        "lower",
        2.0,
        3.0,
        "Shorten the skill's prompt files.",
    ),
    Target(
        "mcp_tool_latency_seconds.p95",
        "MCP tool latency (p95)",
        "Response time of external tools (MCP servers), for the slowest 5 of 100 calls.",
        "under 1 s",
        "seconds",
        "lower",
        1.0,
        1.5,
        "Check the slow MCP server's health and network.",
    ),
    Target(
        "cache_hit_rate",
        "Prompt cache hit rate",
        "Share of input tokens served from the model's cache (cheaper).",
        "for information",
        "rate",
        "none",
    ),
)

TARGETS: Final[dict[str, Target]] = {t.metric: t for t in _TABLE}
"""Metric id -> target, in dashboard order within each section."""


def format_value(value: float | None, unit: Unit, *, signed: bool = False) -> str:
    """A value for people: ``96.5%``, ``4.2 min``, ``1.25 s``, ``2.7 days``, ``+0.5 pts``.

    ``None`` is ``no data this week``.
    """
    if value is None:
        return "no data this week"
    sign = "+" if signed and value > 0 else ""
    if unit == "rate":
        return f"{sign}{value * 100:.1f}%"
    if unit == "percent":
        return f"{sign}{value:.1f}%"
    if unit == "points":
        return f"{'+' if value > 0 else ''}{value:.1f} pts"
    if unit == "minutes_from_seconds":
        return f"{sign}{value / 60:.1f} min"
    if unit == "seconds":
        return f"{sign}{value:.2f} s"
    if unit == "days":
        return f"{sign}{value:.1f} days"
    if float(value).is_integer():
        return f"{sign}{int(value):,}"
    return f"{sign}{value:,.1f}"


def _status(target: Target, value: float, baseline: float | None) -> Status:
    if target.direction == "none":
        return "info"
    if target.direction == "baseline":
        if baseline is None:
            return "info"
        # learnings: more is better; incidents and lint errors: fewer is better
        more_is_better = target.metric == "learning_entries_per_week"
        if more_is_better:
            if value == 0:
                return "act"
            return "on target" if value >= baseline * 0.8 else "watch"
        if value == 0 or value <= baseline:
            return "on target"
        return "watch" if value <= baseline * 1.5 else "act"
    good, act = target.good, target.act
    assert good is not None and act is not None  # the table sets both for higher/lower
    if target.direction == "higher":
        if value >= good:
            return "on target"
        return "watch" if value > act else "act"
    if value <= good:
        return "on target"
    return "watch" if value < act else "act"


def assess(metric: str, value: float | None, *, baseline: float | None = None) -> Assessment:
    """Judge ``value`` of ``metric`` against the seed's target.

    Args:
        metric: a `TARGETS` id.
        value: the value from metrics.json (None: null).
        baseline: for ``baseline`` metrics, the average of the previous weeks; without it the
            status is ``info``.

    Raises:
        KeyError: ``metric`` has no entry in `TARGETS`.
    """
    target = TARGETS[metric]
    if value is None and target.null_means_zero:
        value = 0.0
    if value is None:
        return Assessment(target, None, "no data", format_value(None, target.unit), "")
    status = _status(target, value, baseline)
    text = format_value(value, target.unit)
    if value == 0 and target.null_means_zero:
        text = "none this week"
    action = target.action if status in ("watch", "act") else ""
    return Assessment(target, value, status, text, action)


def worst(statuses: list[Status]) -> Status:
    """The most urgent of several statuses (act > watch > on target > info > no data)."""
    for status in ("act", "watch", "on target", "info"):
        if status in statuses:
            return status
    return "no data"


GLOSSARY: Final[tuple[tuple[str, str], ...]] = (
    (
        "Skill",
        "A packaged set of instructions the AI assistant follows for one kind of job "
        "(for example debugging, or checking duty-hour rules).",
    ),
    (
        "Agent",
        "An AI assistant working on one task on its own, such as planning, writing code "
        "or reviewing it.",
    ),
    ("p50 (median)", "The middle value: half of the cases were faster (or smaller), half slower."),
    ("p95", "95 of every 100 cases were at or below this value; it shows the slow tail."),
    ("Rollback", "Undoing a change an agent made because it was wrong."),
    ("Handoff", "An agent passing a task to a human because it could not finish it."),
    (
        "Context window",
        "The AI's working memory for one session; when it is nearly full, the "
        "AI forgets earlier details and makes more mistakes.",
    ),
    (
        "Learning",
        "A lesson written down after an incident, review or observation, to be turned "
        "into a change so the problem does not recur.",
    ),
    ("Test coverage", "The share of the program's code that automated tests exercise."),
    ("Incident", "A problem in the software that needed someone's attention."),
    (
        "MCP tool",
        "An external service the AI can call (Model Context Protocol), such as the "
        "schedule validator.",
    ),
    (
        "Token",
        "The unit AI models read and write text in (about three quarters of a word); "
        "cost is charged per token.",
    ),
    (
        "CI build",
        "The automatic check run on every change: it builds the software and runs the tests.",
    ),
)
"""Plain-language explanations of the words the dashboards use."""

__all__ = [
    "GLOSSARY",
    "STATUS_ICON",
    "TARGETS",
    "TEXT_ICON",
    "Assessment",
    "Status",
    "Target",
    "assess",
    "format_value",
    "worst",
]
