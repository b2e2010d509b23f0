"""The SQL of the metric catalogue (METRICS.md): one place, for every store.

Each ``*_metrics`` function runs its queries on a cursor (``con.execute(sql, params)`` with
``?`` placeholders, then ``fetchone`` / ``fetchall``) over a relation ``ev`` (the store's
events, narrowed to one project when asked) and shapes the rows into catalogue metrics.
The SQL is written in what DuckDB and PostgreSQL share (window functions, ``FILTER (WHERE
...)``, ``coalesce``, ``count(DISTINCT ...)``); the few expressions that differ come from a
`Dialect` (`DUCKDB`, `POSTGRESQL`): percentiles, epoch seconds of an interval, the value at
the smallest key, and temporary tables. A PostgreSQL store runs the same functions with
``POSTGRESQL`` and a cursor that takes ``?`` placeholders.

Executions (skill executions, agent tasks) pair ``started`` with terminal events (METRICS.md
pairing): within one skill (agent) and one ``session_id`` (events without a session form one
group per skill), events are ordered by time (a ``started`` before a terminal event at the
same instant, then by outcome and duration, see `runs_sql`). A ``started`` pairs with the
event right after it when that one is terminal (`TERMINAL_OUTCOMES`); otherwise the execution
is *unfinished*. A terminal event not right after a ``started`` is an execution on its own.
An execution belongs to the window holding its start (its end, when no start was logged).
Pairing looks at events up to `PAIRING_MARGIN` around the window, so an execution may last up
to 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ai_telemetry.ports import TERMINAL_OUTCOMES, SkillRun, TopRow, Window


@dataclass(frozen=True, slots=True)
class Dialect:
    """The few SQL expressions in which DuckDB and PostgreSQL differ."""

    name: str
    double: str
    """The type of a double-precision column."""

    def percentiles(self, expr: str, fractions: tuple[float, ...]) -> str:
        """An aggregate: the continuous percentiles of ``expr`` as one list (array)."""
        listed = ", ".join(str(f) for f in fractions)
        if self.name == "duckdb":
            return f"quantile_cont({expr}, [{listed}])"
        return f"percentile_cont(ARRAY[{listed}]) WITHIN GROUP (ORDER BY {expr})"

    def percentile(self, expr: str, fraction: float) -> str:
        """An aggregate: the continuous percentile ``fraction`` of ``expr``."""
        if self.name == "duckdb":
            return f"quantile_cont({expr}, {fraction})"
        return f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {expr})"

    def exact(self, aggregate: str, expr: str, where: str = "") -> str:
        """``aggregate`` (``sum`` or ``avg``) of a fractional double ``expr``, added up exactly
        (as DECIMAL(38, 12)): a parallel scan adds doubles in any order, and their float sum
        then differs in the last bits, enough to flip the sixth decimal metrics.json keeps
        (a skill's mean duration 115.622813 in one run, 115.622812 in the next). ``where``:
        the aggregate's FILTER condition."""
        only = f" FILTER (WHERE {where})" if where else ""
        return f"CAST({aggregate}(CAST({expr} AS DECIMAL(38, 12))){only} AS {self.double})"

    def epoch(self, interval: str) -> str:
        """The seconds of an interval (the difference of two timestamps)."""
        if self.name == "duckdb":
            return f"epoch({interval})"
        # extract() is numeric on PostgreSQL; DuckDB's epoch() is a double
        return f"extract(epoch FROM {interval})::double precision"

    def arg_min(self, value: str, key: str) -> str:
        """An aggregate: ``value`` of the row with the smallest ``key``."""
        if self.name == "duckdb":
            return f"arg_min({value}, {key})"
        # DuckDB's arg_min skips the rows whose value or key is NULL
        return (
            f"(array_agg({value} ORDER BY {key}) FILTER (WHERE {value} IS NOT NULL "
            f"AND {key} IS NOT NULL))[1]"
        )

    def temp_table(self, con: Any, name: str, select: str, params: list[Any] | None = None) -> None:
        """(Re)create the temporary table ``name`` as the result of ``select``."""
        if self.name == "duckdb":
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}", params or [])
            return
        con.execute(f"DROP TABLE IF EXISTS {name}")
        con.execute(f"CREATE TEMP TABLE {name} AS {select}", params or [])


DUCKDB: Final = Dialect("duckdb", "DOUBLE")
POSTGRESQL: Final = Dialect("postgresql", "DOUBLE PRECISION")

DEFAULT_CONTEXT_WINDOW: Final = 200_000

CATALOGUE_COLUMNS: Final = (
    *("event_id", "ts", "event_type", "project", "source", "session_id", "task_id"),
    *("skill", "agent", "tool", "mcp_server", "outcome", "duration_seconds", "tool_calls"),
    *("context_tokens", "context_window", "model", "message_id", "request_id", "cost_usd"),
    *("input_tokens", "output_tokens", "cache_creation_input_tokens"),
    *("cache_read_input_tokens", "learning_id", "severity", "incident_id", "root_cause"),
    *("coverage_percent", "delta_percent", "lint_errors", "type_coverage_percent"),
    *("doc_coverage_percent", "open_findings"),
)
"""The ``events`` columns the catalogue reads (a lean warehouse keeps only these).

Keep it, `_ALL_TIME_TYPES` and `catalogue_range` in step with the queries below: every test of
the catalogue computes its document both from the warehouse and from the log and compares.
"""

_ALL_TIME_TYPES: Final = (
    "session_start",  # a session's length counts from its start, however long ago
    "test_coverage",  # the coverage delta compares with the last value before the window
    "test_run",
    "learning_created",  # learning and incident metrics look at the whole history
    "learning_implemented",
    "incident_opened",
    "incident_resolved",
)


COPY_MARGIN: Final = timedelta(days=1)  # rows kept around a window, see catalogue_rows_sql


def catalogue_range(window: Window) -> tuple[datetime, datetime]:
    """The time range (naive UTC) of the events `catalogue` reads for ``window``: from the
    pairing margin before the window (and its trailing 7 days of rates) to the margin after."""
    start, end = window.naive()
    return min(start, end - timedelta(days=7)) - PAIRING_MARGIN, (end + PAIRING_MARGIN)


def catalogue_rows_sql(window: Window, *, ts: str = "ts") -> str:
    """SQL condition over ``events`` for the rows `catalogue` reads for ``window``.

    The events of the window and a day around it (so that a later copy of an event whose
    timestamp moved a little still replaces it); those the executions pair across
    `catalogue_range` (skill executions, agent tasks, and the tool calls of a task, counted
    per task); and every event of the types whose metrics look further back. A lean warehouse
    that serves one window stores only these. ``ts`` names the time column (``__ts`` in
    the warehouse's read of the JSON, `ai_telemetry.store.columns.typed_select_sql`).
    """

    def between(lo: datetime, hi: datetime) -> str:
        lo_sql, hi_sql = lo.isoformat(sep=" "), hi.isoformat(sep=" ")
        return f"{ts} >= TIMESTAMP '{lo_sql}' AND {ts} < TIMESTAMP '{hi_sql}'"

    paired = (
        "event_type IN ('skill_execution', 'agent_task') "
        "OR (event_type = 'tool_call' AND task_id IS NOT NULL)"
    )
    types = ", ".join(f"'{t}'" for t in _ALL_TIME_TYPES)
    start, end = window.naive()
    near = between(start - COPY_MARGIN, end + COPY_MARGIN)
    return (
        f"({near}) OR (({paired}) AND {between(*catalogue_range(window))}) "
        f"OR event_type IN ({types})"
    )


PAIRING_MARGIN: Final = timedelta(days=30)
TERMINALS: Final = "(" + ", ".join(f"'{o}'" for o in TERMINAL_OUTCOMES) + ")"
"""`TERMINAL_OUTCOMES` as an SQL list."""
PERCENTILES: Final = (0.5, 0.95, 0.99)


def runs_sql(event_type: str, key: str, source: str = "ev") -> str:
    """SQL for the executions of ``event_type`` grouped by ``key`` (``skill`` or ``agent``).

    Parameters: the window ``[lo, hi)`` whose executions are wanted, then the range of events
    to pair (the window and `PAIRING_MARGIN` around it), naive UTC. Only the partitions (name
    and session) with an event in the window are paired: an execution anchored in the window
    has one there, so its pairing is the same, and the margin's other sessions are not sorted
    at all. Columns: ``name``,
    ``anchor_ts``, ``outcome`` (terminal outcome or NULL when unfinished), ``duration``,
    ``tool_calls``, ``task_id`` (agent tasks only; NULL for skills).

    Ties of time are broken by what an execution is made of (outcome, duration, and for agent
    tasks tool calls and task), so that events alike in all of it are interchangeable and the
    answer never depends on the order DuckDB happened to read them in. (Sorting on the
    ``event_id`` instead costs a third more at 10M events.)
    """
    tasks = event_type == "agent_task"
    carried = "tool_calls, task_id" if tasks else "NULL AS tool_calls, NULL AS task_id"
    leads = (
        "lead(tool_calls) OVER w AS next_tool_calls, lead(task_id) OVER w AS next_task_id"
        if tasks
        else "NULL AS next_tool_calls, NULL AS next_task_id"
    )
    ties = "outcome, duration_seconds" + (", tool_calls, task_id" if tasks else "")
    nxt = "(next_outcome IS NOT NULL AND next_outcome <> 'started')"
    pairable = (
        f"event_type = '{event_type}' AND {key} IS NOT NULL "
        f"AND (outcome = 'started' OR outcome IN {TERMINALS})"
    )
    return f"""
    WITH active AS (
      SELECT DISTINCT {key} AS active_name, coalesce(session_id, '') AS active_session
      FROM {source} WHERE {pairable} AND ts >= ? AND ts < ?
    ), e AS (
      SELECT {key} AS name, ts, outcome, duration_seconds, {carried},
        lag(outcome) OVER w AS prev_outcome,
        lead(outcome) OVER w AS next_outcome,
        lead(duration_seconds) OVER w AS next_duration,
        {leads}
      FROM {source}
      JOIN active ON {key} = active_name AND coalesce(session_id, '') = active_session
      WHERE {pairable} AND ts >= ? AND ts < ?
      WINDOW w AS (PARTITION BY {key}, coalesce(session_id, '')
                   ORDER BY ts, outcome <> 'started', {ties})
    )
    SELECT name, ts AS anchor_ts,
      CASE WHEN outcome = 'started' THEN CASE WHEN {nxt} THEN next_outcome END
           ELSE outcome END AS outcome,
      CASE WHEN outcome = 'started' THEN CASE WHEN {nxt} THEN next_duration END
           ELSE duration_seconds END AS duration,
      CASE WHEN outcome = 'started'
           THEN coalesce(CASE WHEN {nxt} THEN next_tool_calls END, tool_calls)
           ELSE tool_calls END AS tool_calls,
      coalesce(task_id, CASE WHEN outcome = 'started' AND {nxt} THEN next_task_id END) AS task_id
    FROM e
    WHERE outcome = 'started' OR prev_outcome IS NULL OR prev_outcome <> 'started'
    """


def _pct(values: list[float] | None, names: tuple[str, ...] = ("p50", "p95", "p99")) -> Any:
    if not values or any(v is None for v in values):
        return None
    return dict(zip(names, (float(v) for v in values), strict=True))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _keyed(pairs: list[tuple[str, Any]]) -> dict[str, Any] | None:
    out = {k: v for k, v in pairs if v is not None}
    return out or None


def _outcomes(runs: int, finished: int, *ended: int) -> dict[str, int]:
    """Executions by how they ended (success, error, rollback, handoff counts in ``ended``);
    ``unfinished``: started, no terminal event (yet)."""
    return {
        **dict(zip(TERMINAL_OUTCOMES, map(int, ended), strict=True)),
        "unfinished": runs - finished,
    }


def load_runs(
    con: Any,
    table: str,
    *,
    event_type: str,
    key: str,
    lo: datetime,
    hi: datetime,
    dialect: Dialect = DUCKDB,
) -> None:
    """Materialise as ``table`` the executions anchored in ``[lo, hi)``, paired over the
    events of ``[lo - margin, hi + margin)`` (with some outside ``[lo, hi)``: select by
    ``anchor_ts``)."""
    params = [lo, hi, lo - PAIRING_MARGIN, hi + PAIRING_MARGIN]
    dialect.temp_table(con, table, runs_sql(event_type, key), params)


def skill_metrics(
    con: Any, start: datetime, end: datetime, *, dialect: Dialect = DUCKDB
) -> dict[str, Any]:
    """The skill usage metrics of METRICS.md for ``[start, end)`` (naive UTC)."""
    rate_start = min(start, end - timedelta(days=7))
    load_runs(
        con,
        "skill_runs",
        event_type="skill_execution",
        key="skill",
        lo=rate_start,
        hi=end,
        dialect=dialect,
    )
    durations = dialect.percentiles("duration", PERCENTILES)
    rows = con.execute(
        f"""SELECT name, count(*), count(outcome),
          count(*) FILTER (WHERE outcome = 'success'), count(*) FILTER (WHERE outcome = 'error'),
          {dialect.exact("avg", "duration", "outcome IS NOT NULL")},
          {durations} FILTER (WHERE outcome IS NOT NULL),
          count(*) FILTER (WHERE outcome = 'rollback'), count(*) FILTER (WHERE outcome = 'handoff')
        FROM skill_runs WHERE anchor_ts >= ? AND anchor_ts < ? GROUP BY name ORDER BY name""",
        [start, end],
    ).fetchall()
    weekly = con.execute(
        "SELECT name, count(*) FROM skill_runs WHERE anchor_ts >= ? AND anchor_ts < ? "
        "GROUP BY name ORDER BY name",
        [end - timedelta(days=7), end],
    ).fetchall()
    tokens = con.execute(
        f"SELECT skill, avg(context_tokens), {dialect.percentile('context_tokens', 0.95)} FROM ev "
        "WHERE event_type = 'skill_execution' AND skill IS NOT NULL "
        "AND context_tokens IS NOT NULL AND ts >= ? AND ts < ? GROUP BY skill ORDER BY skill",
        [start, end],
    ).fetchall()
    return {
        "skill_invocation_total": _keyed([(r[0], int(r[1])) for r in rows]),
        "skill_invocation_rate": _keyed([(r[0], r[1] / 7) for r in weekly]),
        "skill_success_rate": _keyed([(r[0], _rate(r[3], r[2])) for r in rows]),
        "skill_error_rate": _keyed([(r[0], _rate(r[4], r[2])) for r in rows]),
        "skill_duration_seconds": _keyed([(r[0], _pct(r[6])) for r in rows]),
        "skill_avg_duration_seconds": _keyed([(r[0], r[5]) for r in rows]),
        "skill_context_tokens": _keyed(
            [(r[0], {"mean": float(r[1]), "p95": float(r[2])}) for r in tokens]
        ),
        "skill_error_total": _keyed([(r[0], int(r[4])) for r in rows if r[4]]),
        "skill_outcome_total": _keyed(
            [(r[0], _outcomes(r[1], r[2], r[3], r[4], r[7], r[8])) for r in rows]
        ),
    }


def agent_metrics(
    con: Any, start: datetime, end: datetime, *, dialect: Dialect = DUCKDB
) -> dict[str, Any]:
    """The agent performance metrics of METRICS.md for ``[start, end)`` (naive UTC)."""
    load_runs(
        con, "agent_runs", event_type="agent_task", key="agent", lo=start, hi=end, dialect=dialect
    )
    durations = dialect.percentiles("duration", PERCENTILES)
    calls_pct = dialect.percentiles("calls", (0.5, 0.95))
    rows = con.execute(
        f"""WITH calls AS (
          SELECT task_id, count(*) AS n FROM ev WHERE event_type = 'tool_call'
            AND task_id IS NOT NULL AND ts >= ? AND ts < ? GROUP BY task_id
        ), r AS (
          SELECT a.*, coalesce(a.tool_calls, c.n) AS calls FROM agent_runs a
          LEFT JOIN calls c ON a.task_id = c.task_id
          WHERE anchor_ts >= ? AND anchor_ts < ?
        )
        SELECT name, count(*), count(outcome),
          count(*) FILTER (WHERE outcome = 'success'), count(*) FILTER (WHERE outcome = 'rollback'),
          count(*) FILTER (WHERE outcome = 'handoff'),
          {durations} FILTER (WHERE outcome IS NOT NULL),
          {calls_pct}, max(calls), count(*) FILTER (WHERE outcome = 'error')
        FROM r GROUP BY name ORDER BY name""",
        [start - PAIRING_MARGIN, end + PAIRING_MARGIN, start, end],
    ).fetchall()

    def calls(r: Any) -> dict[str, float] | None:
        if r[7] is None or r[8] is None:
            return None
        return {"p50": float(r[7][0]), "p95": float(r[7][1]), "max": float(r[8])}

    return {
        "agent_invocation_total": _keyed([(r[0], int(r[1])) for r in rows]),
        "agent_task_completion_rate": _keyed([(r[0], _rate(r[3], r[2])) for r in rows]),
        "agent_rollback_rate": _keyed([(r[0], _rate(r[4], r[2])) for r in rows]),
        "agent_handoff_rate": _keyed([(r[0], _rate(r[5], r[2])) for r in rows]),
        "agent_time_to_resolution": _keyed([(r[0], _pct(r[6])) for r in rows]),
        "agent_tool_call_count": _keyed([(r[0], calls(r)) for r in rows]),
        "agent_outcome_total": _keyed(
            [(r[0], _outcomes(r[1], r[2], r[3], r[9], r[4], r[5])) for r in rows]
        ),
    }


def _one(con: Any, sql: str, params: list[Any]) -> Any:
    row = con.execute(sql, params).fetchone()
    return row if row is not None else ()


def _latest(con: Any, column: str, types: str, start: datetime, end: datetime) -> float | None:
    row = con.execute(
        f"SELECT {column} FROM ev WHERE event_type IN ({types}) AND {column} IS NOT NULL "
        "AND ts >= ? AND ts < ? ORDER BY ts DESC, event_id DESC LIMIT 1",
        [start, end],
    ).fetchone()
    return float(row[0]) if row else None


def quality_metrics(con: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """Code quality: latest values in the window, and the coverage delta."""
    cov_types = "'test_coverage', 'test_run'"
    coverage = _latest(con, "coverage_percent", cov_types, start, end)
    delta: float | None = None
    if coverage is not None:
        previous = con.execute(
            f"SELECT coverage_percent FROM ev WHERE event_type IN ({cov_types}) "
            "AND coverage_percent IS NOT NULL AND ts < ? "
            "ORDER BY ts DESC, event_id DESC LIMIT 1",
            [start],
        ).fetchone()
        if previous is not None:
            delta = round(coverage - float(previous[0]), 6)
        else:
            delta = _latest(con, "delta_percent", cov_types, start, end)
    return {
        "test_coverage_percent": coverage,
        "test_coverage_delta": delta,
        "lint_errors": _latest(con, "lint_errors", "'lint_report'", start, end),
        "type_coverage_percent": _latest(
            con, "type_coverage_percent", "'type_coverage'", start, end
        ),
        "doc_coverage_percent": _latest(con, "doc_coverage_percent", "'doc_coverage'", start, end),
        "security_open_findings": _latest(con, "open_findings", "'security_scan'", start, end),
    }


def learning_metrics(
    con: Any, start: datetime, end: datetime, weeks: float, *, dialect: Dialect = DUCKDB
) -> dict[str, Any]:
    """Learning capture: totals up to the window's end, rate of implementation, breakdowns."""
    dialect.temp_table(
        con,
        "learn",
        "SELECT learning_id, min(ts) AS created, "
        f"{dialect.arg_min('severity', 'ts')} AS severity, "
        f"{dialect.arg_min('source', 'ts')} AS source FROM ev "
        "WHERE event_type = 'learning_created' AND learning_id IS NOT NULL AND ts < ? "
        "GROUP BY learning_id",
        [end],
    )
    days = dialect.percentiles(dialect.epoch("done - created") + " / 86400.0", PERCENTILES)
    total, in_window = _one(
        con, "SELECT count(*), count(*) FILTER (WHERE created >= ?) FROM learn", [start]
    )
    impl = _one(
        con,
        "WITH i AS (SELECT learning_id, min(ts) AS done FROM ev WHERE event_type = "
        "'learning_implemented' AND learning_id IS NOT NULL AND ts < ? GROUP BY learning_id) "
        f"SELECT count(*), {days} FROM learn JOIN i USING (learning_id)",
        [end],
    )
    severity = con.execute(
        "SELECT coalesce(severity, 'unknown'), count(*) FROM learn GROUP BY 1 ORDER BY 1"
    ).fetchall()
    source = con.execute(
        "SELECT coalesce(source, 'unknown'), count(*) FROM learn GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {
        "learning_entries_total": int(total) if total else None,
        "learning_entries_per_week": in_window / weeks if in_window else None,
        "learning_implementation_rate": _rate(int(impl[0]), int(total)),
        "learning_time_to_implementation": _pct(impl[1]),
        "learning_severity_breakdown": _keyed([(k, int(n)) for k, n in severity]),
        "learning_source_breakdown": _keyed([(k, int(n)) for k, n in source]),
    }


def incident_metrics(
    con: Any, start: datetime, end: datetime, weeks: float, *, dialect: Dialect = DUCKDB
) -> dict[str, Any]:
    """Incidents, and the test failure rate."""
    dialect.temp_table(
        con,
        "opened",
        "SELECT incident_id, min(ts) AS ts, "
        f"{dialect.arg_min('severity', 'ts')} AS severity, "
        f"{dialect.arg_min('root_cause', 'ts')} AS root_cause FROM ev "
        "WHERE event_type = 'incident_opened' AND ts < ? GROUP BY incident_id",
        [end],
    )
    mttr_pct = dialect.percentiles(dialect.epoch("r.ts - o.ts"), PERCENTILES)
    by_sev = con.execute(
        "SELECT coalesce(severity, 'unknown'), count(*) FROM opened WHERE ts >= ? "
        "GROUP BY 1 ORDER BY 1",
        [start],
    ).fetchall()
    in_window = sum(int(n) for _, n in by_sev)
    repeats = _one(
        con,
        "SELECT count(*) FROM opened o WHERE o.ts >= ? AND o.root_cause IS NOT NULL AND EXISTS "
        "(SELECT 1 FROM opened p WHERE p.root_cause = o.root_cause AND p.ts < o.ts)",
        [start],
    )[0]
    mttr = _one(
        con,
        f"SELECT {mttr_pct} FROM ("
        "SELECT incident_id, min(ts) AS ts FROM ev WHERE event_type = 'incident_resolved' "
        "GROUP BY incident_id) r JOIN opened o USING (incident_id) WHERE r.ts >= ? AND r.ts < ?",
        [start, end],
    )[0]
    builds = _one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE outcome = 'failed') FROM ev "
        "WHERE event_type = 'ci_build' AND outcome IN ('passed', 'failed') AND ts >= ? AND ts < ?",
        [start, end],
    )
    if not builds[0]:
        builds = _one(
            con,
            "SELECT count(*), count(*) FILTER (WHERE outcome = 'failed') FROM ev "
            "WHERE event_type = 'test_run' AND outcome IN ('passed', 'failed') "
            "AND ts >= ? AND ts < ?",
            [start, end],
        )
    return {
        "incidents_total": _keyed([(k, int(n)) for k, n in by_sev]),
        "incident_rate": in_window / weeks if in_window else None,
        "incident_mttr_seconds": _pct(mttr),
        "incident_repeat_rate": _rate(int(repeats), in_window),
        "test_failure_rate": _rate(int(builds[1]), int(builds[0])),
    }


def model_windows(models: object) -> list[tuple[str, float]]:
    """The ``[models.NAME] context_window`` sizes of the configuration (``settings.extra``)."""
    out: list[tuple[str, float]] = []
    if isinstance(models, Mapping):
        for name, conf in models.items():
            if isinstance(conf, Mapping) and isinstance(conf.get("context_window"), int | float):
                out.append((str(name), float(conf["context_window"])))
    return out


def context_metrics(
    con: Any,
    start: datetime,
    end: datetime,
    windows: list[tuple[str, float]],
    *,
    dialect: Dialect = DUCKDB,
) -> dict[str, Any]:
    """Context and resources: utilisation, limits hit, sessions, skill loads, MCP latency.

    ``windows``: the context window size per model (`model_windows`).
    """
    sizes = (
        "SELECT * FROM (VALUES " + ", ".join(["(?, ?)"] * len(windows)) + ") AS w(model, size)"
        if windows
        else f"SELECT CAST(NULL AS VARCHAR) AS model, CAST(NULL AS {dialect.double}) AS size "
        "WHERE 1 = 0"
    )
    ratio = f"e.context_tokens / coalesce(e.context_window, m.size, {DEFAULT_CONTEXT_WINDOW})"
    util = _one(
        con,
        f"SELECT {dialect.percentiles(ratio, PERCENTILES)} FROM ev e LEFT JOIN ({sizes}) m "
        "ON e.model = m.model WHERE e.event_type = 'context_snapshot' "
        "AND e.context_tokens IS NOT NULL AND e.ts >= ? AND e.ts < ?",
        [*(v for pair in windows for v in pair), start, end],
    )[0]
    length = "coalesce(e.duration_seconds, " + dialect.epoch("e.ts - s.ts") + ") / 60.0"
    durations = dialect.percentiles("duration_seconds", PERCENTILES)
    limits = _one(
        con,
        "SELECT count(*) FROM ev WHERE event_type = 'tool_call_limit_reached' "
        "AND ts >= ? AND ts < ?",
        [start, end],
    )[0]
    sessions = _one(
        con,
        f"""WITH s AS (SELECT session_id, min(ts) AS ts FROM ev WHERE event_type = 'session_start'
              AND session_id IS NOT NULL GROUP BY session_id)
        SELECT {dialect.percentiles(length, PERCENTILES)} FROM ev e LEFT JOIN s USING (session_id)
        WHERE e.event_type = 'session_end' AND e.ts >= ? AND e.ts < ?""",
        [start, end],
    )[0]
    loads = _one(
        con,
        f"SELECT {durations} FROM ev WHERE event_type = 'skill_load' AND ts >= ? AND ts < ?",
        [start, end],
    )[0]
    mcp = _one(
        con,
        f"SELECT {durations} FROM ev "
        "WHERE event_type = 'tool_call' AND (mcp_server IS NOT NULL OR tool LIKE 'mcp\\_\\_%' "
        "ESCAPE '\\') AND ts >= ? AND ts < ?",
        [start, end],
    )[0]
    tools = con.execute(
        "SELECT tool, count(*), count(*) FILTER (WHERE outcome = 'error') FROM ev "
        "WHERE event_type = 'tool_call' AND tool IS NOT NULL AND ts >= ? AND ts < ? "
        "GROUP BY tool ORDER BY tool",
        [start, end],
    ).fetchall()
    return {
        "context_window_utilization": _pct(util),
        "tool_call_limit_reached": int(limits) if limits else None,
        "session_length_minutes": _pct(sessions),
        "skill_load_time_seconds": _pct(loads),
        "mcp_tool_latency_seconds": _pct(mcp),
        "tool_call_total": _keyed([(t, int(n)) for t, n, _ in tools]),
        "tool_error_rate": _keyed([(t, e / n) for t, n, e in tools]),
    }


def token_metrics(
    con: Any, start: datetime, end: datetime, *, dialect: Dialect = DUCKDB
) -> dict[str, Any]:
    """Tokens and cost from ``llm_request``; a response seen several times counts once.

    A response is known by its request id (else message id, else event id). Of one seen
    several times the copy with the most tokens counts (then the highest cost, then the
    smallest event id); the rest, nearly all, are kept without ranking them (a third cheaper
    at 10M events than ranking every response).
    """
    cols = "model, skill, agent, i, o, cc, cr, cost_usd"
    dialect.temp_table(
        con,
        "llm",
        "WITH l AS (SELECT coalesce(model, 'unknown') AS model, skill, agent, "
        "coalesce(input_tokens, 0) AS i, coalesce(output_tokens, 0) AS o, "
        "coalesce(cache_creation_input_tokens, 0) AS cc, "
        "coalesce(cache_read_input_tokens, 0) AS cr, cost_usd, event_id, "
        "coalesce(request_id, message_id, event_id) AS k FROM ev "
        "WHERE event_type = 'llm_request' AND ts >= ? AND ts < ?), "
        "seen AS (SELECT k, count(*) AS n FROM l GROUP BY k) "
        f"SELECT {cols} FROM l JOIN seen USING (k) WHERE n = 1 "
        f"UNION ALL SELECT {cols} FROM (SELECT l.*, row_number() OVER (PARTITION BY k "
        "ORDER BY i + o + cc + cr DESC, cost_usd DESC NULLS LAST, event_id) AS pick "
        "FROM l JOIN seen USING (k) WHERE n > 1) ranked WHERE pick = 1",
        [start, end],
    )
    out: dict[str, Any] = {}
    for dim, suffix in (("model", ""), ("skill", "_by_skill"), ("agent", "_by_agent")):
        rows = con.execute(
            f"SELECT {dim}, count(*), sum(i), sum(o), sum(cc), sum(cr), "
            f"{dialect.exact('sum', 'cost_usd')} FROM llm "
            f"WHERE {dim} IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
        out[f"llm_requests{suffix or '_total'}"] = _keyed([(r[0], int(r[1])) for r in rows])
        out[f"llm_tokens{suffix or '_total'}"] = _keyed(
            [
                (
                    r[0],
                    {
                        "input": int(r[2]),
                        "output": int(r[3]),
                        "cache_creation": int(r[4]),
                        "cache_read": int(r[5]),
                    },
                )
                for r in rows
            ]
        )
        out[f"llm_cost_usd{suffix}"] = _keyed([(r[0], r[6]) for r in rows])
    totals = _one(con, "SELECT sum(i), sum(cc), sum(cr) FROM llm", [])
    denominator = sum(int(v or 0) for v in totals)
    out["cache_hit_rate"] = int(totals[2]) / denominator if denominator else None
    return out


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _event_counts(con: Any, start: datetime, end: datetime) -> dict[str, Any]:
    by_type = con.execute(
        "SELECT event_type, count(*) FROM ev WHERE ts >= ? AND ts < ? GROUP BY 1 ORDER BY 1",
        [start, end],
    ).fetchall()
    by_project = con.execute(
        "SELECT project, count(*) FROM ev WHERE ts >= ? AND ts < ? AND project IS NOT NULL "
        "GROUP BY 1 ORDER BY 1",
        [start, end],
    ).fetchall()
    return {
        "total": sum(int(n) for _, n in by_type),
        "by_type": {k: int(n) for k, n in by_type},
        "by_project": {k: int(n) for k, n in by_project},
    }


def ev_view_sql(project: str | None = None, *, source: str = "events") -> str:
    """The statement that (re)creates the ``ev`` view the catalogue reads, of one project."""
    sql = f"CREATE OR REPLACE TEMP VIEW ev AS SELECT * FROM {source}"
    if project is not None:
        sql += " WHERE project = '" + project.replace("'", "''") + "'"
    return sql


def executions_group(con: Any, window: Window, *, dialect: Dialect = DUCKDB) -> dict[str, Any]:
    """The metrics of the paired executions (skills, agents) of ``window``, over ``ev``."""
    start, end = window.naive()
    return {
        **skill_metrics(con, start, end, dialect=dialect),
        **agent_metrics(con, start, end, dialect=dialect),
    }


def other_group(
    con: Any,
    window: Window,
    windows: list[tuple[str, float]],
    *,
    dialect: Dialect = DUCKDB,
) -> dict[str, Any]:
    """Every other metric of ``window`` over ``ev``, and the event counts (``"events"``)."""
    start, end = window.naive()
    return {
        **learning_metrics(con, start, end, window.weeks, dialect=dialect),
        **quality_metrics(con, start, end),
        **incident_metrics(con, start, end, window.weeks, dialect=dialect),
        **context_metrics(con, start, end, windows, dialect=dialect),
        **token_metrics(con, start, end, dialect=dialect),
        "events": _event_counts(con, start, end),
    }


def finish_catalogue(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The catalogue body from the two groups: ``{"events": ..., "metrics": ...}``."""
    counts = second.pop("events")
    return {"events": counts, "metrics": _round({**first, **second})}


def top_rows(
    con: Any,
    kind: str,
    window: Window,
    *,
    limit: int,
    dialect: Dialect = DUCKDB,
) -> list[TopRow] | None:
    """The ``limit`` most frequent skills, agents, tools or error kinds in ``window``, over
    ``ev``; None for an unknown ``kind``.

    Skills and agents count executions (METRICS.md pairing); tools count ``tool_call`` events;
    errors count failed skill executions, agent tasks and tool calls by ``error_type`` (or by
    the skill, agent or tool name when no error type was logged).
    """
    start, end = window.naive()
    if kind in ("skills", "agents"):
        table = f"{kind[:-1]}_runs"
        event_type = "skill_execution" if kind == "skills" else "agent_task"
        load_runs(
            con, table, event_type=event_type, key=kind[:-1], lo=start, hi=end, dialect=dialect
        )
        sql = (
            f"SELECT name, count(*) AS n FROM {table} WHERE anchor_ts >= ? AND anchor_ts < ? "
            "GROUP BY name ORDER BY n DESC, name LIMIT ?"
        )
    elif kind == "tools":
        sql = (
            "SELECT tool, count(*) AS n FROM ev WHERE event_type = 'tool_call' "
            "AND tool IS NOT NULL AND ts >= ? AND ts < ? GROUP BY tool ORDER BY n DESC, tool "
            "LIMIT ?"
        )
    elif kind == "errors":
        sql = (
            "SELECT coalesce(error_type, skill, agent, tool, event_type) AS what, count(*) AS n "
            "FROM ev WHERE event_type IN ('skill_execution', 'agent_task', 'tool_call') "
            "AND outcome = 'error' AND ts >= ? AND ts < ? GROUP BY what "
            "ORDER BY n DESC, what LIMIT ?"
        )
    else:
        return None
    rows = con.execute(sql, [start, end, limit]).fetchall()
    return [TopRow(str(r[0]), int(r[1])) for r in rows]


RESPONSES_SQL: Final = """
WITH l AS (
  SELECT ts, coalesce(model, 'unknown') AS model, project, skill, agent, session_id,
    coalesce(input_tokens, 0) AS i, coalesce(output_tokens, 0) AS o,
    coalesce(cache_creation_input_tokens, 0) AS cc,
    coalesce(cache_creation_1h_input_tokens, 0) AS c1h,
    coalesce(cache_read_input_tokens, 0) AS cr, cost_usd, event_id,
    coalesce(request_id, message_id, event_id) AS k
  FROM events WHERE event_type = 'llm_request' AND ts >= ? AND ts < ? {session}),
ranked AS (
  SELECT l.*, row_number() OVER (PARTITION BY k
    ORDER BY i + o + cc + cr DESC, cost_usd DESC NULLS LAST, event_id) AS pick FROM l)
SELECT ts, model, project, skill, agent, session_id, i, o, cc, c1h, cr, cost_usd FROM ranked
WHERE pick = 1
ORDER BY ts, k
"""
"""Each LLM response of a time range once (the copy with the most tokens, then the highest
cost, then the smallest event id), oldest first; ``{session}`` is "" or the session and
project filters."""


def llm_responses(
    con: Any,
    lo: datetime,
    hi: datetime,
    *,
    session_id: str | None = None,
    project: str | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of `RESPONSES_SQL` for ``[lo, hi)`` (naive UTC), of one session (and one
    project) or all."""
    params: list[Any] = [lo, hi]
    filters = ""
    for column, value in (("session_id", session_id), ("project", project)):
        if value:
            filters += f" AND {column} = ?"
            params.append(value)
    text = RESPONSES_SQL.format(session=filters)
    return [tuple(r) for r in con.execute(text, params).fetchall()]


def project_clause(project: str | None) -> tuple[str, list[Any]]:
    """The `` AND project = ?`` clause and its parameter, or nothing for every project."""
    return ("", []) if project is None else (" AND project = ?", [project])


def root_causes(con: Any, lo: datetime, hi: datetime, project: str | None = None) -> dict[str, int]:
    """Incidents opened per root cause in ``[lo, hi)`` (naive UTC), of ``project`` if given."""
    only, param = project_clause(project)
    rows = con.execute(
        "SELECT root_cause, count(DISTINCT coalesce(incident_id, event_id)) FROM events "
        "WHERE event_type = 'incident_opened' AND root_cause IS NOT NULL AND ts >= ? AND ts < ?"
        f"{only} GROUP BY 1 ORDER BY 1",
        [lo, hi, *param],
    ).fetchall()
    return {str(cause): int(n) for cause, n in rows}


def skill_version_runs(
    con: Any, before: datetime
) -> list[tuple[str, str, datetime, str, float | None, float | None]]:
    """Every finished skill run with a version before ``before`` (naive UTC), oldest first:
    skill, version, ts, outcome, duration_seconds, context_tokens (what skill experiments
    compare).

    A run's version is its own ``skill_version`` (the SDK, the hook); a run without one, of a
    skill whose SKILL.md changes the git collector recorded (``commit`` events with
    ``skill_version``), gets the version of the last change at or before it, or, before the
    first change, that change's ``previous_skill_version``. Runs with neither are left out.
    """
    rows = con.execute(
        "WITH changes AS (SELECT skill, ts, skill_version AS v, previous_skill_version AS pv "
        "FROM events WHERE event_type = 'commit' AND skill IS NOT NULL "
        "AND skill_version IS NOT NULL AND ts < ?) "
        "SELECT r.skill, coalesce(r.skill_version, "
        "(SELECT c.v FROM changes c WHERE c.skill = r.skill AND c.ts <= r.ts "
        "ORDER BY c.ts DESC LIMIT 1), "
        "(SELECT c.pv FROM changes c WHERE c.skill = r.skill AND c.ts > r.ts "
        "ORDER BY c.ts LIMIT 1)), "
        "r.ts, r.outcome, r.duration_seconds, r.context_tokens FROM events r "
        "WHERE r.event_type = 'skill_execution' AND r.skill IS NOT NULL "
        f"AND r.outcome IN {TERMINALS} AND r.ts < ? "
        "AND (r.skill_version IS NOT NULL OR r.skill IN (SELECT skill FROM changes)) "
        "ORDER BY r.ts, r.event_id",
        [before, before],
    ).fetchall()
    return [
        (
            str(skill),
            str(version),
            ts,
            str(outcome),
            None if duration is None else float(duration),
            None if tokens is None else float(tokens),
        )
        for skill, version, ts, outcome, duration, tokens in rows
        if version is not None
    ]


def task_runs(con: Any, until: datetime | None, project: str | None = None) -> list[SkillRun]:
    """Terminal skill runs with ``folders``, oldest first, before ``until`` (naive UTC), of
    ``project`` when given."""
    only, param = project_clause(project)
    sql = (
        "SELECT skill, ts, outcome, duration_seconds, folders, task_kind FROM events "
        "WHERE event_type = 'skill_execution' AND skill IS NOT NULL AND folders IS NOT NULL "
        f"AND outcome IN {TERMINALS}"
        + ("" if until is None else " AND ts < ?")
        + only
        + " ORDER BY ts, event_id"
    )
    rows = con.execute(sql, [*([] if until is None else [until]), *param]).fetchall()
    return [
        SkillRun(
            skill=str(skill),
            ts=ts,
            outcome=str(outcome),
            duration_seconds=float(duration) if duration is not None else None,
            folders=tuple(f for f in str(folders).split(",") if f),
            task_kind=str(kind) if kind else None,
        )
        for skill, ts, outcome, duration, folders, kind in rows
    ]
