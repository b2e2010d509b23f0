"""Escapers for every output that shows stored data: terminal, Markdown, alerts.log, Slack.

Names, titles and messages come from events.jsonl, the warehouse, learning entries and CI
reports, and old files hold whatever was written before the event contract rejected control
characters. So each output escapes data as it prints it, whatever is stored:

- `terminal`: one value for a terminal (``click.echo``, rich tables). C0 and C1 control
  characters (ESC, BEL, CSI, OSC, newline, ...), DEL and the Unicode bidi and line-separator
  controls become visible escapes (``\\x1b``, ``\\n``, ``\\u202e``), so a name can neither
  clear the screen, write the clipboard (OSC 52), hide a link (OSC 8) nor forge a line.
  `terminal_block` does the same for a whole multi-line text but keeps its newlines and tabs.
  Values handed to rich go in as `rich_text` (a ``Text``: no markup, no emoji codes), so
  ``[bold]`` and ``:x:`` are shown as typed (``root:x:0:0`` stays ``root:x:0:0``).
- `markdown_inline`: one value in a Markdown line, list item or table cell: controls escaped
  as above, then every character Markdown or GFM gives a meaning inline (``\\ ` * _ [ ] < > |
  # ~ &``) backslash-escaped, so no raw HTML, no link, no emphasis and no extra table column
  can come from data; ``javascript:`` (and ``vbscript:``, ``data:``) lose their colon, and a
  leading ``-``, ``+``, ``=`` or ``1.`` is escaped so a value cannot start a list or heading.
- `log_field`: one field of an alerts.log entry (or an e-mail line): the line stays one line.
- `slack_text`: Slack mrkdwn: ``& < >`` as entities (no ``<url|text>`` link, no ``<!channel>``)
  and ``@channel``/``@here``/``@everyone`` broken by a zero-width space, after `log_field`.

HTML output is escaped by Jinja2's autoescape (markupsafe), not here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from rich.text import Text


def _escape_of(code: int) -> str:
    named = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
    if code in named:
        return named[code]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_CONTROLS: Final[tuple[int, ...]] = (
    *range(0x20),  # C0: NUL .. US, with BEL (07), BS (08), LF, CR and ESC (1b)
    0x7F,  # DEL
    *range(0x80, 0xA0),  # C1: NEL (85), CSI (9b), OSC (9d), ST (9c), ...
    0x200E,  # left-to-right mark
    0x200F,  # right-to-left mark
    *range(0x202A, 0x202F),  # bidi embeddings and overrides ("Trojan Source")
    *range(0x2066, 0x206A),  # bidi isolates
    0x2028,  # line separator
    0x2029,  # paragraph separator
)
_TERMINAL: Final[dict[int, str]] = {code: _escape_of(code) for code in _CONTROLS}
_BLOCK: Final[dict[int, str]] = {k: v for k, v in _TERMINAL.items() if k not in (0x09, 0x0A)}
# ``translate`` looks every character up; a search first keeps clean text (nearly all) cheap
_ANY_CONTROL: Final = re.compile("[" + "".join(f"\\u{c:04x}" for c in _CONTROLS) + "]")
_BLOCK_CONTROL: Final = re.compile("[" + "".join(f"\\u{c:04x}" for c in _BLOCK) + "]")


def terminal(value: object) -> str:
    """``value`` as one line of text that a terminal shows literally (controls made visible).

    >>> terminal("ok\\x1b[2J\\n")
    'ok\\\\x1b[2J\\\\n'
    """
    text = str(value)
    return text.translate(_TERMINAL) if _ANY_CONTROL.search(text) else text


def terminal_block(text: str) -> str:
    """A multi-line text for a terminal: like `terminal`, but newlines and tabs are kept.

    For whole outputs (a report, an alert entry) whose values were escaped already; it is the
    safety net that keeps a raw ESC or BEL from ever reaching the terminal.
    """
    return text.translate(_BLOCK) if _BLOCK_CONTROL.search(text) else text


def rich_text(value: object, style: str = "") -> Text:
    """A rich ``Text`` for one data value: controls made visible, no markup, no emoji codes."""
    from rich.text import Text

    return Text(terminal(value), style=style)


_JSON: Final[dict[int, str]] = {code: f"\\u{code:04x}" for code in _CONTROLS if code >= 0x7F}


def json_text(text: str) -> str:
    """JSON text (from orjson) with DEL, C1, bidi and line-separator characters as ``\\uXXXX``.

    orjson escapes only what JSON requires (below U+0020); the rest would reach a terminal
    raw. Such characters can only stand inside JSON strings, where ``\\uXXXX`` means the same.
    """
    return text.translate(_JSON)


log_field = terminal
"""One field of an alerts.log entry: the same escapes, so one field is one line."""

_MD_SPECIAL: Final = re.compile(
    r"[\\`*\[\]<>|#~&]"
    # ``_`` between two letters or digits cannot emphasise (CommonMark), so snake_case stays
    r"|_(?![A-Za-z0-9])|(?<![A-Za-z0-9])_"
)
_MD_SCHEME: Final = re.compile(r"(?i)\b(javascript|vbscript|data)(:)")
_MD_LEADING: Final = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))(?=\s|$)")
_LEADING_CHARS: Final = frozenset("-+=0123456789")


def markdown_inline(value: object) -> str:
    """``value`` as literal text inside a Markdown line, list item or table cell.

    >>> markdown_inline("a|b <script>")
    'a\\\\|b \\\\<script\\\\>'
    """
    text = terminal(value)
    if _MD_SPECIAL.search(text):
        text = _MD_SPECIAL.sub(r"\\\g<0>", text)
    if ":" in text:
        text = _MD_SCHEME.sub(r"\1\\\2", text)
    if text[:1] in _LEADING_CHARS:
        text = _MD_LEADING.sub(_escape_leading, text, count=1)
    return text


def _escape_leading(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return f"{match.group(2)}\\{match.group(3)}"


markdown_cell = markdown_inline
"""A table cell needs nothing more: ``|`` is escaped and the value is one line."""

_SLACK_MENTION: Final = re.compile(r"(?i)@(channel|here|everyone)\b")


def slack_text(text: str) -> str:
    """A text for a Slack mrkdwn field: no links, no mentions, no control characters.

    Keeps newlines (a Slack message may have several lines); escape each field with
    `log_field` first so a value cannot add one.
    """
    out = terminal_block(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SLACK_MENTION.sub("@\u200b\\1", out)


__all__ = [
    "json_text",
    "log_field",
    "markdown_cell",
    "markdown_inline",
    "rich_text",
    "slack_text",
    "terminal",
    "terminal_block",
]
