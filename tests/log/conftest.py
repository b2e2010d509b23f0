"""Fixtures for the log tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def fresh_log(tmp_path: Path) -> Path:
    """Path of a log that does not exist yet, in its own directory."""
    return tmp_path / "telemetry" / "events.jsonl"
