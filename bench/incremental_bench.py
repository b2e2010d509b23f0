"""Incremental ``aggregate``: new events on a large history, then one week, as a whole process.

Issue 14's goal: after 1,000 new events on a 10M-event history, ``ai-telemetry aggregate`` of
a week in at most 0.3 s; after 100,000, at most 1.0 s. The history is a seeded log from
``bench/gen_events.py`` (generated once per ``--workdir``) with its warehouse built once and
kept as a copy; each run restores that copy, cuts the log back to the bytes the warehouse has
read, appends ``N`` new events (another seed's, moved into the log's last week, in time
order), and times ``ai-telemetry aggregate --start --end`` of that week from spawn to exit
(the command's whole process, installed-package style: modules compiled ahead). The numbers
of each run are checked against a fresh in-memory read of the same log.

    python bench/incremental_bench.py --events 10000000 --workdir /tmp/bench10m --new 1000,100000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
KEPT = ("warehouse.duckdb",)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _last_week(log: Path) -> tuple[datetime, datetime]:
    with log.open("rb") as fh:
        fh.seek(max(0, log.stat().st_size - 65536))
        last = fh.read().splitlines()[-1]
    ts = _moment(orjson.loads(last)["timestamp"])
    monday = (ts - timedelta(days=ts.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday, monday + timedelta(days=7)


def _new_events(n: int, workdir: Path, week: tuple[datetime, datetime]) -> bytes:
    """``n`` events of another seed, their times squeezed into ``week`` in order, and their
    ids new UUIDv7s of those times (as the writers make them; copies keep one id)."""
    from ai_telemetry.events.schema import new_event_id
    from gen_events import generate

    source = workdir / f"new-{n}.jsonl"
    if not source.exists():
        generate(n, source, seed=7)
    lines = source.read_bytes().splitlines()
    span = (week[1] - week[0]).total_seconds() - 1
    out = []
    ids: dict[str, str] = {}
    for i, line in enumerate(lines):
        event = orjson.loads(line)
        moment = week[0] + timedelta(seconds=span * i / max(len(lines), 1))
        event["timestamp"] = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if "event_id" in event:
            old = event["event_id"]
            if old not in ids:
                rand = int.from_bytes(hashlib.blake2b(old.encode(), digest_size=10).digest()) >> 6
                ids[old] = new_event_id(int(moment.timestamp() * 1000), rand=rand)
            event["event_id"] = ids[old]
        out.append(orjson.dumps(event))
    return b"\n".join(out) + b"\n"


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env["AI_TELEMETRY_DIR"] = str(workdir)
    return env


def _aggregate(workdir: Path, week: tuple[datetime, datetime]) -> tuple[float, dict[str, Any]]:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    command = [
        sys.executable,
        "-m",
        "ai_telemetry",
        "aggregate",
        "--start",
        week[0].strftime(fmt),
        "--end",
        week[1].strftime(fmt),
        "--output",
        str(workdir / "metrics.json"),
    ]
    began = time.perf_counter()
    subprocess.run(command, env=_env(workdir), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    doc: dict[str, Any] = json.loads((workdir / "metrics.json").read_text())
    return wall, doc


def _fresh(workdir: Path, week: tuple[datetime, datetime]) -> dict[str, Any]:
    """The week's catalogue from a throwaway in-memory read of the whole log."""
    from ai_telemetry.analyze.window import Window
    from ai_telemetry.config import load_settings
    from ai_telemetry.store.duckdb_store import DuckDBStore

    settings = load_settings(environ={"AI_TELEMETRY_DIR": str(workdir)})
    window = Window(*week)
    with DuckDBStore.from_log(settings, window, progress=False) as store:
        store.ingest()
        return store.compute_catalogue(window)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ait-incremental"))
    parser.add_argument("--new", default="1000,100000", help="new events per run, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import compileall

    import ai_telemetry

    compileall.compile_dir(Path(ai_telemetry.__file__).parent, quiet=1)
    sys.path.insert(0, str(HERE))
    from ai_telemetry.store.warehouse import take_lock
    from gen_events import generate

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    log, base = work / "events.jsonl", work / "base"
    if not log.exists():
        t = time.perf_counter()
        generate(args.events, log)
        print(f"generated {args.events} events in {time.perf_counter() - t:.0f} s", flush=True)
    week = _last_week(log)
    size = log.stat().st_size
    if not (base / "size").exists() or int((base / "size").read_text()) != size:
        shutil.rmtree(base, ignore_errors=True)
        for name in (*KEPT, "warehouse.duckdb.wal", "metrics-cache.json", "aggregate-cache.json"):
            (work / name).unlink(missing_ok=True)
        t = time.perf_counter()
        from ai_telemetry.analyze.catchup import catch_up
        from ai_telemetry.config import load_settings

        catch_up(load_settings(environ={"AI_TELEMETRY_DIR": str(work)}), week[1])
        print(f"warehouse built in {time.perf_counter() - t:.0f} s", flush=True)
        base.mkdir()
        for name in KEPT:
            shutil.copy2(work / name, base / name)
        (base / "size").write_text(str(size))
    print(f"history: {args.events} events, week {week[0]:%Y-%m-%d}", flush=True)
    for n in (int(x) for x in args.new.split(",")):
        new = _new_events(n, work, week)
        walls: list[float] = []
        for _ in range(args.runs):
            # The last run's background checkpoint (a WAL past 16 MiB) holds the lock till done.
            fd = take_lock(work / KEPT[0], timeout=120)
            for name in KEPT:
                shutil.copy2(base / name, work / name)
            for name in ("warehouse.duckdb.wal", "metrics-cache.json", "aggregate-cache.json"):
                (work / name).unlink(missing_ok=True)
            os.close(fd)
            os.truncate(log, size)
            with log.open("ab") as fh:
                fh.write(new)
            os.sync()
            wall, doc = _aggregate(work, week)
            walls.append(wall)
            print(f"  +{n:>7} events: aggregate of the week {wall:.3f} s", flush=True)
        fresh = orjson.loads(orjson.dumps(_fresh(work, week)["metrics"]))
        if doc["metrics"] != fresh:
            os.truncate(log, size)  # the next run starts from the same history
            differ = {
                k: (doc["metrics"].get(k), fresh.get(k))
                for k in fresh
                if doc["metrics"].get(k) != fresh.get(k)
            }
            (work / "differ.json").write_bytes(orjson.dumps(differ, option=orjson.OPT_INDENT_2))
            raise SystemExit(
                f"+{n}: the incremental numbers differ from a fresh read: {', '.join(differ)} "
                f"(incremental, fresh: {work / 'differ.json'})"
            )
        print(
            f"+{n} events: best {min(walls):.3f} s, median {statistics.median(walls):.3f} s "
            f"(same numbers as a fresh read)",
            flush=True,
        )
    os.truncate(log, size)


if __name__ == "__main__":
    main()
