"""Prometheus exporter benchmark: one scrape of the collector, cached and uncached, against
``prometheus_client``'s own exposition of the same series built by hand (its floor).

Over a warehouse of a seeded log (``bench/gen_events.py``, 1M events by default; the clock is
frozen inside the log's last full week, so the week's gauges have data):

- ``uncached, nothing cached``: a new collector, the warehouse up to date but its metric cache
  cleared: both documents (all time and this week) computed, then mapped and rendered;
- ``uncached, warehouse cache warm``: a new collector without the exporter's disk cache: the
  documents come from the warehouse's per-generation cache (what a scrape costs right after
  ``aggregate`` ran, or in a second exporter process);
- ``cached``: a second scrape of the same collector with nothing new: the input fingerprint
  (three ``stat`` calls) matches, the families of the last scrape are rendered again;
- ``floor``: ``generate_latest`` over a registry of prometheus_client's own ``Counter`` and
  ``Gauge`` objects holding the same samples (same names, labels and values), built by hand,
  with ``_created`` samples turned off so both expositions have the same lines;
- ``one-shot --textfile, cached``: a fresh process (``ai-telemetry export prometheus
  --textfile``) answered from ``prometheus-cache.json``: what cron pays.

A second case does the same over a small log of ``--skills`` skills x 4 outcomes (1,000 by
default: about 21,000 series), where rendering, not DuckDB, is the cost.

    python bench/prometheus_bench.py --events 1000000 --workdir /tmp/prombench --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times), statistics.median(times)


def _floor_registry(body: bytes) -> Any:
    """prometheus_client's own metric objects holding the samples of ``body``."""
    from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics
    from prometheus_client.parser import text_string_to_metric_families

    disable_created_metrics()  # ours has no _created samples: the same lines on both sides
    registry = CollectorRegistry(auto_describe=False)
    for family in text_string_to_metric_families(body.decode()):
        if not family.samples:
            continue
        names = sorted({k for s in family.samples for k in s.labels})
        kind = Counter if family.type == "counter" else Gauge
        metric = kind(family.name, family.documentation, names, registry=registry)
        for s in family.samples:
            child = metric.labels(**{n: s.labels.get(n, "") for n in names}) if names else metric
            if kind is Counter:
                child.inc(s.value)
            else:
                child.set(s.value)
    return registry


def _settings(directory: Path) -> Any:
    from ai_telemetry.config import load_settings

    return load_settings(environ={}, cwd=directory, telemetry_dir=directory)


def measure(directory: Path, clock: datetime, repeat: int) -> dict[str, Any]:
    from prometheus_client import generate_latest

    from ai_telemetry.export.prometheus import (
        CACHE_NAME,
        TelemetryCollector,
        exposition,
        registry_for,
    )
    from ai_telemetry.store.warehouse import Warehouse

    settings = _settings(directory)
    with Warehouse(settings, progress=False) as wh:  # build the warehouse first, not timed
        wh.ingest()

    def clear_metric_cache() -> None:
        with Warehouse(settings, progress=False) as wh:
            wh.con.execute("DROP TABLE IF EXISTS metric_cache")

    def nothing_cached() -> bytes:
        clear_metric_cache()
        began = time.perf_counter()
        body = exposition(TelemetryCollector(settings, clock=lambda: clock, disk_cache=False))
        times.append(time.perf_counter() - began)
        return body

    times: list[float] = []
    for _ in range(repeat):
        body = nothing_cached()
    uncached_cold = (min(times), statistics.median(times))
    uncached_warm = _best(
        lambda: exposition(TelemetryCollector(settings, clock=lambda: clock, disk_cache=False)),
        repeat,
    )
    (directory / CACHE_NAME).unlink(missing_ok=True)
    collector = TelemetryCollector(settings, clock=lambda: clock)
    registry = registry_for(collector)
    first = generate_latest(registry)
    assert first == body
    cached = _best(lambda: generate_latest(registry), max(repeat, 20))
    assert collector.misses == 1
    floor_registry = _floor_registry(body)
    floor = _best(lambda: generate_latest(floor_registry), max(repeat, 20))
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))

    def one_shot() -> None:
        env = {**os.environ, "AI_TELEMETRY_DIR": str(directory)}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ai_telemetry",
                "export",
                "prometheus",
                "--textfile",
                str(directory / "out.prom"),
            ],
            env=env,
            check=True,
            capture_output=True,
        )

    return {
        "series": series,
        "uncached_nothing_cached_s": uncached_cold,
        "uncached_warehouse_cache_warm_s": uncached_warm,
        "cached_s": cached,
        "floor_s": floor,
        "cached_over_floor": cached[0] / floor[0],
        "one_shot_textfile_cached_s": None,  # the textfile run uses the real clock: see below
        "_one_shot": one_shot,
    }


def many_skills(directory: Path, skills: int, clock: datetime) -> None:
    import orjson

    start = clock - timedelta(days=clock.weekday(), hours=clock.hour)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "events.jsonl").open("wb") as fh:
        for i in range(skills):
            for j, outcome in enumerate(("success", "error", "rollback", "handoff")):
                moment = start + timedelta(seconds=i * 4 + j)
                fh.write(
                    orjson.dumps(
                        {
                            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "event_type": "skill_execution",
                            "event_id": f"s{i}-{j}",
                            "skill": f"skill-{i:04d}",
                            "outcome": outcome,
                            "duration_seconds": 1.0 + j,
                            "context_tokens": 100 * j,
                        }
                    )
                    + b"\n"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    from gen_events import generate

    results: dict[str, Any] = {}
    big = args.workdir / f"log{args.events}"
    if not (big / "events.jsonl").exists():
        big.mkdir(parents=True, exist_ok=True)
        generate(args.events, big / "events.jsonl")
    with (big / "events.jsonl").open("rb") as fh:
        fh.seek(-4096, os.SEEK_END)
        last = json.loads(fh.read().splitlines()[-1])["timestamp"]
    end = datetime.fromisoformat(last.replace("Z", "+00:00"))
    clock = (end - timedelta(days=7)).replace(tzinfo=UTC)  # inside the last full week
    results[f"{args.events} events"] = measure(big, clock, args.repeat)
    wide = args.workdir / f"skills{args.skills}"
    now = datetime.now(UTC)
    if not (wide / "events.jsonl").exists():
        many_skills(wide, args.skills, now)
    results[f"{args.skills} skills x 4 outcomes"] = measure(wide, now, args.repeat)
    for name, r in results.items():
        one_shot = r.pop("_one_shot")
        one_shot()  # fill prometheus-cache.json for the real clock
        r["one_shot_textfile_cached_s"] = _best(one_shot, args.repeat)
        print(f"## {name}: {r['series']} series")
        for key, value in r.items():
            if isinstance(value, tuple):
                print(
                    f"  {key:<36} best {value[0] * 1000:9.2f} ms   median {value[1] * 1000:9.2f} ms"
                )
        print(f"  cached / floor: {r['cached_over_floor']:.2f}x")


if __name__ == "__main__":
    main()
