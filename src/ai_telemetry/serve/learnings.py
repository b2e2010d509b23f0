"""Shared learnings over HTTP (issue 19 §3): one project subscribes to another's lessons.

- ``GET /api/learnings?project=``: the bundle of this server's learning entries (the
  ``<repo>/.claude/History`` folder), as ``learnings export`` writes it (read roles);
- ``POST /api/learnings``: import a bundle, as ``learnings import`` does (write roles): the
  privacy guard on every text line, de-duplicated by content hash, ids renumbered; 200 with
  what was written, skipped and renumbered.

Both are thin adapters over `ai_telemetry.collect.learning_bundle`; imports run one at a time
(the next free id is read, then written).
"""

from __future__ import annotations

import threading
from typing import Any, Final

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ai_telemetry.errors import AITelemetryError
from ai_telemetry.serve.body import BodyError, read_body
from ai_telemetry.serve.context import RouteSpec, ServerContext
from ai_telemetry.serve.ingest import error_response, error_responses

HISTORY_DIR: Final = (".claude", "History")


def routes(ctx: ServerContext) -> list[RouteSpec]:
    """``GET`` and ``POST /api/learnings``."""
    history_dir = ctx.options.repo.joinpath(*HISTORY_DIR)
    importing = threading.Lock()

    async def get_learnings(request: Request) -> Response:
        """This server's learning entries as a bundle (learnings export)."""
        from ai_telemetry.collect.learning_bundle import export_bundle

        project = request.query_params.get("project") or None
        try:
            result = await run_in_threadpool(export_bundle, history_dir, project=project)
        except AITelemetryError as exc:
            return error_response(404, str(exc))
        return Response(result.data, media_type="application/json")

    async def post_learnings(request: Request) -> Response:
        """Import a bundle (learnings import); 200 with what was written."""
        from ai_telemetry.collect.learning_bundle import import_bundle

        try:
            body = await read_body(request, ctx.options.limits)
        except BodyError as exc:
            return error_response(exc.status, str(exc))

        def work() -> dict[str, Any]:
            with importing:
                result = import_bundle(body, history_dir, where="request body")
            return {
                "written": [p.name for p in result.written],
                "duplicates": result.duplicates,
                "renumbered": result.renumbered,
                "redacted": result.redacted,
                "problems": result.problems,
            }

        try:
            answer = await run_in_threadpool(work)
        except AITelemetryError as exc:
            return error_response(400, str(exc))
        return Response(orjson.dumps(answer), media_type="application/json")

    return [
        RouteSpec("GET", "/api/learnings", get_learnings),
        RouteSpec("POST", "/api/learnings", post_learnings),
    ]


_BUNDLE = {"type": "object", "description": "a learnings bundle (docs/collect/learnings.md)"}
OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/api/learnings": {
        "get": {
            "summary": "This project's learning entries as a bundle",
            "operationId": "getLearnings",
            "parameters": [
                {
                    "name": "project",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "the project named in the bundle's provenance",
                }
            ],
            "responses": {
                "200": {
                    "description": "The bundle `learnings export` writes",
                    "content": {"application/json": {"schema": _BUNDLE}},
                },
                **error_responses(401, 403, 404),
            },
        },
        "post": {
            "summary": "Import a learnings bundle",
            "operationId": "postLearnings",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _BUNDLE}},
            },
            "responses": {
                "200": {
                    "description": "What was written, skipped as a duplicate and renumbered",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **error_responses(400, 401, 403, 413),
            },
        },
    }
}

__all__ = ["OPENAPI_PATHS", "routes"]
