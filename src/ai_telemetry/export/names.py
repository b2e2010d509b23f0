"""Prometheus names for the metric catalogue: which series each metric of metrics.json becomes.

This table is the whole mapping. The exporter never computes a number: it reads two metrics.json
documents built by `ai_telemetry.analyze.metrics.metrics_document` (the one place numbers are
computed) and turns each catalogue metric into the series below.

- counters come from the *all-time* document (every event up to the end of the current ISO
  week), so they only grow and ``rate()`` / ``increase()`` work across scrapes;
- gauges and summaries come from the *current ISO week's* document (Monday 00:00Z to the next
  Monday): its rates, latest quality values and percentiles.

Naming follows Prometheus conventions: prefix ``ai_``, base units in the name (``_seconds``,
``_ratio`` for fractions; the catalogue's percents and minutes and days are converted),
``_total`` only on counters. Labels name bounded dimensions (``skill_name``, ``agent_name``,
``tool_name``, ``model``, ``severity``, ``source``, ``project``; plus the enumerations
``outcome``, ``token_type`` and a summary's ``quantile``); never ids.

``python -m ai_telemetry.export.names docs/prometheus.md`` rewrites the table in that page.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from ai_telemetry.events.schema import TERMINAL_OUTCOMES

Kind = Literal["counter", "gauge", "summary"]
Source = Literal["all_time", "week"]

QUANTILES: Final = (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"))
OUTCOMES: Final = tuple((o, o) for o in (*TERMINAL_OUTCOMES, "unfinished"))
TOKEN_TYPES: Final = tuple((t, t) for t in ("input", "output", "cache_creation", "cache_read"))


@dataclass(frozen=True, slots=True)
class Series:
    """One Prometheus metric family made from one catalogue metric.

    Attributes:
        name: the family's name as exposed (``ai_skill_invocations_total``).
        kind: ``counter``, ``gauge`` or ``summary`` (quantile samples only).
        metric: the catalogue metric of metrics.json it is read from.
        help: the ``# HELP`` text.
        source: ``all_time`` (counters) or ``week`` (the current ISO week).
        key_label: the label the metric's keys go into (``skill_name``); None: not keyed.
        split_label: the label an inner object's keys go into (``outcome``, ``quantile``).
        split: (key in metrics.json, label value) of the inner object, in order.
        pick: the one key of an inner object to read (``mean`` of skill_context_tokens).
        scale: unit conversion (percent -> ratio 0.01, minutes -> seconds 60).
        reduce: ``max``: one sample, the largest value over the metric's keys (for keys that
            must not become labels, such as free-text root causes).
    """

    name: str
    kind: Kind
    metric: str
    help: str
    source: Source = "week"
    key_label: str | None = None
    split_label: str | None = None
    split: tuple[tuple[str, str], ...] = ()
    pick: str | None = None
    scale: float = 1.0
    reduce: Literal["max"] | None = None
    covers: tuple[str, ...] = ()
    """Other catalogue metrics this series gives by summing a label away
    (``skill_invocation_total`` is ``sum by (skill_name)`` of the outcomes)."""

    @property
    def labels(self) -> tuple[str, ...]:
        """The label names of its samples (``project`` is added when exporting per project)."""
        return tuple(x for x in (self.key_label, self.split_label) if x is not None)


def _summary(
    name: str, metric: str, help: str, *, key_label: str | None = None, scale: float = 1.0
) -> Series:
    return Series(
        name,
        "summary",
        metric,
        help,
        key_label=key_label,
        split_label="quantile",
        split=QUANTILES,
        scale=scale,
    )


def _llm(dim: str, label: str, suffix: str) -> tuple[Series, ...]:
    infix = "" if dim == "model" else f"_{dim}"
    by = "" if dim == "model" else f" attributed to a {dim}"
    return (
        Series(
            f"ai_llm{infix}_requests_total",
            "counter",
            f"llm_requests{suffix or '_total'}",
            f"Model API responses{by} (each counted once).",
            "all_time",
            label,
        ),
        Series(
            f"ai_llm{infix}_tokens_total",
            "counter",
            f"llm_tokens{suffix or '_total'}",
            f"Tokens of model API responses{by}, by token type.",
            "all_time",
            label,
            "token_type",
            TOKEN_TYPES,
        ),
        Series(
            f"ai_llm{infix}_cost_usd_total",
            "counter",
            f"llm_cost_usd{suffix}",
            f"Estimated cost in US dollars of model API responses{by}.",
            "all_time",
            label,
        ),
    )


SERIES: Final[tuple[Series, ...]] = (
    # skill usage
    Series(
        "ai_skill_invocations_total",
        "counter",
        "skill_outcome_total",
        "Skill executions by outcome (unfinished: started, not ended yet).",
        "all_time",
        "skill_name",
        "outcome",
        OUTCOMES,
        covers=("skill_invocation_total",),
    ),
    Series(
        "ai_skill_invocations_per_day",
        "gauge",
        "skill_invocation_rate",
        "Skill executions in the 7 days ending now, per day.",
        key_label="skill_name",
    ),
    Series(
        "ai_skill_success_ratio",
        "gauge",
        "skill_success_rate",
        "Successful / finished skill executions this week.",
        key_label="skill_name",
    ),
    Series(
        "ai_skill_error_ratio",
        "gauge",
        "skill_error_rate",
        "Failed / finished skill executions this week.",
        key_label="skill_name",
    ),
    _summary(
        "ai_skill_duration_seconds",
        "skill_duration_seconds",
        "Duration of finished skill executions this week.",
        key_label="skill_name",
    ),
    Series(
        "ai_skill_avg_duration_seconds",
        "gauge",
        "skill_avg_duration_seconds",
        "Mean duration of finished skill executions this week.",
        key_label="skill_name",
    ),
    Series(
        "ai_skill_context_tokens",
        "summary",
        "skill_context_tokens",
        "Context tokens of skill executions this week.",
        key_label="skill_name",
        split_label="quantile",
        split=(("p95", "0.95"),),
    ),
    Series(
        "ai_skill_avg_context_tokens",
        "gauge",
        "skill_context_tokens",
        "Mean context tokens of skill executions this week.",
        key_label="skill_name",
        pick="mean",
    ),
    Series(
        "ai_skill_errors_total",
        "counter",
        "skill_error_total",
        "Skill executions that ended in error.",
        "all_time",
        "skill_name",
    ),
    # agent performance
    Series(
        "ai_agent_invocations_total",
        "counter",
        "agent_outcome_total",
        "Agent task executions by outcome.",
        "all_time",
        "agent_name",
        "outcome",
        OUTCOMES,
        covers=("agent_invocation_total",),
    ),
    Series(
        "ai_agent_task_completion_ratio",
        "gauge",
        "agent_task_completion_rate",
        "Successful / finished agent tasks this week.",
        key_label="agent_name",
    ),
    Series(
        "ai_agent_rollback_ratio",
        "gauge",
        "agent_rollback_rate",
        "Rolled back / finished agent tasks this week.",
        key_label="agent_name",
    ),
    Series(
        "ai_agent_handoff_ratio",
        "gauge",
        "agent_handoff_rate",
        "Handed off / finished agent tasks this week.",
        key_label="agent_name",
    ),
    _summary(
        "ai_agent_time_to_resolution_seconds",
        "agent_time_to_resolution",
        "Duration of finished agent tasks this week.",
        key_label="agent_name",
    ),
    Series(
        "ai_agent_task_tool_calls",
        "summary",
        "agent_tool_call_count",
        "Tool calls per agent task this week.",
        key_label="agent_name",
        split_label="quantile",
        split=(("p50", "0.5"), ("p95", "0.95")),
    ),
    Series(
        "ai_agent_task_tool_calls_max",
        "gauge",
        "agent_tool_call_count",
        "Most tool calls in one agent task this week.",
        key_label="agent_name",
        pick="max",
    ),
    # learning capture
    Series(
        "ai_learning_entries_total",
        "counter",
        "learning_entries_total",
        "Learnings captured (distinct ids).",
        "all_time",
    ),
    Series(
        "ai_learning_entries_per_week",
        "gauge",
        "learning_entries_per_week",
        "Learnings captured this week.",
    ),
    Series(
        "ai_learning_implementation_ratio",
        "gauge",
        "learning_implementation_rate",
        "Learnings implemented / learnings captured.",
    ),
    _summary(
        "ai_learning_time_to_implementation_seconds",
        "learning_time_to_implementation",
        "Time from capturing a learning to implementing it (catalogue: days).",
        scale=86400.0,
    ),
    Series(
        "ai_learning_entries_by_severity_total",
        "counter",
        "learning_severity_breakdown",
        "Learnings captured, by severity.",
        "all_time",
        "severity",
    ),
    Series(
        "ai_learning_entries_by_source_total",
        "counter",
        "learning_source_breakdown",
        "Learnings captured, by source.",
        "all_time",
        "source",
    ),
    # code quality
    Series(
        "ai_test_coverage_ratio",
        "gauge",
        "test_coverage_percent",
        "Latest test coverage this week (catalogue: percent).",
        scale=0.01,
    ),
    Series(
        "ai_test_coverage_delta_ratio",
        "gauge",
        "test_coverage_delta",
        "Change of test coverage against the latest value before this week (catalogue: percent).",
        scale=0.01,
    ),
    Series("ai_lint_errors", "gauge", "lint_errors", "Latest lint error count this week."),
    Series(
        "ai_type_coverage_ratio",
        "gauge",
        "type_coverage_percent",
        "Latest type coverage this week (catalogue: percent).",
        scale=0.01,
    ),
    Series(
        "ai_doc_coverage_ratio",
        "gauge",
        "doc_coverage_percent",
        "Latest documentation coverage this week (catalogue: percent).",
        scale=0.01,
    ),
    Series(
        "ai_security_open_findings",
        "gauge",
        "security_open_findings",
        "Latest count of open security findings this week.",
    ),
    # incidents
    Series(
        "ai_incidents_total",
        "counter",
        "incidents_total",
        "Incidents opened, by severity.",
        "all_time",
        "severity",
    ),
    Series(
        "ai_incident_root_cause_repeats",
        "gauge",
        "incident_root_cause_total",
        "Most incidents opened with one root cause in the 28 days to the end of this week "
        "(the Incident Repeat rule's input; all projects).",
        reduce="max",
    ),
    Series("ai_incidents_per_week", "gauge", "incident_rate", "Incidents opened this week."),
    _summary(
        "ai_incident_mttr_seconds",
        "incident_mttr_seconds",
        "Time to resolve incidents resolved this week.",
    ),
    Series(
        "ai_incident_repeat_ratio",
        "gauge",
        "incident_repeat_rate",
        "Incidents opened this week with a root cause seen before / incidents opened.",
    ),
    Series(
        "ai_test_failure_ratio",
        "gauge",
        "test_failure_rate",
        "Failed / all CI builds (else test runs) this week.",
    ),
    # context and resources
    _summary(
        "ai_context_window_utilization_ratio",
        "context_window_utilization",
        "Context tokens / context window of context snapshots this week.",
    ),
    Series(
        "ai_tool_call_limit_reached_total",
        "counter",
        "tool_call_limit_reached",
        "Times an agent hit its tool call limit.",
        "all_time",
    ),
    _summary(
        "ai_session_length_seconds",
        "session_length_minutes",
        "Length of sessions that ended this week (catalogue: minutes).",
        scale=60.0,
    ),
    _summary(
        "ai_skill_load_time_seconds",
        "skill_load_time_seconds",
        "Time to load a skill this week.",
    ),
    _summary(
        "ai_mcp_tool_latency_seconds",
        "mcp_tool_latency_seconds",
        "Latency of MCP tool calls this week.",
    ),
    Series(
        "ai_tool_calls_total",
        "counter",
        "tool_call_total",
        "Tool calls.",
        "all_time",
        "tool_name",
    ),
    Series(
        "ai_tool_error_ratio",
        "gauge",
        "tool_error_rate",
        "Failed / all tool calls this week.",
        key_label="tool_name",
    ),
    # tokens and cost
    *_llm("model", "model", ""),
    *_llm("skill", "skill_name", "_by_skill"),
    *_llm("agent", "agent_name", "_by_agent"),
    Series(
        "ai_llm_cache_hit_ratio",
        "gauge",
        "cache_hit_rate",
        "Cache reads / (input + cache creation + cache reads) tokens this week.",
    ),
)
"""Every series the exporter writes, in exposition order."""

EVENTS_SERIES: Final = "ai_events_total"
"""Besides the catalogue: all events stored (all time), so a dashboard can show ingest."""

CARDINALITY_BUDGET: Final = {
    "per_skill": 21,
    "per_agent": 20,
    "per_tool": 2,
    "per_model": 6,
    "fixed": 100,
}
"""Series budget (docs/prometheus.md): per skill, agent, tool (with its outcomes, quantiles and
token types), plus a fixed number for everything keyed by a small enumeration (severity,
source, model). Tests hold 1,000 skills x 4 outcomes to it."""


def series_budget(*, skills: int, agents: int = 0, tools: int = 0, models: int = 0) -> int:
    """The most series one exposition may hold for these many skills, agents, tools, models."""
    b = CARDINALITY_BUDGET
    return (
        b["per_skill"] * skills
        + b["per_agent"] * agents
        + b["per_tool"] * tools
        + b["per_model"] * models
        + b["fixed"]
    )


def markdown_table() -> str:
    """The mapping as the Markdown table of docs/prometheus.md."""
    lines = [
        "| catalogue metric | series | type | labels | window | unit conversion |",
        "|---|---|---|---|---|---|",
    ]
    for s in SERIES:
        labels = ", ".join(f"`{x}`" for x in s.labels) or "-"
        if s.split_label is not None:
            values = "/".join(v for _, v in s.split)
            labels = labels.replace(f"`{s.split_label}`", f"`{s.split_label}` ({values})")
        metric = f"`{s.metric}`" + (f" (`{s.pick}`)" if s.pick else "")
        if s.reduce:
            metric += f" ({s.reduce} over its keys)"
        for other in s.covers:
            metric += f"; `{other}` = its sum over `{s.split_label}`"
        window = "all time" if s.source == "all_time" else "current ISO week"
        scale = {1.0: "-", 0.01: "percent / 100", 60.0: "minutes x 60", 86400.0: "days x 86400"}
        lines.append(
            f"| {metric} | `{s.name}` | {s.kind} | {labels} | {window} | {scale[s.scale]} |"
        )
    lines.append(f"| (`events.total`) | `{EVENTS_SERIES}` | counter | - | all time | - |")
    return "\n".join(lines) + "\n"


BEGIN: Final = (
    "<!-- BEGIN series: generated by `python -m ai_telemetry.export.names docs/prometheus.md`; "
    "do not edit by hand -->"
)
END: Final = "<!-- END series -->"


def render_page(page: str) -> str:
    """``page`` with the table between `BEGIN` and `END` replaced by `markdown_table`."""
    head, _, rest = page.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{markdown_table()}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the table of the page named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "docs/prometheus.md")
    path.write_text(render_page(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
