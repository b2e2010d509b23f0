"""``ai-telemetry detect`` and ``ai-telemetry gate`` in-process through click."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from alert_helpers import Webhook
from click.testing import CliRunner, Result

from ai_telemetry.cli import cli

METRICS = {
    "schema_version": 1,
    "window": {"start": "2025-12-22T00:00:00Z", "end": "2025-12-29T00:00:00Z"},
    "metrics": {
        "skill_error_rate": {"acgme-compliance": 0.3},
        "skill_invocation_total": {"acgme-compliance": 20},
        "agent_tool_call_count": {"implementer": {"max": 64}},
        "learning_entries_per_week": 9.0,
    },
}


@pytest.fixture
def telemetry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A telemetry directory chosen by AI_TELEMETRY_DIR, with a metrics.json that breaks rules."""
    monkeypatch.chdir(tmp_path)
    for var in ("AI_TELEMETRY_SLACK_WEBHOOK", "AI_TELEMETRY_ALERT_EMAIL", "AI_TELEMETRY_LOG_PATH"):
        monkeypatch.delenv(var, raising=False)
    directory = tmp_path / "telemetry"
    directory.mkdir()
    monkeypatch.setenv("AI_TELEMETRY_DIR", str(directory))
    (directory / "metrics.json").write_bytes(orjson.dumps(METRICS))
    return directory


def run(*args: str) -> Result:
    """Invoke the CLI in-process."""
    return CliRunner().invoke(cli, list(args))


def test_detect_prints_and_logs_alerts_in_the_seed_format(telemetry: Path) -> None:
    """New alerts are printed and appended to alerts.log in the seed's format."""
    result = run("detect", "--metrics", str(telemetry / "metrics.json"), "--alert-threshold", "2")
    assert result.exit_code == 0, result.output
    assert "🚨 ANOMALY DETECTED 🚨" in result.stdout
    log = (telemetry / "alerts.log").read_text(encoding="utf-8")
    assert "Metric: agent_tool_call_count.max (implementer)" in log
    assert "Metric: skill_error_rate (acgme-compliance)" in log


def test_second_detect_run_adds_nothing(telemetry: Path) -> None:
    """Run twice on the same metrics: the second run opens nothing new."""
    run("detect")
    before = (telemetry / "alerts.log").read_text(encoding="utf-8")
    result = run("detect")
    assert "0 new, 2 still open" in result.stderr
    assert (telemetry / "alerts.log").read_text(encoding="utf-8") == before


def test_detect_json_lists_every_condition(telemetry: Path) -> None:
    """--json prints one document: every alert that holds, and the ids this run opened."""
    result = run("detect", "--json", "--no-notify")
    document = orjson.loads(result.stdout)
    rules = sorted(alert["rule"] for alert in document["alerts"])
    assert rules == ["skill_error_spike", "tool_call_loop"]
    assert sorted(a["id"] for a in document["alerts"]) == sorted(document["opened"])
    assert document["notifications"] is None


def test_detect_without_metrics_is_a_one_line_error(telemetry: Path) -> None:
    """A missing metrics.json: exit 1 and a message saying to run aggregate, no traceback."""
    result = run("detect", "--metrics", str(telemetry / "nope.json"))
    assert result.exit_code == 1
    assert "run `ai-telemetry aggregate` first" in result.stderr
    assert "Traceback" not in result.output


def test_gate_fails_while_a_critical_alert_is_open(telemetry: Path) -> None:
    """After the Tool Call Loop alert opens, gate exits 1 and prints why."""
    run("detect", "--no-notify")
    result = run("gate")
    assert result.exit_code == 1
    assert "CLOSED" in result.stdout
    assert "Tool Call Loop [tool_call_loop]" in result.stdout


def test_gate_passes_with_no_alerts(telemetry: Path) -> None:
    """With nothing open, gate exits 0."""
    result = run("gate")
    assert (result.exit_code, result.stdout.startswith("gate: open")) == (0, True)


def test_failing_webhook_secret_stays_out_of_stderr_log_and_queue(
    telemetry: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack answering 500: detect still exits 0, and the webhook token is nowhere."""
    webhook.statuses = [500] * 3
    monkeypatch.setenv("AI_TELEMETRY_SLACK_WEBHOOK", webhook.url)
    result = run("detect")
    assert result.exit_code == 0
    assert "notification failed: slack" in result.stderr
    written = (telemetry / "alerts.log").read_text(encoding="utf-8")
    written += (telemetry / "notify-queue.jsonl").read_text(encoding="utf-8")
    assert "SECRETtoken123456" not in result.output + result.stderr + written


def test_alerts_of_rules_that_could_not_be_checked_stay_open(telemetry: Path) -> None:
    """With the warehouse damaged, the history-based rules cannot run: their open alerts stay
    open (nothing showed they are over), while the plain rules are judged as usual."""
    from alert_helpers import make_alert

    from ai_telemetry.alert.store import open_alerts, record_alerts
    from ai_telemetry.config import load_settings

    settings = load_settings()
    anomaly = make_alert("anomaly", metric="skill_duration_seconds.p50", key="dbg", value=375)
    stale = make_alert("context_saturation", metric="context_window_utilization.p95", key=None)
    record_alerts(settings, [anomaly, stale])
    (telemetry / "warehouse.duckdb").write_bytes(b"not a database" * 100)
    result = run("detect", "--no-notify")
    assert "no weekly history" in result.stderr
    rules = sorted(a["rule"] for a in open_alerts(settings))
    assert ["anomaly", "skill_error_spike", "tool_call_loop"] == rules
    assert "resolved: Context Saturation" in result.stdout
