"""``POST /v1/hooks/claude-code``: Claude Code's ``http`` hooks, mapped as ``ai-telemetry hook``.

``claude-code install --server URL --http-hooks --token-env VAR`` writes, for every hook event,
``{"type": "http", "url": ".../v1/hooks/claude-code", "headers": {"Authorization": "Bearer
$VAR"}, "allowedEnvVars": ["VAR"]}``: Claude Code posts the hook's JSON payload here, so no
process starts per tool call. The payload goes through the same `HookEvent` as the command
hook (Pre/Post pairing and the tool-call count in ``hook-state/`` of the server's telemetry
directory, one file per session), and its events through the server's one writer (privacy
guard, validation, ``source`` = ``hook:<token name>``).

The answer is a 2xx with an empty body (Claude Code's "success, nothing to add"), except when
the tool-call limit (the kill switch, ``AI_TELEMETRY_TOOL_CALL_LIMIT`` of the server) blocks a
PreToolUse: then the JSON body carries the block decision
(``hookSpecificOutput.permissionDecision = "deny"`` with the reason), which Claude Code
applies as it does the command hook's exit code 2. A payload's ``transcript_path`` names a
file on the sender's machine: the server never reads it (a context snapshot sent this way
carries no size).
"""

from __future__ import annotations

import time
from typing import Any, Final

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ai_telemetry.serve.body import BodyError, read_body
from ai_telemetry.serve.context import RouteSpec, ServerContext
from ai_telemetry.serve.ingest import error_response, error_responses, write_batch

PATH: Final = "/v1/hooks/claude-code"
ORIGIN: Final = "hook"
LOCK_WAIT: Final = 0.2
"""Seconds a request waits for its session's state lock (then it is skipped, as the hook does)."""


def block_decision(event_name: str, reason: str) -> dict[str, Any]:
    """The JSON body that blocks a tool call (Claude Code's hook output schema)."""
    return {
        "hookSpecificOutput": {
            "hookEventName": event_name or "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        },
    }


def routes(ctx: ServerContext) -> list[RouteSpec]:
    """``POST /v1/hooks/claude-code``."""
    state_dir = ctx.settings.telemetry_dir / "hook-state"

    async def post_hook(request: Request) -> Response:
        """One Claude Code hook payload: its events into the log; empty 2xx, or the block."""
        try:
            body = await read_body(request, ctx.options.limits)
        except BodyError as exc:
            return error_response(exc.status, str(exc))
        try:
            payload = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as exc:
            return error_response(400, f"the body is not JSON ({exc}); send the hook's payload")
        if not isinstance(payload, dict):
            return error_response(400, "the body is not a JSON object (a hook payload is one)")
        payload.pop("transcript_path", None)  # a path on the sender's machine

        def work() -> tuple[list[dict[str, Any]], str]:
            from ai_telemetry.collect.claude_code.hook import HookEvent

            hook = HookEvent(payload, now=time.time())
            return hook.process(state_dir, limit=ctx.settings.tool_call_limit, lock_wait=LOCK_WAIT)

        events, reason = await run_in_threadpool(work)
        if events:
            written = await write_batch(
                ctx, events, origin=ORIGIN, sender=request.state.principal.name
            )
            if isinstance(written, Response):
                return written  # 503: Claude Code shows a non-blocking error
        if reason:
            return JSONResponse(block_decision(str(payload.get("hook_event_name", "")), reason))
        return Response(status_code=200)

    return [RouteSpec("POST", PATH, post_hook)]


OPENAPI_PATHS: Final[dict[str, Any]] = {
    PATH: {
        "post": {
            "summary": "A Claude Code hook payload (http hook): mapped as `ai-telemetry hook`",
            "operationId": "postClaudeCodeHook",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": {
                    "description": "Recorded: an empty body, or the block decision of the "
                    "tool-call limit (hookSpecificOutput.permissionDecision deny)",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **error_responses(400, 401, 403, 408, 413, 415, 503),
            },
        }
    }
}

__all__ = ["OPENAPI_PATHS", "PATH", "block_decision", "routes"]
