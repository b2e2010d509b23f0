"""The questions people ask most: top skills, agents, tools and errors of a window.

``ai-telemetry top skills --days 7`` prints the seed's example query::

    Top 5 skills by usage (last 7 days):
    1. systematic-debugger: 47 invocations
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ai_telemetry.analyze.executions import load_runs
from ai_telemetry.analyze.window import Window
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.store.warehouse import Warehouse

if TYPE_CHECKING:
    from datetime import datetime

    from ai_telemetry.config import Settings
    from ai_telemetry.documents.types import TopDocument

KINDS: Final = ("skills", "agents", "tools", "errors")


@dataclass(frozen=True, slots=True)
class TopRow:
    """One ranked name with its count."""

    name: str
    count: int


def top(wh: Warehouse, kind: str, window: Window, *, limit: int = 5) -> list[TopRow]:
    """The ``limit`` most frequent skills, agents, tools or error kinds in ``window``.

    Skills and agents count executions (METRICS.md pairing); tools count ``tool_call`` events;
    errors count failed skill executions, agent tasks and tool calls by ``error_type`` (or by
    the skill, agent or tool name when no error type was logged).

    Raises:
        AnalyticsError: ``kind`` is not one of skills, agents, tools, errors.
    """
    con = wh.con
    con.execute("CREATE OR REPLACE TEMP VIEW ev AS SELECT * FROM events")
    start, end = window.naive()
    if kind in ("skills", "agents"):
        table = f"{kind[:-1]}_runs"
        event_type = "skill_execution" if kind == "skills" else "agent_task"
        load_runs(con, table, event_type=event_type, key=kind[:-1], lo=start, hi=end)
        sql = (
            f"SELECT name, count(*) AS n FROM {table} WHERE anchor_ts >= ? AND anchor_ts < ? "
            "GROUP BY name ORDER BY n DESC, name LIMIT ?"
        )
    elif kind == "tools":
        sql = (
            "SELECT tool, count(*) AS n FROM events WHERE event_type = 'tool_call' "
            "AND tool IS NOT NULL AND ts >= ? AND ts < ? GROUP BY tool ORDER BY n DESC, tool "
            "LIMIT ?"
        )
    elif kind == "errors":
        sql = (
            "SELECT coalesce(error_type, skill, agent, tool, event_type) AS what, count(*) AS n "
            "FROM events WHERE event_type IN ('skill_execution', 'agent_task', 'tool_call') "
            "AND outcome = 'error' AND ts >= ? AND ts < ? GROUP BY what "
            "ORDER BY n DESC, what LIMIT ?"
        )
    else:
        raise AnalyticsError(f"top {kind!r}: choose one of {', '.join(KINDS)}")
    rows = con.execute(sql, [start, end, limit]).fetchall()
    return [TopRow(str(r[0]), int(r[1])) for r in rows]


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
    kind: str, *, days: int, limit: int, settings: Settings, now: datetime | None = None
) -> tuple[list[TopRow], Window]:
    """What ``ai-telemetry top`` (and the MCP ``top`` tool) reads: ingest, then rank.

    Returns:
        The rows and the window of the ``days`` days ending ``now`` they were counted in.

    Raises:
        AnalyticsError: an unknown ``kind``, or the warehouse cannot be read.
    """
    window = Window.last_days(days, now=now)
    with Warehouse(settings) as wh:
        wh.ingest()
        return top(wh, kind, window, limit=limit), window


def top_document(
    rows: list[TopRow], kind: str, *, days: int, limit: int, window: Window
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
        "rows": [{"rank": i, "name": r.name, "count": r.count} for i, r in enumerate(rows, 1)],
    }
