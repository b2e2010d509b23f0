"""`DuckDBStore`: the `ai_telemetry.ports.Store` of the embedded DuckDB warehouse.

A thin layer over `ai_telemetry.store.warehouse.Warehouse` (which owns ingest, the file, its
lock and the ``events`` table): the catalogue's SQL (`ai_telemetry.store.catalogue_sql`) run
on DuckDB cursors, its cache (``metric_cache``, per window, project, model windows and ingest
generation), the weekly ``metric_history`` table, and time partitions over ``events``. How it
computes (two cursors side by side, or one after the other on large windows; a lean in-memory
warehouse straight from the log) is private to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import orjson

from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.ports import (
    HistoryRow,
    Incident,
    LearningRow,
    Partition,
    SkillRun,
    TopRow,
    Window,
)
from ai_telemetry.store import catalogue_sql as sql
from ai_telemetry.store import evidence
from ai_telemetry.store.warehouse import IngestReport, Warehouse

_SIDE_BY_SIDE_MAX_ROWS: Final = 3_000_000
_HISTORY_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS metric_history (week_start DATE, metric VARCHAR, "
    "key VARCHAR, value DOUBLE, generation BIGINT, computed_at TIMESTAMP, "
    "project VARCHAR DEFAULT '')"
)
_HISTORY_PROJECT: Final = (  # warehouses from before per-project history
    "ALTER TABLE metric_history ADD COLUMN IF NOT EXISTS project VARCHAR DEFAULT ''"
)
_CACHE_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS metric_cache (key VARCHAR PRIMARY KEY, generation BIGINT, "
    "body VARCHAR)"
)


class DuckDBStore:
    """The DuckDB warehouse of one telemetry directory as a `Store`. Use as a context manager.

    Args:
        settings: where the log, the archives and the warehouse are.
        warehouse: the `Warehouse` to serve (default: the directory's ``warehouse.duckdb``).
        progress: show a progress bar on long ingests (default: when stderr is a terminal).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        warehouse: Warehouse | None = None,
        progress: bool | None = None,
    ) -> None:
        self.settings = settings
        self.warehouse = warehouse or Warehouse(settings, progress=progress)
        self._history_ready = False

    @classmethod
    def from_log(
        cls, settings: Settings, window: Window, *, progress: bool | None = None
    ) -> DuckDBStore:
        """A throwaway in-memory store for the catalogue of ``window``, straight from the log.

        Only the fields the catalogue reads (`catalogue_sql.CATALOGUE_COLUMNS`) of the events it
        reads for ``window`` (`catalogue_sql.catalogue_rows_sql`) are kept, with the warehouse's
        de-duplication and bad-line counting: the same catalogue from one read of the JSON,
        nothing written (what a first ``aggregate`` over a large log does).
        """
        from ai_telemetry.store.retention import manifest_path

        where: str | None = sql.catalogue_rows_sql(window, ts="__ts")
        span = log_time_span(settings.log_path)
        start, end = window.naive()
        margin = sql.COPY_MARGIN
        whole = span is not None and start - margin <= span[0] and span[1] < end + margin
        if whole and not manifest_path(settings).exists():
            where = None  # the window spans the whole log, and nothing is archived: keep all
        wh = Warehouse(
            settings,
            path=":memory:",
            progress=progress,
            columns=sql.CATALOGUE_COLUMNS,
            where=where,
        )
        return cls(settings, warehouse=wh)

    # --- opening and closing ----------------------------------------------------------------

    def __enter__(self) -> Self:
        self.warehouse.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.warehouse.__exit__(exc_type, exc, tb)

    def open(self) -> None:
        """Take the warehouse lock, connect, and create the tables when missing."""
        self.warehouse.open()

    def close(self) -> None:
        """Release the connection and the lock."""
        self.warehouse.close()
        self._history_ready = False

    @property
    def con(self) -> Any:
        """The raw DuckDB connection (for modules not yet moved behind the interface)."""
        return self.warehouse.con

    @property
    def source(self) -> str:
        """Where the events come from, for messages."""
        return f"{self.settings.log_path} or its archives"

    # --- state ------------------------------------------------------------------------------

    def ingest(self) -> IngestReport:
        """Read what is new in the archives and the log."""
        return self.warehouse.ingest()

    def generation(self) -> int:
        """A counter that grows whenever events are added."""
        return self.warehouse.generation

    def count(self) -> int:
        """Events stored."""
        return self.warehouse.count()

    def bad_lines(self) -> int:
        """Unusable lines seen in the current log so far."""
        return self.warehouse.bad_lines()

    def first_event(self) -> datetime | None:
        """The (naive UTC) time of the earliest stored event."""
        row = self.con.execute("SELECT min(ts) FROM events").fetchone()
        return None if row is None or row[0] is None else row[0]

    def query(
        self, text: str, *, project: str | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Someone's read-only SQL on a locked-down connection (`Warehouse.read_only_query`)."""
        return self.warehouse.read_only_query(text, project=project)

    # --- the catalogue ----------------------------------------------------------------------

    def catalogue(self, window: Window, *, project: str | None = None) -> dict[str, Any]:
        """The catalogue of ``window``, cached per window, project, model windows, generation.

        The weekly history and ``metrics.json`` share the cache: a cold ``aggregate`` of the
        last complete week computes that week once.
        """
        windows = sql.model_windows(self.settings.extra.get("models", {}))
        w = window.as_dict()
        key = f"{w['start']}|{w['end']}|{project or ''}|{windows}"
        con = self.con
        con.execute(_CACHE_TABLE)
        generation = self.generation()
        row = con.execute(
            "SELECT body FROM metric_cache WHERE key = ? AND generation = ?", [key, generation]
        ).fetchone()
        if row is not None:
            body: dict[str, Any] = orjson.loads(row[0])
            return body
        body = self.compute_catalogue(window, project=project, windows=windows)
        con.execute(
            "INSERT OR REPLACE INTO metric_cache VALUES (?, ?, ?)",
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
        """The catalogue of ``window`` without the cache.

        Two groups of queries run side by side, each on its own cursor (its own ``ev`` view and
        temporary tables): the executions (the pairing's window functions), and everything else
        (many small scans, where one cursor would mostly wait on per-query overhead). Over more
        than `_SIDE_BY_SIDE_MAX_ROWS` events they run one after the other: both would then sort
        millions of rows at once under DuckDB's memory limit and spill (a year of 10M events:
        3.7 s in turn, 4.9 s side by side; a year of 1M: 0.53 s in turn, 0.49 s side by side).
        """
        from concurrent.futures import ThreadPoolExecutor

        import duckdb

        if windows is None:
            windows = sql.model_windows(self.settings.extra.get("models", {}))
        ev = sql.ev_view_sql(project)
        model_windows = windows

        def executions(con: Any) -> dict[str, Any]:
            return sql.executions_group(con, window)

        def others(con: Any) -> dict[str, Any]:
            return sql.other_group(con, window, model_windows)

        def run(group: Any) -> dict[str, Any]:
            with self.con.cursor() as con:
                con.execute(ev)
                out: dict[str, Any] = group(con)
                return out

        try:
            lo, hi = sql.catalogue_range(window)
            rows = self.con.execute(
                "SELECT count(*) FROM events WHERE ts >= ? AND ts < ?", [lo, hi]
            ).fetchone()
            if rows is not None and rows[0] > _SIDE_BY_SIDE_MAX_ROWS:
                first, second = run(executions), run(others)
            else:
                with ThreadPoolExecutor(max_workers=2) as pool:
                    first, second = pool.map(run, (executions, others))
        except duckdb.Error as exc:
            raise self._failed(exc) from None
        return sql.finish_catalogue(first, second)

    def _failed(self, exc: Exception) -> AnalyticsError:
        message = str(exc).splitlines()[0]
        return AnalyticsError(
            f"{self.warehouse.path}: a metric query failed ({message}); delete the warehouse "
            "file to rebuild it, and report this if it happens again"
        )

    def top(
        self, kind: str, window: Window, *, limit: int = 5, project: str | None = None
    ) -> list[TopRow]:
        """The ``limit`` most frequent skills, agents, tools or errors in ``window``.

        Raises:
            AnalyticsError: ``kind`` is not one of `ai_telemetry.ports.TOP_KINDS`.
        """
        from ai_telemetry.ports import TOP_KINDS

        con = self.con
        con.execute(sql.ev_view_sql(project))
        rows = sql.top_rows(con, kind, window, limit=limit)
        if rows is None:
            raise AnalyticsError(f"top {kind!r}: choose one of {', '.join(TOP_KINDS)}")
        return rows

    def skill_runs(
        self, lo: datetime, hi: datetime, *, project: str | None = None
    ) -> list[tuple[str, datetime, str]]:
        """Finished skill runs (skill, start naive UTC, outcome) whose start is in ``[lo, hi)``."""
        con = self.con
        con.execute(sql.ev_view_sql(project))
        sql.load_runs(
            con, "usage_skill_runs", event_type="skill_execution", key="skill", lo=lo, hi=hi
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
        return sql.llm_responses(self.con, lo, hi, session_id=session_id, project=project)

    def root_causes(
        self, lo: datetime, hi: datetime, *, project: str | None = None
    ) -> dict[str, int]:
        """Incidents opened per root cause in ``[lo, hi)`` (naive UTC), of ``project``."""
        return sql.root_causes(self.con, lo, hi, project)

    def skill_version_runs(
        self, *, before: datetime
    ) -> list[tuple[str, str, datetime, str, float | None, float | None]]:
        """Finished skill runs with a ``skill_version`` before ``before``, oldest first."""
        return sql.skill_version_runs(self.con, before.astimezone(UTC).replace(tzinfo=None))

    def task_runs(
        self, *, until: datetime | None = None, project: str | None = None
    ) -> list[SkillRun]:
        """Finished skill runs that recorded their task's folders, before ``until``."""
        return sql.task_runs(self.con, until, project)

    # --- what the reports read (`ai_telemetry.store.evidence`) ------------------------------

    def learnings(
        self, *, until: datetime, as_of: datetime, project: str | None = None
    ) -> list[LearningRow]:
        """Learnings created before ``until``, implemented if so before ``as_of``."""
        return evidence.learnings(self.con, until=until, as_of=as_of, project=project)

    def incidents(self, *, until: datetime, project: str | None = None) -> list[Incident]:
        """Incidents opened before ``until``, oldest first."""
        return evidence.incidents(self.con, until=until, project=project)

    def skills_seen(self, *, before: datetime, project: str | None = None) -> set[str]:
        """Skills that ran or were loaded before ``before``."""
        return evidence.skills_seen(self.con, before=before, project=project)

    def skill_outcomes(
        self, skill: str, *, project: str | None = None
    ) -> list[tuple[datetime, str | None, str, float | None, float | None]]:
        """Every finished run of ``skill``, oldest first."""
        return evidence.skill_outcomes(self.con, skill, project=project)

    def errors_by_type(
        self, name: str, *, since: datetime, until: datetime, project: str | None = None
    ) -> list[tuple[str, int]]:
        """The errors of ``name`` by type in ``[since, until)``, most frequent first."""
        return evidence.errors_by_type(self.con, name, since=since, until=until, project=project)

    # --- the weekly history -----------------------------------------------------------------

    def _history(self) -> Any:
        con = self.con
        if not self._history_ready:
            con.execute(_HISTORY_TABLE)
            con.execute(_HISTORY_PROJECT)
            self._history_ready = True
        return con

    def record_week(
        self,
        week_start: date,
        rows: Iterable[tuple[str, str, float]],
        *,
        generation: int,
        project: str | None = None,
    ) -> int:
        """Replace the history of the week of ``week_start`` (of ``project``) with ``rows``."""
        con = self._history()
        scope = project or ""
        metrics: list[str] = []
        keys: list[str] = []
        values: list[float] = []
        for m, k, v in rows:
            metrics.append(m)
            keys.append(k)
            values.append(v)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "DELETE FROM metric_history WHERE project = ? AND week_start = ?",
                [scope, week_start],
            )
            # one statement over three lists (unnest zips them): executemany costs a statement
            # per row, seconds for a week's few thousand rows
            con.execute(
                "INSERT INTO metric_history (week_start, metric, key, value, generation, "
                "computed_at, project) SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                "unnest(?::DOUBLE[]), ?, now(), ?",
                [week_start, metrics, keys, values, generation, scope],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return len(values)

    def weeks(self, *, project: str | None = None) -> dict[date, int]:
        """The recorded weeks (of ``project``): Monday -> the generation it was recorded at."""
        rows = (
            self._history()
            .execute(
                "SELECT week_start, max(generation) FROM metric_history WHERE project = ? "
                "GROUP BY 1",
                [project or ""],
            )
            .fetchall()
        )
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
        where = "project = ? AND week_start BETWEEN ? AND ?"
        params: list[Any] = [project or "", weeks[0], weeks[1]]
        if metric is not None:
            where += " AND metric = ? AND key = ?"
            params += [metric, key or ""]
        rows = (
            self._history()
            .execute(
                f"SELECT week_start, metric, key, value FROM metric_history WHERE {where} "
                "ORDER BY week_start, metric, key",
                params,
            )
            .fetchall()
        )
        return [HistoryRow(r[0], str(r[1]), str(r[2]), float(r[3])) for r in rows]

    def prune_history(self, *, before: date) -> int:
        """Delete the history of weeks starting before ``before``; return the rows deleted."""
        con = self._history()
        row = con.execute(
            "SELECT count(*) FROM metric_history WHERE week_start < ?", [before]
        ).fetchone()
        con.execute("DELETE FROM metric_history WHERE week_start < ?", [before])
        return int(row[0]) if row else 0

    # --- partitions -------------------------------------------------------------------------

    def partitions(self) -> list[Partition]:
        """The calendar months (UTC) of the stored events, oldest first."""
        rows = self.con.execute(
            "SELECT CAST(date_trunc('month', ts) AS DATE) AS m, count(*) FROM events "
            "GROUP BY m ORDER BY m"
        ).fetchall()
        return [Partition(r[0], _next_month(r[0]), int(r[1])) for r in rows]

    def drop_partitions(self, before: date) -> int:
        """Delete the stored events of months that end on or before ``before``; return them.

        The log and its archives stay the source of truth: a rewritten log is read again.
        """
        dropped = [p for p in self.partitions() if p.end <= before]
        if not dropped:
            return 0
        self.con.execute("DELETE FROM events WHERE ts < ?", [dropped[-1].end])
        self.con.execute(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'generation'"
        )
        return len(dropped)


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def log_time_span(path: Path) -> tuple[datetime, datetime] | None:
    """The timestamps (naive UTC) of the first and the last complete line of a log, read from
    its first and last 64 KiB; None when they cannot be read."""
    block = 65536
    try:
        with path.open("rb") as fh:
            head = fh.read(block).split(b"\n", 1)[0]
            fh.seek(max(os.fstat(fh.fileno()).st_size - block, 0))
            tail = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        first, last = (_moment(orjson.loads(line)["timestamp"]) for line in (head, tail))
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
        return None
    return first, last


def _moment(text: str) -> datetime:
    value = text.strip()
    if value[-1:] in ("z", "Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
