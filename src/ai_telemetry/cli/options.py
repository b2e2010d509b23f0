"""Options several commands share: the repository, its learning entries, the project."""

from __future__ import annotations

from pathlib import Path

import click

repo_option = click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(),
    show_default=True,
    help="The repository (for .claude/History, .claude/skills and git history).",
)
history_option = click.option(
    "--history",
    "history_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of LEARN-*.md entries [default: REPO/.claude/History].",
)

project_option = click.option(
    "--project", metavar="NAME", help="Only events of this project (AI_TELEMETRY_PROJECT)."
)

__all__ = ["history_option", "project_option", "repo_option"]
