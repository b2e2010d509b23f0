"""``POST /v1/events``: events as JSON Lines or a JSON array, into the log through the writer.

The answer is 202 with one result per event (``accepted`` with its ``event_id``, ``duplicate``
when that id is in the log already, ``rejected`` with the validation or privacy message), so a
client can retry a whole batch safely: what was stored is not stored twice. A 202 is sent only
once the accepted events are in the log. Each event's ``source`` becomes
``<its source, else serve>:<token name>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ai_telemetry.errors import LogError
from ai_telemetry.serve.body import BodyError, read_body
from ai_telemetry.serve.context import RETRY_AFTER_SECONDS, RouteSpec, ServerContext
from ai_telemetry.serve.writer import BatchResult, Outcome, Overloaded

ORIGIN: Final = "serve"
MAX_EVENTS: Final = 20_000
"""Events one request may carry (413 beyond): a batch holds the one writer for its length."""
_INLINE_BYTES: Final = 256 * 1024


def error_response(status: int, message: str, *, retry: bool = False) -> Response:
    """``{"error": message}`` with ``Retry-After`` on 429/503."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if retry else None
    return Response(
        orjson.dumps({"error": message}),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def parse_events(body: bytes) -> list[Any]:
    """The items of a JSON array, or the values of JSON Lines (a line that is not JSON becomes
    a `_Broken` placeholder, rejected with its line number).

    Raises:
        BodyError: 400 for a body that is an array but not valid JSON, or no text at all.
    """
    stripped = body.strip()
    if not stripped:
        return []
    if stripped[:1] == b"[":
        try:
            items = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise BodyError(400, f"the body is not a valid JSON array ({exc})") from None
        if not isinstance(items, list):
            raise BodyError(400, "the body is not a JSON array")
        return items
    events: list[Any] = []
    for number, line in enumerate(stripped.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            events.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            events.append(_Broken(f"line {number}: not JSON ({exc})"))
    return events


class _Broken:
    """A JSON Lines line that did not parse (kept in place so the results line up)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _result_json(index: int, outcome: Outcome) -> dict[str, Any]:
    item: dict[str, Any] = {"index": index, "status": outcome.status}
    if outcome.event_id is not None:
        item["event_id"] = outcome.event_id
    if outcome.message is not None:
        item["error"] = outcome.message
    return item


def batch_document(result: BatchResult) -> dict[str, Any]:
    """The 202 body: counts and one result per event, in order."""
    results: list[dict[str, Any]] = []
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "covered_by_hook": 0}
    for index, outcome in enumerate(result.outcomes):
        status = outcome.status
        counts[status] += 1
        if outcome.message is None and outcome.event_id is not None:
            results.append({"index": index, "status": status, "event_id": outcome.event_id})
        else:
            results.append(_result_json(index, outcome))
    return {
        "accepted": counts["accepted"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"],
        "results": results,
    }


async def write_batch(
    ctx: ServerContext,
    events: Sequence[Mapping[str, Any]],
    *,
    origin: str,
    sender: str,
    skip_hooked: bool = False,
) -> BatchResult | Response:
    """Hand a batch to the writer; an error response when it is busy or the log fails."""
    try:
        return await ctx.writer.write(events, origin=origin, sender=sender, skip_hooked=skip_hooked)
    except Overloaded as exc:
        return error_response(503, f"{exc}; retry after {RETRY_AFTER_SECONDS} s", retry=True)
    except LogError as exc:
        return error_response(503, f"the log cannot be written: {exc}", retry=True)


def routes(ctx: ServerContext) -> list[RouteSpec]:
    """``POST /v1/events``."""

    async def post_events(request: Request) -> Response:
        """Append events (JSON Lines or a JSON array, gzip allowed); 202 with per-event results."""
        try:
            body = await read_body(request, ctx.options.limits)
            # a large body is parsed on a worker thread: the event loop keeps serving
            items = (
                parse_events(body)
                if len(body) <= _INLINE_BYTES
                else await run_in_threadpool(parse_events, body)
            )
        except BodyError as exc:
            return error_response(exc.status, str(exc))
        if len(items) > MAX_EVENTS:
            return error_response(
                413,
                f"{len(items):,} events in one request, over {MAX_EVENTS:,}; send smaller batches",
            )
        broken: dict[int, str] = {}
        events: list[Mapping[str, Any]] = []
        positions: list[int] = []
        for index, item in enumerate(items):
            if isinstance(item, _Broken):
                broken[index] = item.message
            elif not isinstance(item, dict):
                broken[index] = f"item {index}: an event is a JSON object, got {_kind(item)}"
            else:
                positions.append(index)
                events.append(item)
        written = await write_batch(ctx, events, origin=ORIGIN, sender=request.state.principal.name)
        if isinstance(written, Response):
            return written
        if broken:
            merged: list[Outcome] = [Outcome("rejected")] * len(items)
            for index, message in broken.items():
                merged[index] = Outcome("rejected", None, message)
            for index, outcome in zip(positions, written.outcomes, strict=True):
                merged[index] = outcome
            written.outcomes = merged
        return Response(
            orjson.dumps(batch_document(written)), status_code=202, media_type="application/json"
        )

    return [RouteSpec("POST", "/v1/events", post_events)]


def _kind(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


_RESULT_SCHEMA: Final = {
    "type": "object",
    "required": ["accepted", "duplicates", "rejected", "results"],
    "properties": {
        "accepted": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "rejected": {"type": "integer"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "status"],
                "properties": {
                    "index": {"type": "integer"},
                    "status": {"enum": ["accepted", "duplicate", "rejected"]},
                    "event_id": {"type": "string"},
                    "error": {"type": "string"},
                },
            },
        },
    },
}

ERROR_SCHEMA: Final = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}


def error_responses(*codes: int) -> dict[str, Any]:
    """OpenAPI responses for error codes, each ``{"error": "..."}``."""
    reasons = {
        400: "Bad data (not retryable)",
        401: "No token, or an unknown or revoked one",
        403: "The token's role may not call this route",
        404: "Not found",
        408: "The body did not arrive in time",
        413: "Over the body limit",
        415: "Unsupported Content-Type or Content-Encoding",
        503: "Busy or shutting down: retry after Retry-After seconds",
    }
    return {
        str(code): {
            "description": reasons[code],
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
        for code in codes
    }


OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/v1/events": {
        "post": {
            "summary": "Append events (JSON Lines or a JSON array; gzip allowed)",
            "operationId": "postEvents",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            },
            "responses": {
                "202": {
                    "description": "Stored: one result per event (accepted/duplicate/rejected)",
                    "content": {"application/json": {"schema": _RESULT_SCHEMA}},
                },
                **error_responses(400, 401, 403, 408, 413, 415, 503),
            },
        }
    }
}

__all__ = [
    "OPENAPI_PATHS",
    "batch_document",
    "error_response",
    "error_responses",
    "parse_events",
    "routes",
    "write_batch",
]
