"""Text tables of the usage documents (`ai_telemetry.analyze.usage`); the numbers are theirs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

_COLUMNS: Final = (
    ("input", "input_tokens"),
    ("output", "output_tokens"),
    ("cache 5m", "cache_creation_5m_tokens"),
    ("cache 1h", "cache_creation_1h_tokens"),
    ("cache read", "cache_read_tokens"),
    ("total", "total_tokens"),
)
_TITLES: Final = {
    "daily": "day",
    "weekly": "week of",
    "monthly": "month",
    "session": "session",
}


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    out = []
    for row in (header, *rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    out.insert(1, "  ".join("-" * w for w in widths))
    return out


def _cells(name: str, row: Mapping[str, Any], *, skill: bool) -> list[str]:
    cells = [name, *(f"{row[k]:,}" for _, k in _COLUMNS), _money(row["cost_usd"])]
    if skill:
        rate = row.get("skill_success_rate")
        runs = None if name.strip() == "(none)" else row.get("skill_runs")
        cells += ["" if runs is None else str(runs), "" if rate is None else f"{rate:.0%}"]
    return cells


def _header(first: str, *, skill: bool) -> list[str]:
    return [first, *(t for t, _ in _COLUMNS), "cost"] + (["runs", "success"] if skill else [])


def render_usage(document: Mapping[str, Any]) -> str:
    """``usage daily|weekly|monthly|session`` as a table, with breakdown rows indented."""
    report = document["report"]
    skill = document["breakdown"] == "skill"
    rows: list[list[str]] = []
    for row in document["rows"]:
        name = row["key"]
        if report == "session" and row.get("project"):
            name = f"{name} ({row['project']})"
        rows.append(_cells(name, row, skill=False) + (["", ""] if skill else []))
        for part in row.get("breakdown", []):
            rows.append(_cells(f"  {part['name']}", part, skill=skill))
    rows.append(_cells("total", document["totals"], skill=False) + (["", ""] if skill else []))
    zone = document["timezone"]
    title = f"Claude usage, {report} ({zone})"
    lines = [title, *_table(_header(_TITLES[report], skill=skill), rows)]
    lines += _unpriced(document["unpriced_models"])
    return "\n".join(lines)


def render_blocks(document: Mapping[str, Any]) -> str:
    """``usage blocks``: one line per 5-hour block, the active one with its burn rate."""
    rows: list[list[str]] = []
    for block in document["blocks"]:
        label = block["start"].replace("T", " ").replace(":00:00Z", ":00Z")
        rows.append(_cells(label + (" (active)" if block["active"] else ""), block, skill=False))
        for part in block.get("breakdown", []):
            rows.append(_cells(f"  {part['name']}", part, skill=False))
    rows.append(_cells("total", document["totals"], skill=False))
    lines = [
        "Claude usage, 5-hour blocks (UTC)",
        *_table(_header("block start", skill=False), rows),
    ]
    active = document["active"]
    if active is not None:
        left = active["remaining_minutes"]
        lines.append(
            f"active block: {_money(active['cost_usd'])} so far, {int(left // 60)}h "
            f"{int(left % 60):02d}m left"
        )
        if active.get("burn_cost_per_hour") is not None:
            lines.append(
                f"burn rate: {active['burn_tokens_per_hour']:,.0f} tokens/h, "
                f"{_money(active['burn_cost_per_hour'])}/h; projected at its end: "
                f"{active['projected_tokens']:,} tokens, {_money(active['projected_cost_usd'])}"
            )
    else:
        lines.append("no active block")
    lines += _unpriced(document["unpriced_models"])
    return "\n".join(lines)


def _unpriced(models: Mapping[str, int]) -> list[str]:
    if not models:
        return []
    named = ", ".join(f"{m} ({n})" for m, n in models.items())
    return [f"no price (not in cost): {named}; add them under [pricing] in config.toml"]
