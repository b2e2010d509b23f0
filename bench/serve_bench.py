"""Team server benchmark: batched ingest against the framework's floor, on loopback.

Two servers, each a fresh process on the same framework and server (Starlette on uvicorn):

- ``ai-telemetry serve``: the real thing (token check, body caps, JSON Lines or OTLP/protobuf
  parsing and mapping, privacy guard, validation, duplicate check, one writer thread, append
  to events.jsonl in durability ``write``; a 202/200 only once the batch is in the log);
- ``bare``: the floor: an endpoint that only reads the body, parses it (orjson per line, or
  ``ExportLogsServiceRequest.FromString``) and answers 202/200.

The client (one asyncio process, keep-alive connections, ``--clients`` at once) sends
distinct prebuilt batches of ``--batch`` events (``POST /v1/events`` JSON Lines, and ``POST
/v1/logs`` OTLP/protobuf of Claude Code ``tool_result`` records) and measures events/s and
the latency of each batch (p50/p99), and the server's CPU time per event (``/proc``, all its
threads, over the measured batches). ``--baseline OTHER/src`` runs a third server from another
source tree (A/B against, say, main), interleaved round by round with the other two.

    python bench/serve_bench.py --batches 300 --batch 100 --clients 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

BARE_APP = """
import orjson
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def events(request):
    body = await request.body()
    items = [orjson.loads(line) for line in body.splitlines() if line.strip()]
    return Response(orjson.dumps({"accepted": len(items)}), status_code=202,
                    media_type="application/json")

async def logs(request):
    body = await request.body()
    logs_service_pb2.ExportLogsServiceRequest.FromString(body)
    return Response(logs_service_pb2.ExportLogsServiceResponse().SerializeToString(),
                    media_type="application/x-protobuf")

app = Starlette(routes=[Route("/v1/events", events, methods=["POST"]),
                        Route("/v1/logs", logs, methods=["POST"])])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def event_batches(count: int, size: int) -> list[bytes]:
    ts = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    batches = []
    for b in range(count):
        lines = []
        for n in range(size):
            event = {
                "event_type": "skill_execution",
                "timestamp": ts,
                "event_id": str(uuid.uuid4()),
                "skill": ("tdd", "debugger", "reviewer")[n % 3],
                "outcome": "success" if n % 10 else "error",
                "duration_seconds": 1.5 + (b * size + n) % 17,
                "session_id": f"sess-{b}",
            }
            lines.append(orjson.dumps(event))
        batches.append(b"\n".join(lines) + b"\n")
    return batches


def otlp_batches(count: int, size: int) -> list[bytes]:
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2

    def kv(key: str, value: str) -> common_pb2.KeyValue:
        return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))

    start = time.time_ns() - 3600 * 10**9
    batches = []
    for b in range(count):
        records = [
            logs_pb2.LogRecord(
                time_unix_nano=start + (b * size + n) * 1000,
                body=common_pb2.AnyValue(string_value="claude_code.tool_result"),
                attributes=[
                    kv("event.name", "tool_result"),
                    kv("session.id", f"sess-{b}"),
                    kv("tool_name", ("Read", "Edit", "Bash")[n % 3]),
                    kv("success", "true"),
                    kv("duration_ms", str(10 + n)),
                ],
            )
            for n in range(size)
        ]
        request = logs_service_pb2.ExportLogsServiceRequest(
            resource_logs=[
                logs_pb2.ResourceLogs(scope_logs=[logs_pb2.ScopeLogs(log_records=records)])
            ]
        )
        batches.append(request.SerializeToString())
    return batches


async def _client(
    port: int, path: str, headers: bytes, bodies: asyncio.Queue[bytes], latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            try:
                body = bodies.get_nowait()
            except asyncio.QueueEmpty:
                return
            request = (
                f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n".encode()
                + headers
                + b"\r\n"
                + body
            )
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status_line.split()[1].startswith(b"2"):
                raise SystemExit(f"{path}: {status_line!r}")
    finally:
        writer.close()


async def drive(
    port: int, path: str, headers: bytes, batches: list[bytes], clients: int
) -> tuple[float, list[float]]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in batches:
        queue.put_nowait(body)
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, path, headers, queue, latencies) for _ in range(clients)))
    return time.perf_counter() - started, latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(port, proc)
    return proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (``/proc/<pid>/stat``), all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a source tree (its src/ folder) of another version: its server runs too, "
        "interleaved with this one round by round (A/B in the same run)",
    )
    parser.add_argument("--only", choices=["events", "otlp-logs"], help="one endpoint only")
    opts = parser.parse_args()

    from ai_telemetry.serve.tokens import create_token

    workdir = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    bare_file = workdir / "bare_app.py"
    bare_file.write_text(BARE_APP)
    names = ["bare", "serve"] if opts.baseline is None else ["bare", "baseline", "serve"]
    rows = []
    print(f"load average at start: {' '.join(map(str, os.getloadavg()))}", flush=True)
    endpoints = [
        ("events", "/v1/events", "application/x-ndjson"),
        ("otlp-logs", "/v1/logs", "application/x-protobuf"),
    ]
    for kind, path, content_type in [e for e in endpoints if opts.only in (None, e[0])]:
        results: dict[str, list[tuple[float, list[float], float]]] = {n: [] for n in names}
        for round_ in range(opts.rounds):
            for name in names:  # interleaved: each round runs every server once
                directory = workdir / f"{kind}-{name}-{round_}"
                directory.mkdir()
                token = create_token(directory, name="bench", role="collector")
                port = free_port()
                env = {**os.environ, "AI_TELEMETRY_DIR": str(directory)}
                if name == "baseline":
                    env["PYTHONPATH"] = str(opts.baseline.resolve())
                if name != "bare":
                    cmd = [sys.executable, "-m", "ai_telemetry", "serve", "--port", str(port)]
                else:
                    cmd = [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "bare_app:app",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                        "--no-access-log",
                        "--app-dir",
                        str(workdir),
                    ]
                maker = event_batches if kind == "events" else otlp_batches
                batches = maker(opts.batches, opts.batch)
                headers = (
                    f"Content-Type: {content_type}\r\nAuthorization: Bearer {token}\r\n".encode()
                )
                proc = start(cmd, env, port)
                try:
                    # warm up: one batch each way (imports, the guard's caches)
                    asyncio.run(drive(port, path, headers, maker(2, opts.batch), 1))
                    cpu_before = cpu_seconds(proc.pid)
                    elapsed, latencies = asyncio.run(
                        drive(port, path, headers, batches, opts.clients)
                    )
                    cpu = cpu_seconds(proc.pid) - cpu_before
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(60)
                if name != "bare":
                    logged = sum(1 for _ in (directory / "events.jsonl").open("rb"))
                    expected = (opts.batches + 2) * opts.batch
                    assert logged == expected, (logged, expected)
                events = opts.batches * opts.batch
                results[name].append((events / elapsed, latencies, cpu / events * 1e6))
        for name in names:
            runs = results[name]
            best = max(runs, key=lambda r: r[0])
            rate = statistics.median(r[0] for r in runs)
            cpu_us = statistics.median(r[2] for r in runs)
            lat = best[1]
            p50, p99 = pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000
            rows.append((kind, name, rate, p50, p99, cpu_us))
            print(
                f"{kind:10} {name:8} {rate:10,.0f} events/s   p50 {p50:7.1f} ms"
                f"   p99 {p99:7.1f} ms   server CPU {cpu_us:5.1f} us/event"
                f"   (rounds: {', '.join(f'{r[0]:,.0f}' for r in runs)})",
                flush=True,
            )
    print(f"load average at end: {' '.join(map(str, os.getloadavg()))}")
    print()
    for kind in sorted({r[0] for r in rows}):
        bare = next(r for r in rows if r[0] == kind and r[1] == "bare")
        for name in names[1:]:
            serve = next(r for r in rows if r[0] == kind and r[1] == name)
            print(
                f"{kind}: {name} is {bare[2] / serve[2]:.2f}x the floor's time per event "
                f"(server CPU {serve[5] / bare[5]:.2f}x)"
            )


if __name__ == "__main__":
    main()
