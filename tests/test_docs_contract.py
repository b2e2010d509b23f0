"""The docs name every command and every environment variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ai_telemetry.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]


def all_docs() -> str:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def command_paths(group: click.Group, prefix: str = "") -> list[str]:
    ctx = click.Context(group)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"{prefix}{name} is listed but does not load"
        path = f"{prefix}{name}"
        paths.append(path)
        if isinstance(command, click.Group):
            paths += command_paths(command, path + " ")
    return paths


def test_every_reserved_command_exists() -> None:
    """Each name in the CLI's command table loads (no stage left unbuilt)."""
    ctx = click.Context(cli)
    missing = [name for name in COMMANDS if cli.get_command(ctx, name) is None]
    assert [] == missing


def test_every_command_is_documented() -> None:
    """Every command and subcommand appears as `ai-telemetry ...` or in a commands table."""
    docs = all_docs()
    undocumented = [
        path
        for path in command_paths(cli)
        if f"ai-telemetry {path}" not in docs and f"`{path}`" not in docs
    ]
    assert [] == undocumented


def test_every_environment_variable_is_documented() -> None:
    """Every AI_TELEMETRY_* variable the source reads is in docs/configuration.md."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    used = set(re.findall(r"AI_TELEMETRY_[A-Z_]*[A-Z]", source))
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [] == sorted(name for name in used if name not in page)
