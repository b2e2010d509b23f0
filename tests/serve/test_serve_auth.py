"""Access control of the team server: every registered route x every role against ROUTE_ROLES."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_test_helpers import ROLES, Server, make_tokens, running_server, start_server, stop_server
from starlette.routing import Route

from ai_telemetry.config import load_settings
from ai_telemetry.errors import ConfigError
from ai_telemetry.serve.app import ROUTE_MODULES, check_bind, create_app
from ai_telemetry.serve.auth import PUBLIC, ROUTE_ROLES
from ai_telemetry.serve.context import RouteSpec
from ai_telemetry.serve.tokens import (
    TokenStore,
    create_token,
    read_tokens,
    revoke_token,
    tokens_path,
)

SAMPLE_PARAMS = {"{kind}": "skills", "{metric}": "skill_success_rate"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("auth") / "Telemetry"
    with running_server(directory) as running:
        create_token(directory, name="gone", role="meta_updater")
        running.tokens["revoked"] = create_token(directory, name="gone-2", role="meta_updater")
        revoke_token(directory, "gone-2")
        yield running


def registered_routes(directory: Path) -> list[tuple[str, str]]:
    app = create_app(load_settings(telemetry_dir=directory))
    found: list[tuple[str, str]] = []
    for route in app.routes:
        assert isinstance(route, Route)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path))
    return found


def _concrete(path: str) -> str:
    for name, value in SAMPLE_PARAMS.items():
        path = path.replace(name, value)
    return path


def test_every_registered_route_has_a_row_and_every_row_a_route(tmp_path: Path) -> None:
    """The table and the app name the same routes."""
    assert set(ROUTE_ROLES) == set(registered_routes(tmp_path))


def test_every_route_with_every_role_none_and_revoked(server: Server) -> None:
    """Each role gets through exactly the routes its row allows; no token and a revoked one
    get 401 everywhere but /healthz."""
    checked = 0
    for method, path in registered_routes(server.directory):
        roles = ROUTE_ROLES[(method, path)]
        url = _concrete(path)
        body = b"" if method == "POST" else None
        headers = {"Content-Type": "application/json"}
        for role in ROLES:
            status, _, data = server.request(
                method, url, body, token=server.tokens[role], headers=headers, timeout=120
            )
            if roles == PUBLIC or role in roles:
                assert status not in (401, 403), (method, path, role, status, data)
                assert status < 500, (method, path, role, status, data)
            else:
                assert 403 == status, (method, path, role, status, data)
            checked += 1
        for token in (None, server.tokens["revoked"], "att_not-a-token"):
            status, headers_out, _ = server.request(method, url, body, token=token)
            if roles == PUBLIC:
                assert 200 == status
            else:
                assert 401 == status, (method, path, token)
                assert headers_out["www-authenticate"].startswith("Bearer")
    assert checked == len(ROUTE_ROLES) * len(ROLES)


def test_cookie_authenticates_reads_but_never_writes(server: Server) -> None:
    """The dashboard cookie opens GET routes; a POST with only the cookie is 401."""
    cookie = {"Cookie": f"ai_telemetry_token={server.tokens['meta_updater']}"}
    status, _, _ = server.request("GET", "/openapi.json", headers=cookie)
    assert 200 == status
    status, _, _ = server.request("POST", "/v1/events", b"", headers=cookie)
    assert 401 == status


def test_tokens_never_appear_in_the_server_output(tmp_path: Path) -> None:
    """Neither stdout nor stderr of the server carries a token, even after refused requests."""
    tokens = make_tokens(tmp_path)
    srv = start_server(tmp_path, tokens=tokens)
    for token in tokens.values():
        srv.request("POST", "/v1/events", b"{bad", token=token)
        srv.request("POST", "/v1/events", b"{bad", token=token + "x")
        srv.request("GET", "/api/top/nope", token=token)
    stop_server(srv)
    printed = srv.printed()
    assert "ai-telemetry serve" in printed  # the output was captured
    for token in tokens.values():
        assert token[4:] not in printed


def test_only_the_hash_is_stored(tmp_path: Path) -> None:
    """The token file holds the SHA-256 and never the token; it is private to the owner."""
    token = create_token(tmp_path, name="ana", role="tech_lead")
    text = tokens_path(tmp_path).read_text()
    assert token not in text
    assert token[4:] not in text
    assert 0o600 == tokens_path(tmp_path).stat().st_mode & 0o777
    [record] = read_tokens(tokens_path(tmp_path))
    assert ("ana", "tech_lead", None) == (record.name, record.role, record.revoked_at)


def test_store_sees_a_revocation_without_restart(tmp_path: Path) -> None:
    """A revoked token is refused from the next check on."""
    token = create_token(tmp_path, name="ana", role="tech_lead")
    store = TokenStore(tmp_path)
    principal = store.principal(token)
    assert principal is not None
    assert "ana" == principal.name
    revoke_token(tmp_path, "ana")
    assert store.principal(token) is None


def test_names_and_roles_are_checked(tmp_path: Path) -> None:
    """A bad role, a bad name and a taken name are one-line errors."""
    with pytest.raises(ConfigError, match="role"):
        create_token(tmp_path, name="ana", role="external")
    with pytest.raises(ConfigError, match="token name"):
        create_token(tmp_path, name="ana smith", role="collector")
    create_token(tmp_path, name="ana", role="collector")
    with pytest.raises(ConfigError, match="exists already"):
        create_token(tmp_path, name="ana", role="collector")
    with pytest.raises(ConfigError, match="no valid token"):
        revoke_token(tmp_path, "bob")


def test_a_route_without_a_row_is_not_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_app refuses a module whose route is missing from ROUTE_ROLES (deny by default)."""
    module = types.ModuleType("serve_test_unlisted_routes")

    async def endpoint(request: object) -> object:
        raise AssertionError("never served")

    module.routes = lambda ctx: [RouteSpec("GET", "/unlisted", endpoint)]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with pytest.raises(ConfigError, match="ROUTE_ROLES"):
        create_app(load_settings(telemetry_dir=tmp_path), modules=(*ROUTE_MODULES, module.__name__))


def test_non_loopback_needs_a_token(tmp_path: Path) -> None:
    """Binding 0.0.0.0 is refused with no token, allowed with one; loopback always starts."""
    store = TokenStore(tmp_path)
    with pytest.raises(ConfigError, match="no token is configured"):
        check_bind("0.0.0.0", store)
    check_bind("127.0.0.1", store)
    check_bind("::1", store)
    create_token(tmp_path, name="c", role="collector")
    store.refresh()
    check_bind("0.0.0.0", store)


def test_serve_command_refuses_a_public_address_without_tokens(tmp_path: Path) -> None:
    """``serve --host 0.0.0.0`` exits non-zero with a one-line error naming the fix."""
    import os
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "serve", "--host", "0.0.0.0", "--port", "0"],
        env={**os.environ, "AI_TELEMETRY_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "token create" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_empty_role_set_lets_nobody_in(tmp_path: Path) -> None:
    """A route whose row is an empty set of roles answers 403 to every role (not public)."""
    import asyncio

    from starlette.requests import Request as StarletteRequest
    from starlette.responses import PlainTextResponse

    from ai_telemetry.serve.auth import guard

    tokens = make_tokens(tmp_path)
    store = TokenStore(tmp_path)

    async def endpoint(request: StarletteRequest) -> PlainTextResponse:
        return PlainTextResponse("in")

    guarded = guard(endpoint, frozenset(), tokens=store, method="GET")
    for token in tokens.values():
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/x",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "query_string": b"",
        }
        response = asyncio.run(guarded(StarletteRequest(scope)))
        assert 403 == response.status_code
