"""The OTLP/HTTP logs receiver's direct protobuf walk maps exactly as the OTLP/JSON tree does.

`map_logs_message` reads the protobuf messages without building the OTLP/JSON tree first; it
must give the same events (ids included: a retried export is a duplicate), the same skip counts
and the same dropped-attribute counts as `map_logs(message_to_dict(...))`, over every
``AnyValue`` shape and the edge cases of times, ids and names.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2

from ai_telemetry.collect.idempotent import stable_event_id
from ai_telemetry.collect.otlp import otlp_to_events
from ai_telemetry.collect.otlp.decode import message_to_dict
from ai_telemetry.collect.otlp.mapping import _identity, _timestamp, map_logs, map_logs_message
from ai_telemetry.collect.otlp.proto_logs import map_logs_fast
from ai_telemetry.errors import CollectorError
from ai_telemetry.events.schema import format_timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_NESTED = [True]  # False: scalar values only (the lazy-attribute path's own cases)


def _value(rng: random.Random, depth: int = 0) -> common_pb2.AnyValue:
    if not _NESTED[0]:
        depth = 2
    pick = rng.randrange(9 if depth < 2 else 6)
    if pick == 0:
        return common_pb2.AnyValue(string_value=rng.choice(["Read", "true", "false", " x ", ""]))
    if pick == 1:
        return common_pb2.AnyValue(int_value=rng.choice([0, -5, 42, 2**62]))
    if pick == 2:
        return common_pb2.AnyValue(bool_value=rng.random() < 0.5)
    if pick == 3:
        choices = [0.0, 1.5, -2.0, float("nan"), float("inf")]
        return common_pb2.AnyValue(double_value=rng.choice(choices))
    if pick == 4:
        return common_pb2.AnyValue(bytes_value=rng.choice([b"", b"\x00\xff", b"abc"]))
    if pick == 5:
        return common_pb2.AnyValue()  # no member set
    if pick == 6:
        values = [_value(rng, depth + 1) for _ in range(rng.randrange(3))]
        return common_pb2.AnyValue(array_value=common_pb2.ArrayValue(values=values))
    pairs = [_kv(rng, depth + 1) for _ in range(rng.randrange(3))]
    return common_pb2.AnyValue(kvlist_value=common_pb2.KeyValueList(values=pairs))


def _kv(rng: random.Random, depth: int = 0) -> common_pb2.KeyValue:
    key = rng.choice(["a", "b", "", "user.email", "tool_parameters"])
    if rng.random() < 0.1:
        return common_pb2.KeyValue(key=key)  # no value
    return common_pb2.KeyValue(key=key, value=_value(rng, depth))


def _s(key: str, value: str) -> common_pb2.KeyValue:
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))


def _record(rng: random.Random, n: int) -> logs_pb2.LogRecord:
    name = rng.choice(
        ["tool_result", "api_request", "api_error", "skill_activated", "user_prompt", "odd", ""]
    )
    attrs = [_kv(rng) for _ in range(rng.randrange(4))]
    if name:
        attrs.append(_s("event.name", name))
    attrs += [
        _s("session.id", rng.choice(["s1", "s2", " "])),
        _s("tool_name", rng.choice(["Read", "mcp__github__create_issue", ""])),
        _s("success", rng.choice(["true", "false", "maybe"])),
        _s("duration_ms", rng.choice(["12", "-1", "1e3", "x"])),
        _s("model", "claude-sonnet-4-5"),
        _s("skill.name", "tdd"),
        _s("status_code", rng.choice(["429", "0"])),
        common_pb2.KeyValue(key="input_tokens", value=common_pb2.AnyValue(int_value=n)),
        common_pb2.KeyValue(key="cost_usd", value=common_pb2.AnyValue(double_value=0.01 * n)),
    ]
    if rng.random() < 0.2:
        attrs.append(_s("event.timestamp", "2025-12-26T11:30:00+01:00"))
    if rng.random() < 0.2:
        attrs.append(_s("tool_parameters", '{"mcp_server_name": "gh", "mcp_tool_name": "x"}'))
    record = logs_pb2.LogRecord(attributes=attrs)
    when = 1_766_000_000 * 10**9 + n * 1_234_567
    shape = rng.randrange(4)
    if shape == 0:
        record.time_unix_nano = when
    elif shape == 1:
        record.observed_time_unix_nano = when
    elif shape == 2:
        record.time_unix_nano = (when // 10**9) * 10**9  # a whole second
    if rng.random() < 0.5:
        record.body.CopyFrom(
            rng.choice([_value(rng), common_pb2.AnyValue(string_value="claude_code.api_request")])
        )
    if rng.random() < 0.3:
        record.event_name = rng.choice(["claude_code.tool_result", "skill_activated"])
    record.trace_id = rng.choice([b"", bytes(16), bytes(range(16)), b"\x01" * 15])
    record.span_id = rng.choice([b"", bytes(8), bytes(range(1, 9))])
    return record


def _request(seed: int) -> logs_service_pb2.ExportLogsServiceRequest:
    rng = random.Random(seed)
    resource_logs = []
    for _ in range(rng.randrange(1, 3)):
        resource = resource_pb2.Resource(attributes=[_kv(rng), _s("service.name", "claude-code")])
        scopes = [
            logs_pb2.ScopeLogs(log_records=[_record(rng, n) for n in range(rng.randrange(8))])
            for _ in range(rng.randrange(1, 3))
        ]
        resource_logs.append(logs_pb2.ResourceLogs(resource=resource, scope_logs=scopes))
    return logs_service_pb2.ExportLogsServiceRequest(resource_logs=resource_logs)


def _summary(result: Any) -> tuple[Any, ...]:
    return (result.events, result.records, result.skipped, result.dropped_attributes)


def test_direct_walk_matches_the_json_tree() -> None:
    mapped = 0
    for seed in range(300):
        request = _request(seed)
        direct = map_logs_message(request)
        assert _summary(direct) == _summary(map_logs(message_to_dict(request))), seed
        mapped += len(direct.events)
    assert mapped > 300  # the cases do reach the mappers


def test_the_receiver_takes_the_direct_walk() -> None:
    request = _request(7)
    body = request.SerializeToString()
    got = otlp_to_events(body, kind="logs", content_type="application/x-protobuf")
    assert _summary(got) == _summary(map_logs(message_to_dict(request)))
    assert got.events


def test_identity_and_timestamp_match_their_reference_forms() -> None:
    def old_identity(*parts: object) -> str:
        return stable_event_id(
            "otlp", *(orjson.dumps(p, option=orjson.OPT_SORT_KEYS).decode() for p in parts)
        )

    rng = random.Random(3)
    for n in range(2000):
        parts = ("log", "tool_result", rng.randrange(2**63), None, "ab" * 4, [("k", repr(n))])
        assert _identity(*parts) == old_identity(*parts)
        nanos = rng.choice([1, 999, 10**9, 10**9 + 1000, rng.randrange(1, 2**64)])
        expected = format_timestamp(_EPOCH + timedelta(microseconds=nanos // 1000))
        assert _timestamp(nanos) == expected, nanos
    assert _identity("x", "é\u4e2d") == old_identity("x", "é\u4e2d")
    assert _timestamp(0) is None
    assert _timestamp(None) is None


def test_lazy_attributes_map_exactly_as_the_full_decode() -> None:
    """`map_logs_fast` (attributes as raw pairs, each decoded once) gives what the full decode
    gives, from its memo too (every request twice); a nested value takes the full decode."""
    fast_runs = 0
    try:
        for seed in range(400):
            _NESTED[0] = seed % 4 == 0
            request = _request(seed)
            body = request.SerializeToString()
            expected = _summary(map_logs_message(request))
            for _ in range(2):
                fast = map_logs_fast(body)
                if fast is None:
                    assert _NESTED[0], seed
                    continue
                assert _summary(fast) == expected, seed
                fast_runs += 1
            assert _summary(otlp_to_events(body, kind="logs", content_type=PROTOBUF)) == expected
    finally:
        _NESTED[0] = True
    assert fast_runs > 500


PROTOBUF = "application/x-protobuf"


def test_lazy_attributes_refuse_what_the_full_decode_refuses() -> None:
    """A pair that is not a valid ``KeyValue`` (here a key that is not UTF-8) parses as raw
    bytes: the lazy path gives up and the full decode answers with its usual error."""
    record = logs_pb2.LogRecord(time_unix_nano=10**18, attributes=[_s("event.name", "x")])
    broken = record.SerializeToString() + b"\x32\x04\x0a\x02\xff\xfe"  # field 6: bad key
    scope = b"\x12" + bytes([len(broken)]) + broken  # ScopeLogs.log_records
    resource = b"\x12" + bytes([len(scope)]) + scope  # ResourceLogs.scope_logs
    body = b"\x0a" + bytes([len(resource)]) + resource
    assert map_logs_fast(body) is None
    with pytest.raises(CollectorError, match="not an OTLP/protobuf logs export request"):
        otlp_to_events(body, kind="logs", content_type=PROTOBUF)


def test_the_bench_batch_takes_the_lazy_path() -> None:
    start = 1_766_000_000 * 10**9
    records = [
        logs_pb2.LogRecord(
            time_unix_nano=start + n * 1000,
            body=common_pb2.AnyValue(string_value="claude_code.tool_result"),
            attributes=[
                _s("event.name", "tool_result"),
                _s("session.id", "s"),
                _s("tool_name", ("Read", "Edit")[n % 2]),
                _s("success", "true"),
                _s("duration_ms", str(n)),
                _s("tool_parameters", '{"note": "' + "x" * 600 + '"}'),  # not remembered
            ],
        )
        for n in range(50)
    ]
    request = logs_service_pb2.ExportLogsServiceRequest(
        resource_logs=[logs_pb2.ResourceLogs(scope_logs=[logs_pb2.ScopeLogs(log_records=records)])]
    )
    fast = map_logs_fast(request.SerializeToString())
    assert fast is not None and len(fast.events) == 50
    assert _summary(fast) == _summary(map_logs_message(request))
