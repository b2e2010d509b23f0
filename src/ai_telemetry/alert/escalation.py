"""The seed's escalation ladder, and the deployment gate.

=========  =====================================================================
severity   what happens when the alert opens
=========  =====================================================================
info       alerts.log and the weekly dashboard (``open_alerts``)
warning    + e-mail to the tech lead (``alert_email``, ``[notify.email]``)
critical   + Slack (``slack_webhook``) + deployments pause (`gate` fails)
=========  =====================================================================

Only newly opened alerts notify; an alert that stays open is not sent again. A channel that is
not configured is skipped and said so in the report; a channel that fails is retried with
backoff, then queued (``notify-queue.jsonl``) and retried on the next run, and the failure is
written to alerts.log. Nothing here raises into the run: `escalate` returns what happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.alert.model import Alert, Severity
from ai_telemetry.alert.notify import (
    EmailNotifier,
    Notifier,
    NotifyQueue,
    Queued,
    SlackNotifier,
    deliver,
    email_config,
)
from ai_telemetry.alert.store import log_line, open_alerts, utc_text
from ai_telemetry.errors import AITelemetryError

if TYPE_CHECKING:
    from ai_telemetry.config import Settings
    from ai_telemetry.documents.types import GateDocument, NotificationsDoc

LADDER: Final[dict[Severity, tuple[str, ...]]] = {
    "info": (),
    "warning": ("email",),
    "critical": ("email", "slack"),
}
"""Severity -> notification channels beyond alerts.log and the dashboard."""
MAX_ATTEMPTS: Final = 50
"""Queued notifications are dropped (and the drop logged) after this many tries."""
BLOCKING_RULES: Final = frozenset({"coverage_decline"})
"""Rules that block merges whatever their severity (the seed: Coverage Decline)."""


def notifiers_from_settings(
    settings: Settings, *, environ: Mapping[str, str] | None = None
) -> dict[str, Notifier]:
    """The configured notifiers by channel: ``email`` with alert_email and an SMTP host,
    ``slack`` with slack_webhook."""
    out: dict[str, Notifier] = {}
    config = email_config(settings, environ=environ)
    if settings.alert_email and config is not None:
        out["email"] = EmailNotifier(config, settings.alert_email)
    if settings.slack_webhook:
        footer = (
            f"{settings.project} telemetry" if settings.project else "AI Infrastructure Telemetry"
        )
        out["slack"] = SlackNotifier(settings.slack_webhook, footer=footer)
    return out


@dataclass(slots=True)
class EscalationReport:
    """What `escalate` did."""

    sent: list[str] = field(default_factory=list)
    """``channel: alert id`` delivered now (including retried ones)."""
    queued: list[str] = field(default_factory=list)
    """``channel: alert id: error`` that failed and wait in the queue."""
    unconfigured: list[str] = field(default_factory=list)
    """Channels the ladder asked for that are not configured."""
    dropped: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether any notification is waiting in the queue or was dropped."""
        return bool(self.queued or self.dropped)

    def summary(self) -> str:
        """One line for people."""
        parts = [f"{len(self.sent)} sent"]
        if self.queued:
            parts.append(f"{len(self.queued)} failed and queued for the next run")
        if self.dropped:
            parts.append(f"{len(self.dropped)} dropped after {MAX_ATTEMPTS} tries")
        if self.unconfigured:
            parts.append("not configured: " + ", ".join(sorted(set(self.unconfigured))))
        return "notifications: " + "; ".join(parts)

    def to_json(self) -> NotificationsDoc:
        """The ``notifications`` object of the ``detect --json`` document."""
        return {
            "summary": self.summary(),
            "sent": list(self.sent),
            "queued": list(self.queued),
            "unconfigured": list(self.unconfigured),
            "dropped": list(self.dropped),
        }


def escalate(
    opened: Sequence[Alert],
    *,
    settings: Settings,
    notifiers: Mapping[str, Notifier] | None = None,
    attempts: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
) -> EscalationReport:
    """Notify along the ladder: first the queue from earlier runs, then ``opened``.

    Args:
        opened: alerts that opened in this run (`record_alerts(...).opened`).
        settings: the telemetry directory (queue, alerts.log) and channels.
        notifiers: channel -> notifier (default: `notifiers_from_settings`); ``{}`` sends nothing.
        attempts: tries per notification in this run.
        backoff: first wait between tries, doubled each time.
        sleep: the wait (tests pass a recorder).
        now: the clock.
    """
    chosen = notifiers_from_settings(settings) if notifiers is None else notifiers
    moment = now or datetime.now(UTC)
    report = EscalationReport()
    queue = NotifyQueue.of(settings)
    waiting: list[Queued] = []
    notes: list[str] = []
    work = [(q.channel, q.alert, q.attempts, q.queued_at) for q in _load(queue, notes)]
    for alert in opened:
        for channel in LADDER[alert.severity]:
            work.append((channel, alert, 0, ""))
    for channel, alert, tries, queued_at in work:
        notifier = chosen.get(channel)
        if notifier is None:
            report.unconfigured.append(channel)
            continue
        error = deliver(notifier, alert, attempts=attempts, backoff=backoff, sleep=sleep)
        label = f"{channel}: {alert.id}"
        if error is None:
            report.sent.append(label)
            if queued_at:
                notes.append(f"notify: {label} delivered (queued since {queued_at})")
            continue
        total = tries + attempts
        if total >= MAX_ATTEMPTS:
            report.dropped.append(f"{label}: {error}")
            notes.append(f"notify: {label} DROPPED after {total} tries: {error}")
            continue
        report.queued.append(f"{label}: {error}")
        notes.append(f"notify: {label} failed after {total} tries ({error}); queued for next run")
        waiting.append(Queued(channel, alert, total, queued_at or utc_text(moment), error))
    try:
        queue.save(waiting)
        for note in notes:
            log_line(settings, note, now=moment)
    except AITelemetryError as exc:  # the run goes on; the report still says what failed
        report.queued.append(f"queue: {exc}")
    return report


def _load(queue: NotifyQueue, notes: list[str]) -> list[Queued]:
    try:
        return queue.load()
    except AITelemetryError as exc:
        notes.append(f"notify: {exc}")
        return []


@dataclass(frozen=True, slots=True)
class GateResult:
    """Whether deployments may go on, and the alerts that say no."""

    blocking: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        """No critical alert and no blocking rule is open."""
        return not self.blocking

    def reasons(self) -> list[str]:
        """One line per blocking alert (stored values escaped: each stays one line)."""
        from ai_telemetry.report.escape import log_field

        return [
            log_field(
                f"{a['severity'].upper()} {a.get('title') or a['rule']} [{a['rule']}] on "
                f"{a['metric']}{' (' + str(a['key']) + ')' if a.get('key') else ''}: "
                f"{a.get('current') or a.get('value')} (open since {a['opened']}); {a['action']}"
            )
            for a in self.blocking
        ]

    def to_document(self) -> GateDocument:
        """The ``gate --json`` document (docs/schemas/gate.json)."""
        from ai_telemetry.alert.model import alert_document
        from ai_telemetry.documents import header

        return {
            **header("gate"),
            "open": self.ok,
            "blocking": [alert_document(a) for a in self.blocking],
            "reasons": self.reasons(),
        }


def gate(settings: Settings, *, project: str | None = None) -> GateResult:
    """The deployment pause signal: blocked while a critical alert or Coverage Decline is open
    (with ``project``: one of that project's, or of the whole store's; other projects' alerts
    do not pause it).

    Raises:
        AlertError: the alert state is unreadable (a CI gate must not pass on broken state).
    """
    blocking = [
        a
        for a in open_alerts(settings)
        if (a["severity"] == "critical" or a["rule"] in BLOCKING_RULES)
        and (project is None or a.get("project") in (None, project))
    ]
    return GateResult(blocking)
