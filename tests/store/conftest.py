"""Fixtures for the warehouse and retention tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_telemetry.config import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a fresh telemetry directory (also exported for subprocesses)."""
    directory = tmp_path / "Telemetry"
    monkeypatch.setenv("AI_TELEMETRY_DIR", str(directory))
    return load_settings(environ={}, cwd=tmp_path, telemetry_dir=directory)
