"""OTLP/protobuf logs with the records' attributes read lazily: the receiver's hot path.

Reading a ``KeyValue`` through the protobuf runtime costs a wrapper object per pair and per
``AnyValue`` (about 2.5 µs a pair; a Claude Code record has 5 to 15 pairs), and the pairs repeat:
the same ``event.name``, ``session.id``, ``tool_name``, ``model`` in nearly every record of a
batch. So the request is parsed with a variant of ``ExportLogsServiceRequest`` in which
``LogRecord.attributes`` (field 6) is ``repeated bytes`` instead of ``repeated KeyValue``: the
wire format is the same (a length-delimited element per pair, never merged for a repeated
field), so each element is exactly the encoding of one ``KeyValue``. An element is decoded once
with the real ``KeyValue`` message and remembered by its bytes (the decoding depends on nothing
else), with its piece of the event id's JSON.

The variant is derived from the installed ``opentelemetry-proto`` descriptors when first used
(one field's type changed, in a private descriptor pool), not written out, so it cannot drift
from them. `map_logs_fast` gives exactly what ``map_logs_message`` gives for the fully decoded
message (``tests/collect/test_otlp_proto_logs.py`` holds them together); for what it does not
cover it answers None and the caller takes the full decode: a payload that does not parse, a
pair holding an array or a key-value list (nested values are rare, and a nested value could
come close to the parser's depth limit, which counts from the request), or an element that is
not a valid ``KeyValue`` (the full decode then gives its usual error).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

import orjson

from ai_telemetry.collect.otlp.decode import proto_any, proto_attributes, proto_id
from ai_telemetry.collect.otlp.mapping import (
    _CONTEXT_KEYS,
    _KEEP,
    _KNOWN_SKIPPED,
    _LOG_MAPPERS,
    SOURCE,
    OtlpResult,
    _Builder,
    _iso,
    _log_identity,
    _session,
    _timestamp,
)

_LAZY_PACKAGE: Final = "ai_telemetry.otlp_lazy.logs.v1"
_CACHE_MAX: Final = 16384
"""Distinct attribute encodings remembered before the memo starts afresh."""
_CACHE_MAX_BYTES: Final = 512
"""Longest attribute encoding remembered (a longer one is decoded each time it comes)."""


class _Nested(Exception):
    """An attribute holds an array or a key-value list: take the full decode."""


@lru_cache(maxsize=1)
def lazy_request_class() -> Any:
    """``ExportLogsServiceRequest`` with ``LogRecord.attributes`` as ``repeated bytes``."""
    from google.protobuf import (  # type: ignore[import-untyped]
        descriptor_pb2,
        descriptor_pool,
        message_factory,
    )
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2

    pool = descriptor_pool.DescriptorPool()
    for module in (common_pb2, resource_pb2):
        dependency = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(dependency)
        pool.Add(dependency)
    lazy = descriptor_pb2.FileDescriptorProto()
    logs_pb2.DESCRIPTOR.CopyToProto(lazy)
    old = "." + lazy.package + "."
    lazy.name = "ai_telemetry/otlp_lazy/logs.proto"
    lazy.package = _LAZY_PACKAGE
    request = lazy.message_type.add()
    logs_service_pb2.ExportLogsServiceRequest.DESCRIPTOR.CopyToProto(request)
    changed = 0
    for message in lazy.message_type:
        for fd in message.field:
            if fd.type_name.startswith(old):
                fd.type_name = f".{_LAZY_PACKAGE}.{fd.type_name[len(old) :]}"
            if message.name == "LogRecord" and fd.name == "attributes":
                assert fd.label == fd.LABEL_REPEATED and fd.type == fd.TYPE_MESSAGE
                fd.type = fd.TYPE_BYTES
                fd.ClearField("type_name")
                changed += 1
    assert changed == 1, "LogRecord.attributes not found in opentelemetry-proto's logs.proto"
    pool.Add(lazy)
    found = pool.FindMessageTypeByName(f"{_LAZY_PACKAGE}.ExportLogsServiceRequest")
    return message_factory.GetMessageClass(found)


_pairs: dict[bytes, tuple[str, Any, str]] = {}


def _decode_pair(element: bytes) -> tuple[str, Any, str]:
    """(key, value, ``["key","repr(value)"]``) of one ``KeyValue`` encoding, as
    `proto_attributes` reads it.

    Raises:
        _Nested: the value is an array or a key-value list.
        google.protobuf.message.DecodeError: not a valid ``KeyValue``.
    """
    from opentelemetry.proto.common.v1 import common_pb2

    kv = common_pb2.KeyValue.FromString(element)
    if kv.HasField("value"):
        if kv.value.WhichOneof("value") in ("array_value", "kvlist_value"):
            raise _Nested
        value = proto_any(kv.value)
    else:
        value = None
    key: str = kv.key
    pair = (key, value, orjson.dumps((key, repr(value))).decode())
    if len(element) <= _CACHE_MAX_BYTES:
        if len(_pairs) >= _CACHE_MAX:
            _pairs.clear()
        _pairs[element] = pair
    return pair


def map_logs_fast(data: bytes) -> OtlpResult | None:
    """``map_logs_message`` of the request ``data`` encodes, or None when the caller must
    decode it fully (see the module's docstring)."""
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

    try:
        message = lazy_request_class().FromString(data)
        return _map(message)
    except (DecodeError, _Nested):
        return None


def _map(message: Any) -> OtlpResult:
    """``map_logs_message``'s walk, with ``_map_log_record`` and ``_Builder.emit`` written out
    in the loop (the same steps, in the same order; the mappers, times and ids are theirs)."""
    out = _Builder("logs")
    result = out.result
    events = result.events
    skipped = result.skipped
    dropped_counts = result.dropped_attributes
    pairs = _pairs
    decode = _decode_pair
    dumps = orjson.dumps
    mappers = _LOG_MAPPERS
    for resource_logs in message.resource_logs:
        resource = proto_attributes(resource_logs.resource.attributes)
        resource_json = {k: dumps((k, repr(v))).decode() for k, v in resource.items()}
        for scope_logs in resource_logs.scope_logs:
            records = scope_logs.log_records
            result.records += len(records)
            for record in records:
                attrs = resource.copy()
                pieces = resource_json.copy()
                for element in record.attributes[:]:
                    pair = pairs.get(element)
                    if pair is None:
                        pair = decode(element)
                    key = pair[0]
                    if key:
                        attrs[key] = pair[1]
                        pieces[key] = pair[2]
                # _event_name: the record's event name, else event.name, else the body
                name = getattr(record, "event_name", None)
                if not name:
                    name = attrs.get("event.name")
                    if name.__class__ is not str or not name:
                        body = proto_any(record.body) if record.HasField("body") else None
                        name = body if body.__class__ is str and body else None
                name = (name.removeprefix("claude_code.") if name else None) or "unnamed"
                # _map_log_record
                mapper = mappers.get(name)
                if mapper is None:
                    skipped[f"log:{name if name in _KNOWN_SKIPPED else 'other'}"] += 1
                    continue
                event_type, fn = mapper
                mapped = fn(attrs)
                nanos = record.time_unix_nano or record.observed_time_unix_nano or None
                timestamp = _timestamp(nanos) or _iso(attrs.get("event.timestamp"))
                if mapped is None or timestamp is None:
                    skipped[f"log:{name} (incomplete)"] += 1
                    continue
                fields, used = mapped
                identity = _log_identity(
                    name,
                    nanos,
                    proto_id(record.trace_id, length=16),
                    proto_id(record.span_id, length=8),
                    pieces,
                )
                # _Builder.emit
                event: dict[str, Any] = {
                    "event_type": event_type,
                    "timestamp": timestamp,
                    "event_id": identity,
                    "source": SOURCE,
                }
                session = _session(attrs)
                if session:
                    event["session_id"] = session
                for field_name, value in fields.items():
                    if value is not None:
                        event[field_name] = value
                events.append(event)
                keep = _KEEP.get(used)
                if keep is None:
                    keep = _KEEP[used] = _CONTEXT_KEYS.union(used)
                dropped = [k for k in attrs if k not in keep]
                if dropped:
                    dropped_counts.update(dropped)
    return result


__all__ = ["lazy_request_class", "map_logs_fast"]
