"""ai-telemetry: is our AI infrastructure getting better?

The SDK is importable from here and loads lazily, so ``import ai_telemetry`` costs next to
nothing::

    import ai_telemetry

    ai_telemetry.log_event("skill_execution", skill="test-writer", outcome="success")

    @ai_telemetry.track_tool_call("search_docs")
    async def search_docs(query: str) -> list[str]: ...

    with ai_telemetry.skill_execution("systematic-debugger") as run:
        ...  # an exception makes it "error"; run.rollback() / run.handoff() mark those
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs more than the rest of `import ai_telemetry`
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

_SDK_NAMES = frozenset(
    {
        "log_event",
        "track_tool_call",
        "skill_execution",
        "agent_task",
        "log_session_end",
        "flush",
        "configure",
        "get_client",
        "Telemetry",
    }
)

if TYPE_CHECKING:
    from ai_telemetry.collect.sdk import (
        Telemetry,
        agent_task,
        configure,
        flush,
        get_client,
        log_event,
        log_session_end,
        skill_execution,
        track_tool_call,
    )

__all__ = [
    "Telemetry",
    "agent_task",
    "configure",
    "flush",
    "get_client",
    "log_event",
    "log_session_end",
    "skill_execution",
    "track_tool_call",
]


def __getattr__(name: str) -> Any:
    if name in _SDK_NAMES:
        from ai_telemetry.collect import sdk

        value = getattr(sdk, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ai_telemetry' has no attribute {name!r}")
