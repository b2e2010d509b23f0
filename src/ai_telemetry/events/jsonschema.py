"""The event contract as JSON Schema (``ai-telemetry schema``) and as Markdown (docs/events.md).

Both are rendered from the table in `ai_telemetry.events.schema`, so they cannot drift from
what the validator and the privacy guard enforce.
"""

from __future__ import annotations

from typing import Any

from ai_telemetry.events import schema as contract
from ai_telemetry.events.schema import COMMON_FIELDS, EVENT_TYPES, EventType, Field

SCHEMA_ID = "https://ai-telemetry.dev/schema/event.json"

_RFC3339_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


def _field_schema(field: Field) -> dict[str, Any]:
    schema: dict[str, Any]
    if field.kind == "enum":
        schema = {"type": "string", "enum": list(field.choices)}
    elif field.kind == "number":
        schema = {"type": "number"}
    elif field.kind == "integer":
        schema = {"type": "integer"}
    elif field.kind == "boolean":
        schema = {"type": "boolean"}
    elif field.kind == "timestamp":
        schema = {"type": "string", "format": "date-time", "pattern": _RFC3339_UTC}
    elif field.kind == "hash":
        schema = {"type": "string", "pattern": "^[0-9a-f]{7,64}$"}
    elif field.kind == "name":
        schema = {"type": "string", "pattern": f"^{field.pattern}$"}
    else:
        schema = {"type": "string", "minLength": 1, "maxLength": field.max_length}
    if field.kind in ("number", "integer"):
        schema["minimum"] = field.minimum
        schema["maximum"] = field.maximum
    schema["description"] = field.doc
    return schema


def _type_schema(spec: EventType) -> dict[str, Any]:
    properties = {f.name: _field_schema(f) for f in COMMON_FIELDS}
    properties.update({f.name: _field_schema(f) for f in spec.fields})
    properties["event_type"] = {"const": spec.name, "description": spec.doc}
    required = ["timestamp", "event_type", *spec.required]
    return {
        "title": spec.name,
        "description": spec.doc,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one line of ``events.jsonl`` as the log stores it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ai-telemetry event",
        "description": (
            "One line of events.jsonl. Unknown event types are kept with the common fields only."
        ),
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in EVENT_TYPES],
        "$defs": {name: _type_schema(spec) for name, spec in EVENT_TYPES.items()},
    }


def _bounds(f: Field) -> str:
    if f.kind in ("number", "integer"):
        return f", {contract._bound(f.minimum)} to {contract._bound(f.maximum)}"
    if f.kind == "name" and f.pattern == contract.MODEL_PATTERN:
        return ", also / @ +"
    return ""


def _field_rows(fields: tuple[Field, ...], required: tuple[str, ...] = ()) -> list[str]:
    rows = ["| field | kind | required | meaning |", "|---|---|---|---|"]
    for f in fields:
        kind = f.kind + (f" ({', '.join(f.choices)})" if f.choices else "") + _bounds(f)
        must = "yes" if f.name in required else ""
        rows.append(f"| `{f.name}` | {kind} | {must} | {f.doc} |")
    return rows


def events_markdown() -> str:
    """docs/events.md, rendered from the contract table."""
    lines = [
        "# Events",
        "",
        "<!-- Generated from src/ai_telemetry/events/schema.py by"
        " `python -m ai_telemetry.events.jsonschema`; do not edit by hand. -->",
        "",
        "One JSON object per line in `events.jsonl` (UTF-8, `\\n`-terminated). This page lists",
        "every event type and its fields. A field not listed for a type is dropped by the",
        "privacy guard before the write (fail closed). `ai-telemetry schema` prints the same",
        "contract as JSON Schema.",
        "",
        "## Fields every event may carry",
        "",
        *_field_rows(COMMON_FIELDS, ("timestamp", "event_type")),
        "",
        "Timestamps are RFC 3339 in UTC with a trailing `Z`; another offset is converted on the",
        "way in, and a timestamp with no offset is rejected. Unknown event types are kept (with",
        "the common fields only) and reported by `ai-telemetry validate`. For `learning_created`",
        "the field `source` is the learning's source (incident, observation, ...), as in the seed.",
        "",
        "## Limits",
        "",
        "The validator, the reader (`ai-telemetry validate`), the writer and the warehouse",
        "(`aggregate`, `status`, `top`, ...) apply the same limits, generated from",
        "`ai_telemetry.events.schema`; a value outside them makes the whole event invalid, with",
        "a message naming the field.",
        "",
        "| what | limit |",
        "|---|---|",
        f"| `name` (skill, agent, tool, ...) | `{contract.NAME_PATTERN}`: a letter or `_`, then "
        "letters, digits and `_.:-`, at most 128 (`acgme-compliance`, `META_UPDATER`, "
        "`plugin:skill`, `mcp__server__tool`); `model` and `project` may also hold `/ @ +`; "
        "`true` and `false` are refused |",
        f"| `id` | 1 to {contract.MAX_ID_CHARS} characters |",
        f"| `text` | 1 to {contract.MAX_TEXT_CHARS} characters |",
        "| every string | no control character (U+0000-U+001F, U+007F-U+009F: newline, ESC, "
        "BEL, ...); an `id` or `text` does not start with `[` or `{`; the privacy marker "
        "`[REDACTED:<category>]` is always accepted |",
        "| `id`, `text`, `hash` given as a JSON number or boolean | taken as its JSON text "
        '(`"session_id": 42` is `"42"`), as the warehouse reads it |',
        "| numbers | the range in the kind column; NaN and infinities are not JSON |",
        f"| `timestamp` | `YYYY-MM-DDTHH:MM:SS[.fffffffff]` then `Z` or `+HH:MM`; from "
        f"{contract.TIMESTAMP_MIN} up to (not including) {contract.TIMESTAMP_MAX}, and at most "
        "`AI_TELEMETRY_MAX_FUTURE_SKEW` seconds (default 3600) ahead of the clock when read |",
        f"| one line of `events.jsonl` | {contract.MAX_LINE_BYTES:,} bytes without its newline |",
        "",
        "The time range is one that Python's `datetime`, DuckDB `TIMESTAMP`, Parquet and",
        "PostgreSQL all hold, from the Unix epoch on (UUIDv7 ids hold no earlier time). The",
        "future margin is an hour: clocks drift by seconds, but a writer that stamps local time",
        "as UTC, or a mistyped year, would otherwise sit in the future of every report.",
        "",
    ]
    for spec in EVENT_TYPES.values():
        lines += [f"## `{spec.name}`", "", spec.doc, ""]
        if spec.fields:
            lines += [*_field_rows(spec.fields, spec.required), ""]
        else:
            lines += ["No fields beyond the common ones.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(events_markdown())  # noqa: T201 - regenerates docs/events.md
