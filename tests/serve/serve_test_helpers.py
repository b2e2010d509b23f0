"""A real ``ai-telemetry serve`` process on a free loopback port, and small HTTP helpers."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ai_telemetry.serve.tokens import create_token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server: its process, port, directory and one token per role."""

    proc: subprocess.Popen[bytes]
    port: int
    directory: Path
    tokens: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    output: Path | None = None

    def printed(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        return self.output.read_text(errors="replace") if self.output else ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            sent = dict(headers or {})
            if token is not None:
                sent["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def post_events(self, events: list[dict[str, Any]], *, role: str = "collector") -> Any:
        body = b"".join(orjson.dumps(e) + b"\n" for e in events)
        status, _, data = self.request("POST", "/v1/events", body, token=self.tokens[role])
        assert status == 202, (status, data)
        return orjson.loads(data)

    def log_events(self) -> list[dict[str, Any]]:
        path = self.directory / "events.jsonl"
        if not path.exists():
            return []
        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


ROLES = ("meta_updater", "program_director", "tech_lead", "collector")


def make_tokens(directory: Path) -> dict[str, str]:
    """One token per role, named after the role (``collector`` -> ``collector-1``)."""
    return {
        role: create_token(directory, name=f"{role.replace('_', '-')}-1", role=role)
        for role in ROLES
    }


def start_server(
    directory: Path, *args: str, port: int | None = None, tokens: dict[str, str] | None = None
) -> Server:
    port = port or free_port()
    env = {**os.environ, "AI_TELEMETRY_DIR": str(directory), "PYTHONUNBUFFERED": "1"}
    output = directory.parent / f"serve-{port}-{time.monotonic_ns()}.log"
    with output.open("wb") as sink:  # a file, not a pipe nobody reads (it would fill up)
        proc = subprocess.Popen(
            [sys.executable, "-m", "ai_telemetry", "serve", "--port", str(port), *args],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, port, directory, tokens or {}, args, output)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}: {server.printed()}")
        try:
            status, _, _ = server.request("GET", "/healthz", timeout=1)
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not answer /healthz within 30 s")


def stop_server(server: Server, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    if server.proc.poll() is None:
        server.proc.send_signal(sig)
    try:
        server.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    return server.proc.returncode


@contextmanager
def running_server(directory: Path, *args: str) -> Iterator[Server]:
    """A server over ``directory`` with a token per role (in ``server.tokens``)."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = make_tokens(directory)
    server = start_server(directory, *args, tokens=tokens)
    try:
        yield server
    finally:
        stop_server(server)


def recent(hours: float = 1.0) -> str:
    """An RFC 3339 UTC time ``hours`` ago (inside the default 7-day windows)."""
    moment = datetime.now(UTC) - timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def skill_event(n: int, *, event_id: str | None = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_type": "skill_execution",
        "timestamp": recent(),
        "skill": "tdd",
        "outcome": "success",
        "duration_seconds": 1.0 + n % 7,
        **extra,
    }
    if event_id is not None:
        event["event_id"] = event_id
    return event
