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
            if isinstance(item, Mapping):
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
    if not isinstance(value, Mapping):
        return None
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


def attributes(raw: object) -> dict[str, Any]:
    """An OTLP ``KeyValue`` list as a dict (later duplicates win, as in the OTel SDKs)."""
    out: dict[str, Any] = {}
    if isinstance(raw, list):
        for kv in raw:
            if isinstance(kv, Mapping):
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


def decode_protobuf(data: bytes, kind: Kind | None) -> tuple[Kind, dict[str, Any]]:
    """Parse an OTLP/protobuf export request into the OTLP/JSON dict shape.

    Raises:
        CollectorError: the bytes are not an export request of that kind.
    """
    from google.protobuf import json_format  # type: ignore[import-untyped]

    chosen = kind or guess_proto_kind(data)
    message = _parse_proto(data, chosen)
    tree = json_format.MessageToDict(message, preserving_proto_field_name=False)
    return chosen, tree


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
