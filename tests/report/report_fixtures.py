"""Shared values of the report tests (imported by name, so it has a name no other test folder
uses; conftest.py itself is never imported by name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_telemetry.config import Settings

DEMO_END = "2025-12-29"
"""The demo's last day (exclusive): its 12 weeks run 2025-10-06 to 2025-12-28."""
WINDOW_START = datetime(2025, 12, 22, tzinfo=UTC)
WINDOW_END = datetime(2025, 12, 29, tzinfo=UTC)
"""The frozen clock: the last complete ISO week of the demo, and its end."""
GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class DemoWeek:
    """The demo telemetry directory, its metrics.json for the last week, and its history."""

    settings: Settings
    metrics_path: Path
    document: dict[str, Any]
    history: dict[tuple[str, str], list[tuple[Any, float | None]]]
