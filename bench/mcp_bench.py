"""Latency of an MCP tool call (``ai-telemetry mcp`` over stdio, a real client session) against
the same library call made in-process, on a warm warehouse.

The data is ``bench/gen_events.py``'s (``--events N``, one year from 2025-01-01), or the demo
(``--demo``). The warehouse is built and warmed first (one call of each tool); then the tools
and their in-process twins run interleaved, ``--runs`` times each, so machine load hits both
alike. Prints the median and p95 in milliseconds and the ratio of the medians (issue 19's
budget: 1.5x).

Two rows put the transport in proportion. ``get_metrics (new window)`` asks each call for a
week no call asked before (the MCP call and its twin get different weeks of the same length), so
both do the warehouse work a first question costs; the cached ``get_metrics`` answers from the
metric cache on both sides. ``pipe floor`` is the least any tool call across a process boundary
can cost: a bare child process that reads a JSON-RPC request line from stdin and writes back a
prepared response holding the same cached document (orjson both ways, no MCP, no validation).

    .venv/bin/python bench/mcp_bench.py --events 200000 [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


NEW_WINDOW = "get_metrics (new window)"


def cases(demo: bool) -> list[tuple[str, dict[str, Any]]]:
    if demo:
        return [
            ("top", {"kind": "skills", "days": 30}),
            ("trend", {"metric": "skill_success_rate", "key": "acgme-compliance"}),
            ("compare_skill", {"name": "acgme-compliance"}),
        ]
    return [
        ("get_metrics", {"window": "2025-06-02/2025-06-09"}),
        (NEW_WINDOW, {}),
        ("compare_skill", {"name": "systematic-debugger", "date": "2025-07-01"}),
        ("skill_audit", {"quarter": "2025-Q2", "as_of": "2025-07-01T00:00:00Z"}),
    ]


def fresh_week(call: int) -> dict[str, Any]:
    """A 7-day window starting ``call`` days after 2025-01-06: a different week each call."""
    from datetime import date, timedelta

    start = date(2025, 1, 6) + timedelta(days=call)
    return {"window": f"{start.isoformat()}/{(start + timedelta(days=7)).isoformat()}"}


FLOOR_CHILD = """
import sys, orjson
reply = sys.stdin.buffer.readline()  # the prepared response, sent once
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    request = orjson.loads(line)
    out.write(reply.replace(b'"id":0', b'"id":%d' % request["id"], 1))
    out.flush()
"""


async def raw_client(directory: Path, window: str, runs: int) -> list[float]:
    """The cached ``get_metrics`` from a bare JSON-RPC client (no SDK on the client side: what
    the server's answer costs, without the SDK client's parsing and schema validation)."""
    import orjson

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ai_telemetry",
        "mcp",
        "--repo",
        str(directory),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=1 << 26,
        env={**os.environ, "AI_TELEMETRY_DIR": str(directory)},
    )
    assert child.stdin is not None and child.stdout is not None

    async def rpc(message: dict[str, Any]) -> dict[str, Any]:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(orjson.dumps(message) + b"\n")
        await child.stdin.drain()
        while True:
            answer: dict[str, Any] = orjson.loads(await child.stdout.readline())
            if answer.get("id") == message.get("id"):
                return answer

    await rpc(
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"},
            },
        }
    )
    child.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    times = []
    for i in range(runs + 1):
        call = {
            "jsonrpc": "2.0",
            "id": i + 1,
            "method": "tools/call",
            "params": {"name": "get_metrics", "arguments": {"window": window}},
        }
        start = time.perf_counter()
        answer = await rpc(call)
        if i:
            times.append((time.perf_counter() - start) * 1000)
        if "error" in answer or answer["result"].get("isError"):
            raise SystemExit(f"raw get_metrics: {answer}")
    child.stdin.close()
    await child.wait()
    return times


async def pipe_floor(document: bytes, runs: int) -> list[float]:
    """Round trips to a bare child process answering a JSON-RPC line with ``document``."""
    import orjson

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FLOOR_CHILD,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    reply = {"jsonrpc": "2.0", "id": 0, "result": {"structuredContent": orjson.loads(document)}}
    child.stdin.write(orjson.dumps(reply) + b"\n")
    times = []
    for i in range(runs + 1):
        request = {
            "jsonrpc": "2.0",
            "id": i + 1,
            "method": "tools/call",
            "params": {"name": "get_metrics", "arguments": {"window": "7d"}},
        }
        start = time.perf_counter()
        child.stdin.write(orjson.dumps(request) + b"\n")
        await child.stdin.drain()
        answer = orjson.loads(await child.stdout.readline())
        if i:  # the first one warms the child
            times.append((time.perf_counter() - start) * 1000)
        assert answer["id"] == i + 1
    child.stdin.close()
    await child.wait()
    return times


def in_process(directory: Path) -> Callable[[str, dict[str, Any]], object]:
    """The library call each tool makes, in this process (`ai_telemetry.serve.mcp.Tools`'
    work without MCP: the same functions and settings the CLI uses)."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.serve.mcp import ServerOptions, Tools

    os.environ["AI_TELEMETRY_DIR"] = str(directory)
    options = ServerOptions(
        settings=load_settings(),
        repo=directory,
        history_dir=directory / ".claude" / "History",
    )
    tools = Tools(options)

    def get_metrics(window: str) -> object:
        # the tool is async (a cache hit answers on the event loop): time the library itself
        from ai_telemetry.analyze.aggregate import aggregate, aggregate_document
        from ai_telemetry.analyze.window import parse_window

        doc = aggregate(parse_window(window), settings=options.settings)
        return aggregate_document(doc, output="", with_metrics=True)

    def call(name: str, args: dict[str, Any]) -> object:
        if name == "get_metrics":
            return get_metrics(**args)
        return getattr(tools, name)(**args).structured_content

    return call


async def run(directory: Path, runs: int, demo: bool) -> dict[str, dict[str, list[float]]]:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    local = in_process(directory)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "ai_telemetry", "mcp", "--repo", str(directory)],
        env={"AI_TELEMETRY_DIR": str(directory), "PATH": os.environ.get("PATH", "")},
        cwd=str(directory),
    )
    times: dict[str, dict[str, list[float]]] = {}
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            cached: bytes = b""
            for name, args in cases(demo):  # warm: ingest, caches, imports
                if name == NEW_WINDOW:
                    continue
                result = await session.call_tool(name, args)
                if result.is_error:
                    raise SystemExit(f"{name}: {result.content[0].text}")
                local(name, args)
                if name == "get_metrics":
                    cached = result.content[0].text.encode()
            # the new windows last: a first question about a window changes what the metric
            # cache's fingerprint covers, so interleaved with the cached call it would miss
            ordered = sorted(cases(demo), key=lambda case: case[0] == NEW_WINDOW)
            for name, args in ordered:
                row = times.setdefault(name, {"mcp": [], "library": []})
                for run_no in range(runs):
                    tool, mcp_args, lib_args = name, args, args
                    if name == NEW_WINDOW:
                        tool, mcp_args, lib_args = (
                            "get_metrics",
                            fresh_week(2 * run_no),
                            fresh_week(2 * run_no + 1),
                        )
                    start = time.perf_counter()
                    result = await session.call_tool(tool, mcp_args)
                    row["mcp"].append((time.perf_counter() - start) * 1000)
                    if result.is_error:
                        raise SystemExit(f"{name}: {result.content[0].text}")
                    start = time.perf_counter()
                    local(tool, lib_args)
                    row["library"].append((time.perf_counter() - start) * 1000)
    if cached:
        print(f"cached get_metrics answer: {len(cached):,} bytes of JSON", file=sys.stderr)
        library = times["get_metrics"]["library"]
        window = cases(demo)[0][1]["window"]
        raw = await raw_client(directory, window, runs)  # cached again by the client above
        times["get_metrics (cached), bare JSON-RPC client"] = {"mcp": raw, "library": library}
        floor = await pipe_floor(cached, runs)
        times["pipe floor (cached document)"] = {
            "mcp": floor,
            "library": times["get_metrics"]["library"],
        }
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--demo", action="store_true", help="The demo data set instead.")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "telemetry"
        started = time.perf_counter()
        if args.demo:
            subprocess.run(
                [sys.executable, "-m", "ai_telemetry", "demo", "--dir", str(directory)],
                check=True,
                capture_output=True,
            )
        else:
            directory.mkdir()
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "gen_events.py"),
                    "--events",
                    str(args.events),
                    "--output",
                    str(directory / "events.jsonl"),
                ],
                check=True,
            )
        print(f"data ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        times = asyncio.run(run(directory, args.runs, args.demo))
    label = "demo" if args.demo else f"{args.events:,} events"
    print(f"| tool ({label}) | MCP median ms | MCP p95 | library median ms | p95 | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in times.items():
        mcp, lib = statistics.median(row["mcp"]), statistics.median(row["library"])
        print(
            f"| `{name}` | {mcp:.1f} | {p95(row['mcp']):.1f} | {lib:.1f} | "
            f"{p95(row['library']):.1f} | **{mcp / lib:.2f}** |"
        )


if __name__ == "__main__":
    main()
