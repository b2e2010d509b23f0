"""The ``query --json`` document: a read-only query's columns and rows as JSON values."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ai_telemetry.documents.types import QueryDocument


def json_value(value: Any) -> Any:
    """One DuckDB value as JSON: timestamps as RFC 3339 UTC (the warehouse stores UTC), dates
    and times as ISO text, intervals as seconds, NaN and infinities as null, decimals, UUIDs
    and anything else as text; lists and structs element by element."""
    from ai_telemetry.documents import utc_text

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return utc_text(value)
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def query_document(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> QueryDocument:
    """The ``query --json`` document (docs/schemas/query.json).

    Rows are arrays in the order of ``columns``, so two columns of one name both survive.
    """
    from ai_telemetry.documents import header

    return {
        **header("query"),
        "columns": list(names),
        "rows": [[json_value(v) for v in row] for row in rows],
        "row_count": len(rows),
    }
