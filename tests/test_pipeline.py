"""The weekly job (`run_weekly`) and the demo that runs it on generated data."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ai_telemetry.alert.store import open_alerts
from ai_telemetry.cli import cli
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.log.sink import append_events
from ai_telemetry.pipeline import run_demo, run_weekly

END = "2025-12-29"
MONDAY = datetime(2025, 12, 29, tzinfo=UTC)


@pytest.fixture(scope="module")
def posts() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback HTTP server that records every POST (a webhook that must stay silent)."""
    seen: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/demo", seen
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, posts: tuple[str, list[bytes]]
) -> tuple[Path, list[str]]:
    """The 8-week demo, run once with a Slack webhook in the environment: (dir, output lines)."""
    directory = tmp_path_factory.mktemp("demo") / "ai-telemetry-demo"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AI_TELEMETRY_SLACK_WEBHOOK", posts[0])
        patch.setenv("AI_TELEMETRY_ALERT_EMAIL", "lead@example.com")
        patch.setenv("AI_TELEMETRY_SMTP_HOST", "127.0.0.1")
        lines = list(run_demo(directory, weeks=8, seed=7, end=END))
    return directory, lines


def test_demo_runs_every_weekly_step(demo: tuple[Path, list[str]]) -> None:
    """The demo's summary lists the seven steps and no failure."""
    _, lines = demo
    steps = [line.split()[1] for line in lines if line.startswith(("  ok", "  skipped"))]
    assert steps == ["collect", "aggregate", "detect", "dashboard", "notify", "push", "retention"]
    assert not any("FAILED" in line for line in lines)


def test_demo_alerts_on_the_last_weeks_anomalies(demo: tuple[Path, list[str]]) -> None:
    """The last week's injected Tool Call Loop and Context Saturation are open alerts."""
    directory, _ = demo
    settings = load_settings(telemetry_dir=directory, environ={})
    rules = {a["rule"] for a in open_alerts(settings)}
    assert {"tool_call_loop", "context_saturation"} <= rules
    assert "🚨 ANOMALY DETECTED 🚨" in settings.alerts_log.read_text(encoding="utf-8")


def test_demo_sends_nothing_even_with_channels_in_the_environment(
    demo: tuple[Path, list[str]], posts: tuple[str, list[bytes]]
) -> None:
    """A webhook in the environment is ignored by the demo: no request reaches it."""
    assert posts[1] == []


def test_weekly_again_opens_no_new_alerts(demo: tuple[Path, list[str]]) -> None:
    """Rerunning the week: the alerts are still open, none is opened or logged again."""
    directory, _ = demo
    settings = load_settings(telemetry_dir=directory, environ={})
    before = settings.alerts_log.read_text(encoding="utf-8")
    run = run_weekly(settings, now=MONDAY, learnings_dir=None, notifiers={})
    assert (run.ok, run.opened, run.open_total > 0) == (True, [], True)
    assert settings.alerts_log.read_text(encoding="utf-8") == before


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    """A telemetry directory with a handful of events in the last week."""
    settings = load_settings(telemetry_dir=tmp_path / "t", environ={}, cwd=tmp_path)
    events = [
        {
            "timestamp": f"2025-12-2{d}T10:00:00Z",
            "event_type": "skill_execution",
            "skill": "test-writer",
            "outcome": "success",
            "duration_seconds": 30.0,
        }
        for d in range(2, 7)
    ]
    append_events(events, settings=settings)
    return settings


def test_failed_step_is_reported_and_the_rest_still_run(small: Settings, tmp_path: Path) -> None:
    """A broken learning entry fails the collect step; the other steps still run."""
    history = tmp_path / "History"
    history.mkdir()
    (history / "LEARN-2025-001.md").write_text("no front matter here\n")
    run = run_weekly(small, now=MONDAY, learnings_dir=history, notifiers={})
    status = {step.name: step.status for step in run.steps}
    assert status == {
        "collect": "failed",
        "aggregate": "ok",
        "detect": "ok",
        "dashboard": status["dashboard"],
        "notify": "ok",
        "push": "skipped",
        "retention": "ok",
    }
    assert not run.ok
    assert small.metrics_path.exists()


def test_weekly_cli_exits_non_zero_when_a_step_failed(
    small: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ai-telemetry weekly` prints the summary and exits 1 after a failed step."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AI_TELEMETRY_DIR", str(small.telemetry_dir))
    for var in ("AI_TELEMETRY_SLACK_WEBHOOK", "AI_TELEMETRY_ALERT_EMAIL", "AI_TELEMETRY_LOG_PATH"):
        monkeypatch.delenv(var, raising=False)
    history = tmp_path / "History"
    history.mkdir()
    (history / "LEARN-2025-001.md").write_text("broken\n")
    result = CliRunner().invoke(cli, ["weekly", "--learnings", str(history), "--no-retention"])
    assert result.exit_code == 1
    assert "FAILED  collect" in result.stdout
    assert "weekly summary:" in result.stdout
