"""The metric catalogue of METRICS.md over the warehouse, and ``metrics.json``.

`compute_metrics` returns the document that ``ai-telemetry aggregate`` writes::

    {"schema_version": "1.0", "generated_at": ..., "window": {"start", "end"}, "project": ...,
     "events": {"total", "by_type", "by_project", "bad_lines"},
     "metrics": {<every metric under its own name>},
     "skill_metrics": {...}, "learning_metrics": {...}, "test_metrics": {...}}

The last three are the seed's own shape (a compatibility view). A metric with no input in the
window is ``null``. Results are cached in the warehouse per window and ingest generation, so a
second run with nothing new reads nothing but the cache.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

from ai_telemetry.analyze import executions
from ai_telemetry.analyze.executions import PERCENTILES, _keyed, _pct, _rate
from ai_telemetry.analyze.window import Window, parse_moment
from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError, NoDataError
from ai_telemetry.log.files import open_file
from ai_telemetry.store.warehouse import Warehouse

SCHEMA_VERSION: Final = "1.0"
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


_COPY_MARGIN: Final = timedelta(days=1)  # rows kept around a window, see catalogue_rows_sql


def catalogue_range(window: Window) -> tuple[datetime, datetime]:
    """The time range (naive UTC) of the events `catalogue` reads for ``window``: from the
    pairing margin before the window (and its trailing 7 days of rates) to the margin after."""
    start, end = window.naive()
    return min(start, end - timedelta(days=7)) - executions.PAIRING_MARGIN, (
        end + executions.PAIRING_MARGIN
    )


def catalogue_rows_sql(window: Window) -> str:
    """SQL condition over ``events`` for the rows `catalogue` reads for ``window``.

    The events of the window and a day around it (so that a later copy of an event whose
    timestamp moved a little still replaces it); those the executions pair across
    `catalogue_range` (skill executions, agent tasks, and the tool calls of a task, counted
    per task); and every event of the types whose metrics look further back. A lean warehouse
    that serves one window stores only these.
    """

    def between(lo: datetime, hi: datetime) -> str:
        lo_sql, hi_sql = lo.isoformat(sep=" "), hi.isoformat(sep=" ")
        return f"ts >= TIMESTAMP '{lo_sql}' AND ts < TIMESTAMP '{hi_sql}'"

    paired = (
        "event_type IN ('skill_execution', 'agent_task') "
        "OR (event_type = 'tool_call' AND task_id IS NOT NULL)"
    )
    types = ", ".join(f"'{t}'" for t in _ALL_TIME_TYPES)
    start, end = window.naive()
    near = between(start - _COPY_MARGIN, end + _COPY_MARGIN)
    return (
        f"({near}) OR (({paired}) AND {between(*catalogue_range(window))}) "
        f"OR event_type IN ({types})"
    )


def log_time_span(path: Path) -> tuple[datetime, datetime] | None:
    """The timestamps (naive UTC) of the first and the last complete line of a log, read from
    its first and last 64 KiB; None when they cannot be read."""
    block = 65536
    try:
        with path.open("rb") as fh:
            head = fh.read(block).split(b"\n", 1)[0]
            fh.seek(max(os.fstat(fh.fileno()).st_size - block, 0))
            tail = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        moments = [orjson.loads(line)["timestamp"] for line in (head, tail)]
        first, last = (parse_moment(x).replace(tzinfo=None) for x in moments)
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, AttributeError, AnalyticsError):
        return None
    return first, last


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


def learning_metrics(con: Any, start: datetime, end: datetime, weeks: float) -> dict[str, Any]:
    """Learning capture: totals up to the window's end, rate of implementation, breakdowns."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE learn AS SELECT learning_id, min(ts) AS created, "
        "arg_min(severity, ts) AS severity, arg_min(source, ts) AS source FROM ev "
        "WHERE event_type = 'learning_created' AND learning_id IS NOT NULL AND ts < ? "
        "GROUP BY learning_id",
        [end],
    )
    total, in_window = _one(
        con, "SELECT count(*), count(*) FILTER (created >= ?) FROM learn", [start]
    )
    impl = _one(
        con,
        "WITH i AS (SELECT learning_id, min(ts) AS done FROM ev WHERE event_type = "
        "'learning_implemented' AND learning_id IS NOT NULL AND ts < ? GROUP BY learning_id) "
        "SELECT count(*), quantile_cont(epoch(done - created) / 86400.0, "
        f"{PERCENTILES}) FROM learn JOIN i USING (learning_id)",
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


def incident_metrics(con: Any, start: datetime, end: datetime, weeks: float) -> dict[str, Any]:
    """Incidents, and the test failure rate."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE opened AS SELECT incident_id, min(ts) AS ts, "
        "arg_min(severity, ts) AS severity, arg_min(root_cause, ts) AS root_cause FROM ev "
        "WHERE event_type = 'incident_opened' AND ts < ? GROUP BY incident_id",
        [end],
    )
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
        f"SELECT quantile_cont(epoch(r.ts - o.ts), {PERCENTILES}) FROM ("
        "SELECT incident_id, min(ts) AS ts FROM ev WHERE event_type = 'incident_resolved' "
        "GROUP BY incident_id) r JOIN opened o USING (incident_id) WHERE r.ts >= ? AND r.ts < ?",
        [start, end],
    )[0]
    builds = _one(
        con,
        "SELECT count(*), count(*) FILTER (outcome = 'failed') FROM ev "
        "WHERE event_type = 'ci_build' AND outcome IN ('passed', 'failed') AND ts >= ? AND ts < ?",
        [start, end],
    )
    if not builds[0]:
        builds = _one(
            con,
            "SELECT count(*), count(*) FILTER (outcome = 'failed') FROM ev "
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


def _model_windows(settings: Settings) -> list[tuple[str, float]]:
    models = settings.extra.get("models", {})
    out: list[tuple[str, float]] = []
    if isinstance(models, Mapping):
        for name, conf in models.items():
            if isinstance(conf, Mapping) and isinstance(conf.get("context_window"), int | float):
                out.append((str(name), float(conf["context_window"])))
    return out


def context_metrics(con: Any, start: datetime, end: datetime, settings: Settings) -> dict[str, Any]:
    """Context and resources: utilisation, limits hit, sessions, skill loads, MCP latency."""
    con.execute("CREATE OR REPLACE TEMP TABLE model_windows (model VARCHAR, size DOUBLE)")
    for model, size in _model_windows(settings):
        con.execute("INSERT INTO model_windows VALUES (?, ?)", [model, size])
    util = _one(
        con,
        f"SELECT quantile_cont(e.context_tokens / coalesce(e.context_window, m.size, "
        f"{DEFAULT_CONTEXT_WINDOW}), {PERCENTILES}) FROM ev e LEFT JOIN model_windows m "
        "ON e.model = m.model WHERE e.event_type = 'context_snapshot' "
        "AND e.context_tokens IS NOT NULL AND e.ts >= ? AND e.ts < ?",
        [start, end],
    )[0]
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
        SELECT quantile_cont(coalesce(e.duration_seconds, epoch(e.ts - s.ts)) / 60.0,
          {PERCENTILES}) FROM ev e LEFT JOIN s USING (session_id)
        WHERE e.event_type = 'session_end' AND e.ts >= ? AND e.ts < ?""",
        [start, end],
    )[0]
    loads = _one(
        con,
        f"SELECT quantile_cont(duration_seconds, {PERCENTILES}) FROM ev "
        "WHERE event_type = 'skill_load' AND ts >= ? AND ts < ?",
        [start, end],
    )[0]
    mcp = _one(
        con,
        f"SELECT quantile_cont(duration_seconds, {PERCENTILES}) FROM ev "
        "WHERE event_type = 'tool_call' AND (mcp_server IS NOT NULL OR tool LIKE 'mcp\\_\\_%' "
        "ESCAPE '\\') AND ts >= ? AND ts < ?",
        [start, end],
    )[0]
    tools = con.execute(
        "SELECT tool, count(*), count(*) FILTER (outcome = 'error') FROM ev "
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


def token_metrics(con: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """Tokens and cost from ``llm_request``; a response seen several times counts once.

    A response is known by its request id (else message id, else event id). Of one seen
    several times the copy with the most tokens counts (then the highest cost, then the
    smallest event id); the rest, nearly all, are kept without ranking them (a third cheaper
    at 10M events than ranking every response).
    """
    cols = "model, skill, agent, i, o, cc, cr, cost_usd"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE llm AS "
        "WITH l AS (SELECT coalesce(model, 'unknown') AS model, skill, agent, "
        "coalesce(input_tokens, 0) AS i, coalesce(output_tokens, 0) AS o, "
        "coalesce(cache_creation_input_tokens, 0) AS cc, "
        "coalesce(cache_read_input_tokens, 0) AS cr, cost_usd, event_id, "
        "coalesce(request_id, message_id, event_id) AS k FROM ev "
        "WHERE event_type = 'llm_request' AND ts >= ? AND ts < ?), "
        "seen AS (SELECT k, count(*) AS n FROM l GROUP BY k) "
        f"SELECT {cols} FROM l JOIN seen USING (k) WHERE n = 1 "
        f"UNION ALL SELECT {cols} FROM l JOIN seen USING (k) WHERE n > 1 "
        "QUALIFY row_number() OVER (PARTITION BY k "
        "ORDER BY i + o + cc + cr DESC, cost_usd DESC NULLS LAST, event_id) = 1",
        [start, end],
    )
    out: dict[str, Any] = {}
    for dim, suffix in (("model", ""), ("skill", "_by_skill"), ("agent", "_by_agent")):
        rows = con.execute(
            f"SELECT {dim}, count(*), sum(i), sum(o), sum(cc), sum(cr), sum(cost_usd) FROM llm "
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


def compat_view(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The seed's ``skill_metrics`` / ``learning_metrics`` / ``test_metrics`` from the catalogue."""
    skills: dict[str, Any] = {}
    tokens = metrics.get("skill_context_tokens") or {}
    for skill, n in (metrics.get("skill_invocation_total") or {}).items():
        skills[skill] = {
            "invocations": n,
            "success_rate": (metrics.get("skill_success_rate") or {}).get(skill),
            "avg_duration_seconds": (metrics.get("skill_avg_duration_seconds") or {}).get(skill),
            "avg_context_tokens": (tokens.get(skill) or {}).get("mean"),
        }
    return {
        "skill_metrics": skills,
        "learning_metrics": {
            "total_entries": metrics.get("learning_entries_total") or 0,
            "severity_breakdown": metrics.get("learning_severity_breakdown") or {},
            "source_breakdown": metrics.get("learning_source_breakdown") or {},
        },
        "test_metrics": {
            "coverage_percent": metrics.get("test_coverage_percent"),
            "delta_percent": metrics.get("test_coverage_delta"),
        },
    }


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


_SIDE_BY_SIDE_MAX_ROWS: Final = 3_000_000


def catalogue(wh: Warehouse, window: Window, *, project: str | None = None) -> dict[str, Any]:
    """Every metric of the catalogue for ``window`` from an open, ingested warehouse.

    Two groups of queries run side by side, each on its own cursor (its own ``ev`` view and
    temporary tables): the executions (the pairing's window functions), and everything else
    (many small scans, where one cursor would mostly wait on per-query overhead). Over more
    than `_SIDE_BY_SIDE_MAX_ROWS` events they run one after the other: both would then sort
    millions of rows at once under DuckDB's memory limit and spill (a year of 10M events:
    3.7 s in turn, 4.9 s side by side; a year of 1M: 0.53 s in turn, 0.49 s side by side).

    Returns:
        ``{"events": {...}, "metrics": {...}}`` (no caching, no compatibility view).
    """
    from concurrent.futures import ThreadPoolExecutor

    import duckdb

    ev = "CREATE OR REPLACE TEMP VIEW ev AS SELECT * FROM events"
    if project is not None:
        ev += " WHERE project = '" + project.replace("'", "''") + "'"
    start, end = window.naive()

    def executions_group(con: Any) -> dict[str, Any]:
        return {
            **executions.skill_metrics(con, start, end),
            **executions.agent_metrics(con, start, end),
        }

    def other_group(con: Any) -> dict[str, Any]:
        return {
            **learning_metrics(con, start, end, window.weeks),
            **quality_metrics(con, start, end),
            **incident_metrics(con, start, end, window.weeks),
            **context_metrics(con, start, end, wh.settings),
            **token_metrics(con, start, end),
            "events": _event_counts(con, start, end),
        }

    def run(group: Any) -> dict[str, Any]:
        with wh.con.cursor() as con:
            con.execute(ev)
            out: dict[str, Any] = group(con)
            return out

    try:
        lo, hi = catalogue_range(window)
        rows = wh.con.execute(
            "SELECT count(*) FROM events WHERE ts >= ? AND ts < ?", [lo, hi]
        ).fetchone()
        if rows is not None and rows[0] > _SIDE_BY_SIDE_MAX_ROWS:
            first, second = run(executions_group), run(other_group)
        else:
            with ThreadPoolExecutor(max_workers=2) as pool:
                first, second = pool.map(run, (executions_group, other_group))
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise AnalyticsError(
            f"{wh.path}: a metric query failed ({message}); delete the warehouse file to "
            "rebuild it, and report this if it happens again"
        ) from None
    counts = second.pop("events")
    return {"events": counts, "metrics": _round({**first, **second})}


def _cache_get(wh: Warehouse, key: str) -> dict[str, Any] | None:
    wh.con.execute(
        "CREATE TABLE IF NOT EXISTS metric_cache (key VARCHAR PRIMARY KEY, generation BIGINT, "
        "body VARCHAR)"
    )
    row = wh.con.execute(
        "SELECT body FROM metric_cache WHERE key = ? AND generation = ?", [key, wh.generation]
    ).fetchone()
    return orjson.loads(row[0]) if row else None


def _cache_put(wh: Warehouse, key: str, body: dict[str, Any]) -> None:
    wh.con.execute(
        "INSERT OR REPLACE INTO metric_cache VALUES (?, ?, ?)",
        [key, wh.generation, orjson.dumps(body).decode()],
    )


def cached_catalogue(
    wh: Warehouse, window: Window, *, project: str | None = None
) -> dict[str, Any]:
    """`catalogue`, kept per window, project, model windows and ingest generation.

    The weekly history and ``metrics.json`` share it: a cold ``aggregate`` of the last complete
    week computes that week once, not once for the history and again for the document.
    """
    w = window.as_dict()
    key = f"{w['start']}|{w['end']}|{project or ''}|{_model_windows(wh.settings)}"
    body = _cache_get(wh, key)
    if body is None:
        body = catalogue(wh, window, project=project)
        _cache_put(wh, key, body)
    return body


def metrics_document(
    wh: Warehouse,
    window: Window,
    *,
    project: str | None = None,
    allow_empty: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``metrics.json`` document for ``window`` from an open, ingested warehouse.

    Raises:
        NoDataError: the window holds no events (unless ``allow_empty``).
    """
    w = window.as_dict()
    body = cached_catalogue(wh, window, project=project)
    if not body["events"]["total"] and not allow_empty:
        where = f" of project {project!r}" if project else ""
        raise NoDataError(
            f"no events{where} between {w['start']} and {w['end']} in {wh.settings.log_path} "
            "or its archives; widen --start/--end or point --input at the right log"
        )
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window": window.as_dict(),
        "project": project,
        "events": {**body["events"], "bad_lines": wh.bad_lines()},
        "metrics": body["metrics"],
    }
    doc.update(compat_view(body["metrics"]))
    return doc


def compute_metrics(
    window: Window,
    *,
    settings: Settings,
    project: str | None = None,
    allow_empty: bool = False,
    progress: bool | None = None,
    now: datetime | None = None,
    from_log: bool = False,
) -> dict[str, Any]:
    """Ingest what is new, then compute the ``metrics.json`` document for ``window``.

    Args:
        window: the time window.
        settings: where the log, archives and warehouse are.
        project: only events of this project.
        allow_empty: return a document of nulls instead of raising for an empty window.
        progress: show a progress bar while ingesting (default: when stderr is a terminal).
        now: the clock, for ``generated_at``.
        from_log: straight from the log and the archives, without the warehouse: only the
            fields the catalogue reads (`CATALOGUE_COLUMNS`) of the events it reads for
            ``window`` (`catalogue_rows_sql`) go into a throwaway in-memory table, with the
            warehouse's de-duplication and bad-line counting. The same document, from one
            read of the JSON, nothing written: what a first ``aggregate`` over a large log
            does.

    Raises:
        NoDataError: the window holds no events.
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    if from_log:
        from ai_telemetry.store.retention import manifest_path

        where: str | None = catalogue_rows_sql(window)
        span = log_time_span(settings.log_path)
        start, end = window.naive()
        whole = (
            span is not None and start - _COPY_MARGIN <= span[0] and span[1] < end + _COPY_MARGIN
        )
        if whole and not manifest_path(settings).exists():
            where = None  # the window spans the whole log, and nothing is archived: keep all
        wh = Warehouse(
            settings,
            path=":memory:",
            progress=progress,
            columns=CATALOGUE_COLUMNS,
            where=where,
        )
    else:
        wh = Warehouse(settings, progress=progress)
    with wh:
        wh.ingest()
        return metrics_document(wh, window, project=project, allow_empty=allow_empty, now=now)


def write_metrics_json(document: Mapping[str, Any], path: Path) -> None:
    """Write the document atomically (temp file, fsync, rename).

    Raises:
        AnalyticsError: the file cannot be written.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_file(tmp, "wb") as fh:
            fh.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        raise AnalyticsError(f"{path}: cannot write metrics ({exc.strerror or exc})") from None


def default_window(now: datetime | None = None) -> Window:
    """The seed's default: the 7 days ending now."""
    return Window.last_days(7, now=now)


__all__ = [
    "SCHEMA_VERSION",
    "compat_view",
    "compute_metrics",
    "default_window",
    "metrics_document",
    "write_metrics_json",
]
