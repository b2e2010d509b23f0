"""End-to-end runs: the demo (and, with the alerting stage, the weekly job)."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ai_telemetry.config import load_settings
from ai_telemetry.errors import ConfigError


def run_demo(
    directory: Path, *, weeks: int = 12, seed: int = 42, end: str | None = None
) -> Iterator[str]:
    """Write the demo data set into its own telemetry directory, then run the pipeline on it.

    Yields the lines of a human-readable summary as each step finishes. The directory is
    emptied first: it only ever holds demo data.
    """
    from ai_telemetry.demo import generate
    from ai_telemetry.log.sink import append_events
    from ai_telemetry.store.layout import init_layout

    end_at = None
    if end is not None:
        try:
            end_at = datetime.fromisoformat(end).replace(tzinfo=UTC)
        except ValueError:
            raise ConfigError(f"--end {end!r} is not a date; write YYYY-MM-DD") from None
    marker = directory / ".ai-telemetry-demo"
    if directory.exists() and any(directory.iterdir()) and not marker.exists():
        raise ConfigError(f"{directory} exists and is not a demo directory; choose another --dir")
    shutil.rmtree(directory, ignore_errors=True)
    settings = load_settings(telemetry_dir=directory, durability="write", project=None)
    init_layout(settings)
    marker.write_text("demo data written by `ai-telemetry demo`; safe to delete\n")
    data = generate(weeks=weeks, seed=seed, end=end_at)
    report = append_events(data.events, settings=settings, source="demo")
    (directory / "demo-anomalies.json").write_bytes(
        orjson.dumps(data.anomalies, option=orjson.OPT_INDENT_2)
    )
    counts = Counter(event["event_type"] for event in data.events)
    first, last = data.events[0]["timestamp"][:10], data.events[-1]["timestamp"][:10]
    yield f"wrote {report.written:,} demo events ({first} to {last}) to {settings.log_path}"
    yield "  " + ", ".join(f"{name} {n:,}" for name, n in counts.most_common())
    yield f"injected anomalies ({directory / 'demo-anomalies.json'}):"
    for anomaly in data.anomalies:
        yield f"  {anomaly.week_start}  {anomaly.kind}: {anomaly.detail}"
