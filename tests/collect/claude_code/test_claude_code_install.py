"""claude-code install/uninstall: merge into settings.json, idempotent, remove only ours."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ai_telemetry.collect.claude_code.settings_install import (
    HOOK_EVENTS,
    default_command,
    install_hooks,
    is_our_command,
    uninstall_hooks,
)
from ai_telemetry.errors import ConfigError

CLI = Path(sys.executable).parent / "ai-telemetry"
MAIN = "ai_telemetry/collect/claude_code/hook_main.py"
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
        "hooks": [{"type": "command", "command": default_command(), "timeout": 10}],
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


def _claude_code_shell(tmp_path: Path, project: Path) -> dict[str, str]:
    """The environment of a shell Claude Code was started from: no virtualenv on PATH."""
    return {
        "HOME": str(tmp_path / "home"),
        "PATH": "/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
        "CLAUDE_PROJECT_DIR": str(project),
        "AI_TELEMETRY_STATE_DIR": str(tmp_path / "state"),
        "AI_TELEMETRY_HOOK_DAEMON": "0",
    }


def _our_command(settings: Path) -> str:
    groups = json.loads(settings.read_text())["hooks"]["PostToolUse"]
    commands = [h["command"] for g in groups for h in g["hooks"] if is_our_command(h["command"])]
    assert 1 == len(commands)
    return str(commands[0])


def test_installed_command_is_absolute_and_runs_without_the_venv_on_path(tmp_path: Path) -> None:
    """The command install writes runs from a shell whose PATH lacks the venv, and records."""
    project = tmp_path / "project"
    project.mkdir()
    done = subprocess.run(
        [str(CLI), "claude-code", "install"],
        capture_output=True,
        text=True,
        cwd=project,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    command = _our_command(project / ".claude/settings.json")
    program = shlex.split(command)[0]
    assert (True, True) == (Path(program).is_absolute(), Path(program).exists())
    shell = _claude_code_shell(tmp_path, project)
    missing = subprocess.run(["/bin/sh", "-c", "command -v ai-telemetry"], env=shell, check=False)
    assert 0 != missing.returncode  # the bare command would fail here with exit 127
    payload = {"session_id": "s1", "hook_event_name": "PostToolUse", "tool_name": "Read"}
    hook = subprocess.run(
        ["/bin/sh", "-c", command],
        input=json.dumps(payload).encode(),
        capture_output=True,
        env=shell,
        cwd=project,
        check=False,
        timeout=60,
    )
    assert (0, b"", b"") == (hook.returncode, hook.stdout, hook.stderr)
    log = (project / ".claude/Telemetry/events.jsonl").read_text().splitlines()
    assert ["Read"] == [json.loads(line)["tool"] for line in log]


def test_reinstall_updates_an_old_command(settings_file: Path) -> None:
    """Entries of ours with another command (the old bare one) get the new one; none is added."""
    install_hooks(settings_file, command="ai-telemetry hook")
    report = install_hooks(settings_file)
    assert (list(HOOK_EVENTS), [], True) == (report.updated, report.added, report.changed)
    assert default_command() == _our_command(settings_file)
    assert not install_hooks(settings_file).changed


def _doctor_hook_checks(project: Path, env: dict[str, str]) -> list[dict[str, str]]:
    done = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "doctor", "--json"],
        capture_output=True,
        env=env,
        cwd=project,
        check=False,
        timeout=60,
    )
    checks: list[dict[str, str]] = json.loads(done.stdout)["checks"]
    return [c for c in checks if c["name"] == "claude code hook command"]


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("ai-telemetry hook", "exit 127"),
        (f"/gone/venv/bin/python3 -I -S /gone/{MAIN} hook", "exit 127"),
        (f"{sys.executable} -I -S /moved/{MAIN} hook", "exits 2"),
    ],
    ids=["bare name", "deleted venv", "moved package"],
)
def test_doctor_fails_a_hook_command_claude_code_cannot_run(
    tmp_path: Path, command: str, says: str
) -> None:
    """doctor runs the configured command as Claude Code would and says why it cannot."""
    project = tmp_path / "project"
    install_hooks(project / ".claude/settings.json", command=command)
    # The venv is on doctor's own PATH, as when a user runs it: the check must not be fooled.
    env = {
        **os.environ,
        "PATH": f"{CLI.parent}:{os.environ['PATH']}",
        "VIRTUAL_ENV": str(CLI.parent.parent),
        "HOME": str(tmp_path / "home"),
    }
    [check] = _doctor_hook_checks(project, env)
    assert ("fail", True) == (check["status"], says in check["detail"]), check
    assert "claude-code install" in check["fix"]
    subprocess.run(
        [str(CLI), "claude-code", "install"], cwd=project, env=env, check=True, capture_output=True
    )
    [check] = _doctor_hook_checks(project, env)
    assert "ok" == check["status"], check
