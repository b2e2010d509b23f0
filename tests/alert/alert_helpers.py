"""Helpers for the alerting tests: alerts as detection makes them, loopback server records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ai_telemetry.alert.model import Alert, Severity


def make_alert(
    rule: str = "skill_error_spike",
    *,
    severity: Severity = "warning",
    metric: str = "skill_error_rate",
    key: str | None = "acgme-compliance",
    value: float = 0.3,
) -> Alert:
    """An alert as `detect_anomalies` makes them."""
    return Alert(
        rule=rule,
        title=rule.replace("_", " ").title(),
        severity=severity,
        metric=metric,
        key=key,
        value=value,
        threshold=0.1,
        current=f"{value * 100:.1f}%",
        threshold_text="> 10.0%",
        analysis=f"{metric} for {key} is {value}, above the threshold 0.1",
        action="Investigate skill implementation",
    )


@dataclass
class Webhook:
    """A loopback HTTP server recording POSTed JSON bodies; answers ``statuses`` in turn."""

    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@dataclass
class Mailbox:
    """A loopback SMTP server (aiosmtpd) collecting messages."""

    host: str
    port: int
    messages: list[Any] = field(default_factory=list)
