"""``ai-telemetry import``: one-off and incremental imports from other tools' files."""

from __future__ import annotations

import click

from ai_telemetry.cli import LazyGroup

IMPORTERS: dict[str, str] = {
    "claude-code": "claude_code:import_claude_code_cmd",
    "otlp": "otlp:import_otlp_cmd",
}


@click.group("import", cls=LazyGroup, lazy=IMPORTERS, package="ai_telemetry.cli")
def import_group() -> None:
    """Import events from Claude Code transcripts or OTLP files."""
