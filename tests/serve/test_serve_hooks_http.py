"""Claude Code http hooks: `claude-code install --http-hooks`, POST /v1/hooks/claude-code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from serve_test_helpers import Server, running_server

from ai_telemetry.collect.claude_code.hook import run_hook

CLI = [sys.executable, "-m", "ai_telemetry"]
HOOK = "/v1/hooks/claude-code"


def payload(event: str, tool: str = "Read", n: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "session_id": "sess-http",
        "hook_event_name": event,
        "tool_name": tool,
        "tool_use_id": f"toolu_{tool}_{n}",
        "tool_input": {"file_path": "/home/ana/secret.py"},
        "tool_response": {"type": "text"},
        **extra,
    }


def post(server: Server, body: dict[str, Any], role: str = "collector") -> tuple[int, bytes]:
    status, _, data = server.request(
        "POST",
        HOOK,
        json.dumps(body).encode(),
        token=server.tokens[role],
        headers={"Content-Type": "application/json"},
    )
    return status, data


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("AI_TELEMETRY_TOOL_CALL_LIMIT", "2")  # the server's kill switch
    with running_server(tmp_path / "telemetry") as srv:
        yield srv


def shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((e["event_type"], e.get("tool"), e.get("outcome")) for e in events)


def test_a_hook_payload_is_mapped_as_the_command_hook_maps_it(
    server: Server, tmp_path: Path
) -> None:
    """Pre then Post: an empty 200 each; the server's events are those `ai-telemetry hook`
    writes for the same payloads, with the token's name as source."""
    calls = [payload("PreToolUse"), payload("PostToolUse")]
    for call in calls:
        assert (200, b"") == post(server, call)
    stored = server.log_events()
    assert {"hook:collector-1"} == {e["source"] for e in stored}
    project = tmp_path / "local"
    project.mkdir()
    env = {"CLAUDE_PROJECT_DIR": str(project), "HOME": str(tmp_path), "AI_TELEMETRY_RAISE": "1"}
    for call in calls:
        assert 0 == run_hook([], stdin=BytesIO(json.dumps(call).encode()), environ=env)
    local = [
        json.loads(line)
        for line in (project / ".claude/Telemetry/events.jsonl").read_text().splitlines()
    ]
    assert shape(local) == shape(stored)
    assert [] == [e for e in stored if "secret" in json.dumps(e)]  # no tool input kept


def test_the_kill_switch_answers_with_the_block_decision(server: Server) -> None:
    """Past the server's tool-call limit a PreToolUse gets the deny decision in the body."""
    for n in (1, 2):
        assert (200, b"") == post(server, payload("PreToolUse", n=n))
    status, body = post(server, payload("PreToolUse", n=3))
    assert 200 == status
    decision = json.loads(body)["hookSpecificOutput"]
    assert "deny" == decision["permissionDecision"]
    assert "tool-call limit reached" in decision["permissionDecisionReason"]
    assert "tool_call_limit_reached" in {e["event_type"] for e in server.log_events()}


def test_bad_payloads_are_400_and_reading_roles_403(server: Server) -> None:
    """Not JSON or not an object: 400; program_director (read only) may not post: 403."""
    status, _, _ = server.request("POST", HOOK, b"{nope", token=server.tokens["collector"])
    assert 400 == status
    status, _, _ = server.request("POST", HOOK, b"[1]", token=server.tokens["collector"])
    assert 400 == status
    assert 403 == post(server, payload("PostToolUse"), role="program_director")[0]


def test_transcript_paths_are_never_read_on_the_server(server: Server, tmp_path: Path) -> None:
    """A PreCompact naming a server file records no size read from it."""
    secret = tmp_path / "transcript.jsonl"
    secret.write_text(json.dumps({"message": {"usage": {"input_tokens": 4242}}}) + "\n")
    body = {
        "session_id": "s",
        "hook_event_name": "PreCompact",
        "trigger": "auto",
        "transcript_path": str(secret),
    }
    assert (200, b"") == post(server, body)
    assert "4242" not in (server.directory / "events.jsonl").read_text()


def test_install_writes_http_hooks_with_the_token_from_the_environment(tmp_path: Path) -> None:
    """url, headers with $VAR, allowedEnvVars; no command hook left; the token never written;
    idempotent; uninstall removes them."""
    settings = tmp_path / "settings.json"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}

    def install(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, "claude-code", "install", "--settings", str(settings), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )

    assert 0 == install().returncode  # command hooks first: --http-hooks replaces them
    args = (
        "--server",
        "https://telemetry.example:8787",
        "--http-hooks",
        "--token-env",
        "AIT_TOKEN",
    )
    first = install(*args)
    assert 0 == first.returncode, first.stderr
    data = json.loads(settings.read_text())
    entries = [e for groups in data["hooks"].values() for g in groups for e in g["hooks"]]
    assert entries and all(e["type"] == "http" for e in entries)
    assert {
        "type": "http",
        "url": "https://telemetry.example:8787/v1/hooks/claude-code",
        "headers": {"Authorization": "Bearer $AIT_TOKEN"},
        "allowedEnvVars": ["AIT_TOKEN"],
        "timeout": 10,
    } == entries[0]
    assert "nothing changed" in install(*args).stdout
    assert not (tmp_path / "cfg/ai-telemetry/server.json").exists()
    bad = install("--server", "http://x", "--http-hooks", "--token-env", "A B")
    assert 2 == bad.returncode and "not an environment variable name" in bad.stderr
    removed = subprocess.run(
        [*CLI, "claude-code", "uninstall", "--settings", str(settings)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert 0 == removed.returncode
    assert "hooks" not in json.loads(settings.read_text())
