"""Hook events forwarded to a real ``ai-telemetry serve`` by the hook daemon (issue 15 §6)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ship_helpers import Server, create_token, free_port, log_ids

from ai_telemetry import __version__
from ai_telemetry.collect.claude_code.hook_client import lock_path, socket_path

CLI = Path(sys.executable).parent / "ai-telemetry"
WAIT = 30.0


class Machine:
    """A developer machine: a home, a project, private state, hooks through the daemon."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.project = root / "project"
        self.home.mkdir()
        self.project.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            CLAUDE_PROJECT_DIR=str(self.project),
            AI_TELEMETRY_STATE_DIR=str(root / "state"),
            XDG_RUNTIME_DIR=str(root / "runtime"),
            AI_TELEMETRY_HOOK_DAEMON="1",
            AI_TELEMETRY_HOOK_DAEMON_IDLE="20",
        )
        self.env = env
        self.state = root / "state"
        self.log = self.project / ".claude/Telemetry/events.jsonl"
        path = socket_path(env, __version__)
        assert path is not None
        self.socket = path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args],
            env=self.env,
            cwd=self.project,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def hook(self, tool: str) -> float:
        """One PostToolUse hook process, as Claude Code runs it: its wall time."""
        payload = {
            "session_id": "sess-forward",
            "hook_event_name": "PostToolUse",
            "tool_name": tool,
            "tool_use_id": f"toolu_{tool}",
            "tool_input": {},
            "tool_response": {"type": "text"},
        }
        start = time.monotonic()
        done = subprocess.run(
            [str(CLI), "hook"],
            input=json.dumps(payload).encode(),
            capture_output=True,
            env=self.env,
            cwd=self.project,
            timeout=60,
            check=False,
        )
        assert 0 == done.returncode
        return time.monotonic() - start

    def daemon_pid(self) -> int | None:
        lock = Path(lock_path(self.socket))
        if not lock.exists():
            return None
        with lock.open("rb") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return None
            except BlockingIOError:
                text = fh.read().strip()
        return int(text) if text.isdigit() else None


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    made = Machine(tmp_path)
    yield made
    pid = made.daemon_pid()
    if pid is not None:
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    directory = tmp_path / "server"
    directory.mkdir()
    srv = Server(directory, free_port())
    yield srv
    srv.stop()


def tools(path: Path) -> list[str]:
    if not path.exists():
        return []
    return sorted(json.loads(line).get("tool", "") for line in path.read_text().splitlines())


def wait_for(path: Path, expected: list[str]) -> list[str]:
    deadline = time.monotonic() + WAIT
    while (found := tools(path)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_install_keeps_the_token_out_of_settings(machine: Machine, server: Server) -> None:
    """The token is in the user's config, mode 0600; settings.json never holds it."""
    result = machine.run(
        "claude-code", "install", "--user", "--server", server.url, "--token", "att_secret123"
    )
    assert 0 == result.returncode, result.stderr
    config = machine.home / ".config/ai-telemetry/server.json"
    assert 0o600 == config.stat().st_mode & 0o777
    assert "att_secret123" == json.loads(config.read_text())["token"]
    settings = (machine.home / ".claude/settings.json").read_text()
    assert "att_secret123" not in settings
    assert "hook" in settings


def test_events_reach_the_server_and_the_local_log(machine: Machine, server: Server) -> None:
    """Mode both: each event in the project's log and on the server, with the same id."""
    server.start()
    token = create_token(server.directory)
    assert (
        0
        == machine.run(
            "claude-code", "install", "--server", server.url, "--token", token
        ).returncode
    )
    for tool in ("Read", "Edit", "Bash"):
        machine.hook(tool)
    expected = ["Bash", "Edit", "Read"]
    assert expected == wait_for(server.directory / "events.jsonl", expected)
    assert expected == tools(machine.log)
    assert set(log_ids(machine.log)) == set(log_ids(server.directory / "events.jsonl"))


def test_unreachable_server_loses_nothing_and_never_waits(machine: Machine, server: Server) -> None:
    """Server down: hooks answer at once, events wait in the spool, arrive once it is up."""
    token = create_token(server.directory)
    args = ("claude-code", "install", "--server", server.url, "--token", token, "--server-only")
    assert 0 == machine.run(*args).returncode
    times = [machine.hook(tool) for tool in ("Read", "Grep", "Glob", "Edit")]
    assert max(times) < 3.0, times  # a process start each; never a network timeout (30 s)
    time.sleep(1.5)
    assert 4 == len((machine.state / "forward/events.jsonl").read_text().splitlines())
    server.start()
    expected = ["Edit", "Glob", "Grep", "Read"]
    assert expected == wait_for(server.directory / "events.jsonl", expected)
    assert [] == tools(machine.log)  # --server-only: the project's log is not written
    deadline = time.monotonic() + WAIT
    while (machine.state / "forward/events.jsonl").stat().st_size and time.monotonic() < deadline:
        time.sleep(0.1)
    assert 0 == (machine.state / "forward/events.jsonl").stat().st_size  # emptied once acked
