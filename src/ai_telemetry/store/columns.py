"""The warehouse's typed columns, derived from the event contract, and the SQL that reads JSONL.

Every field named in `ai_telemetry.events.schema.EVENT_TYPES` becomes one column of the
``events`` table: numbers and integers as ``DOUBLE``, everything else as ``VARCHAR``. The same
`typed_select_sql` turns a JSONL file into rows of that shape for the ingest and for retention,
so an event gets the same id wherever it is read (the id matters: it is how duplicates between
the log, the warehouse and the Parquet archives are recognised).
"""

from __future__ import annotations

from typing import Final

from ai_telemetry.events import schema
from ai_telemetry.events.schema import COMMON_FIELDS, EVENT_TYPES, Field

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
    counts them as bad lines. Numeric fields come as JSON text (see `typed_select_sql`).
    """
    json_cols = {"timestamp": "VARCHAR", "event_type": "VARCHAR", "event_id": "VARCHAR"}
    json_cols.update({"id": "VARCHAR", "learning_id": "VARCHAR"})
    # Numbers are read as their JSON text, so that "12" (a string) is told from 12; the typed
    # select casts them (`_number_sql`). Strings are read typed (cheaper; see `validity_sql`).
    json_cols.update({n: "JSON" if t == "DOUBLE" else t for n, t in FIELD_TYPES.items()})
    spec = ", ".join(f"{_quote(n)}: '{t}'" for n, t in json_cols.items())
    return (
        f"read_json({path_param}, format='newline_delimited', ignore_errors=true, "
        f"maximum_object_size=16777216, columns={{{spec}}})"
    )


def _fingerprint_sql() -> str:
    """A stable id for an event without ``event_id``: md5 over its named fields."""
    names = ["timestamp", "event_type", "id", "learning_id", *sorted(FIELD_TYPES)]
    parts = ", ".join(f"'{n}=' || CAST({_value_sql(n)} AS VARCHAR)" for n in names)
    return f"'md5:' || md5(concat_ws(chr(31), {parts}))"


def _number_sql(name: str) -> str:
    """A numeric field's value from its JSON text; NULL when the JSON is not a number."""
    return f"TRY_CAST(CAST({_quote(name)} AS VARCHAR) AS DOUBLE)"


def _cast_name(name: str) -> str:
    """The inner select's column holding a numeric field's value (computed once per row)."""
    return _quote(f"__n_{name}")


def _value_sql(name: str) -> str:
    return _cast_name(name) if FIELD_TYPES.get(name) == "DOUBLE" else _quote(name)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _check_sql(field: Field) -> str:
    """``(...)``: SQL that is true when a present value of ``field`` passes `schema._check_value`.

    Generated from the same data on `Field` as the Python validator; a property test
    (tests/store/test_contract_agreement.py) holds the two together.
    """
    return f"({_check_body(field)})"


# The control characters as one SQL string (NUL cannot be written in a literal).
_CONTROLS: Final = (
    "(chr(0) || " + _lit("".join(map(chr, (*range(1, 0x20), *range(0x7F, 0xA0))))) + ")"
)

# Performance: DuckDB evaluates both sides of OR (and AND) for every row, but a CASE branch
# only for the rows that reach it; so every costly test below sits in a CASE, behind a cheap one.


def _check_body(field: Field) -> str:
    q = _quote(field.name)
    kind = field.kind
    redacted = f"regexp_full_match({q}, {_lit(schema.REDACTED_PATTERN)})"
    if kind in ("number", "integer"):
        n = _cast_name(field.name)
        test = f"{n} IS NOT NULL AND isfinite({n}) AND {n} BETWEEN {field.minimum!r} AND "
        test += repr(field.maximum)
        if kind == "integer":
            test += f" AND {n} = trunc({n})"
        return test
    if kind == "enum":
        return f"{q} IN ({', '.join(_lit(c) for c in field.choices)})"
    if kind == "hash":
        return f"regexp_full_match({q}, '[0-9a-fA-F]{{7,64}}')"
    if kind == "name":
        reserved = ", ".join(_lit(r) for r in schema.RESERVED_NAMES)
        return (
            f"CASE WHEN regexp_full_match({q}, {_lit(field.pattern)}) THEN {q} NOT IN ({reserved}) "
            f"WHEN ascii({q}) = 91 THEN {redacted} ELSE false END"
        )
    if kind in ("id", "text"):
        # Fast and sufficient: ASCII (no C1 control), nothing to_json escapes (no C0
        # control), no DEL. The rare rest (non-ASCII, a quote, a backslash) is decided by
        # removing every control character and comparing; length() counts code points.
        plain = (
            f"strlen(to_json({q})) = strlen({q}) + 2 AND strlen({q}) = length({q}) "
            f"AND NOT contains({q}, chr(127))"
        )
        return (
            f"CASE WHEN ascii({q}) = 91 THEN {redacted} WHEN ascii({q}) = 123 THEN false "
            f"WHEN strlen({q}) = 0 OR length({q}) > {field.max_length} THEN false "
            f"WHEN {plain} THEN true ELSE translate({q}, {_CONTROLS}, '') = {q} END"
        )
    raise NotImplementedError(f"no SQL check for fields of kind {kind!r}")  # pragma: no cover


_COPY_LIMIT: Final = 600
"""Characters of SQL a check may add by being copied into the type branches."""


def _field_validity(name: str, default: str | None) -> str:
    """The check of one field across event types: one branch per distinct check."""
    by_check: dict[str, list[str]] = {}
    for type_name, fields in schema.FIELDS_BY_TYPE.items():
        if (f := fields.get(name)) is not None and (check := _check_sql(f)) != default:
            by_check.setdefault(check, []).append(type_name)
    branches = " ".join(
        f"WHEN event_type IN ({', '.join(_lit(t) for t in types)}) THEN {check}"
        for check, types in by_check.items()
    )
    tail = default if default is not None else "true"
    return f"(CASE WHEN {_quote(name)} IS NULL THEN true {branches} ELSE {tail} END)"


def _validity_by_type() -> str:
    """Every field's check (`_check_sql`) and the required fields, dispatched on the type.

    A check that is the same for every type (a common field's) is applied to every row; the
    rest sit in one ``CASE`` branch per event type, holding only the checks that type has,
    so a row pays for its own type's fields (most fields are checked for a few types only,
    and a ``CASE`` per field, even one that finds it NULL, cost every row). A long check
    that many types share keeps its own ``CASE`` over the types instead
    (`_field_validity`): copied into each branch, it would add more planning time per
    statement (~4 ms per KB of SQL) than it saves.
    """
    names = ("event_id", "id", "learning_id", *sorted(FIELD_TYPES))
    common = {f.name: _check_sql(f) for f in COMMON_FIELDS if f.name != "timestamp"}
    shared: list[str] = []
    varying: list[str] = []
    per_field: list[str] = []
    for name in names:
        checks = [_check_sql(f) for t in schema.FIELDS_BY_TYPE.values() if (f := t.get(name))]
        if not checks:
            continue
        if name in common and set(checks) == {common[name]}:
            shared.append(name)
        elif sum(map(len, checks)) - sum(map(len, set(checks))) > _COPY_LIMIT:
            per_field.append(name)
        else:
            varying.append(name)

    def present(name: str, check: str) -> str:
        return f"(CASE WHEN {_quote(name)} IS NULL THEN true ELSE {check} END)"

    parts = [present(n, common[n]) for n in shared]
    parts += [_field_validity(n, common.get(n)) for n in per_field]
    branches = []
    for spec in EVENT_TYPES.values():
        fields = schema.FIELDS_BY_TYPE[spec.name]
        tests = [present(n, _check_sql(fields[n])) for n in varying if n in fields]
        tests += [f"{_quote(n)} IS NOT NULL" for n in spec.required]
        if spec.name.startswith("learning_"):
            tests.append("coalesce(id, learning_id) IS NOT NULL")
        if tests:
            branches.append(f"WHEN event_type = {_lit(spec.name)} THEN {' AND '.join(tests)}")
    unknown = [present(n, common[n]) for n in varying if n in common]
    unknown.append(_check_sql(next(f for f in COMMON_FIELDS if f.name == "event_type")))
    known = ", ".join(_lit(t) for t in EVENT_TYPES)
    parts.append(
        f"(CASE {' '.join(branches)} WHEN event_type IN ({known}) THEN true "
        f"ELSE {' AND '.join(unknown)} END)"
    )
    return " AND ".join(parts)


def _ts_sql() -> str:
    # The common "...Z" form casts straight to TIMESTAMP (40% cheaper); an explicit offset
    # must go through TIMESTAMPTZ, which TIMESTAMP would silently ignore.
    return (
        'coalesce(CASE WHEN suffix("timestamp", \'Z\') THEN try_cast("timestamp" AS TIMESTAMP) '
        "END, CAST(timezone('UTC', try_cast(\"timestamp\" AS TIMESTAMPTZ)) AS TIMESTAMP))"
    )


_STATIC_VALIDITY: Final = " AND ".join(
    [
        "event_type IS NOT NULL",
        f'regexp_full_match("timestamp", {_lit(schema.TIMESTAMP_PATTERN)})',
        _validity_by_type(),
    ]
)


def validity_sql(*, now: float | None = None) -> str:
    """True when a row of `read_json_sql` is a valid event, exactly as `validate_event` says.

    Everything but the clock is generated once from the contract's data (`Field` kinds,
    bounds, patterns, required fields); ``__ts`` is the parsed timestamp, checked against
    the contract's range and `schema.future_limit` (``now`` plus the allowed skew).

    What SQL cannot see is documented in docs/log.md: DuckDB's JSON reader accepts a few
    lines that are not JSON (NaN or a trailing comma in a field outside the contract,
    duplicate keys, nesting deeper than 1,024), which `ai-telemetry validate` refuses.
    """
    limit = schema.future_limit(now)
    lo, hi = schema.TIMESTAMP_MIN[:19], schema.TIMESTAMP_MAX[:19]
    clock = (
        f"__ts >= TIMESTAMP '{lo}' AND __ts < TIMESTAMP '{hi}' "
        f"AND __ts < TIMESTAMP '{limit}' + INTERVAL 1 SECOND"
    )
    return f"coalesce({_STATIC_VALIDITY} AND {clock}, false)"


def typed_select_sql(
    source: str,
    *,
    extra: tuple[str, ...] = (),
    names: tuple[str, ...] = COLUMN_NAMES,
    fingerprint: bool = True,
    now: float | None = None,
    where: str | None = None,
) -> str:
    """``SELECT`` the events columns from a source (filter with `ok_filter_sql`).

    ``extra`` names further columns of the source to pass through (``ordinality`` of a
    ``read_json(...) WITH ORDINALITY``: the line's place in the file). ``ok`` (see
    `ok_filter_sql`) is false for a line that is not a valid event by the contract
    (`validity_sql`: the same checks as `ai_telemetry.events.schema.validate_event`): such a
    row comes out with ``ts`` NULL, so it is counted and dropped.

    ``names`` selects only some columns (DuckDB then extracts only those fields from the
    JSON, plus the ones validity reads). ``fingerprint=False`` leaves ``event_id`` NULL for
    an event without one instead of deriving it from every field; the caller fills those in
    a second read of only such lines.

    ``where`` keeps only the source rows it holds for, plus every row that is not a valid
    event (so the caller still counts those): SQL over the source's fields, with ``__ts``
    the parsed timestamp. It is applied before the typed columns are computed, and the
    validity check runs only for the rows it rejects, so each row is checked once (a filter
    over ``ts`` above this select would repeat the whole check for every mention: DuckDB
    inlines the column's expression into the filter).
    """
    exprs = {
        "event_id": f"coalesce(event_id, {_fingerprint_sql()})" if fingerprint else "event_id",
        "ts": f"CASE WHEN {validity_sql(now=now)} THEN __ts END",
        "event_type": "event_type",
        "learning_id": "coalesce(id, learning_id)",
    }
    cols = [f"{exprs.get(n, _value_sql(n))} AS {_quote(n)}" for n in names]
    cols += [_quote(n) for n in extra]
    casts = "".join(
        f", {_number_sql(n)} AS {_cast_name(n)}" for n, t in FIELD_TYPES.items() if t == "DOUBLE"
    )
    keep = ""
    if where is not None:
        keep = f" WHERE CASE WHEN ({where}) THEN true ELSE NOT {validity_sql(now=now)} END"
    inner = f"SELECT *, {_ts_sql()} AS __ts{casts} FROM {source}{keep}"
    return f"SELECT {', '.join(cols)} FROM ({inner})"


def ok_filter_sql() -> str:
    """Condition that keeps usable rows of `typed_select_sql` (valid events: ``ts`` is set)."""
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


def project_views_sql(project: str, events: str, *, views: bool) -> list[str]:
    """Temporary views that show ``query`` only ``project``'s events: ``events`` over the
    relation ``events`` (qualified, e.g. ``"warehouse".main.events``), then, with ``views``,
    every documented view again over it (PostgreSQL binds a view to its table when created;
    DuckDB re-binds by name, so the temporary ``events`` alone is enough there)."""
    literal = "'" + project.replace("'", "''") + "'"
    out = [f"CREATE TEMP VIEW events AS SELECT * FROM {events} WHERE project = {literal}"]
    if views:
        out += [
            view_sql(v, t).replace("CREATE OR REPLACE VIEW", "CREATE TEMP VIEW", 1)
            for v, t in VIEWS.items()
        ]
    return out


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
