"""GenAI semantic-convention spans, made by the real OpenTelemetry SDK and its OTLP encoder."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode, set_span_in_context

from ai_telemetry.collect.otlp import otlp_to_events

T0 = 1_766_745_000_000_000_000  # 2025-12-26T10:30:00Z in ns
MS = 1_000_000


def _make_spans() -> tuple[ReadableSpan, ...]:
    """An agent run: invoke_agent > (chat, execute_tool ok, execute_tool failing, chat)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "agent-app", "user.email": "dev@example.com"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("genai-test")
    agent = tracer.start_span(
        "invoke_agent code-reviewer",
        start_time=T0,
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "code-reviewer",
            "gen_ai.conversation.id": "conv-42",
        },
    )
    ctx = set_span_in_context(agent)
    chat = tracer.start_span(
        "chat claude-sonnet-4-5",
        context=ctx,
        start_time=T0 + 10 * MS,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.response.model": "claude-sonnet-4-5-20250929",
            "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "gen_ai.usage.input_tokens": 1500,
            "gen_ai.usage.output_tokens": 220,
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.usage.cache_creation.input_tokens": 300,
            "gen_ai.input.messages": '[{"role": "user", "content": "review my secret diff"}]',
        },
    )
    chat.end(end_time=T0 + 1_210 * MS)
    tool_ctx = set_span_in_context(agent)
    ok = tracer.start_span(
        "execute_tool read_file",
        context=tool_ctx,
        start_time=T0 + 1_300 * MS,
        attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "read_file",
            "gen_ai.tool.call.arguments": '{"path": "/home/dev/.ssh/id_rsa"}',
        },
    )
    ok.end(end_time=T0 + 1_345 * MS)
    bad = tracer.start_span(
        "execute_tool mcp__github__create_issue",
        context=tool_ctx,
        start_time=T0 + 1_400 * MS,
        attributes={"gen_ai.operation.name": "execute_tool"},
    )
    bad.set_attribute("error.type", "TimeoutError")
    bad.set_status(Status(StatusCode.ERROR, "timed out talking to api.github.com"))
    bad.end(end_time=T0 + 3_400 * MS)
    chat2 = tracer.start_span(
        "chat",
        context=ctx,
        start_time=T0 + 3_500 * MS,
        attributes={
            "gen_ai.request.model": "claude-haiku-4-5",
            "gen_ai.usage.input_tokens": 80,
            "gen_ai.usage.output_tokens": 12,
        },
    )
    chat2.end(end_time=T0 + 3_900 * MS)
    other = tracer.start_span("GET /health", start_time=T0, attributes={"http.method": "GET"})
    other.end(end_time=T0 + MS)
    agent.end(end_time=T0 + 4_000 * MS)
    provider.shutdown()
    return exporter.get_finished_spans()


@pytest.fixture(scope="module")
def request_bytes() -> bytes:
    """An ExportTraceServiceRequest as the OTLP exporters send it."""
    return encode_spans(_make_spans()).SerializeToString()


@pytest.fixture(scope="module")
def events(request_bytes: bytes) -> list[dict[str, Any]]:
    """The mapped events of the protobuf request, kind left to detection."""
    result = otlp_to_events(request_bytes, content_type="application/x-protobuf")
    assert result.kind == "traces"
    return result.events


def _of(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event_type"] == event_type]


def test_invoke_agent_becomes_an_agent_task(events: list[dict[str, Any]]) -> None:
    """The agent span: name, success, duration, its two tool calls, session from conversation."""
    (task,) = _of(events, "agent_task")
    assert (task["agent"], task["outcome"], task["duration_seconds"], task["tool_calls"]) == (
        "code-reviewer",
        "success",
        4.0,
        2,
    )
    assert (task["session_id"], task["timestamp"]) == ("conv-42", "2025-12-26T10:30:04Z")


def test_execute_tool_spans_become_tool_calls(events: list[dict[str, Any]]) -> None:
    """Tool name from gen_ai.tool.name or the span name; an error status is an error outcome."""
    calls = _of(events, "tool_call")
    assert [
        (c["tool"], c["outcome"], c["duration_seconds"], c.get("mcp_server"), c.get("error_type"))
        for c in calls
    ] == [
        ("read_file", "success", 0.045, None, None),
        ("mcp__github__create_issue", "error", 2.0, "github", "TimeoutError"),
    ]
    (task,) = _of(events, "agent_task")
    assert {c["task_id"] for c in calls} == {task["task_id"]}


def test_model_spans_become_llm_requests_with_cache_taken_out(events: list[dict[str, Any]]) -> None:
    """input_tokens excludes the cached tokens the GenAI convention folds into it."""
    requests = _of(events, "llm_request")
    assert [
        (
            r["model"],
            r.get("input_tokens"),
            r.get("output_tokens"),
            r.get("cache_read_input_tokens"),
            r.get("cache_creation_input_tokens"),
            r["duration_seconds"],
            r.get("agent"),
        )
        for r in requests
    ] == [
        ("claude-sonnet-4-5-20250929", 200, 220, 1000, 300, 1.2, "code-reviewer"),
        ("claude-haiku-4-5", 80, 12, None, None, 0.4, "code-reviewer"),
    ]
    assert requests[0]["message_id"] == "msg_01XFDUDYJgAACzvnptvVoYEL"


def test_other_spans_are_skipped_and_counted(request_bytes: bytes) -> None:
    """A plain HTTP span maps to nothing and is counted."""
    result = otlp_to_events(request_bytes, content_type="application/x-protobuf")
    assert (result.records, dict(result.skipped)) == (6, {"span:other": 1})


def test_message_contents_arguments_and_identity_are_not_kept(events: list[dict[str, Any]]) -> None:
    """Messages, tool arguments, status messages and resource e-mails never reach an event."""
    text = repr(events)
    for secret in ("secret diff", "id_rsa", "api.github.com", "dev@example.com"):
        assert secret not in text


def test_json_with_base64_ids_equals_protobuf(request_bytes: bytes, events: list[Any]) -> None:
    """protobuf's own JSON mapping (base64 ids, int64 strings) maps to the same events."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    message = trace_service_pb2.ExportTraceServiceRequest.FromString(request_bytes)
    assert otlp_to_events(json_format.MessageToJson(message).encode()).events == events


def test_otlp_json_with_hex_ids_equals_protobuf(request_bytes: bytes, events: list[Any]) -> None:
    """OTLP/JSON proper (hex ids, upper case allowed) maps to the same events and ids."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    message = trace_service_pb2.ExportTraceServiceRequest.FromString(request_bytes)
    tree = json_format.MessageToDict(message)
    for rs in tree["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex().upper()
    assert otlp_to_events(tree).events == events
