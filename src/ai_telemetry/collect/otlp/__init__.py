"""OTLP (OpenTelemetry Protocol) -> events: the mapping the HTTP receiver and the importer share.

    from ai_telemetry.collect.otlp import otlp_to_events

    result = otlp_to_events(body, content_type="application/x-protobuf")  # kind from the payload
    sink.write(result.events)
    result.skipped  # Counter: "log:user_prompt" -> 3, "metric:claude_code.token.usage (...)" -> 8

`otlp_to_events` takes one export request (``ExportLogsServiceRequest``,
``ExportMetricsServiceRequest`` or ``ExportTraceServiceRequest``) as OTLP/JSON or OTLP/protobuf
bytes, or as an already-decoded OTLP/JSON mapping. `import_otlp_file` (in ``importer``) reads
files, JSON Lines of several requests included, and writes through the privacy guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ai_telemetry.collect.otlp.decode import (
    KINDS,
    Kind,
    decode_json,
    detect_kind,
    message_to_dict,
    parse_protobuf,
)
from ai_telemetry.collect.otlp.mapping import OtlpResult, map_logs, map_logs_message, map_metrics
from ai_telemetry.collect.otlp.proto_logs import map_logs_fast
from ai_telemetry.collect.otlp.spans import map_traces
from ai_telemetry.errors import CollectorError

__all__ = ["KINDS", "Kind", "OtlpResult", "map_payload", "otlp_to_events"]

_PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf", "application/octet-stream")


def map_payload(payload: Mapping[str, Any], kind: Kind | None = None) -> OtlpResult:
    """Map one decoded OTLP/JSON export request.

    Raises:
        CollectorError: the kind is not given and the payload has none of the top-level keys.
    """
    if not isinstance(payload, Mapping):
        raise CollectorError(
            f"an OTLP/JSON export request is a JSON object, got {type(payload).__name__}"
        )
    chosen = kind or detect_kind(payload)
    if chosen is None:
        if not payload:
            raise CollectorError("empty OTLP/JSON object: pass --kind logs|metrics|traces")
        keys = ", ".join(sorted(map(str, payload))[:5])
        raise CollectorError(
            f"not an OTLP export request: top-level keys are {keys}; expected resourceLogs, "
            "resourceMetrics or resourceSpans"
        )
    if chosen == "logs":
        return map_logs(payload)
    if chosen == "metrics":
        return map_metrics(payload)
    return map_traces(payload)


def otlp_to_events(
    payload: bytes | str | Mapping[str, Any],
    *,
    kind: Kind | None = None,
    content_type: str = "application/json",
) -> OtlpResult:
    """Turn one OTLP export request into events.

    Args:
        payload: the request body (bytes or text), or an already-decoded OTLP/JSON mapping.
        kind: ``logs``, ``metrics`` or ``traces``; detected from the payload when None
            (JSON: the top-level key; protobuf: the message layout). The receiver knows it
            from the URL path (``/v1/logs`` ...) and should pass it.
        content_type: ``application/json`` or ``application/x-protobuf`` (parameters such as
            ``; charset=utf-8`` are ignored).

    Returns:
        The events (``result.events``), the number of records read, and what was skipped.

    Raises:
        CollectorError: the payload is not an OTLP export request of a known kind, or the
            content type is not one of the two OTLP/HTTP encodings.
    """
    if kind is not None and kind not in KINDS:
        raise CollectorError(f"unknown OTLP kind {kind!r}; use logs, metrics or traces")
    if isinstance(payload, Mapping):
        return map_payload(payload, kind)
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _PROTOBUF_TYPES:
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        if kind == "logs":
            fast = map_logs_fast(data)  # attributes decoded lazily, once per distinct pair
            if fast is not None:
                return fast
        chosen, message = parse_protobuf(data, kind)
        if chosen == "logs":
            return map_logs_message(message)  # read directly, no OTLP/JSON tree
        return map_payload(message_to_dict(message), chosen)
    if media == "application/json" or media.endswith("+json"):
        return map_payload(decode_json(payload), kind)
    raise CollectorError(
        f"unsupported content type {content_type!r}; OTLP/HTTP uses application/json or "
        "application/x-protobuf"
    )
