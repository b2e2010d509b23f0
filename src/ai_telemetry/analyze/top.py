"""The questions people ask most: top skills, agents, tools and errors of a window.

``ai-telemetry top skills --days 7`` prints the seed's example query::

    Top 5 skills by usage (last 7 days):
    1. systematic-debugger: 47 invocations
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ai_telemetry.errors import AnalyticsError
from ai_telemetry.ports import TOP_KINDS, Store, TopRow, Window

if TYPE_CHECKING:
    from datetime import datetime

    from ai_telemetry.config import Settings
    from ai_telemetry.documents.types import TopDocument

KINDS: Final = TOP_KINDS


def top(
    store: Store, kind: str, window: Window, *, limit: int = 5, project: str | None = None
) -> list[TopRow]:
    """The ``limit`` most frequent skills, agents, tools or error kinds in ``window``.

    Skills and agents count executions (METRICS.md pairing); tools count ``tool_call`` events;
    errors count failed skill executions, agent tasks and tool calls by ``error_type`` (or by
    the skill, agent or tool name when no error type was logged).

    Raises:
        AnalyticsError: ``kind`` is not one of skills, agents, tools, errors.
    """
    if kind not in KINDS:
        raise AnalyticsError(f"top {kind!r}: choose one of {', '.join(KINDS)}")
    return store.top(kind, window, limit=limit, project=project)


_TITLES: Final = {
    "skills": ("skills by usage", "invocations"),
    "agents": ("agents by usage", "invocations"),
    "tools": ("tools by usage", "calls"),
    "errors": ("errors", "errors"),
}


def render_top(rows: list[TopRow], kind: str, *, days: int, limit: int) -> str:
    """The seed's text form: a title line, then ``N. name: count unit`` lines.

    Names are stored data: control characters in them are shown as escapes (``\\x1b``).
    """
    from ai_telemetry.report.escape import terminal

    title, unit = _TITLES[kind]
    span = "last day" if days == 1 else f"last {days} days"
    lines = [f"Top {limit} {title} ({span}):"]
    lines += [
        f"{i}. {terminal(r.name)}: {r.count} {unit if r.count != 1 else unit[:-1]}"
        for i, r in enumerate(rows, 1)
    ]
    if not rows:
        lines.append("(none)")
    return "\n".join(lines)


def load_top(
    kind: str,
    *,
    days: int,
    limit: int,
    settings: Settings,
    now: datetime | None = None,
    project: str | None = None,
) -> tuple[list[TopRow], Window]:
    """What ``ai-telemetry top`` (and the MCP ``top`` tool) reads: ingest, then rank.

    Returns:
        The rows and the window of the ``days`` days ending ``now`` they were counted in.

    Raises:
        AnalyticsError: an unknown ``kind``, or the warehouse cannot be read.
    """
    window = Window.last_days(days, now=now)
    from ai_telemetry.stores import open_store

    with open_store(settings) as store:
        store.ingest()
        return top(store, kind, window, limit=limit, project=project), window


def top_document(
    rows: list[TopRow],
    kind: str,
    *,
    days: int,
    limit: int,
    window: Window,
    project: str | None = None,
) -> TopDocument:
    """The ``top --json`` document (docs/schemas/top.json): the rows `render_top` prints."""
    from ai_telemetry.documents import header, utc_text

    return {
        **header("top"),
        "kind": kind,
        "unit": _TITLES[kind][1],
        "days": days,
        "limit": limit,
        "window": {"start": str(utc_text(window.start)), "end": str(utc_text(window.end))},
        "project": project,
        "rows": [{"rank": i, "name": r.name, "count": r.count} for i, r in enumerate(rows, 1)],
    }
