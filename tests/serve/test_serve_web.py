"""The live web dashboard (``GET /``), its login and its cache, on a real ``ai-telemetry serve``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_test_helpers import Server, running_server, skill_event
from web_browser import log_in_and_look


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("web") / "telemetry") as srv:
        srv.post_events([skill_event(n) for n in range(12)])
        yield srv


def login(server: Server, role: str) -> tuple[int, dict[str, str], bytes]:
    body = f"token={server.tokens[role]}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return server.request("POST", "/login", body, headers=headers)


def cookie_of(headers: dict[str, str]) -> str:
    return headers["set-cookie"].split(";", 1)[0]


def test_login_sets_an_httponly_strict_cookie(server: Server) -> None:
    """A read role's token becomes a cookie: HttpOnly, SameSite=Strict, not Secure on http."""
    status, headers, _ = login(server, "program_director")
    assert 303 == status
    assert "/" == headers["location"]
    flags = [part.strip().lower() for part in headers["set-cookie"].split(";")]
    assert "httponly" in flags
    assert "samesite=strict" in flags
    assert "secure" not in flags


def test_a_collector_token_cannot_log_in(server: Server) -> None:
    """collector only sends: the form again, no cookie."""
    status, headers, body = login(server, "collector")
    assert 200 == status
    assert "set-cookie" not in headers
    assert b"cannot read the dashboard" in body


def test_without_a_token_a_browser_is_sent_to_the_login_form(server: Server) -> None:
    """No cookie and Accept: text/html: 303 to /login (an API client gets the 401)."""
    status, headers, _ = server.request("GET", "/", headers={"Accept": "text/html"})
    assert (303, "/login") == (status, headers["location"])
    assert 401 == server.request("GET", "/")[0]


def test_the_page_is_cached_until_new_events_arrive(server: Server) -> None:
    """Reloading serves the rendered page; an ingested event renders it again."""
    cookie = {"Cookie": cookie_of(login(server, "tech_lead")[1])}
    first = server.request("GET", "/", headers=cookie)
    assert 200 == first[0]
    assert b"<select" in first[2] and b"Skill" in first[2]
    assert "default-src 'none'" in first[1]["content-security-policy"]
    second = server.request("GET", "/", headers=cookie)
    assert "hit" == second[1]["x-dashboard-cache"]
    server.post_events([skill_event(100)])
    third = server.request("GET", "/", headers=cookie)
    assert "miss" == third[1]["x-dashboard-cache"]


def test_a_week_without_events_and_a_bad_week(server: Server) -> None:
    """An empty week is a 404 page with the picker; a malformed one, or one of a year no event
    can have (year 1's page would link to the week before it: schemathesis found a 500), a 400."""
    cookie = {"Cookie": cookie_of(login(server, "meta_updater")[1])}
    empty = server.request("GET", "/?week=2019-W02", headers=cookie)
    assert 404 == empty[0]
    assert b"No events in this week" in empty[2]
    assert 400 == server.request("GET", "/?week=next", headers=cookie)[0]
    for week in ("0001-W05", "0001-W01", "1969-W52", "9999-W52", "2200-W01"):
        status, _, body = server.request("GET", f"/?week={week}", headers=cookie)
        assert (400, True) == (status, b"the year must be 1970 to 2199" in body), week
    assert 404 == server.request("GET", "/?week=1970-W01", headers=cookie)[0]
    assert 404 == server.request("GET", "/?week=2199-W52", headers=cookie)[0]


def test_behind_tls_the_cookie_is_secure(tmp_path: Path) -> None:
    """serve --behind-tls marks the cookie Secure."""
    with running_server(tmp_path / "telemetry", "--behind-tls") as srv:
        status, headers, _ = login(srv, "tech_lead")
    assert 303 == status
    assert "secure" in [p.strip().lower() for p in headers["set-cookie"].split(";")]


@pytest.mark.slow
def test_a_browser_logs_in_and_sees_the_dashboard(server: Server) -> None:
    """Headless chromium: login form, then the dashboard; no console error; no foreign
    request; the token cookie is not readable by the page."""
    visit = log_in_and_look(server.url, server.tokens["program_director"])
    (login_url, login_text), (page_url, page_text) = visit.pages
    assert login_url.endswith("/login")
    assert "Token" in login_text
    assert page_url.rstrip("/") == server.url
    assert "Week" in page_text and "tdd" in page_text
    assert [] == visit.console_errors + visit.exceptions + visit.log_errors
    assert all(url.startswith(server.url) for url in visit.requests), visit.requests
    assert "" == visit.cookie_readable
