"""The escalation ladder (info / warning / critical), the retry queue and the gate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from alert_helpers import Mailbox, Webhook, make_alert

from ai_telemetry.alert.escalation import escalate, gate, notifiers_from_settings
from ai_telemetry.alert.notify import (
    EmailConfig,
    EmailNotifier,
    Notifier,
    NotifyQueue,
    SlackNotifier,
)
from ai_telemetry.alert.store import record_alerts
from ai_telemetry.config import Settings, load_settings

NOW = datetime(2025, 12, 29, 9, tzinfo=UTC)


def channels(mailbox: Mailbox, webhook: Webhook) -> dict[str, Notifier]:
    """Real e-mail and Slack notifiers pointed at the loopback servers."""
    return {
        "email": EmailNotifier(EmailConfig(mailbox.host, mailbox.port), "lead@example.com"),
        "slack": SlackNotifier(webhook.url),
    }


def test_info_goes_nowhere_but_the_log(
    settings: Settings, mailbox: Mailbox, webhook: Webhook
) -> None:
    """An info alert sends neither e-mail nor Slack."""
    report = escalate(
        [make_alert(severity="info")], settings=settings, notifiers=channels(mailbox, webhook)
    )
    assert (report.sent, len(mailbox.messages), len(webhook.bodies)) == ([], 0, 0)


def test_warning_sends_email_only(settings: Settings, mailbox: Mailbox, webhook: Webhook) -> None:
    """A warning e-mails the tech lead and does not post to Slack."""
    escalate([make_alert()], settings=settings, notifiers=channels(mailbox, webhook))
    assert (len(mailbox.messages), len(webhook.bodies)) == (1, 0)


def test_critical_sends_email_and_slack(
    settings: Settings, mailbox: Mailbox, webhook: Webhook
) -> None:
    """A critical alert e-mails and posts to Slack."""
    report = escalate(
        [make_alert("tool_call_loop", severity="critical")],
        settings=settings,
        notifiers=channels(mailbox, webhook),
    )
    assert (len(mailbox.messages), len(webhook.bodies), len(report.sent)) == (1, 1, 2)


def test_unconfigured_channel_is_reported_not_failed(settings: Settings) -> None:
    """With no channel configured, the report says so and nothing is queued."""
    report = escalate([make_alert(severity="critical")], settings=settings, notifiers={})
    assert (sorted(set(report.unconfigured)), report.failed) == (["email", "slack"], False)


def test_failed_notification_is_queued_logged_and_sent_next_run(
    settings: Settings, webhook: Webhook
) -> None:
    """Slack down: queued and logged; on the next run it is delivered and the queue empties."""
    webhook.statuses = [500, 500]
    slack: dict[str, Notifier] = {"slack": SlackNotifier(webhook.url)}
    alert = make_alert("tool_call_loop", severity="critical")
    first = escalate([alert], settings=settings, notifiers=slack, attempts=2, sleep=lambda _: None)
    assert first.failed
    assert [q.alert.id for q in NotifyQueue.of(settings).load()] == [alert.id]
    assert "queued for next run" in settings.alerts_log.read_text(encoding="utf-8")
    second = escalate([], settings=settings, notifiers=slack, sleep=lambda _: None)
    assert (second.sent, NotifyQueue.of(settings).load()) == ([f"slack: {alert.id}"], [])
    assert "delivered (queued since" in settings.alerts_log.read_text(encoding="utf-8")


def test_secrets_never_reach_the_log_or_the_queue(settings: Settings, webhook: Webhook) -> None:
    """A failing webhook and SMTP password leave no trace in alerts.log or the queue file."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    webhook.statuses = [500] * 3
    notifiers: dict[str, Notifier] = {
        "slack": SlackNotifier(webhook.url),
        "email": EmailNotifier(
            EmailConfig("127.0.0.1", closed_port, username="u", password="pw-SECRET-42"), "l@x.org"
        ),
    }
    escalate(
        [make_alert(severity="critical")],
        settings=settings,
        notifiers=notifiers,
        sleep=lambda _: None,
    )
    written = settings.alerts_log.read_text(encoding="utf-8") + NotifyQueue.of(
        settings
    ).path.read_text(encoding="utf-8")
    assert "SECRETtoken123456" not in written
    assert "pw-SECRET-42" not in written
    assert written.count("queued for next run") >= 2


def test_notifiers_from_settings_need_address_and_server(
    settings: Settings, tmp_path: Path
) -> None:
    """E-mail needs alert_email and an SMTP host; Slack needs the webhook."""
    (tmp_path / "config.toml").write_text('[notify.email]\nhost = "127.0.0.1"\n')
    configured = load_settings(
        telemetry_dir=tmp_path,
        environ={},
        cwd=tmp_path,
        alert_email="lead@example.com",
        slack_webhook="http://127.0.0.1:9/hook",
    )
    assert sorted(notifiers_from_settings(configured, environ={})) == ["email", "slack"]
    assert notifiers_from_settings(settings, environ={}) == {}


def test_gate_closes_on_an_open_critical_alert(settings: Settings) -> None:
    """A critical alert pauses deployments; the reason names rule, metric and action."""
    record_alerts(settings, [make_alert("tool_call_loop", severity="critical")], now=NOW)
    result = gate(settings)
    assert not result.ok
    assert "CRITICAL Tool Call Loop [tool_call_loop]" in result.reasons()[0]


def test_gate_closes_on_coverage_decline_whatever_its_severity(settings: Settings) -> None:
    """Coverage Decline blocks merges (the seed), though it is a warning."""
    alert = make_alert("coverage_decline", metric="test_coverage_delta", key=None)
    record_alerts(settings, [alert], now=NOW)
    assert [a["rule"] for a in gate(settings).blocking] == ["coverage_decline"]


def test_gate_stays_open_for_warnings_and_info(settings: Settings) -> None:
    """Warnings (other than coverage) and info alerts do not pause deployments."""
    record_alerts(settings, [make_alert(), make_alert("x", severity="info")], now=NOW)
    assert gate(settings).ok


def test_gate_opens_when_the_alert_resolves(settings: Settings) -> None:
    """Once the critical alert resolves the gate is open again."""
    record_alerts(settings, [make_alert(severity="critical")], now=NOW)
    record_alerts(settings, [], now=NOW)
    assert gate(settings).ok


def test_queue_file_is_json_lines(settings: Settings, webhook: Webhook) -> None:
    """The queue is one JSON object per line with channel, alert, attempts and error."""
    webhook.statuses = [500]
    escalate(
        [make_alert(severity="critical")],
        settings=settings,
        notifiers={"slack": SlackNotifier(webhook.url)},
        attempts=1,
    )
    [line] = NotifyQueue.of(settings).path.read_bytes().splitlines()
    item = orjson.loads(line)
    assert (item["channel"], item["attempts"], item["last_error"]) == (
        "slack",
        1,
        "Slack webhook answered HTTP 500",
    )


class BrokenNotifier:
    """A notifier with a bug: send raises something that is not an AlertError."""

    channel = "email"

    def send(self, alert: object) -> None:
        """Fail the way a bug would."""
        raise RuntimeError("bug in a notifier")


def test_notifier_bug_is_queued_not_raised(settings: Settings) -> None:
    """An unexpected exception in a notifier does not crash the run; the alert is queued."""
    report = escalate(
        [make_alert()], settings=settings, notifiers={"email": BrokenNotifier()}, attempts=1
    )
    assert report.queued == [
        "email: skill_error_spike|skill_error_rate|acgme-compliance: "
        "email notifier failed: RuntimeError"
    ]
