"""Who may call what: the one route x role table, and the check every route goes through.

`ROUTE_ROLES` is the whole access policy of the team server. `ai_telemetry.serve.app` wraps
each registered endpoint with `guard` from it when the app is built, and refuses to build an
app with a route missing from the table (deny by default: a route nobody listed cannot be
served). ``tests/serve/test_serve_auth.py`` walks every registered route with every role, no
token and a revoked token, against this table.

A request names its token as ``Authorization: Bearer <token>``; the GET routes of the web
dashboard also take it from the `COOKIE_NAME` cookie (set HttpOnly, SameSite=Strict by the
login page), never a write route, so a cross-site form cannot post events with it. Tokens are
compared by hash in constant time (`ai_telemetry.serve.tokens.TokenStore`) and never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ai_telemetry.serve.tokens import ROLES, Principal, Role, TokenStore

Public = Literal["public"]
PUBLIC: Final[Public] = "public"
"""Marker of a route anyone may call (``GET /healthz`` only). An empty set of roles is not
public: it lets nobody in."""
Access = frozenset[Role] | Public
READ: Final[frozenset[Role]] = frozenset({"meta_updater", "program_director", "tech_lead"})
WRITE: Final[frozenset[Role]] = frozenset({"meta_updater", "tech_lead", "collector"})
ANY_ROLE: Final[frozenset[Role]] = frozenset(ROLES)

COOKIE_NAME: Final = "ai_telemetry_token"

ROUTE_ROLES: Final[dict[tuple[str, str], Access]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/openapi.json"): ANY_ROLE,
    # ingest (serve/ingest.py, serve/otlp_http.py)
    ("POST", "/v1/events"): WRITE,
    ("POST", "/v1/logs"): WRITE,
    ("POST", "/v1/metrics"): WRITE,
    ("POST", "/v1/traces"): WRITE,
    ("POST", "/v1/hooks/claude-code"): WRITE,  # Claude Code's http hooks (serve/hooks_http.py)
    # read API (serve/api.py)
    ("GET", "/api/metrics"): READ,
    ("GET", "/api/top/{kind}"): READ,
    ("GET", "/api/trend/{metric}"): READ,
    ("GET", "/api/alerts"): READ,
    ("GET", "/api/projects"): READ,
    # shared learnings (serve/learnings.py)
    ("GET", "/api/learnings"): READ,
    ("POST", "/api/learnings"): WRITE,
    # web dashboard (serve/web.py): the page reads, the login form is open to anyone
    ("GET", "/"): READ,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
}
"""(method, path template) -> the roles allowed. The seed's Access Control: META_UPDATER and
Tech Lead read and write, the Program Director reads, ``collector`` only sends, External (no
token) gets nothing but the health check."""

Endpoint = Callable[[Request], Awaitable[Response]]


def roles_for(method: str, path: str) -> Access:
    """The roles of a route.

    Raises:
        KeyError: the route is not in `ROUTE_ROLES` (so it must not be served).
    """
    return ROUTE_ROLES[(method.upper(), path)]


def bearer_token(request: Request, *, cookie: bool) -> str | None:
    """The token a request presents: ``Authorization: Bearer``, else (GET) the cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    if cookie:
        return request.cookies.get(COOKIE_NAME) or None
    return None


def _unauthorized(message: str) -> Response:
    return JSONResponse(
        {"error": message},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="ai-telemetry"'},
    )


def guard(endpoint: Endpoint, roles: Access, *, tokens: TokenStore, method: str) -> Endpoint:
    """``endpoint`` behind the token check for ``roles`` (`PUBLIC`: no check).

    The principal is left in ``request.state.principal`` for the endpoint (the ingest routes
    record its name as the events' source).
    """
    if roles == PUBLIC:
        return endpoint
    cookie = method == "GET"

    async def guarded(request: Request) -> Response:
        token = bearer_token(request, cookie=cookie)
        browser = cookie and "text/html" in request.headers.get("accept", "")
        if token is None:
            if browser:  # a person at the web dashboard: the login form
                return RedirectResponse("/login", status_code=303)
            return _unauthorized("send Authorization: Bearer <token> (ai-telemetry token create)")
        principal: Principal | None = tokens.principal(token)
        if principal is None:
            if browser:
                return RedirectResponse("/login", status_code=303)
            return _unauthorized("unknown or revoked token")
        if principal.role not in roles:
            allowed = ", ".join(sorted(roles))
            return JSONResponse(
                {"error": f"role {principal.role} may not call this route (allowed: {allowed})"},
                status_code=403,
            )
        request.state.principal = principal
        return await endpoint(request)

    guarded.__name__ = getattr(endpoint, "__name__", "guarded")
    guarded.__doc__ = endpoint.__doc__
    return guarded


__all__ = [
    "ANY_ROLE",
    "COOKIE_NAME",
    "PUBLIC",
    "READ",
    "ROUTE_ROLES",
    "WRITE",
    "bearer_token",
    "guard",
    "roles_for",
]
