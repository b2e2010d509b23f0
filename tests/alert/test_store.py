"""alerts.log and alerts-state.json: opened once, not repeated while open, resolved once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from alert_helpers import make_alert

from ai_telemetry.alert.store import open_alerts, record_alerts, state_path
from ai_telemetry.config import Settings
from ai_telemetry.errors import AlertError

MONDAY = datetime(2025, 12, 29, 9, tzinfo=UTC)
NEXT = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_opened_alert_is_logged_in_the_seed_format(settings: Settings) -> None:
    """A new alert is appended to alerts.log with the seed's lines in the seed's order."""
    record_alerts(settings, [make_alert()], now=MONDAY)
    text = settings.alerts_log.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "🚨 ANOMALY DETECTED 🚨"
    order = ["Metric:", "Current Value:", "Threshold:", "Analysis:", "Action:"]
    positions = [next(i for i, ln in enumerate(lines) if ln.startswith(p)) for p in order]
    assert positions == sorted(positions)
    assert "Metric: skill_error_rate (acgme-compliance)" in lines
    assert "Time: 2025-12-29T09:00:00Z" in lines


def test_alert_still_open_is_not_logged_again(settings: Settings) -> None:
    """Detecting the same alert on the next run adds nothing to alerts.log."""
    record_alerts(settings, [make_alert()], now=MONDAY)
    before = settings.alerts_log.read_text(encoding="utf-8")
    changes = record_alerts(settings, [make_alert(value=0.4)], now=NEXT)
    assert (len(changes.opened), len(changes.still_open)) == (0, 1)
    assert settings.alerts_log.read_text(encoding="utf-8") == before


def test_still_open_alert_keeps_its_opening_time_and_takes_the_new_value(
    settings: Settings,
) -> None:
    """open_alerts shows the first opening time and the latest value."""
    record_alerts(settings, [make_alert()], now=MONDAY)
    record_alerts(settings, [make_alert(value=0.4)], now=NEXT)
    [alert] = open_alerts(settings)
    assert (alert["opened"], alert["value"], alert["last_seen"]) == (
        "2025-12-29T09:00:00Z",
        0.4,
        "2026-01-05T09:00:00Z",
    )


def test_alert_that_no_longer_holds_is_resolved_and_logged(settings: Settings) -> None:
    """An open alert absent from a run is logged RESOLVED, with the metric's current value."""
    record_alerts(settings, [make_alert()], now=MONDAY)
    metrics = {"metrics": {"skill_error_rate": {"acgme-compliance": 0.04}}}
    changes = record_alerts(settings, [], now=NEXT, metrics=metrics)
    text = settings.alerts_log.read_text(encoding="utf-8")
    assert [a.rule for a in changes.resolved] == ["skill_error_spike"]
    assert "✅ RESOLVED\nTime: 2026-01-05T09:00:00Z" in text
    assert "Current Value: 4.0%" in text
    assert open_alerts(settings) == []


def test_resolved_alert_opens_again_when_it_comes_back(settings: Settings) -> None:
    """After resolving, the same condition is a new alert with a new opening time."""
    record_alerts(settings, [make_alert()], now=MONDAY)
    record_alerts(settings, [], now=NEXT)
    later = datetime(2026, 1, 12, 9, tzinfo=UTC)
    changes = record_alerts(settings, [make_alert()], now=later)
    assert [a.opened for a in changes.opened] == ["2026-01-12T09:00:00Z"]
    assert settings.alerts_log.read_text(encoding="utf-8").count("ANOMALY DETECTED") == 2


def test_open_alerts_has_the_fields_the_dashboard_reads(settings: Settings) -> None:
    """Each open alert has the fields the dashboard reads (severity ... opened, rule)."""
    record_alerts(settings, [make_alert()], now=MONDAY)
    [alert] = open_alerts(settings)
    wanted = {"severity", "metric", "key", "value", "threshold", "analysis", "action", "opened"}
    assert wanted | {"rule"} <= set(alert)
    assert (alert["severity"], alert["key"], alert["threshold"]) == (
        "warning",
        "acgme-compliance",
        0.1,
    )


def test_open_alerts_lists_critical_first(settings: Settings) -> None:
    """Open alerts come most severe first."""
    alerts = [
        make_alert("context_saturation", severity="info", key=None),
        make_alert("tool_call_loop", severity="critical", key="implementer"),
        make_alert(),
    ]
    record_alerts(settings, alerts, now=MONDAY)
    assert [a["severity"] for a in open_alerts(settings)] == ["critical", "warning", "info"]


def test_state_file_is_json_with_the_open_alerts(settings: Settings) -> None:
    """alerts-state.json holds the open alerts by id, machine-readable."""
    record_alerts(settings, [make_alert()], now=MONDAY)
    state = orjson.loads(state_path(settings).read_bytes())
    assert [a["id"] for a in state["open"]] == [
        "skill_error_spike|skill_error_rate|acgme-compliance"
    ]


def test_unreadable_state_is_an_error_that_says_how_to_recover(settings: Settings) -> None:
    """A corrupt state file raises AlertError naming the file and the fix."""
    state_path(settings).parent.mkdir(parents=True)
    state_path(settings).write_text("{not json")
    with pytest.raises(AlertError, match=r"alerts-state\.json.*move it aside"):
        open_alerts(settings)


def test_no_state_means_no_open_alerts(settings: Settings) -> None:
    """Before any detection run there are no open alerts (and no error)."""
    assert open_alerts(settings) == []


def test_concurrent_runs_log_an_alert_once(settings: Settings) -> None:
    """Four processes recording the same new alert at once: one entry, thanks to the lock."""
    import subprocess
    import sys

    code = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from alert_helpers import make_alert;"
        "from ai_telemetry.alert.store import record_alerts;"
        "from ai_telemetry.config import load_settings;"
        "from pathlib import Path;"
        "s = load_settings(telemetry_dir=Path(sys.argv[1]), environ={});"
        "record_alerts(s, [make_alert()])"
    )
    here = str(Path(__file__).parent)
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(settings.telemetry_dir), here])
        for _ in range(4)
    ]
    assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
    assert settings.alerts_log.read_text(encoding="utf-8").count("ANOMALY DETECTED") == 1
