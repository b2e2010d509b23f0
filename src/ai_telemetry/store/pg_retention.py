"""Retention on the PostgreSQL store: month partitions older than 90 days go to Parquet.

The same promise as `ai_telemetry.store.retention` (nothing lost, nothing doubled, every step
safe to crash after), with a manifest of the same shape in ``archives-postgres/`` of the
telemetry directory (not ``archives/``: the local warehouse reads every part listed there):

1. **detach**: the partition is detached and renamed ``<name>_archiving`` in one
   transaction: nothing writes to it any more (a late event of that month creates a new,
   empty partition, archived by a later run).
2. **archive**: its rows (COPY, CSV) become one zstd Parquet file per partition,
   ``archives-postgres/YYYY/events-<partition>-<run>.parquet``, with every column of the
   contract (``extra`` spread back into columns) and ``seq``, as the local archives have.
3. **verify**: read back, row count and the set of ids must equal the detached table's.
4. **manifest**: the part is added as ``pending`` (atomic write).
5. **drop**: the table and its ``event_ids`` go, in one transaction.
6. **applied**: the manifest marks the part ``applied``.

Then the weekly metric history older than two years is pruned, as `retention apply` does.

A re-run first recovers: a ``pending`` part whose ``_archiving`` table still exists is
discarded and archived again; one whose table is gone is marked ``applied``; an
``_archiving`` table without a part is archived; a Parquet file not in the manifest is
deleted. ``AI_TELEMETRY_RETENTION_CRASH_AT=<step>`` (``detached``, ``archived``, ``verified``,
``manifest``, ``dropped``) kills the process right after that step, for the crash tests.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

from ai_telemetry.errors import AnalyticsError
from ai_telemetry.store.columns import COLUMN_NAMES, FIELD_TYPES
from ai_telemetry.store.postgres import TYPED_COLUMNS, PostgresStore

ARCHIVE_DIR: Final = "archives-postgres"
CRASH_ENV: Final = "AI_TELEMETRY_RETENTION_CRASH_AT"
_SUFFIX: Final = "_archiving"


@dataclass(slots=True)
class PgRetentionReport:
    """What one `apply_pg_retention` did (or would do)."""

    cutoff: str
    partitions: list[str] = field(default_factory=list)
    archived: int = 0
    files: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    metrics_pruned: int = 0
    """Weekly metric history rows older than two years removed (as `retention apply` does)."""
    dry_run: bool = False


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def archive_root(store: PostgresStore) -> Path:
    """``<telemetry_dir>/archives-postgres``."""
    return store.settings.telemetry_dir / ARCHIVE_DIR


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest (``{"version": 1, "parts": [...]}``); empty when missing.

    Raises:
        AnalyticsError: it exists but is not a manifest.
    """
    path = root / "manifest.json"
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return {"version": 1, "parts": []}
    except (OSError, orjson.JSONDecodeError) as exc:
        raise AnalyticsError(f"{path}: cannot read the archive manifest ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("parts"), list):
        raise AnalyticsError(f"{path}: not an archive manifest; restore it from a backup")
    return data


def _write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    from ai_telemetry.log.files import atomic_write

    root.mkdir(parents=True, exist_ok=True)
    atomic_write(root / "manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def _tables(store: PostgresStore) -> set[str]:
    with store.connection() as con:
        rows = con.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE 'event\\_rows\\_y%%'"
        ).fetchall()
    return {str(r[0]) for r in rows}


def _detach(store: PostgresStore, name: str) -> None:
    with store.connection() as con, con.transaction():
        con.execute(f"ALTER TABLE event_rows DETACH PARTITION {name}")
        con.execute(f"ALTER TABLE {name} RENAME TO {name}{_SUFFIX}")
        con.execute("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'generation'")


def _sql_text(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _archive(store: PostgresStore, table: str, root: Path, run: str) -> tuple[str, dict[str, Any]]:
    """Steps 2 and 3 for one detached table: the Parquet file (relative) and its entry."""
    import duckdb

    partition = table.removesuffix(_SUFFIX)
    year = partition.split("_y", 1)[1][:4]
    staging = root / ".staging" / f"{partition}-{run}.csv"
    staging.parent.mkdir(parents=True, exist_ok=True)
    typed = ", ".join(f'"{n}"' for n in TYPED_COLUMNS)
    with store.connection() as con:
        cur = con.cursor()
        with (
            staging.open("wb") as out,
            cur.copy(
                f"COPY (SELECT {typed}, extra::text, seq FROM {table}) TO STDOUT (FORMAT csv)"
            ) as copy,
        ):
            for block in copy:
                out.write(block)
        row = cur.execute(f"SELECT count(*), count(DISTINCT event_id) FROM {table}").fetchone()
        ids = {str(r[0]) for r in cur.execute(f"SELECT event_id FROM {table}").fetchall()}
    expected = int(row[0]) if row else 0
    rel = f"{year}/events-{partition}-{run}.parquet"
    final = root / rel
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(final.name + ".tmp")
    types = {n: ("DOUBLE" if t == "DOUBLE" else t) for n, t in _types().items()}
    spec = ", ".join(f"'{n}': '{types[n]}'" for n in TYPED_COLUMNS)
    spec += ", 'extra': 'VARCHAR', 'seq': 'BIGINT'"
    cols = []
    for name in COLUMN_NAMES:
        if name in TYPED_COLUMNS:
            cols.append(f'"{name}"')
        elif FIELD_TYPES.get(name) == "DOUBLE":
            cols.append(f"CAST(json_extract_string(extra, '$.{name}') AS DOUBLE) AS \"{name}\"")
        else:
            cols.append(f"json_extract_string(extra, '$.{name}') AS \"{name}\"")
    con2 = duckdb.connect()
    try:
        con2.execute("SET TimeZone = 'UTC'")
        con2.execute(
            f"COPY (SELECT {', '.join(cols)}, seq FROM read_csv({_sql_text(staging)}, "
            f"header=false, allow_quoted_nulls=false, columns={{{spec}}}) ORDER BY ts) "
            f"TO {_sql_text(tmp)} (FORMAT parquet, COMPRESSION zstd)"
        )
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(final)
        _crash_point("archived")
        got = con2.execute(
            f"SELECT count(*), count(DISTINCT event_id), min(ts), max(ts) "
            f"FROM read_parquet({_sql_text(final)})"
        ).fetchone()
        found = {
            str(r[0])
            for r in con2.execute(
                f"SELECT event_id FROM read_parquet({_sql_text(final)})"
            ).fetchall()
        }
    finally:
        con2.close()
    staging.unlink(missing_ok=True)
    if got is None or got[0] != expected or got[1] != expected or found != ids:
        final.unlink(missing_ok=True)
        raise AnalyticsError(
            f"{table}: archive verification failed ({got[0] if got else 0} rows, {expected} "
            "expected); nothing was dropped. Retry"
        )
    _crash_point("verified")
    info = {"events": expected, "min_ts": str(got[2]), "max_ts": str(got[3])}
    return rel, {"partition": partition, **info}


def _types() -> dict[str, str]:
    from ai_telemetry.store.columns import EVENT_COLUMNS

    return dict(EVENT_COLUMNS)


def _drop(store: PostgresStore, table: str) -> int:
    with store.connection() as con, con.transaction():
        con.execute(
            f"DELETE FROM event_ids i USING {table} d WHERE i.event_id = d.event_id AND i.ts = d.ts"
        )
        cur = con.execute(f"SELECT count(*) FROM {table}")
        row = cur.fetchone()
        con.execute(f"DROP TABLE {table}")
    return int(row[0]) if row else 0


def recover(store: PostgresStore, root: Path, run: str) -> list[str]:
    """Finish or undo what an interrupted run left; return what was done."""
    done: list[str] = []
    manifest = read_manifest(root)
    tables = _tables(store)
    changed = False
    for part in list(manifest["parts"]):
        if part.get("status") == "applied":
            continue
        table = str(part["partition"]) + _SUFFIX
        if table in tables:
            (root / str(part["file"])).unlink(missing_ok=True)
            manifest["parts"].remove(part)
            done.append(f"discarded {part['file']} ({table} is still there; archived again)")
        else:
            part["status"] = "applied"
            done.append(f"marked {part['file']} applied (its partition was dropped)")
        changed = True
    if changed:
        _write_manifest(root, manifest)
    known = {str(p["file"]) for p in manifest["parts"]}
    for stray in sorted(root.glob("*/events-*.parquet*")) if root.is_dir() else []:
        rel = str(stray.relative_to(root))
        if rel not in known:
            stray.unlink()
            done.append(f"deleted unlisted {rel}")
    for leftover in sorted((root / ".staging").glob("*")) if (root / ".staging").is_dir() else []:
        leftover.unlink()
    del run
    return done


def apply_pg_retention(
    store: PostgresStore,
    *,
    now: datetime | None = None,
    raw_days: int = 90,
    metrics_days: int = 730,
    dry_run: bool = False,
) -> PgRetentionReport:
    """Archive and drop the partitions that end on or before ``now - raw_days`` (UTC).

    Raises:
        AnalyticsError: verification failed (that partition stays detached, nothing is
            dropped; the next run archives it again), or PostgreSQL refused a step.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    cutoff: date = (moment - timedelta(days=raw_days)).date()
    report = PgRetentionReport(cutoff=cutoff.isoformat(), dry_run=dry_run)
    root = archive_root(store)
    run = moment.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    old = [p for p in store.partition_tables() if p[2] <= cutoff]
    if dry_run:
        report.partitions = [p[0] for p in old]
        with store.connection() as con:
            for name, _, _ in old:
                row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
                report.archived += int(row[0]) if row else 0
        return report
    report.recovered = recover(store, root, run)
    for name, _, _ in old:
        _detach(store, name)
        _crash_point("detached")
    for table in sorted(t for t in _tables(store) if t.endswith(_SUFFIX)):
        rel, info = _archive(store, table, root, run)
        manifest = read_manifest(root)
        manifest["parts"].append({"file": rel, "run": run, "status": "pending", **info})
        _write_manifest(root, manifest)
        _crash_point("manifest")
        report.archived += _drop(store, table)
        _crash_point("dropped")
        for part in manifest["parts"]:
            if part["file"] == rel:
                part["status"] = "applied"
        _write_manifest(root, manifest)
        report.partitions.append(str(info["partition"]))
        report.files.append(rel)
    report.metrics_pruned = store.prune_history(
        before=(moment - timedelta(days=metrics_days)).date()
    )
    return report
