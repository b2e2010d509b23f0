"""``ai-telemetry usage daily|weekly|monthly|session|blocks`` and ``ai-telemetry statusline``.

Each report parses its options, ingests the warehouse, builds its document in
`ai_telemetry.analyze.usage` and prints it as a table or, with ``--json``, as is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ai_telemetry.cli.options import project_option
from ai_telemetry.cli.output import emit, json_option

F = TypeVar("F", bound=Callable[..., Any])

_BREAKDOWNS = ("model", "project", "skill", "agent")


def _report_options(func: F) -> F:
    options = [
        click.option("--since", metavar="DAY", help="First day (YYYY-MM-DD or YYYYMMDD)."),
        click.option("--until", metavar="DAY", help="Last day, included."),
        click.option(
            "--timezone",
            default="UTC",
            show_default=True,
            metavar="ZONE",
            help="IANA zone the days, weeks and months follow (e.g. Europe/Berlin).",
        ),
        click.option(
            "--breakdown",
            type=click.Choice(_BREAKDOWNS),
            help="Split each row by model, project, skill (with its success rate) or agent.",
        ),
        click.option(
            "--import",
            "import_first",
            is_flag=True,
            help="Import new Claude Code transcripts first (~/.claude/projects, unchanged "
            "files are skipped on their stat).",
        ),
        project_option,
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("usage")
def usage_group() -> None:
    """Claude usage: tokens and estimated cost per day, week, month, session or 5-hour block."""


def _run(
    report: str,
    *,
    since: str | None,
    until: str | None,
    timezone: str,
    breakdown: str | None,
    import_first: bool,
    project: str | None,
    as_json: bool,
) -> None:
    from ai_telemetry.analyze.usage import blocks_document, parse_day, usage_document
    from ai_telemetry.config import load_settings
    from ai_telemetry.stores import open_ingested

    settings = load_settings()
    first = parse_day(since, "--since")
    last = parse_day(until, "--until")
    if import_first:
        from ai_telemetry.collect.claude_code.transcripts import import_transcripts

        import_transcripts(None, settings=settings)
    with open_ingested(settings) as wh:
        if report == "blocks":
            document: Any = blocks_document(
                wh,
                since=first,
                until=last,
                timezone=timezone,
                breakdown=breakdown,
                project=project,
            )
        else:
            document = usage_document(
                wh,
                report,
                since=first,
                until=last,
                timezone=timezone,
                breakdown=breakdown,
                project=project,
            )
    if as_json:
        emit(document)
        return
    from ai_telemetry.report.usage import render_blocks, render_usage

    click.echo(render_blocks(document) if report == "blocks" else render_usage(document))


def _command(report: str, summary: str) -> click.Command:
    def command(**options: Any) -> None:
        _run(report, **options)

    command.__doc__ = summary
    return usage_group.command(report)(_report_options(command))


daily_cmd = _command("daily", "Tokens and cost per day (in --timezone).")
weekly_cmd = _command("weekly", "Tokens and cost per ISO week (Monday first, in --timezone).")
monthly_cmd = _command("monthly", "Tokens and cost per calendar month (in --timezone).")
session_cmd = _command("session", "Tokens and cost per Claude Code session (by sessionId).")
blocks_cmd = _command(
    "blocks",
    "Claude's 5-hour usage windows; the active one with burn rate and projected total.",
)


@click.command("statusline")
@click.option(
    "--refresh",
    "refresh_session",
    metavar="SESSION",
    hidden=True,
    help="Recompute the cached numbers (what the statusline starts in the background).",
)
@click.option("--transcript", type=click.Path(path_type=Path), hidden=True)
@json_option
def statusline_cmd(refresh_session: str | None, transcript: Path | None, as_json: bool) -> None:
    """Claude Code statusLine: reads its status JSON on stdin, prints one line.

    The session's cost, today's, the active 5-hour block's cost and time left, and the week's
    skill success rate. Install it with `ai-telemetry claude-code install --statusline`. The
    fast path (``python -m ai_telemetry statusline``) skips click; this command is the same.
    """
    import sys

    from ai_telemetry.collect.claude_code import statusline

    if refresh_session is not None:
        statusline.refresh(session_id=refresh_session or None, transcript=transcript)
        return
    payload = sys.stdin.buffer.read()
    if as_json:  # for programs: refresh now, in this process, then print the numbers
        emit(statusline.document(payload, refresh_first=True))
        return
    click.echo(statusline.render(payload))
