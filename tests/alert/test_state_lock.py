"""The alert state lock is waited for a bounded time, and the error names the holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_helpers import make_alert

from ai_telemetry.alert.store import STATE_LOCK_TIMEOUT, record_alerts, state_lock_path
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.errors import AlertError

CLI = str(Path(sys.executable).with_name("ai-telemetry"))
HOLDER = (
    "import sys, time\n"
    "from ai_telemetry.alert.store import state_lock\n"
    "from ai_telemetry.config import load_settings\n"
    "with state_lock(load_settings(telemetry_dir=sys.argv[1], environ={})):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(600)\n"
)
METRICS = b'{"window": {"start": "2025-12-22T00:00:00Z", "end": "2025-12-29T00:00:00Z"}}'


@pytest.fixture
def holder(settings: Settings) -> Iterator[subprocess.Popen[str]]:
    """Another process inside `state_lock` until the test ends (a stuck detection run)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(settings.telemetry_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert "held" == proc.stdout.readline().strip()
    yield proc
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.stdout.close()


def test_held_state_lock_is_a_bounded_one_line_error(
    settings: Settings, holder: subprocess.Popen[str]
) -> None:
    """record_alerts gives up after its timeout, naming the lock file and the holder's pid."""
    began = time.monotonic()
    with pytest.raises(AlertError) as caught:
        record_alerts(settings, [make_alert()], lock_timeout=0.3)
    took = time.monotonic() - began
    message = str(caught.value)
    assert 0.3 <= took < 2, took
    assert message.startswith(f"{state_lock_path(settings)}: still locked after 0.3 s by ")
    assert f"pid {holder.pid} (python" in message, message
    assert "\n" not in message
    assert not settings.alerts_log.exists()  # nothing half-done


def test_detect_cli_under_a_held_lock_exits_with_one_line(
    settings: Settings, holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    """`ai-telemetry detect` says who holds the lock and exits non-zero, within the timeout."""
    metrics = tmp_path / "metrics.json"
    metrics.write_bytes(METRICS)
    env = {**os.environ, "AI_TELEMETRY_DIR": str(settings.telemetry_dir)}
    began = time.monotonic()
    proc = subprocess.run(
        [CLI, "detect", "--metrics", str(metrics), "--no-notify"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    took = time.monotonic() - began
    assert STATE_LOCK_TIMEOUT <= took < STATE_LOCK_TIMEOUT + 5, took
    assert (1, 1) == (proc.returncode, len(proc.stderr.splitlines())), proc.stderr
    assert f"{state_lock_path(settings)}: still locked after" in proc.stderr
    assert f"by pid {holder.pid}" in proc.stderr


def test_lock_is_taken_again_once_free(settings: Settings, tmp_path: Path) -> None:
    """A holder that exits releases the lock: the next run records its alert."""
    proc = subprocess.run(
        [sys.executable, "-c", HOLDER.replace("time.sleep(600)", "pass"), str(tmp_path / "t")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "held" in proc.stdout
    other = load_settings(telemetry_dir=tmp_path / "t", environ={}, cwd=tmp_path)
    assert 1 == len(record_alerts(other, [make_alert()], lock_timeout=0.3).opened)
