"""The hook records the folders a task touched on its skill executions (issue 19 §2): folder
prefixes of Read/Edit/Write paths inside the project, depth configurable, never file names."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ai_telemetry.collect.claude_code.hook import run_hook, task_folder

SKILL = {"tool_name": "Skill", "tool_input": {"skill": "test-writer"}, "tool_use_id": "t_s"}


def _run(root: Path, payloads: list[dict[str, Any]], **env: str) -> list[dict[str, Any]]:
    environ = {"CLAUDE_PROJECT_DIR": str(root), "AI_TELEMETRY_RAISE": "1", **env}
    for number, item in enumerate(payloads):
        run_hook(
            [],
            stdin=io.BytesIO(json.dumps({"session_id": "s1", **item}).encode()),
            stderr=io.StringIO(),
            environ=environ,
            clock=lambda n=number: 1_767_225_600.0 + n,
        )
    log = root / ".claude" / "Telemetry" / "events.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _touch(root: Path, tool: str, path: str, n: int) -> list[dict[str, Any]]:
    call = {"tool_name": tool, "tool_input": {"file_path": path}, "tool_use_id": f"t{n}"}
    return [
        {"hook_event_name": "PreToolUse", **call},
        {"hook_event_name": "PostToolUse", **call},
    ]


def _skill_run(root: Path) -> list[dict[str, Any]]:
    return [
        {"hook_event_name": "PreToolUse", **SKILL},
        {"hook_event_name": "PostToolUse", **SKILL, "tool_response": {"success": True}},
    ]


def test_skill_execution_carries_the_folders_of_its_task(tmp_path: Path) -> None:
    """Read/Edit paths give src/api and tests/unit; the file names stay out of the log."""
    steps = [
        {"hook_event_name": "UserPromptSubmit"},
        *_touch(tmp_path, "Read", str(tmp_path / "src" / "api" / "routes" / "secret_plan.py"), 1),
        *_touch(tmp_path, "Edit", "tests/unit/test_routes.py", 2),
        *_touch(tmp_path, "Write", "README.md", 3),
        *_touch(tmp_path, "Read", "/etc/passwd", 4),
        *_skill_run(tmp_path),
    ]
    events = _run(tmp_path, steps)
    [done] = [e for e in events if e.get("skill") and e["outcome"] != "started"]
    assert ".,src/api,tests/unit" == done["folders"]
    text = json.dumps(events)
    for private in ("secret_plan", "test_routes", "passwd", "README"):
        assert private not in text


def test_depth_is_configurable_and_zero_turns_it_off(tmp_path: Path) -> None:
    """AI_TELEMETRY_FOLDER_DEPTH=1 keeps src; 0 records no folders at all."""
    steps = [*_touch(tmp_path, "Edit", "src/api/routes/a.py", 1), *_skill_run(tmp_path)]
    one = _run(tmp_path / "one", steps, AI_TELEMETRY_FOLDER_DEPTH="1")
    assert ["src"] == [e["folders"] for e in one if "folders" in e]
    off = _run(tmp_path / "off", steps, AI_TELEMETRY_FOLDER_DEPTH="0")
    assert [] == [e for e in off if "folders" in e]


def test_a_new_prompt_starts_a_new_set_of_folders(tmp_path: Path) -> None:
    """Folders of the previous prompt do not leak into the next task's skill run."""
    steps = [
        *_touch(tmp_path, "Edit", "docs/a.md", 1),
        {"hook_event_name": "UserPromptSubmit"},
        *_touch(tmp_path, "Edit", "src/b.py", 2),
        *_skill_run(tmp_path),
    ]
    [done] = [e for e in _run(tmp_path, steps) if e.get("outcome") == "success" and "skill" in e]
    assert "src" == done["folders"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/api/x.py", "src/api"),
        ("./src/x.py", "src"),
        ("x.py", "."),
        ("../other/x.py", None),
        ("~/x.py", None),
        ("", None),
        (42, None),
    ],
)
def test_task_folder(path: object, expected: str | None) -> None:
    """Only folders inside the project, cut to the depth."""
    assert expected == task_folder(path, "/work/project", 2)
