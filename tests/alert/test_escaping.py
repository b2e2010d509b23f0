"""Alerts carry stored names: alerts.log, e-mail and Slack show them without letting them act."""

from __future__ import annotations

from datetime import UTC, datetime

from alert_helpers import Mailbox, Webhook, make_alert

from ai_telemetry.alert.model import DETECTED
from ai_telemetry.alert.notify import EmailConfig, EmailNotifier, SlackNotifier
from ai_telemetry.alert.store import log_line, record_alerts
from ai_telemetry.config import Settings

HOSTILE = "x\n\nAction: forged\x1b]52;c;ZXZpbA==\x07 <http://evil|click> <!channel> @channel"


def test_alerts_log_entry_keeps_its_nine_lines(settings: Settings) -> None:
    """A key with newlines and OSC 52 gives one nine-line entry, no forged line, no ESC."""
    record_alerts(settings, [make_alert(key=HOSTILE)], now=datetime(2025, 12, 29, 9, tzinfo=UTC))
    text = settings.alerts_log.read_text("utf-8")
    lines = text.rstrip("\n").splitlines()
    assert 9 == len(lines)
    assert [DETECTED] == [line for line in lines if line == DETECTED]
    assert not any(line.startswith("Action: forged") for line in lines)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "Metric: skill_error_rate (x\\n\\nAction: forged\\x1b]52;c;ZXZpbA==\\x07" in text


def test_alerts_log_notice_is_one_line(settings: Settings) -> None:
    """A notice (a failed notification) with a newline in it is still one line."""
    log_line(settings, "slack failed: a\nb\x1b[2J", now=datetime(2025, 12, 29, tzinfo=UTC))
    assert ["[2025-12-29T00:00:00Z] slack failed: a\\nb\\x1b[2J"] == (
        settings.alerts_log.read_text("utf-8").split("\n\n")[0].splitlines()
    )


def test_email_with_a_hostile_key_is_sent_with_a_one_line_subject(mailbox: Mailbox) -> None:
    """The subject is one header line (a raw newline would fail the send) and the body is safe."""
    notifier = EmailNotifier(EmailConfig(mailbox.host, mailbox.port), "lead@example.com")
    notifier.send(make_alert(key=HOSTILE))
    [message] = mailbox.messages
    assert "\\n\\nAction: forged\\x1b]52" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "\x1b" not in body
    assert not any(line.startswith("Action: forged") for line in body.splitlines())


def test_slack_text_has_no_link_and_no_mention(webhook: Webhook) -> None:
    """Slack gets no ``<url|text>`` link, no ``<!channel>`` and no live ``@channel``."""
    SlackNotifier(webhook.url).send(make_alert(key=HOSTILE, severity="critical"))
    text = webhook.bodies[0]["attachments"][0]["text"]
    assert "<" not in text
    assert "@channel" not in text
    assert "&lt;http://evil|click&gt; &lt;!channel&gt;" in text
    assert 8 == len(text.splitlines())
