"""PostgreSQL store benchmark: COPY ingest against ``psql \\copy``, the catalogue against DuckDB.

    python bench/postgres_bench.py --events 1000000 --workdir /tmp/pgbench

Starts a throwaway PostgreSQL (tests/postgres_server.py: loopback, fsync off), generates the
events (bench/gen_events.py, a year from 2025-01-01), ingests them into the local DuckDB
warehouse, and exports the store's COPY rows (CSV) once. Then, each on a fresh database:

- floor: ``psql \\copy event_rows (...) FROM file CSV`` straight into the partitioned table
  (partitions made beforehand), with the same indexes, no de-duplication;
- store: `PostgresStore.copy_csv` of the same file (COPY into a temporary table, then the
  event-id merge and the insert);

and the whole catalogue (``compute_catalogue``: no metric cache) for the last week and for the
year on PostgreSQL (after ``VACUUM ANALYZE``) and on DuckDB (the warehouse), checking both give
the same event counts and metric names.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description="PostgreSQL store benchmark")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "pgbench")
    parser.add_argument("--retry", action="store_true", help="also time the same batch again")
    args = parser.parse_args()

    import gen_events
    from ai_telemetry.config import load_settings
    from ai_telemetry.ports import Window
    from ai_telemetry.store.duckdb_store import DuckDBStore
    from ai_telemetry.store.postgres import TYPED_COLUMNS, PostgresStore, csv_select_sql
    from ai_telemetry.store.warehouse import Warehouse
    from postgres_server import start_postgres, stop_postgres

    work = args.workdir / f"{args.events}"
    work.mkdir(parents=True, exist_ok=True)
    settings = load_settings(environ={}, cwd=work, telemetry_dir=work / "Telemetry")
    settings.telemetry_dir.mkdir(exist_ok=True)
    if not settings.log_path.exists():
        t = time.perf_counter()
        gen_events.generate(args.events, settings.log_path)
        print(f"generated {args.events} events in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    csv = work / "rows.csv"
    with Warehouse(settings, progress=False) as wh:
        wh.ingest()
        total = wh.count()
        wh.con.execute(f"COPY ({csv_select_sql('events')}) TO '{csv}' (FORMAT csv, HEADER false)")
    print(f"duckdb warehouse ingest + csv export: {time.perf_counter() - t:.1f} s, {total} rows")

    server = start_postgres()
    try:

        def fresh(name: str) -> PostgresStore:
            url = server.createdb(name)
            with PostgresStore(url, settings=settings, check=False) as s:
                s.migrate()
                s.ensure_partitions(
                    [datetime(2025, m, 1) for m in range(1, 13)] + [datetime(2026, 1, 1)]
                )
            return PostgresStore(url, settings=settings)

        floor_store = fresh("floor")
        cols = ", ".join([*(f'"{n}"' for n in TYPED_COLUMNS), "extra", "seq"])
        t = time.perf_counter()
        server.psql("floor", f"\\copy event_rows ({cols}) FROM '{csv}' (FORMAT csv)")
        floor = time.perf_counter() - t
        del floor_store
        print(f"psql \\copy (floor): {floor:.2f} s, {total / floor:,.0f} events/s")

        store = fresh("store")
        with store:
            t = time.perf_counter()
            report = store.copy_csv(csv)
            ours = time.perf_counter() - t
            print(
                f"PostgresStore.copy_csv: {ours:.2f} s, {report.sent / ours:,.0f} events/s, "
                f"{floor / ours:.2f}x of the floor"
            )
            if args.retry:
                t = time.perf_counter()
                again = store.copy_csv(csv)
                retry = time.perf_counter() - t
                print(f"the same batch again (all replaced): {retry:.2f} s, {again.replaced}")
            with store.connection() as con:
                con.execute("VACUUM ANALYZE")
                size = con.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
                print(f"database size: {size.fetchone()}")
            end = datetime(2025, 12, 29, tzinfo=UTC)
            windows = {
                "week": Window(end - timedelta(days=7), end),
                "year": Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
            }
            for label, window in windows.items():
                t = time.perf_counter()
                pg_body = store.compute_catalogue(window)
                pg_s = time.perf_counter() - t
                with DuckDBStore(settings, progress=False) as duck_store:
                    t = time.perf_counter()
                    duck = duck_store.compute_catalogue(window)
                    duck_s = time.perf_counter() - t
                print(
                    f"catalogue {label}: PostgreSQL {pg_s:.2f} s, DuckDB {duck_s:.2f} s, "
                    f"{pg_s / duck_s:.1f}x; same events: {duck['events'] == pg_body['events']}, "
                    f"same metric names: {duck['metrics'].keys() == pg_body['metrics'].keys()}"
                )
    finally:
        stop_postgres(server)


if __name__ == "__main__":
    main()
