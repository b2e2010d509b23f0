"""Anomaly detection: threshold rules + z-score + SPC over the weekly history -> alerts.

The seed's ``detect_anomalies.py --metrics metrics.json --alert-threshold 2.0``:

- **rules** (`ai_telemetry.analyze.rules`, the seed's alert table) on the current metrics, with
  the previous weeks as ``history`` (Learning Stall needs two weeks in a row);
- **z-score** for each watched series (`WATCHED`: per-skill success rate and median duration,
  per-agent completion rate and time to resolution, learning velocity, coverage, ...): the current
  value against the mean and sample standard deviation of up to ``baseline_weeks`` previous weeks,
  ``z = (x - mean) / sd``, firing beyond ``threshold`` in the direction that is bad for that metric;
- **SPC**: the four Western Electric rules over the same series (centre and sigma from the
  previous weeks, moving-range sigma), firing when a rule fires at the current point on the bad
  side.

z-score and SPC on one series give one alert (rule ``anomaly``) that lists what fired. Per-skill and
per-agent series are only judged in weeks with at least ``min_count`` executions, so a skill used
twice a week does not raise alarms on noise. The Incident Repeat rule reads
``incident_root_cause_total``: incidents opened per root cause in the 28 days to the window's end
(the seed's "this month"), which this module computes from the warehouse.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from ai_telemetry.alert.model import SEVERITIES, Alert, Severity, show_value
from ai_telemetry.analyze.rules import DEFAULT_RULES, Rule, RuleFinding, evaluate_rules
from ai_telemetry.analyze.rules import metric_values as _metric_values
from ai_telemetry.errors import AITelemetryError, AnalyticsError, ConfigError

if TYPE_CHECKING:
    from ai_telemetry.alert.history import WeekMetrics
    from ai_telemetry.alert.store import Reconciled
    from ai_telemetry.config import Settings
    from ai_telemetry.documents.types import DetectDocument, NotificationsDoc

Direction = Literal["up", "down", "both"]
ROOT_CAUSE_METRIC: Final = "incident_root_cause_total"
ANOMALY_RULE: Final = "anomaly"


@dataclass(frozen=True, slots=True)
class Watched:
    """A weekly series the z-score and SPC watch.

    Attributes:
        metric: metric of metrics.json, with ``.stat`` for a statistic.
        direction: which way is bad: ``up``, ``down`` or ``both``.
        count: a per-key count metric; weeks where it is below ``min_count`` are not judged.
        missing: what a null (no data) stands for; ``None``: null weeks are left out.
        action: what to do when it fires.
    """

    metric: str
    direction: Direction
    count: str | None = None
    missing: float | None = None
    action: str = "Look at the week's events for this metric; compare with the previous weeks."


_SKILLS: Final = "skill_invocation_total"
_AGENTS: Final = "agent_invocation_total"
WATCHED: Final[tuple[Watched, ...]] = (
    Watched("skill_success_rate", "down", _SKILLS, action="Investigate skill implementation"),
    Watched(
        "skill_duration_seconds.p50",
        "up",
        _SKILLS,
        action="Profile the skill; look for retries and large reads",
    ),
    Watched(
        "agent_task_completion_rate",
        "down",
        _AGENTS,
        action="Review the agent's failed and handed-off tasks",
    ),
    Watched(
        "agent_time_to_resolution.p50",
        "up",
        _AGENTS,
        action="Look for loops and slow tools in the agent's tasks",
    ),
    Watched(
        "learning_entries_per_week", "down", missing=0.0, action="Review workflow, ensure capture"
    ),
    Watched(
        "learning_implementation_rate",
        "down",
        action="Review related learnings and skill effectiveness",
    ),
    Watched("test_coverage_percent", "down", action="Find the change that removed tests"),
    Watched("test_failure_rate", "up", action="Look at the failing CI builds"),
    Watched(
        "incident_rate",
        "up",
        missing=0.0,
        action="Review related learnings and skill effectiveness",
    ),
    Watched("incident_mttr_seconds.p50", "up", action="Review incident handling"),
    Watched("context_window_utilization.p95", "up", action="Consider breaking into sub-agents"),
    Watched("mcp_tool_latency_seconds.p95", "up", action="Check the MCP servers' health"),
)
"""The default watched series."""


@dataclass(frozen=True, slots=True)
class DetectOptions:
    """How detection runs (``[detect]`` in config.toml; ``--alert-threshold`` sets ``threshold``).

    Attributes:
        threshold: z-score limit in standard deviations (the seed's ``--alert-threshold 2.0``).
        zscore: run the z-score test.
        spc: run the Western Electric rules.
        rules: run the threshold rules.
        baseline_weeks: how many previous weeks the z-score and SPC baseline hold.
        min_history: fewer previous weeks than this: the series is not judged yet.
        min_count: per-skill / per-agent series and rate rules: weeks with fewer executions
            are not judged.
        severity: the severity of z-score / SPC alerts.
        watched: the series to watch.
    """

    threshold: float = 2.0
    zscore: bool = True
    spc: bool = True
    rules: bool = True
    baseline_weeks: int = 12
    min_history: int = 6
    min_count: int = 10
    severity: Severity = "info"
    watched: tuple[Watched, ...] = WATCHED


_OPTION_TYPES: Final = {
    "threshold": float,
    "zscore": bool,
    "spc": bool,
    "rules": bool,
    "baseline_weeks": int,
    "min_history": int,
    "min_count": int,
    "severity": str,
}


def load_options(section: Any = None, *, source: str = "config.toml") -> DetectOptions:
    """`DetectOptions` from the ``[detect]`` section of config.toml.

    Raises:
        ConfigError: an unknown key or a wrong value; the message names both.
    """
    if section is None:
        return DetectOptions()
    if not isinstance(section, Mapping):
        raise ConfigError(f"{source}: [detect] must be a table, e.g. [detect] threshold = 2.5")
    values: dict[str, Any] = {}
    for key, value in section.items():
        kind = _OPTION_TYPES.get(key)
        at = f"{source} [detect] {key} = {value!r}"
        if kind is None:
            raise ConfigError(
                f"{source} [detect]: unknown key {key!r}; allowed: {', '.join(_OPTION_TYPES)}"
            )
        if kind is bool and not isinstance(value, bool):
            raise ConfigError(f"{at}; use true or false")
        if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"{at}; use a whole number >= 1")
        if kind is float and (
            isinstance(value, bool) or not isinstance(value, int | float) or not value > 0
        ):
            raise ConfigError(f"{at}; use a positive number of standard deviations, e.g. 2.0")
        if key == "severity" and value not in SEVERITIES:
            raise ConfigError(f"{at}; use one of {', '.join(SEVERITIES)}")
        values[key] = float(value) if kind is float else value
    options = replace(DetectOptions(), **values)
    if options.min_history < 2:
        raise ConfigError(f"{source} [detect] min_history: use 2 or more (a sd needs 2 points)")
    return options


def options_from_settings(settings: Settings, *, threshold: float | None = None) -> DetectOptions:
    """`load_options` over the settings' config file, with ``threshold`` overriding."""
    options = load_options(settings.extra.get("detect"), source=str(settings.config_path))
    if threshold is not None:
        if not threshold > 0:
            raise ConfigError(f"--alert-threshold {threshold}: use a positive number, e.g. 2.0")
        options = replace(options, threshold=threshold)
    return options


# --- the detectors ------------------------------------------------------------------------


def _rule_alert(finding: RuleFinding, root_window: str) -> Alert:
    current = show_value(finding.value, finding.metric)
    if finding.metric == ROOT_CAUSE_METRIC and finding.key is not None:
        n = int(finding.value)
        current = f"{n} ({n} incidents with root cause {finding.key} in {root_window})"
    elif current != f"{finding.value:.4g}":
        current = f"{current} ({finding.value:.4g})"
    return Alert(
        rule=finding.rule,
        title=finding.title,
        severity=finding.severity,
        metric=finding.metric,
        key=finding.key,
        value=finding.value,
        threshold=finding.threshold,
        current=current,
        threshold_text=f"{finding.op} {show_value(finding.threshold, finding.metric)}",
        analysis=finding.analysis,
        action=finding.action,
    )


def _enough(metrics: Mapping[str, Any], finding: RuleFinding, min_count: int) -> bool:
    """A per-skill or per-agent *rate* rests on at least ``min_count`` executions.

    Without this, a skill run 6 times a week with one error is a 17% "error spike". Counts and
    maxima (a single 64-call task is a Tool Call Loop) are not rates and always count.
    """
    base = finding.metric.split(".", 1)[0]
    if finding.key is None or not base.endswith("_rate"):
        return True
    count_metric = {"skill": "skill_invocation_total", "agent": "agent_invocation_total"}.get(
        base.split("_", 1)[0]
    )
    if count_metric is None:
        return True
    count = _metric_values(metrics, count_metric).get(finding.key)
    return count is None or count >= min_count


def _bad(direction: Direction, excess: float) -> bool:
    return excess > 0 if direction == "up" else excess < 0 if direction == "down" else excess != 0


def _spc_rules(
    past: list[float], value: float, direction: Direction
) -> tuple[tuple[str, ...], str]:
    """WE rules firing at ``value`` (after ``past``) on the bad side, and the baseline used."""
    from ai_telemetry.analyze.spc import WesternElectric, estimate_baseline

    try:
        baseline = estimate_baseline(past, method="moving-range")
    except AnalyticsError:  # a flat baseline has no sigma to judge against
        return (), ""
    center = baseline.center
    # Clipping the good side onto the centre line makes the two-sided rules one-sided: a point
    # on the centre line is on neither side, so it neither counts for nor breaks a bad-side run
    # any differently from a good-side point.
    if direction == "up":
        series = [max(v, center) for v in (*past, value)]
    elif direction == "down":
        series = [min(v, center) for v in (*past, value)]
    else:
        series = [*past, value]
    monitor = WesternElectric().monitor(baseline)
    fired: tuple[str, ...] = ()
    for point in series:
        fired = monitor.update(point)
    return fired, f"centre {center:.4g}, sigma {baseline.sigma:.4g} (moving range)"


def _series_alerts(
    metrics: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    watched: Watched,
    options: DetectOptions,
) -> list[Alert]:
    current = _metric_values(metrics, watched.metric)
    if not current and watched.missing is not None:
        current = {None: None}
    if not current:
        return []
    counts = _metric_values(metrics, watched.count) if watched.count else {}
    past_docs = history[-options.baseline_weeks :]
    past_values = [_metric_values(doc, watched.metric) for doc in past_docs]
    past_counts = [_metric_values(doc, watched.count) for doc in past_docs] if watched.count else []
    alerts = []
    for key, raw in current.items():
        value = watched.missing if raw is None else raw
        if value is None:
            continue
        if watched.count and (counts.get(key) or 0) < options.min_count:
            continue
        past: list[float] = []
        for i, values in enumerate(past_values):
            point = values.get(key)
            point = watched.missing if point is None else point
            if point is None:
                continue
            if watched.count and (past_counts[i].get(key) or 0) < options.min_count:
                continue
            past.append(point)
        if len(past) < options.min_history:
            continue
        alert = _judge(watched, key, value, past, options)
        if alert is not None:
            alerts.append(alert)
    return alerts


def _judge(
    watched: Watched, key: str | None, value: float, past: list[float], options: DetectOptions
) -> Alert | None:
    metric, direction, t = watched.metric, watched.direction, options.threshold
    mean, sd = statistics.fmean(past), statistics.stdev(past)
    detectors: list[str] = []
    notes: list[str] = []
    z = (value - mean) / sd if sd > 0 else 0.0
    if options.zscore and sd > 0 and abs(z) > t and _bad(direction, z):
        detectors.append("zscore")
    if options.spc:
        fired, described = _spc_rules(past, value, direction)
        if fired:
            detectors.extend(fired)
            notes.append(f"SPC {'+'.join(fired)} ({described})")
    if not detectors:
        return None
    sign = -1.0 if direction == "down" or (direction == "both" and value < mean) else 1.0
    limit = mean + sign * t * sd
    where = "below" if sign < 0 else "above"
    subject = metric + (f" for {key}" if key else "")
    analysis = (
        f"{subject} is {show_value(value, metric)}, z = {z:+.2f} against the {len(past)} previous "
        f"weeks (mean {show_value(mean, metric)}, sd {show_value(sd, metric)})"
    )
    if notes:
        analysis += "; " + "; ".join(notes)
    return Alert(
        rule=ANOMALY_RULE,
        title="Metric Anomaly",
        severity=options.severity,
        metric=metric,
        key=key,
        value=value,
        threshold=limit if math.isfinite(limit) else None,
        current=show_value(value, metric),
        threshold_text=(
            f"{where} {show_value(limit, metric)} (mean {'-' if sign < 0 else '+'} {t:g} sd of "
            f"the {len(past)} previous weeks) or a Western Electric rule"
        ),
        analysis=analysis,
        action=watched.action,
        detectors=tuple(detectors),
        extra={"z": round(z, 4), "mean": mean, "sd": sd, "baseline_weeks": len(past)},
    )


def detect_anomalies(
    metrics: Mapping[str, Any],
    *,
    history: Sequence[Mapping[str, Any]] = (),
    rules: Iterable[Rule] = DEFAULT_RULES,
    options: DetectOptions | None = None,
    root_causes: Mapping[str, int] | None = None,
    root_window: str = "the last 28 days",
) -> list[Alert]:
    """Every alert whose condition holds in ``metrics``.

    Args:
        metrics: the current metrics.json document (or its ``metrics`` object).
        history: the metrics of the previous weeks, oldest first, the week just before last
            (`load_history`).
        rules: the threshold rules (`ai_telemetry.analyze.rules.rules_from_settings`).
        options: detector settings.
        root_causes: incidents per root cause in the 28 days to the window's end
            (`root_cause_counts`); fills ``incident_root_cause_total`` for Incident Repeat.
        root_window: those 28 days in words, for the alert text.

    Returns:
        Rule alerts first (critical, warning, info), then anomaly alerts in `WATCHED` order;
        an anomaly on the same metric and key as a rule alert is left out.
    """
    opts = options or DetectOptions()
    inner = metrics.get("metrics") if isinstance(metrics.get("metrics"), Mapping) else metrics
    current: dict[str, Any] = dict(inner)  # type: ignore[arg-type]
    if root_causes is not None and current.get(ROOT_CAUSE_METRIC) is None:
        current[ROOT_CAUSE_METRIC] = dict(root_causes) or None
    chosen = tuple(rules)
    for rule in chosen:
        name = rule.metric.split(".", 1)[0]
        if rule.missing is not None and name not in current:
            current[name] = None  # absent (a null dropped on the way) means no data: "missing"
    alerts: list[Alert] = []
    if opts.rules:
        findings = evaluate_rules(current, rules=chosen, history=list(history))
        alerts.extend(
            _rule_alert(f, root_window) for f in findings if _enough(current, f, opts.min_count)
        )
    if opts.zscore or opts.spc:
        covered = {(a.metric, a.key) for a in alerts}
        for watched in opts.watched:
            for alert in _series_alerts(current, history, watched, opts):
                if (alert.metric, alert.key) not in covered:
                    alerts.append(alert)
    return alerts


@dataclass(slots=True)
class DetectResult:
    """What `detect_from_document` found, and on what."""

    alerts: list[Alert]
    history_weeks: int = 0
    notes: list[str] = field(default_factory=list)
    unchecked: frozenset[str] = frozenset()
    """Rules that could not be checked (their history was unreadable): their open alerts stay
    open, since nothing showed that they no longer hold."""

    def to_document(
        self,
        document: Mapping[str, Any],
        *,
        changes: Reconciled,
        alerts_log: str,
        notifications: NotificationsDoc | None,
    ) -> DetectDocument:
        """The ``detect --json`` document (docs/schemas/detect.json).

        Args:
            document: the metrics.json judged (for its window).
            changes: what `ai_telemetry.alert.store.record_alerts` changed.
            alerts_log: where the alerts were logged.
            notifications: what the escalation did, None when it did not run.
        """
        from ai_telemetry.alert.model import alert_document
        from ai_telemetry.documents import header

        window = document.get("window")
        return {
            **header("detect"),
            "window": {"start": str(window["start"]), "end": str(window["end"])}
            if isinstance(window, Mapping) and "start" in window and "end" in window
            else None,
            "history_weeks": self.history_weeks,
            "alerts": [alert_document(a) for a in self.alerts],
            "opened": [a.id for a in changes.opened],
            "still_open": [a.id for a in changes.still_open],
            "resolved": [a.id for a in changes.resolved],
            "notes": list(self.notes),
            "alerts_log": alerts_log,
            "notifications": notifications,
        }


def _window(document: Mapping[str, Any]) -> tuple[datetime, datetime]:
    from ai_telemetry.analyze.window import parse_moment

    window = document.get("window")
    if not isinstance(window, Mapping) or "start" not in window or "end" not in window:
        raise AnalyticsError(
            "metrics.json has no window {start, end}; write it with `ai-telemetry aggregate`"
        )
    return (
        parse_moment(str(window["start"]), option="window.start"),
        parse_moment(str(window["end"]), option="window.end"),
    )


def detect_from_document(
    document: Mapping[str, Any],
    *,
    settings: Settings,
    options: DetectOptions | None = None,
    rules: Iterable[Rule] | None = None,
) -> DetectResult:
    """Detect on a metrics.json document, reading its history from the warehouse.

    Weeks missing from the history are recorded first (``record_weeks``). When the history
    cannot be read (a damaged warehouse), the rules still run without it, and the result names
    the rules that needed it (``unchecked``).

    Raises:
        AnalyticsError: the document has no window.
        ConfigError: the ``[rules]`` or ``[detect]`` section is wrong.
    """
    from ai_telemetry.alert.history import ROOT_CAUSE_DAYS, load_history, root_cause_counts
    from ai_telemetry.analyze.history import record_weeks
    from ai_telemetry.analyze.rules import rules_from_settings
    from ai_telemetry.stores import open_ingested

    opts = options or options_from_settings(settings)
    chosen = tuple(rules) if rules is not None else rules_from_settings(settings)
    start, end = _window(document)
    result = DetectResult(alerts=[])
    history: list[WeekMetrics] = []
    causes: dict[str, int] | None = None
    try:
        with open_ingested(settings, progress=False) as store:
            record_weeks(store, opts.baseline_weeks + 1, now=start, refresh=False, progress=False)
            history = load_history(store, before=start, weeks=opts.baseline_weeks)
            causes = root_cause_counts(store, end=end)
    except AITelemetryError as exc:
        result.notes.append(f"no weekly history ({exc}); rules ran without it")
        result.unchecked = frozenset(
            {ANOMALY_RULE}
            | {r.name for r in chosen if r.windows > 1 or r.metric == ROOT_CAUSE_METRIC}
        )
    since = (end - timedelta(days=ROOT_CAUSE_DAYS)).date().isoformat()
    result.alerts = detect_anomalies(
        document,
        history=[w.document for w in history],
        rules=chosen,
        options=opts,
        root_causes=causes,
        root_window=f"the 28 days {since} to {end.date().isoformat()}",
    )
    result.history_weeks = len(history)
    return result
