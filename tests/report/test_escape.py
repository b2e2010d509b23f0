"""The escapers: terminal, Markdown, alerts.log, Slack and JSON text."""

from __future__ import annotations

import html
import json

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ai_telemetry.report.escape import (
    json_text,
    log_field,
    markdown_inline,
    slack_text,
    terminal,
    terminal_block,
)

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
HOSTILE = [
    "a|b",
    "<script>alert(1)</script>",
    "[bold]x[/bold]",
    "root:x:0:0",
    "\x1b[2J",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "line\nbreak",
    "javascript:alert(1)",
    "[x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "**bold** _em_ ~~gone~~ `code`",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "&lt;b&gt; &amp;",
    "![img](http://x/y.png)",
    "\\|",
]
TEXT = st.lists(
    st.sampled_from(
        [*"ab1 .:-+=#*_`~[]()<>|!&;\\/\"'\t\n\x1b\x07\x9b\u202e", "javascript:", "http://", "www."]
    ),
    max_size=30,
).map("".join)


def inline_text(markdown: str) -> str:
    """What a reader sees of ``markdown`` rendered inline: the HTML's text."""
    rendered = MD.renderInline(markdown)
    assert "<" not in rendered.replace("&lt;", ""), rendered  # no tag of any kind
    return html.unescape(rendered)


def test_terminal_makes_controls_visible() -> None:
    """ESC, BEL, C1 CSI, newline and a bidi override become visible escapes."""
    assert "a\\x1b[2J\\x07\\x9b\\n\\u202eb" == terminal("a\x1b[2J\x07\x9b\n\u202eb")


def test_terminal_keeps_printable_text() -> None:
    """Markup, emoji codes, backslashes and non-ASCII text are left as they are."""
    text = "root:x:0:0 [bold]x[/bold] \\n café 🚨"
    assert text == terminal(text)


def test_terminal_block_keeps_lines() -> None:
    """A multi-line text keeps its newlines and tabs but loses ESC and BEL."""
    assert "a\n\tb\\x1b]0;t\\x07" == terminal_block("a\n\tb\x1b]0;t\x07")


def test_log_field_is_one_line() -> None:
    """A field with newlines, CR and the Unicode line separators stays one line."""
    assert 1 == len(log_field("a\nb\rc\u2028d\u2029e\x85f").splitlines())


def test_markdown_inline_shows_each_hostile_value_literally() -> None:
    """Rendered, every hostile value reads exactly as stored (controls as escapes)."""
    assert [terminal(v) for v in HOSTILE] == [inline_text(markdown_inline(v)) for v in HOSTILE]


@given(TEXT)
def test_markdown_inline_renders_as_the_text_itself(value: str) -> None:
    """Any text, escaped, renders to itself: no tag, no link, no emphasis, no code span."""
    assert terminal(value) == inline_text(markdown_inline(value))


@given(TEXT)
def test_markdown_cell_keeps_the_table_shape(value: str) -> None:
    """Any text in a table cell leaves the table with two cells and reads as itself."""
    table = f"| a | b |\n|---|---|\n| {markdown_inline(value)} | z |\n"
    tokens = MD.parse(table)
    cells = [t for t in tokens if t.type in ("th_open", "td_open")]
    assert 4 == len(cells)
    body = [t for t in tokens if t.type == "inline"][2]
    shown = html.unescape(MD.renderer.render(body.children or [], MD.options, {}))
    assert terminal(value).strip() == shown


@given(TEXT)
def test_markdown_list_item_stays_one_item(value: str) -> None:
    """Any text as a list item stays one paragraph of one item: no heading, list or quote."""
    tokens = MD.parse(f"1. {markdown_inline(value)}\n")
    kinds = [t.type for t in tokens if t.nesting == 1]
    one_item = ["ordered_list_open", "list_item_open"]
    assert kinds in (one_item, [*one_item, "paragraph_open"]), kinds


def test_markdown_inline_neutralises_scripts_schemes() -> None:
    """``javascript:`` loses its colon in the Markdown text itself."""
    assert "javascript:" not in markdown_inline("see JavaScript:alert(1)").lower()


def test_markdown_keeps_snake_case_readable() -> None:
    """An underscore between letters cannot emphasise, so it is left alone."""
    assert "META_UPDATER snake_case" == markdown_inline("META_UPDATER snake_case")


def test_slack_text_has_no_link_and_no_mention() -> None:
    """Slack mrkdwn: no ``<url|text>``, no ``<!channel>``, no live ``@channel``."""
    out = slack_text("hi <http://evil|click> <!channel> @channel @here\x1b[2J\nnext")
    assert "<" not in out
    assert ">" not in out
    assert "@channel" not in out
    assert "@here" not in out
    assert "\x1b" not in out
    assert 2 == len(out.splitlines())


def test_json_text_escapes_c1_and_bidi_but_stays_json() -> None:
    """C1 and bidi characters become ``\\u`` escapes; the document parses to the same data."""
    data = {"name": "a\x9b31m\u202eb\x7f"}
    text = json_text(json.dumps(data, ensure_ascii=False))
    assert "\x9b" not in text
    assert "\u202e" not in text
    assert data == json.loads(text)
