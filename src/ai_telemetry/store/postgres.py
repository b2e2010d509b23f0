"""The central store on PostgreSQL (15 and later): one place for a team's events.

``AI_TELEMETRY_STORE=postgresql://user@host/db`` (or ``--store URL``) points the read commands
at it; ``ai-telemetry store migrate`` creates and upgrades its tables; ``ai-telemetry store
load`` sends the local log (through the local warehouse) to it.

Layout (migration 1, see `MIGRATIONS`):

- ``event_rows``: the events, partitioned by month on ``ts`` (declarative ``PARTITION BY
  RANGE``; one partition ``event_rows_yYYYYmMM`` per month, created before the first row of
  that month arrives and `AHEAD_MONTHS` ahead of the current one). Typed columns for what the
  metric catalogue reads (`TYPED_COLUMNS`), one ``jsonb`` ``extra`` for every other field of
  the contract (`ai_telemetry.store.columns.EVENT_COLUMNS`); text is ``COLLATE "C"`` so it
  sorts as DuckDB sorts it. Indexes: the primary key ``(event_id, ts)``, a BRIN on ``ts``, a
  B-tree on ``(event_type, ts)``.
- ``event_ids``: one row per ``event_id`` with the ``ts`` its stored copy has. A partitioned
  table's unique key must include the partition key, so ``(event_id, ts)`` alone would let a
  copy whose timestamp moved (collectors re-write an event that grew) land twice; this table
  is the global unique key. A batch first inserts its ids here (sorted, so concurrent writers
  lock in one order and never deadlock), which row-locks them until commit. When one is
  already stored (or a concurrent writer's, whose commit the insert waits for), that insert
  fails on the key, its savepoint undoes it, and the batch upserts its ids instead; then, in a
  new statement (a new snapshot, after any concurrent writer of the same ids committed),
  deletes the stored copies it replaces. Then it inserts its rows. A retry, or the same batch
  sent to two servers, never doubles a row; a later copy replaces the earlier one, as in the
  DuckDB warehouse.
- ``events``: a view with every column of the contract (typed ones as stored, the rest out of
  ``extra``), and the ``query`` views over it (`ai_telemetry.store.columns.VIEWS`), so the same
  SQL reads both engines.
- ``meta`` (``generation``, bumped by every batch that stored rows), ``schema_migrations``,
  ``metric_cache``, ``load_state`` (what `PostgresStore.load_warehouse` already sent).

Batches arrive by ``COPY`` (CSV written by DuckDB from the contract's typed select, so ids and
validity are exactly the DuckDB warehouse's) into a temporary table (``extra`` as text, parsed
into jsonb once its null fields are gone), then merge as above.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.config import Settings, safe_url
from ai_telemetry.errors import AnalyticsError, ConfigError, QueryRefusedError
from ai_telemetry.store import columns
from ai_telemetry.store.columns import COLUMN_NAMES, FIELD_TYPES

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

    from ai_telemetry.ports import (
        HistoryRow,
        Incident,
        LearningRow,
        Partition,
        SkillRun,
        TopRow,
        Window,
    )
    from ai_telemetry.store.warehouse import IngestReport

URL_PREFIXES: Final = ("postgresql://", "postgres://")
AHEAD_MONTHS: Final = 2
"""Partitions created ahead of the current month (so a writer rarely creates one itself)."""
SCHEMA_VERSION: Final = 5

TYPED_COLUMNS: Final = (
    *("event_id", "ts", "event_type", "project", "source", "session_id", "task_id"),
    *("skill", "agent", "tool", "mcp_server", "outcome", "duration_seconds", "tool_calls"),
    *("context_tokens", "context_window", "model", "message_id", "request_id", "cost_usd"),
    *("input_tokens", "output_tokens", "cache_creation_input_tokens"),
    *("cache_read_input_tokens", "learning_id", "severity", "incident_id", "root_cause"),
    *("coverage_percent", "delta_percent", "lint_errors", "type_coverage_percent"),
    *("doc_coverage_percent", "open_findings"),
)
"""Columns stored typed: the catalogue's (a test keeps this a superset of
`ai_telemetry.store.catalogue_sql.CATALOGUE_COLUMNS`); every other field lives in ``extra``."""

EXTRA_COLUMNS: Final = tuple(n for n in COLUMN_NAMES if n not in TYPED_COLUMNS)
_TYPES: Final = dict(columns.EVENT_COLUMNS)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_type(name: str) -> str:
    kind = _TYPES[name]
    if kind == "DOUBLE":
        return "double precision"
    if kind == "TIMESTAMP":
        return "timestamp"
    return 'text COLLATE "C"'


def _typed_defs() -> str:
    defs = []
    for name in TYPED_COLUMNS:
        null = " NOT NULL" if name in ("event_id", "ts", "event_type") else ""
        defs.append(f"{_q(name)} {_pg_type(name)}{null}")
    return ", ".join(defs)


def _events_view_sql() -> str:
    cols = []
    for name in COLUMN_NAMES:
        if name in TYPED_COLUMNS:
            cols.append(_q(name))
        elif FIELD_TYPES.get(name) == "DOUBLE":
            cols.append(f"(extra->>'{name}')::double precision AS {_q(name)}")
        else:
            cols.append(f"(extra->>'{name}') COLLATE \"C\" AS {_q(name)}")
    return f"CREATE OR REPLACE VIEW events AS SELECT {', '.join(cols)}, seq FROM event_rows"


def _query_views() -> list[str]:
    return [columns.view_sql(v, t) for v, t in columns.VIEWS.items()]


MIGRATIONS: Final[tuple[tuple[int, str, tuple[str, ...]], ...]] = (
    (
        1,
        "events partitioned by month, event_ids, views, meta",
        (
            f"CREATE TABLE event_rows ({_typed_defs()}, extra jsonb, seq bigint, "
            "PRIMARY KEY (event_id, ts)) PARTITION BY RANGE (ts)",
            "CREATE INDEX event_rows_ts_brin ON event_rows USING brin (ts)",
            "CREATE INDEX event_rows_type_ts ON event_rows (event_type, ts)",
            'CREATE TABLE event_ids (event_id text COLLATE "C" PRIMARY KEY, '
            "ts timestamp NOT NULL, prev_ts timestamp)",
            "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
            "INSERT INTO meta VALUES ('generation', '0'), ('seq', '0')",
            "CREATE TABLE metric_cache (key text PRIMARY KEY, generation bigint, body text)",
            "CREATE TABLE load_state (source text PRIMARY KEY, seq bigint NOT NULL, "
            "bad_lines bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now())",
            _events_view_sql(),
            *_query_views(),
        ),
    ),
    (
        2,
        "metric_history (the weekly history of the Store protocol)",
        (
            'CREATE TABLE metric_history (week_start date NOT NULL, metric text COLLATE "C" '
            'NOT NULL, key text COLLATE "C" NOT NULL, value double precision, '
            "generation bigint, computed_at timestamptz)",
            "CREATE INDEX metric_history_week ON metric_history (week_start)",
        ),
    ),
    (
        3,
        "the views again, with the task fields folders and task_kind (from extra)",
        ("DROP VIEW IF EXISTS events CASCADE", _events_view_sql(), *_query_views()),
    ),
    (
        4,
        "the views again, with the commit field previous_skill_version (from extra)",
        ("DROP VIEW IF EXISTS events CASCADE", _events_view_sql(), *_query_views()),
    ),
    (
        5,
        "metric_history per project ('' is the whole store's history)",
        (
            "ALTER TABLE metric_history ADD COLUMN project text COLLATE \"C\" NOT NULL DEFAULT ''",
            "DROP INDEX metric_history_week",
            "CREATE INDEX metric_history_project_week ON metric_history (project, week_start)",
        ),
    ),
)
"""Versioned migrations: (version, what, statements). Applied in order, each in one
transaction, by `migrate`; never edited once released (a change is a new version). The views
are built from the contract's current fields, so a release that adds a field adds a migration
that drops and re-creates them (as 3 does)."""


def is_postgres_url(value: str | None) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL."""
    return value is not None and value.startswith(URL_PREFIXES)


def partition_name(month: date) -> str:
    """``event_rows_y2026m01`` for January 2026."""
    return f"event_rows_y{month.year:04d}m{month.month:02d}"


def _month(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


class StoreBehindError(ConfigError):
    """The PostgreSQL store's schema is older than this version needs (run ``store migrate``)."""


def _ingest_report() -> IngestReport:
    from ai_telemetry.store.warehouse import IngestReport

    return IngestReport()


@dataclass(slots=True)
class LoadReport:
    """What one `PostgresStore.load_warehouse` or `PostgresStore.ingest_jsonl` sent."""

    sent: int = 0
    """Rows sent (new and replaced copies)."""
    replaced: int = 0
    """Of those, copies that replaced a stored one (a retry, or an event that grew)."""
    partitions: list[str] = field(default_factory=list)
    """Partitions created on the way."""
    read: IngestReport = field(default_factory=_ingest_report)
    """`load_warehouse`: what the local warehouse read from the log this time."""


class PostgresStore:
    """The PostgreSQL store of one database. Use as a context manager.

    Args:
        url: a ``postgresql://`` URL (libpq's; a password may also come from ``PGPASSWORD``
            or ``~/.pgpass``).
        settings: the telemetry settings (model context windows for the catalogue, the local
            warehouse for `load_warehouse`, the archive folder for retention).
        pool_size: connections kept open (the catalogue's two query groups run side by side).
        check: refuse to open a store whose schema is behind (`StoreBehindError`); `migrate`
            opens with ``check=False``.
    """

    def __init__(
        self, url: str, *, settings: Settings, pool_size: int = 4, check: bool = True
    ) -> None:
        if not is_postgres_url(url):
            raise ConfigError(f"{url!r}: not a postgresql:// URL")
        self.url = url
        self.settings = settings
        self.path = safe_url(url)  # what messages name (the DuckDB store names its file)
        self.pool_size = pool_size
        self.check = check
        self._pool: psycopg_pool.ConnectionPool[Any] | None = None

    # --- opening and closing ------------------------------------------------------------

    def __enter__(self) -> PostgresStore:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect (a pool), and check the schema version.

        Raises:
            AnalyticsError: the server cannot be reached or refuses the login.
            StoreBehindError: the schema is behind this version (or ahead of it).
        """
        import psycopg
        import psycopg_pool

        if self._pool is not None:
            return

        def configure(con: psycopg.Connection[Any]) -> None:
            con.execute("SET TIME ZONE 'UTC'")
            con.commit()

        def reset(con: psycopg.Connection[Any]) -> None:
            con.execute("DISCARD TEMP")

        pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            open=False,
            configure=configure,
            reset=reset,
            kwargs={"autocommit": True, "connect_timeout": 10},
            name="ai-telemetry",
        )
        try:
            pool.open(wait=True, timeout=15)
        except psycopg_pool.PoolTimeout:
            pool.close()
            try:  # the pool hides why; one direct attempt says it
                psycopg.connect(self.url, connect_timeout=5).close()
                reason = "no connection within 15 s"
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[-1]
            raise AnalyticsError(f"{self.path}: cannot connect to PostgreSQL ({reason})") from None
        self._pool = pool
        if self.check:
            have = self.schema_version()
            if have != SCHEMA_VERSION:
                self.close()
                if have > SCHEMA_VERSION:
                    raise StoreBehindError(
                        f"{self.path}: the store's schema is version {have}, newer than this "
                        f"ai-telemetry knows ({SCHEMA_VERSION}); upgrade ai-telemetry"
                    )
                raise StoreBehindError(
                    f"{self.path}: the store's schema is version {have}, this ai-telemetry "
                    f"needs {SCHEMA_VERSION}; run `ai-telemetry store migrate --store URL`"
                )

    def close(self) -> None:
        """Close every connection."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection (autocommit; use ``con.transaction()`` to group statements).

        Raises:
            AnalyticsError: the store is not open, or a statement failed (its first line).
        """
        import psycopg

        if self._pool is None:
            raise AnalyticsError("the PostgreSQL store is not open; use it as a context manager")
        try:
            with self._pool.connection() as con:
                yield con
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise AnalyticsError(f"{self.path}: PostgreSQL said: {first}") from None

    # --- schema ---------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The highest migration applied (0: none)."""
        with self.connection() as con:
            row = con.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
            if not row or not row[0]:
                return 0
            got = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
            one = got.fetchone()
            return int(one[0]) if one else 0

    def migrate(self, *, to: int = SCHEMA_VERSION) -> list[int]:
        """Apply the migrations not yet applied (up to version ``to``), each in one
        transaction; return their versions.

        Concurrent runs are serialised by an advisory lock (the second finds nothing to do).
        """
        done: list[int] = []
        with self.connection() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(hashtext('ai-telemetry migrate'))")
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
            have = int(row[0]) if row else 0
            for version, name, statements in MIGRATIONS:
                if version <= have or version > to:
                    continue
                with con.transaction():
                    for statement in statements:
                        con.execute(statement)
                    con.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        [version, name],
                    )
                done.append(version)
        self.ensure_partitions([datetime.now(UTC).replace(tzinfo=None)])
        return done

    # --- partitions -----------------------------------------------------------------------

    def partition_tables(self) -> list[tuple[str, date, date]]:
        """(name, first day, first day of the next month) of every partition, oldest first."""
        with self.connection() as con:
            rows = con.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'event_rows'::regclass ORDER BY 1"
            ).fetchall()
        out = []
        for (name,) in rows:
            m = re.fullmatch(r"event_rows_y(\d{4})m(\d{2})", str(name))
            if m:
                first = date(int(m.group(1)), int(m.group(2)), 1)
                out.append((str(name), first, _next_month(first)))
        return out

    def ensure_partitions(
        self, moments: Sequence[datetime], *, con: psycopg.Connection[Any] | None = None
    ) -> list[str]:
        """Create the month partitions holding ``moments`` and `AHEAD_MONTHS` after the
        current month; return the ones created. Serialised by an advisory lock."""
        now = _month(datetime.now(UTC))
        months = {_month(m) for m in moments}
        ahead = now
        for _ in range(AHEAD_MONTHS + 1):
            months.add(ahead)
            ahead = _next_month(ahead)
        if con is None:
            with self.connection() as own:
                return self.ensure_partitions(moments, con=own)
        have = {p[0] for p in self.partition_tables()}
        missing = sorted(m for m in months if partition_name(m) not in have)
        if not missing:
            return []
        created = []
        with con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(hashtext('ai-telemetry partitions'))")
            for month in missing:
                name = partition_name(month)
                upto = _next_month(month).isoformat()
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF event_rows "
                    f"FOR VALUES FROM ('{month.isoformat()}') TO ('{upto}')"
                )
                created.append(name)
        return created

    # --- state ----------------------------------------------------------------------------

    def generation(self) -> int:
        """A counter that grows whenever a batch stores rows (caches are keyed by it)."""
        with self.connection() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def count(self) -> int:
        """Events stored."""
        with self.connection() as con:
            row = con.execute("SELECT count(*) FROM event_rows").fetchone()
        return int(row[0]) if row else 0

    def bad_lines(self) -> int:
        """Unusable lines in the logs loaded (`load_warehouse`: as each warehouse counted them
        in its current log); the store itself holds only valid events."""
        with self.connection() as con:
            row = con.execute("SELECT coalesce(sum(bad_lines), 0) FROM load_state").fetchone()
        return int(row[0]) if row else 0

    # --- writing --------------------------------------------------------------------------

    def _copy_columns(self) -> str:
        return ", ".join([*(_q(n) for n in TYPED_COLUMNS), "extra", "seq"])

    def copy_csv(self, path: Path) -> LoadReport:
        """Store the rows of a CSV file in `csv_select_sql`'s shape as one batch (COPY).

        Raises:
            AnalyticsError: PostgreSQL refused the batch (nothing of it is stored).
        """
        report = LoadReport()
        with self.connection() as con:
            cur = con.cursor()
            with con.transaction():
                # the id upsert sorts the batch: in memory, not in 4 MB runs on disk
                cur.execute("SET LOCAL work_mem = '64MB'")
                # Not ``LIKE event_rows``: that would hold a lock on the parent table that
                # creating a partition (on another connection, below) waits for. ``extra`` is
                # text here, parsed once on the way out (`_merge`), not as jsonb on the way in.
                cur.execute(
                    f"CREATE TEMP TABLE staging ({_typed_defs()}, extra text, seq bigint) "
                    "ON COMMIT DROP"
                )
                cols = self._copy_columns()
                with (
                    cur.copy(f"COPY staging ({cols}) FROM STDIN (FORMAT csv)") as copy,
                    path.open("rb") as fh,
                ):
                    while block := fh.read(1 << 20):
                        copy.write(block)
                sent = cur.rowcount
                row = cur.execute("SELECT min(ts), max(ts) FROM staging").fetchone()
                if not row or row[0] is None:
                    return report
                report.partitions = self._ensure_in(cur, row[0], row[1])
                report.sent = sent
                report.replaced = self._merge(cur)
        return report

    def _ensure_in(self, cur: psycopg.Cursor[Any], first: datetime, last: datetime) -> list[str]:
        """Create the partitions of the staged rows' months, ``first`` to ``last``."""
        have = {p[0] for p in self.partition_tables()}
        month, span = _month(first), []
        while month <= _month(last):
            span.append(month)
            month = _next_month(month)
        if all(partition_name(m) in have for m in span):
            return []
        found = cur.execute("SELECT DISTINCT date_trunc('month', ts) FROM staging").fetchall()
        months = [r[0] for r in found]
        if all(partition_name(_month(m)) in have for m in months):
            return []
        # On another connection, committed before this batch goes on: creating a partition
        # locks the parent table, which the batch must not hold while it waits on row locks
        # of another writer's ids (that writer may be waiting on the parent: a deadlock).
        return self.ensure_partitions(months)

    @staticmethod
    def _merge(cur: psycopg.Cursor[Any]) -> int:
        """staging -> event_ids, event_rows (see the module docstring); the copies replaced.

        First a plain insert of the ids (sorted), in a savepoint: when none of them is stored
        yet (the usual batch) that is all, and cheaper than the upsert. A stored id (a retry,
        a copy that grew, or a concurrent writer's batch that committed first: the insert
        waited for its row lock) fails it with a unique violation; the savepoint then undoes
        it and the upsert below finds and replaces the stored copies.
        """
        import psycopg

        con = cur.connection
        replaced = 0
        try:
            with con.transaction():
                cur.execute(
                    "INSERT INTO event_ids (event_id, ts) "
                    "SELECT event_id, ts FROM staging ORDER BY event_id"
                )
        except psycopg.errors.UniqueViolation:
            replaced = PostgresStore._replace(cur)
        cols = ", ".join(_q(n) for n in TYPED_COLUMNS)
        # json_strip_nulls on the text, then one jsonb parse of what is left: half the cost
        # of parsing every key as jsonb and stripping afterwards (the same value: the keys
        # are distinct, `csv_select_sql`).
        cur.execute(
            f"INSERT INTO event_rows ({cols}, extra, seq) "
            f"SELECT {cols}, json_strip_nulls(extra::json)::jsonb, "
            "(SELECT value::bigint + 1 FROM meta WHERE key = 'seq') FROM staging"
        )
        cur.execute(
            "UPDATE meta SET value = (value::bigint + 1)::text WHERE key IN ('generation', 'seq')"
        )
        return replaced

    @staticmethod
    def _replace(cur: psycopg.Cursor[Any]) -> int:
        """Upsert the staged ids, delete the stored copies they replace; how many."""
        cur.execute("CREATE TEMP TABLE moved (event_id text, prev_ts timestamp) ON COMMIT DROP")
        cur.execute(
            "WITH up AS (INSERT INTO event_ids AS i (event_id, ts) "
            "SELECT event_id, ts FROM staging ORDER BY event_id "
            "ON CONFLICT (event_id) DO UPDATE SET prev_ts = i.ts, ts = EXCLUDED.ts "
            "RETURNING i.event_id, i.prev_ts, (xmax <> 0) AS updated) "
            "INSERT INTO moved SELECT event_id, prev_ts FROM up WHERE updated"
        )
        replaced = cur.rowcount
        if replaced:
            # A new statement: its snapshot sees every copy committed by a concurrent writer
            # of these ids (we waited for its row locks in the upsert above).
            cur.execute(
                "DELETE FROM event_rows e USING moved m "
                "WHERE e.event_id = m.event_id AND e.ts = m.prev_ts"
            )
        return max(replaced, 0)

    def ingest_jsonl(self, path: Path) -> LoadReport:
        """Store the valid events of a JSONL file (a server's batch) as one batch.

        Lines are read as the DuckDB warehouse reads the log (`columns.typed_select_sql`: the
        same validity, the same ids); within the file the later copy of an id wins.
        """
        import duckdb

        with tempfile.TemporaryDirectory(prefix="ai-telemetry-pg-") as tmp:
            csv = Path(tmp) / "batch.csv"
            con = duckdb.connect()
            try:
                con.execute("SET TimeZone = 'UTC'")
                scan = columns.read_json_sql(_sql_text(path)) + " WITH ORDINALITY"
                typed = columns.typed_select_sql(scan, extra=("ordinality",))
                source = (
                    f"(SELECT * FROM ({typed}) WHERE {columns.ok_filter_sql()} "
                    "QUALIFY row_number() OVER (PARTITION BY event_id "
                    "ORDER BY ordinality DESC) = 1)"
                )
                con.execute(
                    f"COPY ({csv_select_sql(source, seq='0')}) TO {_sql_text(csv)} "
                    "(FORMAT csv, HEADER false)"
                )
            finally:
                con.close()
            return self.copy_csv(csv)

    def load_warehouse(
        self, *, source: str | None = None, progress: bool | None = None
    ) -> LoadReport:
        """Ingest the local log into the local DuckDB warehouse, then send what it stored since
        the last load (rows whose ``seq`` is newer) as one batch.

        The warehouse does the reading (incremental, rotation and truncation detection,
        archives, privacy guard, bad lines); the store keeps, per ``source`` (default: this
        host and warehouse file), the last ``seq`` sent. A warehouse rebuilt from scratch
        (its newest ``seq`` below the one sent) is sent again whole: ids make that harmless.
        """
        import socket

        import duckdb

        from ai_telemetry.store.warehouse import Warehouse

        report = LoadReport()
        with Warehouse(self.settings, progress=progress) as wh:
            key = source or f"{socket.gethostname()}:{wh.path}"
            read = wh.ingest()
            with self.connection() as con:
                row = con.execute("SELECT seq FROM load_state WHERE source = %s", [key]).fetchone()
            mark = int(row[0]) if row else 0
            top = wh.con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
            newest = int(top[0]) if top else 0
            if newest < mark:
                mark = 0
            bad = wh.bad_lines()
            if newest == mark:
                self._save_mark(key, newest, bad)
                report.read = read
                return report
            with tempfile.TemporaryDirectory(prefix="ai-telemetry-pg-") as tmp:
                csv = Path(tmp) / "load.csv"
                try:
                    wh.con.execute(
                        f"COPY ({csv_select_sql(f'(SELECT * FROM events WHERE seq > {mark})')}) "
                        f"TO {_sql_text(csv)} (FORMAT csv, HEADER false)"
                    )
                except duckdb.Error as exc:
                    raise AnalyticsError(f"{wh.path}: cannot export rows ({exc})") from None
                report = self.copy_csv(csv)
        report.read = read
        self._save_mark(key, newest, bad)
        return report

    def _save_mark(self, key: str, seq: int, bad: int) -> None:
        with self.connection() as con:
            con.execute(
                "INSERT INTO load_state (source, seq, bad_lines) VALUES (%s, %s, %s) "
                "ON CONFLICT (source) DO UPDATE SET seq = EXCLUDED.seq, "
                "bad_lines = EXCLUDED.bad_lines, updated_at = now()",
                [key, seq, bad],
            )

    # --- reading (the `ai_telemetry.ports.Store` protocol) --------------------------------

    @property
    def source(self) -> str:
        """Where the events come from, for messages (the URL without a password)."""
        return self.path

    def ingest(self) -> IngestReport:
        """Read what is new in the local log into the local warehouse and send it here
        (`load_warehouse`); the warehouse's report of what it read."""
        return self.load_warehouse(progress=None).read

    def first_event(self) -> datetime | None:
        """The (naive UTC) time of the earliest stored event."""
        with self.connection() as con:
            row = con.execute("SELECT min(ts) FROM event_rows").fetchone()
        return None if row is None or row[0] is None else row[0]

    def catalogue(self, window: Window, *, project: str | None = None) -> dict[str, Any]:
        """The catalogue of ``window`` (`ai_telemetry.store.catalogue_sql`, PostgreSQL
        dialect), cached in ``metric_cache`` per window, project, model windows, generation."""
        import orjson

        from ai_telemetry.store import catalogue_sql as sql

        windows = sql.model_windows(self.settings.extra.get("models", {}))
        w = window.as_dict()
        key = f"{w['start']}|{w['end']}|{project or ''}|{windows}"
        generation = self.generation()
        with self.connection() as con:
            row = con.execute(
                "SELECT body FROM metric_cache WHERE key = %s AND generation = %s",
                [key, generation],
            ).fetchone()
        if row is not None:
            cached: dict[str, Any] = orjson.loads(row[0])
            return cached
        body = self.compute_catalogue(window, project=project, windows=windows)
        with self.connection() as con:
            con.execute(
                "INSERT INTO metric_cache VALUES (%s, %s, %s) ON CONFLICT (key) DO UPDATE "
                "SET generation = EXCLUDED.generation, body = EXCLUDED.body",
                [key, generation, orjson.dumps(body).decode()],
            )
        return body

    def compute_catalogue(
        self,
        window: Window,
        *,
        project: str | None = None,
        windows: list[tuple[str, float]] | None = None,
    ) -> dict[str, Any]:
        """The catalogue without the cache: the two query groups side by side, each in its
        own session (its own temporary ``ev`` view and tables), as on DuckDB."""
        from concurrent.futures import ThreadPoolExecutor

        from ai_telemetry.store import catalogue_sql as sql

        if windows is None:
            windows = sql.model_windows(self.settings.extra.get("models", {}))
        chosen = windows
        ev = sql.ev_view_sql(project)

        def executions(con: Session) -> dict[str, Any]:
            return sql.executions_group(con, window, dialect=sql.POSTGRESQL)

        def others(con: Session) -> dict[str, Any]:
            return sql.other_group(con, window, chosen, dialect=sql.POSTGRESQL)

        def run(group: Any) -> dict[str, Any]:
            with Session(self) as con:
                con.execute(ev)
                out: dict[str, Any] = group(con)
                return out

        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.map(run, (executions, others))
        return sql.finish_catalogue(first, second)

    def top(
        self, kind: str, window: Window, *, limit: int = 5, project: str | None = None
    ) -> list[TopRow]:
        """The ``limit`` most frequent skills, agents, tools or errors in ``window``.

        Raises:
            AnalyticsError: ``kind`` is not one of `ai_telemetry.ports.TOP_KINDS`.
        """
        from ai_telemetry.ports import TOP_KINDS
        from ai_telemetry.store import catalogue_sql as sql

        with Session(self) as con:
            con.execute(sql.ev_view_sql(project))
            rows = sql.top_rows(con, kind, window, limit=limit, dialect=sql.POSTGRESQL)
        if rows is None:
            raise AnalyticsError(f"top {kind!r}: choose one of {', '.join(TOP_KINDS)}")
        return rows

    def skill_runs(
        self, lo: datetime, hi: datetime, *, project: str | None = None
    ) -> list[tuple[str, datetime, str]]:
        """Finished skill runs (skill, start naive UTC, outcome) whose start is in ``[lo, hi)``."""
        from ai_telemetry.store import catalogue_sql as sql

        with Session(self) as con:
            con.execute(sql.ev_view_sql(project))
            sql.load_runs(
                con,
                "usage_skill_runs",
                event_type="skill_execution",
                key="skill",
                lo=lo,
                hi=hi,
                dialect=sql.POSTGRESQL,
            )
            rows = con.execute(
                "SELECT name, anchor_ts, outcome FROM usage_skill_runs "
                "WHERE outcome IS NOT NULL AND anchor_ts >= ? AND anchor_ts < ?",
                [lo, hi],
            ).fetchall()
        return [(str(n), ts, str(o)) for n, ts, o in rows]

    def llm_responses(
        self,
        lo: datetime,
        hi: datetime,
        *,
        session_id: str | None = None,
        project: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Each LLM response of ``[lo, hi)`` once (`catalogue_sql.RESPONSES_SQL`)."""
        from ai_telemetry.store import catalogue_sql as sql

        with Session(self) as con:
            return sql.llm_responses(con, lo, hi, session_id=session_id, project=project)

    def root_causes(
        self, lo: datetime, hi: datetime, *, project: str | None = None
    ) -> dict[str, int]:
        """Incidents opened per root cause in ``[lo, hi)`` (naive UTC), of ``project``."""
        from ai_telemetry.store import catalogue_sql as sql

        with Session(self) as con:
            return sql.root_causes(con, lo, hi, project)

    def skill_version_runs(
        self, *, before: datetime
    ) -> list[tuple[str, str, datetime, str, float | None, float | None]]:
        """Finished skill runs with a ``skill_version`` before ``before``, oldest first
        (`catalogue_sql.skill_version_runs`)."""
        from ai_telemetry.store import catalogue_sql as sql

        with Session(self) as con:
            return sql.skill_version_runs(con, before)

    def task_runs(
        self, *, until: datetime | None = None, project: str | None = None
    ) -> list[SkillRun]:
        """Finished skill runs that recorded their task's folders (`catalogue_sql.task_runs`)."""
        from ai_telemetry.store import catalogue_sql as sql

        with Session(self) as con:
            return sql.task_runs(con, until, project)

    # --- what the reports read (`ai_telemetry.store.evidence`) ----------------------------

    def learnings(
        self, *, until: datetime, as_of: datetime, project: str | None = None
    ) -> list[LearningRow]:
        """Learnings created before ``until``, implemented if so before ``as_of``."""
        from ai_telemetry.store import evidence
        from ai_telemetry.store.catalogue_sql import POSTGRESQL

        with Session(self) as con:
            return evidence.learnings(
                con, until=until, as_of=as_of, dialect=POSTGRESQL, project=project
            )

    def incidents(self, *, until: datetime, project: str | None = None) -> list[Incident]:
        """Incidents opened before ``until``, oldest first."""
        from ai_telemetry.store import evidence
        from ai_telemetry.store.catalogue_sql import POSTGRESQL

        with Session(self) as con:
            return evidence.incidents(con, until=until, dialect=POSTGRESQL, project=project)

    def skills_seen(self, *, before: datetime, project: str | None = None) -> set[str]:
        """Skills that ran or were loaded before ``before``."""
        from ai_telemetry.store import evidence

        with Session(self) as con:
            return evidence.skills_seen(con, before=before, project=project)

    def skill_outcomes(
        self, skill: str, *, project: str | None = None
    ) -> list[tuple[datetime, str | None, str, float | None, float | None]]:
        """Every finished run of ``skill``, oldest first."""
        from ai_telemetry.store import evidence

        with Session(self) as con:
            return evidence.skill_outcomes(con, skill, project=project)

    def errors_by_type(
        self, name: str, *, since: datetime, until: datetime, project: str | None = None
    ) -> list[tuple[str, int]]:
        """The errors of ``name`` by type in ``[since, until)``, most frequent first."""
        from ai_telemetry.store import evidence

        with Session(self) as con:
            return evidence.errors_by_type(con, name, since=since, until=until, project=project)

    # --- the weekly history ---------------------------------------------------------------

    def record_week(
        self,
        week_start: date,
        rows: Iterable[tuple[str, str, float]],
        *,
        generation: int,
        project: str | None = None,
    ) -> int:
        """Replace the history of the week of ``week_start`` (of ``project``) with ``rows``."""
        scope = project or ""
        values = [(week_start, m, k, v, generation, scope) for m, k, v in rows]
        with self.connection() as con, con.transaction():
            con.execute(
                "DELETE FROM metric_history WHERE project = %s AND week_start = %s",
                [scope, week_start],
            )
            with con.cursor() as cur:
                cur.executemany(
                    "INSERT INTO metric_history (week_start, metric, key, value, generation, "
                    "project, computed_at) VALUES (%s, %s, %s, %s, %s, %s, now())",
                    values,
                )
        return len(values)

    def weeks(self, *, project: str | None = None) -> dict[date, int]:
        """The recorded weeks (of ``project``): Monday -> the generation it was recorded at."""
        with self.connection() as con:
            rows = con.execute(
                "SELECT week_start, max(generation) FROM metric_history WHERE project = %s "
                "GROUP BY 1",
                [project or ""],
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows if r[1] is not None}

    def series(
        self,
        metric: str | None = None,
        *,
        key: str | None = None,
        weeks: tuple[date, date],
        project: str | None = None,
    ) -> list[HistoryRow]:
        """History rows (of ``project``) of the Mondays ``weeks[0]..weeks[1]``, oldest first."""
        from ai_telemetry.ports import HistoryRow

        where = "project = %s AND week_start BETWEEN %s AND %s"
        params: list[Any] = [project or "", weeks[0], weeks[1]]
        if metric is not None:
            where += " AND metric = %s AND key = %s"
            params += [metric, key or ""]
        with self.connection() as con:
            rows = con.execute(
                f"SELECT week_start, metric, key, value FROM metric_history WHERE {where} "
                "ORDER BY week_start, metric, key",
                params,
            ).fetchall()
        return [HistoryRow(r[0], str(r[1]), str(r[2]), float(r[3])) for r in rows]

    def prune_history(self, *, before: date) -> int:
        """Delete the history of weeks starting before ``before``; return the rows deleted."""
        with self.connection() as con:
            cur = con.execute("DELETE FROM metric_history WHERE week_start < %s", [before])
            return max(cur.rowcount, 0)

    # --- partitions (the protocol's view) -------------------------------------------------

    def partitions(self) -> list[Partition]:
        """The month partitions, oldest first, with their events."""
        from ai_telemetry.ports import Partition

        out = []
        with self.connection() as con:
            for name, first, upto in self.partition_tables():
                row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
                out.append(Partition(first, upto, int(row[0]) if row else 0))
        return out

    def drop_partitions(self, before: date) -> int:
        """Detach and drop the partitions that end on or before ``before`` (no archive: that
        is ``ai-telemetry store retention``, `ai_telemetry.store.pg_retention`); return them."""
        dropped = 0
        for name, first, upto in self.partition_tables():
            if upto <= before:
                self.drop_partition(name, first=first, upto=upto)
                dropped += 1
        return dropped

    def query(
        self, text: str, *, project: str | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Someone's read-only SQL (`read_only_query`)."""
        return self.read_only_query(text, project=project)

    def read_only_query(
        self, sql: str, *, project: str | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run someone's SQL in a read-only transaction; return column names and rows.

        With ``project``, ``events`` and the views show that project's events only (temporary
        views made before the transaction, dropped after it: a filter, not a boundary).

        Raises:
            QueryRefusedError: the SQL tried to write (a read-only transaction refuses it).
            AnalyticsError: the SQL fails otherwise (PostgreSQL's first line says why).
        """
        import psycopg

        if self._pool is None:
            raise AnalyticsError("the PostgreSQL store is not open; use it as a context manager")
        with self._pool.connection() as con:
            try:
                if project is not None:
                    self._project_views(con, project)
                with con.transaction():
                    con.execute("SET TRANSACTION READ ONLY")
                    con.execute("SET LOCAL statement_timeout = '300s'")
                    cur = con.execute(sql)
                    names = [d.name for d in cur.description or []]
                    rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
                    return names, rows
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                first = str(exc).strip().splitlines()[0]
                raise QueryRefusedError(
                    f"query refused: {first}; query reads the store's tables and views only"
                ) from None
            except psycopg.Error as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise AnalyticsError(f"query failed: {first}; see docs/scale.md") from None
            finally:
                if project is not None:
                    con.execute("DISCARD TEMP")  # the pooled connection goes back clean

    @staticmethod
    def _project_views(con: Any, project: str) -> None:
        from ai_telemetry.store import columns

        with con.transaction():
            row = con.execute("SELECT current_schema()").fetchone()
            schema = '"' + str(row[0] if row else "public").replace('"', '""') + '"'
            for statement in columns.project_views_sql(project, f"{schema}.events", views=True):
                con.execute(statement)

    # --- retention ------------------------------------------------------------------------

    def drop_partition(self, name: str, *, first: date, upto: date) -> int:
        """Detach and drop one partition and its ids, in one transaction; the rows dropped."""
        with self.connection() as con, con.transaction():
            row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
            con.execute(f"ALTER TABLE event_rows DETACH PARTITION {name}")
            con.execute(
                f"DELETE FROM event_ids i USING {name} d "
                "WHERE i.event_id = d.event_id AND i.ts = d.ts"
            )
            con.execute(f"DROP TABLE {name}")
            con.execute(
                "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'generation'"
            )
        del first, upto
        return int(row[0]) if row else 0


def csv_select_sql(source: str, *, seq: str = "seq") -> str:
    """DuckDB ``SELECT`` of the COPY columns (typed, ``extra`` as JSON, ``seq``) of ``source``
    (rows of the warehouse's ``events`` shape)."""
    typed = ", ".join(_q(n) for n in TYPED_COLUMNS)
    pairs = ", ".join(f"'{n}', {_q(n)}" for n in EXTRA_COLUMNS)
    return f"SELECT {typed}, json_object({pairs}) AS extra, {seq} AS seq FROM {source}"


def _sql_text(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class Session:
    """One pooled connection as the cursor `ai_telemetry.store.catalogue_sql` expects:
    ``execute(sql, params)`` with ``?`` placeholders, then ``fetchone`` / ``fetchall``.

    Parameters are bound on the client (``CREATE TABLE AS`` takes no server-side parameters),
    so a literal ``%`` is doubled and ``?`` becomes ``%s``; the SQL itself is already in the
    PostgreSQL dialect (`catalogue_sql.POSTGRESQL`). Its own session: its temporary ``ev`` view
    and tables are its own, and dropped when it goes back to the pool.
    """

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._stack: contextlib.ExitStack | None = None
        self._con: psycopg.Connection[Any] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def __enter__(self) -> Session:
        self._stack = contextlib.ExitStack()
        self._con = self._stack.enter_context(self._store.connection())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack = None
        self._con = None

    def execute(self, text: str, params: Sequence[Any] | None = None) -> Session:
        """Run one statement."""
        import psycopg

        if self._con is None:
            raise AnalyticsError("a PostgreSQL session used outside its `with` block")
        if params is not None:
            text = text.replace("%", "%%").replace("?", "%s")
        try:
            cur = psycopg.ClientCursor(self._con)
            cur.execute(text, list(params) if params is not None else None)
            self._rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise AnalyticsError(
                f"{self._store.path}: a metric query failed on PostgreSQL ({first})"
            ) from None
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row of the last statement."""
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every row of the last statement."""
        return list(self._rows)


def open_store(url: str, settings: Settings, *, check: bool = True) -> PostgresStore:
    """A PostgreSQL store for ``url`` (not yet open)."""
    return PostgresStore(url, settings=settings, check=check)


def store_url(option: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The PostgreSQL URL chosen by ``--store`` or ``AI_TELEMETRY_STORE``; None for DuckDB.

    Raises:
        ConfigError: the value is neither ``duckdb`` nor a ``postgresql://`` URL.
    """
    env = os.environ if environ is None else environ
    value = option if option is not None else env.get("AI_TELEMETRY_STORE")
    if value is None or value.strip() in ("", "duckdb"):
        return None
    value = value.strip()
    if not is_postgres_url(value):
        where = "--store" if option is not None else "AI_TELEMETRY_STORE"
        raise ConfigError(
            f"{where}: {safe_url(value)!r} is not a store; use duckdb (the default) or a "
            "postgresql://user@host:5432/db URL"
        )
    return value


__all__ = [
    "MIGRATIONS",
    "TYPED_COLUMNS",
    "LoadReport",
    "PostgresStore",
    "StoreBehindError",
    "is_postgres_url",
    "open_store",
    "store_url",
]
