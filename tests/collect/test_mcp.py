"""track_tool_call on async MCP tools, through a real MCP server and client session over stdio."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

SERVER = Path(__file__).with_name("mcp_server_app.py")


async def _session_calls(log_path: Path) -> list[Any]:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=[str(SERVER)],
        env={
            "AI_TELEMETRY_LOG_PATH": str(log_path),
            "AI_TELEMETRY_DIR": str(log_path.parent),
            "PATH": os.environ.get("PATH", ""),
        },
        cwd=str(log_path.parent),
    )
    # The server's own INFO lines (and the traceback MCP logs for the failing tool) go to null.
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = await session.list_tools()
            ok = await session.call_tool("search_docs", {"query": "retention"})
            ok2 = await session.call_tool("divide", {"a": 6, "b": 3})
            bad = await session.call_tool("divide", {"a": 1, "b": 0})
            return [tools, ok, ok2, bad]


def _tool_calls(log_path: Path) -> list[dict[str, Any]]:
    lines = log_path.read_bytes().splitlines()
    events = [orjson.loads(line) for line in lines if line.strip()]
    return [e for e in events if e["event_type"] == "tool_call"]


@pytest.fixture(scope="module")
def mcp_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Any], list[dict[str, Any]]]:
    """One real server process and client session, shared by the checks below."""
    log_path = tmp_path_factory.mktemp("mcp") / "events.jsonl"
    results = asyncio.run(asyncio.wait_for(_session_calls(log_path), timeout=60))
    return results, _tool_calls(log_path)


def test_client_sees_the_tools_and_their_results(mcp_run: tuple[list[Any], list[Any]]) -> None:
    """The decorator keeps the tools' signatures, so MCP lists them and calls them normally."""
    (tools, ok, ok2, bad), _ = mcp_run
    assert {"search_docs", "divide"} == {t.name for t in tools.tools}
    assert (
        "query"
        in next(t for t in tools.tools if t.name == "search_docs").input_schema["properties"]
    )
    assert (ok.is_error, ok2.is_error, bad.is_error) == (False, False, True)
    assert "retention: see docs/collect/mcp.md" in ok.content[0].text


def test_each_call_is_one_tool_call_event(mcp_run: tuple[list[Any], list[Any]]) -> None:
    """Three calls through the session give three tool_call events, in call order."""
    _, events = mcp_run
    assert [e["tool"] for e in events] == [
        "mcp__docs__search_docs",
        "mcp__docs__divide",
        "mcp__docs__divide",
    ]


def test_outcomes_follow_the_tool(mcp_run: tuple[list[Any], list[Any]]) -> None:
    """Returning is success; raising (ZeroDivisionError) is error with the exception's type."""
    _, events = mcp_run
    assert [e["outcome"] for e in events] == ["success", "success", "error"]
    assert events[2].get("error_type") == "ZeroDivisionError"


def test_durations_are_the_tools_own(mcp_run: tuple[list[Any], list[Any]]) -> None:
    """Durations are positive and at least the tools' own sleeps (20 ms and 10 ms)."""
    _, events = mcp_run
    durations = [e["duration_seconds"] for e in events]
    assert durations[0] >= 0.02
    assert durations[1] >= 0.01 and durations[2] >= 0.01
    assert all(d < 5 for d in durations)


def test_mcp_server_is_recorded(mcp_run: tuple[list[Any], list[Any]]) -> None:
    """Tools named mcp__<server>__<tool> carry their server, as the contract asks."""
    _, events = mcp_run
    assert {"docs"} == {e.get("mcp_server") for e in events}
