"""claude-code install/uninstall: merge into settings.json, idempotent, remove only ours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_telemetry.collect.claude_code.settings_install import (
    HOOK_EVENTS,
    install_hooks,
    uninstall_hooks,
)
from ai_telemetry.errors import ConfigError

CLI = Path(sys.executable).parent / "ai-telemetry"
EXISTING = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm test:*)"]},
    "hooks": {
        "PostToolUse": [
            {
                "matcher": "Edit|Write",
                "hooks": [{"type": "command", "command": "npx prettier --write", "timeout": 30}],
            }
        ],
        "Notification": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=2))
    return path


def test_install_adds_every_event_and_keeps_the_rest(settings_file: Path) -> None:
    """Our hooks are added for each event; other keys and hooks stay as they were."""
    install_hooks(settings_file)
    data = json.loads(settings_file.read_text())
    assert data["model"] == "opus" and data["permissions"] == EXISTING["permissions"]
    assert data["hooks"]["Notification"] == EXISTING["hooks"]["Notification"]
    assert data["hooks"]["PostToolUse"][0] == EXISTING["hooks"]["PostToolUse"][0]
    assert set(HOOK_EVENTS) <= set(data["hooks"])
    ours = data["hooks"]["PreToolUse"][0]
    assert ours == {
        "matcher": "*",
        "hooks": [{"type": "command", "command": "ai-telemetry hook", "timeout": 10}],
    }
    assert "matcher" not in data["hooks"]["SessionStart"][0]


def test_install_twice_changes_nothing(settings_file: Path) -> None:
    """A second install leaves the file byte for byte as the first left it."""
    install_hooks(settings_file)
    first = settings_file.read_bytes()
    report = install_hooks(settings_file)
    assert (report.changed, settings_file.read_bytes()) == (False, first)


def test_uninstall_restores_the_original(settings_file: Path) -> None:
    """Uninstall removes only our entries: the settings equal what was there before."""
    install_hooks(settings_file)
    uninstall_hooks(settings_file)
    assert json.loads(settings_file.read_text()) == EXISTING


def test_uninstall_keeps_foreign_hooks_sharing_a_group(settings_file: Path) -> None:
    """A group holding our hook and someone else's keeps theirs."""
    data = json.loads(settings_file.read_text())
    data["hooks"]["Stop"] = [
        {
            "hooks": [
                {"type": "command", "command": "say done"},
                {"type": "command", "command": "/opt/bin/ai-telemetry hook"},
            ]
        }
    ]
    settings_file.write_text(json.dumps(data))
    uninstall_hooks(settings_file)
    assert json.loads(settings_file.read_text())["hooks"]["Stop"] == [
        {"hooks": [{"type": "command", "command": "say done"}]}
    ]


def test_install_creates_a_missing_file(tmp_path: Path) -> None:
    """No settings.json yet: it is created with just our hooks."""
    path = tmp_path / "new" / "settings.json"
    install_hooks(path)
    assert set(json.loads(path.read_text())) == {"hooks"}


def test_broken_json_is_refused_and_left_alone(settings_file: Path) -> None:
    """Invalid JSON raises a ConfigError naming the file; the file is not touched."""
    settings_file.write_text("{ nope")
    with pytest.raises(ConfigError, match=r"settings\.json"):
        install_hooks(settings_file)
    assert settings_file.read_text() == "{ nope"


def test_async_flag_marks_only_events_nobody_waits_for(tmp_path: Path) -> None:
    """--async sets async on PostToolUse but never on PreToolUse (the kill switch)."""
    path = tmp_path / "s.json"
    install_hooks(path, background=True)
    hooks = json.loads(path.read_text())["hooks"]
    assert hooks["PostToolUse"][0]["hooks"][0]["async"] is True
    assert "async" not in hooks["PreToolUse"][0]["hooks"][0]


def test_cli_user_scope_honours_home(tmp_path: Path) -> None:
    """`claude-code install --user` writes $HOME/.claude/settings.json."""
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(CLI), "claude-code", "install", "--user"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "PreToolUse" in json.loads((tmp_path / ".claude/settings.json").read_text())["hooks"]


def test_cli_project_scope_is_the_default(tmp_path: Path) -> None:
    """Without --user, the project's .claude/settings.json is used."""
    home = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run(
        [str(CLI), "claude-code", "install"],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (project / ".claude/settings.json").exists()
    assert not (home / ".claude/settings.json").exists()
