"""The warehouse's typed columns, derived from the event contract, and the SQL that reads JSONL.

Every field named in `ai_telemetry.events.schema.EVENT_TYPES` becomes one column of the
``events`` table: numbers and integers as ``DOUBLE``, everything else as ``VARCHAR``. The same
`typed_select_sql` turns a JSONL file into rows of that shape for the ingest and for retention,
so an event gets the same id wherever it is read (the id matters: it is how duplicates between
the log, the warehouse and the Parquet archives are recognised).
"""

from __future__ import annotations

from typing import Final

from ai_telemetry.events.schema import COMMON_FIELDS, EVENT_TYPES

_NUMERIC_KINDS: Final = frozenset({"number", "integer"})


def _collect_fields() -> dict[str, str]:
    kinds: dict[str, set[str]] = {}
    for f in COMMON_FIELDS:
        kinds.setdefault(f.name, set()).add(f.kind)
    for spec in EVENT_TYPES.values():
        for f in spec.fields:
            kinds.setdefault(f.name, set()).add(f.kind)
    out: dict[str, str] = {}
    for name, found in kinds.items():
        if name in ("timestamp", "event_type", "event_id"):
            continue
        out[name] = "DOUBLE" if found <= _NUMERIC_KINDS else "VARCHAR"
    out.pop("learning_id", None)  # merged into learning_id below, from "id" or "learning_id"
    out.pop("id", None)
    return out


FIELD_TYPES: Final[dict[str, str]] = _collect_fields()
"""JSON field -> DuckDB type, for every field beyond timestamp, event_type and event_id."""

EVENT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("event_id", "VARCHAR"),
    ("ts", "TIMESTAMP"),
    ("event_type", "VARCHAR"),
    ("learning_id", "VARCHAR"),
    *sorted(FIELD_TYPES.items()),
)
"""The ``events`` table's columns, in order (``ts`` is the UTC timestamp, without a zone)."""

COLUMN_NAMES: Final = tuple(name for name, _ in EVENT_COLUMNS)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_events_table_sql(table: str = "events", names: tuple[str, ...] = COLUMN_NAMES) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for the events table (plus ``seq``, the ingest batch).

    ``names`` keeps only some columns (a lean table for one computation, see
    `ai_telemetry.store.warehouse.Warehouse`).
    """
    cols = ", ".join(f"{_quote(n)} {t}" for n, t in EVENT_COLUMNS if n in names)
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols}, seq BIGINT)"


def read_json_sql(path_param: str = "?") -> str:
    """``read_json`` over one JSONL file with every contract field as a typed column.

    Lines that are not JSON objects come back as rows of NULLs (``ignore_errors``); the caller
    counts them as bad lines.
    """
    json_cols = {"timestamp": "VARCHAR", "event_type": "VARCHAR", "event_id": "VARCHAR"}
    json_cols.update({"id": "VARCHAR", "learning_id": "VARCHAR"})
    json_cols.update(FIELD_TYPES)
    spec = ", ".join(f"{_quote(n)}: '{t}'" for n, t in json_cols.items())
    return (
        f"read_json({path_param}, format='newline_delimited', ignore_errors=true, "
        f"maximum_object_size=16777216, columns={{{spec}}})"
    )


def _fingerprint_sql() -> str:
    """A stable id for an event without ``event_id``: md5 over its named fields."""
    names = ["timestamp", "event_type", "id", "learning_id", *sorted(FIELD_TYPES)]
    parts = ", ".join(f"'{n}=' || CAST({_quote(n)} AS VARCHAR)" for n in names)
    return f"'md5:' || md5(concat_ws(chr(31), {parts}))"


def typed_select_sql(
    source: str,
    *,
    extra: tuple[str, ...] = (),
    names: tuple[str, ...] = COLUMN_NAMES,
    fingerprint: bool = True,
) -> str:
    """``SELECT`` the events columns from a source (filter with `ok_filter_sql`).

    ``extra`` names further columns of the source to pass through (``ordinality`` of a
    ``read_json(...) WITH ORDINALITY``: the line's place in the file). ``ok`` (see
    `ok_filter_sql`) is false for a line that is not usable: not a JSON object, no
    ``event_type``, or a timestamp that does not parse. A timestamp without an offset is read
    as UTC (the seed's own ``log_session.py`` writes those).

    ``names`` selects only some columns (DuckDB then extracts only those fields from the
    JSON: the cost of a read grows with the fields extracted). ``fingerprint=False`` leaves
    ``event_id`` NULL for an event without one instead of deriving it from every field (which
    would extract them all); the caller fills those in a second read of only such lines.
    """
    # The common "...Z" form casts straight to TIMESTAMP (40% cheaper); an explicit offset
    # must go through TIMESTAMPTZ, which TIMESTAMP would silently ignore.
    ts = (
        'coalesce(CASE WHEN suffix("timestamp", \'Z\') THEN try_cast("timestamp" AS TIMESTAMP) '
        "END, CAST(timezone('UTC', try_cast(\"timestamp\" AS TIMESTAMPTZ)) AS TIMESTAMP))"
    )
    exprs = {
        "event_id": f"coalesce(event_id, {_fingerprint_sql()})" if fingerprint else "event_id",
        "ts": ts,
        "event_type": "event_type",
        "learning_id": "coalesce(id, learning_id)",
    }
    cols = [f"{exprs.get(n, _quote(n))} AS {_quote(n)}" for n in names]
    cols += [_quote(n) for n in extra]
    return f"SELECT {', '.join(cols)} FROM {source}"


def ok_filter_sql() -> str:
    """Condition that keeps usable rows of `typed_select_sql`."""
    return "ts IS NOT NULL AND event_type IS NOT NULL AND event_type <> ''"


VIEWS: Final[dict[str, str]] = {
    "skill_executions": "skill_execution",
    "agent_tasks": "agent_task",
    "tool_calls": "tool_call",
    "tool_call_limits": "tool_call_limit_reached",
    "skill_loads": "skill_load",
    "session_starts": "session_start",
    "session_ends": "session_end",
    "context_snapshots": "context_snapshot",
    "llm_requests": "llm_request",
    "learnings_created": "learning_created",
    "learnings_implemented": "learning_implemented",
    "test_runs": "test_run",
    "test_coverages": "test_coverage",
    "lint_reports": "lint_report",
    "type_coverages": "type_coverage",
    "doc_coverages": "doc_coverage",
    "security_scans": "security_scan",
    "ci_builds": "ci_build",
    "incidents_opened": "incident_opened",
    "incidents_resolved": "incident_resolved",
    "commits": "commit",
}
"""View name -> event type: the documented tables of ``ai-telemetry query``."""


def view_sql(view: str, event_type: str) -> str:
    """``CREATE OR REPLACE VIEW`` with the common columns and the type's own fields."""
    common = ["event_id", "ts", "event_type", "source", "project", "session_id", "task_id"]
    own = [f.name for f in EVENT_TYPES[event_type].fields if f.name in FIELD_TYPES]
    if event_type.startswith("learning_"):
        own = ["learning_id", *own]
    cols = ", ".join(_quote(c) for c in dict.fromkeys([*common, *own]))
    return (
        f"CREATE OR REPLACE VIEW {view} AS SELECT {cols} FROM events "
        f"WHERE event_type = '{event_type}'"
    )
