"""Aggregation benchmark: ``ai-telemetry aggregate`` against three peers, cold and warm.

For each size, a seeded synthetic log (``bench/gen_events.py``) is aggregated for one week and
for the whole year by:

- ``aggregate-cold``: ``aggregate`` with no warehouse yet: every metric of the catalogue for
  the window straight from the log (the log is over 64 MiB), ``metrics.json`` written; the
  full warehouse and the week's history are then built by a background process, and the
  harness also reports when that is done (``warehouse ready after``, waiting on its lock);
- ``aggregate-warm``: ``aggregate`` again with nothing new (checks the log, reads the cache);
- ``aggregate-warm-nocache``: the same with the metric cache cleared (every metric recomputed
  from the typed table; nothing re-parsed);
- ``warehouse-build``: the background part alone, in a measured process: the full ingest (every
  field, typed, on disk) and the week's history;
- ``seed-loop``: the seed's approach, a Python loop over ``json.loads``;
- ``pandas``: ``pandas.read_json(lines=True)`` in chunks, then groupby;
- ``duckdb-jsonl``: one hand-written DuckDB query straight over the JSONL.

The peers compute the skill metrics only (invocations, success and error rate, mean and
p50/p95/p99 duration, mean context tokens, with METRICS.md's pairing); the benchmark checks that
all methods give the same numbers. Every run is a fresh process; wall time and peak RSS are
measured from outside (``os.wait4``).

    python bench/aggregate_bench.py --events 1000000 --workdir /tmp/bench1m
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PCTS = (0.5, 0.95, 0.99)
YEAR = ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")

# --- the peers ------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    """percentile_cont: linear interpolation between closest ranks."""
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _finish(
    per_skill: dict[str, list[tuple[str | None, float | None]]], tokens: dict[str, list[float]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for skill, runs in per_skill.items():
        finished = [(o, d) for o, d in runs if o is not None]
        durations = [d for o, d in finished if d is not None]
        row: dict[str, Any] = {
            "invocations": len(runs),
            "success_rate": sum(o == "success" for o, _ in finished) / len(finished)
            if finished
            else None,
            "error_rate": sum(o == "error" for o, _ in finished) / len(finished)
            if finished
            else None,
            "avg_duration": sum(durations) / len(durations) if durations else None,
            "avg_context_tokens": sum(tokens[skill]) / len(tokens[skill])
            if tokens.get(skill)
            else None,
        }
        for q in PCTS:
            row[f"p{round(q * 100)}"] = _pct(durations, q) if durations else None
        out[skill] = row
    return out


def _pair(
    events: list[tuple[str, str, str, int, str, float | None]], start: str, end: str
) -> dict[str, list[tuple[str | None, float | None]]]:
    """events: (skill, session, ts, line, outcome, duration), any order."""
    events.sort(key=lambda e: (e[0], e[1], e[2], e[4] != "started", e[3]))
    runs: dict[str, list[tuple[str | None, float | None]]] = {}
    n = len(events)
    for i, (skill, session, ts, _, outcome, duration) in enumerate(events):
        same_prev = i > 0 and events[i - 1][0] == skill and events[i - 1][1] == session
        same_next = i + 1 < n and events[i + 1][0] == skill and events[i + 1][1] == session
        if outcome == "started":
            nxt = events[i + 1] if same_next else None
            final = nxt[4] if nxt is not None and nxt[4] != "started" else None
            dur = nxt[5] if final is not None and nxt is not None else None
        elif same_prev and events[i - 1][4] == "started":
            continue
        else:
            final, dur = outcome, duration
        if start <= ts < end:
            runs.setdefault(skill, []).append((final, dur))
    return runs


def _ms(bound: str) -> str:
    """A window bound in the bench log's format (milliseconds always present), so that
    timestamps compare as strings in time order."""
    return bound.replace("Z", ".000Z") if "." not in bound else bound


def peer_seed_loop(log: Path, start: str, end: str) -> dict[str, Any]:
    """The seed's approach: read every line, json.loads, filter, then pair in Python."""
    start, end = _ms(start), _ms(end)
    events: list[tuple[str, str, str, int, str, float | None]] = []
    tokens: dict[str, list[float]] = {}
    with log.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            if e.get("event_type") != "skill_execution":
                continue
            ts = e["timestamp"]
            skill = e.get("skill")
            events.append(
                (
                    skill,
                    e.get("session_id") or "",
                    ts,
                    n,
                    e.get("outcome"),
                    e.get("duration_seconds"),
                )
            )
            if start <= ts < end and e.get("context_tokens") is not None:
                tokens.setdefault(skill, []).append(float(e["context_tokens"]))
    return _finish(_pair(events, start, end), tokens)


def peer_pandas(log: Path, start: str, end: str) -> dict[str, Any]:
    """pandas: chunked read_json(lines=True), keep skill events, pair with groupby/shift."""
    import pandas as pd

    start, end = _ms(start), _ms(end)
    keep = [
        "timestamp",
        "event_type",
        "skill",
        "session_id",
        "outcome",
        "duration_seconds",
        "context_tokens",
    ]
    frames = []
    offset = 0
    for raw in pd.read_json(log, lines=True, chunksize=200_000, dtype=False):
        chunk = raw.reindex(columns=keep)
        chunk["line"] = range(offset, offset + len(chunk))
        offset += len(chunk)
        frames.append(chunk[chunk["event_type"] == "skill_execution"])
    df = pd.concat(frames, ignore_index=True)
    df["session_id"] = df["session_id"].fillna("")
    df["is_term"] = df["outcome"] != "started"
    df = df.sort_values(["skill", "session_id", "timestamp", "is_term", "line"], kind="stable")
    g = df.groupby(["skill", "session_id"], sort=False)
    df["prev_outcome"] = g["outcome"].shift(1)
    df["next_outcome"] = g["outcome"].shift(-1)
    df["next_duration"] = g["duration_seconds"].shift(-1)
    nxt_term = df["next_outcome"].notna() & (df["next_outcome"] != "started")
    started = df["outcome"] == "started"
    runs = df[started | (df["prev_outcome"] != "started")].copy()
    r_started = runs["outcome"] == "started"
    r_next = nxt_term.loc[runs.index]
    runs["final"] = runs["outcome"].where(~r_started, runs["next_outcome"].where(r_next))
    runs["dur"] = runs["duration_seconds"].where(~r_started, runs["next_duration"].where(r_next))
    runs = runs[(runs["timestamp"] >= start) & (runs["timestamp"] < end)]
    win = df[(df["timestamp"] >= start) & (df["timestamp"] < end)]
    out: dict[str, Any] = {}
    tokens = win.groupby("skill")["context_tokens"].mean()
    for skill, grp in runs.groupby("skill"):
        fin = grp[grp["final"].notna()]
        d = fin["dur"].dropna().astype(float)
        row = {
            "invocations": len(grp),
            "success_rate": float((fin["final"] == "success").mean()) if len(fin) else None,
            "error_rate": float((fin["final"] == "error").mean()) if len(fin) else None,
            "avg_duration": float(d.mean()) if len(d) else None,
            "avg_context_tokens": float(tokens[skill])
            if skill in tokens and not math.isnan(tokens[skill])
            else None,
        }
        for q in PCTS:
            row[f"p{round(q * 100)}"] = float(d.quantile(q)) if len(d) else None
        out[str(skill)] = row
    return out


DUCKDB_SQL = """
WITH e AS (
  SELECT skill, coalesce(session_id, '') AS sid, ts, outcome, duration_seconds, context_tokens,
    lag(outcome) OVER w AS prev_outcome, lead(outcome) OVER w AS next_outcome,
    lead(duration_seconds) OVER w AS next_duration
  FROM (SELECT *, CAST(timezone('UTC', CAST("timestamp" AS TIMESTAMPTZ)) AS TIMESTAMP) AS ts
        FROM read_json(?, format='newline_delimited', ignore_errors=true,
          columns={timestamp: 'VARCHAR', event_type: 'VARCHAR', skill: 'VARCHAR',
                   session_id: 'VARCHAR', outcome: 'VARCHAR', duration_seconds: 'DOUBLE',
                   context_tokens: 'DOUBLE'})
        WHERE event_type = 'skill_execution')
  WINDOW w AS (PARTITION BY skill, coalesce(session_id, '') ORDER BY ts, outcome <> 'started')
), runs AS (
  SELECT skill, ts,
    CASE WHEN outcome = 'started' THEN CASE WHEN next_outcome <> 'started' THEN next_outcome END
         ELSE outcome END AS final,
    CASE WHEN outcome = 'started' THEN CASE WHEN next_outcome <> 'started' THEN next_duration END
         ELSE duration_seconds END AS dur
  FROM e WHERE outcome = 'started' OR prev_outcome IS NULL OR prev_outcome <> 'started'
), tok AS (
  SELECT skill, avg(context_tokens) AS t FROM e WHERE ts >= ? AND ts < ? GROUP BY skill
)
SELECT skill, count(*), count(*) FILTER (final = 'success') / nullif(count(final), 0),
  count(*) FILTER (final = 'error') / nullif(count(final), 0),
  avg(dur) FILTER (final IS NOT NULL),
  quantile_cont(dur, [0.5, 0.95, 0.99]) FILTER (final IS NOT NULL), any_value(tok.t)
FROM runs LEFT JOIN tok USING (skill) WHERE ts >= ? AND ts < ? GROUP BY skill
"""


def peer_duckdb(log: Path, start: str, end: str) -> dict[str, Any]:
    """One hand-written DuckDB query straight over the JSONL."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    s, e = start.replace("Z", ""), end.replace("Z", "")
    rows = con.execute(DUCKDB_SQL, [str(log), s, e, s, e]).fetchall()
    out = {}
    for skill, n, sr, er, avg, pct, tok in rows:
        out[skill] = {
            "invocations": n,
            "success_rate": sr,
            "error_rate": er,
            "avg_duration": avg,
            "avg_context_tokens": tok,
            **(
                {f"p{round(q * 100)}": v for q, v in zip(PCTS, pct, strict=True)}
                if pct
                else dict.fromkeys(("p50", "p95", "p99"))
            ),
        }
    return out


def run_aggregate(log: Path, start: str, end: str, *, cache: bool = True) -> dict[str, Any]:
    """``ai-telemetry aggregate`` as the CLI runs it (library calls), then its skill metrics."""

    from ai_telemetry.analyze.aggregate import CACHE_NAME, aggregate
    from ai_telemetry.analyze.metrics import write_metrics_json
    from ai_telemetry.analyze.window import Window, parse_moment
    from ai_telemetry.config import load_settings

    settings = load_settings(environ={}).replace(log_path=log, telemetry_dir=log.parent)
    window = Window(parse_moment(start), parse_moment(end))
    if not cache:  # recompute every metric from the typed table (no re-parse)
        import duckdb

        (log.parent / CACHE_NAME).unlink(missing_ok=True)
        con = duckdb.connect(str(log.parent / "warehouse.duckdb"))
        con.execute("DELETE FROM metric_cache")
        con.close()
    doc = aggregate(window, settings=settings, progress=False, now=parse_moment(end))
    write_metrics_json(doc, log.parent / "metrics.json")
    m = doc["metrics"]
    out = {}
    for skill, n in (m["skill_invocation_total"] or {}).items():
        pct = (m["skill_duration_seconds"] or {}).get(skill) or {}
        out[skill] = {
            "invocations": n,
            "success_rate": (m["skill_success_rate"] or {}).get(skill),
            "error_rate": (m["skill_error_rate"] or {}).get(skill),
            "avg_duration": (m["skill_avg_duration_seconds"] or {}).get(skill),
            "avg_context_tokens": ((m["skill_context_tokens"] or {}).get(skill) or {}).get("mean"),
            "p50": pct.get("p50"),
            "p95": pct.get("p95"),
            "p99": pct.get("p99"),
        }
    return out


METHODS = {
    "seed-loop": peer_seed_loop,
    "pandas": peer_pandas,
    "duckdb-jsonl": peer_duckdb,
}

# --- the harness ----------------------------------------------------------------------------


def run_build(log: Path, end: str) -> dict[str, Any]:
    """The background part of a first ``aggregate``: the full ingest and the week's history."""
    from ai_telemetry.analyze.catchup import catch_up
    from ai_telemetry.analyze.window import parse_moment
    from ai_telemetry.config import load_settings

    settings = load_settings(environ={}).replace(log_path=log, telemetry_dir=log.parent)
    catch_up(settings, parse_moment(end))
    return {}


def wait_for_warehouse(workdir: Path) -> None:
    """Block until no process holds the warehouse (the background build of a first run)."""
    import fcntl

    fd = os.open(workdir / "warehouse.duckdb.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    finally:
        os.close(fd)


def clear(workdir: Path) -> None:
    wait_for_warehouse(workdir)
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal", "metrics-cache.json"):
        (workdir / name).unlink(missing_ok=True)


def child(method: str, log: Path, start: str, end: str, result: Path) -> None:
    if method == "warehouse-build":
        out = run_build(log, end)
    elif method.startswith("aggregate"):
        out = run_aggregate(log, start, end, cache=method != "aggregate-warm-nocache")
    else:
        out = METHODS[method](log, start, end)
    result.write_text(json.dumps(out, sort_keys=True))


def measure(method: str, log: Path, start: str, end: str) -> tuple[float, float, dict[str, Any]]:
    result = log.parent / f"result-{method}.json"
    began = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            method,
            "--log",
            str(log),
            "--start",
            start,
            "--end",
            end,
            "--result",
            str(result),
        ]
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"{method} failed with status {status}")
    return wall, usage.ru_maxrss / 1024, json.loads(result.read_text())


def same(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    diffs = []
    for skill in sorted(set(a) | set(b)):
        ra, rb = a.get(skill, {}), b.get(skill, {})
        for key in sorted(set(ra) | set(rb)):
            x, y = ra.get(key), rb.get(key)
            if x is None or y is None:
                if x is not y:
                    diffs.append(f"{skill}.{key}: {x} != {y}")
            elif not math.isclose(float(x), float(y), rel_tol=1e-6, abs_tol=1e-6):
                diffs.append(f"{skill}.{key}: {x} != {y}")
    return diffs


def last_week(log: Path) -> tuple[str, str]:
    """The last complete ISO week of the data (Monday to Monday)."""
    from datetime import datetime, timedelta

    with log.open("rb") as fh:
        fh.seek(max(0, log.stat().st_size - 4096))
        last = fh.read().splitlines()[-1]
    ts = datetime.fromisoformat(json.loads(last)["timestamp"].replace("Z", "+00:00"))
    monday = (ts - timedelta(days=ts.weekday() + 7)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return monday.strftime(fmt), (monday + timedelta(days=7)).strftime(fmt)


def main() -> None:
    parser = argparse.ArgumentParser(description="aggregate benchmark")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ait-bench"))
    parser.add_argument("--peers", default="seed-loop,pandas,duckdb-jsonl")
    parser.add_argument("--repeat", type=int, default=1, help="runs per method; the best counts")
    parser.add_argument("--windows", default="week,year", help="which windows: week, year")
    parser.add_argument("--child")
    parser.add_argument("--log", type=Path)
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--result", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.log, args.start, args.end, args.result)
        return
    # As installed: pip compiles the package, so no run pays for compiling our modules (an
    # editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile them in every process).
    import compileall

    import ai_telemetry

    compileall.compile_dir(Path(ai_telemetry.__file__).parent, quiet=1)
    sys.path.insert(0, str(HERE))
    from gen_events import generate

    args.workdir.mkdir(parents=True, exist_ok=True)
    log = args.workdir / "events.jsonl"
    if not log.exists():
        t = time.perf_counter()
        generate(args.events, log)
        print(
            f"generated {args.events} events ({log.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
    windows = {"week": last_week(log), "year": YEAR}
    windows = {k: v for k, v in windows.items() if k in args.windows.split(",")}
    rows = []
    ours = ["aggregate-cold", "aggregate-warm", "aggregate-warm-nocache", "warehouse-build"]
    peers = args.peers.split(",")
    # The methods that are compared with a ratio run in interleaved rounds (best of --repeat),
    # so that a noisy minute on a shared machine hits all of them alike; the slow peers (the
    # seed's loop, pandas) run once.
    rounds = [m for m in (*ours, "duckdb-jsonl") if m in ours or m in peers]
    for wname, (start, end) in windows.items():
        results: dict[str, Any] = {}
        best: dict[str, tuple[float, float]] = {}
        ready = math.inf
        plan = [m for _ in range(args.repeat) for m in rounds]
        plan += [m for m in peers if m not in rounds]
        for method in plan:
            if method in ("aggregate-cold", "warehouse-build"):
                clear(args.workdir)
            began = time.perf_counter()
            wall, rss, out = measure(method, log, start, end)
            best[method] = min(best.get(method, (math.inf, 0.0)), (wall, rss))
            if method == "aggregate-cold":  # until the background build is done
                wait_for_warehouse(args.workdir)
                ready = min(ready, time.perf_counter() - began)
            if method != "warehouse-build":  # it computes no metrics to compare
                results[method] = out
        for method, (wall, rss) in best.items():
            rows.append((wname, method, wall, rss))
            print(f"{args.events:>10} {wname:5} {method:24} {wall:8.2f} s  {rss:7.0f} MB")
            if method == "aggregate-cold":
                rows.append((wname, "aggregate-cold, warehouse ready", ready, math.nan))
                print(f"{args.events:>10} {wname:5} {'  warehouse ready after':24} {ready:8.2f} s")
        ref = results["duckdb-jsonl"] if "duckdb-jsonl" in results else results["aggregate-cold"]
        for method, out in results.items():
            diffs = same(ref, out)
            status = "same numbers" if not diffs else f"DIFFERENT: {diffs[:3]}"
            print(f"    {wname} {method}: {status} ({len(out)} skills)", flush=True)
            if diffs:
                raise SystemExit(1)
    by = {(w, m): (t, r) for w, m, t, r in rows}
    print("\nratios (wall):")
    for w in windows:
        if (w, "duckdb-jsonl") in by:
            q = by[(w, "duckdb-jsonl")][0]
            print(
                f"  {w}: cold/duckdb-jsonl = {by[(w, 'aggregate-cold')][0] / q:.2f}x; "
                f"duckdb-jsonl/warm = {q / by[(w, 'aggregate-warm')][0]:.1f}x"
            )
        if (w, "seed-loop") in by:
            ratio = by[(w, "seed-loop")][0] / by[(w, "aggregate-warm")][0]
            print(f"  {w}: seed-loop/warm = {ratio:.0f}x")


if __name__ == "__main__":
    main()
