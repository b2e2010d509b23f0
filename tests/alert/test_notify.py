"""Notifiers against real loopback servers: SMTP (aiosmtpd) and a Slack-style webhook."""

from __future__ import annotations

from pathlib import Path

import pytest
from alert_helpers import Mailbox, Webhook, make_alert

from ai_telemetry.alert.notify import (
    EmailConfig,
    EmailNotifier,
    SlackNotifier,
    deliver,
    email_config,
    scrub,
)
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.errors import AlertError, ConfigError


def test_email_reaches_a_real_smtp_server(mailbox: Mailbox) -> None:
    """The e-mail arrives with a subject naming severity and alert, and the seed's lines."""
    notifier = EmailNotifier(EmailConfig(mailbox.host, mailbox.port), "lead@example.com")
    notifier.send(make_alert())
    [message] = mailbox.messages
    assert message["To"] == "lead@example.com"
    assert message["Subject"].startswith("[ai-telemetry] WARNING: Skill Error Spike")
    body = message.get_payload(decode=True).decode()
    assert "Metric: skill_error_rate (acgme-compliance)" in body
    assert "Action: Investigate skill implementation" in body


def test_email_failure_names_the_server_but_not_the_password() -> None:
    """A refused connection is an AlertError without the password or user name in it."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = EmailConfig("127.0.0.1", port, username="mailer-user", password="hunter2-SECRET")
    with pytest.raises(AlertError) as caught:
        EmailNotifier(config, "lead@example.com").send(make_alert())
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "hunter2-SECRET" not in str(caught.value)


def test_slack_payload_is_the_seeds(webhook: Webhook) -> None:
    """One attachment: colour by severity, title, text, footer, integer timestamp."""
    notifier = SlackNotifier(webhook.url, footer="demo telemetry", clock=lambda: 1767000000.5)
    notifier.send(make_alert(severity="critical"))
    [body] = webhook.bodies
    [attachment] = body["attachments"]
    assert attachment["color"] == "#f44336"
    assert attachment["title"] == "AI Infrastructure Alert [CRITICAL]"
    assert attachment["footer"] == "demo telemetry"
    assert attachment["ts"] == 1767000000
    assert "Current Value: 30.0%" in attachment["text"]


@pytest.mark.parametrize(
    ("severity", "color"), [("info", "#36a64f"), ("warning", "#ff9800"), ("critical", "#f44336")]
)
def test_slack_colour_follows_severity(webhook: Webhook, severity: str, color: str) -> None:
    """The seed's colour table: info green, warning orange, critical red."""
    SlackNotifier(webhook.url).send(make_alert(severity=severity))  # type: ignore[arg-type]
    assert webhook.bodies[0]["attachments"][0]["color"] == color


def test_slack_error_hides_the_webhook_url(webhook: Webhook) -> None:
    """An HTTP error says the status, never the URL or its token."""
    webhook.statuses = [500]
    with pytest.raises(AlertError) as caught:
        SlackNotifier(webhook.url).send(make_alert())
    assert "HTTP 500" in str(caught.value)
    assert "SECRETtoken123456" not in str(caught.value)
    assert "SECRETtoken123456" not in repr(SlackNotifier(webhook.url))


def test_unreachable_slack_hides_the_webhook_url() -> None:
    """A connection error message has the error kind, not the secret path."""
    url = "http://127.0.0.1:1/services/T0/B0/SECRETtoken987654"
    with pytest.raises(AlertError) as caught:
        SlackNotifier(url, timeout=2).send(make_alert())
    assert "SECRETtoken987654" not in str(caught.value)


def test_deliver_retries_with_growing_waits(webhook: Webhook) -> None:
    """Two failures then success: delivered, after waits of 1 and 2 backoff units."""
    webhook.statuses = [500, 503]
    waits: list[float] = []
    error = deliver(SlackNotifier(webhook.url), make_alert(), attempts=3, sleep=waits.append)
    assert (error, waits, len(webhook.bodies)) == (None, [1.0, 2.0], 3)


def test_deliver_gives_up_after_the_attempts_and_returns_the_error(webhook: Webhook) -> None:
    """Every try failing: the last error comes back, no exception."""
    webhook.statuses = [500, 500, 500]
    error = deliver(SlackNotifier(webhook.url), make_alert(), attempts=3, sleep=lambda _s: None)
    assert error == "Slack webhook answered HTTP 500"


def test_email_config_reads_the_section_and_env_wins(tmp_path: Path) -> None:
    """[notify.email] in config.toml gives the server; AI_TELEMETRY_SMTP_* override it."""
    (tmp_path / "config.toml").write_text(
        '[notify.email]\nhost = "smtp.example"\nport = 587\nstarttls = true\n'
    )
    configured = load_settings(telemetry_dir=tmp_path, environ={}, cwd=tmp_path)
    config = email_config(
        configured, environ={"AI_TELEMETRY_SMTP_PORT": "2525", "AI_TELEMETRY_SMTP_USER": "bot"}
    )
    assert config is not None
    assert (config.host, config.port, config.starttls, config.username) == (
        "smtp.example",
        2525,
        True,
        "bot",
    )


def test_no_smtp_host_means_no_email(settings: Settings) -> None:
    """Without a host there is no e-mail notifier configuration."""
    assert email_config(settings, environ={}) is None


def test_bad_smtp_port_is_a_config_error(settings: Settings) -> None:
    """A port that is not a number is reported with where to fix it."""
    with pytest.raises(ConfigError, match="port = 'twenty'"):
        email_config(
            settings, environ={"AI_TELEMETRY_SMTP_HOST": "h", "AI_TELEMETRY_SMTP_PORT": "twenty"}
        )


def test_scrub_replaces_every_secret() -> None:
    """Secrets are replaced wherever they appear; short or empty ones are ignored."""
    assert scrub("a hunter2x b hunter2x", ["hunter2x", None, ""]) == "a [redacted] b [redacted]"


def test_smtp_settings_are_read_from_dotenv(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AI_TELEMETRY_SMTP_* in .env of the working directory configure e-mail."""
    monkeypatch.delenv("AI_TELEMETRY_SMTP_HOST", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("AI_TELEMETRY_SMTP_HOST=mail.internal\n")
    config = email_config(settings)
    assert config is not None
    assert config.host == "mail.internal"
