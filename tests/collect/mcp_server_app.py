"""A real MCP server (the ``mcp`` package's MCPServer, over stdio) with tracked async tools.

Started as a subprocess by ``test_mcp.py``; the log path comes from ``AI_TELEMETRY_LOG_PATH``.
This is the copy-paste pattern of docs/collect/mcp.md: ``@server.tool()`` outside,
``@ai_telemetry.track_tool_call(...)`` inside, so the recorded duration is the tool's own.
"""

from __future__ import annotations

import asyncio

from mcp.server.mcpserver import MCPServer

import ai_telemetry

# "write": each call is on disk before the tool returns, so nothing is lost when the client
# ends this process at the close of its session.
ai_telemetry.configure(durability="write")

server = MCPServer("docs")


@server.tool()
@ai_telemetry.track_tool_call("mcp__docs__search_docs")
async def search_docs(query: str) -> list[str]:
    """Search the documentation (a stand-in: a short wait, then a canned answer)."""
    await asyncio.sleep(0.02)
    return [f"{query}: see docs/collect/mcp.md"]


@server.tool()
@ai_telemetry.track_tool_call("mcp__docs__divide")
async def divide(a: float, b: float) -> float:
    """Divide a by b; b = 0 raises ZeroDivisionError, which MCP turns into an error result."""
    await asyncio.sleep(0.01)
    return a / b


if __name__ == "__main__":
    server.run("stdio")
