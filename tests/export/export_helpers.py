"""Helpers of the export tests: a small event set, waiting on real server processes.

The servers are Debian's ``prometheus`` and ``prometheus-pushgateway`` (``.ci/run`` installs
them). A missing binary fails the test that needs it, loudly: it is never skipped.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ai_telemetry.config import Settings

FROZEN = datetime(2025, 12, 24, 12, 0, tzinfo=UTC)
"""The frozen clock: Wednesday of ISO week 2025-W52 (Monday 2025-12-22)."""


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sample_events(week_start: datetime) -> list[dict[str, Any]]:
    """A deterministic log: a week before ``week_start`` and the week itself, every kind of
    event the catalogue reads, two projects, event ids fixed (the golden file depends on them).
    """
    events: list[dict[str, Any]] = []

    def add(offset_minutes: float, event_type: str, **fields: Any) -> None:
        n = len(events)
        moment = week_start + timedelta(minutes=offset_minutes)
        events.append(
            {
                "timestamp": iso(moment),
                "event_type": event_type,
                "event_id": f"0190{n:028d}",
                **fields,
            }
        )

    for base, week in ((-7 * 24 * 60, "before"), (60, "this")):
        for i in range(6):
            project = "alpha" if i % 2 else "beta"
            outcome = "error" if i in (1, 4) else ("rollback" if i == 5 else "success")
            skill = "systematic-debugger" if i < 4 else "code-review"
            session = f"s-{week}-{i}"
            add(
                base + i * 10,
                "skill_execution",
                skill=skill,
                outcome="started",
                session_id=session,
                project=project,
                context_tokens=1000 * (i + 1),
            )
            add(
                base + i * 10 + 3,
                "skill_execution",
                skill=skill,
                outcome=outcome,
                session_id=session,
                project=project,
                duration_seconds=30.0 * (i + 1),
            )
        add(
            base + 70,
            "skill_execution",
            skill="test-writer",
            outcome="started",
            session_id=f"s-{week}-open",
            project="alpha",
        )
        for i in range(4):
            outcome = ["success", "success", "handoff", "rollback"][i]
            add(
                base + 80 + i,
                "agent_task",
                agent="backend-dev",
                agent_type="impl",
                outcome=outcome,
                duration_seconds=120.0 * (i + 1),
                tool_calls=10 * (i + 1),
                project="alpha",
            )
        for i in range(5):
            add(
                base + 90 + i,
                "tool_call",
                tool="Read" if i < 3 else "mcp__github__search",
                outcome="error" if i == 4 else "success",
                duration_seconds=0.5 + i,
                mcp_server="github" if i >= 3 else None,
                project="beta",
            )
        add(
            base + 100,
            "llm_request",
            model="claude-sonnet-4",
            input_tokens=1200,
            output_tokens=300,
            cache_creation_input_tokens=100,
            cache_read_input_tokens=4000,
            request_id=f"req-{week}-1",
            skill="systematic-debugger",
            agent="backend-dev",
            cost_usd=0.0125,
            project="alpha",
        )
        add(
            base + 101,
            "llm_request",
            model="claude-haiku-4",
            input_tokens=800,
            output_tokens=100,
            cache_creation_input_tokens=0,
            cache_read_input_tokens=1000,
            request_id=f"req-{week}-2",
            cost_usd=0.002,
            project="beta",
        )
        add(
            base + 110,
            "context_snapshot",
            context_tokens=150_000,
            context_window=200_000,
            project="alpha",
        )
        add(
            base + 111,
            "context_snapshot",
            context_tokens=190_000,
            context_window=200_000,
            project="alpha",
        )
        add(base + 120, "session_start", session_id=f"sess-{week}", project="alpha")
        add(
            base + 150,
            "session_end",
            session_id=f"sess-{week}",
            duration_seconds=1800.0,
            project="alpha",
        )
        add(base + 121, "skill_load", skill="code-review", duration_seconds=0.25, project="alpha")
        add(
            base + 130,
            "learning_created",
            id=f"LEARN-2025-{week == 'this':03d}",
            severity="warning" if week == "this" else "critical",
            source="incident",
            skill="code-review",
            project="alpha",
        )
        add(
            base + 140,
            "incident_opened",
            incident_id=f"INC-{week}",
            severity="critical",
            root_cause="timezone-handling",
            project="beta",
        )
        add(base + 200, "incident_resolved", incident_id=f"INC-{week}", project="beta")
        add(
            base + 160,
            "test_coverage",
            coverage_percent=80.0 if week == "before" else 76.5,
            project="alpha",
        )
        add(
            base + 161,
            "ci_build",
            outcome="failed" if week == "this" else "passed",
            failed_tests=1,
            project="alpha",
        )
        add(base + 162, "lint_report", lint_errors=3, project="alpha")
        add(base + 163, "type_coverage", type_coverage_percent=91.0, project="alpha")
        add(base + 164, "doc_coverage", doc_coverage_percent=70.0, project="alpha")
        add(base + 165, "security_scan", open_findings=2, resolved_findings=1, project="beta")
        add(base + 166, "tool_call_limit_reached", limit=50, tool_calls=51, project="alpha")
    add(30, "learning_implemented", id="LEARN-2025-000", pr=12, project="alpha")
    return events


def write_events(settings: Settings, events: list[dict[str, Any]]) -> None:
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    with settings.log_path.open("ab") as fh:
        for event in events:
            fh.write(orjson.dumps({k: v for k, v in event.items() if v is not None}) + b"\n")


def week_start_of(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


# --- real servers -------------------------------------------------------------------------


def need_binary(name: str) -> str:
    """The binary's path; fails (never skips) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed; run `apt-get install -y prometheus prometheus-pushgateway` "
            "(.ci/run does)"
        )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        exc.close()  # its response would be left open
        raise RuntimeError(f"{url}: HTTP {exc.code}") from None


def wait_until(what: str, check: Any, timeout: float = 30.0, process: Any = None) -> Any:
    """Poll ``check()`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited with {process.returncode} (log in tmp_path)")
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what} (last error: {last})")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


@dataclass
class Prometheus:
    url: str
    rules: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        q = urllib.parse.urlencode({"query": expr})
        body = json.loads(http_get(f"{self.url}/api/v1/query?{q}"))
        assert "success" == body["status"], body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


@dataclass
class Pushgateway:
    url: str

    def metrics(self) -> str:
        return http_get(f"{self.url}/metrics").decode()
