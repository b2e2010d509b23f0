"""The one way into the log: scrub, validate, serialise, append.

Every collector, the SDK and the CLI write through `LogSink`, so the privacy guard runs before
anything reaches disk, wherever the event came from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ai_telemetry.config import Settings
from ai_telemetry.errors import EventValidationError, PrivacyViolation
from ai_telemetry.events.privacy import PrivacyGuard
from ai_telemetry.events.schema import validate_event
from ai_telemetry.log.writer import EventLog


@dataclass(slots=True)
class WriteReport:
    """What one `LogSink.write` call did."""

    written: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    """(index in the batch, one-line reason) for each event not written."""
    unknown_types: Counter[str] = field(default_factory=Counter)
    redacted: int = 0


class LogSink:
    """Scrubs, validates and appends events to one log.

    Args:
        settings: where the log is, the privacy policy, the durability mode, the project.
        source: default ``source`` stamped on events that carry none (``sdk``, ``hook``, ...).
    """

    def __init__(self, settings: Settings, *, source: str | None = None) -> None:
        self.settings = settings
        self.guard = PrivacyGuard(policy=settings.privacy_policy)
        self.log = EventLog(settings.log_path, fsync=settings.durability == "fsync")
        self._defaults: dict[str, str] = {}
        if source:
            self._defaults["source"] = source
        if settings.project:
            self._defaults["project"] = settings.project

    def prepare(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], bool, int]:
        """Scrub then validate one event: (event, is_unknown_type, values removed).

        Raises:
            PrivacyViolation: policy ``reject`` and the event carries personal data or a secret.
            EventValidationError: the event breaks the contract.
        """
        if self._defaults and not str(raw.get("event_type", "")).startswith("learning_"):
            raw = {**self._defaults, **raw}
        elif "project" in self._defaults:
            raw = {"project": self._defaults["project"], **raw}
        clean, removed = self.guard.scrub(raw)
        checked = validate_event(clean)
        return checked.event, checked.unknown_type, removed

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteReport:
        """Append every acceptable event in one locked write; report the rest.

        Raises:
            LogError: the log cannot be written; nothing of this batch was acknowledged.
        """
        report = WriteReport()
        lines: list[bytes] = []
        for index, raw in enumerate(events):
            try:
                event, unknown, removed = self.prepare(raw)
            except (EventValidationError, PrivacyViolation) as exc:
                report.rejected.append((index, str(exc)))
                continue
            if unknown:
                report.unknown_types[event["event_type"]] += 1
            report.redacted += removed
            lines.append(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))
        if lines:
            self.log.write_lines(b"".join(lines))
        report.written = len(lines)
        return report

    def close(self) -> None:
        self.log.close()


def append_events(
    events: Iterable[Mapping[str, Any]], *, settings: Settings, source: str | None = None
) -> WriteReport:
    """Write a batch of events through a fresh sink (tool-side convenience)."""
    sink = LogSink(settings, source=source)
    try:
        return sink.write(events)
    finally:
        sink.close()
