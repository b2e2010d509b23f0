"""Alert quality: detection delay and false alarms per year, measured.

Two worlds (``--world``): ``harsh`` (default) is `detection_world`: weekly metrics documents
simulated directly, with volume growing 2x over the year, a drifting skill mix, holiday weeks, a
new skill and a retired one, and the demo's seven anomalies at full and at half size; ``demo``
is the demo generator through the real warehouse (about 2.5 minutes for 20 seeds, quiet machine).

For the demo world, the demo generator (`ai_telemetry.demo.generate`) writes ``--weeks`` weeks of
events with its seven injected anomalies (all in the last six weeks); the events go through the
real warehouse (ingest, weekly metric history, root-cause counts). Detection then walks forward
week by week, as the weekly job would: week i is judged with weeks 0..i-1 as history, and the
alert state carries over (an alert that stays open is one alert, not one per week).

An opened alert *matches* an anomaly when it is about the anomaly's metric and key (`MATCHES`)
and opens between the anomaly's first week and ``GRACE`` weeks after its last. Every other opened
alert is a false alarm. Reported per detector configuration:

- detection rate and delay per anomaly kind (weeks from the anomaly's first week to the first
  matching alert; 0 = found in the week it started);
- false alarms per year of weekly data (all severities, and those that notify someone:
  warning and critical), and their main sources.

    .venv/bin/python bench/detection_quality.py                 # harsh world, 20 seeds x 52 weeks
    .venv/bin/python bench/detection_quality.py --world demo --jobs 2  # through the warehouse
    .venv/bin/python bench/detection_quality.py --seeds 3 --weeks 20   # quick look

The per-seed weekly metrics are cached (``--cache``), so re-scoring is instant.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ai_telemetry.alert.detect import DetectOptions, detect_anomalies
from ai_telemetry.alert.model import Alert
from ai_telemetry.alert.store import AlertState, reconcile
from ai_telemetry.analyze.rules import DEFAULT_RULES, Rule
from detection_world import EARLIEST, generate_world

GRACE = 2
"""Weeks after an anomaly's last week in which a matching alert still counts as its detection."""


def _base(alert: Alert) -> str:
    return alert.metric.split(".", 1)[0]


MATCHES: dict[str, Callable[[Alert], bool]] = {
    "skill_error_spike": lambda a: (
        a.key == "acgme-compliance"
        and _base(a) in ("skill_error_rate", "skill_success_rate", "skill_profile")
    ),
    "learning_stall": lambda a: _base(a) == "learning_entries_per_week",
    "incident_repeat": lambda a: (
        (_base(a) == "incident_root_cause_total" and a.key == "timezone-handling")
        or _base(a) in ("incident_rate", "incident_repeat_rate")
    ),
    "coverage_decline": lambda a: (
        _base(a) in ("test_coverage_delta", "test_coverage_percent", "test_failure_rate")
    ),
    "context_saturation": lambda a: _base(a) == "context_window_utilization",
    "tool_call_loop": lambda a: (
        _base(a) in ("agent_tool_call_count", "tool_call_limit_reached")
        and a.key in (None, "implementer")
    ),
    "duration_shift": lambda a: (
        a.key == "systematic-debugger"
        and _base(a) in ("skill_duration_seconds", "skill_avg_duration_seconds", "skill_profile")
    ),
}

_LITERAL = {"evidence": False, "model": False}
VARIANTS: dict[str, tuple[DetectOptions, tuple[Rule, ...]]] = {
    "default: rules (evidence) + model": (DetectOptions(), DEFAULT_RULES),
    "seed's literal rules + model": (DetectOptions(evidence=False), DEFAULT_RULES),
    "model only": (DetectOptions(rules=False), DEFAULT_RULES),
    "rates at 99% (before)": (DetectOptions(rate_confidence=0.99), DEFAULT_RULES),
    "rules with evidence only": (DetectOptions(model=False), DEFAULT_RULES),
    "seed's literal rules only": (DetectOptions(**_LITERAL), DEFAULT_RULES),
    "before: literal rules + z 2.0 + SPC": (
        DetectOptions(**_LITERAL, zscore=True, spc=True),
        DEFAULT_RULES,
    ),
    "literal rules + z 3.0": (DetectOptions(**_LITERAL, zscore=True, threshold=3.0), DEFAULT_RULES),
}


# --- data: one seed through the real warehouse --------------------------------------------


def weekly_data(seed: int, weeks: int, end: datetime, cache: Path) -> dict[str, Any]:
    """The weekly metrics documents, root-cause counts and anomalies of one seed (cached)."""
    target = cache / f"seed{seed}-w{weeks}-{end:%Y%m%d}.json"
    if target.exists():
        data: dict[str, Any] = orjson.loads(target.read_bytes())
        return data
    from ai_telemetry.alert.history import load_history, root_cause_counts
    from ai_telemetry.analyze.history import record_weeks
    from ai_telemetry.config import load_settings
    from ai_telemetry.demo import generate
    from ai_telemetry.store.duckdb_store import DuckDBStore

    made = generate(weeks=weeks, seed=seed, end=end)
    with tempfile.TemporaryDirectory(prefix="detq-") as tmp:
        directory = Path(tmp)
        # Demo events are known-clean; writing them directly keeps the bench about detection.
        with (directory / "events.jsonl").open("wb") as handle:
            handle.writelines(orjson.dumps(e) + b"\n" for e in made.events)
        settings = load_settings(telemetry_dir=directory, environ={}, cwd=directory)
        with DuckDBStore(settings, progress=False) as wh:
            wh.ingest()
            record_weeks(wh, weeks, now=end, refresh=True, progress=False)
            history = load_history(wh, before=end, weeks=weeks)
            rows = []
            for week in history:
                week_end = datetime.combine(week.week_start, datetime.min.time(), UTC)
                week_end += timedelta(days=7)
                causes = root_cause_counts(wh, end=week_end)
                rows.append([week.week_start.isoformat(), week.document, causes])
    data = {
        "seed": seed,
        "weeks": rows,
        "anomalies": [
            {"kind": a.kind, "week_start": a.week_start, "weeks": a.weeks} for a in made.anomalies
        ],
    }
    target.write_bytes(orjson.dumps(data))
    return data


def _load(args: tuple[int, int, str, str]) -> dict[str, Any]:
    """One seed of the demo world (for the process pool)."""
    seed, weeks, end, cache = args
    return weekly_data(seed, weeks, datetime.fromisoformat(end).replace(tzinfo=UTC), Path(cache))


# --- walking forward ----------------------------------------------------------------------


def walk(
    data: dict[str, Any], options: DetectOptions, rules: tuple[Rule, ...] = DEFAULT_RULES
) -> list[tuple[int, Alert]]:
    """Detection week by week; every opened alert with the index of its week."""
    state = AlertState()
    docs = [row[1] for row in data["weeks"]]
    opened: list[tuple[int, Alert]] = []
    causes_by_week = [row[2] for row in data["weeks"]]
    for i in range(1, len(docs)):
        week_start, doc, causes = data["weeks"][i]
        alerts = detect_anomalies(
            doc, history=docs[max(0, i - options.baseline_weeks) : i], options=options,
            rules=rules, root_causes=causes,
            root_cause_history=[causes_by_week[j] for j in range(i - 4, -1, -4)][:13][::-1],
        )  # fmt: skip
        now = datetime.fromisoformat(week_start).replace(tzinfo=UTC) + timedelta(days=7)
        changes = reconcile(state, alerts, now=now)
        opened.extend((i, a) for a in changes.opened)
    return opened


def score(
    datasets: list[dict[str, Any]], options: DetectOptions, rules: tuple[Rule, ...]
) -> dict[str, Any]:
    """Detection delays per kind and false alarms per year over every seed."""
    delays: dict[str, list[int]] = defaultdict(list)
    on_time: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    false_all = false_notify = 0
    sources: Counter[str] = Counter()
    monitored = 0
    for data in datasets:
        index = {row[0]: i for i, row in enumerate(data["weeks"])}
        monitored += len(data["weeks"]) - 1
        opened = walk(data, options, rules)
        spans = []
        for anomaly in data["anomalies"]:
            first = anomaly["index"] if "index" in anomaly else index[anomaly["week_start"]]
            spans.append((anomaly["kind"], first, first + anomaly["weeks"] + GRACE))
        for kind, first, stop in spans:
            hits = [i for i, a in opened if first <= i < stop and MATCHES[kind](a)]
            if hits:
                delays[kind].append(min(hits) - first)
                on_time[kind] += min(hits) - first <= EARLIEST[kind] + 1
            else:
                missed[kind] += 1
        for i, alert in opened:
            if any(first <= i < stop and MATCHES[k](alert) for k, first, stop in spans):
                continue
            false_all += 1
            if alert.severity != "info":
                false_notify += 1
            sources[f"{alert.rule}:{alert.metric}"] += 1
    years = monitored / 52
    kinds = {}
    for kind in MATCHES:
        found = delays.get(kind, [])
        runs = len(found) + missed[kind]
        kinds[kind] = {
            "detected": f"{len(found)}/{runs}",
            "on_time": f"{on_time[kind]}/{runs}",
            "mean_delay": round(statistics.fmean(found), 2) if found else None,
            "max_delay": max(found) if found else None,
        }
    return {
        "kinds": kinds,
        "false_alarms_per_year": round(false_all / years, 1),
        "notifying_false_alarms_per_year": round(false_notify / years, 1),
        "monitored_weeks": monitored,
        "top_false_alarm_sources": sources.most_common(6),
    }


def render(results: dict[str, dict[str, Any]], seeds: int, weeks: int) -> str:
    """Markdown tables for docs/detection.md."""
    names = list(results)
    out = [
        f"{seeds} seeds x {weeks} weeks ({next(iter(results.values()))['monitored_weeks']} "
        "judged weeks); `n/N (m/N)` = found in n of N runs within one week of the earliest week "
        "its definition allows (m: at all); then the mean delay in weeks from the anomaly's "
        "first week (0 = that week).",
        "",
        "| anomaly | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for kind in MATCHES:
        cells = []
        for name in names:
            k = results[name]["kinds"][kind]
            delay = (
                "-" if k["mean_delay"] is None else f"{k['mean_delay']:g} (max {k['max_delay']})"
            )
            cells.append(f"{k['on_time']} ({k['detected']}), {delay}")
        out.append(f"| {kind} | " + " | ".join(cells) + " |")
    out.append(
        "| **false alarms / year** | "
        + " | ".join(str(results[n]["false_alarms_per_year"]) for n in names)
        + " |"
    )
    out.append(
        "| **... that notify (warning, critical)** | "
        + " | ".join(str(results[n]["notifying_false_alarms_per_year"]) for n in names)
        + " |"
    )
    out += ["", "Main false-alarm sources (alerts opened over all seeds):", ""]
    for name in names:
        top = ", ".join(f"`{s}` {n}" for s, n in results[name]["top_false_alarm_sources"])
        out.append(f"- {name}: {top or 'none'}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--end", default="2025-12-29")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "detq-cache")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--world", choices=("harsh", "demo"), default="harsh")
    parser.add_argument("--variants", help="Comma-separated variant names (default: all).")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    chosen = {
        name: v
        for name, v in VARIANTS.items()
        if not args.variants or name in args.variants.split(",")
    }
    worlds: dict[str, list[dict[str, Any]]] = {}
    if args.world == "demo":
        work = [(s, args.weeks, args.end, str(args.cache)) for s in range(1, args.seeds + 1)]
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                worlds["demo"] = list(pool.map(_load, work))
        else:
            worlds["demo"] = [_load(w) for w in work]
    else:
        for label, size in (("full-size anomalies", 1.0), ("half-size anomalies", 0.5)):
            worlds[label] = [
                generate_world(s, weeks=args.weeks, scale=size) for s in range(1, args.seeds + 1)
            ]
    built = time.perf_counter() - started
    results = {}
    for label, datasets in worlds.items():
        results[label] = {name: score(datasets, *variant) for name, variant in chosen.items()}
        print(f"### {args.world} world, {label}\n")
        print(render(results[label], args.seeds, args.weeks))
        print()
    scored = time.perf_counter() - started - built
    print(f"\n(data {built:.0f} s, detection {scored:.1f} s)", file=sys.stderr)
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
