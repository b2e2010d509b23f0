"""Notifiers: e-mail (SMTP) and Slack (incoming webhook), with retries and a retry queue.

Plain standard library (``smtplib``, ``email``, ``urllib.request``): two small, well-understood
protocols do not need a dependency, and the weekly job stays light to install and audit.

A `Notifier` sends one alert or raises `AlertError` with a message that is safe to log: the
webhook URL, the SMTP password and user name never appear in it (`scrub`). `deliver` retries with
exponential backoff (an injectable ``sleep``); what still fails goes to ``notify-queue.jsonl`` in
the telemetry directory and is retried on the next run (`NotifyQueue`).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import orjson

from ai_telemetry.alert.model import SLACK_COLORS, Alert
from ai_telemetry.config import read_settings_text
from ai_telemetry.errors import AlertError, ConfigError

if TYPE_CHECKING:
    from ai_telemetry.config import Settings

QUEUE_NAME: Final = "notify-queue.jsonl"
SMTP_ENV: Final[dict[str, str]] = {
    "AI_TELEMETRY_SMTP_HOST": "host",
    "AI_TELEMETRY_SMTP_PORT": "port",
    "AI_TELEMETRY_SMTP_USER": "username",
    "AI_TELEMETRY_SMTP_PASSWORD": "password",
    "AI_TELEMETRY_SMTP_STARTTLS": "starttls",
    "AI_TELEMETRY_SMTP_FROM": "from",
}
"""Environment variables for ``[notify.email]`` keys (they win over the config file)."""


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret (and every secret longer than 3 characters) replaced."""
    for secret in sorted((s for s in secrets if s and len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


class Notifier(Protocol):
    """Sends one alert somewhere. ``channel`` names it in the queue and in messages."""

    @property
    def channel(self) -> str:
        """``email`` or ``slack``."""
        ...

    def send(self, alert: Alert) -> None:
        """Send ``alert``; raise `AlertError` (with a message free of secrets) on failure."""
        ...


# --- e-mail -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """SMTP settings (``[notify.email]`` in config.toml, ``AI_TELEMETRY_SMTP_*``)."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    sender: str = "ai-telemetry@localhost"
    timeout: float = 10.0


def _environment() -> dict[str, str]:
    """``.env`` in the working directory under the process environment (as `load_settings`)."""
    env: dict[str, str] = {}
    text = read_settings_text(Path.cwd() / ".env", skip_directory=True)
    if text is not None:
        from io import StringIO

        from dotenv import dotenv_values

        env.update({k: v for k, v in dotenv_values(stream=StringIO(text)).items() if v is not None})
    env.update(os.environ)
    return env


def email_config(
    settings: Settings, *, environ: Mapping[str, str] | None = None
) -> EmailConfig | None:
    """The SMTP settings, or ``None`` when no host is configured.

    Raises:
        ConfigError: a port or starttls value is malformed.
    """
    notify = settings.extra.get("notify")
    section = notify.get("email") if isinstance(notify, Mapping) else None
    values: dict[str, Any] = dict(section) if isinstance(section, Mapping) else {}
    env = _environment() if environ is None else environ
    for var, key in SMTP_ENV.items():
        if env.get(var):
            values[key] = env[var]
    host = values.get("host")
    if not host:
        return None
    where = f"{settings.config_path} [notify.email] (or AI_TELEMETRY_SMTP_*)"
    try:
        port = int(values.get("port", 25))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: port = {values.get('port')!r} is not a number") from None
    starttls = values.get("starttls", False)
    if isinstance(starttls, str):
        if starttls.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"{where}: starttls = {starttls!r}; use true or false")
        starttls = starttls.lower() in ("true", "1", "yes")
    return EmailConfig(
        host=str(host),
        port=port,
        username=str(values["username"]) if values.get("username") else None,
        password=str(values["password"]) if values.get("password") else None,
        starttls=bool(starttls),
        sender=str(values.get("from") or "ai-telemetry@localhost"),
    )


class EmailNotifier:
    """E-mail to the tech lead over SMTP (STARTTLS and login when configured).

    Args:
        config: the SMTP server.
        to: the recipient (``Settings.alert_email``).
    """

    channel = "email"

    def __init__(self, config: EmailConfig, to: str) -> None:
        self.config = config
        self.to = to

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for ``alert``."""
        from ai_telemetry.report.escape import log_field

        msg = EmailMessage()
        # one header line: a newline in a name would otherwise fail the send (or fold a header)
        subject = log_field(
            f"[ai-telemetry] {alert.severity.upper()}: {alert.title} - {alert.subject}"
        )
        msg["Subject"] = subject
        msg["From"] = self.config.sender
        msg["To"] = self.to
        msg.set_content(
            "\n".join(alert.lines()) + "\n\n-- ai-telemetry (alerts.log has the full history)\n"
        )
        return msg

    def send(self, alert: Alert) -> None:
        """Send the e-mail.

        Raises:
            AlertError: the server is unreachable or refused; no secret in the message.
        """
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=c.timeout) as smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if c.username and c.password:
                    smtp.login(c.username, c.password)
                smtp.send_message(self.message(alert))
        except (OSError, smtplib.SMTPException) as exc:
            detail = scrub(str(exc), (c.password, c.username))
            raise AlertError(
                f"email to the tech lead via {c.host}:{c.port} failed: "
                f"{type(exc).__name__}: {detail}"
            ) from None


# --- Slack --------------------------------------------------------------------------------


def slack_payload(alert: Alert, *, footer: str, ts: int) -> dict[str, Any]:
    """The seed's Slack payload: one attachment coloured by severity.

    The text is Slack-escaped (`ai_telemetry.report.escape.slack_text`): data cannot add a
    ``<url|text>`` link or an ``@channel``/``<!channel>`` mention.
    """
    from ai_telemetry.report.escape import slack_text

    return {
        "attachments": [
            {
                "color": SLACK_COLORS[alert.severity],
                "title": f"AI Infrastructure Alert [{alert.severity.upper()}]",
                "text": slack_text(alert.message()),
                "footer": footer,
                "ts": ts,
            }
        ]
    }


class SlackNotifier:
    """A Slack incoming webhook.

    Args:
        webhook_url: the webhook (a secret: it is never logged).
        footer: the attachment footer.
        timeout: seconds per request.
        clock: the time source for ``ts``.
    """

    channel = "slack"

    def __init__(
        self,
        webhook_url: str,
        *,
        footer: str = "AI Infrastructure Telemetry",
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = webhook_url
        self.footer = footer
        self.timeout = timeout
        self.clock = clock

    def __repr__(self) -> str:
        return "SlackNotifier(webhook_url=[redacted])"

    def send(self, alert: Alert) -> None:
        """POST the payload.

        Raises:
            AlertError: no 2xx answer; the message has the status or error kind, never the URL.
        """
        import urllib.error
        import urllib.request

        body = orjson.dumps(slack_payload(alert, footer=self.footer, ts=int(self.clock())))
        request = urllib.request.Request(  # noqa: S310 - the URL is the user's configured webhook
            self._url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()  # the error holds the response; leaving it open leaks the socket
            raise AlertError(f"Slack webhook answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            detail = scrub(f"{type(exc).__name__}: {reason}", (self._url,))
            raise AlertError(f"Slack webhook unreachable ({detail})") from None


# --- retries and the queue ----------------------------------------------------------------


def deliver(
    notifier: Notifier,
    alert: Alert,
    *,
    attempts: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Send with retries (waiting ``backoff``, ``2 * backoff``, ...); the last error, or None."""
    error: str | None = None
    for attempt in range(attempts):
        try:
            notifier.send(alert)
            return None
        except AlertError as exc:
            error = str(exc)
        except Exception as exc:
            error = f"{notifier.channel} notifier failed: {type(exc).__name__}"
        if attempt < attempts - 1:
            sleep(backoff * 2**attempt)
    return error


@dataclass(frozen=True, slots=True)
class Queued:
    """A notification waiting for another try."""

    channel: str
    alert: Alert
    attempts: int
    queued_at: str
    last_error: str

    def to_json(self) -> dict[str, Any]:
        """One line of the queue file."""
        return {
            "channel": self.channel,
            "alert": self.alert.to_json(),
            "attempts": self.attempts,
            "queued_at": self.queued_at,
            "last_error": self.last_error,
        }


class NotifyQueue:
    """``notify-queue.jsonl``: notifications that failed, for the next run.

    Args:
        path: the queue file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, settings: Settings) -> NotifyQueue:
        """The queue of a telemetry directory."""
        return cls(settings.telemetry_dir / QUEUE_NAME)

    def load(self) -> list[Queued]:
        """Every queued notification (unreadable lines are skipped, never fatal)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise AlertError(f"{self.path}: cannot read the notification queue ({exc})") from None
        out = []
        for line in raw.splitlines():
            try:
                item = orjson.loads(line)
                out.append(
                    Queued(
                        channel=str(item["channel"]),
                        alert=Alert.from_json(item["alert"]),
                        attempts=int(item.get("attempts", 0)),
                        queued_at=str(item.get("queued_at", "")),
                        last_error=str(item.get("last_error", "")),
                    )
                )
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
        return out

    def save(self, items: list[Queued]) -> None:
        """Replace the queue atomically (an empty list removes the file)."""
        if not items:
            self.path.unlink(missing_ok=True)
            return
        from ai_telemetry.alert.store import _atomic_write

        self.path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.path, b"".join(orjson.dumps(i.to_json()) + b"\n" for i in items))
