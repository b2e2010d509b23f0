"""``import claude-code`` on 35, 350 and 3,500 transcript files against ccusage, same run.

The corpus is the real public transcripts of ``tests/data/claude_code`` (``projects/`` and
``progress/``, provenance in its README), copied N times in all; each copy gets its own
session, message and request ids, so every copy is new usage (nothing de-duplicates away).
Per size it times, each as a fresh process:

- ``ai-telemetry import claude-code ROOT`` on an empty telemetry dir (first import),
- the same again with nothing new (re-import),
- ``ccusage daily --json --offline`` over the same files (``CLAUDE_CONFIG_DIR``), which reads
  every file every time,

and checks that both count the same tokens. ``PYTHONDONTWRITEBYTECODE`` is dropped so our
process runs from ``.pyc`` files, as an installed package does. Goals (issue 13): first-import
cost per file at 3,500 within 1.2x of that at 35; the first import of 3,500 within 3x of
ccusage's read; a re-import with nothing new under 1 s at 3,500.

    .venv/bin/python bench/import_bench.py [--sizes 35,350,3500] [--ccusage PATH]

``--ccusage`` is the ccusage command (default: ``npx --yes ccusage@20.0.24``; with a local
install, ``node_modules/.bin/ccusage``). Without node the ccusage column says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "claude_code"
SOURCES = ("projects", "progress")
FIELDS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


def corpus() -> list[tuple[Path, Path]]:
    """(source file, path relative to a projects root) of every real sample transcript."""
    out = []
    for folder in SOURCES:
        base = DATA / folder
        out += [(p, Path(folder) / p.relative_to(base)) for p in sorted(base.rglob("*.jsonl"))]
    return out


def build(root: Path, n: int) -> None:
    """``n`` transcript files under ``root/projects``, copies of the corpus with fresh ids."""
    files = corpus()
    texts = {src: src.read_text("utf-8") for src, _ in files}
    for i in range(n):
        src, rel = files[i % len(files)]
        copy = i // len(files)
        tag = f"{copy:06x}"
        body = (
            texts[src]
            .replace('"msg_', f'"msg_{tag}')
            .replace('"req_', f'"req_{tag}')
            .replace('"sessionId":"', f'"sessionId":"{tag}-')
        )
        parts = list(rel.parts[1:])
        parts[0] = f"{parts[0]}-{rel.parts[0]}-{copy:06d}"
        target = root / "projects" / Path(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, "utf-8")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)}: exit {done.returncode}: {done.stderr[-500:]}")
    return elapsed, done.stdout


def ours(root: Path, env: dict[str, str]) -> tuple[float, float, dict[str, int]]:
    telemetry = root / "telemetry"
    env = {**env, "AI_TELEMETRY_DIR": str(telemetry)}
    cmd = [sys.executable, "-m", "ai_telemetry", "import", "claude-code", str(root / "projects")]
    first, _ = timed([*cmd, "--json"], env)
    again, out = timed([*cmd, "--json"], env)
    if json.loads(out)["opened"] != 0:
        raise SystemExit("the re-import opened files")
    latest: dict[str, dict[str, int]] = {}
    for line in (telemetry / "events.jsonl").read_text("utf-8").splitlines():
        event = json.loads(line)
        if event["event_type"] == "llm_request":
            latest[event["event_id"]] = event
    totals = {
        "inputTokens": sum(e["input_tokens"] for e in latest.values()),
        "outputTokens": sum(e["output_tokens"] for e in latest.values()),
        "cacheCreationTokens": sum(e["cache_creation_input_tokens"] for e in latest.values()),
        "cacheReadTokens": sum(e["cache_read_input_tokens"] for e in latest.values()),
    }
    return first, again, totals


def ccusage(root: Path, command: list[str], env: dict[str, str]) -> tuple[float, dict[str, int]]:
    env = {**env, "CLAUDE_CONFIG_DIR": str(root)}
    elapsed, out = timed([*command, "daily", "--json", "--offline"], env)
    totals = json.loads(out)["totals"]
    return elapsed, {f: int(totals[f]) for f in FIELDS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="35,350,3500")
    parser.add_argument("--ccusage", default="npx --yes ccusage@20.0.24")
    args = parser.parse_args()
    command = shlex.split(args.ccusage)
    has_node = shutil.which(command[0]) is not None or Path(command[0]).exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # run from .pyc files, as installed packages do
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
            root = Path(tmp)
            build(root, n)
            first, again, mine = ours(root, env)
            cc_time, theirs = ccusage(root, command, env) if has_node else (None, None)
            if theirs is not None and theirs != mine:
                raise SystemExit(f"{n} files: totals differ: ours {mine}, ccusage {theirs}")
            rows.append((n, first, again, cc_time))
            print(
                f"{n:>6} files: first import {first:7.2f} s ({first / n * 1000:6.2f} ms/file), "
                f"re-import {again:5.2f} s, ccusage "
                + (f"{cc_time:6.2f} s" if cc_time is not None else "not installed")
                + (", same totals" if theirs is not None else ""),
                flush=True,
            )
    base = rows[0][1] / rows[0][0]
    for n, first, _again, cc_time in rows[1:]:
        ratio = f", {first / cc_time:.2f}x ccusage" if cc_time else ""
        print(f"{n} files: cost per file {first / n / base:.2f}x that at {rows[0][0]}{ratio}")


if __name__ == "__main__":
    main()
