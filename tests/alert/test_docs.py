"""Docs contract: every alerting command, option and variable is in docs/alerts.md."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from ai_telemetry.alert.notify import SMTP_ENV
from ai_telemetry.cli.detect import detect_cmd, schedule_group, weekly_cmd

DOCS = (Path(__file__).parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [detect_cmd, weekly_cmd])
def test_every_option_is_documented(command: click.Command) -> None:
    """Each option of detect and weekly appears in docs/alerts.md."""
    options = [o for p in command.params for o in p.opts if o.startswith("--")]
    assert [o for o in options if o not in DOCS] == []


def test_every_command_is_documented() -> None:
    """detect, gate, weekly and each schedule subcommand appear as commands to run."""
    names = ["detect", "gate", "weekly", *(f"schedule {c}" for c in schedule_group.commands)]
    assert [n for n in names if f"ai-telemetry {n}" not in DOCS] == []


def test_every_smtp_variable_is_documented() -> None:
    """Each AI_TELEMETRY_SMTP_* variable is in the e-mail table."""
    assert [v for v in SMTP_ENV if f"`{v}`" not in DOCS] == []
