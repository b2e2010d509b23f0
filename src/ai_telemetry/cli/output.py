"""``--json`` for the read commands: one option, one way to print a document, one error form.

A read command takes ``@json_option`` and, when it is set, prints the document its library call
built (`emit`) instead of the text. The option is eager and marks the context, so an error
raised anywhere later (a bad option value, a library error, a bug) is printed by
`ai_telemetry.cli.LazyGroup` as ``{"error": ...}`` on stdout with the usual exit status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

JSON_MODE = "ai_telemetry.json_mode"
"""Key in ``click.Context.meta`` (shared by every context of one run): the command path."""


def remember_json_mode(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[JSON_MODE] = command_name(ctx)
    return value


def command_name(ctx: click.Context) -> str:
    """``review learnings`` for ``ai-telemetry review learnings`` (the program name dropped)."""
    return " ".join(ctx.command_path.split()[1:])


json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    is_eager=True,
    callback=remember_json_mode,
    help="Print one JSON document instead (schema: docs/schemas/<command>.json).",
)
"""The ``--json`` flag of a read command; the function receives it as ``as_json``."""


def json_mode(ctx: click.Context) -> str | None:
    """The command path when this run prints JSON, else None."""
    value = ctx.meta.get(JSON_MODE)
    return value if isinstance(value, str) else None


def echo(text: object = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` for text that may hold stored data: no control character reaches the
    terminal raw (`ai_telemetry.report.escape.terminal_block`; newlines and tabs kept)."""
    from ai_telemetry.report.escape import terminal_block

    click.echo(terminal_block(str(text)), err=err, nl=nl)


def echo_line(text: object, *, err: bool = False) -> None:
    """``click.echo`` for one line that may hold stored data: a newline or a control character
    in it is shown as an escape (`ai_telemetry.report.escape.terminal`), so it stays one line."""
    from ai_telemetry.report.escape import terminal

    click.echo(terminal(text), err=err)


def echo_json(text: str, *, err: bool = False) -> None:
    """``click.echo`` for JSON text: C1, DEL and bidi characters as ``\\uXXXX`` escapes."""
    from ai_telemetry.report.escape import json_text

    click.echo(json_text(text), err=err)


def emit(document: Mapping[str, Any]) -> None:
    """Print one document on stdout (indented JSON, no colour, nothing else)."""
    from ai_telemetry.documents import dumps

    echo_json(dumps(document))


def emit_error(message: str, *, command: str | None) -> None:
    """Print the error document on stdout."""
    from ai_telemetry.documents import error_document

    emit(error_document(message, command=command))
