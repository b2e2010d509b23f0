"""The JSON documents of the read commands: one contract for the CLI, the server and MCP.

Every read command (``status``, ``top``, ``review learnings``, ``doctor``, ...) has a text form
for people and a ``--json`` form for programs. Both render one report object of the library;
the JSON form is a *document* built here or next to the report (``to_document()`` /
``*_document()``), typed by a `TypedDict` in `ai_telemetry.documents.types`. The JSON Schema of
each document is generated from that `TypedDict` (`ai_telemetry.documents.jsonschema`) and
checked in as ``docs/schemas/<command>.json``.

Every document starts with ``schema_version`` (an integer, bumped on any change a reader could
trip over: a field removed, renamed or retyped; adding a field is not such a change) and
``command`` (the command path, ``"review learnings"``). An error is the document
``{"schema_version": 1, "command": ..., "error": "one line"}`` with a non-zero exit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ai_telemetry.documents.types import Document, ErrorDocument

VERSIONS: Final[Mapping[str, int]] = {
    "aggregate": 1,
    "audit skills": 1,
    "compare skill": 2,
    "detect": 1,
    "doctor": 1,
    "gate": 1,
    "import claude-code": 1,
    "propose fix": 1,
    "projects": 1,
    "propose skills": 1,
    "query": 1,
    "recommend": 1,
    "retention apply": 1,
    "review learnings": 1,
    "spc": 1,
    "status": 2,
    "top": 1,
    "statusline": 1,
    "trend": 1,
    "usage blocks": 1,
    "usage daily": 1,
    "usage monthly": 1,
    "usage session": 1,
    "usage weekly": 1,
    "validate": 1,
    "error": 1,
}
"""Command path -> the version of its document (``schema_version``)."""


def header(command: str) -> Document:
    """The two fields every document opens with."""
    return {"schema_version": VERSIONS[command], "command": command}


def error_document(message: str, *, command: str | None = None) -> ErrorDocument:
    """The document an error prints in ``--json`` mode: ``{"error": "..."}`` and its version."""
    return {"schema_version": VERSIONS["error"], "command": command, "error": message}


def utc_text(moment: datetime | date | None) -> str | None:
    """A moment as RFC 3339 UTC with ``Z`` (a naive datetime is taken as UTC); a date as ISO."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def finite(value: float | None) -> float | None:
    """``value`` as a float, or None when it is missing, NaN or infinite (JSON has neither)."""
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return None
    return float(value)


def dumps(document: Mapping[str, Any]) -> str:
    """One document as indented JSON text (UTF-8, keys in the builder's order)."""
    import orjson

    return orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str).decode()


__all__ = ["VERSIONS", "dumps", "error_document", "finite", "header", "utc_text"]
