"""The OTLP/HTTP receiver: ``POST /v1/logs``, ``/v1/metrics``, ``/v1/traces``.

Claude Code (``OTEL_EXPORTER_OTLP_ENDPOINT=http://host:8787``, protocol ``http/protobuf`` or
``http/json``) and any OpenTelemetry SDK or Collector export here. The body goes through
`ai_telemetry.collect.otlp.otlp_to_events` (the mapping ``import otlp`` uses), then the one
writer, as events with source ``otlp:<token name>``; `import otlp`'s double-count rule holds:
tool calls, skills and session starts of a session the Claude Code hook already recorded are
left out.

The OTLP specification's HTTP contract: the answer is the signal's ``Export*ServiceResponse``
in the request's encoding, with ``partial_success`` (the rejected count and the first
messages) when the privacy guard or the validation refused some events; 400 with a
``google.rpc.Status`` for data that cannot be read (not retryable); 413 over the body caps; 415
for another content type; 503 with ``Retry-After`` when the writer is busy.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ai_telemetry.collect.otlp import Kind, OtlpResult, otlp_to_events
from ai_telemetry.errors import CollectorError
from ai_telemetry.serve.body import BodyError, read_body
from ai_telemetry.serve.context import RETRY_AFTER_SECONDS, RouteSpec, ServerContext
from ai_telemetry.serve.ingest import error_responses, write_batch
from ai_telemetry.serve.writer import BatchResult

ORIGIN: Final = "otlp"
PROTOBUF: Final = "application/x-protobuf"
JSON: Final = "application/json"
_INLINE_BYTES: Final = 256 * 1024
"""Bodies up to this size are mapped on the event loop; larger ones on a worker thread."""

REJECTED_FIELD: Final[dict[Kind, str]] = {
    "logs": "rejected_log_records",
    "metrics": "rejected_data_points",
    "traces": "rejected_spans",
}
_JSON_FIELD: Final[dict[Kind, str]] = {
    "logs": "rejectedLogRecords",
    "metrics": "rejectedDataPoints",
    "traces": "rejectedSpans",
}


def _encoding(content_type: str) -> str | None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/x-protobuf", "application/protobuf"):
        return PROTOBUF
    if media == "application/json":
        return JSON
    return None


def _response_message(kind: Kind) -> Any:
    if kind == "logs":
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

        return logs_service_pb2.ExportLogsServiceResponse()
    if kind == "metrics":
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

        return metrics_service_pb2.ExportMetricsServiceResponse()
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    return trace_service_pb2.ExportTraceServiceResponse()


def export_response(kind: Kind, encoding: str, *, rejected: int, message: str) -> Response:
    """200 with the signal's export response (``partial_success`` when something was refused)."""
    if encoding == JSON:
        body: dict[str, Any] = {}
        if rejected or message:
            body["partialSuccess"] = {_JSON_FIELD[kind]: str(rejected), "errorMessage": message}
        return Response(orjson.dumps(body), media_type=JSON)
    reply = _response_message(kind)
    if rejected or message:
        setattr(reply.partial_success, REJECTED_FIELD[kind], rejected)
        reply.partial_success.error_message = message
    return Response(reply.SerializeToString(), media_type=PROTOBUF)


def status_response(
    status: int, message: str, encoding: str | None, *, retry: bool = False
) -> Response:
    """An error as the spec's ``google.rpc.Status`` (protobuf or JSON), with ``Retry-After``
    on 429/503."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if retry else None
    code = 14 if retry else 3  # UNAVAILABLE, INVALID_ARGUMENT
    if encoding == PROTOBUF:
        from google.rpc import status_pb2  # type: ignore[import-untyped]

        reply = status_pb2.Status(code=code, message=message)
        return Response(
            reply.SerializeToString(), status_code=status, media_type=PROTOBUF, headers=headers
        )
    return Response(
        orjson.dumps({"code": code, "message": message}),
        status_code=status,
        media_type=JSON,
        headers=headers,
    )


def rejection_summary(result: BatchResult, *, limit: int = 3) -> tuple[int, str]:
    """(rejected count, the first few messages joined) of a written batch."""
    messages = [o.message or "" for o in result.outcomes if o.status == "rejected"]
    text = "; ".join(m for m in messages[:limit] if m)
    if len(messages) > limit:
        text += f"; and {len(messages) - limit} more"
    return len(messages), text


def _receiver(ctx: ServerContext, kind: Kind) -> Any:
    async def receive(request: Request) -> Response:
        encoding = _encoding(request.headers.get("content-type", ""))
        if encoding is None:
            return status_response(
                415, "OTLP/HTTP takes application/x-protobuf or application/json", None
            )
        try:
            body = await read_body(request, ctx.options.limits)
        except BodyError as exc:
            return status_response(exc.status, str(exc), encoding)
        try:
            if len(body) <= _INLINE_BYTES:
                mapped: OtlpResult = otlp_to_events(body, kind=kind, content_type=encoding)
            else:
                mapped = await run_in_threadpool(
                    otlp_to_events, body, kind=kind, content_type=encoding
                )
        except CollectorError as exc:
            return status_response(400, str(exc), encoding)
        if not mapped.events:
            return export_response(kind, encoding, rejected=0, message="")
        written = await write_batch(
            ctx,
            mapped.events,
            origin=ORIGIN,
            sender=request.state.principal.name,
            skip_hooked=True,
        )
        if isinstance(written, Response):
            error = orjson.loads(bytes(written.body)).get("error", "unavailable")
            return status_response(written.status_code, str(error), encoding, retry=True)
        rejected, message = rejection_summary(written)
        return export_response(kind, encoding, rejected=rejected, message=message)

    receive.__name__ = f"post_{kind}"
    receive.__doc__ = f"OTLP/HTTP {kind} export (protobuf or JSON, gzip allowed)."
    return receive


def routes(ctx: ServerContext) -> list[RouteSpec]:
    """``POST /v1/logs``, ``/v1/metrics``, ``/v1/traces``."""
    kinds: tuple[Kind, ...] = ("logs", "metrics", "traces")
    return [RouteSpec("POST", f"/v1/{kind}", _receiver(ctx, kind)) for kind in kinds]


def _operation(kind: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": f"OTLP/HTTP {kind} export (protobuf or JSON; gzip allowed)",
            "operationId": f"otlp_{kind}",
            "requestBody": {
                "required": True,
                "content": {
                    PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
                    JSON: {"schema": {"type": "object"}},
                },
            },
            "responses": {
                "200": {
                    "description": "Export response, with partialSuccess when some were refused",
                    "content": {
                        JSON: {"schema": {"type": "object"}},
                        PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                **{
                    code: {
                        **item,
                        "content": {
                            JSON: {"schema": {"type": "object"}},
                            PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
                        },
                    }
                    for code, item in error_responses(400, 401, 403, 408, 413, 415, 503).items()
                },
            },
        }
    }


OPENAPI_PATHS: Final[dict[str, Any]] = {
    f"/v1/{kind}": _operation(kind) for kind in ("logs", "metrics", "traces")
}

__all__ = ["OPENAPI_PATHS", "export_response", "rejection_summary", "routes", "status_response"]
