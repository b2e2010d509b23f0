"""``dashboard``, ``status``, ``review``, ``audit``, ``compare``: the report commands.

Each parses its options, calls the library (`ai_telemetry.report`) and prints or writes a file;
errors from the library become one line and a non-zero exit. Shared by two rooms: the dashboards
(``dashboard_cmd``, ``status_cmd``) and the reviews (``review_group``, ``audit_group``,
``compare_group``, appended below).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("dashboard")
@click.option("--metrics", "metrics_path", type=click.Path(path_type=Path), help="metrics.json.")
@click.option("--output", type=click.Path(path_type=Path), help="File to write.")
def dashboard_cmd(metrics_path: Path | None, output: Path | None) -> None:
    """Write the weekly dashboard (Markdown or self-contained HTML)."""
    raise click.ClickException("dashboard: not implemented yet")


@click.command("status")
def status_cmd() -> None:
    """Show the week at a glance in the terminal."""
    raise click.ClickException("status: not implemented yet")
