"""Reading OTLP payloads: OTLP/JSON and OTLP/protobuf into one plain-dict shape.

Both encodings end up as the OTLP/JSON object tree (``resourceLogs`` / ``resourceMetrics`` /
``resourceSpans`` ...), which the mappers walk with `field`, so they never care which encoding
a payload came in. The OTLP/JSON rules handled here (OTLP specification, "JSON Protobuf
Encoding"):

- keys are lowerCamelCase, but receivers must also accept the snake_case proto field names;
- trace and span ids are hex strings (case-insensitive), not base64 as protobuf's own JSON
  mapping would have them; protobuf payloads converted by ``json_format`` carry base64, which
  `normalize_id` turns into lower-case hex as well;
- 64-bit integers (``timeUnixNano``, ``intValue``, ``asInt``) may be JSON strings or numbers;
- enums (span kind, status code) may be integers or their names.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, Final, Literal

from ai_telemetry.errors import CollectorError

Kind = Literal["logs", "metrics", "traces"]
KINDS: Final[tuple[Kind, ...]] = ("logs", "metrics", "traces")

TOP_KEYS: Final[dict[Kind, str]] = {
    "logs": "resourceLogs",
    "metrics": "resourceMetrics",
    "traces": "resourceSpans",
}

_HEX: Final = re.compile(r"[0-9a-fA-F]+")
_CAMEL_BOUNDARY: Final = re.compile(r"(?<!^)(?=[A-Z])")


@lru_cache(maxsize=256)
def _snake(key: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", key).lower()


def field(obj: Mapping[str, Any], key: str) -> Any:
    """``obj[key]`` by its lowerCamelCase name, or by its snake_case proto name."""
    value = obj.get(key)
    if value is None:
        value = obj.get(_snake(key))
    return value


def items(obj: Mapping[str, Any], key: str) -> Iterator[Mapping[str, Any]]:
    """The objects in the list ``obj[key]`` (camel or snake), skipping anything not an object."""
    value = field(obj, key)
    if isinstance(value, list):
        for item in value:
            if type(item) is dict or isinstance(item, Mapping):  # the ABC check is slow
                yield item


def as_int(value: object) -> int | None:
    """An OTLP 64-bit integer (JSON number or decimal string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def as_float(value: object) -> float | None:
    """A finite number from a JSON number or a numeric string, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def normalize_id(value: object, *, length: int) -> str | None:
    """A trace id (``length`` 16 bytes) or span id (8 bytes) as lower-case hex, or None.

    Accepts hex (OTLP/JSON) and base64 (protobuf's JSON mapping). An all-zero id is invalid
    in OTLP and comes back as None.
    """
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if len(text) == 2 * length and _HEX.fullmatch(text):
        hexed = text.lower()
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != length:
            return None
        hexed = raw.hex()
    return None if hexed.strip("0") == "" else hexed


def any_value(value: object) -> Any:
    """Decode an OTLP ``AnyValue`` into a plain Python value (None when empty or unknown)."""
    if type(value) is not dict and not isinstance(value, Mapping):
        return None
    if len(value) == 1:  # the usual shape, one member of the oneof: look it up directly
        key, raw = next(iter(value.items()))
        decode = _ANY_BY_KEY.get(key)
        if decode is not None and raw is not None:
            return decode(raw)
    for key, decoder in _ANY_DECODERS:
        raw = field(value, key)
        if raw is not None:
            return decoder(raw)
    return None


def _array(raw: Any) -> list[Any]:
    values = field(raw, "values") if isinstance(raw, Mapping) else raw
    return [any_value(v) for v in values] if isinstance(values, list) else []


def _kvlist(raw: Any) -> dict[str, Any]:
    values = field(raw, "values") if isinstance(raw, Mapping) else raw
    return attributes(values) if isinstance(values, list) else {}


def _bytes(raw: Any) -> str:
    return str(raw)


_ANY_DECODERS: Final = (
    ("stringValue", str),
    ("boolValue", bool),
    ("intValue", as_int),
    ("doubleValue", as_float),
    ("arrayValue", _array),
    ("kvlistValue", _kvlist),
    ("bytesValue", _bytes),
)


_ANY_BY_KEY: Final[dict[str, Any]] = {
    **dict(_ANY_DECODERS),
    **{_snake(key): decoder for key, decoder in _ANY_DECODERS},
}


def attributes(raw: object) -> dict[str, Any]:
    """An OTLP ``KeyValue`` list as a dict (later duplicates win, as in the OTel SDKs)."""
    out: dict[str, Any] = {}
    if isinstance(raw, list):
        for kv in raw:
            if type(kv) is dict or isinstance(kv, Mapping):
                key = kv.get("key")
                if isinstance(key, str):
                    out[key] = any_value(kv.get("value"))
    return out


def detect_kind(payload: Mapping[str, Any]) -> Kind | None:
    """Which export request a decoded payload is, from its top-level key."""
    for kind, key in TOP_KEYS.items():
        if field(payload, key) is not None:
            return kind
    return None


# --- protobuf --------------------------------------------------------------------------------


def _request_class(kind: Kind) -> Any:
    if kind == "logs":
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

        return logs_service_pb2.ExportLogsServiceRequest
    if kind == "metrics":
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

        return metrics_service_pb2.ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    return trace_service_pb2.ExportTraceServiceRequest


def _parse_proto(data: bytes, kind: Kind) -> Any:
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

    message = _request_class(kind)()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise CollectorError(
            f"not an OTLP/protobuf {kind} export request ({exc}); "
            "check --kind and --format, or export the file as OTLP/JSON"
        ) from None
    return message


def guess_proto_kind(data: bytes) -> Kind:
    """Guess which export request a protobuf payload is.

    The three requests share their outer field numbers, so a payload parses as any of them;
    a wrong guess shows up deeper down, as fields it cannot place. The kind whose parse keeps
    the most bytes once unknown fields are dropped wins.

    Raises:
        CollectorError: no kind explains the payload better than the others.
    """
    sizes: dict[Kind, int] = {}
    for kind in KINDS:
        try:
            message = _parse_proto(data, kind)
        except CollectorError:
            continue
        message.DiscardUnknownFields()
        sizes[kind] = message.ByteSize()
    ranked = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        raise CollectorError(
            "cannot tell whether this OTLP/protobuf payload holds logs, metrics or traces; "
            "pass --kind logs|metrics|traces"
        )
    return ranked[0][0]


def parse_protobuf(data: bytes, kind: Kind | None) -> tuple[Kind, Any]:
    """Parse an OTLP/protobuf export request into its message (the kind guessed when None).

    Raises:
        CollectorError: the bytes are not an export request of that kind.
    """
    chosen = kind or guess_proto_kind(data)
    return chosen, _parse_proto(data, chosen)


def decode_protobuf(data: bytes, kind: Kind | None) -> tuple[Kind, dict[str, Any]]:
    """Parse an OTLP/protobuf export request into the OTLP/JSON dict shape.

    Raises:
        CollectorError: the bytes are not an export request of that kind.
    """
    chosen = kind or guess_proto_kind(data)
    message = _parse_proto(data, chosen)
    return chosen, message_to_dict(message)


# --- protobuf -> the OTLP/JSON tree, fast ---------------------------------------------------

_INT64_TYPES: Final = frozenset({3, 4, 6, 16, 18})
"""FieldDescriptor types JSON writes as strings: int64, uint64, fixed64, sfixed64, sint64."""
_TYPE_MESSAGE: Final = 11
_TYPE_BYTES: Final = 12
_TYPE_ENUM: Final = 14
_KEY_VALUE: Final = "opentelemetry.proto.common.v1.KeyValue"
_ANY_VALUE: Final = "opentelemetry.proto.common.v1.AnyValue"
_REPEATED: dict[str, bool] = {}


def message_to_dict(message: Any) -> dict[str, Any]:
    """The OTLP/JSON tree of a protobuf message, exactly as ``json_format.MessageToDict``
    makes it (lowerCamelCase keys, 64-bit integers as strings, bytes as base64, enums by
    name, unset fields left out; non-finite doubles stay floats, which `as_float` refuses
    as it refuses ``"NaN"``), walking ``ListFields`` with a short path for the attribute
    lists that make up most of a payload: two to four times faster, and it is the OTLP/HTTP
    receiver's hot path. ``tests/collect/test_otlp_fast_decode.py`` holds it to
    ``MessageToDict``."""
    out: dict[str, Any] = {}
    for fd, value in message.ListFields():
        kind = fd.type
        name = fd.json_name
        repeated = _REPEATED.get(fd.full_name)
        if repeated is None:
            flag = getattr(fd, "is_repeated", None)  # protobuf >= 6; older: only label
            repeated = bool(flag) if flag is not None else fd.label == 3
            _REPEATED[fd.full_name] = repeated
        if kind == _TYPE_MESSAGE:
            inner = fd.message_type.full_name
            if repeated:
                out[name] = (
                    _key_values(value)
                    if inner == _KEY_VALUE
                    else [message_to_dict(v) for v in value]
                )
            else:
                out[name] = _any_dict(value) if inner == _ANY_VALUE else message_to_dict(value)
        elif kind == _TYPE_BYTES:
            out[name] = [_b64(v) for v in value] if repeated else _b64(value)
        elif kind in _INT64_TYPES:
            out[name] = [str(v) for v in value] if repeated else str(value)
        elif kind == _TYPE_ENUM:
            names = fd.enum_type.values_by_number
            out[name] = (
                [_enum_name(names, v) for v in value] if repeated else _enum_name(names, value)
            )
        else:
            out[name] = list(value) if repeated else value
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _enum_name(names: Mapping[int, Any], number: int) -> str | int:
    found = names.get(number)
    return str(found.name) if found is not None else number


def _key_values(values: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kv in values:
        item: dict[str, Any] = {}
        if kv.key:
            item["key"] = kv.key
        if kv.HasField("value"):
            item["value"] = _any_dict(kv.value)
        out.append(item)
    return out


def _any_dict(value: Any) -> dict[str, Any]:
    which = value.WhichOneof("value")
    if which is None:
        return {}
    if which == "string_value":
        return {"stringValue": value.string_value}
    if which == "int_value":
        return {"intValue": str(value.int_value)}
    if which == "bool_value":
        return {"boolValue": value.bool_value}
    if which == "double_value":
        return {"doubleValue": value.double_value}
    if which == "bytes_value":
        return {"bytesValue": _b64(value.bytes_value)}
    if which == "array_value":
        items = value.array_value.values
        return {"arrayValue": {"values": [_any_dict(v) for v in items]} if len(items) else {}}
    if which == "kvlist_value":
        pairs = value.kvlist_value.values
        return {"kvlistValue": {"values": _key_values(pairs)} if len(pairs) else {}}
    return message_to_dict(value)  # a member added to the oneof later: the generic walk


# --- protobuf messages read directly (the logs receiver's hot path) -------------------------


def proto_any(value: Any) -> Any:
    """An ``AnyValue`` message as a plain value: exactly ``any_value(<its OTLP/JSON tree>)``
    without building the tree (``tests/collect/test_otlp_proto_logs.py`` holds the two
    together)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "bool_value":
        return value.bool_value
    if which == "double_value":
        number = value.double_value
        return number if math.isfinite(number) else None
    if which == "bytes_value":
        return _b64(value.bytes_value)
    if which == "array_value":
        return [proto_any(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return proto_attributes(value.kvlist_value.values)
    if which is None:
        return None
    return any_value(_any_dict(value))  # a member added to the oneof later


def proto_attributes(values: Any) -> dict[str, Any]:
    """A repeated ``KeyValue`` as a dict: exactly ``attributes(<its OTLP/JSON tree>)``."""
    out: dict[str, Any] = {}
    for kv in values:
        key = kv.key
        if key:
            out[key] = proto_any(kv.value) if kv.HasField("value") else None
    return out


def proto_id(raw: bytes, *, length: int) -> str | None:
    """A trace or span id's bytes as lower-case hex: exactly ``normalize_id`` of its base64."""
    if len(raw) != length or not any(raw):
        return None
    return raw.hex()


def decode_json(data: bytes | str) -> Any:
    """Parse JSON text.

    Raises:
        CollectorError: the text is not JSON.
    """
    import orjson

    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CollectorError(f"not valid OTLP/JSON ({exc})") from None
