"""ai-telemetry statusline and claude-code install --statusline."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ai_telemetry.cli import cli
from ai_telemetry.collect.claude_code import statusline
from ai_telemetry.config import load_settings
from ai_telemetry.log.sink import append_events

DATA = Path(__file__).parents[2] / "data" / "claude_code"
SESSION = "sess-usage-1"


def payload(transcript: Path, project: Path, session: str = SESSION) -> bytes:
    """Claude Code's documented status JSON, pointed at our fixture session."""
    data: dict[str, Any] = json.loads((DATA / "statusline_payload.json").read_text())
    data.update(session_id=session, transcript_path=str(transcript), cwd=str(project))
    data["workspace"] = {"current_dir": str(project), "project_dir": str(project)}
    return json.dumps(data).encode()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder and, as ~/.claude/projects would hold them, the usage fixtures."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(DATA / "usage", tmp_path / "claude-projects")
    return root


def transcript_of(project: Path) -> Path:
    return project.parent / "claude-projects" / "-work-projects-alpha" / "sess-usage-1.jsonl"


def test_refresh_then_the_line_has_our_numbers(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 09:30 on 9 March: session $0.03, today $0.01, block 4h30m left, skills 50%."""
    telemetry = project / ".claude" / "Telemetry"
    monkeypatch.delenv("AI_TELEMETRY_DIR", raising=False)
    monkeypatch.delenv("AI_TELEMETRY_LOG_PATH", raising=False)
    beta = project.parent / "claude-projects" / "-work-projects-beta"
    settings = load_settings(environ={}, telemetry_dir=telemetry)
    from ai_telemetry.collect.claude_code.transcripts import import_transcripts

    import_transcripts([beta], settings=settings)  # the other project's session, imported before
    append_events(
        [
            {"event_type": "skill_execution", "timestamp": ts, "skill": "tdd", "outcome": o}
            for ts, o in [
                ("2026-03-02T10:00:00Z", "started"),
                ("2026-03-02T10:05:00Z", "success"),
                ("2026-03-02T11:00:00Z", "started"),
                ("2026-03-02T11:05:00Z", "error"),
            ]
        ],
        settings=settings,
    )
    now = datetime(2026, 3, 9, 9, 30, tzinfo=UTC).timestamp()
    statusline.refresh(
        session_id=SESSION,
        transcript=transcript_of(project),
        now=now,
        settings_dir=str(telemetry),
    )
    raw = payload(transcript_of(project), project)
    line = statusline.render(raw, now=now + 5)
    assert "session $0.03 | today $0.01 | block $0.01, 4h29m left | skills 50% (7d)" == line


def test_fast_path_from_stdin_refreshes_in_the_background(project: Path) -> None:
    """A real process per call: Claude Code's own cost first, ours once the refresh ran."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    raw = payload(transcript_of(project), project)
    cmd = [sys.executable, "-m", "ai_telemetry", "statusline"]
    first = subprocess.run(cmd, input=raw, capture_output=True, env=env, check=True, cwd=project)
    assert b"session $0.01 | today $0.00" == first.stdout.strip()  # the payload's 0.01234
    assert b"" == first.stderr
    cache = project / ".claude" / "Telemetry" / "statusline.cache"
    deadline = time.monotonic() + 60
    while not cache.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cache.exists(), "the background refresh wrote no statusline.cache"
    second = subprocess.run(cmd, input=raw, capture_output=True, env=env, check=True, cwd=project)
    assert second.stdout.startswith(b"session $0.03 | today $0.00")  # ours: u1 + u2 + u3


def test_fast_path_loads_neither_click_nor_duckdb(project: Path) -> None:
    """What runs on every refresh imports json, os and time, not click, duckdb or pathlib."""
    probe = (
        "import sys, io; sys.stdin = io.TextIOWrapper(io.BytesIO(b'{}')); "
        "sys.argv = ['ai-telemetry', 'statusline']; "
        "from ai_telemetry.__main__ import main; main(); "
        "print(sorted(m for m in ('click', 'duckdb', 'pathlib', 'orjson', 'ai_telemetry.config') "
        "if m in sys.modules), file=sys.stderr)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env["AI_TELEMETRY_DIR"] = str(project / "t")
    (project / "t").mkdir()
    (project / "t" / statusline.LOCK_FILE).touch()  # no background refresh for this probe
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert "[]" == done.stderr.strip().splitlines()[-1]
    assert "today $0.00" == done.stdout.strip()


def test_garbage_on_stdin_still_prints_a_line(tmp_path: Path) -> None:
    """Not JSON: a line anyway, exit 0 (someone else's screen)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env["AI_TELEMETRY_DIR"] = str(tmp_path)
    (tmp_path / statusline.LOCK_FILE).touch()
    done = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "statusline"],
        input=b"not json {",
        capture_output=True,
        env=env,
        check=False,
    )
    assert (0, b"today $0.00\n", b"") == (done.returncode, done.stdout, done.stderr)


# --- claude-code install --statusline ------------------------------------------------------


def install(settings: Path, *extra: str) -> Any:
    return CliRunner().invoke(cli, ["claude-code", "install", "--settings", str(settings), *extra])


def test_install_statusline_is_idempotent(tmp_path: Path) -> None:
    """Twice: the second run changes nothing; hooks and other keys stay."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"model": "opus", "hooks": {}}))
    first = install(path, "--statusline")
    assert 0 == first.exit_code, first.output
    after_first = path.read_text()
    data = json.loads(after_first)
    # absolute, like the hook's command: Claude Code's shell has no venv on PATH
    ours = shlex.join([sys.executable, "-I", "-m", "ai_telemetry", "statusline"])
    assert {"type": "command", "command": ours, "padding": 0} == data["statusLine"]
    assert "opus" == data["model"]
    assert "PostToolUse" in data["hooks"]
    second = install(path, "--statusline")
    assert 0 == second.exit_code
    assert f"already runs {ours}; nothing changed" in second.output
    assert after_first == path.read_text()


def test_install_statusline_follows_an_absolute_hook_command(tmp_path: Path) -> None:
    """--command /opt/venv/bin/ai-telemetry hook gives /opt/venv/bin/ai-telemetry statusline."""
    path = tmp_path / "settings.json"
    result = install(path, "--statusline", "--command", "/opt/venv/bin/ai-telemetry hook")
    assert 0 == result.exit_code, result.output
    command = json.loads(path.read_text())["statusLine"]["command"]
    assert "/opt/venv/bin/ai-telemetry statusline" == command


def test_install_never_replaces_another_status_line(tmp_path: Path) -> None:
    """Someone's own statusLine: a clear error, the file untouched."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"statusLine": {"type": "command", "command": "~/my.sh"}}))
    before = path.read_text()
    result = install(path, "--statusline")
    assert 2 == result.exit_code  # a configuration error
    assert "statusLine already runs '~/my.sh'" in result.stderr
    assert before == path.read_text()


def test_uninstall_removes_our_status_line_only(tmp_path: Path) -> None:
    """uninstall drops our statusLine with our hooks; a foreign one would stay."""
    path = tmp_path / "settings.json"
    install(path, "--statusline")
    result = CliRunner().invoke(cli, ["claude-code", "uninstall", "--settings", str(path)])
    assert 0 == result.exit_code, result.output
    assert "statusLine" not in json.loads(path.read_text())


def test_field_reads_json_strings_and_numbers_as_json_does() -> None:
    """Escapes, spaces, a key name appearing as a value first: the same as json.loads."""
    data = {
        "note": "session_id",
        "path": 'C:\\dir\\"quoted" \u00e9\n',
        "workspace": {"project_dir": "/p/\u2603"},
        "session_id": "abc",
        "cost": {"total_cost_usd": 12.5e-1},
    }
    for text in (
        json.dumps(data),
        json.dumps(data, indent=3),
        json.dumps(data, ensure_ascii=False),
    ):
        assert "abc" == statusline.field(text, "session_id")
        assert data["path"] == statusline.field(text, "path")
        assert "/p/\u2603" == statusline.field(text, "project_dir")
        assert 1.25 == statusline.field(text, "total_cost_usd")
        assert statusline.field(text, "workspace") is None
        assert statusline.field(text, "missing") is None


def test_cache_round_trips() -> None:
    """format_cache then parse_cache gives the numbers back."""
    data = {
        "computed_epoch": 1772000000.5,
        "computed_at": "2026-03-09T09:30:00Z",
        "today": "2026-03-09",
        "today_cost_usd": 0.0098,
        "block_end": 1772046000.0,
        "block_cost_usd": 0.0098,
        "week_skill_success_rate": 0.5,
        "sessions": {"sess-1": 0.03235, "sess-2": 0.0},
    }
    assert data == statusline.parse_cache(statusline.format_cache(data))


def test_a_failing_refresh_keeps_its_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken setup: the refresh fails and leaves the lock, so no process per refresh."""
    from ai_telemetry.errors import AITelemetryError

    monkeypatch.setenv("AI_TELEMETRY_DIR", str(tmp_path))
    (tmp_path / "config.toml").write_text("not [toml\n")
    lock = tmp_path / statusline.LOCK_FILE
    lock.touch()
    with pytest.raises(AITelemetryError):
        statusline.refresh(session_id="s", transcript=None, settings_dir=str(tmp_path))
    assert lock.exists()
    raw = json.dumps({"session_id": "s"}).encode()
    assert "today $0.00" == statusline.render(raw)  # and the line still prints
