"""Wall time of one ``ai-telemetry statusline`` process against a bare ``python -c pass``.

Claude Code runs the status line on every refresh, so it has the hook's budget: at most 2x a
bare interpreter start. Interleaved in one loop (machine load hits all alike): the bare
interpreter, ``python -m ai_telemetry statusline`` and the console script
``.venv/bin/ai-telemetry statusline``, each fed Claude Code's documented status JSON on stdin,
with a fresh ``statusline.cache`` (the normal case: a refresh ran less than 30 s ago; a refresh
lock is held so no background refresh starts during the run). Prints median and p95 in
milliseconds and the ratio to the bare interpreter.

``PYTHONDONTWRITEBYTECODE`` is dropped so every row runs from ``.pyc`` files, as installed
packages do.

    .venv/bin/python bench/statusline_bench.py [--runs 200]
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

from ai_telemetry.collect.claude_code import statusline

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = (ROOT / "tests" / "data" / "claude_code" / "statusline_payload.json").read_bytes()


def measure(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, input=PAYLOAD, capture_output=True, env=env, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0 or done.stderr:
        raise SystemExit(f"{cmd}: exit {done.returncode}: {done.stderr[:300]!r}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        env["AI_TELEMETRY_DIR"] = tmp
        data = json.loads(PAYLOAD)
        cache = {
            "computed_epoch": time.time() + 3600,  # fresh for the whole run
            "today": time.strftime("%Y-%m-%d", time.gmtime()),
            "today_cost_usd": 4.56,
            "block_end": time.time() + 7200,
            "block_cost_usd": 2.1,
            "week_skill_success_rate": 0.92,
            "sessions": {data["session_id"]: 1.23},
        }
        Path(tmp, statusline.CACHE_FILE).write_text(statusline.format_cache(cache))
        Path(tmp, ".statusline-refresh.lock").touch()
        script = str(Path(sys.executable).with_name("ai-telemetry"))
        rows = {
            "bare python -c pass": [sys.executable, "-c", "pass"],
            "python -m ai_telemetry statusline": [
                sys.executable,
                "-m",
                "ai_telemetry",
                "statusline",
            ],
            "ai-telemetry statusline (console script)": [script, "statusline"],
        }
        times: dict[str, list[float]] = {name: [] for name in rows}
        for cmd in rows.values():  # warm-up: .pyc files written, caches hot
            measure(cmd, env)
        for _ in range(args.runs):
            for name, cmd in rows.items():
                times[name].append(measure(cmd, env))
        out = subprocess.run(
            rows["python -m ai_telemetry statusline"],
            input=PAYLOAD,
            capture_output=True,
            env=env,
            check=True,
        ).stdout.decode()
    bare = statistics.median(times["bare python -c pass"])
    print(f"line: {out.strip()}")
    for name, values in times.items():
        p95 = statistics.quantiles(values, n=20)[-1]
        median = statistics.median(values)
        print(f"{name:<42} median {median:6.1f} ms  p95 {p95:6.1f} ms  {median / bare:4.2f}x bare")


if __name__ == "__main__":
    main()
