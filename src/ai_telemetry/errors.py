"""One exception tree for tool-side code (CLI, aggregation, server).

Code that runs inside someone else's process (the SDK, decorators, Claude Code and git hooks)
never raises these into the host: it records the failure and returns. Tool-side code raises
them, and the CLI turns each into a one-line message and a non-zero exit.

    AITelemetryError
    ├── ConfigError              a setting or config file is wrong
    ├── EventValidationError     an event breaks the contract (field, value, why, how to fix)
    ├── PrivacyViolation         policy "reject" met personal data or a secret
    ├── LogError                 the events.jsonl log cannot be written or read
    │   └── LogLockTimeout       another process held the writers' lock too long
    ├── CollectorError           a collector's input is broken or of the wrong kind
    │   └── ReportFormatError    a CI report file is not what its option says
    ├── AnalyticsError           the warehouse or a metric query failed
    │   ├── NoDataError          a window holds no events
    │   └── QueryRefusedError    ``query`` SQL tried to reach outside the warehouse
    ├── AlertError               a rule, notifier or escalation step failed
    └── ExportError              an export target (Pushgateway, output file) failed
        └── ShipError            a server refused the shipped events (token, URL, bad batch)
"""

from __future__ import annotations


class AITelemetryError(Exception):
    """Base of every error ai-telemetry raises on purpose.

    Args:
        message: what was wrong, where, and how to fix it, in one sentence.
    """

    exit_code: int = 1


class ConfigError(AITelemetryError):
    """A setting, environment variable or config file is wrong."""

    exit_code = 2


class EventValidationError(AITelemetryError):
    """An event breaks the contract of METRICS.md.

    Attributes:
        field: the offending field, or "" for the event as a whole.
        reason: why it is wrong.
        hint: how to fix it.
    """

    def __init__(self, field: str, reason: str, hint: str = "") -> None:
        self.field = field
        self.reason = reason
        self.hint = hint
        where = f"{field}: " if field else ""
        super().__init__(f"{where}{reason}" + (f"; {hint}" if hint else ""))


class PrivacyViolation(AITelemetryError):
    """Policy "reject" found personal data or a secret. The value itself is never in the message."""


class LogError(AITelemetryError):
    """The events.jsonl log cannot be written or read."""


class LogLockTimeout(LogError):
    """Another process held the log's writers' lock longer than the writer would wait."""


class CollectorError(AITelemetryError):
    """A collector's input is broken or of the wrong kind."""


class ReportFormatError(CollectorError):
    """A CI report file is not of the kind its option says, or is broken."""


class AnalyticsError(AITelemetryError):
    """The warehouse or a metric query failed."""


class NoDataError(AnalyticsError):
    """A window holds no events."""


class QueryRefusedError(AnalyticsError):
    """SQL given to ``query`` tried to reach outside the warehouse's tables: read or write a
    file (``read_csv``, ``COPY ... TO``), ``ATTACH`` a database, ``INSTALL``/``LOAD`` an
    extension, or change a setting (``SET``). The query connection refuses all of them."""


class AlertError(AITelemetryError):
    """A rule, notifier or escalation step failed."""


class ExportError(AITelemetryError):
    """An export target failed: a Pushgateway refused or was unreachable, a file not writable."""


class ShipError(ExportError):
    """A server refused events for good: a wrong token or URL, a batch it cannot take.

    Network failures and overload (5xx, 429) are not this: the sender retries those.
    """
