"""A real `ai-telemetry serve` in a subprocess, tokens, and event files for the ship tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

from ai_telemetry.events.schema import new_event_id

CLI = [sys.executable, "-m", "ai_telemetry"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(directory: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env["AI_TELEMETRY_DIR"] = str(directory)
    env["AI_TELEMETRY_STATE_DIR"] = str(directory / "state")
    env.update(extra)
    return env


def create_token(server_dir: Path, *, role: str = "collector", name: str = "laptop") -> str:
    out = subprocess.run(
        [*CLI, "token", "create", "--role", role, "--name", name, "--dir", str(server_dir)],
        capture_output=True,
        text=True,
        check=True,
        env=env_for(server_dir),
        cwd=server_dir,
    )
    return out.stdout.strip()


class Server:
    """`ai-telemetry serve --port PORT --dir DIR`, started and killed at will."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> None:
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port), "--dir", str(self.directory)],
            env=env_for(self.directory),
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, "serve exited"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("serve did not come up")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


def write_events(path: Path, count: int, *, hour: int = 10, day: str = "2026-12-01") -> list[str]:
    """Append ``count`` valid tool_call events (whole lines, one write); their ids."""
    ids = [new_event_id() for _ in range(count)]
    lines = [
        json.dumps(
            {
                "timestamp": f"{day}T{hour:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "event_type": "tool_call",
                "tool": "Read",
                "outcome": "success",
                "duration_seconds": 0.25,
                "event_id": event_id,
            },
            separators=(",", ":"),
        )
        + "\n"
        for i, event_id in enumerate(ids)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write("".join(lines))
    return ids


def log_ids(path: Path) -> Counter[str]:
    """How often each event id is in a log (every line must be a JSON event)."""
    counts: Counter[str] = Counter()
    if not path.exists():
        return counts
    with path.open("rb") as fh:
        for line in fh:
            counts[json.loads(line)["event_id"]] += 1
    return counts
