"""Fast JSON lines for the SDK's ``tool_call`` events, still scrubbed and validated.

`track_tool_call` records a tuple per call; most of an event is the same call after call (the
tool's name, its MCP server, the error type, the session and task ids, the source, the
project). The sink scrubs and validates that part once per distinct tuple and keeps its JSON;
each event then only adds what changes (timestamp, event id, outcome, duration), which are
produced by this code in their checked forms. The result is byte-for-byte what
``LogSink.write`` would produce, for a fraction of the work (see docs/performance.md).
"""

from __future__ import annotations

import orjson

from ai_telemetry.errors import EventValidationError, PrivacyViolation
from ai_telemetry.events.schema import DURATION_MAX, new_event_id, timestamp_from_unix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ai_telemetry.log.sink import LogSink

_OUTCOMES = {"success": b'"success"', "error": b'"error"'}
_CACHE_MAX = 10_000


class ToolCallEncoder:
    """Turns the SDK's tool-call tuples into log lines through one sink's guard and contract.

    Args:
        sink: the sink whose privacy guard, validation and defaults (source, project) apply.
    """

    def __init__(self, sink: LogSink) -> None:
        self._sink = sink
        self._static: dict[tuple[Any, ...], bytes | str] = {}
        """(tool, error type, task id, session id) -> JSON members, or the rejection reason."""

    def _static_part(self, key: tuple[Any, ...]) -> bytes | str:
        """Scrub and validate everything but the per-call fields, once per distinct key."""
        tool, error_type, task_id, session_id = key
        template: dict[str, Any] = {
            "timestamp": "2000-01-01T00:00:00Z",
            "event_type": "tool_call",
            "tool": tool,
            "event_id": "0",
        }
        if tool.startswith("mcp__") and (server := tool[5:].split("__", 1)[0]):
            template["mcp_server"] = server
        if error_type:
            template["error_type"] = error_type
        if task_id is not None:
            template["task_id"] = task_id
        if session_id is not None:
            template["session_id"] = session_id
        try:
            event, _, _ = self._sink.prepare(template)
        except (EventValidationError, PrivacyViolation) as exc:
            return str(exc)
        for name in ("timestamp", "event_id", "outcome", "duration_seconds"):
            event.pop(name, None)
        return orjson.dumps(event)[1:-1]  # the members, without the braces

    def encode(self, item: tuple[Any, ...]) -> bytes | str:
        """One ``\\n``-terminated JSON line for a tool-call tuple, or why it was refused."""
        _, wall_end, duration, tool, outcome, error_type, task_id, session_id = item
        key = (tool, error_type, task_id, session_id)
        static = self._static.get(key)
        if static is None:
            if len(self._static) >= _CACHE_MAX:
                self._static.clear()
            static = self._static[key] = self._static_part(key)
        if isinstance(static, str):
            return static
        if not 0 <= duration <= DURATION_MAX:  # the contract's bounds (NaN fails both)
            return f"duration_seconds: must be between 0 and {DURATION_MAX:,.0f}, got {duration!r}"
        return b"".join(
            (
                b'{"timestamp":"',
                timestamp_from_unix(wall_end).encode(),
                b'","event_id":"',
                new_event_id(int(wall_end * 1000)).encode(),
                b'","outcome":',
                _OUTCOMES[outcome],
                b',"duration_seconds":',
                repr(round(duration, 6)).encode(),
                b",",
                static,
                b"}\n",
            )
        )
