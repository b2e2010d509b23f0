"""A config.toml or .env that is not a plain small file blocks nothing (issue 20 §4).

A FIFO there would block every hook and CLI call in ``open``/``read``, ``/dev/zero`` or a huge
file would fill memory. The CLI says so in one line and exits non-zero; the Claude Code hook,
a separate process, stays silent, answers within 1 s and records the failure where doctor
looks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ai_telemetry.config import SETTINGS_FILE_MAX, load_settings

CLI = str(Path(sys.executable).with_name("ai-telemetry"))
PAYLOAD = {
    "session_id": "sess-fifo",
    "hook_event_name": "PostToolUse",
    "tool_name": "Bash",
    "tool_use_id": "toolu_1",
}


def _plant(kind: str, path: Path) -> str:
    """Put a hostile ``kind`` at ``path``; return the words the error must carry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
        return "is a FIFO (named pipe), not a regular file"
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
        return "is a character device, not a regular file"
    path.write_bytes(b"# padding\n" * (SETTINGS_FILE_MAX // 10 + 1))
    return "is larger than 1 MiB"


def _run(
    args: list[str], cwd: Path, stdin: str = ""
) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    proc = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, "CLAUDE_PROJECT_DIR": str(cwd)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return proc, time.monotonic() - began


def _hook_problems() -> list[dict[str, object]]:
    status = Path(os.environ["AI_TELEMETRY_STATE_DIR"]) / "sdk-status.jsonl"
    lines = status.read_text().splitlines() if status.exists() else []
    return [p for p in map(json.loads, lines) if p["kind"] == "hook_error"]


@pytest.mark.parametrize("name", ["config.toml", ".env"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge"])
def test_hostile_settings_file(tmp_path: Path, telemetry_dir: Path, name: str, kind: str) -> None:
    """CLI: one line naming the file, exit 2. Hook: exit 0, silent, < 1 s, recorded."""
    path = (telemetry_dir if name == "config.toml" else tmp_path) / name
    words = _plant(kind, path)
    cli, cli_took = _run(
        [CLI, "log", "skill_execution", "-f", "skill=t", "-f", "outcome=ok"], tmp_path
    )
    assert (2, 1) == (cli.returncode, len(cli.stderr.splitlines())), cli.stderr
    assert f"ai-telemetry: error: {path} {words}" in cli.stderr, cli.stderr
    assert cli_took < 10
    hook, took = _run([CLI, "hook"], tmp_path, json.dumps(PAYLOAD))
    assert (0, "", "") == (hook.returncode, hook.stdout, hook.stderr)
    assert took < 1.0, took
    messages = [str(p["message"]) for p in _hook_problems()]
    assert 1 == len(messages) and f"{path} {words}" in messages[0], messages
    assert not (telemetry_dir / "events.jsonl").exists()


def test_a_directory_named_env_is_not_ours(tmp_path: Path, telemetry_dir: Path) -> None:
    """A virtualenv called .env is skipped, as before: settings load, nothing refused."""
    (tmp_path / ".env").mkdir()
    (tmp_path / ".env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert telemetry_dir / "events.jsonl" == load_settings(cwd=tmp_path).log_path


def test_a_linked_regular_settings_file_is_read(tmp_path: Path, telemetry_dir: Path) -> None:
    """A user's config.toml symlinked from their dotfiles still works (reads follow links)."""
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text('durability = "fsync"\n')
    telemetry_dir.mkdir()
    (telemetry_dir / "config.toml").symlink_to(real)
    assert "fsync" == load_settings(cwd=tmp_path).durability
