"""Privacy guard (placeholder until the guard lands): allowlist only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ai_telemetry.config import PrivacyPolicy
from ai_telemetry.events.schema import fields_for


class PrivacyGuard:
    """Scrubs an event before it is written."""

    def __init__(self, *, policy: PrivacyPolicy = "redact") -> None:
        self.policy = policy

    def scrub(self, event: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """Return (clean event, number of values removed)."""
        allowed = fields_for(str(event.get("event_type", "")))
        out = {k: v for k, v in event.items() if k in allowed}
        removed = len(event) - len(out)
        if removed:
            out["redacted"] = removed + int(out.get("redacted", 0))
        return out, removed
