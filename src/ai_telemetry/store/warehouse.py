"""The embedded DuckDB warehouse over ``events.jsonl`` and its Parquet archives.

``warehouse.duckdb`` (in the telemetry directory) holds one typed ``events`` table, filled
incrementally:

- from the log: only the bytes added since the last ingest, up to the last complete line (a
  writer may be appending right now; its unfinished line is read next time). The log's inode,
  the offset reached and hashes of the first and last bytes read are kept, so a rotated,
  truncated or rewritten log (retention swaps it) is noticed and read again from the start.
- from the archives listed in ``archives/manifest.json`` (each Parquet file once).

Rows are de-duplicated by ``event_id``, and a later line with the same id replaces the earlier
one (collectors re-write an event that grew: larger token usage, a session end that moved): a
newer ingest batch wins over stored rows, and within one batch the line later in the file wins.
An event without an id gets a stable one derived from its content (see
`ai_telemetry.store.columns`), so reading the same line twice never doubles it.
Lines that are not usable events are counted (``bad_lines``), never fatal.

One command at a time uses the warehouse: `Warehouse` takes an exclusive ``flock`` on
``warehouse.duckdb.lock`` while it is open, and another command waits for it (up to
``lock_timeout`` seconds).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import orjson

from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError, QueryRefusedError
from ai_telemetry.log.files import SYMLINK_REFUSED, open_fd
from ai_telemetry.store import checkpoint, columns
from ai_telemetry.store.columns import COLUMN_NAMES

if TYPE_CHECKING:
    import duckdb

WAREHOUSE_FILE: Final = "warehouse.duckdb"
MEMORY_LIMIT: Final = "600MB"
"""DuckDB's memory limit for the warehouse's writing connection (it spills to disk beyond)."""
CHUNK_BYTES: Final = 1024 * 1024 * 1024
_BLOCK: Final = 8 * 1024 * 1024
_HASH_SPAN: Final = 4096
_FEW_IDS: Final = 200
"""Ids with differing copies in one batch up to which the copies are found on the raw text
(the regular expression of the ids grows with them: 1,000 ids over 1M lines cost 3.8 s)."""
_USABLE: Final = f"coalesce({columns.ok_filter_sql()}, false)"
"""A row of the typed select that is a valid event (`columns.ok_filter_sql`, never NULL)."""
_SCHEMA_VERSION: Final = "2"
"""2: ``log_batches`` (which rows came from the log, dropped when it is rewritten) and the
contract's validity filter; a version-1 file is emptied and rebuilt from the log and archives,
since it may hold rows the filter now refuses (year 0, NaN, a skill named 123)."""
_QUERY_CONFIG: Final[dict[str, str | bool | int | float | list[str]]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}
"""DuckDB settings of the `Warehouse.read_only_query` connection (then locked)."""
_BUILT_HERE: set[str] = set()
"""Warehouse files this process created (a cache: removed again when the disk fills)."""
_LOCKED: Final = "the configuration has been locked"
_REFUSED_HINT: Final = (
    "query reads the warehouse's tables and views only (no files, COPY, ATTACH, "
    "INSTALL/LOAD or SET); see docs/privacy.md"
)


@dataclass(slots=True)
class IngestReport:
    """What one `Warehouse.ingest` did."""

    lines: int = 0
    """Complete lines read from the log this time."""
    bad_lines: int = 0
    """Of those, lines that are not usable events (torn, not JSON, no type or timestamp)."""
    inserted: int = 0
    """New events stored (from the log and the archives)."""
    duplicates: int = 0
    """Usable rows dropped because a later copy of their id was read (or an identical one)."""
    archives: int = 0
    """Archive files read this time."""
    reread: bool = False
    """The log was rotated, truncated or rewritten, so it was read again from the start."""
    redacted: int = 0
    """String values the privacy guard changed in the stored copy (a line appended to the log
    by hand is never scanned by a writer; `Warehouse._guard_batch`)."""


def take_lock(path: Path, *, timeout: float) -> int:
    """Take the exclusive lock of the warehouse at ``path``; return its file descriptor.

    Waits up to ``timeout`` seconds for the command holding it.

    Raises:
        AnalyticsError: the lock file cannot be created, or the wait timed out.
    """
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = open_fd(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise AnalyticsError(
            f"{lock_path}: cannot create the warehouse lock ({exc.strerror or exc}); the "
            "warehouse lives next to the log, so its directory must be writable"
        ) from None
    began = time.monotonic()
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            waited = time.monotonic() - began
            if waited >= 1 and not told and sys.stderr.isatty():
                told = True
                sys.stderr.write(
                    f"waiting for {path.name}: another ai-telemetry command (or a background "
                    "build or checkpoint) is using it\n"
                )
            if waited >= timeout:
                os.close(fd)
                raise AnalyticsError(
                    f"{path}: another ai-telemetry command has held the warehouse for "
                    f"{timeout:.0f} s; wait for it to finish and retry"
                ) from None
            time.sleep(0.05)


def _file_hash(fd: int, start: int, length: int) -> str:
    if length <= 0:
        return ""
    return hashlib.sha256(os.pread(fd, length, start)).hexdigest()


def _want_progress(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    return sys.stderr.isatty()


def connect(
    path: Path, *, memory_limit: str = MEMORY_LIMIT, spill: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A writing DuckDB connection to the warehouse file ``path`` (``:memory:``: in memory,
    spilling to ``spill``) with the warehouse's settings; the caller holds the lock.

    A file's changes stay in its WAL (replayed by the next open, read-only ones too) instead of
    a checkpoint at every close, which rewrites the tables' changed blocks (0.4 s and more;
    docs/performance.md); `Warehouse.close` checkpoints a first build, and hands a large WAL to
    a background child (`ai_telemetry.store.checkpoint`).
    """
    import duckdb

    in_memory = str(path) == ":memory:"
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = true")
        tmp = spill if in_memory and spill is not None else path.with_name(path.name + ".tmp")
        con.execute(f"SET temp_directory = '{_sql_str(tmp)}'")
        if not in_memory:
            con.execute("PRAGMA disable_checkpoint_on_shutdown")
            con.execute(f"SET checkpoint_threshold = '{checkpoint.WAL_INLINE}'")
    except BaseException:
        con.close()
        raise
    return con


class Warehouse:
    """The DuckDB warehouse of one telemetry directory. Use as a context manager.

    Args:
        settings: where the log, the archives and the warehouse are.
        path: the DuckDB file (default ``<telemetry_dir>/warehouse.duckdb``); ``":memory:"``
            works for throwaway use.
        progress: show a progress bar on long ingests (default: when stderr is a terminal).
        lock_timeout: seconds to wait for another command that has the warehouse open.
        memory_limit: DuckDB's memory limit (it spills to disk beyond it).
        columns: keep only these columns of ``events`` (they must include ``event_id``,
            ``ts`` and ``event_type``), for a throwaway ``":memory:"`` warehouse that serves one
            computation straight from the log: reading fewer fields of the JSON is most of
            what a first ingest costs. Such a warehouse has no ``query`` views, and reads the
            log in place (see `ai_telemetry.analyze.aggregate`).
        lock_fd: the warehouse lock, already taken (`take_lock`) by a parent process.
        where: with ``columns``, keep only the rows matching this SQL condition over the
            source's fields, ``__ts`` being the event's time (the rows one computation reads:
            `ai_telemetry.store.catalogue_sql.catalogue_rows_sql` with ``ts="__ts"``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        path: Path | str | None = None,
        progress: bool | None = None,
        lock_timeout: float = 120.0,
        memory_limit: str = MEMORY_LIMIT,
        columns: tuple[str, ...] | None = None,
        lock_fd: int = -1,
        where: str | None = None,
    ) -> None:
        self.settings = settings
        self.path = Path(path) if path is not None else settings.telemetry_dir / WAREHOUSE_FILE
        self._memory = str(path) == ":memory:"
        needed = {"event_id", "ts", "event_type"}
        if columns is not None and not (self._memory and needed <= {*columns}):
            raise ValueError("a lean warehouse is in memory and keeps event_id, ts, event_type")
        # in the table's order, which INSERT ... SELECT follows
        self.columns = tuple(n for n in COLUMN_NAMES if columns is None or n in columns)
        self._lean = columns is not None
        if where is not None and not self._lean:
            raise ValueError("a row filter is for a lean warehouse only")
        self.where = where
        self.progress = progress
        self.lock_timeout = lock_timeout
        self.memory_limit = memory_limit
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock_fd = lock_fd
        self._spill = ""
        self._created = False  # this open made the file: its first build is under way
        self._marker = self.path.with_name(self.path.name + ".building")
        self._guard: Any = None  # the privacy guard of `_guard_batch`, built on first use

    # --- opening and closing ------------------------------------------------------------

    def __enter__(self) -> Warehouse:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.fail(exc)
        self.close()

    def fail(self, exc: BaseException) -> None:
        """Called with what went wrong while the warehouse was open: on a full or read-only
        disk, close it, delete a warehouse file this open created (a half-built file would
        only fail the next command), and raise one `AnalyticsError` saying so.

        Raises:
            AnalyticsError: ``exc`` is a full or read-only disk; otherwise returns.
        """
        reason = disk_problem(exc)
        if reason is None or self._memory:
            return
        # Built by this process (status opens it more than once): on a full disk, a warehouse
        # that just took the last free bytes would only make the log's appends fail next.
        created = self._created or str(self.path) in _BUILT_HERE
        if self._con is not None:
            with contextlib.suppress(Exception):
                self._con.close()
            self._con = None
        if created:  # never a complete warehouse: a half-built file would only fail later
            self._remove_files()
            self._created = False
        self._release()
        raise AnalyticsError(disk_message(self.path, reason, created=created)) from None

    def _lock(self) -> None:
        if self._lock_fd < 0:  # else: handed over by the process that started this one
            self._lock_fd = take_lock(self.path, timeout=self.lock_timeout)

    def open(self) -> None:
        """Take the warehouse lock, connect, and create the tables when missing.

        Raises:
            AnalyticsError: the file cannot be opened (not a DuckDB file, no permission, or
                another command holds it too long).
        """
        import duckdb

        if self._con is not None:
            return
        if not self._memory:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise AnalyticsError(f"{self.path.parent}: cannot create ({exc})") from None
            self._refuse_symlinks()
            self._lock()
            # Holding the lock, any spool directory left here is from a killed ingest.
            import shutil

            for stale in self.path.parent.glob(".ingest-*"):
                shutil.rmtree(stale, ignore_errors=True)
            # A first build that never finished (a full disk, a kill): start it again.
            if self._marker.exists():
                self._remove_files()
            self._created = not self.path.exists()
            if self._created:
                # The WAL of a deleted warehouse file would be replayed into the new one.
                self._remove_files()
                _BUILT_HERE.add(str(self.path))
                try:
                    self._marker.touch()
                except OSError as exc:
                    self._release()
                    reason = disk_problem(exc)
                    if reason is None:
                        raise AnalyticsError(
                            f"{self._marker}: cannot create ({exc.strerror or exc})"
                        ) from None
                    raise AnalyticsError(disk_message(self.path, reason, created=True)) from None
        con: duckdb.DuckDBPyConnection | None = None
        try:
            if self._memory:
                self._spill = tempfile.mkdtemp(prefix="ai-telemetry-spill-")
            con = self._connect()
        except duckdb.Error as exc:
            self._con = con
            self.fail(exc)
            self.close()
            raise AnalyticsError(
                f"{self.path}: cannot open the warehouse ({exc}); delete the file to rebuild "
                "it from events.jsonl and the archives"
            ) from None
        self._con = con
        try:
            self._create_schema()
        except BaseException as exc:
            self.fail(exc)
            self.close()
            raise

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """The writing connection, with the warehouse's settings (the caller holds the lock)."""
        spill = Path(self._spill) if self._memory else None
        return connect(self.path, memory_limit=self.memory_limit, spill=spill)

    def _release(self) -> None:
        if self._spill:
            import shutil

            shutil.rmtree(self._spill, ignore_errors=True)
            self._spill = ""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def close(self) -> None:
        """Close the connection and release the lock.

        A first build is checkpointed here; a WAL grown past
        `checkpoint.WAL_BACKGROUND_BYTES` is checkpointed by a detached child that takes the
        lock over, so the command does not wait for it (`ai_telemetry.store.checkpoint`).
        """
        if self._con is not None:
            if self._created:  # a first build: into the file now, not left to the next open
                import duckdb

                with contextlib.suppress(duckdb.Error):  # else the WAL keeps it, as it would
                    self._con.execute("CHECKPOINT")
            self._con.close()
            self._con = None
            large = checkpoint.wal_bytes(self.path) > checkpoint.WAL_BACKGROUND_BYTES
            if large and not self._memory and self._lock_fd >= 0:
                checkpoint.spawn(self.path, self._lock_fd)  # else the next close tries again
        if self._created:  # the first build is complete: the file is a warehouse now
            with contextlib.suppress(OSError):
                self._marker.unlink()
            self._created = False
        self._release()

    def _refuse_symlinks(self) -> None:
        """DuckDB follows links: refuse a warehouse file, WAL or temp directory that is one
        (a cloned repository could point ``warehouse.duckdb.wal`` at ``~/.bashrc``)."""
        for name in ("", ".wal", ".tmp", ".lock", ".building"):
            candidate = self.path.with_name(self.path.name + name)
            if candidate.is_symlink():
                raise AnalyticsError(f"{candidate}: {SYMLINK_REFUSED}")

    def _remove_files(self) -> None:
        """Delete the warehouse file, its WAL and the first-build marker (the lock held)."""
        for leftover in (self.path, checkpoint.wal_path(self.path), self._marker):
            with contextlib.suppress(OSError):
                leftover.unlink()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The open DuckDB connection (for queries; write through the methods)."""
        if self._con is None:
            raise AnalyticsError("the warehouse is not open; use it as a context manager")
        return self._con

    def _create_schema(self) -> None:
        import duckdb

        con = self.con
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:  # a new file has no meta table yet
            row = None
        if row is not None and row[0] == _SCHEMA_VERSION:
            self._add_new_columns()
            return  # written once; a warm open must not write (each write is a WAL commit)
        con.execute("BEGIN TRANSACTION")
        if row is not None:  # an older file: rebuild its contents under the current contract
            for table in ("events", "ingest_state", "ingested_archives", "metric_cache"):
                with contextlib.suppress(duckdb.CatalogException):
                    con.execute(f"DELETE FROM {table}")
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [_SCHEMA_VERSION])
            self._bump_generation()
        con.execute(columns.create_events_table_sql(names=self.columns))
        con.execute(
            "CREATE TABLE IF NOT EXISTS ingest_state (source VARCHAR PRIMARY KEY, inode BIGINT, "
            "offset_bytes BIGINT, head_hash VARCHAR, tail_hash VARCHAR, lines BIGINT, "
            "bad_lines BIGINT, updated_at TIMESTAMP)"
        )
        con.execute("CREATE TABLE IF NOT EXISTS ingested_archives (file VARCHAR PRIMARY KEY)")
        con.execute("CREATE TABLE IF NOT EXISTS log_batches (seq BIGINT PRIMARY KEY)")
        con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?), ('generation', '0') "
            "ON CONFLICT DO NOTHING",
            [_SCHEMA_VERSION],
        )
        for view, event_type in columns.VIEWS.items() if not self._lean else ():
            con.execute(columns.view_sql(view, event_type))
        con.execute("COMMIT")

    def _add_new_columns(self) -> None:
        """A field added to the event contract since this file was made becomes a column.

        ``ALTER TABLE`` puts it last, so every insert names its columns."""
        have = {
            str(r[0])
            for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'events'"
            ).fetchall()
        }
        missing = [(n, t) for n, t in columns.EVENT_COLUMNS if n in self.columns and n not in have]
        if not missing:
            return
        for name, kind in missing:
            self.con.execute(f'ALTER TABLE events ADD COLUMN "{name}" {kind}')
        for view, event_type in columns.VIEWS.items() if not self._lean else ():
            self.con.execute(columns.view_sql(view, event_type))

    # --- state ----------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """A counter that grows whenever events are added (caches are keyed by it)."""
        row = self.con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def _bump_generation(self) -> None:
        self.con.execute(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'generation'"
        )

    def bad_lines(self) -> int:
        """Unusable lines seen in the current log so far."""
        row = self.con.execute("SELECT coalesce(sum(bad_lines), 0) FROM ingest_state").fetchone()
        return int(row[0]) if row else 0

    def read_only_query(
        self, sql: str, *, project: str | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run someone's SQL on a locked-down connection; return column names and rows.

        The SQL may come from a person at a terminal, the server's read API or an MCP client,
        so the connection sees the warehouse's tables and views and nothing else:

        - read-only: the writing connection is closed first (the warehouse lock stays held, so
          nothing writes meanwhile), and a ``DROP`` or ``DELETE`` is refused instead of
          breaking every later command;
        - DuckDB's ``enable_external_access = false``: no file is read or written
          (``read_csv('/etc/passwd')``, ``COPY ... TO``, ``ATTACH``, ``EXPORT DATABASE``), no
          extension is installed or loaded (nothing is downloaded at run time);
        - ``lock_configuration = true``: ``SET``/``RESET``/``PRAGMA`` cannot undo the above.

        Temporary tables and macros of one's own still work (they live in memory). With
        ``project``, ``events`` and the views show that project's events only (a temporary
        ``events`` view: a filter for convenience, not a boundary).

        Raises:
            QueryRefusedError: the SQL tried to reach outside the warehouse (files, ``COPY``,
                ``ATTACH``, ``INSTALL``/``LOAD``, ``SET``).
            AnalyticsError: the SQL fails otherwise (DuckDB's first line says why).
        """
        import duckdb

        if self._memory:
            raise ValueError("read_only_query is for a warehouse file")
        self.con.close()
        self._con = None
        try:
            con = duckdb.connect(str(self.path), read_only=True, config=_QUERY_CONFIG)
            con.execute("SET TimeZone = 'UTC'")
            if project is not None:
                row = con.execute("SELECT current_database()").fetchone()
                table = '"' + str(row[0] if row else "").replace('"', '""') + '".main.events'
                for statement in columns.project_views_sql(project, table, views=False):
                    con.execute(statement)
            con.execute("SET lock_configuration = true")  # last: nothing can change after it
        except duckdb.Error as exc:
            raise AnalyticsError(f"{self.path}: cannot open the warehouse ({exc})") from None
        try:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description or []]
            return names, cursor.fetchall()
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            if isinstance(exc, duckdb.PermissionException) or _LOCKED in first:
                raise QueryRefusedError(f"query refused: {first}; {_REFUSED_HINT}") from None
            raise AnalyticsError(f"query failed: {first}; see docs/warehouse.md") from None
        finally:
            con.close()
            try:  # the lock is still held: the store stays usable after a query
                self._con = self._connect()
            except duckdb.Error as exc:
                raise AnalyticsError(f"{self.path}: cannot reopen the warehouse ({exc})") from None

    def count(self) -> int:
        """Events stored."""
        row = self.con.execute("SELECT count(*) FROM events").fetchone()
        return int(row[0]) if row else 0

    # --- ingest ---------------------------------------------------------------------------

    def ingest(self) -> IngestReport:
        """Read what is new in the archives and the log into ``events``.

        Raises:
            AnalyticsError: the log or an archive exists but cannot be read.
        """
        report = IngestReport()
        self._ingest_archives(report)
        self._ingest_log(report)
        if report.inserted:
            self._bump_generation()
        return report

    def _next_seq(self) -> int:
        row = self.con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        return int(row[0]) + 1 if row else 1

    def _select(
        self,
        scan: str,
        *,
        typed: bool,
        ordinal: bool = False,
        fingerprint: bool = True,
        ids: str | None = None,
    ) -> str:
        """The events columns of a table-function scan (JSONL through the typed select,
        Parquet archives as stored): the rows within `where` and (JSONL) the unusable ones.

        ``ordinal`` adds the row's place in the file as ``ordinality``. ``ids`` (a query of
        ``event_id`` values) keeps only the source rows with one of those ids, or none, before
        anything else is computed for them (a cheap re-read of a few lines).
        """
        if ordinal:
            scan += " WITH ORDINALITY"
        if ids is not None:
            scan = f"(SELECT * FROM {scan} WHERE event_id IN ({ids}) OR event_id IS NULL)"
        extra = ("ordinality",) if ordinal else ()
        if typed:
            sql = columns.typed_select_sql(
                scan, extra=extra, names=self.columns, fingerprint=fingerprint, where=self.where
            )
            return f"({sql})"
        rows = f" WHERE {self.where}" if self.where else ""
        listed = _column_list((*self.columns, *extra))
        return f"(SELECT {listed} FROM (SELECT *, ts AS __ts FROM {scan}){rows})"

    def _insert_from(
        self,
        scan: str,
        report: IngestReport,
        *,
        typed: bool = True,
        from_log: bool = False,
        path: Path | None = None,
    ) -> tuple[int, int]:
        """Append the usable rows of ``scan`` as one batch; a later copy of an id replaces the
        earlier one.

        One pass over the source (the JSON is parsed once), inserted without keeping the order;
        the rows that are not usable events come along, are counted and deleted (cheaper than
        a second scan, and there are few). Then, within the batch, copies of one id that differ
        are settled by the line's place in the file (re-read with ``WITH ORDINALITY``, only the
        rare batch that has such copies: the last line wins); identical copies keep any one.
        Finally stored events of earlier batches whose id is in this batch are deleted (a
        semi-join on the batch's ids; a copy whose timestamp moved is found too).

        Returns:
            The usable rows read (inserted plus duplicates) and the unusable ones (a line that
            is not JSON, not an object, has no type or no valid timestamp; DuckDB skips blank
            lines).
        """
        con = self.con
        seq = self._next_seq()
        if from_log:  # rows of this batch leave with the log's lines (see `_drop_log_rows`)
            con.execute("INSERT OR IGNORE INTO log_batches VALUES (?)", [seq])
        cols = _column_list(self.columns)
        ok = _USABLE
        # A lean warehouse leaves the id of an event without one NULL in this pass (deriving
        # it reads every field), then derives it in a second pass over only those lines.
        lean = self._lean and typed
        # Every row is inserted but a valid one outside `where` (`_select` applies it).
        con.execute("SET preserve_insertion_order = false")
        try:
            row = con.execute(
                f"INSERT INTO events ({cols}, seq) SELECT {cols}, {seq} "
                f"FROM {self._select(scan, typed=typed, fingerprint=not lean)}"
            ).fetchone()
            read = int(row[0]) if row else 0
            # One scan for what needs attention: unusable rows, missing ids, repeated ids
            # (distinct 64-bit hashes: as many as rows means no id repeats; fewer, and the ids
            # themselves decide).
            repeats = f"count(*) FILTER ({ok}) - count(DISTINCT hash(event_id)) FILTER ({ok})"
            bad, no_id, repeated = con.execute(
                f"SELECT count(*) FILTER (NOT {ok}), count(*) FILTER ({ok} AND event_id IS NULL), "
                f"{repeats} FROM events WHERE seq = {seq}"
            ).fetchone() or (0, 0, 0)
            if bad:
                con.execute(f"DELETE FROM events WHERE seq = {seq} AND NOT {ok}")
            if lean and no_id:
                con.execute(f"DELETE FROM events WHERE seq = {seq} AND event_id IS NULL")
                no_id_lines = f"(SELECT * FROM {scan} WHERE event_id IS NULL)"
                con.execute(
                    f"INSERT INTO events ({cols}, seq) SELECT {cols}, {seq} "
                    f"FROM {self._select(no_id_lines, typed=True)} WHERE {ok}"
                )
                repeated = _one_int(con, f"SELECT {repeats} FROM events WHERE seq = {seq}")
        finally:
            con.execute("SET preserve_insertion_order = true")
        good = read - bad
        if not good:
            return 0, bad
        removed = 0
        if repeated and _one_int(
            con, f"SELECT count(*) - count(DISTINCT event_id) FROM events WHERE seq = {seq}"
        ):
            removed += self._settle_batch(scan, seq, typed=typed, path=path)
        if seq > 1:
            # Bounded by the batch's smallest and largest id: the writers' ids are UUIDv7
            # (time first), so a new batch's ids sit in a few of the stored row groups, and
            # DuckDB skips the others on their min/max (10M stored events: 1.0 -> 0.01 s).
            span = con.execute(
                "SELECT min(event_id), max(event_id) FROM events WHERE seq = ?", [seq]
            ).fetchone() or (None, None)
            row = con.execute(
                "DELETE FROM events WHERE seq < ? AND event_id BETWEEN ? AND ? AND event_id IN "
                "(SELECT event_id FROM events WHERE seq = ?)",
                [seq, span[0], span[1], seq],
            ).fetchone()
            removed += int(row[0]) if row else 0
        report.inserted += good - removed
        report.duplicates += removed
        report.redacted += self._guard_batch(seq)
        return good, bad

    def _guard_batch(self, seq: int) -> int:
        """Apply the privacy guard to the string values of batch ``seq``; return how many
        values it changed.

        A separate step after the insert: the distinct values of the batch's string columns
        (a column scan each) go through `PrivacyGuard.clean_value` (whose cache makes the repeated
        skill and tool names cost a set lookup), and only rows holding a changed value are
        updated, their ``redacted`` count raised. Lines the writers' guard already scrubbed
        come out unchanged, so the usual batch costs one scan and no update.
        """
        names = [
            n for n in self.columns if n == "learning_id" or columns.FIELD_TYPES.get(n) == "VARCHAR"
        ]
        if not names:
            return 0
        con = self.con
        rows: list[tuple[str, Any]] = []
        for name in names:  # one column at a time: cheaper than an UNPIVOT of them all
            col = _column_list((name,))
            rows += [
                (name, value)
                for (value,) in con.execute(
                    f"SELECT DISTINCT {col} FROM events "
                    f"WHERE seq = {int(seq)} AND {col} IS NOT NULL"
                ).fetchall()
            ]
        if self._guard is None:
            from ai_telemetry.events.privacy import PrivacyGuard

            self._guard = PrivacyGuard(policy="redact", cache_limit=1 << 16)
        guard = self._guard
        changes = []
        for name, value in rows:
            if isinstance(value, str):
                clean, category = guard.clean_value(value, field=name)
                if category is not None:
                    changes.append((name, value, clean))
        if not changes:
            return 0
        count = 0
        bump = ', "redacted" = coalesce("redacted", 0) + 1' if "redacted" in self.columns else ""
        con.execute(
            "CREATE OR REPLACE TEMP TABLE guard_changes (name VARCHAR, old VARCHAR, new VARCHAR)"
        )
        try:
            con.executemany("INSERT INTO guard_changes VALUES (?, ?, ?)", changes)
            for name in sorted({c[0] for c in changes}):
                col = _column_list((name,))
                row = con.execute(
                    f"UPDATE events SET {col} = g.new{bump} FROM guard_changes g "
                    f"WHERE events.seq = {int(seq)} AND g.name = ? AND events.{col} = g.old",
                    [name],
                ).fetchone()
                count += int(row[0]) if row else 0
        finally:
            con.execute("DROP TABLE guard_changes")
        return count

    def _copies_from_lines(self, path: Path) -> bool:
        """Whether every stored copy of the ids in ``diff_ids`` was found, typed and in file
        order (as ``copies``), on only the lines of ``path`` that mention one of those ids (or
        no ``"event_id"`` at all).

        The lines are found on their raw text (one regular expression of the ids over each
        line: a fifth of a typed read), written to a scratch file in order and read through the
        same typed select. A line that spells an id with JSON escapes is not found, so the
        copies found are compared with those stored (``dup_ids``); False when they differ (or
        the expression cannot be built), and the caller re-reads the batch.
        """
        import duckdb

        con = self.con
        spellings: set[str] = set()
        for (value,) in con.execute("SELECT event_id FROM diff_ids").fetchall():
            spellings |= {str(value), orjson.dumps(value).decode()[1:-1]}
        pattern = "|".join(sorted(re.escape(v) for v in spellings))
        text = "json::VARCHAR"
        try:
            lines = con.execute(
                f"SELECT {text} FROM read_json_objects('{_sql_str(path)}', "
                "format='newline_delimited', ignore_errors=true, maximum_object_size=16777216) "
                f"WITH ORDINALITY WHERE regexp_matches({text}, '{_sql_str(pattern)}') "
                f"OR NOT contains({text}, '\"event_id\"') ORDER BY ordinality"
            ).fetchall()
        except duckdb.Error:
            return False
        scratch = None if self._memory else self.path.parent
        with tempfile.TemporaryDirectory(prefix=".ingest-", dir=scratch) as tmp:
            part = Path(tmp) / "copies.jsonl"
            part.write_bytes(b"".join(line.encode() + b"\n" for (line,) in lines))
            scan = columns.read_json_sql(f"'{_sql_str(part)}'")
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE copies AS SELECT "
                f"{_column_list(self.columns)}, ordinality FROM "
                f"{self._select(scan, typed=True, ordinal=True)} "
                f"WHERE {_USABLE} AND event_id IN (SELECT event_id FROM diff_ids)"
            )
        missing = con.execute(
            "SELECT count(*) FROM dup_ids d JOIN diff_ids USING (event_id) "
            "LEFT JOIN (SELECT event_id, count(*) AS n FROM copies GROUP BY 1) f "
            "USING (event_id) WHERE f.n IS DISTINCT FROM d.n"
        ).fetchone()
        return not (missing and missing[0])

    def _settle_batch(self, scan: str, seq: int, *, typed: bool, path: Path | None) -> int:
        """Leave one row per id in batch ``seq``: the last line's copy. Returns rows deleted.

        ``path`` is the JSONL file of the batch, if it is one (then the copies of an id that
        differ are found on the lines' raw text first, see `_copies_from_lines`)."""
        con = self.con
        cols = _column_list(self.columns)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE dup_ids AS SELECT event_id, count(*) AS n FROM events "
            "WHERE seq = ? GROUP BY 1 HAVING count(*) > 1",
            [seq],
        )
        # Ids whose copies are not all identical need the file order; the others keep any one.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE diff_ids AS SELECT event_id FROM (SELECT DISTINCT "
            f"{cols} FROM events WHERE seq = ? AND event_id IN (SELECT event_id FROM dup_ids)) "
            "GROUP BY 1 HAVING count(*) > 1",
            [seq],
        )
        row = con.execute("SELECT count(*) FROM diff_ids").fetchone()
        if row and row[0]:
            ok = _USABLE
            ids = "SELECT event_id FROM diff_ids"
            if not (path is not None and row[0] <= _FEW_IDS and self._copies_from_lines(path)):
                # Every line is parsed again, but into typed columns only those of the ids
                # (or of none: an id derived from the fields).
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE copies AS SELECT {cols}, ordinality FROM "
                    f"{self._select(scan, typed=typed, ordinal=True, ids=ids)} "
                    f"WHERE {ok} AND event_id IN ({ids})"
                )
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE winners AS SELECT {cols} FROM copies "
                "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ordinality DESC) = 1"
            )
            con.execute("DROP TABLE copies")
        con.execute(
            "DELETE FROM events WHERE seq = ? AND event_id IN (SELECT event_id FROM dup_ids) "
            "AND rowid NOT IN (SELECT min(rowid) FROM events WHERE seq = ? "
            "AND event_id IN (SELECT event_id FROM dup_ids) GROUP BY event_id)",
            [seq, seq],
        )
        if row and row[0]:
            con.execute(
                "DELETE FROM events WHERE seq = ? AND event_id IN (SELECT event_id FROM diff_ids)",
                [seq],
            )
            con.execute(f"INSERT INTO events ({cols}, seq) SELECT {cols}, {seq} FROM winners")
            con.execute("DROP TABLE winners")
        removed = con.execute("SELECT coalesce(sum(n - 1), 0) FROM dup_ids").fetchone()
        con.execute("DROP TABLE dup_ids")
        con.execute("DROP TABLE diff_ids")
        return int(removed[0]) if removed else 0

    def _ingest_archives(self, report: IngestReport) -> None:
        from ai_telemetry.store.retention import read_manifest

        manifest = read_manifest(self.settings)
        done = {r[0] for r in self.con.execute("SELECT file FROM ingested_archives").fetchall()}
        for part in manifest.get("parts", []):
            rel = str(part["file"])
            if rel in done:
                continue
            path = self.settings.archives_dir / rel
            if not path.is_file():
                continue  # a part whose swap never happened was discarded by retention
            source = f"read_parquet('{_sql_str(path)}')"
            try:
                self._insert_from(source, report, typed=False)  # archived rows are all usable
            except Exception as exc:
                raise AnalyticsError(
                    f"{path}: cannot read this archive ({exc}); restore it from a backup or "
                    "remove its entry from archives/manifest.json"
                ) from None
            self.con.execute("INSERT INTO ingested_archives VALUES (?)", [rel])
            report.archives += 1

    def _log_state(self, source: str) -> tuple[int, int, str, str, int, int] | None:
        row = self.con.execute(
            "SELECT inode, offset_bytes, head_hash, tail_hash, lines, bad_lines "
            "FROM ingest_state WHERE source = ?",
            [source],
        ).fetchone()
        if row is None:
            return None
        return int(row[0]), int(row[1]), str(row[2]), str(row[3]), int(row[4]), int(row[5])

    def _ingest_log(self, report: IngestReport) -> None:
        log_path = self.settings.log_path
        source = str(log_path.resolve())
        try:
            fd = os.open(log_path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AnalyticsError(f"{log_path}: cannot read the log ({exc.strerror})") from None
        try:
            self._ingest_open_log(fd, source, report)
        except OSError as exc:
            raise AnalyticsError(
                f"{log_path}: cannot read the log ({exc.strerror or exc}); check the path "
                "(--input, AI_TELEMETRY_LOG_PATH) and its permissions"
            ) from None
        finally:
            os.close(fd)

    def _ingest_open_log(self, fd: int, source: str, report: IngestReport) -> None:
        st = os.fstat(fd)
        size = st.st_size
        state = self._log_state(source)
        start, lines, bad = 0, 0, 0
        if state is None:
            self._quarantine_grew(source)  # note the quarantine file's size to compare later
        else:
            inode, offset, head, tail, lines, bad = state
            head_len = min(offset, _HASH_SPAN)
            tail_len = min(offset, _HASH_SPAN)
            same = (
                inode == st.st_ino
                and size >= offset
                and _file_hash(fd, 0, head_len) == head
                and _file_hash(fd, offset - tail_len, tail_len) == tail
            )
            if same:
                start = offset
            else:
                report.reread = True
                lines, bad = 0, 0
                if self._quarantine_grew(source):
                    self._drop_log_rows()
        if start >= size and state is not None and not report.reread:
            return
        end = self._read_chunks(fd, start, size, report)
        lines += report.lines
        bad += report.bad_lines
        span = min(end, _HASH_SPAN)
        self.con.execute(
            "INSERT OR REPLACE INTO ingest_state VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [
                source,
                st.st_ino,
                end,
                _file_hash(fd, 0, span),
                _file_hash(fd, end - span, span),
                lines,
                bad,
            ],
        )

    def _quarantine_grew(self, source: str) -> bool:
        """Whether lines were moved to the quarantine file since the last look (and note it).

        A rewritten log is read again from the start. Rotated or truncated by hand, its old
        events stay in the warehouse (they are nowhere else); rewritten by quarantine (or a
        repair that moves lines there), what left it must leave the metrics too.
        """
        try:
            size = self.settings.quarantine_path.stat().st_size
        except OSError:
            size = 0
        key = f"quarantine_size:{source}"
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        if row is not None and int(row[0]) == size:
            return False
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, str(size)])
        return row is not None or size > 0

    def _drop_log_rows(self) -> None:
        """Forget every row read from the log, which quarantine rewrote: what is still in it is
        read again, and what left it leaves the warehouse too. Rows of the archives stay."""
        con = self.con
        con.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM log_batches)")
        con.execute("DELETE FROM log_batches")
        self._bump_generation()

    def _chunks(self, fd: int, start: int, size: int) -> Iterator[tuple[int, int]]:
        """(start, end) spans of complete lines in [start, size), each up to `CHUNK_BYTES`.

        Few, large spans: each becomes one ``INSERT``, and DuckDB writes one large insert
        straight into the file, where many small ones cost a long checkpoint later.
        """
        pos = start
        while pos < size:
            limit = min(pos + CHUNK_BYTES, size)
            cut = _last_newline(fd, pos, limit)
            while cut < 0 and limit < size:  # a line longer than a chunk
                limit = min(limit + CHUNK_BYTES, size)
                cut = _last_newline(fd, pos, limit)
            if cut < 0:
                return  # only an unfinished line is left: a writer is still at it
            yield pos, cut + 1
            pos = cut + 1

    def _read_chunks(self, fd: int, start: int, size: int, report: IngestReport) -> int:
        if (
            self._lean
            and start == 0
            and size
            and os.pread(fd, 1, size - 1) == b"\n"
            and not _long_lines(fd, 0, size)
        ):
            # Nothing read here is kept, so a line appended meanwhile does no harm: the log is
            # read in place, without the spool copy or a line count (a third of a lean read).
            with self._progress(size, "reading events.jsonl") as advance:
                self._ingest_jsonl(self.settings.log_path, report)
                advance(size)
            return size
        end = start
        spool = None if self._memory else self.path.parent
        with (
            self._progress(size - start, "ingesting events.jsonl") as advance,
            tempfile.TemporaryDirectory(prefix=".ingest-", dir=spool) as tmp,
        ):
            chunk_path = Path(tmp) / "chunk.jsonl"
            for lo, hi in self._chunks(fd, start, size):
                lines = _copy_span(fd, lo, hi, chunk_path)
                self._ingest_jsonl(chunk_path, report, lines=lines)
                advance(hi - end)
                end = hi
        return end

    def _ingest_jsonl(self, path: Path, report: IngestReport, *, lines: int | None = None) -> None:
        """Insert one JSONL file; ``lines`` is its line count when known (else the rows read)."""
        good, bad = self._insert_from(
            columns.read_json_sql(f"'{_sql_str(path)}'"), report, from_log=True, path=path
        )
        if lines is not None:  # DuckDB skips blank lines; the reader counts them as bad
            bad = max(bad, lines - good)
        report.lines += good + bad if lines is None else lines
        report.bad_lines += bad

    @contextlib.contextmanager
    def _progress(self, total: int, label: str) -> Iterator[Any]:
        if not _want_progress(self.progress) or total < _BLOCK:
            yield lambda _n: None
            return
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn

        # DuckDB parses a whole chunk (up to 1 GiB) in one statement, so the bar moves per
        # chunk; the elapsed time shows the work going on in between.
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task(f"{label} (parsing {total / 1e6:,.0f} MB)", total=total)
            yield lambda n: bar.advance(task, n)


def _last_newline(fd: int, start: int, end: int) -> int:
    """Offset of the last ``\\n`` in [start, end), or -1; reads backwards in small blocks."""
    pos = end
    while pos > start:
        lo = max(start, pos - 65536)
        cut = os.pread(fd, pos - lo, lo).rfind(b"\n")
        if cut >= 0:
            return lo + cut
        pos = lo
    return -1


_OVERSIZED_STANDIN: Final = b"0\n"
"""What the spool copy holds in place of a line over `MAX_LINE_BYTES`: a JSON number, which
DuckDB reads as one unusable row, so the line is counted bad (and never parsed)."""


def _long_lines(fd: int, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of every line in [start, end) longer than `MAX_LINE_BYTES`, newline included.

    Cheap: a line that long holds a whole newline-free window of half that size, aligned from
    ``start``, so only the first bytes of each window are read (a few KB per MB of log) until
    one has no newline; only such a window's line is measured.
    """
    from ai_telemetry.events.schema import MAX_LINE_BYTES

    window = MAX_LINE_BYTES // 2
    found: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        span = min(window, end - pos)
        if os.pread(fd, min(512, span), pos).find(b"\n") < 0 and (
            os.pread(fd, span, pos).find(b"\n") < 0
        ):
            # The window before had a newline (or this is the first): the line starts after it.
            cut = _last_newline(fd, max(start, pos - window), pos) if pos > start else -1
            line_start = cut + 1 if cut >= 0 else pos
            line_end = _next_newline(fd, pos + span, end)
            if line_end - line_start - 1 > MAX_LINE_BYTES:
                found.append((line_start, line_end))
            pos = max(line_end, pos + span)
            continue
        pos += span
    return found


def _next_newline(fd: int, start: int, end: int) -> int:
    """Offset just past the next ``\n`` at or after ``start`` (``end`` when there is none)."""
    pos = start
    while pos < end:
        block = os.pread(fd, min(65536, end - pos), pos)
        if not block:
            break
        cut = block.find(b"\n")
        if cut >= 0:
            return pos + cut + 1
        pos += len(block)
    return end


def _copy_span(fd: int, start: int, end: int, target: Path) -> int:
    """Copy bytes [start, end) of ``fd`` to ``target``, each line over `MAX_LINE_BYTES`, and
    each line DuckDB's reader would take but strict JSON refuses (`_not_json`), replaced by
    `_OVERSIZED_STANDIN`; return the lines copied."""
    lines, suspects = _scan_lines(fd, start, end)
    bad = sorted(set(_long_lines(fd, start, end)) | set(_not_json(fd, suspects, start, end)))
    if not bad:
        _copy_bytes(fd, start, end, target)
        return lines
    with target.open("wb"):
        pass
    pos = start
    for lo, hi in bad:
        _copy_bytes(fd, pos, lo, target, append=True)
        with target.open("ab") as out:
            out.write(_OVERSIZED_STANDIN)
        pos = hi
    _copy_bytes(fd, pos, end, target, append=True)
    return lines


_LENIENT_TOKENS: Final = (b"NaN", b"Infinity")
"""What DuckDB's JSON reader takes as numbers and JSON does not: a hand-written logger's
``json.dumps(float("nan"))`` writes them. `validate` (orjson) refuses such a line; so must the
warehouse, in every field (the contract's own fields are refused by its filter already)."""


def _scan_lines(fd: int, start: int, end: int) -> tuple[int, list[int]]:
    """Newlines in bytes [start, end) of ``fd``, and the offsets of `_LENIENT_TOKENS` there.

    One pass; a token split between two blocks is found through the previous block's tail."""
    lines, found, tail = 0, set[int](), b""
    pos = start
    while pos < end:
        block = os.pread(fd, min(_BLOCK, end - pos), pos)
        if not block:
            break
        lines += block.count(b"\n")
        text = tail + block
        for token in _LENIENT_TOKENS:
            at = text.find(token)
            while at >= 0:
                found.add(pos - len(tail) + at)
                at = text.find(token, at + 1)
        tail = block[-8:]
        pos += len(block)
    return lines, sorted(found)


def _not_json(fd: int, offsets: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each line holding one of ``offsets`` that strict JSON refuses."""
    from ai_telemetry.events.schema import MAX_LINE_BYTES

    bad: list[tuple[int, int]] = []
    checked: set[int] = set()
    for offset in offsets:
        cut = _last_newline(fd, start, offset)
        line_start = cut + 1 if cut >= 0 else start
        if line_start in checked:
            continue
        checked.add(line_start)
        line_end = _next_newline(fd, offset, end)
        if line_end - line_start > MAX_LINE_BYTES + 1:
            continue  # a long line: stood in for already
        try:
            orjson.loads(os.pread(fd, line_end - line_start, line_start))
        except orjson.JSONDecodeError:
            bad.append((line_start, line_end))
    return bad


def _copy_bytes(fd: int, start: int, end: int, target: Path, *, append: bool = False) -> None:
    """Copy bytes [start, end) of ``fd`` to ``target`` (appended, or replacing it).

    The copy is done by the kernel (``copy_file_range``: 0.1 s for 230 MB against 0.7 s through
    Python buffers), with a plain read/write loop where that is not available; the lines are
    counted on the source, which is in the page cache by then.
    """
    with target.open("ab" if append else "wb", buffering=0) as out:  # unbuffered: in order
        pos = start
        while pos < end:
            try:
                done = os.copy_file_range(fd, out.fileno(), end - pos, pos)
            except OSError:
                done = 0
            if not done:
                block = os.pread(fd, min(_BLOCK, end - pos), pos)
                if not block:
                    break
                done = out.write(block) or 0
            pos += done


def _column_list(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _one_int(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _sql_str(path: Path | str) -> str:
    """A path (or any text) as the body of a single-quoted SQL string."""
    return str(path).replace("'", "''")


def open_ingested(settings: Settings, *, progress: bool | None = None) -> Warehouse:
    """Open the warehouse and ingest what is new; the caller closes it (or uses ``with``)."""
    wh = Warehouse(settings, progress=progress)
    wh.open()
    try:
        report = wh.ingest()
    except BaseException as exc:
        wh.fail(exc)
        wh.close()
        raise
    if report.redacted:
        sys.stderr.write(
            f"ai-telemetry: the privacy guard redacted {report.redacted} values in the "
            "warehouse's copy of new events (lines written to the log without the guard); "
            "run `ai-telemetry validate` to redact the log itself\n"
        )
    return wh


_DISK_ERRNOS: Final = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
}
_DISK_TEXTS: Final = {
    "No space left on device": "no space left on device",
    "Disk quota exceeded": "disk quota exceeded",
    "Read-only file system": "read-only file system",
}


def disk_problem(exc: BaseException) -> str | None:
    """ "no space left on device" (or quota, read-only) when that is what ``exc`` (or the
    error it was raised from) comes down to; DuckDB reports it only in its message."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno in _DISK_ERRNOS:
            return _DISK_ERRNOS[seen.errno]
        text = str(seen)
        for needle, reason in _DISK_TEXTS.items():
            if needle in text:
                return reason
        seen = seen.__cause__ or seen.__context__
    return None


def disk_message(path: Path, reason: str, *, created: bool = False) -> str:
    """One line for a full or read-only disk under ``path``: what, how much is free, the fix."""
    from ai_telemetry.doctor import human_bytes

    where = path.parent
    try:
        st = os.statvfs(where)
        free = f" ({human_bytes(st.f_bavail * st.f_frsize)} free now)"
    except OSError:
        free = ""
    done = "nothing was created" if created else "the warehouse is as it was"
    fix = "remount it read-write" if "read-only" in reason else "free some space"
    return (
        f"{where}: {reason} while writing {path.name}{free}; {done}. {fix.capitalize()}, or "
        "set AI_TELEMETRY_DIR to a directory on a larger disk"
    )
