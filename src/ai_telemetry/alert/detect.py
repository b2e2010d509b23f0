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

import itertools
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
    from ai_telemetry.alert.models import Judgement
    from ai_telemetry.alert.store import Reconciled
    from ai_telemetry.analyze.sequential import Experiment
    from ai_telemetry.config import Settings
    from ai_telemetry.documents.types import DetectDocument, NotificationsDoc

Direction = Literal["up", "down", "both"]
SeriesModel = Literal["rate", "count", "log", "level", "step"]
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
        model: how the model detector reads it (`ai_telemetry.alert.models`): ``rate`` (with
            ``count`` or ``runs`` runs: beta-binomial), ``count`` (negative binomial),
            ``log`` (durations, latencies: log-t), ``level`` (t) or ``step`` (a level that
            moves like a random walk, e.g. coverage: its week-on-week change, t).
        runs: for an unkeyed ``rate``: the metric holding its denominator.
        exposure: for a ``count``: the activity it scales with (``events_total``).
    """

    metric: str
    direction: Direction
    count: str | None = None
    missing: float | None = None
    action: str = "Look at the week's events for this metric; compare with the previous weeks."
    model: SeriesModel = "level"
    runs: str | None = None
    exposure: str | None = None


_SKILLS: Final = "skill_invocation_total"
_AGENTS: Final = "agent_invocation_total"
WATCHED: Final[tuple[Watched, ...]] = (
    Watched(
        "skill_success_rate",
        "down",
        _SKILLS,
        action="Investigate skill implementation",
        model="rate",
    ),
    Watched(
        "skill_duration_seconds.p50",
        "up",
        _SKILLS,
        action="Profile the skill; look for retries and large reads",
        model="log",
    ),
    Watched(
        "agent_task_completion_rate",
        "down",
        _AGENTS,
        action="Review the agent's failed and handed-off tasks",
        model="rate",
    ),
    Watched(
        "agent_time_to_resolution.p50",
        "up",
        _AGENTS,
        action="Look for loops and slow tools in the agent's tasks",
        model="log",
    ),
    Watched(
        "learning_entries_per_week",
        "down",
        missing=0.0,
        action="Review workflow, ensure capture",
        model="count",
        exposure="events_total",
    ),
    Watched(
        "learning_implementation_rate",
        "down",
        action="Review related learnings and skill effectiveness",
        model="rate",
        runs="learning_entries_per_week",
    ),
    Watched(
        "test_coverage_percent", "down", action="Find the change that removed tests", model="step"
    ),
    Watched("test_failure_rate", "up", action="Look at the failing CI builds"),
    Watched(
        "incident_rate",
        "up",
        missing=0.0,
        action="Review related learnings and skill effectiveness",
        model="count",
        exposure="events_total",
    ),
    Watched("incident_mttr_seconds.p50", "up", action="Review incident handling", model="log"),
    Watched("context_window_utilization.p95", "up", action="Consider breaking into sub-agents"),
    Watched(
        "mcp_tool_latency_seconds.p95", "up", action="Check the MCP servers' health", model="log"
    ),
)
"""The default watched series."""


@dataclass(frozen=True, slots=True)
class Profile:
    """One multivariate view: a per-key feature vector judged as a whole (`judge_vector`).

    Attributes:
        metric: the name its alerts carry (``skill_profile``).
        count: the per-key count metric (weeks below ``min_count`` are not judged).
        features: the watched series whose values (logit for rates, log for ``log``) make the
            vector, with their direction.
        action: what to do when it fires.
    """

    metric: str
    count: str
    features: tuple[Watched, ...]
    action: str


PROFILES: Final[tuple[Profile, ...]] = (
    Profile(
        "skill_profile",
        _SKILLS,
        (WATCHED[0], WATCHED[1]),
        "Compare the skill's runs of this week with the previous weeks",
    ),
    Profile(
        "agent_profile",
        _AGENTS,
        (WATCHED[2], WATCHED[3]),
        "Compare the agent's tasks of this week with the previous weeks",
    ),
)
"""The multivariate views: one per skill and one per agent."""


@dataclass(frozen=True, slots=True)
class DetectOptions:
    """How detection runs (``[detect]`` in config.toml; ``--alert-threshold`` sets ``threshold``).

    Attributes:
        threshold: z-score limit in standard deviations (the seed's ``--alert-threshold 2.0``).
        zscore: run the z-score test (off by default: see docs/detection.md).
        spc: run the Western Electric rules (off by default).
        rules: run the threshold rules.
        model: run the model-based detectors (`ai_telemetry.alert.models`).
        false_alarms_per_year: the model detectors' budget: each of the N series judged in a
            week fires at a tail probability of ``budget / (52 N)``.
        evidence: the threshold rules also need evidence (a Wilson bound for rates, a
            surprising count for Incident Repeat and Learning Stall); ``false``: the seed's
            literal rules.
        confidence: the one-sided confidence of the count evidence (Incident Repeat, Learning
            Stall: how unlikely the count must be under the series' own history).
        rate_confidence: the one-sided confidence of the Wilson bound for the rate rules (the
            true rate is beyond the threshold with this confidence). 0.95 finds an error spike
            of 4 in 17 runs (Wilson bound 11%) that 0.99 misses (8%), at 0.1 false alarms a
            year from the rate rules on the benchmark (docs/detection.md).
        experiments: a skill update the sequential test finds worse opens a warning alert
            that proposes rolling it back (`experiment_alerts`).
        baseline_weeks: how many previous weeks the z-score and SPC baseline hold.
        min_history: fewer previous weeks than this: the series is not judged yet.
        min_count: per-skill / per-agent series and rate rules: weeks with fewer executions
            are not judged.
        severity: the severity of z-score / SPC alerts.
        watched: the series to watch.
    """

    threshold: float = 2.0
    zscore: bool = False
    spc: bool = False
    rules: bool = True
    model: bool = True
    false_alarms_per_year: float = 2.0
    evidence: bool = True
    confidence: float = 0.99
    rate_confidence: float = 0.95
    experiments: bool = True
    baseline_weeks: int = 12
    min_history: int = 6
    min_count: int = 10
    severity: Severity = "info"
    watched: tuple[Watched, ...] = WATCHED
    profiles: tuple[Profile, ...] = PROFILES


_OPTION_TYPES: Final = {
    "threshold": float,
    "zscore": bool,
    "spc": bool,
    "rules": bool,
    "baseline_weeks": int,
    "min_history": int,
    "min_count": int,
    "severity": str,
    "model": bool,
    "false_alarms_per_year": float,
    "evidence": bool,
    "confidence": float,
    "rate_confidence": float,
    "experiments": bool,
}


_FLOAT_EXAMPLES: Final = {
    "threshold": "2.0 (standard deviations)",
    "false_alarms_per_year": "2 (alarms a year when nothing is wrong)",
    "confidence": "0.99",
    "rate_confidence": "0.95",
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
            raise ConfigError(f"{at}; use a positive number, e.g. {_FLOAT_EXAMPLES[key]}")
        if key in ("confidence", "rate_confidence") and not 0.5 <= value < 1:
            raise ConfigError(f"{at}; use a probability between 0.5 and 1, e.g. 0.95")
        if key == "severity" and value not in SEVERITIES:
            raise ConfigError(f"{at}; use one of {', '.join(SEVERITIES)}")
        values[key] = float(value) if kind is float else value
    options = replace(DetectOptions(), **values)
    if options.min_history < 2:
        raise ConfigError(f"{source} [detect] min_history: use 2 or more (a sd needs 2 points)")
    return options


def options_from_settings(settings: Settings, *, threshold: float | None = None) -> DetectOptions:
    """`load_options` over the settings' config file; ``threshold`` turns the z-score on at it."""
    options = load_options(settings.extra.get("detect"), source=str(settings.config_path))
    if threshold is not None:
        if not threshold > 0:
            raise ConfigError(f"--alert-threshold {threshold}: use a positive number, e.g. 2.0")
        # The seed's `--alert-threshold 2.0` asks for the z-score: giving it turns the z-score on.
        options = replace(options, threshold=threshold, zscore=True)
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


def _evident(
    metrics: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    finding: RuleFinding,
    *,
    rule: Rule | None,
    options: DetectOptions,
    root_history: Sequence[Mapping[str, int]],
) -> bool:
    """The finding is beyond its threshold with confidence, not by chance.

    - a per-skill / per-agent rate: its one-sided Wilson bound at ``options.rate_confidence`` is
      beyond the threshold (2 errors in 15 runs is 13%, but its lower bound at 95% is 4%: not
      above 10% with confidence);
    - Incident Repeat: this root cause's count in the 28 days is unlikely under its own rate in
      the earlier, non-overlapping 28-day windows (gamma-Poisson tail below 1 - confidence);
    - a count that must stay low for several windows (Learning Stall): that many empty windows
      are unlikely under the Poisson level of the weeks before them.

    Everything else (coverage delta, context p95, tool calls of one task) is an exact measurement
    of the rule's own definition and needs no more evidence. Without the history a condition
    needs, the seed's literal rule decides.
    """
    from ai_telemetry.alert.models import count_surprise, gammainc_upper, wilson_bounds

    base = finding.metric.split(".", 1)[0]
    doubt = 1.0 - options.confidence
    if finding.key is not None and base.endswith("_rate"):
        count_metric = {"skill": _SKILLS, "agent": _AGENTS}.get(base.split("_", 1)[0])
        count = _metric_values(metrics, count_metric).get(finding.key) if count_metric else None
        if not count:
            return True
        low, high = wilson_bounds(finding.value * count, count, options.rate_confidence)
        if finding.op in (">", ">="):
            return low > finding.threshold or (finding.op == ">=" and low == finding.threshold)
        if finding.op in ("<", "<="):
            return high < finding.threshold or (finding.op == "<=" and high == finding.threshold)
        return True
    if finding.metric == ROOT_CAUSE_METRIC and finding.key is not None:
        if not root_history:
            return True
        past = [float(w.get(finding.key, 0)) for w in root_history]
        return count_surprise(finding.value, past) < doubt
    if rule is not None and rule.windows > 1 and finding.key is None and finding.op in _LOW_OPS:
        before = list(history)[: len(history) - (rule.windows - 1)][-options.baseline_weeks :]
        numbers: list[float] = []
        for doc in before:
            week_values = list(_metric_values(doc, rule.metric).values()) or [None]
            filled = [rule.missing if v is None else v for v in week_values]
            numbers.extend(v for v in filled if v is not None)
        if len(numbers) < 2:
            return True
        mean = statistics.fmean(numbers)
        limit = math.floor(finding.threshold) - (1 if finding.op == "<" else 0)
        if limit < 0 or mean <= 0:
            return limit >= 0 and mean > 0
        p_low = gammainc_upper(limit + 1.0, mean)  # Poisson P(X <= limit)
        return p_low**rule.windows < doubt
    return True


_LOW_OPS: Final = ("==", "<", "<=")


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


@dataclass(frozen=True, slots=True)
class _Series:
    """One series judged this week: its current value and the previous weeks' values."""

    watched: Watched
    key: str | None
    value: float
    count: float | None
    past: list[float]
    past_counts: list[float]
    exposure: float | None = None
    past_exposures: tuple[float, ...] = ()
    seasons: tuple[tuple[float, tuple[float, ...]], ...] = ()
    """This calendar week in earlier years: its value, and the baseline weeks before it then."""


SEASON_WEEKS: Final = 104
"""Weeks of recorded history read beyond the baseline, for a yearly shape (two years)."""

Seasons = Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]
"""The same calendar week in earlier years (`season_documents`): each week's metrics document,
and the documents of the baseline weeks before it then."""


def _season_points(
    seasons: Seasons, watched: Watched, key: str | None
) -> tuple[tuple[float, tuple[float, ...]], ...]:
    out = []
    for then, before in seasons:
        value = _metric_values(then, watched.metric).get(key)
        past = (_metric_values(doc, watched.metric).get(key) for doc in before)
        kept = tuple(float(v) for v in past if v is not None)
        if value is not None:
            out.append((float(value), kept))
    return tuple(out)


def _series_inputs(
    metrics: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    watched: Watched,
    options: DetectOptions,
    seasons: Seasons = (),
) -> list[_Series]:
    current = _metric_values(metrics, watched.metric)
    if not current and watched.missing is not None:
        current = {None: None}
    if not current:
        return []
    counts = _metric_values(metrics, watched.count) if watched.count else {}
    past_docs = history[-options.baseline_weeks :]
    past_values = [_metric_values(doc, watched.metric) for doc in past_docs]
    past_counts = [_metric_values(doc, watched.count) for doc in past_docs] if watched.count else []
    denominator = watched.runs or watched.exposure
    if denominator:  # the model's denominator or exposure: runs of an unkeyed rate, activity
        counts = {None: _metric_values(metrics, denominator).get(None)}
        past_counts = [{None: _metric_values(doc, denominator).get(None)} for doc in past_docs]
    out = []
    for key, raw in current.items():
        value = watched.missing if raw is None else raw
        if value is None:
            continue
        if watched.count and (counts.get(key) or 0) < options.min_count:
            continue
        past: list[float] = []
        sizes: list[float] = []
        for i, values in enumerate(past_values):
            point = values.get(key)
            point = watched.missing if point is None else point
            if point is None:
                continue
            size = past_counts[i].get(key) or 0 if watched.count or denominator else 0
            if watched.count and size < options.min_count:
                continue
            past.append(point)
            sizes.append(size)
        if len(past) < options.min_history:
            continue
        yearly = _season_points(seasons, watched, key) if seasons else ()
        if watched.exposure:
            out.append(
                _Series(watched, key, value, None, past, [], counts.get(None), tuple(sizes), yearly)
            )
            continue
        count = counts.get(key) if watched.count or watched.runs else None
        out.append(_Series(watched, key, value, count, past, sizes, seasons=yearly))
    return out


def _series_alerts(
    metrics: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    watched: Watched,
    options: DetectOptions,
) -> list[Alert]:
    """z-score / SPC alerts of one watched series (the model detector is `_model_alerts`)."""
    alerts = []
    for series in _series_inputs(metrics, history, watched, options):
        alert = _judge(watched, series.key, series.value, series.past, options)
        if alert is not None:
            alerts.append(alert)
    return alerts


def _side(direction: Direction, value: float, centre: float) -> Literal["up", "down"]:
    if direction == "both":
        return "up" if value >= centre else "down"
    return direction


def _model_judgement(series: _Series, alpha: float) -> Judgement:
    from ai_telemetry.alert.models import judge_count, judge_level, judge_rate

    watched = series.watched
    past = series.past
    side = _side(watched.direction, series.value, statistics.median(past))
    if watched.model == "rate" and series.count is not None:
        pairs = [(v * n, n) for v, n in zip(past, series.past_counts, strict=True)]
        return judge_rate(series.value * series.count, series.count, pairs, side=side, alpha=alpha)
    if watched.model == "count":
        return judge_count(
            series.value,
            past,
            side=side,
            alpha=alpha,
            exposure=series.exposure,
            exposures=series.past_exposures,
            seasons=series.seasons,
        )
    if watched.model == "step" and len(past) >= 3:
        steps = [b - a for a, b in itertools.pairwise(past)]
        step = judge_level(
            series.value - past[-1],
            steps,
            side=side,
            alpha=alpha,
            log=False,
            floor=0.002 * max(abs(past[-1]), 1e-3),
        )
        return replace(
            step,
            model="t on the weekly change",
            value=series.value,
            expected=past[-1] + step.expected,
            low=past[-1] + step.low,
            high=past[-1] + step.high,
        )
    counted = series.count is not None and len(series.past_counts) == len(past)
    return judge_level(
        series.value,
        past,
        side=side,
        alpha=alpha,
        log=watched.model == "log",
        size=series.count if counted else None,
        sizes=series.past_counts if counted else (),
        seasons=series.seasons,
    )


def _logit(rate: float, count: float) -> float:
    p = (rate * count + 0.5) / (count + 1.0)
    return math.log(p / (1.0 - p))


_Vectors = tuple[list[float], list[list[float]], float | None, list[float]]


def _profile_vectors(
    profile: Profile, inputs: Mapping[tuple[str, str | None], _Series]
) -> dict[str, _Vectors]:
    """Per key: this week's feature vector and the previous weeks' (weeks all features have),
    with the runs behind them."""
    out: dict[str, _Vectors] = {}
    keys = {k for (m, k) in inputs if m == profile.features[0].metric and k is not None}
    for key in sorted(keys):
        parts = [inputs.get((f.metric, key)) for f in profile.features]
        if any(p is None for p in parts):
            continue
        chosen = [p for p in parts if p is not None]
        length = min(len(p.past) for p in chosen)

        def feature(watched: Watched, value: float, count: float | None) -> float:
            if watched.model == "rate":
                return _logit(value, count or 0.0)
            if watched.model == "log":
                return math.log(max(value, 1e-9))
            return value

        now = [feature(p.watched, p.value, p.count) for p in chosen]
        past = [
            [
                feature(p.watched, p.past[-length + i], p.past_counts[-length + i] or None)
                for p in chosen
            ]
            for i in range(length)
        ]
        first = chosen[0]
        sizes = first.past_counts[len(first.past_counts) - length :]
        out[key] = (now, past, first.count, sizes)
    return out


def _model_alerts(
    metrics: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    options: DetectOptions,
    seasons: Seasons = (),
) -> list[Alert]:
    """The model detectors over every watched series and profile, within the budget.

    The series judged this week are counted first (univariate and multivariate), so the tail
    probability that fires is ``false_alarms_per_year / (52 * series)``.
    """
    from ai_telemetry.alert.models import judge_vector, series_alpha

    inputs = [
        s for w in options.watched for s in _series_inputs(metrics, history, w, options, seasons)
    ]
    by_id = {(s.watched.metric, s.key): s for s in inputs}
    vectors = [(p, _profile_vectors(p, by_id)) for p in options.profiles]
    judged = len(inputs) + sum(len(v) for _, v in vectors)
    alpha = series_alpha(options.false_alarms_per_year, judged)
    alerts = []
    flagged: set[str | None] = set()
    judged_now: dict[tuple[str, str | None], Judgement] = {}
    for series in inputs:
        judgement = _model_judgement(series, alpha)
        judged_now[series.watched.metric, series.key] = judgement
        if judgement.tail < alpha:
            alerts.append(_model_alert(series.watched, series.key, judgement, alpha, options))
            flagged.add(series.key)
    for profile, by_key in vectors:
        for key, (_now, past, _size, _sizes) in by_key.items():
            if key in flagged:
                continue  # a single metric already says what moved
            tails = [judged_now[f.metric, key].tail for f in profile.features]
            vector = judge_vector(tails, past, alpha=alpha)
            if vector is not None and vector.tail < alpha:
                alerts.append(_profile_alert(profile, key, vector, alpha, options))
    return alerts


def _extra(judgement: Judgement, alpha: float) -> dict[str, Any]:
    def finite(x: float) -> float | None:
        return round(x, 6) if math.isfinite(x) else None

    return {
        "model": judgement.model,
        "expected": finite(judgement.expected),
        "expected_low": finite(judgement.low),
        "expected_high": finite(judgement.high),
        "tail_probability": float(f"{judgement.tail:.4g}"),
        "alpha": float(f"{alpha:.4g}"),
    }


def _model_alert(
    watched: Watched, key: str | None, judgement: Judgement, alpha: float, options: DetectOptions
) -> Alert:
    metric = watched.metric
    subject = metric + (f" for {key}" if key else "")
    expected = f"{show_value(judgement.low, metric)} to {show_value(judgement.high, metric)}"
    return Alert(
        rule=ANOMALY_RULE,
        title="Metric Anomaly",
        severity=options.severity,
        metric=metric,
        key=key,
        value=judgement.value,
        threshold=judgement.low if watched.direction == "down" else judgement.high,
        current=show_value(judgement.value, metric),
        threshold_text=f"expected {expected} ({judgement.model}, tail p < {alpha:.2g})",
        analysis=(
            f"{subject} is {show_value(judgement.value, metric)}, expected {expected}; "
            f"P(this or worse) = {judgement.tail:.2g} ({judgement.detail})"
        ),
        action=watched.action,
        detectors=("model",),
        extra=_extra(judgement, alpha),
    )


def _profile_alert(
    profile: Profile, key: str, judgement: Judgement, alpha: float, options: DetectOptions
) -> Alert:
    names = " and ".join(f.metric for f in profile.features)
    return Alert(
        rule=ANOMALY_RULE,
        title="Profile Anomaly",
        severity=options.severity,
        metric=profile.metric,
        key=key,
        value=round(judgement.value, 4),
        threshold=None,
        current=f"distance {judgement.value:.2f}",
        threshold_text=f"tail p < {alpha:.2g} ({judgement.model})",
        analysis=(
            f"{key}: {names} together are unusual this week; P(this or further) = "
            f"{judgement.tail:.2g} ({judgement.detail})"
        ),
        action=profile.action,
        detectors=("model",),
        extra=_extra(judgement, alpha),
    )


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


EXPERIMENT_RULE: Final = "skill_update_worse"


def experiment_alerts(experiments: Iterable[Experiment]) -> list[Alert]:
    """A warning alert for every skill update the sequential test finds worse.

    "Worse" already is the evidence: a metric's always-valid p-value is below alpha / 4
    (`ai_telemetry.analyze.sequential`), whichever week it is looked at.
    """
    alerts = []
    for e in experiments:
        if e.result.verdict != "worse":
            continue
        worse = [m for m in e.result.metrics if m.verdict == "worse"]
        p_value = min(m.p_value for m in worse)
        what = ", ".join(m.name.replace("_", " ") for m in worse)
        alerts.append(
            Alert(
                rule=EXPERIMENT_RULE,
                title="Skill Update Worse",
                severity="warning",
                metric="skill_experiment",
                key=e.skill,
                value=p_value,
                threshold=0.0125,
                current=f"{e.new} worse than {e.previous} on {what}",
                threshold_text="always-valid p < 0.0125 (mSPRT, alpha 0.05 over 4 metrics)",
                analysis=f"{e.line()}; {e.new_runs} runs of {e.new}, {e.previous_runs} of "
                f"{e.previous}; always-valid p = {p_value:.3g}",
                action=f"Roll {e.skill} back to {e.previous}, or fix {e.new} and version it anew",
                detectors=("sequential",),
                extra={"previous": e.previous, "new": e.new, "p_value": p_value},
            )
        )
    return alerts


def detect_anomalies(
    metrics: Mapping[str, Any],
    *,
    history: Sequence[Mapping[str, Any]] = (),
    rules: Iterable[Rule] = DEFAULT_RULES,
    options: DetectOptions | None = None,
    root_causes: Mapping[str, int] | None = None,
    root_window: str = "the last 28 days",
    root_cause_history: Sequence[Mapping[str, int]] = (),
    seasons: Seasons = (),
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
        root_cause_history: the same counts in the earlier, non-overlapping 28-day windows (the
            28 days before ``root_causes``' 28 days, and so on), oldest first (Incident
            Repeat's evidence condition); `root_cause_windows`.
        seasons: this calendar week in earlier years, each with its baseline weeks then
            (`season_documents`): the models allow for a yearly shape that two or more earlier
            years agree on (`ai_telemetry.alert.models.seasonal_offset`).

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
        by_name = {r.name: r for r in chosen}
        alerts.extend(
            _rule_alert(f, root_window)
            for f in findings
            if _enough(current, f, opts.min_count)
            and (
                not opts.evidence
                or _evident(
                    current,
                    history,
                    f,
                    rule=by_name.get(f.rule),
                    options=opts,
                    root_history=root_cause_history,
                )
            )
        )
    covered = {(a.metric, a.key) for a in alerts}
    if opts.zscore or opts.spc:
        for watched in opts.watched:
            for alert in _series_alerts(current, history, watched, opts):
                if (alert.metric, alert.key) not in covered:
                    alerts.append(alert)
                    covered.add((alert.metric, alert.key))
    if opts.model:
        for alert in _model_alerts(current, history, opts, seasons):
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

    A document of one project (``"project": NAME``, from ``aggregate --project``) is judged
    against that project's own history and incidents, and its alerts carry the project (skill
    experiments are the team's and run only on the whole store's document).

    Weeks missing from the history are recorded first (``record_weeks``). When the history
    cannot be read (a damaged warehouse), the rules still run without it, and the result names
    the rules that needed it (``unchecked``).

    Raises:
        AnalyticsError: the document has no window.
        ConfigError: the ``[rules]`` or ``[detect]`` section is wrong.
    """
    from ai_telemetry.alert.history import (
        ROOT_CAUSE_DAYS,
        load_history,
        root_cause_counts,
        root_cause_windows,
        season_documents,
    )
    from ai_telemetry.analyze.history import record_weeks
    from ai_telemetry.analyze.metrics import document_project
    from ai_telemetry.analyze.rules import rules_from_settings
    from ai_telemetry.stores import open_ingested

    opts = options or options_from_settings(settings)
    chosen = tuple(rules) if rules is not None else rules_from_settings(settings)
    start, end = _window(document)
    project = document_project(document)
    result = DetectResult(alerts=[])
    history: list[WeekMetrics] = []
    causes: dict[str, int] | None = None
    earlier: list[dict[str, int]] = []
    experiments: list[Experiment] = []
    seasons: Seasons = []
    try:
        with open_ingested(settings, progress=False) as store:
            record_weeks(
                store,
                opts.baseline_weeks + 1,
                now=start,
                refresh=False,
                progress=False,
                project=project,
            )
            recorded = load_history(
                store, before=start, weeks=SEASON_WEEKS + opts.baseline_weeks, project=project
            )
            history = recorded[-opts.baseline_weeks :]
            seasons = season_documents(
                recorded,
                week_start=(start - timedelta(days=start.weekday())).date(),
                baseline=opts.baseline_weeks,
            )
            causes = root_cause_counts(store, end=end, project=project)
            earlier = root_cause_windows(
                store, end=end, history=history, full=opts.baseline_weeks, project=project
            )
            if opts.experiments and project is None:
                from ai_telemetry.analyze.sequential import skill_experiments

                experiments = skill_experiments(store.skill_version_runs(before=end))
    except AITelemetryError as exc:
        result.notes.append(f"no weekly history ({exc}); rules ran without it")
        result.unchecked = frozenset(
            {ANOMALY_RULE, EXPERIMENT_RULE}
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
        root_cause_history=earlier,
        seasons=seasons,
    ) + experiment_alerts(experiments)
    if project is not None:
        result.alerts = [replace(a, project=project) for a in result.alerts]
    result.history_weeks = len(history)
    return result
