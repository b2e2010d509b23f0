"""Sending to the team server: the ``http`` hook's round trip and ``ship``'s throughput.

One run, against a real ``ai-telemetry serve`` on loopback (a fresh telemetry directory):

1. **Hook, http vs command.** Interleaved, ``--runs`` times each (default 300):
   - ``http, kept connection``: one POST of a PostToolUse payload to ``/v1/hooks/claude-code``
     on an open connection, from send to the end of the (empty) answer;
   - ``http, new connection``: the same with a connection opened for the request;
   - ``command hook (daemon warm)``: the whole process Claude Code starts for a command hook,
     ``/bin/sh -c '<python> -I -S .../hook_main.py hook'`` (the command ``claude-code
     install`` writes), payload on stdin, from spawn to exit, its daemon already running.
   Median, p50 and p99 per row.
2. **ship.** ``--events`` (default 100,000) valid events in a local log, shipped to a fresh
   server: ``ai-telemetry ship --once`` as a process (start-up included) and the `Shipper` in
   this process, ``--ship-runs`` times each (default 3, a fresh server directory each time):
   events per second, median. The server's log is checked: every id once.

    .venv/bin/python bench/send_bench.py [--runs 300] [--events 100000] [--ship-runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CLI = [sys.executable, "-m", "ai_telemetry"]
PAYLOAD = {
    "session_id": "bench-session",
    "transcript_path": "/tmp/bench.jsonl",
    "cwd": "/tmp",
    "hook_event_name": "PostToolUse",
    "tool_name": "Read",
    "tool_input": {"file_path": "/tmp/x.py"},
    "tool_response": {"type": "text"},
    "tool_use_id": "toolu_01BENCH",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env.update(extra)
    return env


class Serve:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = subprocess.run(
            [
                *CLI,
                "token",
                "create",
                "--role",
                "collector",
                "--name",
                "bench",
                "--dir",
                str(directory),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=clean_env(),
        ).stdout.strip()
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port), "--dir", str(directory)],
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("serve did not come up")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def row(name: str, ms: list[float]) -> str:
    return (
        f"| {name} | {statistics.median(ms):.2f} | {pct(ms, 50):.2f} | {pct(ms, 99):.2f} | "
        f"{len(ms)} |"
    )


def hook_rows(work: Path, runs: int) -> list[str]:
    from ai_telemetry.collect.claude_code.settings_install import compile_client, default_command

    compile_client()  # as `claude-code install` does: no hook process compiles the client

    server = Serve(work / "hook-server")
    try:
        body = json.dumps(PAYLOAD).encode()
        headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}
        kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        project = work / "project"
        project.mkdir(exist_ok=True)
        env = {
            "HOME": str(work),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "PYTHONDONTWRITEBYTECODE": "1",
            "CLAUDE_PROJECT_DIR": str(project),
            "AI_TELEMETRY_STATE_DIR": str(work / "state"),
        }
        command = default_command()
        results: dict[str, list[float]] = {"kept": [], "new": [], "command": []}

        def http_once(conn: http.client.HTTPConnection) -> float:
            start = time.perf_counter()
            conn.request("POST", "/v1/hooks/claude-code", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status == 200, response.status
            return elapsed

        def command_once() -> float:
            start = time.perf_counter()
            subprocess.run(
                ["/bin/sh", "-c", command],
                input=body,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            return (time.perf_counter() - start) * 1000

        for _ in range(20):  # warm up: imports, the daemon, the writer
            http_once(kept)
            command_once()
        time.sleep(1.0)
        for _ in range(runs):
            results["kept"].append(http_once(kept))
            fresh = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            start = time.perf_counter()
            fresh.connect()
            connect_ms = (time.perf_counter() - start) * 1000
            results["new"].append(connect_ms + http_once(fresh))
            fresh.close()
            results["command"].append(command_once())
        kept.close()
        return [
            row("http hook, kept connection", results["kept"]),
            row("http hook, new connection", results["new"]),
            row("command hook process (daemon warm)", results["command"]),
        ]
    finally:
        server.stop()
        lock = work / "state" / "run"
        for pid_file in lock.glob("hook-*.lock") if lock.exists() else []:
            text = pid_file.read_text().strip()
            if text.isdigit():
                with contextlib.suppress(ProcessLookupError):  # the daemon the bench started
                    os.kill(int(text), signal.SIGTERM)


def make_log(path: Path, count: int) -> list[str]:
    from ai_telemetry.events.schema import new_event_id

    ids = [new_event_id() for _ in range(count)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for i, event_id in enumerate(ids):
            fh.write(
                json.dumps(
                    {
                        "timestamp": f"2026-12-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:"
                        f"{i % 60:02d}Z",
                        "event_type": "tool_call",
                        "tool": "Read",
                        "outcome": "success",
                        "duration_seconds": 0.25,
                        "event_id": event_id,
                    },
                    separators=(",", ":"),
                )
                + "\n"
            )
    return ids


def check(server: Serve, ids: list[str]) -> None:
    stored = [json.loads(line)["event_id"] for line in (server.directory / "events.jsonl").open()]
    if sorted(stored) != sorted(ids):
        raise SystemExit(
            f"server log: {len(stored)} lines, {len(set(stored))} ids; {len(ids)} sent"
        )


def ship_rows(work: Path, events: int, ship_runs: int) -> list[str]:
    from ai_telemetry.ship.sender import Sender
    from ai_telemetry.ship.shipper import Shipper, checkpoint_path

    local = work / "local"
    ids = make_log(local / "events.jsonl", events)
    process: list[float] = []
    inproc: list[float] = []
    for run in range(ship_runs):
        server = Serve(work / f"ship-server-{run}-p")
        try:
            for old in (local / "ship").glob("*") if (local / "ship").exists() else []:
                old.unlink()
            start = time.perf_counter()
            subprocess.run(
                [*CLI, "ship", "--to", server.url],
                env=clean_env(AI_TELEMETRY_DIR=str(local), AI_TELEMETRY_SHIP_TOKEN=server.token),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            process.append(events / (time.perf_counter() - start))
            check(server, ids)
        finally:
            server.stop()
        server = Serve(work / f"ship-server-{run}-i")
        try:
            point = checkpoint_path(local, server.url)
            point.unlink(missing_ok=True)
            start = time.perf_counter()
            with Shipper(
                Sender(server.url, server.token), log_path=local / "events.jsonl", checkpoint=point
            ) as shipper:
                shipper.run()
            inproc.append(events / (time.perf_counter() - start))
            check(server, ids)
        finally:
            server.stop()
    return [
        f"| `ai-telemetry ship --once` (process) | {statistics.median(process):,.0f} | "
        f"{min(process):,.0f}-{max(process):,.0f} | {ship_runs} |",
        f"| `Shipper.run` (in process) | {statistics.median(inproc):,.0f} | "
        f"{min(inproc):,.0f}-{max(inproc):,.0f} | {ship_runs} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--ship-runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="send-bench-") as tmp:
        work = Path(tmp)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.runs} runs")
        print("\n| hook | median ms | p50 ms | p99 ms | runs |\n|---|---|---|---|---|")
        for line in hook_rows(work, args.runs):
            print(line)
        print(f"\n| ship {args.events:,} events to loopback | events/s (median) | range | runs |")
        print("|---|---|---|---|")
        for line in ship_rows(work, args.events, args.ship_runs):
            print(line)
    print("\ncommand:", shlex.join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
