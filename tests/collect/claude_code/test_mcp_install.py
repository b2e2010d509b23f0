"""claude-code install --mcp: registers `ai-telemetry mcp` in .mcp.json or ~/.claude.json,
idempotently, with an absolute command, never touching other servers; uninstall removes ours."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ai_telemetry.collect.claude_code.settings_install import (
    default_mcp_server,
    install_mcp_server,
    uninstall_mcp_server,
)
from ai_telemetry.errors import ConfigError

CLI = [sys.executable, "-m", "ai_telemetry"]
OTHER = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {}}


def run(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "AI_TELEMETRY_DIR": str(cwd / "t")},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert 0 == done.returncode, done.stdout + done.stderr
    return done


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose .mcp.json already registers someone else's server."""
    root = tmp_path / "project"
    root.mkdir()
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {"github": OTHER}}, indent=2))
    return root


def test_install_mcp_registers_this_python_and_keeps_other_servers(
    project: Path, tmp_path: Path
) -> None:
    """The project's .mcp.json gets our server (absolute interpreter), github stays."""
    done = run(["claude-code", "install", "--mcp"], project, tmp_path)
    servers = json.loads((project / ".mcp.json").read_text())["mcpServers"]
    assert OTHER == servers["github"]
    ours = servers["ai-telemetry"]
    assert sys.executable == ours["command"] and Path(ours["command"]).is_absolute()
    assert ["-I", "-m", "ai_telemetry", "mcp"] == ours["args"]
    assert "Registered the ai-telemetry MCP server" in done.stdout
    assert (project / ".claude" / "settings.json").exists()  # the hooks, as without --mcp


def test_install_mcp_twice_changes_nothing(project: Path, tmp_path: Path) -> None:
    """The second run leaves the file byte for byte and says so."""
    run(["claude-code", "install", "--mcp"], project, tmp_path)
    before = (project / ".mcp.json").read_bytes()
    done = run(["claude-code", "install", "--mcp"], project, tmp_path)
    assert before == (project / ".mcp.json").read_bytes()
    assert "already registered" in done.stdout


def test_the_registered_command_starts_the_server(project: Path, tmp_path: Path) -> None:
    """What Claude Code will run answers an MCP initialize over stdio."""
    ours = default_mcp_server()
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    done = subprocess.run(
        [ours["command"], *ours["args"]],
        input=json.dumps(request) + "\n",
        cwd=project,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    answer = json.loads(done.stdout.splitlines()[0])
    assert "ai-telemetry" == answer["result"]["serverInfo"]["name"]


def test_user_scope_writes_claude_json_and_keeps_its_keys(project: Path, tmp_path: Path) -> None:
    """--user: ~/.claude.json's top-level mcpServers; its other state is kept."""
    home = tmp_path / "home"
    home.mkdir()
    state = {"numStartups": 12, "projects": {"/x": {"allowedTools": []}}}
    (home / ".claude.json").write_text(json.dumps(state))
    run(["claude-code", "install", "--user", "--mcp"], project, home)
    data = json.loads((home / ".claude.json").read_text())
    assert {**state, "mcpServers": {"ai-telemetry": default_mcp_server()}} == data
    assert {"github"} == set(json.loads((project / ".mcp.json").read_text())["mcpServers"])
    run(["claude-code", "uninstall", "--user"], project, home)
    assert state == json.loads((home / ".claude.json").read_text())  # as it was before


def test_uninstall_removes_only_our_server(project: Path, tmp_path: Path) -> None:
    """After uninstall, github is there as before and ours is gone."""
    run(["claude-code", "install", "--mcp"], project, tmp_path)
    done = run(["claude-code", "uninstall"], project, tmp_path)
    assert {"mcpServers": {"github": OTHER}} == json.loads((project / ".mcp.json").read_text())
    assert "Removed the ai-telemetry MCP server" in done.stdout


def test_an_older_entry_of_ours_is_updated(tmp_path: Path) -> None:
    """A moved installation: our entry with another interpreter gets this one."""
    path = tmp_path / ".mcp.json"
    old = {"command": "/old/venv/bin/python", "args": ["-I", "-m", "ai_telemetry", "mcp"]}
    path.write_text(json.dumps({"mcpServers": {"ai-telemetry": old}}))
    report = install_mcp_server(path)
    assert ["ai-telemetry"] == report.updated
    assert default_mcp_server() == json.loads(path.read_text())["mcpServers"]["ai-telemetry"]


def test_someone_elses_server_of_our_name_is_never_replaced(tmp_path: Path) -> None:
    """A server called ai-telemetry that runs something else: a clear error, file unchanged."""
    path = tmp_path / ".mcp.json"
    text = json.dumps({"mcpServers": {"ai-telemetry": OTHER}})
    path.write_text(text)
    with pytest.raises(ConfigError, match="already runs something else"):
        install_mcp_server(path)
    assert not uninstall_mcp_server(path).changed
    assert text == path.read_text()


def test_a_broken_mcp_json_is_an_error_naming_the_file(tmp_path: Path) -> None:
    """Not JSON: one line with the file and the position, nothing written."""
    path = tmp_path / ".mcp.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"\.mcp\.json: not valid JSON"):
        install_mcp_server(path)
    assert "{not json" == path.read_text()
