"""The event contract as JSON Schema (``ai-telemetry schema``) and as Markdown (docs/events.md).

Both are rendered from the table in `ai_telemetry.events.schema`, so they cannot drift from
what the validator and the privacy guard enforce.
"""

from __future__ import annotations

from typing import Any

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
    else:
        schema = {"type": "string", "minLength": 1}
    if field.kind in ("number", "integer") and not field.signed:
        schema["minimum"] = 0
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


def _field_rows(fields: tuple[Field, ...], required: tuple[str, ...] = ()) -> list[str]:
    rows = ["| field | kind | required | meaning |", "|---|---|---|---|"]
    for f in fields:
        kind = f.kind + (f" ({', '.join(f.choices)})" if f.choices else "")
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
