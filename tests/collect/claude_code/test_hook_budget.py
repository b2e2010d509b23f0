"""The hook answers Claude Code in time whatever happens, and loses nothing on the way.

Real processes throughout: hook calls are the command ``claude-code install`` writes, run by
``/bin/sh -c`` as Claude Code runs them; the lock holder is another process; the disk is a
real 2 MB tmpfs.
"""

from __future__ import annotations

import contextlib
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
from typing import Any

import pytest
from daemon_probe import daemon_pid, daemon_status, wait_for_daemon

from ai_telemetry import __version__
from ai_telemetry.collect.claude_code.hook_client import (
    ACCEPTED,
    GO,
    OP_HOOK,
    encode_request,
    new_request_id,
    socket_path,
    spool_dir,
    write_spool_file,
)
from ai_telemetry.collect.claude_code.settings_install import compile_client, default_command

BUDGET = 1.0
"""Seconds a hook call may take, from spawning its shell to its exit (the issue's check)."""
WAIT = 20.0
COMMAND = default_command()
PYTHON = sys.executable


def post(tool: str, session: str = "sess-budget", **more: Any) -> dict[str, Any]:
    return {
        "session_id": session,
        "hook_event_name": "PostToolUse",
        "tool_name": tool,
        "tool_use_id": f"toolu_{tool}",
        **more,
    }


class World:
    """A project, a private state dir, the hook's environment, and its daemon if any."""

    def __init__(self, root: Path, *, daemon: bool) -> None:
        self.root = root
        self.project = root / "project"
        self.telemetry = self.project / ".claude/Telemetry"
        self.telemetry.mkdir(parents=True)
        self.state = root / "state"
        self.env = {
            "HOME": os.environ.get("HOME", str(root)),
            "PATH": "/usr/bin:/bin",
            "PYTHONDONTWRITEBYTECODE": "1",
            "CLAUDE_PROJECT_DIR": str(self.project),
            "AI_TELEMETRY_STATE_DIR": str(self.state),
            "AI_TELEMETRY_HOOK_DAEMON": "1" if daemon else "0",
            "AI_TELEMETRY_HOOK_DAEMON_IDLE": "30",
        }
        path = socket_path(self.env, __version__)
        assert path is not None
        self.socket = path

    @property
    def log(self) -> Path:
        return self.telemetry / "events.jsonl"

    @property
    def spool(self) -> Path:
        return Path(spool_dir(self.env))

    def call(self, payload: dict[str, Any]) -> tuple[float, subprocess.CompletedProcess[bytes]]:
        """One hook process as Claude Code runs it: (seconds it took, its result)."""
        start = time.monotonic()
        done = subprocess.run(
            ["/bin/sh", "-c", COMMAND],
            input=json.dumps(payload).encode(),
            capture_output=True,
            env=self.env,
            cwd=self.project,
            timeout=60,
            check=False,
        )
        return time.monotonic() - start, done

    def answered(self, payload: dict[str, Any]) -> float:
        """Run one call, check it exited 0 silently, and return how long it took."""
        took, done = self.call(payload)
        assert (0, b"", b"") == (done.returncode, done.stdout, done.stderr)
        return took

    def tools(self) -> Counter[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return Counter(json.loads(line).get("tool") for line in lines if line.strip())

    def wait_tools(self, expected: Counter[str]) -> Counter[str]:
        deadline = time.monotonic() + WAIT
        while (found := self.tools()) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def status(self) -> dict[str, Any] | None:
        """The daemon's status, or None when no daemon answers."""
        return daemon_status(self.socket)

    def wait_for_daemon(self) -> dict[str, Any]:
        return wait_for_daemon(self.socket, WAIT)

    def daemon_pid(self) -> int | None:
        """The pid in the lock file, if a live daemon holds the lock."""
        return daemon_pid(self.socket)

    def kill_daemon(self) -> None:
        pid = self.daemon_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while self.daemon_pid() == pid and time.monotonic() < deadline:
            time.sleep(0.02)

    def problems(self) -> list[dict[str, Any]]:
        """The lines of the SDK status file that doctor reads."""
        path = self.state / "sdk-status.jsonl"
        text = path.read_text() if path.exists() else ""
        return [json.loads(line) for line in text.splitlines()]

    def doctor(self) -> dict[str, Any]:
        done = subprocess.run(
            [PYTHON, "-m", "ai_telemetry", "doctor", "--json"],
            capture_output=True,
            env={**self.env, "PATH": os.environ["PATH"]},
            cwd=self.project,
            timeout=60,
            check=False,
        )
        document: dict[str, Any] = json.loads(done.stdout)
        return document


class LockHolder:
    """Another process holding an exclusive flock on a file until told to let go."""

    def __init__(self, path: Path) -> None:
        code = (
            "import fcntl, os, sys\n"
            f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
        )
        self.proc = subprocess.Popen(
            [PYTHON, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        assert b"locked\n" == self.proc.stdout.readline()

    def release(self) -> None:
        """Let go of the lock (the process exits); safe to call twice."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=WAIT)
        self.proc.stdout.close()


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    """What `claude-code install` does besides writing the command: compile the client ahead."""
    assert [] == compile_client()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A World with the daemon enabled; its daemon is killed afterwards."""
    made = World(tmp_path, daemon=True)
    yield made
    made.kill_daemon()


@pytest.fixture
def warm(world: World) -> World:
    """A World whose daemon is up and has written the first call's event."""
    world.answered(post("Warm"))
    world.wait_for_daemon()
    assert Counter({"Warm": 1}) == world.wait_tools(Counter({"Warm": 1}))
    return world


@pytest.fixture
def writers_lock(world: World) -> Iterator[LockHolder]:
    """Another process holds the log's writers' lock (a writer stopped with Ctrl-Z, ...)."""
    holder = LockHolder(world.telemetry / "events.jsonl.lock")
    yield holder
    holder.release()


# --- the installed command -------------------------------------------------------------------


def test_first_call_without_daemon_does_not_wait_for_it(world: World, tmp_path: Path) -> None:
    """The first call spools and starts the daemon; a daemon 2 s slow to start is not waited for."""
    slow = tmp_path / "slow-site"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text("import time\ntime.sleep(2)\n")
    world.env["PYTHONPATH"] = str(slow)  # the daemon loads site; the client (-I -S) does not
    took = world.answered(post("First"))
    assert took < BUDGET
    assert Counter() == world.tools()  # not written by the call itself
    assert Counter({"First": 1}) == world.wait_tools(Counter({"First": 1}))
    assert (0, 1) == (world.wait_for_daemon()["served"], world.wait_for_daemon()["replayed"])


def test_daemon_killed_after_go_loses_nothing(warm: World, writers_lock: LockHolder) -> None:
    """SIGKILL right after the client's go, mid-work: the next daemon writes the event, once."""
    pid = warm.daemon_pid()
    assert pid is not None
    env = [f"{k}={v}".encode() for k, v in warm.env.items() if k != "PATH"]
    now = time.time_ns()
    request = encode_request(
        OP_HOOK,
        __version__,
        str(warm.project),
        env,
        json.dumps(post("Killed")).encode(),
        request_id=new_request_id(now),
        now_ns=now,
    )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(warm.socket)
        sock.sendall(request)
        assert ACCEPTED == sock.recv(1)
        sock.sendall(GO)
        os.kill(pid, signal.SIGKILL)  # it is waiting for the writers' lock we hold
        with contextlib.suppress(OSError):  # reset or closed: no answer either way
            assert b"" == sock.recv(16)
    writers_lock.release()
    warm.answered(post("Next"))  # finds no daemon: starts one, which replays the spool
    expected = Counter({"Warm": 1, "Killed": 1, "Next": 1})
    assert expected == warm.wait_tools(expected)


# --- a lock held by another process ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["daemon warm", "first call", "in-process"])
def test_writers_lock_held_answers_in_time_spools_and_writes_later(world: World, mode: str) -> None:
    """The log locked by another process: answered within 1 s, kept, written once it is free."""
    if mode == "in-process":
        world.env["AI_TELEMETRY_HOOK_DAEMON"] = "0"
    if mode == "daemon warm":
        world.answered(post("Warm"))
        world.wait_for_daemon()
        assert Counter({"Warm": 1}) == world.wait_tools(Counter({"Warm": 1}))
    before = world.tools()
    holder = LockHolder(world.telemetry / "events.jsonl.lock")
    try:
        took = world.answered(post("Locked"))
        assert took < BUDGET
        assert before == world.tools()
        deadline = time.monotonic() + WAIT  # the daemon replays the request: still locked
        while not any(p["kind"] == "hook_spooled" for p in world.problems()):
            assert time.monotonic() < deadline, world.problems()
            time.sleep(0.05)
        assert list(world.spool.iterdir())
    finally:
        holder.release()
    if mode == "in-process":
        world.answered(post("After"))  # the next in-process call writes what was spooled
        expected = before + Counter({"Locked": 1, "After": 1})
    else:
        expected = before + Counter({"Locked": 1})
    assert expected == world.wait_tools(expected)
    deadline = time.monotonic() + WAIT
    while list(world.spool.iterdir()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    spooled = [p for p in world.problems() if p["kind"] == "hook_spooled"]
    assert "still locked by another process" in spooled[0]["message"]
    check = next(c for c in world.doctor()["checks"] if c["name"] == "sdk, hooks, background")
    assert "hook_spooled" in check["detail"]


def test_session_state_lock_held_still_answers_and_writes(warm: World) -> None:
    """A stopped hook holding its session's lock: later hooks of that session still get through."""
    state = warm.telemetry / "hook-state" / "sess-budget.json"
    holder = LockHolder(state)
    try:
        assert warm.answered(post("Stuck")) < BUDGET
        expected = Counter({"Warm": 1, "Stuck": 1})
        assert expected == warm.wait_tools(expected)
    finally:
        holder.release()
    assert any(p["kind"] == "hook_state_locked" for p in warm.problems())


# --- transcript_path -------------------------------------------------------------------------


def _compact(transcript: str) -> dict[str, Any]:
    return {
        "session_id": "sess-budget",
        "hook_event_name": "PreCompact",
        "trigger": "auto",
        "transcript_path": transcript,
    }


@pytest.mark.parametrize("daemon", [True, False], ids=["daemon", "in-process"])
def test_fifo_transcript_answers_in_time_and_wedges_nothing(
    world: World, tmp_path: Path, daemon: bool
) -> None:
    """A FIFO as transcript_path (no writer): this hook and the session's next answer in 1 s."""
    world.env["AI_TELEMETRY_HOOK_DAEMON"] = "1" if daemon else "0"
    if daemon:
        world.answered(post("Warm"))
        world.wait_for_daemon()
    fifo = tmp_path / "transcript.fifo"
    os.mkfifo(fifo)
    assert world.answered(_compact(str(fifo))) < BUDGET
    assert world.answered(post("AfterFifo")) < BUDGET
    expected = Counter({"AfterFifo": 1, None: 1}) + (Counter({"Warm": 1}) if daemon else Counter())
    assert expected == world.wait_tools(expected)  # None: the context_snapshot


def test_dev_zero_transcript_in_process_bounded_memory(world: World) -> None:
    """/dev/zero as transcript_path, in-process: answered within 1 s, peak RSS under 100 MB."""
    world.env["AI_TELEMETRY_HOOK_DAEMON"] = "0"
    # A small parent measures the hook's peak (a child forked from pytest would inherit its own).
    measure = (
        "import os, sys\n"
        "pid = os.posix_spawn('/bin/sh', ['/bin/sh', '-c', sys.argv[1]], os.environ)\n"
        "_, status, usage = os.wait4(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
    )
    start = time.monotonic()
    done = subprocess.run(
        [PYTHON, "-c", measure, f"exec {COMMAND}"],
        input=json.dumps(_compact("/dev/zero")).encode(),
        capture_output=True,
        env=world.env,
        cwd=world.project,
        timeout=60,
        check=True,
    )
    took = time.monotonic() - start
    code, peak_kib = map(int, done.stdout.split())
    assert (0, b"", True) == (code, done.stderr, took < BUDGET)
    assert peak_kib * 1024 < 100e6  # ru_maxrss is in KiB on Linux
    assert Counter({None: 1}) == world.tools()


def test_dev_zero_transcript_through_the_daemon_bounded_memory(warm: World) -> None:
    """/dev/zero as transcript_path through the daemon: answered in 1 s, its peak under 200 MB."""
    pid = warm.daemon_pid()
    assert pid is not None
    assert warm.answered(_compact("/dev/zero")) < BUDGET
    assert Counter({"Warm": 1, None: 1}) == warm.wait_tools(Counter({"Warm": 1, None: 1}))
    peak = next(
        line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if "VmHWM" in line
    )
    assert int(peak.split()[1]) * 1024 < 200e6, peak


# --- a full disk -----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB tmpfs (we run as root); fails loudly if it cannot be mounted."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot mount a 2 MB tmpfs at {mount}: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


@pytest.mark.parametrize("daemon", [True, False], ids=["daemon", "in-process"])
def test_full_disk_is_recorded_where_doctor_shows_it_and_leaves_no_temp_files(
    tmp_path: Path, small_disk: Path, daemon: bool
) -> None:
    """Telemetry dir on a full disk: answered, one-line reason in the SDK status, no temp files."""
    world = World(tmp_path / "w", daemon=daemon)
    try:
        if daemon:  # warmed on the normal disk; the daemon serves each call's own settings
            world.answered(post("Start"))
            world.wait_for_daemon()
            assert Counter({"Start": 1}) == world.wait_tools(Counter({"Start": 1}))
        world.env["AI_TELEMETRY_DIR"] = str(small_disk / "Telemetry")
        world.telemetry = small_disk / "Telemetry"
        world.telemetry.mkdir()
        filler = _fill(small_disk)  # full to the last page: no append can land anywhere
        assert world.answered(post("Full")) < BUDGET
        deadline = time.monotonic() + WAIT
        while not any(p["kind"] == "hook_spooled" for p in world.problems()):
            assert time.monotonic() < deadline, world.problems()
            time.sleep(0.05)
        message = next(p["message"] for p in world.problems() if p["kind"] == "hook_spooled")
        assert "No space left on device" in message
        assert "\n" not in message
        check = next(c for c in world.doctor()["checks"] if c["name"] == "sdk, hooks, background")
        assert "No space left on device" in check["detail"]
        leftovers = [p for p in small_disk.rglob("*") if p.name.endswith(".tmp")]
        leftovers += [p for p in world.spool.iterdir() if p.name.startswith(".")]
        assert [] == leftovers
        filler.unlink()
        world.answered(post("Freed"))
        expected = Counter({"Full": 1, "Freed": 1})
        assert expected == world.wait_tools(expected)
    finally:
        world.kill_daemon()


# --- a client that gives up ------------------------------------------------------------------


def _request(world: World, tool: str) -> tuple[str, bytes]:
    env = [f"{k}={v}".encode() for k, v in world.env.items() if k != "PATH"]
    now = time.time_ns()
    request_id = new_request_id(now)
    frame = encode_request(
        OP_HOOK,
        __version__,
        str(world.project),
        env,
        json.dumps(post(tool)).encode(),
        request_id=request_id,
        now_ns=now,
    )
    return request_id, frame


def test_client_gone_after_accept_without_go_is_written_once(warm: World) -> None:
    """Accepted, no go, and the client spooled its own copy too: the event is written once."""
    request_id, frame = _request(warm, "GaveUp")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(warm.socket)
        sock.sendall(frame)
        assert ACCEPTED == sock.recv(1)
    assert write_spool_file(str(warm.spool), request_id + ".req", frame)  # as a client would
    expected = Counter({"Warm": 1, "GaveUp": 1})
    assert expected == warm.wait_tools(expected)
    time.sleep(2.5)  # two more replay passes: nothing is written again
    assert expected == warm.tools()


def test_request_its_client_already_spooled_is_not_taken_again(warm: World) -> None:
    """A request that arrives after its client spooled it is left to the replay: written once."""
    request_id, frame = _request(warm, "Late")
    assert write_spool_file(str(warm.spool), request_id + ".req", frame)
    expected = Counter({"Warm": 1, "Late": 1})
    assert expected == warm.wait_tools(expected)  # replayed, and its file deleted
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(warm.socket)
        sock.sendall(frame)
        assert b"" == sock.recv(1)  # no answer: the daemon knows it was replayed
    time.sleep(2.5)
    assert expected == warm.tools()
