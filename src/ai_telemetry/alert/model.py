"""The `Alert`: one condition that holds now, and how alerts.log shows it (the seed's format).

An alert is identified by ``rule|metric|key`` (`Alert.id`): the same rule on the same metric
and key is the same alert from one run to the next, so it is logged once when it opens and once
when it resolves, not every week in between.

The log entry keeps the seed's lines, in the seed's order, with the time, severity and rule
added::

    🚨 ANOMALY DETECTED 🚨
    Time: 2025-12-29T09:00:00Z
    Severity: critical
    Alert: Incident Repeat [incident_repeat]
    Metric: incident_root_cause_total (timezone-handling)
    Current Value: 3 (3 incidents with root cause timezone-handling in the 28 days to ...)
    Threshold: >= 3
    Analysis: ...
    Action: META_UPDATER priority update
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from ai_telemetry.documents.types import AlertDoc

Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = ("info", "warning", "critical")
SLACK_COLORS: Final[dict[str, str]] = {
    "info": "#36a64f",
    "warning": "#ff9800",
    "critical": "#f44336",
}
"""The seed's colour per severity (notify_slack.py)."""
DETECTED: Final = "🚨 ANOMALY DETECTED 🚨"
RESOLVED: Final = "✅ RESOLVED"


def show_value(value: float | None, metric: str) -> str:
    """A metric value for people: rates as percents, counts without decimals."""
    if value is None or not math.isfinite(value):
        return "no data"
    base = metric.split(".", 1)[0]
    if ("rate" in base or "utilization" in base) and -1.0 <= value <= 1.0:
        return f"{value * 100:.1f}%"
    if base.endswith(("_percent", "_delta")):
        return f"{value:.1f}"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One condition that holds in the current metrics.

    Attributes:
        rule: the rule's name (``skill_error_spike``) or ``anomaly`` for z-score / SPC.
        title: display name (``Skill Error Spike``).
        severity: ``info``, ``warning`` or ``critical`` (the escalation ladder step).
        metric: the metric, as in metrics.json, with ``.stat`` where it is one statistic.
        key: the skill, agent, root cause ... it is about, or ``None``.
        value: the current value.
        threshold: the limit the value broke (the rule's threshold, or the z-score limit in
            the metric's own unit).
        current: the current value for people (``30.0% (0.3)``).
        threshold_text: the threshold for people (``> 10.0%``).
        analysis: what was seen against what.
        action: what a human should do.
        detectors: what fired: ``rule``, ``zscore``, ``WE1`` ... ``WE4``.
        opened: when the alert opened (UTC, ``...Z``); set by the store.
        window_end: the end of the metrics window it was found in.
        project: the project whose metrics it was found in (``detect`` of an ``aggregate
            --project`` document), or ``None`` for the whole store's.
    """

    rule: str
    title: str
    severity: Severity
    metric: str
    key: str | None
    value: float | None
    threshold: float | None
    current: str
    threshold_text: str
    analysis: str
    action: str
    detectors: tuple[str, ...] = ("rule",)
    opened: str = ""
    window_end: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    project: str | None = None

    @property
    def id(self) -> str:
        """``rule|metric|key`` (``rule|metric|key|project`` for a project's): the identity that
        makes an alert "the same" between runs."""
        base = f"{self.rule}|{self.metric}|{self.key or ''}"
        return f"{base}|{self.project}" if self.project else base

    @property
    def subject(self) -> str:
        """``metric (key)`` or ``metric``, then `` in project NAME`` for a project's."""
        text = self.metric + (f" ({self.key})" if self.key else "")
        return text + (f" in project {self.project}" if self.project else "")

    def to_json(self) -> dict[str, Any]:
        """A plain dict: the fields `open_alerts` promises, plus ``id`` and the display texts."""
        out = asdict(self)
        out["detectors"] = list(self.detectors)
        out["extra"] = dict(self.extra)
        out["id"] = self.id
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        """The inverse of `to_json` (unknown keys are ignored)."""
        severity = data.get("severity")
        return cls(
            rule=str(data["rule"]),
            title=str(data.get("title") or data["rule"]),
            severity=severity if severity in SEVERITIES else "warning",
            metric=str(data["metric"]),
            key=None if data.get("key") in (None, "") else str(data["key"]),
            value=_num(data.get("value")),
            threshold=_num(data.get("threshold")),
            current=str(data.get("current", "")),
            threshold_text=str(data.get("threshold_text", "")),
            analysis=str(data.get("analysis", "")),
            action=str(data.get("action", "")),
            detectors=tuple(str(d) for d in data.get("detectors", ("rule",))),
            opened=str(data.get("opened", "")),
            window_end=str(data.get("window_end", "")),
            extra=dict(data.get("extra") or {}),
            project=None if data.get("project") in (None, "") else str(data["project"]),
        )

    def message(self) -> str:
        """The body of a notification: the alert block without the banner line."""
        return "\n".join(self.lines()[1:])

    def lines(self) -> list[str]:
        """The alerts.log entry, line by line (the seed's format, plus time and severity).

        Every field is escaped (`ai_telemetry.report.escape.log_field`): a newline or a control
        character in a name is shown as ``\\n``/``\\x1b``, so an entry is always these nine
        lines and data cannot forge another entry.
        """
        from ai_telemetry.report.escape import log_field as f

        return [
            DETECTED,
            f"Time: {f(self.opened)}",
            f"Severity: {f(self.severity)}",
            f"Alert: {f(self.title)} [{f(self.rule)}]",
            f"Metric: {f(self.subject)}",
            f"Current Value: {f(self.current)}",
            f"Threshold: {f(self.threshold_text)}",
            f"Analysis: {f(self.analysis)}",
            f"Action: {f(self.action)}",
        ]

    def resolved_lines(self, *, at: str, value: float | None) -> list[str]:
        """The alerts.log entry when the alert resolves (fields escaped as in `lines`)."""
        from ai_telemetry.report.escape import log_field as f

        now = show_value(value, self.metric) if value is not None else "back within limits"
        return [
            RESOLVED,
            f"Time: {f(at)}",
            f"Severity: {f(self.severity)}",
            f"Alert: {f(self.title)} [{f(self.rule)}]",
            f"Metric: {f(self.subject)}",
            f"Current Value: {f(now)}",
            f"Opened: {f(self.opened)}",
        ]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def alert_document(alert: Alert | Mapping[str, Any]) -> AlertDoc:
    """One alert as the ``--json`` documents show it (docs/schemas/*.json, ``AlertDoc``).

    Takes an `Alert` or a stored alert dict (alert-state.json; unknown keys are dropped, a
    ``last_seen`` is kept); values that are not finite become null.
    """
    from ai_telemetry.documents import finite

    record = alert if isinstance(alert, Alert) else Alert.from_json(alert)
    out: AlertDoc = {
        "id": record.id,
        "rule": record.rule,
        "title": record.title,
        "severity": record.severity,
        "metric": record.metric,
        "key": record.key,
        "value": finite(record.value),
        "threshold": finite(record.threshold),
        "current": record.current,
        "threshold_text": record.threshold_text,
        "analysis": record.analysis,
        "action": record.action,
        "detectors": list(record.detectors),
        "opened": record.opened,
        "window_end": record.window_end,
        "extra": dict(record.extra),
        "project": record.project,
    }
    if isinstance(alert, Mapping) and alert.get("last_seen"):
        out["last_seen"] = str(alert["last_seen"])
    return out
