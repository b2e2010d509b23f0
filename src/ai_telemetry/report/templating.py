"""The Jinja2 environments for the report templates (``report/templates/``), with filters.

Both escape every value by default, so a skill or agent name can never inject markup: HTML
templates with Jinja2's autoescape (markupsafe), Markdown templates with a ``finalize`` hook
that passes every ``{{ ... }}`` through `ai_telemetry.report.escape.markdown_inline` unless it
is already `MarkdownSafe` (the output of the ``md`` filter and of the number filters).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


class MarkdownSafe(str):
    """Text that is Markdown already: the Markdown templates' ``finalize`` leaves it alone."""

    __slots__ = ()


def md_cell(value: object) -> MarkdownSafe:
    """Text safe inside a Markdown line or table cell (`markdown_inline`), marked as such."""
    from ai_telemetry.report.escape import markdown_inline

    if isinstance(value, MarkdownSafe):
        return value
    return MarkdownSafe(markdown_inline(value))


def _finalize_markdown(value: object) -> object:
    return value if isinstance(value, MarkdownSafe) else md_cell(value)


def _finalize_html(value: object) -> object:
    # Markup (charts, already-safe HTML) passes; text loses its control characters, then the
    # autoescape escapes it: a name cannot write ESC or BEL into the page either.
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        from ai_telemetry.report.escape import terminal

        return terminal(value)
    return value


def thousands(value: float | None) -> MarkdownSafe:
    """``12,345``; ``-`` for None."""
    if value is None:
        return MarkdownSafe("-")
    return MarkdownSafe(f"{value:,.0f}")


def usd(value: float | None) -> MarkdownSafe:
    """``$4.76``; ``no data`` for None."""
    return MarkdownSafe("no data" if value is None else f"${value:,.2f}")


def signed_percent(value: float | None) -> MarkdownSafe:
    """``+75%``; ``n/a`` for None."""
    return MarkdownSafe("n/a" if value is None else f"{value:+.0f}%")


@cache
def environment(kind: str = "html") -> jinja2.Environment:
    """The shared environment of ``kind`` (``html`` or ``md``; each built once).

    ``html`` autoescapes ``.html``/``.html.j2`` templates; ``md`` Markdown-escapes every value.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ai_telemetry.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        finalize=_finalize_markdown if kind == "md" else _finalize_html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_cell
    # a macro's output is Markdown the template wrote (its values escaped inside the macro)
    env.filters["markdown"] = MarkdownSafe
    env.filters["thousands"] = thousands
    env.filters["usd"] = usd
    env.filters["signed_percent"] = signed_percent
    return env
