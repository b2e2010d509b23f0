"""Latency of an MCP tool call (``ai-telemetry mcp`` over stdio, a real client session) against
the same library call made in-process, on a warm warehouse.

The data is ``bench/gen_events.py``'s (``--events N``, one year from 2025-01-01), or the demo
(``--demo``). The warehouse is built and warmed first (one call of each tool); then the tools
and their in-process twins run interleaved, ``--runs`` times each, so machine load hits both
alike. Prints the median and p95 in milliseconds and the ratio of the medians (issue 19's
budget: 1.5x).

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


def cases(demo: bool) -> list[tuple[str, dict[str, Any]]]:
    if demo:
        return [
            ("top", {"kind": "skills", "days": 30}),
            ("trend", {"metric": "skill_success_rate", "key": "acgme-compliance"}),
            ("compare_skill", {"name": "acgme-compliance"}),
        ]
    return [
        ("get_metrics", {"window": "2025-06-02/2025-06-09"}),
        ("compare_skill", {"name": "systematic-debugger", "date": "2025-07-01"}),
        ("skill_audit", {"quarter": "2025-Q2", "as_of": "2025-07-01T00:00:00Z"}),
    ]


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
            for name, args in cases(demo):  # warm: ingest, caches, imports
                result = await session.call_tool(name, args)
                if result.is_error:
                    raise SystemExit(f"{name}: {result.content[0].text}")
                local(name, args)
            for _ in range(runs):
                for name, args in cases(demo):
                    row = times.setdefault(name, {"mcp": [], "library": []})
                    start = time.perf_counter()
                    await session.call_tool(name, args)
                    row["mcp"].append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    local(name, args)
                    row["library"].append((time.perf_counter() - start) * 1000)
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
