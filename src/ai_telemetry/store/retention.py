"""Retention (seed): raw events older than 90 days move to ``archives/YYYY/`` as Parquet.

Aggregated metrics (the weekly ``metric_history``) are kept two years; dashboards and learning
entries are never touched. Nothing may be lost or doubled, so one run goes step by step, each
step safe to crash after:

1. **stage**: the old lines (timestamp before the cutoff) of the log, read up to its last
   complete line, are copied to ``archives/.staging/<run>.jsonl``; the lines to keep to
   ``events.jsonl.retention``.
2. **archive**: DuckDB reads the staged lines exactly as the warehouse does (same ids) and
   writes one zstd-compressed Parquet file per year, ``archives/YYYY/events-<run>.parquet``.
3. **verify**: the files are read back; row count and the set of ids must equal the staged ones.
4. **manifest**: the parts are added to ``archives/manifest.json`` as ``pending`` (atomic write).
5. **swap**: with the writers' lock held, lines appended meanwhile are copied over, and the
   kept lines replace the log (``os.replace``).
6. **applied**: the manifest marks the parts ``applied``; the staging file goes.

A re-run first recovers: a Parquet file not in the manifest is deleted (crash before 4); a
``pending`` part whose ids are all still in the log is discarded (crash before 5 finished),
one whose ids are all gone from the log is marked ``applied`` (crash after 5). The warehouse
reads every part of the manifest and de-duplicates by id, so even between those steps no
query counts an event twice. ``AI_TELEMETRY_RETENTION_CRASH_AT=<step>`` kills the process with
SIGKILL right after that step (for the crash tests).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson

from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.log.files import atomic_write, open_file, read_bytes
from ai_telemetry.store import columns

if TYPE_CHECKING:
    from ai_telemetry.documents.types import RetentionDocument

MANIFEST_NAME: Final = "manifest.json"
RAW_DAYS: Final = 90
METRICS_DAYS: Final = 730
CRASH_ENV: Final = "AI_TELEMETRY_RETENTION_CRASH_AT"
STEPS: Final = ("staged", "archived", "verified", "manifest", "swap_prepared", "swapped", "applied")


@dataclass(slots=True)
class RetentionReport:
    """What one `apply_retention` did (or would do, with ``dry_run``)."""

    cutoff: str
    archived: int = 0
    """Events moved from the log to the archives."""
    kept: int = 0
    """Lines left in the log (bad lines included)."""
    files: list[str] = field(default_factory=list)
    """Archive files written, relative to ``archives/``."""
    recovered: list[str] = field(default_factory=list)
    """What the recovery of an earlier, interrupted run did."""
    metrics_pruned: int = 0
    """Weekly metric history rows older than two years removed."""
    dry_run: bool = False

    def to_document(self) -> RetentionDocument:
        """The ``retention apply --json`` document (docs/schemas/retention-apply.json)."""
        from ai_telemetry.documents import header

        return {
            **header("retention apply"),
            "dry_run": self.dry_run,
            "cutoff": self.cutoff,
            "archived": self.archived,
            "kept": self.kept,
            "files": list(self.files),
            "recovered": list(self.recovered),
            "metrics_pruned": self.metrics_pruned,
        }


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def manifest_path(settings: Settings) -> Path:
    """``archives/manifest.json`` of these settings."""
    return settings.archives_dir / MANIFEST_NAME


def read_manifest(settings: Settings) -> dict[str, Any]:
    """The archive manifest (``{"version": 1, "parts": [...]}``); empty when missing.

    Raises:
        AnalyticsError: the manifest exists but is not valid JSON.
    """
    path = manifest_path(settings)
    try:
        data = orjson.loads(read_bytes(path))
    except FileNotFoundError:
        return {"version": 1, "parts": []}
    except (OSError, orjson.JSONDecodeError) as exc:
        raise AnalyticsError(
            f"{path}: cannot read the archive manifest ({exc}); restore it from a backup"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("parts"), list):
        raise AnalyticsError(f"{path}: not an archive manifest; restore it from a backup")
    return data


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write(path, data)


def write_manifest(settings: Settings, manifest: dict[str, Any]) -> None:
    """Publish the manifest atomically (temp file, fsync, rename)."""
    path = manifest_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def _line_time(line: bytes) -> datetime | None:
    """The UTC timestamp of a usable event line, or None for a line to leave alone."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    kind, stamp = obj.get("event_type"), obj.get("timestamp")
    if not isinstance(kind, str) or not kind or not isinstance(stamp, str):
        return None
    text = stamp.strip()
    if text[-1:] == "Z":  # as DuckDB reads it: a lowercase z is not a timestamp there
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _connect() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET memory_limit = '600MB'")
    return con


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _ids_in_log(con: Any, log_path: Path, part: Path) -> tuple[int, int]:
    """(ids of the part, of which still in the log)."""
    total = con.execute(f"SELECT count(*) FROM read_parquet({_sql_path(part)})").fetchone()[0]
    if not log_path.exists() or log_path.stat().st_size == 0:
        return int(total), 0
    typed = columns.typed_select_sql(columns.read_json_sql(_sql_path(log_path)))
    found = con.execute(
        f"SELECT count(*) FROM read_parquet({_sql_path(part)}) p WHERE p.event_id IN "
        f"(SELECT event_id FROM ({typed}) WHERE {columns.ok_filter_sql()})"
    ).fetchone()[0]
    return int(total), int(found)


def recover(settings: Settings) -> list[str]:
    """Finish or undo what an interrupted run left; return what was done.

    Raises:
        AnalyticsError: a pending part is only partly in the log (someone edited it by hand).
    """
    archives = settings.archives_dir
    done: list[str] = []
    manifest = read_manifest(settings)
    known = {str(p["file"]) for p in manifest["parts"]}
    changed = False
    con = None
    for part in list(manifest["parts"]):
        if part.get("status") == "applied":
            continue
        path = archives / str(part["file"])
        if not path.is_file():
            manifest["parts"].remove(part)
            changed = True
            done.append(f"dropped missing pending part {part['file']}")
            continue
        con = con or _connect()
        total, in_log = _ids_in_log(con, settings.log_path, path)
        if in_log == total:
            path.unlink()
            manifest["parts"].remove(part)
            done.append(f"discarded {part['file']} (its events are still in the log)")
        elif in_log == 0:
            part["status"] = "applied"
            done.append(f"marked {part['file']} applied (the log swap had happened)")
        else:
            raise AnalyticsError(
                f"{path}: {in_log} of its {total} events are still in {settings.log_path}; "
                "the log was edited during retention. Remove those lines or this part by hand"
            )
        changed = True
    if changed:
        write_manifest(settings, manifest)
    if archives.is_dir():
        for stray in sorted(archives.glob("*/events-*.parquet*")):
            rel = str(stray.relative_to(archives))
            if rel not in known or stray.suffix == ".tmp":
                stray.unlink()
                done.append(f"deleted unlisted {rel}")
        staging = archives / ".staging"
        for leftover in sorted(staging.glob("*")) if staging.is_dir() else []:
            leftover.unlink()
    swap_tmp = settings.log_path.with_name(settings.log_path.name + ".retention")
    if swap_tmp.exists():
        swap_tmp.unlink()
        done.append(f"deleted unfinished {swap_tmp.name}")
    if con is not None:
        con.close()
    return done


def apply_retention(
    settings: Settings,
    *,
    now: datetime | None = None,
    raw_days: int = RAW_DAYS,
    metrics_days: int = METRICS_DAYS,
    dry_run: bool = False,
) -> RetentionReport:
    """Archive raw events older than ``raw_days`` and prune old metric history.

    Args:
        settings: the telemetry directory and log.
        now: the clock (default: the current UTC time).
        raw_days: age in days after which raw events leave the log.
        metrics_days: age in days after which weekly metric history rows are removed.
        dry_run: only count what would move.

    Raises:
        AnalyticsError: verification failed (nothing was removed), or recovery found a log
            edited by hand.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    cutoff = moment - timedelta(days=raw_days)
    report = RetentionReport(cutoff=cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"), dry_run=dry_run)
    if not dry_run:
        report.recovered = recover(settings)
    run = moment.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    log_path = settings.log_path
    if log_path.exists():
        _archive_log(settings, cutoff, run, report)
    if not dry_run:
        report.metrics_pruned = _prune_metrics(settings, moment - timedelta(days=metrics_days))
    return report


def _archive_log(settings: Settings, cutoff: datetime, run: str, report: RetentionReport) -> None:
    log_path = settings.log_path
    archives = settings.archives_dir
    staging = archives / ".staging" / f"{run}.jsonl"
    keep_path = log_path.with_name(log_path.name + ".retention")
    with open_file(log_path, "rb") as log:
        inode = os.fstat(log.fileno()).st_ino
        data_end = 0
        if report.dry_run:
            for line in log:
                if not line.endswith(b"\n"):
                    break
                when = _line_time(line)
                if when is not None and when < cutoff:
                    report.archived += 1
                else:
                    report.kept += 1
            return
        staging.parent.mkdir(parents=True, exist_ok=True)
        with open_file(staging, "wb") as old, open_file(keep_path, "wb") as keep:
            for line in log:
                if not line.endswith(b"\n"):
                    break  # a writer's unfinished line: it stays for the swap to copy
                data_end += len(line)
                when = _line_time(line)
                if when is not None and when < cutoff:
                    old.write(line)
                    report.archived += 1
                else:
                    keep.write(line)
                    report.kept += 1
    if report.archived == 0:
        staging.unlink()
        keep_path.unlink()
        return
    _crash_point("staged")
    con = _connect()
    try:
        parts = _write_parts(con, staging, archives, run)
        report.files = [rel for rel, _ in parts]
        _crash_point("archived")
        _verify(con, staging, [archives / rel for rel, _ in parts])
        _crash_point("verified")
    finally:
        con.close()
    manifest = read_manifest(settings)
    for rel, info in parts:
        manifest["parts"].append({"file": rel, "run": run, "status": "pending", **info})
    write_manifest(settings, manifest)
    _crash_point("manifest")
    _swap(log_path, keep_path, inode=inode, data_end=data_end)
    for part in manifest["parts"]:
        if part.get("run") == run:
            part["status"] = "applied"
    write_manifest(settings, manifest)
    _crash_point("applied")
    staging.unlink()


def _write_parts(
    con: Any, staging: Path, archives: Path, run: str
) -> list[tuple[str, dict[str, Any]]]:
    typed = columns.typed_select_sql(
        columns.read_json_sql(_sql_path(staging)) + " WITH ORDINALITY", extra=("ordinality",)
    )
    cols = ", ".join(f'"{n}"' for n in columns.COLUMN_NAMES)
    con.execute(
        f"CREATE TABLE staged AS SELECT {cols}, 0 AS seq, ({columns.ok_filter_sql()}) AS ok, "
        f"ordinality AS line FROM ({typed})"
    )
    bad = con.execute("SELECT count(*) FROM staged WHERE NOT ok").fetchone()[0]
    if bad:
        raise AnalyticsError(
            f"{staging}: {bad} staged lines were not readable as events; nothing was removed "
            "from the log. Run `ai-telemetry validate` and fix those lines"
        )
    parts: list[tuple[str, dict[str, Any]]] = []
    years = [
        r[0] for r in con.execute("SELECT DISTINCT year(ts) FROM staged ORDER BY 1").fetchall()
    ]
    for year in years:
        rel = f"{year}/events-{run}.parquet"
        final = archives / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(final.name + ".tmp")
        if tmp.is_symlink():  # DuckDB's COPY would write through it
            tmp.unlink()
        con.execute(
            f"COPY (SELECT {cols}, seq FROM staged WHERE year(ts) = {int(year)} "
            "AND line IN (SELECT max(line) FROM staged GROUP BY event_id) ORDER BY ts) "
            f"TO {_sql_path(tmp)} (FORMAT parquet, COMPRESSION zstd)"
        )
        with open_file(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(final)
        row = con.execute(
            f"SELECT count(*), min(ts), max(ts) FROM read_parquet({_sql_path(final)})"
        ).fetchone()
        parts.append((rel, {"events": int(row[0]), "min_ts": str(row[1]), "max_ts": str(row[2])}))
    return parts


def _verify(con: Any, staging: Path, files: list[Path]) -> None:
    listing = "[" + ", ".join(_sql_path(f) for f in files) + "]"
    expected = con.execute("SELECT count(DISTINCT event_id) FROM staged").fetchone()[0]
    got, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT event_id) FROM read_parquet({listing})"
    ).fetchone()
    missing = con.execute(
        f"SELECT count(*) FROM (SELECT event_id FROM staged EXCEPT "
        f"SELECT event_id FROM read_parquet({listing}))"
    ).fetchone()[0]
    if got != expected or distinct != expected or missing:
        for f in files:
            f.unlink(missing_ok=True)
        raise AnalyticsError(
            f"{staging}: archive verification failed ({got} rows, {distinct} ids, {expected} "
            f"expected, {missing} missing); nothing was removed from the log. Retry"
        )


def _swap(log_path: Path, keep_path: Path, *, inode: int, data_end: int) -> None:
    from ai_telemetry.log.files import fsync_dir
    from ai_telemetry.log.writer import writers_lock

    with writers_lock(log_path, timeout=60), open_file(log_path, "rb") as log:
        st = os.fstat(log.fileno())
        if st.st_ino != inode or st.st_size < data_end:
            raise AnalyticsError(
                f"{log_path}: the log was replaced during retention; run it again "
                "(the next run cleans up this one)"
            )
        with open_file(keep_path, "ab") as keep:
            log.seek(data_end)
            while chunk := log.read(1 << 20):
                keep.write(chunk)
            keep.flush()
            os.fsync(keep.fileno())
        _crash_point("swap_prepared")
        keep_path.replace(log_path)
        fsync_dir(log_path.parent)
        _crash_point("swapped")


def _prune_metrics(settings: Settings, before: datetime) -> int:
    from ai_telemetry.store.warehouse import WAREHOUSE_FILE, Warehouse

    if not (settings.telemetry_dir / WAREHOUSE_FILE).exists():
        return 0
    from ai_telemetry.store.duckdb_store import DuckDBStore

    with DuckDBStore(settings, warehouse=Warehouse(settings)) as store:
        return store.prune_history(before=before.date())
