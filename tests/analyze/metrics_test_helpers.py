"""Small helpers for the metric tests: settings in a temp dir, raw JSONL, one-call metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ai_telemetry.analyze.metrics import compute_metrics
from ai_telemetry.analyze.window import Window, parse_moment
from ai_telemetry.config import Settings, load_settings


def make_settings(tmp_path: Path) -> Settings:
    """Settings whose telemetry directory is ``tmp_path/Telemetry``."""
    return load_settings(environ={}, cwd=tmp_path, telemetry_dir=tmp_path / "Telemetry")


def ev(ts: str, event_type: str, **fields: Any) -> dict[str, Any]:
    """One raw event (no event_id, like the seed's hand-written examples)."""
    return {"timestamp": ts, "event_type": event_type, **fields}


def write_jsonl(settings: Settings, events: list[dict[str, Any]]) -> None:
    """Append events to the log as raw JSON lines."""
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    with settings.log_path.open("ab") as fh:
        for event in events:
            fh.write(orjson.dumps(event) + b"\n")


def document(settings: Settings, start: str, end: str, **kw: Any) -> dict[str, Any]:
    """The metrics.json document for [start, end), from the warehouse.

    Every catalogue test also checks the first-run path: the document computed straight from
    the log (``from_log=True``: only the catalogue's fields and rows) must be the same, but for
    the time it was generated.
    """
    window = Window(parse_moment(start), parse_moment(end))
    doc = compute_metrics(window, settings=settings, allow_empty=True, progress=False, **kw)
    direct = compute_metrics(
        window, settings=settings, allow_empty=True, progress=False, from_log=True, **kw
    )
    assert {**direct, "generated_at": None} == {**doc, "generated_at": None}
    return doc


def metrics(settings: Settings, start: str, end: str, **kw: Any) -> dict[str, Any]:
    """The ``metrics`` object for [start, end)."""
    return document(settings, start, end, **kw)["metrics"]
