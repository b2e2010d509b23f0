"""Helpers shared by the log tests: the writer child script and ways to look at a log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

CHILD = Path(__file__).with_name("log_writer_child.py")


def child_env() -> dict[str, str]:
    """The environment for child processes: no AI_TELEMETRY_* from the developer's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}


def start_child(*args: str, stdout: int | None = None) -> subprocess.Popen[bytes]:
    """Start the writer child script with these arguments."""
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=stdout, env=child_env())


def log_lines(path: Path) -> list[bytes]:
    """The raw lines of a file, newline kept, so a missing one shows."""
    with path.open("rb") as fh:
        return list(fh)


def parsed(path: Path) -> list[dict[str, object]]:
    """Every line of a log parsed as JSON (fails on a torn or interleaved line)."""
    return [orjson.loads(line) for line in log_lines(path)]
