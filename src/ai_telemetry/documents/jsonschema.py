"""docs/schemas/<command>.json, generated from the `TypedDict`s of `ai_telemetry.documents.types`.

``python -m ai_telemetry.documents.jsonschema`` rewrites the folder; a test fails when a
checked-in file differs from what this renders (as docs/events.md is rendered from the event
contract).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Final,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from ai_telemetry.documents import VERSIONS
from ai_telemetry.documents import types as doc

SCHEMA_BASE: Final = "https://ai-telemetry.dev/schema/"

DOCUMENTS: Final[Mapping[str, type]] = {
    "aggregate": doc.AggregateDocument,
    "audit skills": doc.AuditDocument,
    "compare skill": doc.CompareDocument,
    "detect": doc.DetectDocument,
    "doctor": doc.DoctorDocument,
    "gate": doc.GateDocument,
    "import claude-code": doc.ImportClaudeCodeDocument,
    "propose fix": doc.ProposeFixDocument,
    "projects": doc.ProjectsDocument,
    "propose skills": doc.ProposeSkillsDocument,
    "query": doc.QueryDocument,
    "recommend": doc.RecommendDocument,
    "retention apply": doc.RetentionDocument,
    "review learnings": doc.ReviewDocument,
    "spc": doc.SpcDocument,
    "status": doc.StatusDocument,
    "top": doc.TopDocument,
    "statusline": doc.StatuslineDocument,
    "trend": doc.TrendDocument,
    "usage blocks": doc.UsageBlocksDocument,
    "usage daily": doc.UsageDocument,
    "usage monthly": doc.UsageDocument,
    "usage session": doc.UsageDocument,
    "usage weekly": doc.UsageDocument,
    "validate": doc.ValidateDocument,
    "error": doc.ErrorDocument,
}
"""Command path -> the `TypedDict` of its ``--json`` document."""

_SCALARS: Final[Mapping[Any, str]] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
}


def file_name(command: str) -> str:
    """``review learnings`` -> ``review-learnings.json``."""
    return command.replace(" ", "-") + ".json"


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (NotRequired, Required):
        return _schema(args[0], defs)
    if origin is Annotated:
        inner = _schema(args[0], defs)
        return {**inner, "description": str(args[1])}
    if tp is Any:
        return {}
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        parts = [_schema(a, defs) for a in args]
        if all(set(p) == {"type"} and isinstance(p["type"], str) for p in parts):
            return {"type": [p["type"] for p in parts]}
        return {"anyOf": parts}
    if origin is list:
        return {"type": "array", "items": _schema(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1], defs)}
    if _is_typeddict(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # a placeholder first: a type may refer to itself
            defs[name] = _object(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"{tp!r}: no JSON Schema for this type; use a TypedDict, list, dict or scalar")


def _object(tp: Any, defs: dict[str, Any], *, command: str | None = None) -> dict[str, Any]:
    hints = get_type_hints(tp, include_extras=True)
    properties = {name: _schema(hint, defs) for name, hint in hints.items()}
    if command is not None:
        properties["schema_version"] = {**properties["schema_version"], "const": VERSIONS[command]}
        if command != "error":
            properties["command"] = {**properties["command"], "const": command}
    out: dict[str, Any] = {"type": "object"}
    if tp.__doc__:
        out["description"] = " ".join(tp.__doc__.split())
    out["properties"] = properties
    # NotRequired is read from the hint too: under `from __future__ import annotations`
    # Python 3.11 cannot see it and lists every key in __required_keys__.
    out["required"] = [
        name
        for name, hint in hints.items()
        if name in tp.__required_keys__ and get_origin(hint) is not NotRequired
    ]
    out["additionalProperties"] = False
    return out


def schema_for(command: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one command's ``--json`` document."""
    defs: dict[str, Any] = {}
    body = _object(DOCUMENTS[command], defs, command=command)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_BASE + file_name(command),
        "$comment": "Generated from src/ai_telemetry/documents/types.py by "
        "`python -m ai_telemetry.documents.jsonschema docs/schemas`; do not edit by hand.",
        "title": f"ai-telemetry {command} --json"
        if command != "error"
        else "ai-telemetry error (any --json command)",
        **body,
    }
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def schema_of(tp: type) -> dict[str, Any]:
    """The JSON Schema of any document `TypedDict` that is no command's (e.g. an MCP tool's)."""
    defs: dict[str, Any] = {}
    body = _object(tp, defs)
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **body}
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def render_schemas() -> dict[str, str]:
    """File name -> text of every schema file (indented, sorted keys, trailing newline)."""
    import orjson

    return {
        file_name(command): orjson.dumps(schema_for(command), option=orjson.OPT_INDENT_2).decode()
        + "\n"
        for command in DOCUMENTS
    }


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema file into ``folder``; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/schemas")
    for path in write_schemas(target):
        print(path)  # noqa: T201 - regenerates docs/schemas/
