"""Wall time of one ``ai-telemetry hook`` process against a bare ``python -c pass``.

Runs, interleaved in one loop so machine load hits all alike: the bare interpreter, the
console script ``.venv/bin/ai-telemetry hook`` and ``python -m ai_telemetry hook``, each fed a
real PostToolUse payload on stdin (writing to a temporary telemetry dir), once with the hook
daemon warm (the normal case: a warm-up call starts it) and once with it disabled
(``AI_TELEMETRY_HOOK_DAEMON=0``: the whole hook in the process, as on a first call). Prints
median and p95 in milliseconds and the ratio to the bare interpreter. Goal: hook <= 2x bare.

``PYTHONDONTWRITEBYTECODE`` is dropped so every row runs from ``.pyc`` files, as installed
packages do.

    .venv/bin/python bench/hook_bench.py [--runs 200]
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


def stop_daemon(run_dir: Path) -> None:
    """SIGTERM the daemon whose pid is in a lock file, if it still holds that lock."""
    for lock in run_dir.glob("hook-*.lock"):
        with lock.open("rb") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                continue  # nobody holds it: the pid inside is stale
            except BlockingIOError:
                pid = fh.read().strip()
        if pid.isdigit():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)


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
        base_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("AI_TELEMETRY_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        base_env.update(CLAUDE_PROJECT_DIR=tmp, AI_TELEMETRY_STATE_DIR=f"{tmp}/state")
        warm = {**base_env, "AI_TELEMETRY_HOOK_DAEMON_IDLE": "120"}
        cold = {**base_env, "AI_TELEMETRY_HOOK_DAEMON": "0", "AI_TELEMETRY_RAISE": "1"}
        module = [python, "-m", "ai_telemetry", "hook"]
        cases = {
            "python -c pass": ([python, "-c", "pass"], b"", base_env),
            "ai-telemetry hook": ([script, "hook"], PAYLOAD, warm),
            "python -m ai_telemetry hook": (module, PAYLOAD, warm),
            "ai-telemetry hook, no daemon": ([script, "hook"], PAYLOAD, cold),
            "python -m ..., no daemon": (module, PAYLOAD, cold),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for cmd, stdin, env in cases.values():  # warm-up: page cache, .pyc files, daemon
            measure(cmd, stdin=stdin, env=env)
        time.sleep(1.0)  # the first daemon call started the daemon: let it come up
        try:
            for _ in range(args.runs):
                for name, (cmd, stdin, env) in cases.items():
                    times[name].append(measure(cmd, stdin=stdin, env=env))
        finally:
            stop_daemon(Path(tmp) / "state/run")
        lines = (Path(tmp) / ".claude/Telemetry/events.jsonl").read_text().count("\n")
    base = statistics.median(times["python -c pass"])
    print(f"{args.runs} runs each, interleaved; {lines} events written")
    print(f"{'command':<32}{'median ms':>10}{'p95 ms':>10}{'x bare':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<32}{median:>10.1f}{p95(values):>10.1f}{median / base:>8.2f}")


if __name__ == "__main__":
    main()
