"""The shape of every read command's ``--json`` document, as `TypedDict`s.

The builders are type-checked against these (mypy strict), and docs/schemas/*.json is generated
from them (`ai_telemetry.documents.jsonschema`), so the code, the schema and the output agree.
A field's description is its ``Annotated`` text; a class docstring describes the object.
Times are RFC 3339 UTC strings with ``Z``; dates (a week's Monday) are ``YYYY-MM-DD``. Rates
are fractions in [0, 1]; a value that cannot be computed is ``null``, never NaN.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, TypedDict


class Document(TypedDict):
    """Fields every document opens with."""

    schema_version: Annotated[int, "Version of this command's document."]
    command: Annotated[str, "The command that printed it, e.g. 'review learnings'."]


class ErrorDocument(TypedDict):
    """What any read command prints with --json when it fails (the exit status is not 0)."""

    schema_version: Annotated[int, "Version of the error document."]
    command: Annotated[str | None, "The command that failed, when known."]
    error: Annotated[str, "What went wrong and how to fix it, one line."]


class WindowDoc(TypedDict):
    """A half-open time window [start, end)."""

    start: str
    end: str


# --- alerts ------------------------------------------------------------------------------


class AlertDoc(TypedDict):
    """One alert (a condition that holds), as alert-state.json stores it."""

    id: Annotated[
        str,
        "rule|metric|key (rule|metric|key|project for a project's): the same id is the same "
        "alert from run to run.",
    ]
    rule: str
    title: str
    severity: Annotated[str, "info, warning or critical."]
    metric: str
    key: Annotated[str | None, "The skill, agent, root cause ... it is about."]
    value: float | None
    threshold: float | None
    current: Annotated[str, "The value for people."]
    threshold_text: str
    analysis: str
    action: str
    detectors: Annotated[list[str], "What fired: rule, zscore, WE1..WE4, ..."]
    opened: Annotated[str, "When it opened (empty for a condition not recorded yet)."]
    window_end: str
    extra: dict[str, Any]
    project: Annotated[str | None, "The project whose metrics it was found in; null: all."]
    last_seen: NotRequired[str]


# --- status ------------------------------------------------------------------------------


class AssessmentDoc(TypedDict):
    """One value judged against its target (the dashboard's traffic light)."""

    metric: str
    key: Annotated[str, "Skill, agent, ... the value is about; empty for a plain metric."]
    label: str
    status: Annotated[str, "on target, watch, act, no data or info."]
    value: float | None
    value_text: str
    target_text: str
    action: str


class WeekValue(TypedDict):
    """One week of a series."""

    week: Annotated[str, "Monday of the ISO week, YYYY-MM-DD."]
    value: float | None


class StatusTrend(TypedDict):
    """One row of the trend table."""

    metric: str
    key: str
    label: str
    weeks: Annotated[list[WeekValue], "Oldest first (the sparkline)."]
    latest: Annotated[float | None, "The latest week with a value."]
    latest_text: str


class StatusSkill(TypedDict):
    """One of the top skills of the week."""

    name: str
    invocations: int
    errors: int
    success: AssessmentDoc
    error: AssessmentDoc
    weekly_invocations: Annotated[list[WeekValue], "Oldest first (the sparkline)."]


class StatusDocument(Document):
    """ai-telemetry status: the week at a glance."""

    window: WindowDoc
    week: Annotated[str, "The week for people: first to last day."]
    project: Annotated[str | None, "Only this project's events, history and alerts; null: all."]
    events_total: int
    overall: Annotated[str, "The worst status of the week."]
    attention: Annotated[list[AssessmentDoc], "Every measure off target, act first."]
    trends: list[StatusTrend]
    skills: Annotated[list[StatusSkill], "The top skills of the week (at most 5)."]
    alerts: Annotated[list[AlertDoc], "Open alerts, most severe first."]
    experiments: Annotated[
        list[ExperimentDoc], "Skill experiments: each skill's newest version vs the one before."
    ]


class ExperimentDoc(TypedDict):
    """A skill experiment: the newest version against the previous one."""

    skill: str
    previous: str
    new: str
    opened: Annotated[str, "When the new version's first finished run was seen (UTC)."]
    previous_runs: int
    new_runs: int
    verdict: Annotated[str, "better, worse or no difference yet."]
    runs_needed: Annotated[int | None, "For no difference yet: more runs per version needed."]
    summary: Annotated[str, "The verdict in one line."]
    sequential: SequentialDoc


# --- analytics ---------------------------------------------------------------------------


class TopRowDoc(TypedDict):
    """One ranked name."""

    rank: int
    name: str
    count: int


class TopDocument(Document):
    """ai-telemetry top: the most frequent skills, agents, tools or errors."""

    kind: Annotated[str, "skills, agents, tools or errors."]
    unit: Annotated[str, "What count counts: invocations, calls or errors."]
    days: int
    limit: int
    window: WindowDoc
    project: NotRequired[Annotated[str | None, "Only this project's events; null: all."]]
    rows: list[TopRowDoc]


class ProjectRowDoc(TypedDict):
    """One project of the cross-project overview."""

    project: str
    events: int
    skill_invocations: int
    skill_success_rate: Annotated[
        float | None, "Successes over finished skill runs (success, error, rollback, handoff)."
    ]
    agent_tasks: int
    agent_completion_rate: Annotated[float | None, "The same over agent tasks."]
    llm_cost_usd: float
    open_alerts: Annotated[
        int, "Open alerts of this project, and whole-store ones naming a skill or agent it ran."
    ]
    critical_alerts: int


class ProjectsDocument(Document):
    """ai-telemetry projects: the cross-project overview of a window."""

    window: WindowDoc
    projects: list[ProjectRowDoc]
    events_without_project: int
    team_wide_alerts: Annotated[int, "Open alerts about no skill or agent (the whole team)."]
    open_alerts: int


class TrendDocument(Document):
    """ai-telemetry trend: one metric week by week."""

    metric: str
    key: str | None
    project: NotRequired[
        Annotated[
            str | None,
            "Only this project's events (computed from the events week by week); null: all "
            "(the recorded weekly history).",
        ]
    ]
    weeks: Annotated[list[WeekValue], "Complete ISO weeks, oldest first; null: no value."]


class QueryDocument(Document):
    """ai-telemetry query: the result of one read-only SQL query."""

    columns: list[str]
    rows: Annotated[
        list[list[Any]],
        "One array per row, values in the order of columns (times as RFC 3339 UTC, decimals "
        "as strings, NaN as null).",
    ]
    row_count: int


class AggregateDocument(Document):
    """ai-telemetry aggregate: what was written to metrics.json."""

    output: Annotated[str, "The metrics.json written (empty: none, the MCP get_metrics tool)."]
    window: WindowDoc
    events: Annotated[dict[str, Any], "metrics.json's events block: total, by_type, bad_lines, ..."]
    metrics: NotRequired[
        Annotated[
            dict[str, Any],
            "The whole metrics.json document (MCP get_metrics; the CLI writes it to output).",
        ]
    ]


class RetentionDocument(Document):
    """ai-telemetry retention apply: what moved to the archives (or would, with --dry-run)."""

    dry_run: bool
    cutoff: Annotated[str, "Events older than this are archived."]
    archived: Annotated[int, "Events moved from the log to the archives."]
    kept: Annotated[int, "Lines left in the log (bad lines included)."]
    files: Annotated[list[str], "Archive files written, relative to archives/."]
    recovered: Annotated[list[str], "What the recovery of an interrupted run did."]
    metrics_pruned: Annotated[int, "Weekly metric history rows older than two years removed."]


class BadLineDoc(TypedDict):
    """One line of the log the reader refused."""

    line: int
    offset: Annotated[int, "Byte offset of the line in the file."]
    reason: str


class ValidateDocument(Document):
    """ai-telemetry validate: the log's health."""

    log: str
    lines: int
    valid: int
    bad: list[BadLineDoc]
    unknown_types: Annotated[dict[str, int], "Event types outside the contract (kept)."]
    quarantined: int
    quarantine_path: str | None
    redacted: Annotated[
        int, "Values the privacy guard changed in the log (or would, with --no-quarantine)."
    ]
    redacted_lines: Annotated[int, "Lines holding them."]


# --- detection ---------------------------------------------------------------------------


class SpcBaselineDoc(TypedDict):
    """The centre line and sigma one series was judged against."""

    center: float
    sigma: float
    center_method: str
    sigma_method: str
    points: int


class SpcSignalDoc(TypedDict):
    """A point where a rule fires."""

    index: Annotated[int, "Position in the series, 0 = oldest."]
    rules: list[str]


class SpcSeriesDoc(TypedDict):
    """One input line's result."""

    line: Annotated[int, "Line number on stdin."]
    points: int
    baseline: SpcBaselineDoc | None
    signals: list[SpcSignalDoc]


class SpcDocument(Document):
    """ai-telemetry spc: control-chart signals of every series read on stdin."""

    rules: Annotated[list[str], "The rule sets run."]
    series: list[SpcSeriesDoc]


class NotificationsDoc(TypedDict):
    """What the escalation ladder did."""

    summary: str
    sent: list[str]
    queued: list[str]
    unconfigured: list[str]
    dropped: list[str]


class DetectDocument(Document):
    """ai-telemetry detect: the conditions that hold, and what changed in alerts.log."""

    window: WindowDoc | None
    history_weeks: int
    alerts: Annotated[list[AlertDoc], "Every condition that holds now."]
    opened: Annotated[list[str], "Ids of alerts opened by this run."]
    still_open: list[str]
    resolved: Annotated[list[str], "Ids of alerts this run resolved."]
    notes: list[str]
    alerts_log: str
    notifications: Annotated[NotificationsDoc | None, "null with --no-notify."]


class GateDocument(Document):
    """ai-telemetry gate: may deployments go on?"""

    open: Annotated[bool, "True: no critical alert, no coverage decline; exit 0."]
    blocking: list[AlertDoc]
    reasons: Annotated[list[str], "One line per blocking alert."]


class CheckDoc(TypedDict):
    """One check of the doctor."""

    name: str
    status: Annotated[str, "ok, warn or fail."]
    detail: str
    fix: str


class DoctorDocument(Document):
    """ai-telemetry doctor: is collection healthy here?"""

    ok: Annotated[bool, "No check failed (exit 0)."]
    settings: Annotated[dict[str, str | None], "Where the telemetry is and how it is written."]
    checks: list[CheckDoc]


# --- reviews -----------------------------------------------------------------------------


class LearningDoc(TypedDict):
    """One learning entry."""

    id: str
    title: str
    severity: str
    source: str
    skill: str | None
    type: str | None
    tags: list[str]
    created: str
    implemented: str | None
    open: bool


class ThemeDoc(TypedDict):
    """A recurring theme: learnings with similar words and tags."""

    label: str
    learnings: list[str]
    critical: int
    open: int


class SkillFindingDoc(TypedDict):
    """A skill that needs an update, and why."""

    skill: str
    runs: int
    success_rate: float | None
    error_rate: float | None
    learnings: list[str]
    open_learnings: list[str]
    reasons: list[str]


class IncidentDoc(TypedDict):
    """One incident."""

    id: str
    opened: str
    severity: str | None
    root_cause: str | None
    learning_id: str | None


class CoverageGapDoc(TypedDict):
    """Incidents of one root cause, and whether a test covers it."""

    root_cause: str
    incidents: list[str]
    learnings: list[str]
    covered: bool
    reason: str


class CoverageDoc(TypedDict):
    """Test coverage at the end of the month."""

    latest_percent: float | None
    change_points: float | None


class ReviewDocument(Document):
    """ai-telemetry review learnings: the monthly learning review (the seed's four questions)."""

    project: Annotated[str | None, "Only this project's events (--project); null: all."]
    month: str
    window: WindowDoc
    generated_at: str
    options: dict[str, float]
    learnings: list[LearningDoc]
    themes: Annotated[list[ThemeDoc], "1. top recurring themes."]
    critical_open: Annotated[list[str], "2. critical learnings of the month not implemented."]
    older_critical_open: list[str]
    skills: Annotated[list[SkillFindingDoc], "3. skills that need updates."]
    incidents: list[IncidentDoc]
    coverage_gaps: Annotated[list[CoverageGapDoc], "4. gaps in test coverage."]
    coverage: CoverageDoc
    learnings_with_text: int


class AuditSkillDoc(TypedDict):
    """One skill of the quarterly audit."""

    skill: str
    runs: int
    per_week: float
    success_rate: float | None
    learnings: int
    open_learnings: int
    has_folder: bool
    last_update: str | None
    days_since_update: int | None
    decision: str
    reason: str


class AuditPatternDoc(TypedDict):
    """A recurring pattern no skill covers (a Create New row)."""

    pattern: str
    evidence: list[str]
    decision: str
    reason: str


class AuditDocument(Document):
    """ai-telemetry audit skills: the quarterly skill audit and its decision matrix."""

    project: Annotated[str | None, "Only this project's events (--project); null: all."]
    quarter: str
    window: WindowDoc
    as_of: str
    generated_at: str
    weeks: float
    options: dict[str, float]
    decisions: Annotated[dict[str, int], "Decision -> number of rows."]
    skills: list[AuditSkillDoc]
    patterns: list[AuditPatternDoc]
    note: str


class CompareGroupDoc(TypedDict):
    """One side of an A/B comparison."""

    label: str
    runs: int
    successes: int
    success_rate: float
    median_duration_seconds: float | None
    durations: int


class RankTestDoc(TypedDict):
    """Mann-Whitney U on the durations."""

    u: float
    p_value: float
    method: str


class SequentialMetricDoc(TypedDict):
    """One metric of a sequential A/B test (mSPRT)."""

    name: Annotated[str, "success_rate, duration, rollback_rate or tokens."]
    previous: Annotated[float | None, "Previous version: a rate, or the geometric mean."]
    new: Annotated[float | None, "New version: a rate, or the geometric mean."]
    difference: Annotated[
        float | None, "New minus previous (rates), or new / previous (duration, tokens)."
    ]
    p_value: Annotated[float, "Always-valid p-value (1 / mixture likelihood ratio)."]
    verdict: Annotated[str, "better, worse or no difference yet (at alpha / 4)."]
    runs_needed: Annotated[int | None, "More runs per version to decide at the smallest effect."]


class SequentialDoc(TypedDict):
    """An always-valid sequential test of the new version against the previous one."""

    test: Annotated[str, "The test: mSPRT, four metrics at alpha / 4 each."]
    alpha: float
    verdict: Annotated[str, "better, worse or no difference yet."]
    runs_needed: Annotated[int | None, "For no difference yet: more runs per version needed."]
    metrics: list[SequentialMetricDoc]


class CompareDocument(Document):
    """ai-telemetry compare skill: is the new version better?"""

    project: Annotated[str | None, "Only this project's events (--project); null: all."]
    skill: str
    split: Annotated[str, "How runs were split: versions, before/after a moment or commit."]
    a: CompareGroupDoc
    b: CompareGroupDoc
    difference: Annotated[float, "Success rate of b minus a."]
    ci: Annotated[list[float], "95% interval of the difference [low, high]."]
    fisher_p: float
    durations: RankTestDoc | None
    needed_per_group: int | None
    target_difference: float | None
    verdict: str
    duration_verdict: str
    more_runs: str
    sequential: Annotated[
        SequentialDoc | None, "The sequential test: valid however often it is looked at."
    ]


# --- Claude Code import and usage --------------------------------------------------------


class ImportClaudeCodeDocument(Document):
    """ai-telemetry import claude-code: what one import of transcripts did."""

    files: Annotated[int, "Transcript files found."]
    opened: Annotated[int, "Files opened and read (new or changed)."]
    unchanged: Annotated[int, "Files skipped on their inode, size and mtime, not opened."]
    lines: Annotated[int, "New lines read."]
    llm_requests: Annotated[int, "API responses written (new, or grown since last time)."]
    events_written: int
    rejected: Annotated[int, "Events the log refused (schema or privacy)."]
    malformed_lines: int
    skipped_types: Annotated[dict[str, int], "Record types we do not know, by count."]
    restarted: Annotated[list[str], "Files replaced since last time, read again from 0."]
    unpriced_models: Annotated[
        dict[str, int], "Models without a price -> responses stored without cost_usd."
    ]


class UsageTokens(TypedDict):
    """Tokens and estimated cost of some API responses."""

    requests: Annotated[int, "API responses (each counted once)."]
    input_tokens: int
    output_tokens: int
    cache_creation_5m_tokens: Annotated[int, "Prompt-cache writes with the 5-minute lifetime."]
    cache_creation_1h_tokens: Annotated[int, "Prompt-cache writes with the 1-hour lifetime."]
    cache_read_tokens: int
    total_tokens: Annotated[int, "The five token counts summed."]
    cost_usd: Annotated[float, "Estimated cost in US dollars (unpriced responses add 0)."]
    unpriced_requests: Annotated[int, "Responses without a price (not in cost_usd)."]


class UsageBreakdownRow(UsageTokens):
    """One model, project, skill or agent within a row."""

    name: Annotated[str, "The model, project, skill or agent; '(none)' when not attributed."]
    skill_runs: NotRequired[Annotated[int, "Finished runs of the skill (--breakdown skill)."]]
    skill_success_rate: NotRequired[
        Annotated[float | None, "Of finished runs, the share that succeeded; null: none."]
    ]


class UsageRow(UsageTokens):
    """One day, week, month or session."""

    key: Annotated[
        str,
        "The day (YYYY-MM-DD), week (its Monday), month (YYYY-MM) or session id.",
    ]
    models: Annotated[list[str], "Models used, sorted."]
    first: Annotated[str, "First response, RFC 3339 UTC."]
    last: Annotated[str, "Last response, RFC 3339 UTC."]
    project: NotRequired[Annotated[str | None, "The session's project (session report)."]]
    breakdown: NotRequired[Annotated[list[UsageBreakdownRow], "With --breakdown, most cost first."]]


class UsageDocument(Document):
    """ai-telemetry usage daily|weekly|monthly|session: tokens and cost per period or session."""

    project: Annotated[str | None, "Only this project's responses (--project); null: all."]
    report: Annotated[str, "daily, weekly, monthly or session."]
    timezone: Annotated[str, "IANA zone the day, week and month buckets follow."]
    since: Annotated[str | None, "First day included (YYYY-MM-DD), null: from the start."]
    until: Annotated[str | None, "Last day included (YYYY-MM-DD), null: up to now."]
    breakdown: Annotated[str | None, "model, project, skill or agent; null: none."]
    rows: Annotated[list[UsageRow], "Oldest first."]
    totals: UsageTokens
    unpriced_models: Annotated[dict[str, int], "Models without a price -> responses."]


class UsageBlock(UsageTokens):
    """One of Claude's 5-hour usage windows."""

    start: Annotated[str, "Block start (the first response's hour), RFC 3339 UTC."]
    end: Annotated[str, "Block start + 5 hours."]
    first: str
    last: str
    active: Annotated[bool, "Now is inside the block and its last response is within 5 hours."]
    models: list[str]
    remaining_minutes: NotRequired[Annotated[float, "Active block: minutes to its end."]]
    burn_tokens_per_hour: NotRequired[Annotated[float | None, "Active block: tokens per hour."]]
    burn_cost_per_hour: NotRequired[Annotated[float | None, "Active block: USD per hour."]]
    projected_tokens: NotRequired[Annotated[int | None, "Active block: tokens at its end."]]
    projected_cost_usd: NotRequired[Annotated[float | None, "Active block: USD at its end."]]
    breakdown: NotRequired[list[UsageBreakdownRow]]


class UsageBlocksDocument(Document):
    """ai-telemetry usage blocks: Claude's 5-hour usage windows, the active one projected."""

    project: Annotated[str | None, "Only this project's responses (--project); null: all."]
    timezone: str
    since: str | None
    until: str | None
    breakdown: str | None
    blocks: Annotated[list[UsageBlock], "Oldest first; gaps of 5 hours or more are not blocks."]
    active: Annotated[UsageBlock | None, "The active block, also in blocks; null: none."]
    totals: UsageTokens
    unpriced_models: dict[str, int]


class StatuslineDocument(Document):
    """ai-telemetry statusline: the numbers of the one line."""

    session_id: str | None
    session_cost_usd: Annotated[float | None, "This session's cost; null: not imported yet."]
    today_cost_usd: float
    block_cost_usd: Annotated[float | None, "The active 5-hour block's cost; null: none."]
    block_remaining_minutes: float | None
    week_skill_success_rate: Annotated[float | None, "Last 7 days; null: no finished run."]
    computed_at: Annotated[str, "When these numbers were computed, RFC 3339 UTC."]
    line: Annotated[str, "The line as printed."]


# --- MCP -----------------------------------------------------------------------------------


class LearningEntryDoc(TypedDict):
    """The MCP log_learning tool: the learning entry it wrote (learning new prints its path)."""

    id: Annotated[str, "LEARN-YYYY-NNN, the next free id of the folder."]
    path: Annotated[str, "The entry file written."]
    title: Annotated[str | None, "The title as written (a marker where the guard removed it)."]
    redacted: Annotated[list[str], "Fields the privacy guard replaced by a marker."]


class RecommendSkillDoc(TypedDict):
    """One skill's record on the similar past tasks."""

    skill: str
    runs: Annotated[int, "Similar past runs of this skill."]
    weight: Annotated[float, "Their summed similarity (what the rates are weighted by)."]
    successes: Annotated[float, "Weighted successes."]
    success_rate: Annotated[float, "Weighted success rate, unshrunk."]
    score: Annotated[float, "Success rate shrunk by the prior: what the ranking sorts by."]
    ci_low: Annotated[float, "Wilson 95% interval of the success rate, low end."]
    ci_high: float
    rollbacks: int
    median_duration_seconds: float | None


class RecommendDocument(Document):
    """ai-telemetry recommend: skills ranked by their record on similar past tasks."""

    project: Annotated[str | None, "Ranked from this project's runs (--project); null: all."]
    folders: Annotated[list[str], "The task's folders, normalised to the depth."]
    kind: str | None
    similar_runs: Annotated[int, "Past skill runs that touched any of these folders."]
    prior_success_rate: Annotated[float | None, "Mean of the shrinkage prior."]
    prior_strength: Annotated[float, "Pseudo-runs of the prior."]
    min_runs: Annotated[int, "Similar runs the best skill needs to be recommended."]
    recommended: Annotated[str | None, "The skill to use, or null: the data cannot tell."]
    reason: str
    skills: list[RecommendSkillDoc]


class FixAlertDoc(TypedDict):
    """The open alert a fix is proposed for (as the alert state keeps it)."""

    id: Annotated[str, "rule|metric|key"]
    rule: str
    title: str
    severity: str
    metric: str
    key: str | None
    current: str
    threshold_text: str
    analysis: str
    action: str
    opened: str


class SeriesPointDoc(TypedDict):
    """One week of a metric."""

    week: Annotated[str, "Monday of the ISO week."]
    value: float | None


class LimitsDoc(TypedDict):
    """Individuals-chart limits from the weeks before the last."""

    center: float
    lower: float
    upper: float
    points: int


class FixLearningDoc(TypedDict):
    """A learning that names the alert's key."""

    id: str
    title: str
    severity: str
    created: str
    open: bool


class FixIncidentDoc(TypedDict):
    """An incident with the key as root cause, or tied to one of those learnings."""

    id: str
    opened: str
    severity: str
    root_cause: str | None


class ErrorCountDoc(TypedDict):
    """Errors of one type."""

    error_type: str
    count: int


class SkillFileDoc(TypedDict):
    """A file of the skill and its last change in git."""

    path: str
    last_change: str | None


class ProposeFixDocument(Document):
    """ai-telemetry propose fix: the evidence for an open alert and the drafted texts."""

    generated_at: str
    alert: FixAlertDoc
    subject: Annotated[str, "What the key names: skill, agent, root cause, tool, metric, key."]
    series: list[SeriesPointDoc]
    limits: LimitsDoc | None
    learnings: list[FixLearningDoc]
    incidents: list[FixIncidentDoc]
    errors: Annotated[list[ErrorCountDoc], "Errors naming the key in the last 28 days."]
    files: list[SkillFileDoc]
    notes: list[str]
    task: Annotated[str, "The task text for META_UPDATER (Markdown)."]
    pr_body: Annotated[str, "A pull-request body draft (Markdown)."]


class SkillDraftDoc(TypedDict):
    """One drafted skill."""

    name: str
    description: str
    pattern: Annotated[str, "The audit's Create New row it answers."]
    evidence: Annotated[list[str], "Learning and incident ids of the pattern."]
    skill_md: Annotated[str, "The drafted SKILL.md (front matter and body)."]


class ProposeSkillsDocument(Document):
    """ai-telemetry propose skills: a drafted SKILL.md per Create New row of the audit."""

    project: Annotated[str | None, "Only this project's events (--project); null: all."]
    quarter: str
    generated_at: str
    drafts: list[SkillDraftDoc]
    written: Annotated[list[str], "Files written (none without --output)."]
