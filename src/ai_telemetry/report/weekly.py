"""The weekly report as data: metrics.json + weekly history + open alerts -> `WeeklyReport`.

Every dashboard (Markdown, HTML, terminal) renders the same `WeeklyReport`, so they always
agree. Building it reads no clock: the window comes from metrics.json, the history is passed in
(`load_history` reads it from the warehouse with ``now`` = the window's end).

Totals over agents are derived from the per-agent numbers of metrics.json: rates are weighted
by each agent's task count; the median time to resolution is the task-weighted median of the
agents' medians, and the p95 is the slowest agent's p95 (metrics.json keeps percentiles per
agent, not for all agents together).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ai_telemetry.report.targets import Assessment, assess, format_value, worst

if TYPE_CHECKING:
    from ai_telemetry.analyze.sequential import Experiment
    from ai_telemetry.config import Settings
    from ai_telemetry.documents.types import ProjectRowDoc

Series = list[tuple[date, float | None]]
History = Mapping[tuple[str, str], Series]
"""(metric, key) -> weekly values oldest first; key is "" for a plain metric."""


@dataclass(frozen=True, slots=True)
class Row:
    """One metric line: its assessment, the key it is about, and how it changed."""

    assessment: Assessment
    key: str = ""
    change: str = ""


@dataclass(frozen=True, slots=True)
class SkillRow:
    """One skill this week."""

    name: str
    invocations: int
    success: Assessment
    error: Assessment
    errors: int
    median_minutes: str


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One agent this week."""

    name: str
    invocations: int
    completion: Assessment
    rollback: Assessment
    handoff: Assessment
    median: Assessment
    max_tool_calls: Assessment


@dataclass(frozen=True, slots=True)
class LearningWeek:
    """One week of learning capture: new entries and their severities."""

    monday: date
    entries: int
    severities: dict[str, int]


@dataclass(frozen=True, slots=True)
class ModelRow:
    """Tokens and cost of one model."""

    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    cache_tokens: int
    cost_usd: float | None


@dataclass(slots=True)
class WeeklyReport:
    """Everything a weekly dashboard shows, already judged against the seed's targets."""

    start: datetime
    end: datetime
    events_total: int
    top_skills: list[tuple[str, int]]
    skills: list[SkillRow]
    agents: list[AgentRow]
    agent_total: int
    agent_summary: list[Row]
    rollbacks: int
    handoffs: int
    learning_weeks: list[LearningWeek]
    learning_trend: float | None
    learning_rows: list[Row]
    implemented: int
    learning_total: int
    quality: list[Row]
    incidents_by_severity: dict[str, int]
    incidents: list[Row]
    skill_errors: list[tuple[str, int]]
    context: list[Row]
    models: list[ModelRow]
    cost_total: float | None
    cache: Row
    alerts: list[dict[str, Any]]
    history: History = field(default_factory=dict)
    experiments: list[Experiment] = field(default_factory=list)
    """Skill experiments (new version vs previous) and their sequential verdicts."""
    project: str | None = None
    """The project the metrics are of (``aggregate --project``); None: every project."""
    projects: list[ProjectRowDoc] = field(default_factory=list)
    """The cross-project overview of the week (`ai_telemetry.report.projects`), when the
    whole store's week holds two projects or more."""

    @property
    def week_label(self) -> str:
        """``2025-12-22 to 2025-12-28`` (the window's last day is the day before its end)."""
        last = (self.end - timedelta(microseconds=1)).date()
        return f"{self.start.date().isoformat()} to {last.isoformat()}"

    def attention(self) -> list[Row]:
        """Rows off target, ``act`` first: the "what to do this week" list."""
        rows: list[Row] = []
        for skill in self.skills:
            rows += [Row(skill.success, skill.name), Row(skill.error, skill.name)]
        for agent in self.agents:
            rows += [Row(a, agent.name) for a in (agent.completion, agent.rollback)]
            rows += [Row(agent.handoff, agent.name), Row(agent.max_tool_calls, agent.name)]
        rows += self.learning_rows + self.quality + self.incidents + self.context
        flagged = [r for r in rows if r.assessment.status in ("act", "watch")]
        order = {"act": 0, "watch": 1}
        return sorted(flagged, key=lambda r: order[r.assessment.status])

    def overall(self) -> str:
        """The worst status of the week; ``no data`` for a week without events (a project
        name mistyped, or telemetry not flowing, must not read as all on target)."""
        if not self.events_total:
            return "no data"
        return worst([r.assessment.status for r in self.attention()] or ["on target"])


def _stat(metrics: Mapping[str, Any], metric_id: str, key: str | None = None) -> float | None:
    name, _, stat = metric_id.partition(".")
    value = metrics.get(name)
    if key is not None:
        value = value.get(key) if isinstance(value, Mapping) else None
    if stat:
        value = value.get(stat) if isinstance(value, Mapping) else None
    return float(value) if isinstance(value, int | float) else None


def _monday(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def _before(history: History, metric: str, start: datetime, key: str = "") -> list[float]:
    """Values of weeks that ended before ``start`` (nulls of recorded weeks count as 0)."""
    recorded = {d for d, v in history.get(("events_total", ""), []) if v}
    out: list[float] = []
    for monday, value in history.get((metric, key), []):
        if monday + timedelta(days=7) <= start.date():
            if value is not None:
                out.append(value)
            elif monday in recorded:
                out.append(0.0)
    return out


def _baseline(history: History, metric: str, start: datetime) -> float | None:
    values = _before(history, metric, start)[-4:]
    return sum(values) / len(values) if values else None


def _month_ago(history: History, metric: str, start: datetime) -> float | None:
    ref = _monday(start) - timedelta(days=28)
    for monday, value in history.get((metric, ""), []):
        if monday == ref:
            return value
    return None


def _change(now: float | None, then: float | None, unit: str) -> str:
    if now is None or then is None:
        return ""
    diff = now - then
    if unit == "percent":
        return f"{diff:+.1f} pts since 4 weeks ago"
    if abs(diff) < 1e-9:
        return "same as 4 weeks ago"
    return f"{diff:+,.0f} since 4 weeks ago"


def _weighted_median(pairs: list[tuple[float, int]]) -> float | None:
    pairs = sorted(p for p in pairs if p[1] > 0)
    total = sum(n for _, n in pairs)
    if not total:
        return None
    running = 0
    for value, n in pairs:
        running += n
        if running * 2 >= total:
            return value
    return pairs[-1][0]


def _agents(metrics: Mapping[str, Any]) -> tuple[list[AgentRow], list[Row], int, int, int]:
    totals: Mapping[str, int] = metrics.get("agent_invocation_total") or {}
    rows: list[AgentRow] = []
    weighted: dict[str, float] = {"completion": 0.0, "rollback": 0.0, "handoff": 0.0}
    weight = 0
    medians: list[tuple[float, int]] = []
    p95s: list[float] = []
    max_calls: list[float] = []
    for name in sorted(totals, key=lambda a: (-totals[a], a)):
        n = int(totals[name])
        completion = _stat(metrics, "agent_task_completion_rate", name)
        rollback = _stat(metrics, "agent_rollback_rate", name)
        handoff = _stat(metrics, "agent_handoff_rate", name)
        median = _stat(metrics, "agent_time_to_resolution.p50", name)
        p95 = _stat(metrics, "agent_time_to_resolution.p95", name)
        calls = _stat(metrics, "agent_tool_call_count.max", name)
        if completion is not None:
            weight += n
            weighted["completion"] += completion * n
            weighted["rollback"] += (rollback or 0.0) * n
            weighted["handoff"] += (handoff or 0.0) * n
        if median is not None:
            medians.append((median, n))
        if p95 is not None:
            p95s.append(p95)
        if calls is not None:
            max_calls.append(calls)
        rows.append(
            AgentRow(
                name,
                n,
                assess("agent_task_completion_rate", completion),
                assess("agent_rollback_rate", rollback),
                assess("agent_handoff_rate", handoff),
                assess("agent_time_to_resolution.p50", median),
                assess("agent_tool_call_count.max", calls),
            )
        )

    def share(name: str) -> float | None:
        return weighted[name] / weight if weight else None

    summary = [
        Row(assess("agent_task_completion_rate", share("completion"))),
        Row(assess("agent_rollback_rate", share("rollback"))),
        Row(assess("agent_handoff_rate", share("handoff"))),
        Row(assess("agent_time_to_resolution.p50", _weighted_median(medians))),
        Row(assess("agent_time_to_resolution.p95", max(p95s) if p95s else None)),
        Row(assess("agent_tool_call_count.max", max(max_calls) if max_calls else None)),
    ]
    rollbacks = round(weighted["rollback"])
    handoffs = round(weighted["handoff"])
    return rows, summary, sum(int(n) for n in totals.values()), rollbacks, handoffs


def learning_by_week(history: History, *, end: datetime) -> list[LearningWeek]:
    """Learning capture per recorded week before ``end``, oldest first.

    Severities come from the difference of the cumulative severity breakdown between
    consecutive weeks (metrics.json counts learnings up to the window's end).
    """
    series = [
        (d, v) for d, v in history.get(("learning_entries_per_week", ""), []) if d < end.date()
    ]
    recorded = {d for d, v in history.get(("events_total", ""), []) if v}
    if not series:
        series = [(d, None) for d in sorted(recorded) if d < end.date()]
    found = {k for m, k in history if m == "learning_severity_breakdown"}
    order = ["critical", "warning", "info"]
    severities = [s for s in order if s in found] + sorted(found - set(order))
    cumulative = {s: dict(history.get(("learning_severity_breakdown", s), [])) for s in severities}

    def at(monday: date, severity: str) -> float:
        return cumulative[severity].get(monday) or 0.0

    weeks = []
    for monday, value in series:
        if value is None and monday not in recorded:
            continue
        previous = monday - timedelta(days=7)
        counts = {s: round(at(monday, s) - at(previous, s)) for s in severities}
        weeks.append(
            LearningWeek(monday, round(value or 0), {s: n for s, n in counts.items() if n > 0})
        )
    return weeks


def _learning_weeks(
    history: History, metrics: Mapping[str, Any], end: datetime
) -> list[LearningWeek]:
    """The last four weeks of learning capture (this week's count alone without history)."""
    weeks = learning_by_week(history, end=end)
    if not weeks:
        n = metrics.get("learning_entries_per_week")
        return [LearningWeek(_monday(end - timedelta(days=1)), round(n or 0), {})]
    return weeks[-4:]


def _alert(alert: Mapping[str, Any]) -> dict[str, Any]:
    """An alert dict plus ``value_text``/``threshold_text`` in the metric's unit."""
    from ai_telemetry.report.targets import TARGETS

    out = dict(alert)
    metric = str(alert.get("metric", ""))
    # "skill_duration_seconds.p50" has the unit of "skill_duration_seconds"
    target = TARGETS.get(metric) or TARGETS.get(metric.partition(".")[0])
    for field_name in ("value", "threshold"):
        raw = alert.get(field_name)
        if isinstance(raw, int | float) and not isinstance(raw, bool) and target is not None:
            out[f"{field_name}_text"] = format_value(float(raw), target.unit)
        elif isinstance(raw, float):
            out[f"{field_name}_text"] = f"{raw:.4g}"
        else:
            out[f"{field_name}_text"] = "" if raw is None else str(raw)
    return out


def build_report(
    document: Mapping[str, Any],
    *,
    history: History | None = None,
    alerts: Sequence[Mapping[str, Any]] | None = None,
    top: int = 5,
    experiments: Sequence[Experiment] = (),
) -> WeeklyReport:
    """Judge a metrics.json document against the seed's targets.

    Args:
        document: the metrics.json document (`ai_telemetry.analyze.metrics.compute_metrics`).
        history: weekly series (`load_history`) for trends, baselines and changes; without it
            those parts say so.
        alerts: open alerts (dicts with severity, metric, key, value, threshold, analysis,
            action, opened).
        top: how many skills in the "top skills" list.
    """
    from ai_telemetry.analyze.metrics import document_project
    from ai_telemetry.analyze.window import parse_moment

    hist: History = history or {}
    m: Mapping[str, Any] = document.get("metrics") or {}
    start = parse_moment(document["window"]["start"])
    end = parse_moment(document["window"]["end"])
    invocations: Mapping[str, int] = m.get("skill_invocation_total") or {}
    ranked = sorted(invocations, key=lambda s: (-invocations[s], s))
    error_totals: Mapping[str, int] = m.get("skill_error_total") or {}
    skills = [
        SkillRow(
            name,
            int(invocations[name]),
            assess("skill_success_rate", _stat(m, "skill_success_rate", name)),
            assess("skill_error_rate", _stat(m, "skill_error_rate", name)),
            int(error_totals.get(name, 0)),
            format_value(_stat(m, "skill_duration_seconds.p50", name), "minutes_from_seconds"),
        )
        for name in ranked
    ]
    agents, agent_summary, agent_total, rollbacks, handoffs = _agents(m)

    weeks = _learning_weeks(hist, m, end)
    trend = None
    if len(weeks) >= 2 and weeks[0].entries:
        trend = (weeks[-1].entries - weeks[0].entries) / weeks[0].entries * 100
    impl_rate = _stat(m, "learning_implementation_rate")
    learning_total = int(m.get("learning_entries_total") or 0)
    learning_rows = [
        Row(
            assess(
                "learning_entries_per_week",
                _stat(m, "learning_entries_per_week"),
                baseline=_baseline(hist, "learning_entries_per_week", start),
            )
        ),
        Row(assess("learning_implementation_rate", impl_rate)),
        Row(
            assess(
                "learning_time_to_implementation.p50",
                _stat(m, "learning_time_to_implementation.p50"),
            )
        ),
    ]

    quality = []
    for metric in (
        "test_coverage_percent",
        "test_coverage_delta",
        "lint_errors",
        "type_coverage_percent",
        "doc_coverage_percent",
        "security_open_findings",
    ):
        value = _stat(m, metric)
        baseline = _baseline(hist, metric, start) if metric == "lint_errors" else None
        a = assess(metric, value, baseline=baseline)
        change = ""
        if metric != "test_coverage_delta":
            change = _change(value, _month_ago(hist, metric, start), a.target.unit)
        quality.append(Row(a, change=change))

    incidents = [
        Row(
            assess(
                "incident_rate",
                _stat(m, "incident_rate"),
                baseline=_baseline(hist, "incident_rate", start),
            )
        ),
        Row(assess("incident_mttr_seconds.p50", _stat(m, "incident_mttr_seconds.p50"))),
        Row(assess("incident_repeat_rate", _stat(m, "incident_repeat_rate"))),
        Row(assess("test_failure_rate", _stat(m, "test_failure_rate"))),
    ]
    context = [
        Row(assess(metric, _stat(m, metric)))
        for metric in (
            "context_window_utilization.p95",
            "tool_call_limit_reached",
            "session_length_minutes.p95",
            "skill_load_time_seconds.p95",
            "mcp_tool_latency_seconds.p95",
        )
    ]
    # session length is kept in minutes already; show it as such
    session = context[2].assessment
    if session.value is not None:
        text = f"{session.value:.1f} min"
        context[2] = Row(
            Assessment(session.target, session.value, session.status, text, session.action)
        )

    requests: Mapping[str, int] = m.get("llm_requests_total") or {}
    tokens: Mapping[str, Mapping[str, int]] = m.get("llm_tokens_total") or {}
    costs: Mapping[str, float | None] = m.get("llm_cost_usd") or {}
    models = [
        ModelRow(
            model,
            int(requests[model]),
            int(tokens.get(model, {}).get("input", 0)),
            int(tokens.get(model, {}).get("output", 0)),
            int(tokens.get(model, {}).get("cache_creation", 0))
            + int(tokens.get(model, {}).get("cache_read", 0)),
            costs.get(model),
        )
        for model in sorted(requests)
    ]
    known_costs = [c for c in costs.values() if c is not None]
    return WeeklyReport(
        start=start,
        end=end,
        events_total=int((document.get("events") or {}).get("total") or 0),
        top_skills=[(s, int(invocations[s])) for s in ranked[:top]],
        skills=skills,
        agents=agents,
        agent_total=agent_total,
        agent_summary=agent_summary,
        rollbacks=rollbacks,
        handoffs=handoffs,
        learning_weeks=weeks,
        learning_trend=trend,
        learning_rows=learning_rows,
        implemented=round((impl_rate or 0.0) * learning_total),
        learning_total=learning_total,
        quality=quality,
        incidents_by_severity={k: int(v) for k, v in (m.get("incidents_total") or {}).items()},
        incidents=incidents,
        skill_errors=sorted(error_totals.items(), key=lambda kv: (-kv[1], kv[0])),
        context=context,
        models=models,
        cost_total=sum(known_costs) if known_costs else None,
        cache=Row(assess("cache_hit_rate", _stat(m, "cache_hit_rate"))),
        alerts=[_alert(a) for a in alerts or ()],
        history=hist,
        experiments=list(experiments),
        project=document_project(document),
    )


def load_experiments(settings: Settings, *, now: datetime) -> list[Experiment]:
    """The skill experiments (`ai_telemetry.analyze.sequential.skill_experiments`) before ``now``.

    Raises:
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    from ai_telemetry.analyze.sequential import skill_experiments
    from ai_telemetry.stores import open_ingested

    with open_ingested(settings, progress=False) as store:
        return skill_experiments(store.skill_version_runs(before=now))


def load_history(
    settings: Settings, *, now: datetime, weeks: int = 12, project: str | None = None
) -> dict[tuple[str, str], Series]:
    """Every weekly series of the last ``weeks`` complete weeks before ``now`` (of
    ``project``'s own history when given).

    Ingests what is new and records missing weeks first (as `metric_series` does), then reads
    the whole ``metric_history`` range in one query.

    Raises:
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    from ai_telemetry.analyze.history import last_complete_week, record_weeks
    from ai_telemetry.stores import open_store

    newest = last_complete_week(now)
    mondays = [newest - timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]
    with open_store(settings) as store:
        store.ingest()
        record_weeks(store, weeks, now=now, refresh=False, project=project)
        rows = store.series(weeks=(mondays[0], newest), project=project)
    found: dict[tuple[str, str], dict[date, float]] = {}
    for row in rows:
        found.setdefault((row.metric, row.key), {})[row.week_start] = row.value
    return {
        series_key: [(d, values.get(d)) for d in mondays] for series_key, values in found.items()
    }


def load_open_alerts(settings: Settings, *, project: str | None = None) -> list[dict[str, Any]]:
    """The open alerts of the alerting stage (`ai_telemetry.alert.store.open_alerts`), of
    ``project`` only when given.

    Raises:
        AlertError: ``alerts.log``'s state cannot be read; the message says which file and how
            to fix it (a dashboard that silently showed no alerts would read as all clear).
    """
    from ai_telemetry.alert.store import open_alerts

    return [dict(alert) for alert in open_alerts(settings, project=project)]
