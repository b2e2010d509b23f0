"""Helpers for the store tests: raw log lines and the ids the warehouse sees in files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson

from ai_telemetry.config import Settings
from ai_telemetry.store import columns
from ai_telemetry.store.retention import read_manifest


def event(ts: str, n: int, *, with_id: bool = True, **fields: Any) -> dict[str, Any]:
    """A tool_call event numbered ``n`` (id ``e<n>`` unless ``with_id`` is false)."""
    out: dict[str, Any] = {"timestamp": ts, "event_type": "tool_call", "tool": f"T{n}", **fields}
    if with_id:
        out["event_id"] = f"e{n}"
    return out


def append_raw(settings: Settings, items: list[dict[str, Any] | bytes]) -> None:
    """Append events (serialised) or raw bytes to the log."""
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    with settings.log_path.open("ab") as fh:
        for item in items:
            fh.write(item if isinstance(item, bytes) else orjson.dumps(item) + b"\n")


def ids_in_jsonl(path: Path) -> list[str]:
    """Event ids of the usable lines of a JSONL file, as the warehouse computes them."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    typed = columns.typed_select_sql(columns.read_json_sql(f"'{path}'"))
    rows = con.execute(f"SELECT event_id FROM ({typed}) WHERE {columns.ok_filter_sql()}").fetchall()
    return [r[0] for r in rows]


def ids_in_archives(settings: Settings) -> list[str]:
    """Event ids in every archive part listed in the manifest."""
    out: list[str] = []
    con = duckdb.connect()
    for part in read_manifest(settings)["parts"]:
        path = settings.archives_dir / part["file"]
        out += [
            r[0] for r in con.execute(f"SELECT event_id FROM read_parquet('{path}')").fetchall()
        ]
    return out
