"""The hook records a Skill run's ``skill_version``: the git blob id of the SKILL.md Claude Code
read (the project's ``.claude/skills`` first, then the user's), so an edit opens an experiment
(issue 18 §3)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

from ai_telemetry.collect.claude_code.hook import run_hook

SKILL = {"tool_name": "Skill", "tool_input": {"skill": "test-writer"}, "tool_use_id": "t_s"}


def _skill_run(root: Path, home: Path, n: int) -> dict[str, Any]:
    environ = {"CLAUDE_PROJECT_DIR": str(root), "HOME": str(home), "AI_TELEMETRY_RAISE": "1"}
    for step, name in enumerate(("PreToolUse", "PostToolUse")):
        payload = {"session_id": "s1", "hook_event_name": name, **SKILL, "tool_use_id": f"t{n}"}
        run_hook(
            [],
            stdin=io.BytesIO(json.dumps(payload).encode()),
            stderr=io.StringIO(),
            environ=environ,
            clock=lambda step=step: 1_767_225_600.0 + 10 * n + step,
        )
    log = root / ".claude" / "Telemetry" / "events.jsonl"
    events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [e for e in events if e.get("skill") and e["outcome"] != "started"][-1]


def _write_skill(base: Path, text: str) -> Path:
    path = base / ".claude" / "skills" / "test-writer" / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _git_blob(path: Path) -> str:
    return subprocess.run(
        ["git", "hash-object", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()[:12]


def test_the_version_is_the_skill_files_git_blob_id_and_follows_edits(tmp_path: Path) -> None:
    """Version = `git hash-object SKILL.md` (12 hex); editing the file changes it."""
    project, home = tmp_path / "p", tmp_path / "home"
    path = _write_skill(project, "---\nname: test-writer\n---\nWrite the tests first.\n")
    first = _skill_run(project, home, 1)
    assert first["skill_version"] == _git_blob(path)
    path.write_text("---\nname: test-writer\n---\nWrite the failing test first.\n")
    second = _skill_run(project, home, 2)
    assert second["skill_version"] == _git_blob(path) != first["skill_version"]
    assert "failing test" not in json.dumps([first, second])  # the hash only, never the text


def test_the_users_skill_is_found_and_the_projects_wins(tmp_path: Path) -> None:
    """~/.claude/skills when the project has none; the project's copy when both have it."""
    project, home = tmp_path / "p", tmp_path / "home"
    user = _write_skill(home, "user copy\n")
    assert _skill_run(project, home, 1)["skill_version"] == _git_blob(user)
    mine = _write_skill(project, "project copy\n")
    assert _skill_run(project, home, 2)["skill_version"] == _git_blob(mine)


def test_no_skill_file_means_no_version(tmp_path: Path) -> None:
    """A skill whose SKILL.md is not on disk here (a plugin's): no skill_version field."""
    event = _skill_run(tmp_path / "p", tmp_path / "home", 1)
    assert "skill_version" not in event
    assert event["skill"] == "test-writer"
