"""Wall time of the Claude Code hook as users get it, against a bare ``python3 -c pass``.

What is measured, in one run, interleaved so machine load hits every row alike:

1. Two fresh virtualenvs from the interpreter running this script: ``pip install REPO``
   (non-editable) and ``pip install -e REPO`` (editable), into a temporary directory.
2. In each, ``ai-telemetry claude-code install --settings ...``; the hook command is read back
   from the settings file it wrote, exactly as Claude Code will run it.
3. Every process is started the way Claude Code starts a hook: ``/bin/sh -c COMMAND``, from an
   ``env -i``-style environment (``HOME``, ``PATH=/usr/local/bin:/usr/bin:/bin``, no
   virtualenv on it, ``PYTHONDONTWRITEBYTECODE=1``, ``CLAUDE_PROJECT_DIR``, a private
   ``AI_TELEMETRY_STATE_DIR``), a PostToolUse payload on stdin that writes one ``tool_call``.
   Whole processes: from spawning the shell to its exit.
4. Rows: ``python3 -c pass`` (the ``python3`` on that PATH: the yardstick), ``<base> -c
   pass`` (the interpreter the virtualenvs were made from), ``<venv>/bin/python -I -S -c
   pass`` (the floor of the installed command), each install's hook with its daemon warm (the
   normal case), and, for comparison, the console script ``<venv>/bin/ai-telemetry hook``
   (what 0.1.0 installed, there by bare name); median and p95 of ``--runs`` runs (default 50,
   at least 30).
5. The first call with no daemon (``--first-runs``, default 30): the daemon is stopped, one
   call is timed (it spools the event and starts a daemon), then the bench waits until the
   new daemon has written that event, and records how long that took (not part of the call).
6. The logs are checked: one event per hook call, none lost, none twice.

    .venv/bin/python bench/hook_bench.py [--runs 50] [--first-runs 30] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAYLOAD = json.dumps(
    {
        "session_id": "bench-session",
        "transcript_path": "/tmp/bench.jsonl",
        "cwd": "/tmp",
        "hook_event_name": "PostToolUse",
        "tool_name": "Read",
        "tool_input": {"file_path": "/tmp/x.py"},
        "tool_response": {"type": "text"},
        "tool_use_id": "toolu_01BENCH",
    }
).encode()
SHELL_PATH = "/usr/local/bin:/usr/bin:/bin"


class Install:
    """One fresh virtualenv with ai-telemetry installed, and its hook's private world."""

    def __init__(self, root: Path, kind: str, base: str) -> None:
        self.kind = kind
        self.venv = root / f"venv-{kind}"
        self.project = root / f"project-{kind}"
        self.state = root / f"state-{kind}"
        self.project.mkdir()
        started = time.monotonic()
        subprocess.run([base, "-m", "venv", str(self.venv)], check=True)
        editable = ["-e"] if kind == "editable" else []
        subprocess.run(
            [str(self.venv / "bin/pip"), "install", "-q", *editable, str(REPO)],
            check=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        self.install_seconds = time.monotonic() - started
        settings = root / f"settings-{kind}.json"
        subprocess.run(
            [str(self.venv / "bin/ai-telemetry"), "claude-code", "install", "--settings", settings],
            check=True,
            env=self.env(root),
            stdout=subprocess.DEVNULL,
        )
        hooks = json.loads(settings.read_text())["hooks"]["PostToolUse"]
        self.command: str = hooks[0]["hooks"][0]["command"]
        self.root = root

    def env(self, root: Path) -> dict[str, str]:
        """What Claude Code's shell gives the hook: no virtualenv on PATH, no bytecode writes."""
        return {
            "HOME": str(root / "home"),
            "PATH": SHELL_PATH,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "CLAUDE_PROJECT_DIR": str(self.project),
            "AI_TELEMETRY_STATE_DIR": str(self.state),
        }

    def events(self) -> int:
        log = self.project / ".claude/Telemetry/events.jsonl"
        return log.read_bytes().count(b"\n") if log.exists() else 0

    def wait_events(self, count: int, timeout: float = 30.0) -> float:
        """Seconds until the log holds ``count`` events (raise if it never does)."""
        start = time.monotonic()
        while self.events() < count:
            if time.monotonic() - start > timeout:
                raise SystemExit(f"{self.kind}: {self.events()} events, expected {count}")
            time.sleep(0.005)
        return time.monotonic() - start

    def stop_daemon(self) -> None:
        """SIGTERM the daemon holding a lock file, and wait until it let go of it."""
        for lock in (self.state / "run").glob("hook-*.lock"):
            with lock.open("rb") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    continue
                except BlockingIOError:
                    pid = fh.read().strip()
                if pid.isdigit():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGTERM)
                fcntl.flock(fh, fcntl.LOCK_EX)  # released when the daemon has exited


def measure(command: str, *, stdin: bytes, env: dict[str, str]) -> float:
    """Milliseconds of one ``sh -c COMMAND`` process, spawn to exit; it must be silent, exit 0."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/bin/sh", "-c", command], input=stdin, capture_output=True, env=env, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or done.stdout or done.stderr:
        raise SystemExit(f"{command}: exit {done.returncode}, {done.stderr[:300]!r}")
    return elapsed * 1000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--first-runs", type=int, default=30)
    parser.add_argument("--workdir", type=Path, help="keep the venvs here (default: a temp dir)")
    args = parser.parse_args()
    if args.runs < 30:
        parser.error("--runs must be at least 30")
    base = getattr(sys, "_base_executable", sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        (root / "home").mkdir(exist_ok=True)
        installs = [Install(root, kind, base) for kind in ("wheel", "editable")]
        try:
            run(installs, root, base, args)
        finally:
            for install in installs:
                install.stop_daemon()


def run(installs: list[Install], root: Path, base: str, args: argparse.Namespace) -> None:
    env0 = installs[0].env(root)
    cases: dict[str, tuple[str, bytes, dict[str, str]]] = {
        "python3 -c pass": ("python3 -c pass", b"", env0),
        f"{base} -c pass": (f"{base} -c pass", b"", env0),
    }
    venv_python = installs[0].venv / "bin/python"
    cases[f"{venv_python} -I -S -c pass"] = (f"{venv_python} -I -S -c pass", b"", env0)
    for install in installs:
        cases[f"hook, {install.kind} install, daemon warm"] = (
            install.command,
            PAYLOAD,
            install.env(root),
        )
    for install in installs:  # the console script, by absolute path: what 0.1.0 installed
        cases[f"`{install.kind}/bin/ai-telemetry hook`, daemon warm"] = (
            f"{install.venv}/bin/ai-telemetry hook",
            PAYLOAD,
            install.env(root),
        )
    calls = {install.kind: 0 for install in installs}
    for install in installs:  # the first call starts the daemon; wait until it wrote that
        measure(install.command, stdin=PAYLOAD, env=install.env(root))
        calls[install.kind] += 1
        install.wait_events(calls[install.kind])
    for command, stdin, env in cases.values():
        measure(command, stdin=stdin, env=env)
    for install in installs:
        calls[install.kind] += 2
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (command, stdin, env) in cases.items():
            times[name].append(measure(command, stdin=stdin, env=env))
    for install in installs:
        calls[install.kind] += 2 * args.runs
        install.wait_events(calls[install.kind])

    first: dict[str, list[float]] = {}
    written: dict[str, list[float]] = {}
    for _ in range(args.first_runs):
        for install in installs:
            install.stop_daemon()
            name = f"hook, {install.kind} install, first call (no daemon)"
            first.setdefault(name, []).append(
                measure(install.command, stdin=PAYLOAD, env=install.env(root))
            )
            calls[install.kind] += 1
            written.setdefault(name, []).append(install.wait_events(calls[install.kind]))
    for install in installs:
        if install.events() != calls[install.kind]:
            raise SystemExit(f"{install.kind}: {install.events()} events for {calls} calls")

    bare = statistics.median(times["python3 -c pass"])
    found = subprocess.check_output(["sh", "-c", "command -v python3"], env=env0)
    print(f"python3 on PATH: {found.decode().strip()}")
    print(f"base interpreter: {base} ({sys.version.split()[0]})")
    for install in installs:
        took = install.install_seconds
        print(f"{install.kind}: installed in {took:.0f} s; command: {install.command}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; events checked: {calls}")
    print()
    print("| command | runs | median ms | p95 ms | x `python3 -c pass` |")
    print("|---|---|---|---|---|")
    for name, values in {**times, **first}.items():
        median = statistics.median(values)
        print(
            f"| {name} | {len(values)} | {median:.1f} | {p95(values):.1f} | {median / bare:.2f} |"
        )
    for name, values in written.items():
        print(
            f"\n{name}: the new daemon wrote the event {statistics.median(values) * 1000:.0f} ms "
            "(median) after the call returned"
        )


if __name__ == "__main__":
    main()
