"""The team server: ``ai-telemetry serve``, a Starlette app on uvicorn.

`create_app` composes the routes of the modules in `ROUTE_MODULES` (each a thin adapter over
the library, see `ai_telemetry.serve.context`), wraps every endpoint with the token check of
its row in `ai_telemetry.serve.auth.ROUTE_ROLES`, and starts the one writer thread
(`ai_telemetry.serve.writer.EventWriter`) in the app's lifespan. Adding a module is one line
here and its rows in ``ROUTE_ROLES``.

`run_server` binds loopback by default; any other address is refused unless a token exists.
On SIGTERM (or Ctrl-C) uvicorn stops accepting connections and waits for the requests in
flight; the lifespan then lets the writer finish every queued batch before the process ends,
so nothing that was acknowledged, or is being acknowledged, is lost.
"""

from __future__ import annotations

import importlib
import ipaddress
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ai_telemetry.config import Settings
from ai_telemetry.errors import ConfigError
from ai_telemetry.serve.auth import PUBLIC, ROUTE_ROLES, guard
from ai_telemetry.serve.context import RouteSpec, ServeOptions, ServerContext
from ai_telemetry.serve.tokens import TokenStore
from ai_telemetry.serve.writer import EventWriter

ROUTE_MODULES: Final[tuple[str, ...]] = (
    "ai_telemetry.serve.ingest",
    "ai_telemetry.serve.otlp_http",
    "ai_telemetry.serve.api",
    "ai_telemetry.serve.web",
    "ai_telemetry.serve.hooks_http",
    "ai_telemetry.serve.learnings",
)
"""Modules whose ``routes(ctx)`` and ``OPENAPI_PATHS`` make up the server (one line each)."""

LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
log = logging.getLogger("ai_telemetry.serve")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, tokens: TokenStore) -> None:
    """Refuse a non-loopback address while no token is configured.

    Raises:
        ConfigError: ``host`` is not loopback and there is no valid token.
    """
    if not is_loopback(host) and tokens.count == 0:
        raise ConfigError(
            f"--host {host} is not a loopback address and no token is configured in "
            f"{tokens.path}; create one first: ai-telemetry token create --role collector "
            "--name NAME"
        )


def _modules(names: Iterable[str]) -> list[Any]:
    return [importlib.import_module(name) for name in names]


def openapi_document(modules: Iterable[Any]) -> dict[str, Any]:
    """``/openapi.json``: every module's paths, with the bearer security scheme per route."""
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {
                "summary": "Liveness (no token needed)",
                "operationId": "healthz",
                "responses": {
                    "200": {
                        "description": "The server is up",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"status": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This schema",
                "operationId": "openapi",
                "responses": {
                    "200": {"description": "OpenAPI 3.1 document"},
                    "401": {"description": "No token, or an unknown or revoked one"},
                },
            }
        },
    }
    for module in modules:
        for path, item in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(item)
    for path, item in paths.items():
        for method, operation in item.items():
            roles = ROUTE_ROLES.get((method.upper(), path))
            if roles is None or roles == PUBLIC:
                operation["security"] = []
            else:
                operation["security"] = [{"bearerAuth": []}]
                operation["x-roles"] = sorted(roles)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ai-telemetry team server",
            "version": _version(),
            "description": "Event ingest, an OTLP/HTTP receiver and the read API (docs/serve.md).",
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "ai-telemetry token create --role ROLE --name NAME",
                }
            }
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ai-telemetry")
    except PackageNotFoundError:
        return "0"


def create_app(
    settings: Settings,
    options: ServeOptions | None = None,
    *,
    modules: Iterable[str] = ROUTE_MODULES,
    tokens: TokenStore | None = None,
    writer: EventWriter | None = None,
) -> Starlette:
    """The ASGI app over one telemetry folder.

    Args:
        settings: the telemetry folder (as the CLI's `load_settings`).
        options: `ServeOptions` (limits, queue size, TLS).
        modules: the route modules (default `ROUTE_MODULES`).
        tokens: the token store (default: the folder's ``serve-tokens.json``).
        writer: the writer (default: a new `EventWriter`; started and closed by the lifespan).

    Raises:
        ConfigError: a module's route has no row in `ROUTE_ROLES` (deny by default).
    """
    options = options or ServeOptions()
    tokens = tokens or TokenStore(settings.telemetry_dir)
    writer = writer or EventWriter(settings, max_pending=options.max_pending)
    ctx = ServerContext(settings=settings, options=options, writer=writer, tokens=tokens)
    loaded = _modules(modules)
    schema = openapi_document(loaded)

    async def healthz(request: Request) -> Response:
        """Liveness: 200 while the server runs."""
        return JSONResponse({"status": "ok"})

    async def openapi(request: Request) -> Response:
        """The OpenAPI document."""
        return JSONResponse(schema)

    specs: list[RouteSpec] = [
        RouteSpec("GET", "/healthz", healthz),
        RouteSpec("GET", "/openapi.json", openapi),
    ]
    for module in loaded:
        specs.extend(module.routes(ctx))
    routes: list[Route] = []
    for spec in specs:
        roles = ROUTE_ROLES.get((spec.method, spec.path))
        if roles is None:
            raise ConfigError(
                f"route {spec.method} {spec.path} has no row in serve/auth.py ROUTE_ROLES; "
                "add one (routes are denied by default)"
            )
        endpoint = guard(spec.endpoint, roles, tokens=tokens, method=spec.method)
        routes.append(Route(spec.path, endpoint, methods=[spec.method]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from ai_telemetry.serve.store_feed import StoreFeed

        feed = StoreFeed(settings, options.store) if options.store else None
        writer.start()
        if feed is not None:
            feed.start()
        try:
            yield
        finally:
            writer.close()  # every queued batch is written first
            if feed is not None:
                feed.close()  # then sent on to the store (or left for the next start)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ctx = ctx
    return app


def check_store(settings: Settings, url: str) -> None:
    """Start-up check of the store the server feeds: a schema behind (or ahead) refuses to
    start, in one line; a database that cannot be reached now only warns (the log keeps every
    event, the feed sends them once it is back).

    Raises:
        StoreBehindError: run ``ai-telemetry store migrate`` first.
    """
    import sys

    from ai_telemetry.config import safe_url
    from ai_telemetry.errors import AnalyticsError
    from ai_telemetry.store.postgres import PostgresStore

    try:
        with PostgresStore(url, settings=settings):
            pass
    except AnalyticsError as exc:
        sys.stderr.write(
            f"ai-telemetry serve: {exc}; serving anyway: events stay in {settings.log_path} "
            f"and go on to {safe_url(url)} once it answers\n"
        )


def run_server(settings: Settings, options: ServeOptions) -> None:
    """Serve until SIGTERM or Ctrl-C (then drain in-flight requests and queued batches).

    Raises:
        ConfigError: a non-loopback ``host`` with no token configured, or a broken token file.
    """
    import uvicorn

    tokens = TokenStore(settings.telemetry_dir)
    check_bind(options.host, tokens)
    if options.store:
        check_store(settings, options.store)
    app = create_app(settings, options, tokens=tokens)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,  # the access log would carry nothing secret, but keep it quiet
        timeout_graceful_shutdown=30,
        lifespan="on",
        server_header=False,
    )
    uvicorn.Server(config).run()


__all__ = [
    "ROUTE_MODULES",
    "check_bind",
    "check_store",
    "create_app",
    "is_loopback",
    "openapi_document",
    "run_server",
]
