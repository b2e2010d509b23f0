"""OTLP -> events: the public OTLP examples, Claude Code's telemetry, JSON and protobuf alike."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

from ai_telemetry.collect.otlp import otlp_to_events
from ai_telemetry.collect.otlp.decode import any_value, attributes, normalize_id
from ai_telemetry.errors import CollectorError

DATA = Path(__file__).parent.parent / "data" / "otlp"


def _load(name: str) -> Any:
    return orjson.loads((DATA / name).read_bytes())


def _claude_logs() -> list[dict[str, Any]]:
    lines = (DATA / "claude_code_logs.jsonl").read_bytes().splitlines()
    return [orjson.loads(line) for line in lines]


def _claude_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for request in _claude_logs():
        events.extend(otlp_to_events(request).events)
    return events


def _of(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event_type"] == event_type]


# --- decoding --------------------------------------------------------------------------------


def test_public_log_example_attributes_decode_to_plain_values() -> None:
    """Every AnyValue shape of the public logs.json example decodes to its plain value."""
    record = _load("logs.json")["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert attributes(record["attributes"]) == {
        "string.attribute": "some string",
        "boolean.attribute": True,
        "int.attribute": 10,
        "double.attribute": 637.704,
        "array.attribute": ["many", "values"],
        "map.attribute": {"some.map.key": "some value"},
    }


def test_int64_as_string_decodes_like_int64_as_number() -> None:
    """OTLP/JSON allows 64-bit integers as strings; both decode to the same int."""
    assert any_value({"intValue": "9007199254740993"}) == 9007199254740993
    assert any_value({"int_value": 10}) == any_value({"intValue": "10"}) == 10


def test_ids_hex_any_case_and_base64_normalise_to_lower_hex() -> None:
    """Upper-case hex (the public example) and base64 (protobuf's JSON) give the same id."""
    assert normalize_id("5B8EFFF798038103D269B633813FC60C", length=16) == (
        "5b8efff798038103d269b633813fc60c"
    )
    assert normalize_id("W47/95gDgQPSabYzgT/GDA==", length=16) == "5b8efff798038103d269b633813fc60c"
    assert normalize_id("0" * 16, length=8) is None


@pytest.mark.parametrize(
    ("name", "kind", "skipped"),
    [
        ("logs.json", "logs", {"log:other": 1}),
        ("events.json", "logs", {"log:other": 1}),
        ("trace.json", "traces", {"span:other": 1}),
        (
            "metrics.json",
            "metrics",
            {"metric:my.counter": 1, "metric:my.gauge": 1, "metric:my.histogram": 1},
        ),
    ],
)
def test_public_examples_map_to_nothing_and_are_counted(
    name: str, kind: str, skipped: dict[str, int]
) -> None:
    """The opentelemetry-proto examples carry no agent data: no events, every record counted."""
    result = otlp_to_events((DATA / name).read_bytes())
    assert (result.kind, result.events, dict(result.skipped)) == (kind, [], skipped)


def test_snake_case_keys_are_accepted() -> None:
    """A payload written with the proto field names (snake_case) maps like lowerCamelCase."""

    def snake(node: Any) -> Any:
        if isinstance(node, dict):
            fixed = {}
            for key, value in node.items():
                new = "".join("_" + c.lower() if c.isupper() else c for c in key)
                fixed[new if key not in ("key",) else key] = snake(value)
            return fixed
        if isinstance(node, list):
            return [snake(v) for v in node]
        return node

    request = _claude_logs()[0]
    assert otlp_to_events(snake(request)).events == otlp_to_events(request).events


def test_not_otlp_is_a_clear_error() -> None:
    """A JSON object without resourceLogs/Metrics/Spans is refused, naming what it found."""
    with pytest.raises(CollectorError, match="not an OTLP export request: top-level keys are foo"):
        otlp_to_events(b'{"foo": 1}')


def test_unknown_content_type_is_refused() -> None:
    """Only the two OTLP/HTTP encodings are accepted."""
    with pytest.raises(CollectorError, match="unsupported content type"):
        otlp_to_events(b"{}", content_type="text/plain")


# --- Claude Code logs --------------------------------------------------------------------------


def test_claude_code_api_requests_become_llm_requests_with_exact_usage() -> None:
    """Both api_request records map with their token counts, cost, latency and attribution."""
    requests = _of(_claude_events(), "llm_request")
    assert [
        (
            r["model"],
            r["input_tokens"],
            r["output_tokens"],
            r["cache_read_input_tokens"],
            r["cache_creation_input_tokens"],
            r["cost_usd"],
            r["duration_seconds"],
        )
        for r in requests
    ] == [
        ("claude-sonnet-4-5-20250929", 12, 385, 24310, 1420, 0.0213, 2.48),
        ("claude-haiku-4-5-20251001", 250, 96, 0, 0, 0.0011, 0.812),
    ]
    assert requests[0]["request_id"] == "req_011CWVsY1"
    assert (requests[1]["agent"], requests[1]["skill"]) == ("Explore", "systematic-debugger")
    assert requests[0]["timestamp"] == "2025-12-26T10:30:02.500000Z"


def test_claude_code_tool_results_become_tool_calls() -> None:
    """tool_result -> tool_call with outcome, duration, error category and MCP server."""
    calls = _of(_claude_events(), "tool_call")
    assert [
        (c["tool"], c["outcome"], c["duration_seconds"], c.get("mcp_server"), c.get("error_type"))
        for c in calls
    ] == [
        ("Bash", "success", 1.39, None, None),
        ("Read", "error", 0.007, None, "Error:ENOENT"),
        ("mcp__github__search_issues", "success", 0.23, "github", None),
        ("mcp__linear__get_issue", "success", 0.415, "linear", None),
    ]


def test_claude_code_api_error_becomes_llm_error_without_the_message() -> None:
    """api_error keeps model, status, attempts and latency; the error text is dropped."""
    (error,) = _of(_claude_events(), "llm_error")
    assert {k: error[k] for k in ("model", "status_code", "attempt", "duration_seconds")} == {
        "model": "claude-sonnet-4-5-20250929",
        "status_code": 529,
        "attempt": 3,
        "duration_seconds": 30.5,
    }
    assert "Overloaded" not in orjson.dumps(error).decode()


def test_claude_code_skill_activated_starts_a_skill_execution() -> None:
    """skill_activated -> skill_execution, outcome started, in the event's session."""
    (skill,) = _of(_claude_events(), "skill_execution")
    assert (skill["skill"], skill["outcome"], skill["session_id"]) == (
        "systematic-debugger",
        "started",
        "996a6297-0787-454a-94b8-96191aa0a22c",
    )


def test_prompts_inputs_and_identities_never_reach_an_event() -> None:
    """No prompt text, tool input, command, error message, e-mail or account id survives."""
    blob = orjson.dumps(_claude_events()).decode()
    for secret in (
        "please fix the failing test",
        "pytest tests/test_billing.py",
        "dev@example.com",
        "0f3c1b7e-8d2a-4b61-9a55-2f7c0c8e1d42",
        "7a1e6c55-0b9e-4c8f-a3d2-6e4b2f9c1a07",
        "/home/dev/secret",
        "c35b69e8d2d591e01edc4cee16bda6467c047ca6d44038c0eb87fc779a4fcc2f",
    ):
        assert secret not in blob


def test_skipped_records_and_dropped_attributes_are_counted() -> None:
    """user_prompt and tool_decision are skipped by name; dropped attribute keys are counted."""
    result = otlp_to_events(_claude_logs()[0])
    assert dict(result.skipped) == {"log:user_prompt": 1, "log:tool_decision": 1}
    assert result.records == 5
    assert result.dropped_attributes["user.email"] == 3
    assert result.dropped_attributes["tool_input"] == 1


def test_event_ids_are_stable_and_distinct() -> None:
    """Mapping twice gives the same ids; no two events share one."""
    first = [e["event_id"] for e in _claude_events()]
    assert first == [e["event_id"] for e in _claude_events()]
    assert len(set(first)) == len(first) == 8


def test_protobuf_encoding_gives_the_same_events_as_json() -> None:
    """The same requests as OTLP/protobuf map to identical events, ids included."""
    for request in _claude_logs():
        message = json_format.ParseDict(request, logs_service_pb2.ExportLogsServiceRequest())
        body = message.SerializeToString()
        from_proto = otlp_to_events(body, content_type="application/x-protobuf").events
        assert from_proto == otlp_to_events(request).events


# --- Claude Code metrics -----------------------------------------------------------------------


def test_session_count_becomes_one_session_start_and_sums_are_skipped() -> None:
    """session.count -> session_start at the counter's start; token and cost sums are skipped."""
    result = otlp_to_events(_load("claude_code_metrics.json"))
    assert [(e["event_type"], e["timestamp"], e["session_id"]) for e in result.events] == [
        ("session_start", "2025-12-26T10:29:55Z", "996a6297-0787-454a-94b8-96191aa0a22c")
    ]
    assert dict(result.skipped) == {
        "metric:claude_code.token.usage (duplicates api_request)": 2,
        "metric:claude_code.cost.usage (duplicates api_request)": 1,
        "metric:claude_code.active_time.total": 1,
    }


def test_a_later_export_of_the_same_session_is_the_same_event() -> None:
    """Cumulative counters are re-exported each interval; the session_start id stays the same."""
    first = _load("claude_code_metrics.json")
    later = copy.deepcopy(first)
    point = later["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]["dataPoints"][0]
    point["timeUnixNano"] = str(int(point["timeUnixNano"]) + 60_000_000_000)
    assert otlp_to_events(later).events == otlp_to_events(first).events


def test_metrics_protobuf_is_detected_without_a_kind() -> None:
    """An OTLP/protobuf metrics request is recognised as metrics from its layout alone."""
    message = json_format.ParseDict(
        _load("claude_code_metrics.json"), metrics_service_pb2.ExportMetricsServiceRequest()
    )
    result = otlp_to_events(message.SerializeToString(), content_type="application/x-protobuf")
    assert (result.kind, [e["event_type"] for e in result.events]) == ("metrics", ["session_start"])
