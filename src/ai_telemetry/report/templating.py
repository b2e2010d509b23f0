"""The Jinja2 environment for the report templates (``report/templates/``), with filters.

Markdown templates are not autoescaped (but table cells go through ``md_cell``); HTML templates
are, so a skill or agent name can never inject markup.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, newlines flattened."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def thousands(value: float | None) -> str:
    """``12,345``; ``-`` for None."""
    if value is None:
        return "-"
    return f"{value:,.0f}"


def usd(value: float | None) -> str:
    """``$4.76``; ``no data`` for None."""
    return "no data" if value is None else f"${value:,.2f}"


def signed_percent(value: float | None) -> str:
    """``+75%``; ``n/a`` for None."""
    return "n/a" if value is None else f"{value:+.0f}%"


@cache
def environment() -> jinja2.Environment:
    """The shared environment (built once)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ai_telemetry.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_cell
    env.filters["thousands"] = thousands
    env.filters["usd"] = usd
    env.filters["signed_percent"] = signed_percent
    return env
