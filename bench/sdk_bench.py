"""Instrumentation overhead of the SDK against its peers, and log append throughput.

Run: ``.venv/bin/python bench/sdk_bench.py [--calls 200000] [--repeat 5]``

Part 1, overhead per call of a decorated no-op function, in one process, same run:
- bare: the undecorated function (subtracted from everything else);
- ai-telemetry ``@track_tool_call`` in the default buffered mode: what the caller pays, and the
  same amortised over the background flush (the work of turning calls into scrubbed,
  validated JSON lines on disk, done off the caller's thread but on the same interpreter);
- prometheus_client: ``Counter.labels(..).inc()`` + ``Histogram.labels(..).observe()`` with
  pre-bound labels, timed with ``perf_counter`` like ours;
- OpenTelemetry SDK: one span per call (TracerProvider + BatchSpanProcessor, exporter that
  discards);
- the seed's approach: open the log, append one ``json.dumps`` line, close, per event.

Part 2, events per second appended by ``log_event`` in each durability mode, and by
``ai-telemetry log -`` reading JSON Lines on stdin.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def work() -> int:
    return 1


def per_call_ns(func: Callable[[], Any], calls: int, repeat: int) -> float:
    """Median over ``repeat`` runs of the time per call, in nanoseconds."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        runs.append((time.perf_counter() - start) / calls * 1e9)
    return statistics.median(runs)


def ours(directory: Path) -> tuple[Callable[[], Any], Callable[[], None]]:
    import ai_telemetry

    ai_telemetry.configure(telemetry_dir=directory / "ours", durability="buffered")
    return ai_telemetry.track_tool_call("Read")(work), ai_telemetry.flush


def prometheus() -> Callable[[], Any]:
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry()
    calls = Counter("tool_calls", "calls", ["tool", "outcome"], registry=registry)
    latency = Histogram("tool_seconds", "latency", ["tool"], registry=registry)
    ok = calls.labels("Read", "success")
    observed = latency.labels("Read")
    perf = time.perf_counter

    def wrapped() -> Any:
        start = perf()
        result = work()
        ok.inc()
        observed.observe(perf() - start)
        return result

    return wrapped


def opentelemetry(queue: int) -> tuple[Callable[[], Any], Callable[[], None]]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Discard(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    # A queue large enough that no span is dropped (dropping would flatter the peer).
    provider.add_span_processor(BatchSpanProcessor(Discard(), max_queue_size=queue))
    tracer = provider.get_tracer("bench")

    def wrapped() -> Any:
        with tracer.start_as_current_span("Read"):
            return work()

    return wrapped, provider.shutdown


def seed_approach(log: Path) -> Callable[[], Any]:
    from datetime import datetime

    perf = time.perf_counter

    def wrapped() -> Any:
        start = perf()
        outcome = "success"
        try:
            return work()
        finally:
            event = {
                "timestamp": datetime.utcnow().isoformat(),  # the seed's own code
                "event_type": "tool_call",
                "tool": "Read",
                "outcome": outcome,
                "duration_seconds": perf() - start,
            }
            with log.open("a") as handle:
                handle.write(json.dumps(event) + "\n")

    return wrapped


def overhead(calls: int, repeat: int, directory: Path) -> list[tuple[str, float]]:
    bare = per_call_ns(work, calls, repeat)
    rows = [("bare function call (subtracted below)", bare)]
    wrapped, flush = ours(directory)
    rows.append(
        ("ai-telemetry @track_tool_call (buffered)", per_call_ns(wrapped, calls, repeat) - bare)
    )
    runs = []
    for _ in range(repeat):
        flush()  # each amortised run starts with an empty buffer and ends written to disk
        start = time.perf_counter()
        for _ in range(calls):
            wrapped()
        flush()
        runs.append((time.perf_counter() - start) / calls * 1e9 - bare)
    rows.append(("  same, amortised incl. flush to disk", statistics.median(runs)))
    import ai_telemetry

    ai_telemetry.configure(telemetry_dir=directory / "off", enabled=False)
    rows.append(("  same, telemetry disabled", per_call_ns(wrapped, calls, repeat) - bare))
    rows.append(
        ("prometheus_client inc + observe", per_call_ns(prometheus(), calls, repeat) - bare)
    )
    otel, shutdown = opentelemetry(calls * repeat)
    rows.append(("OpenTelemetry SDK span", per_call_ns(otel, max(calls // 4, 1000), repeat) - bare))
    shutdown()
    seed = seed_approach(directory / "seed.jsonl")
    rows.append(
        (
            "seed: open/append/close per event",
            per_call_ns(seed, max(calls // 20, 500), repeat) - bare,
        )
    )
    return rows


def throughput(directory: Path, events: int) -> list[tuple[str, float]]:
    """Events per second through log_event in each durability mode, in a fresh process each."""
    rows = []
    for mode, count in (
        ("buffered", events),
        ("write", events // 4),
        ("fsync", max(events // 100, 200)),
    ):
        code = (
            "import time, ai_telemetry\n"
            f"ai_telemetry.configure(telemetry_dir={str(directory / mode)!r},"
            f" durability={mode!r})\n"
            "start = time.perf_counter()\n"
            f"for i in range({count}):\n"
            "    ai_telemetry.log_event('skill_execution', skill='test-writer', outcome='success',"
            " duration_seconds=1.5)\n"
            "ai_telemetry.flush()\n"
            f"print({count} / (time.perf_counter() - start))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        rows.append((f"log_event, durability {mode}", float(out.stdout)))
    lines = b"".join(
        json.dumps(
            {
                "timestamp": "2025-12-26T10:30:00Z",
                "event_type": "skill_execution",
                "skill": "test-writer",
                "outcome": "success",
                "duration_seconds": 1.5 + i % 7,
            }
        ).encode()
        + b"\n"
        for i in range(events)
    )
    env = {**os.environ, "AI_TELEMETRY_DIR": str(directory / "cli")}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "log", "-"],
        input=lines,
        env=env,
        capture_output=True,
        check=True,
    )
    rows.append(
        ("ai-telemetry log - (stdin, whole process)", events / (time.perf_counter() - start))
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        rows = overhead(args.calls, args.repeat, directory)
        print("| method | overhead per call (ns) | ratio to prometheus_client |")
        print("|---|---|---|")
        prom = dict(rows)["prometheus_client inc + observe"]
        for name, value in rows:
            print(f"| {name} | {value:,.0f} | {value / prom:.2f} |")
        print()
        print("| writer | events per second |")
        print("|---|---|")
        for name, value in throughput(directory, args.events):
            print(f"| {name} | {value:,.0f} |")


if __name__ == "__main__":
    main()
