"""Shared fixtures for the report tests: the demo data, built once per session."""

from __future__ import annotations

import pytest
from report_fixtures import DEMO_END, WINDOW_END, WINDOW_START, DemoWeek

from ai_telemetry.config import load_settings


@pytest.fixture(scope="session")
def demo_week(tmp_path_factory: pytest.TempPathFactory) -> DemoWeek:
    """12 weeks of seeded demo events, aggregated for the week of 2025-12-22 (frozen clock)."""
    from ai_telemetry.analyze.metrics import compute_metrics, write_metrics_json
    from ai_telemetry.analyze.window import Window
    from ai_telemetry.pipeline import run_demo
    from ai_telemetry.report.weekly import load_history

    directory = tmp_path_factory.mktemp("dash") / "telemetry"
    for _ in run_demo(directory, weeks=12, seed=42, end=DEMO_END):
        pass
    settings = load_settings(telemetry_dir=directory, environ={})
    window = Window(WINDOW_START, WINDOW_END)
    document = compute_metrics(window, settings=settings, now=WINDOW_END, progress=False)
    metrics_path = directory / "metrics.json"
    write_metrics_json(document, metrics_path)
    history = load_history(settings, now=WINDOW_END)
    return DemoWeek(settings, metrics_path, document, history)
