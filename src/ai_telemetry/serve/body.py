"""Reading a request body within limits, while it streams in.

Two caps (`BodyLimits`): the bytes on the wire and the bytes after ``Content-Encoding: gzip``
is undone. Both are checked chunk by chunk: a declared ``Content-Length`` over the wire cap is
refused before a byte is read, and the inflater is never asked for more than what is left
under the decompressed cap (``zlib`` ``max_length``), so a decompression bomb is refused after
inflating at most that much (the OpenTelemetry Collector's CVE-2024-36129 was the lesson). A
body that trickles in slower than ``read_timeout`` allows (a slow-loris client) gets 408.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from typing import Final

from starlette.requests import ClientDisconnect, Request

MIB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Caps on one request body.

    Attributes:
        max_bytes: bytes on the wire (compressed or not); default 4 MiB.
        max_decompressed: bytes after gzip; default 20 MiB.
        read_timeout: seconds to receive the whole body; default 30.
    """

    max_bytes: int = 4 * MIB
    max_decompressed: int = 20 * MIB
    read_timeout: float = 30.0


class BodyError(Exception):
    """A body that cannot be taken: ``status`` is the HTTP answer (400, 408, 413, 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _too_large(limit: int, what: str) -> BodyError:
    return BodyError(
        413, f"the request body is over the {limit:,}-byte limit {what}; send smaller batches"
    )


async def read_body(request: Request, limits: BodyLimits) -> bytes:
    """The request body, gunzipped when ``Content-Encoding: gzip``, within ``limits``.

    Raises:
        BodyError: 413 over a cap, 415 for an encoding other than gzip or identity, 400 for
            broken gzip, 408 when the body does not arrive within ``read_timeout``.
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", ""):
        raise BodyError(415, f"Content-Encoding {encoding!r} is not supported; use gzip or none")
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise BodyError(400, f"Content-Length {declared!r} is not a number") from None
        if size > limits.max_bytes:
            raise _too_large(limits.max_bytes, "(Content-Length)")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
    try:
        async with asyncio.timeout(limits.read_timeout):
            return await _collect(request, limits, inflater)
    except TimeoutError:
        raise BodyError(
            408, f"the body did not arrive within {limits.read_timeout:g} s; send it at once"
        ) from None
    except ClientDisconnect:
        raise BodyError(400, "the client went away before the body was complete") from None


async def _collect(
    request: Request, limits: BodyLimits, inflater: zlib._Decompress | None
) -> bytes:
    received = 0
    parts: list[bytes] = []
    produced = 0
    async for chunk in request.stream():
        if not chunk:
            continue
        received += len(chunk)
        if received > limits.max_bytes:
            raise _too_large(limits.max_bytes, "on the wire")
        if inflater is None:
            parts.append(chunk)
            continue
        data = chunk
        while data:
            room = limits.max_decompressed - produced
            try:
                piece = inflater.decompress(data, room + 1)
            except zlib.error as exc:
                raise BodyError(400, f"the body is not valid gzip ({exc})") from None
            produced += len(piece)
            if produced > limits.max_decompressed:
                raise _too_large(limits.max_decompressed, "once decompressed")
            parts.append(piece)
            data = inflater.unconsumed_tail
            if inflater.eof:
                break
    if inflater is not None and not inflater.eof:
        raise BodyError(400, "the gzip body is truncated")
    return b"".join(parts)


__all__ = ["MIB", "BodyError", "BodyLimits", "read_body"]
