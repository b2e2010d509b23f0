"""MCP over stdio with the pipes on the event loop.

The SDK's `mcp.server.stdio.stdio_server` reads and writes the standard streams through
`anyio.wrap_file`: every line read, every write and every flush is a hop to a worker thread and
back (three per answer, one per request). Here the pipes are asyncio's: the request line is
read, and the answer written, by the event loop itself. The SDK still does everything else
(``stdio_server`` is given our two streams and parses and serialises the messages as always).
Measured on the demo's cached `get_metrics` (a raw JSON-RPC client, quiet machine, 4 interleaved
runs of 300 calls): 1.04-1.16 ms a call against 1.31-1.73 ms with the SDK's streams
(docs/performance.md, "MCP server").

As the SDK does, the process's own fd 0 and fd 1 are pointed elsewhere while serving (stdin at
the null device, stdout at stderr), so nothing else in the process can read the requests or
write stray bytes into the protocol.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

LINE_LIMIT: Final = 64 * 1024 * 1024
"""The longest request line read (a JSON-RPC message); the SDK's reader has no limit at all."""


class _Lines:
    """The request lines, as the `stdio_server` reader iterates them."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _Writer:
    """The answer stream, as the `stdio_server` writer uses it (``write`` then ``flush``)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


def _claim_std_streams() -> tuple[int, int]:
    """Private duplicates of fd 0 and fd 1; fd 0 then reads the null device, fd 1 is stderr."""
    wire_in, wire_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    os.dup2(2, 1)
    return wire_in, wire_out


async def serve_stdio(server: MCPServer) -> None:
    """Serve ``server`` over this process's stdin and stdout until the client closes stdin."""
    from mcp.server.stdio import stdio_server

    loop = asyncio.get_running_loop()
    wire_in, wire_out = _claim_std_streams()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
    )
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    try:
        async with stdio_server(stdin=_Lines(reader), stdout=_Writer(writer)) as (read, write):  # type: ignore[arg-type]
            # MCPServer.run_stdio_async, with our streams: the SDK has no public way to pass them
            lowlevel = server._lowlevel_server
            await lowlevel.run(read, write, lowlevel.create_initialization_options())
    finally:
        writer.close()
