"""OpenTelemetry GenAI spans -> events: agents, tools and model calls.

Operations come from ``gen_ai.operation.name`` (or the span name's first word, as the GenAI
semantic conventions name spans ``invoke_agent {agent}``, ``execute_tool {tool}``,
``chat {model}``). See docs/collect/otlp.md for the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

from ai_telemetry.collect.otlp.decode import as_int, attributes, items, normalize_id
from ai_telemetry.collect.otlp.decode import field as get
from ai_telemetry.collect.otlp.mapping import (
    OtlpResult,
    _Builder,
    _count,
    _identity,
    _mcp_split,
    _text,
    _timestamp,
)

_MODEL_OPERATIONS: Final = frozenset(
    {"chat", "text_completion", "generate_content", "completion", "responses"}
)


# --- traces: GenAI semantic conventions ------------------------------------------------------


def _operation(span: Mapping[str, Any], attrs: Mapping[str, Any]) -> str | None:
    op = _text(attrs.get("gen_ai.operation.name"))
    if op:
        return op
    name = _text(get(span, "name")) or ""
    head = name.split(" ", 1)[0]
    if head in ("invoke_agent", "execute_tool") or head in _MODEL_OPERATIONS:
        return head
    return None


def _outcome(span: Mapping[str, Any]) -> str:
    status = get(span, "status")
    code = get(status, "code") if isinstance(status, Mapping) else None
    return "error" if code in (2, "2", "STATUS_CODE_ERROR") else "success"


def _span_suffix(span: Mapping[str, Any]) -> str | None:
    name = _text(get(span, "name")) or ""
    _, _, rest = name.partition(" ")
    return rest.strip() or None


def _tokens(attrs: Mapping[str, Any]) -> dict[str, int | None]:
    """Token counts, ``input_tokens`` without the cache (our contract, Anthropic's usage).

    The GenAI conventions say ``gen_ai.usage.input_tokens`` SHOULD include cached tokens; when
    the cache counts fit inside it, they are taken out. When they do not, the instrumentation
    reported input the Anthropic way, and the value is kept as it is.
    """
    total = _count(attrs.get("gen_ai.usage.input_tokens"))
    read = _count(attrs.get("gen_ai.usage.cache_read.input_tokens"))
    created = _count(attrs.get("gen_ai.usage.cache_creation.input_tokens"))
    cached = (read or 0) + (created or 0)
    if total is not None and cached and cached <= total:
        total -= cached
    return {
        "input_tokens": total,
        "output_tokens": _count(attrs.get("gen_ai.usage.output_tokens")),
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": created,
    }


_TOKEN_KEYS: Final = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
)


def map_traces(payload: Mapping[str, Any]) -> OtlpResult:
    """Map an ``ExportTraceServiceRequest``: GenAI agent, tool and model spans to events.

    Within one payload, tool and model spans are attributed to their nearest ``invoke_agent``
    ancestor: its span id becomes their ``task_id`` and its agent their ``agent``; the agent's
    ``tool_calls`` counts the ``execute_tool`` spans below it.
    """
    out = _Builder("traces")
    spans: list[tuple[Mapping[str, Any], dict[str, Any], str | None, str | None, str | None]] = []
    for resource_spans in items(payload, "resourceSpans"):
        resource = attributes(get(get(resource_spans, "resource") or {}, "attributes"))
        for scope_spans in items(resource_spans, "scopeSpans"):
            for span in items(scope_spans, "spans"):
                attrs = {**resource, **attributes(get(span, "attributes"))}
                span_id = normalize_id(get(span, "spanId"), length=8)
                parent = normalize_id(get(span, "parentSpanId"), length=8)
                spans.append((span, attrs, _operation(span, attrs), span_id, parent))
    out.result.records = len(spans)

    parents = {sid: parent for _, _, _, sid, parent in spans if sid}
    agents = {
        sid: _text(attrs.get("gen_ai.agent.name")) or _span_suffix(span) or "agent"
        for span, attrs, op, sid, _ in spans
        if op == "invoke_agent" and sid
    }

    def agent_of(parent: str | None) -> str | None:
        seen = 0
        while parent is not None and seen < 1000:
            if parent in agents:
                return parent
            parent = parents.get(parent)
            seen += 1
        return None

    tool_counts: Counter[str] = Counter()
    for _, _, op, _, parent in spans:
        if op == "execute_tool" and (owner := agent_of(parent)) is not None:
            tool_counts[owner] += 1

    for span, attrs, op, span_id, parent in spans:
        if op is None:
            out.skip("span", "other")
            continue
        start = as_int(get(span, "startTimeUnixNano"))
        end = as_int(get(span, "endTimeUnixNano"))
        timestamp = _timestamp(end) or _timestamp(start)
        trace_id = normalize_id(get(span, "traceId"), length=16)
        if timestamp is None or span_id is None:
            out.skip("span", f"{op} (no time or id)")
            continue
        duration = (end - start) / 1e9 if start and end and end >= start else None
        identity = _identity("span", trace_id, span_id)
        owner = agent_of(parent)
        error_type = _text(attrs.get("error.type")) if _outcome(span) == "error" else None
        fields: dict[str, Any]
        if op == "invoke_agent":
            tokens = _tokens(attrs)
            total = (tokens["input_tokens"] or 0) + (tokens["output_tokens"] or 0)
            fields = {
                "agent": agents[span_id],
                "outcome": _outcome(span),
                "duration_seconds": duration,
                "tool_calls": tool_counts.get(span_id, 0),
                "total_tokens": total or None,
                "error_type": error_type,
                "task_id": span_id,
            }
            used: tuple[str, ...] = ("gen_ai.agent.name", "gen_ai.operation.name", *_TOKEN_KEYS)
            out.emit("agent_task", timestamp, identity, attrs, used=used, fields=fields)
        elif op == "execute_tool":
            tool = _text(attrs.get("gen_ai.tool.name")) or _span_suffix(span)
            if not tool:
                out.skip("span", "execute_tool (no tool name)")
                continue
            split = _mcp_split(tool)
            fields = {
                "tool": tool,
                "outcome": _outcome(span),
                "duration_seconds": duration,
                "mcp_server": split[0] if split else None,
                "error_type": error_type,
                "task_id": owner,
            }
            out.emit(
                "tool_call",
                timestamp,
                identity,
                attrs,
                used=("gen_ai.tool.name", "gen_ai.operation.name"),
                fields=fields,
            )
        elif op in _MODEL_OPERATIONS or any(k in attrs for k in _TOKEN_KEYS):
            model = _text(attrs.get("gen_ai.response.model")) or _text(
                attrs.get("gen_ai.request.model")
            )
            fields = {
                "model": model,
                **_tokens(attrs),
                "message_id": _text(attrs.get("gen_ai.response.id")),
                "duration_seconds": duration,
                "agent": agents.get(owner) if owner else None,
                "task_id": owner,
            }
            used = (
                "gen_ai.response.model", "gen_ai.request.model", "gen_ai.response.id",
                "gen_ai.operation.name", *_TOKEN_KEYS,
            )  # fmt: skip
            out.emit("llm_request", timestamp, identity, attrs, used=used, fields=fields)
        else:
            out.skip("span", op)
    return out.result
