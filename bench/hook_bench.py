"""Wall time of one ``ai-telemetry hook`` process against a bare ``python -c pass``.

Runs, interleaved in one loop so machine load hits all alike: the bare interpreter, the
console script ``.venv/bin/ai-telemetry hook`` and ``python -m ai_telemetry hook``, each fed a
real PostToolUse payload on stdin (writing to a temporary telemetry dir). Prints median and p95
in milliseconds and the ratio to the bare interpreter. Goal: hook <= 2x bare.

    .venv/bin/python bench/hook_bench.py [--runs 200]
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
from pathlib import Path

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


def measure(cmd: list[str], *, stdin: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or done.stdout or done.stderr:
        raise SystemExit(f"{cmd}: exit {done.returncode}, {done.stderr[:300]!r}")
    return elapsed * 1000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    python = sys.executable
    script = str(Path(python).parent / "ai-telemetry")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CLAUDE_PROJECT_DIR": tmp, "AI_TELEMETRY_RAISE": "1"}
        cases = {
            "python -c pass": ([python, "-c", "pass"], b""),
            "ai-telemetry hook": ([script, "hook"], PAYLOAD),
            "python -m ai_telemetry hook": ([python, "-m", "ai_telemetry", "hook"], PAYLOAD),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for cmd, stdin in cases.values():  # warm-up: page cache, .pyc files
            measure(cmd, stdin=stdin, env=env)
        for _ in range(args.runs):
            for name, (cmd, stdin) in cases.items():
                times[name].append(measure(cmd, stdin=stdin, env=env))
        lines = (Path(tmp) / ".claude/Telemetry/events.jsonl").read_text().count("\n")
    base = statistics.median(times["python -c pass"])
    print(f"{args.runs} runs each, interleaved; {lines} events written")
    print(f"{'command':<30}{'median ms':>10}{'p95 ms':>10}{'x bare':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<30}{median:>10.1f}{p95(values):>10.1f}{median / base:>8.2f}")


if __name__ == "__main__":
    main()
