"""Threshold rules: the seed's alert table, editable in ``config.toml``, evaluated on metrics.json.

A `Rule` compares one metric of the ``metrics`` object of metrics.json (METRICS.md) with a
threshold. The metric is named as in metrics.json, optionally with one statistic:
``skill_error_rate`` (one value per skill), ``agent_tool_call_count.max`` (the ``max`` of each
agent's statistics object), ``context_window_utilization.p95`` (one statistics object). A metric
kept per key gives one finding per key that breaks the rule. ``null`` (no data) never fires,
unless the rule says what null means (``missing``): Learning Stall counts a week without
learnings, which metrics.json reports as null, as 0.

``windows = N`` asks the condition to hold in the current metrics and the N - 1 windows before
it (``history``, oldest first); with too little history the rule stays quiet.

Config (``[rules.<name>]`` tables in ``config.toml``, see docs/rules.md)::

    [rules.skill_error_spike]
    threshold = 0.15            # change a default
    [rules.context_saturation]
    enabled = false             # switch one off
    [rules.slow_skill]          # add one
    metric = "skill_duration_seconds.p95"
    op = ">"
    threshold = 900
    severity = "warning"
    action = "Profile the skill"
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from ai_telemetry.errors import ConfigError
from ai_telemetry.ports import STAT_KEYS

if TYPE_CHECKING:
    from ai_telemetry.config import Settings

Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = ("info", "warning", "critical")
OPS: Final[dict[str, Callable[[float, float], bool]]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_OP_WORDS: Final = {
    ">": "above",
    ">=": "at or above",
    "<": "below",
    "<=": "at or below",
    "==": "equal to",
    "!=": "not equal to",
}

RULE_KEYS: Final = (
    "metric",
    "op",
    "threshold",
    "severity",
    "action",
    "title",
    "condition",
    "windows",
    "missing",
    "enabled",
)
"""Keys a ``[rules.<name>]`` table may hold."""
_REQUIRED_FOR_NEW: Final = ("metric", "op", "threshold", "severity", "action")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_METRIC = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)?$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One threshold rule.

    Attributes:
        name: identifier, the ``[rules.<name>]`` table (``skill_error_spike``).
        metric: metric of metrics.json, optionally ``.stat`` (``agent_tool_call_count.max``).
        op: comparison, one of ``>``, ``>=``, ``<``, ``<=``, ``==``, ``!=`` (value op threshold).
        threshold: the number compared with (rates are fractions: 10% is 0.10).
        severity: ``info``, ``warning`` or ``critical`` (the escalation ladder step).
        action: what a human should do.
        title: display name (``Skill Error Spike``).
        condition: the condition in words, for tables and alerts.
        windows: the condition must hold in this many consecutive windows, the current one last.
        missing: the value a null (no data) stands for; ``None``: null never fires.
        enabled: ``False`` keeps the rule but never evaluates it.
    """

    name: str
    metric: str
    op: str
    threshold: float
    severity: Severity
    action: str
    title: str = ""
    condition: str = ""
    windows: int = 1
    missing: float | None = None
    enabled: bool = True

    def breaks(self, value: float) -> bool:
        """Whether ``value`` meets the alert condition."""
        return OPS[self.op](value, self.threshold)


@dataclass(frozen=True, slots=True)
class RuleFinding:
    """A rule broken by one metric value (one per key for per-key metrics).

    Attributes:
        rule: the rule's name; title, severity, metric, threshold, op, action copied from it.
        key: the skill, agent, root cause ... the value belongs to; ``None`` for a plain metric.
        value: the current value.
        analysis: one line saying what was seen against what.
    """

    rule: str
    title: str
    severity: Severity
    metric: str
    key: str | None
    value: float
    threshold: float
    op: str
    action: str
    analysis: str

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output and alerts.log."""
        return {
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity,
            "metric": self.metric,
            "key": self.key,
            "value": self.value,
            "threshold": self.threshold,
            "op": self.op,
            "action": self.action,
            "analysis": self.analysis,
        }


DEFAULT_RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "skill_error_spike",
        "skill_error_rate",
        ">",
        0.10,
        "warning",
        "Investigate skill implementation",
        title="Skill Error Spike",
        condition="Error rate >10% for any skill",
    ),
    Rule(
        "learning_stall",
        "learning_entries_per_week",
        "==",
        0,
        "warning",
        "Review workflow, ensure capture",
        title="Learning Stall",
        condition="0 new learnings in 2 weeks",
        windows=2,
        missing=0,
    ),
    Rule(
        "incident_repeat",
        "incident_root_cause_total",
        ">=",
        3,
        "critical",
        "META_UPDATER priority update",
        title="Incident Repeat",
        condition="Same root cause 3+ times",
    ),
    Rule(
        "coverage_decline",
        "test_coverage_delta",
        "<",
        -2.0,
        "warning",
        "Block merges until recovered",
        title="Coverage Decline",
        condition="Test coverage drops >2%",
    ),
    Rule(
        "context_saturation",
        "context_window_utilization.p95",
        ">",
        0.90,
        "info",
        "Consider breaking into sub-agents",
        title="Context Saturation",
        condition=">90% context window usage",
    ),
    Rule(
        "tool_call_loop",
        "agent_tool_call_count.max",
        ">",
        50,
        "critical",
        "Kill switch, investigate agent logic",
        title="Tool Call Loop",
        condition=">50 tool calls in single task",
    ),
)
"""The seed's Alert Thresholds table."""


# --- configuration ------------------------------------------------------------------------


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where} = {value!r} is not a number; write e.g. {where} = 0.1")
    return float(value)


def _check_table(name: str, table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate one ``[rules.<name>]`` table; return its typed fields."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        at = f"{where} [rules.{name}] {key}"
        if key not in RULE_KEYS:
            raise ConfigError(
                f"{where} [rules.{name}]: unknown key {key!r}; allowed keys: {', '.join(RULE_KEYS)}"
            )
        if key == "metric":
            if not isinstance(value, str) or not _METRIC.match(value):
                raise ConfigError(
                    f"{at} = {value!r}; use a metric name of metrics.json, optionally with one "
                    'statistic, e.g. "skill_error_rate" or "agent_tool_call_count.max"'
                )
        elif key == "op":
            if value not in OPS:
                raise ConfigError(f"{at} = {value!r}; use one of {', '.join(OPS)}")
        elif key == "severity":
            if value not in SEVERITIES:
                raise ConfigError(f"{at} = {value!r}; use one of {', '.join(SEVERITIES)}")
        elif key in ("action", "title", "condition"):
            if not isinstance(value, str) or (key == "action" and not value.strip()):
                raise ConfigError(f"{at} = {value!r}; use a non-empty string")
        elif key in ("threshold", "missing"):
            out[key] = _number(value, at)
            continue
        elif key == "windows":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{at} = {value!r}; use a whole number >= 1")
        elif key == "enabled" and not isinstance(value, bool):
            raise ConfigError(f"{at} = {value!r}; use true or false")
        out[key] = value
    return out


def load_rules(config: Any = None, *, source: str = "config.toml") -> tuple[Rule, ...]:
    """The default rules with the ``[rules]`` section of the config file applied.

    Args:
        config: the ``rules`` section (``Settings.extra["rules"]``): name -> table. A table
            for a default rule changes the keys it gives; a new name adds a rule, which then
            needs metric, op, threshold, severity and action.
        source: where the section came from, for error messages.

    Returns:
        Every rule, defaults first (in the seed's order), then added ones in file order.

    Raises:
        ConfigError: a table or key is wrong; the message names the rule, the key and what is
            allowed.
    """
    if config is None:
        return DEFAULT_RULES
    if not isinstance(config, Mapping):
        raise ConfigError(f"{source}: [rules] must be a table of [rules.<name>] tables")
    by_name = {rule.name: rule for rule in DEFAULT_RULES}
    added: list[Rule] = []
    for name, table in config.items():
        if not isinstance(table, Mapping):
            raise ConfigError(
                f"{source}: rules.{name} = {table!r} must be a table; write [rules.{name}] "
                "with keys such as threshold = ... or enabled = false"
            )
        if not _NAME.match(str(name)):
            raise ConfigError(
                f"{source}: [rules.{name}]: a rule name is lower case letters, digits, _ and -"
            )
        fields = _check_table(name, table, source)
        if name in by_name:
            by_name[name] = replace(by_name[name], **fields)
            continue
        absent = [key for key in _REQUIRED_FOR_NEW if key not in fields]
        if absent:
            raise ConfigError(
                f"{source} [rules.{name}]: a new rule needs {', '.join(absent)} "
                f"(known rules: {', '.join(r.name for r in DEFAULT_RULES)})"
            )
        fields.setdefault("title", name.replace("_", " ").replace("-", " ").title())
        added.append(Rule(name=name, **fields))
    return (*by_name.values(), *added)


def rules_from_settings(settings: Settings) -> tuple[Rule, ...]:
    """`load_rules` over the ``[rules]`` section of the settings' config file."""
    return load_rules(settings.extra.get("rules"), source=str(settings.config_path))


# --- evaluation ---------------------------------------------------------------------------


def _metrics_of(document: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = document.get("metrics")
    return inner if isinstance(inner, Mapping) else document


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def metric_values(document: Mapping[str, Any], metric: str) -> dict[str | None, float | None]:
    """The values a rule's metric names in one metrics.json document, by key.

    Args:
        document: metrics.json (``{"metrics": {...}}``) or its ``metrics`` object.
        metric: ``name`` or ``name.stat``.

    Returns:
        ``{None: value}`` for a plain metric, ``{key: value}`` for a per-key one; a value is
        ``None`` where the document holds null (a null metric gives ``{None: None}``). Empty
        when the document does not have the metric at all.
    """
    name, _, stat = metric.partition(".")
    inner = _metrics_of(document)
    if name not in inner:
        return {}
    obj = inner[name]
    if obj is None:
        return {None: None}
    if not isinstance(obj, Mapping):
        return {} if stat else {None: _as_number(obj)}
    if obj and set(obj) <= STAT_KEYS:  # one statistics object, not keyed
        return {None: _as_number(obj.get(stat))} if stat else {}
    out: dict[str | None, float | None] = {}
    for key, value in obj.items():
        if isinstance(value, Mapping):
            if stat:
                out[str(key)] = _as_number(value.get(stat))
        elif not stat:
            out[str(key)] = _as_number(value)
    return out


def _show(value: float, metric: str) -> str:
    text = f"{value:.4g}"
    if ("rate" in metric or "utilization" in metric) and -1 <= value <= 1:
        text += f" ({value * 100:.1f}%)"
    return text


def _analysis(rule: Rule, key: str | None, values: Sequence[float]) -> str:
    subject = rule.metric + (f" for {key}" if key is not None else "")
    words = _OP_WORDS[rule.op]
    threshold = _show(rule.threshold, rule.metric)
    if len(values) == 1:
        return f"{subject} is {_show(values[0], rule.metric)}, {words} the threshold {threshold}"
    shown = ", ".join(_show(v, rule.metric) for v in values)
    return f"{subject} has been {shown} in the last {len(values)} windows, each {words} {threshold}"


def evaluate_rules(
    metrics: Mapping[str, Any],
    *,
    rules: Iterable[Rule] = DEFAULT_RULES,
    history: Sequence[Mapping[str, Any]] | None = None,
) -> list[RuleFinding]:
    """Check every enabled rule against the current metrics.

    Args:
        metrics: the current metrics.json document (or its ``metrics`` object).
        rules: the rules to check (`load_rules` / `rules_from_settings`).
        history: earlier documents of consecutive windows, oldest first, the one just before
            ``metrics`` last; used by rules with ``windows > 1``.

    Returns:
        One finding per rule and key that breaks its rule: critical first, then warning, then
        info; within a severity in rule order, then by key.
    """
    earlier = list(history or ())
    ordered = list(rules)
    findings: list[RuleFinding] = []
    for rule in ordered:
        if not rule.enabled:
            continue
        past = earlier[len(earlier) - rule.windows + 1 :] if rule.windows > 1 else []
        if len(past) < rule.windows - 1:
            continue
        current = metric_values(metrics, rule.metric)
        past_values = [metric_values(doc, rule.metric) for doc in past]
        for key in current:
            series = [*(values.get(key) for values in past_values), current[key]]
            filled = [rule.missing if v is None else v for v in series]
            if any(v is None for v in filled):
                continue
            numbers = cast(list[float], filled)
            if not all(rule.breaks(v) for v in numbers):
                continue
            findings.append(
                RuleFinding(
                    rule=rule.name,
                    title=rule.title or rule.name,
                    severity=rule.severity,
                    metric=rule.metric,
                    key=key,
                    value=numbers[-1],
                    threshold=rule.threshold,
                    op=rule.op,
                    action=rule.action,
                    analysis=_analysis(rule, key, numbers),
                )
            )
    rank = {rule.name: i for i, rule in enumerate(ordered)}
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), rank[f.rule], f.key or ""))
    return findings
