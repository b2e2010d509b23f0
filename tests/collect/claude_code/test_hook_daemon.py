"""The hook daemon, with real processes: `ai-telemetry hook` clients and the daemon they start."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_probe import daemon_pid, daemon_status, wait_for_daemon

from ai_telemetry import __version__
from ai_telemetry.collect.claude_code.hook_client import (
    OP_HOOK,
    REFUSED,
    ask_daemon,
    encode_request,
    socket_path,
)

CLI = Path(sys.executable).parent / "ai-telemetry"
WAIT = 15.0


class Setup:
    """A project, a private state dir (so a private socket) and the env of its hook clients."""

    def __init__(self, root: Path) -> None:
        self.project = root / "project"
        self.project.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
        env.update(
            CLAUDE_PROJECT_DIR=str(self.project),
            AI_TELEMETRY_STATE_DIR=str(root / "state"),
            XDG_RUNTIME_DIR=str(root / "runtime"),
            AI_TELEMETRY_HOOK_DAEMON="1",
            AI_TELEMETRY_HOOK_DAEMON_IDLE="20",  # a daemon the cleanup missed goes soon
        )
        self.env = env
        path = socket_path(env, __version__)
        assert path is not None
        self.socket = path

    def call(self, payload: dict[str, object]) -> subprocess.CompletedProcess[bytes]:
        """Run one hook process, as Claude Code does."""
        return subprocess.run(
            [str(CLI), "hook"],
            input=json.dumps(payload).encode(),
            capture_output=True,
            env=self.env,
            cwd=self.project,
            timeout=60,
            check=False,
        )

    def status(self) -> dict[str, object] | None:
        """The daemon's status, or None when no daemon answers."""
        return daemon_status(self.socket)

    def wait_for_daemon(self) -> dict[str, object]:
        return wait_for_daemon(self.socket, WAIT)

    def daemon_pid(self) -> int | None:
        """The pid in the lock file, if a live daemon holds the lock."""
        return daemon_pid(self.socket)

    def wait_gone(self, pid: int) -> bool:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.daemon_pid() != pid:
                return True
            time.sleep(0.05)
        return False

    def wait_tools(self, expected: Counter[str]) -> Counter[str]:
        """The log's tool counts once they are ``expected`` (or whatever they are after WAIT)."""
        deadline = time.monotonic() + WAIT
        while (found := self.tools()) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def tools(self) -> Counter[str]:
        """How often each tool name is in the log."""
        log = self.project / ".claude/Telemetry/events.jsonl"
        lines = log.read_text().splitlines() if log.exists() else []
        return Counter(json.loads(line).get("tool") for line in lines)


def post(tool: str, session: str = "sess-daemon") -> dict[str, object]:
    return {
        "session_id": session,
        "hook_event_name": "PostToolUse",
        "tool_name": tool,
        "tool_use_id": f"toolu_{tool}",
        "tool_input": {"file_path": "/tmp/x.py"},
        "tool_response": {"type": "text"},
    }


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """A Setup; any daemon it started is killed afterwards."""
    made = Setup(tmp_path)
    yield made
    pid = made.daemon_pid()
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        made.wait_gone(pid)


@pytest.fixture
def warm(setup: Setup) -> Setup:
    """A Setup whose daemon is running (started by a first hook call, tool ``Warm``)."""
    assert setup.call(post("Warm")).returncode == 0
    setup.wait_for_daemon()
    assert Counter({"Warm": 1}) == setup.wait_tools(Counter({"Warm": 1}))
    return setup


def test_first_call_spools_starts_the_daemon_and_the_daemon_writes_it(setup: Setup) -> None:
    """With no daemon, the call only spools and starts one; the new daemon writes it, once."""
    done = setup.call(post("First"))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert Counter({"First": 1}) == setup.wait_tools(Counter({"First": 1}))
    status = setup.wait_for_daemon()
    assert (0, 1) == (status["served"], status["replayed"])


def test_later_calls_go_through_the_daemon(warm: Setup) -> None:
    """Each call after the first is served by the daemon, and writes its event once."""
    results = [warm.call(post(f"Tool{i}")) for i in range(3)]
    assert [(0, b"", b"")] * 3 == [(r.returncode, r.stdout, r.stderr) for r in results]
    assert 3 == (warm.status() or {})["served"]
    assert {"Warm": 1, "Tool0": 1, "Tool1": 1, "Tool2": 1} == warm.tools()


def test_kill_switch_blocks_through_the_daemon(warm: Setup) -> None:
    """Past the limit, PreToolUse through the daemon exits 2 with the reason on stderr."""
    warm.env["AI_TELEMETRY_TOOL_CALL_LIMIT"] = "2"
    pre = {"session_id": "sess-limit", "hook_event_name": "PreToolUse", "tool_name": "Bash"}
    results = [warm.call({**pre, "tool_use_id": f"t{i}"}) for i in range(3)]
    assert [0, 0, 2] == [r.returncode for r in results]
    assert b"tool-call limit reached" in results[2].stderr
    assert 3 == (warm.status() or {})["served"]


def test_bad_payload_through_the_daemon_exits_zero_and_is_counted(warm: Setup) -> None:
    """Garbage on stdin: exit 0, silent, one error in hook-status.json, daemon still up."""
    done = subprocess.run(
        [str(CLI), "hook"],
        input=b"{not json",
        capture_output=True,
        env=warm.env,
        cwd=warm.project,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    status = json.loads((warm.project / ".claude/Telemetry/hook-status.json").read_text())
    assert (1, "JSONDecodeError") == (status["errors"], status["last_error"])
    assert 1 == (warm.status() or {})["served"]


def test_sigkilled_daemon_loses_no_event(warm: Setup) -> None:
    """Killed between calls: the next call falls back, and every event is in the log once."""
    for i in range(3):
        warm.call(post(f"Before{i}"))
    pid = warm.daemon_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert warm.wait_gone(pid)
    for i in range(3):
        assert 0 == warm.call(post(f"After{i}")).returncode
    expected = ["Warm"] + [f"Before{i}" for i in range(3)] + [f"After{i}" for i in range(3)]
    assert Counter(expected) == warm.wait_tools(Counter(expected))


def test_version_mismatch_is_refused_and_stops_the_daemon(warm: Setup) -> None:
    """A client of another version gets "do it yourself"; the daemon exits; calls still land."""
    pid = warm.daemon_pid()
    assert pid is not None
    request = encode_request(OP_HOOK, "0.0.0-other", str(warm.project), [], b"{}")
    assert (REFUSED, b"") == ask_daemon(warm.socket, request)
    assert warm.wait_gone(pid)
    assert 0 == warm.call(post("Later")).returncode
    expected = Counter({"Warm": 1, "Later": 1})
    assert expected == warm.wait_tools(expected)


def test_malformed_request_does_not_stop_the_daemon(warm: Setup) -> None:
    """Garbage on the socket is refused; the next hook call is still served."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(warm.socket)
        sock.sendall(b"\x00\x00\x00\x05\x00\x00\x00\x00junk!")
        assert b"F" == sock.recv(16)
    assert 0 == warm.call(post("Next")).returncode
    assert 1 == (warm.status() or {})["served"]


def test_twenty_concurrent_clients_write_twenty_events(warm: Setup) -> None:
    """20 hook processes at once: 20 events, each once, all exit 0."""
    procs = [
        subprocess.Popen(
            [str(CLI), "hook"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=warm.env,
            cwd=warm.project,
        )
        for _ in range(20)
    ]
    outputs = [
        p.communicate(json.dumps(post(f"Par{i}")).encode(), timeout=60) for i, p in enumerate(procs)
    ]
    assert [(0, b"", b"")] * 20 == [
        (p.returncode, *out) for p, out in zip(procs, outputs, strict=True)
    ]
    assert Counter(["Warm"] + [f"Par{i}" for i in range(20)]) == warm.tools()


def test_idle_daemon_exits_and_removes_its_socket(setup: Setup) -> None:
    """With AI_TELEMETRY_HOOK_DAEMON_IDLE=1 the daemon is gone soon after the last call."""
    setup.env["AI_TELEMETRY_HOOK_DAEMON_IDLE"] = "1"
    setup.call(post("Once"))
    pid = setup.wait_for_daemon()["pid"]
    assert isinstance(pid, int)
    assert setup.wait_gone(pid)
    assert not Path(setup.socket).exists()


def test_socket_and_its_directory_are_private(warm: Setup) -> None:
    """Directory 0700, socket 0600: no other user can connect."""
    sock = Path(warm.socket)
    assert (0o700, 0o600) == (sock.parent.stat().st_mode & 0o777, sock.stat().st_mode & 0o777)


def test_disabled_daemon_is_never_started(setup: Setup) -> None:
    """AI_TELEMETRY_HOOK_DAEMON=0: the event is written in-process and no daemon appears."""
    setup.env["AI_TELEMETRY_HOOK_DAEMON"] = "0"
    assert 0 == setup.call(post("Solo")).returncode
    time.sleep(1.0)  # a daemon, had one been started, would have made its directory by now
    assert ({"Solo": 1}, False) == (setup.tools(), Path(setup.socket).parent.exists())


def test_each_version_has_its_own_socket(setup: Setup) -> None:
    """Two installed versions (a --user hook, a project's) never share, so never stop, a daemon."""
    assert socket_path(setup.env, "1.0.0") != socket_path(setup.env, "1.1.0")


def test_client_that_gives_up_before_go_gets_nothing_written(warm: Setup) -> None:
    """Accepted but never told to go (the client timed out): the daemon writes nothing."""
    env = [f"{k}={v}".encode() for k, v in warm.env.items() if k in ("HOME", "CLAUDE_PROJECT_DIR")]
    request = encode_request(
        OP_HOOK, __version__, str(warm.project), env, json.dumps(post("Abandoned")).encode()
    )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(warm.socket)
        sock.sendall(request)
        assert b"A" == sock.recv(16)
    assert 0 == warm.call(post("Next")).returncode
    assert ({"Warm": 1, "Next": 1}, 1) == (warm.tools(), (warm.status() or {})["served"])
