"""The read API answers with the very documents of the read commands' --json."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from serve_test_helpers import Server, recent, running_server, skill_event

START = (datetime.now(UTC) - timedelta(days=6)).strftime("%Y-%m-%d")
END = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")


def _events() -> list[dict[str, Any]]:
    events = []
    for n in range(60):
        skill = ("tdd", "debugger", "reviewer")[n % 3]
        outcome = "error" if n % 5 == 0 else "success"
        events.append(
            skill_event(
                n,
                event_id=str(uuid.uuid4()),
                skill=skill,
                outcome=outcome,
                timestamp=recent(1 + n),
            )
        )
    return events


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("api") / "Telemetry"
    with running_server(directory) as running:
        assert 60 == running.post_events(_events())["accepted"]
        yield running


def _cli(directory: Path, *args: str) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", *args, "--json"],
        env={**os.environ, "AI_TELEMETRY_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert 0 == proc.returncode, proc.stderr
    return orjson.loads(proc.stdout)


def _get(server: Server, path: str, role: str = "program_director") -> Any:
    status, _, data = server.request("GET", path, token=server.tokens[role], timeout=300)
    assert 200 == status, data
    return orjson.loads(data)


def _without(document: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in keys}


def test_metrics_is_the_aggregate_document_with_metrics_json(
    server: Server, tmp_path: Path
) -> None:
    """/api/metrics?start=&end= is aggregate --json, and its metrics are metrics.json's."""
    target = tmp_path / "metrics.json"
    cli = _cli(
        server.directory, "aggregate", "--start", START, "--end", END, "--output", str(target)
    )
    api = _get(server, f"/api/metrics?start={START}&end={END}")
    assert _without(cli, "output") == _without(api, "output", "metrics")
    written = orjson.loads(target.read_bytes())
    assert _without(written, "generated_at") == _without(api["metrics"], "generated_at")


def test_top_is_top_json(server: Server) -> None:
    """/api/top/skills?days= has the rows of top skills --days --json."""
    cli = _cli(server.directory, "top", "skills", "--days", "7")
    api = _get(server, "/api/top/skills?days=7")
    assert _without(cli, "window") == _without(api, "window")
    assert ["tdd", "debugger", "reviewer"] == sorted(
        (r["name"] for r in api["rows"]), key=["tdd", "debugger", "reviewer"].index
    )


def test_trend_is_trend_json(server: Server) -> None:
    """/api/trend/{metric} is trend METRIC --json."""
    cli = _cli(server.directory, "trend", "skill_success_rate", "--key", "tdd")
    api = _get(server, "/api/trend/skill_success_rate?key=tdd")
    assert cli == api


def test_alerts_is_status_json(server: Server) -> None:
    """/api/alerts?live=true is status --json over the log."""
    cli = _cli(server.directory, "status")
    api = _get(server, "/api/alerts?live=true", role="tech_lead")
    assert set(cli) == set(api)
    assert cli.get("alerts") == api.get("alerts")


def test_bad_arguments_are_400_or_404(server: Server) -> None:
    """A bad kind, number or metric is a one-line client error, never a 5xx."""
    token = server.tokens["meta_updater"]
    assert 404 == server.request("GET", "/api/top/people", token=token)[0]
    assert 400 == server.request("GET", "/api/top/skills?days=zero", token=token)[0]
    assert 400 == server.request("GET", "/api/top/skills?days=0", token=token)[0]
    status, _, data = server.request("GET", "/api/trend/x?weeks=9999", token=token)
    assert 400 == status
    assert "weeks" in orjson.loads(data)["error"]
    status, _, _ = server.request("GET", "/api/metrics?start=yesterday", token=token)
    assert 400 == status
