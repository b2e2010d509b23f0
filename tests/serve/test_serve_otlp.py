"""The OTLP/HTTP receiver, with the real OpenTelemetry SDK HTTP exporters as clients."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from serve_test_helpers import Server, recent, running_server

RESOURCE = Resource.create({"service.name": "claude-code", "user.email": "dev@example.com"})


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("otlp") / "Telemetry") as running:
        yield running


def _auth(server: Server, role: str = "collector") -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[role]}"}


def _tool_result(session: str, tool: str = "Read", ok: bool = True) -> dict[str, Any]:
    return {
        "event.name": "tool_result",
        "session.id": session,
        "tool_name": tool,
        "success": "true" if ok else "false",
        "duration_ms": "12",
        "user.email": "dev@example.com",
    }


def _emit_logs(exporter: Any, records: list[dict[str, Any]]) -> None:
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("com.anthropic.claude_code.events")
    now = time.time_ns() - 60 * 10**9
    for offset, attributes in enumerate(records):
        logger.emit(
            timestamp=now + offset * 10**6, body="claude_code.tool_result", attributes=attributes
        )
    provider.shutdown()


def _otlp_events(server: Server) -> list[dict[str, Any]]:
    return [e for e in server.log_events() if e.get("source", "").startswith("otlp:")]


def test_sdk_log_exporter_gzip_protobuf(server: Server) -> None:
    """Claude Code tool results sent by OTLPLogExporter (protobuf, gzip) become tool calls."""
    exporter = OTLPLogExporter(
        endpoint=f"{server.url}/v1/logs", headers=_auth(server), compression=Compression.Gzip
    )
    _emit_logs(exporter, [_tool_result("sess-1"), _tool_result("sess-1", "Bash", ok=False)])
    events = _otlp_events(server)
    assert [("tool_call", "Read", "success"), ("tool_call", "Bash", "error")] == [
        (e["event_type"], e["tool"], e["outcome"]) for e in events
    ]
    assert {"otlp:collector-1"} == {e["source"] for e in events}
    assert "dev@example.com" not in (server.directory / "events.jsonl").read_text()


def test_sdk_span_exporter(server: Server) -> None:
    """GenAI execute_tool spans sent by OTLPSpanExporter become tool calls."""
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(
        SimpleSpanProcessor(
            OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", headers=_auth(server))
        )
    )
    tracer = provider.get_tracer("genai")
    with tracer.start_as_current_span(
        "execute_tool read_file",
        attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_file"},
    ):
        pass
    provider.shutdown()
    [event] = _otlp_events(server)
    assert ("tool_call", "read_file") == (event["event_type"], event["tool"])


def test_sdk_metric_exporter(server: Server) -> None:
    """claude_code.session.count from OTLPMetricExporter becomes one session_start."""
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{server.url}/v1/metrics", headers=_auth(server)),
        export_interval_millis=60_000,
    )
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    counter = provider.get_meter("com.anthropic.claude_code").create_counter(
        "claude_code.session.count"
    )
    counter.add(1, {"session.id": "sess-m"})
    provider.force_flush()
    provider.shutdown()
    events = _otlp_events(server)
    assert [("session_start", "sess-m")] == [(e["event_type"], e["session_id"]) for e in events]


def test_the_same_export_twice_is_stored_once(server: Server) -> None:
    """Retried exports map to the same event ids: nothing is stored twice."""
    memory = InMemoryLogRecordExporter()
    _emit_logs(memory, [_tool_result("sess-r"), _tool_result("sess-r", "Grep")])
    records: list[ReadableLogRecord] = list(memory.get_finished_logs())
    exporter = OTLPLogExporter(endpoint=f"{server.url}/v1/logs", headers=_auth(server))
    assert LogRecordExportResult.SUCCESS == exporter.export(records)
    assert LogRecordExportResult.SUCCESS == exporter.export(records)
    assert 2 == len(_otlp_events(server))


def test_json_encoding_and_partial_success(server: Server) -> None:
    """OTLP/JSON is read too; a record the contract refuses is counted in partialSuccess."""
    memory = InMemoryLogRecordExporter()
    _emit_logs(memory, [_tool_result("sess-j"), _tool_result("sess-j", "bad tool name!")])
    request = encode_logs(list(memory.get_finished_logs()))
    body = orjson.dumps(json_format.MessageToDict(request))
    status, headers, data = server.request(
        "POST", "/v1/logs", body, headers={**_auth(server), "Content-Type": "application/json"}
    )
    assert 200 == status
    assert headers["content-type"].startswith("application/json")
    partial = orjson.loads(data)["partialSuccess"]
    assert "1" == partial["rejectedLogRecords"]
    assert "tool" in partial["errorMessage"]
    assert ["Read"] == [e["tool"] for e in _otlp_events(server)]
    # the same as protobuf: the answer is an ExportLogsServiceResponse
    status, headers, data = server.request(
        "POST",
        "/v1/logs",
        request.SerializeToString(),
        headers={**_auth(server), "Content-Type": "application/x-protobuf"},
    )
    assert 200 == status
    reply = logs_service_pb2.ExportLogsServiceResponse.FromString(data)
    assert 1 == reply.partial_success.rejected_log_records


def test_hook_sessions_are_not_counted_twice(server: Server) -> None:
    """A session the Claude Code hook recorded keeps its hook tool calls only."""
    hooked = {
        "event_type": "tool_call",
        "timestamp": recent(),
        "tool": "Read",
        "outcome": "success",
        "session_id": "sess-h",
        "source": "hook",
    }
    assert 1 == server.post_events([hooked])["accepted"]
    exporter = OTLPLogExporter(endpoint=f"{server.url}/v1/logs", headers=_auth(server))
    _emit_logs(exporter, [_tool_result("sess-h"), _tool_result("sess-o")])
    sessions = [(e["session_id"], e["source"]) for e in server.log_events()]
    assert [("sess-h", "hook:collector-1"), ("sess-o", "otlp:collector-1")] == sessions


def test_wrong_content_type_is_415(server: Server) -> None:
    """Only the two OTLP/HTTP encodings are taken."""
    status, _, _ = server.request(
        "POST", "/v1/traces", b"x", headers={**_auth(server), "Content-Type": "text/plain"}
    )
    assert 415 == status


def test_hook_events_sent_through_the_server_count_as_the_hook_for_import_otlp(
    tmp_path: Path,
) -> None:
    """`import otlp`'s double-count rule reads ``hook:<token>`` sources as the hook's."""
    from ai_telemetry.collect.otlp.importer import hook_sessions

    log = tmp_path / "events.jsonl"
    lines = [
        {"event_type": "tool_call", "session_id": "s1", "source": "hook:laptop-ana"},
        {"event_type": "tool_call", "session_id": "s2", "source": "hook"},
        {"event_type": "tool_call", "session_id": "s3", "source": "hooks-imposter"},
        {"event_type": "tool_call", "session_id": "s4", "source": "otlp:laptop-ana"},
    ]
    log.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    assert {("s1", "tool_call"), ("s2", "tool_call")} == hook_sessions(log)
