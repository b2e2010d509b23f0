"""What every route module of the team server is handed: the seam between app and routes.

A route module (``serve/ingest.py``, ``serve/otlp_http.py``, ``serve/api.py``, ...) has

- ``routes(ctx: ServerContext) -> list[RouteSpec]``: its endpoints, and
- ``OPENAPI_PATHS``: its part of ``/openapi.json`` (path -> OpenAPI path item),

and is listed once in `ai_telemetry.serve.app.ROUTE_MODULES`; its roles go into
`ai_telemetry.serve.auth.ROUTE_ROLES`. Nothing else is needed to serve it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NamedTuple

from starlette.requests import Request
from starlette.responses import Response

from ai_telemetry.config import Settings
from ai_telemetry.serve.body import BodyLimits
from ai_telemetry.serve.tokens import TokenStore
from ai_telemetry.serve.writer import DEFAULT_MAX_PENDING, EventWriter

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8787
RETRY_AFTER_SECONDS: Final = 1


class RouteSpec(NamedTuple):
    """One endpoint: ``(method, path template, async handler)``."""

    method: str
    path: str
    endpoint: Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """How ``ai-telemetry serve`` runs.

    Attributes:
        host: address to bind; loopback by default (any other needs a token configured).
        port: TCP port (0: any free one).
        limits: body caps and read timeout of the ingest routes.
        max_pending: batches queued for the writer before 503.
        repo: the repository (for routes that read skills or git history).
        behind_tls: a TLS reverse proxy is in front (cookies are marked Secure).
        store: a ``postgresql://`` URL the server feeds its log into (`StoreFeed`); None:
            the embedded warehouse of its folder only.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    limits: BodyLimits = field(default_factory=BodyLimits)
    max_pending: int = DEFAULT_MAX_PENDING
    repo: Path = field(default_factory=Path)
    behind_tls: bool = False
    store: str | None = None


@dataclass(slots=True)
class ServerContext:
    """The running server's parts, shared by every route module.

    Attributes:
        settings: the telemetry folder (log, warehouse, privacy policy).
        options: `ServeOptions`.
        writer: the one writer thread (every event goes through it).
        tokens: the valid tokens, re-read when the file changes.
        read_lock: held around the library reads of the warehouse (one DuckDB file: the
            server's reads go one at a time, and never hold the writer's lock).
    """

    settings: Settings
    options: ServeOptions
    writer: EventWriter
    tokens: TokenStore
    read_lock: threading.Lock = field(default_factory=threading.Lock)


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "RETRY_AFTER_SECONDS",
    "RouteSpec",
    "ServeOptions",
    "ServerContext",
]
