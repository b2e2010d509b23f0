"""Secrets at rest (issue 12 §4): config.toml is created 0600, and doctor warns about a file
holding a secret that others can read or that git tracks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

CLI = str(Path(sys.executable).with_name("ai-telemetry"))
SECRET_CONFIG = '[notify.email]\nhost = "smtp.example.com"\npassword = "hunter2-not-real"\n'


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        cwd=cwd,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _secret_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stdout.splitlines() if " secrets: " in line]


def test_init_creates_config_owner_only(tmp_path: Path, telemetry_dir: Path) -> None:
    """ai-telemetry init writes config.toml with mode 0600 whatever the umask."""
    old = os.umask(0o022)
    try:
        assert 0 == _run("init", cwd=tmp_path).returncode
    finally:
        os.umask(old)
    assert 0o600 == stat.S_IMODE((telemetry_dir / "config.toml").stat().st_mode)


def test_doctor_warns_about_a_readable_secret(tmp_path: Path, telemetry_dir: Path) -> None:
    """A config.toml holding a password with mode 0644: a warning naming the key and chmod."""
    _run("init", cwd=tmp_path)
    config = telemetry_dir / "config.toml"
    config.write_text(SECRET_CONFIG)
    config.chmod(0o644)
    lines = _secret_lines(_run("doctor", cwd=tmp_path))
    assert 1 == len(lines), lines
    assert lines[0].startswith("warn  secrets: ")
    assert "notify.email.password" in lines[0] and f"chmod 600 {config}" in lines[0]
    assert "hunter2" not in lines[0]


def test_doctor_warns_about_a_secret_tracked_by_git(tmp_path: Path, telemetry_dir: Path) -> None:
    """A .env with the Slack webhook committed to git: a warning to untrack and rotate it."""
    _run("init", cwd=tmp_path)
    env = tmp_path / ".env"
    env.write_text("AI_TELEMETRY_SLACK_WEBHOOK=https://hooks.slack.example/T0/B0/x\n")
    env.chmod(0o600)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", ".env"], cwd=tmp_path, check=True)
    lines = _secret_lines(_run("doctor", cwd=tmp_path))
    assert 1 == len(lines), lines
    assert "AI_TELEMETRY_SLACK_WEBHOOK" in lines[0] and "tracked by git" in lines[0]
    assert "rotate the secret" in lines[0]


def test_doctor_is_quiet_about_a_private_untracked_secret(
    tmp_path: Path, telemetry_dir: Path
) -> None:
    """0600 and not in git: no secrets line at all."""
    _run("init", cwd=tmp_path)
    (telemetry_dir / "config.toml").write_text(SECRET_CONFIG)
    assert [] == _secret_lines(_run("doctor", cwd=tmp_path))


def test_unexpected_exception_is_one_line() -> None:
    """A bug of ours with a multi-line message prints one line and exits 70, no traceback."""
    from ai_telemetry.cli import cli

    def boom() -> None:
        raise ValueError("first line\nsecond line")

    cli.add_command(click.Command("boom-test", callback=boom))
    try:
        result = CliRunner().invoke(cli, ["boom-test"])
    finally:
        cli.commands.pop("boom-test")
    assert 70 == result.exit_code
    assert 1 == len(result.output.strip().splitlines()), result.output
    assert "internal error: ValueError: first line second line" in result.output
