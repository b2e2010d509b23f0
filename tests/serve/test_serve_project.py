"""``?project=`` on the read API's top and trend routes (issue 16 §5), over a real server."""

from __future__ import annotations

from pathlib import Path

import orjson
from serve_test_helpers import running_server

from project_events import days_back, last_monday, two_projects, write_log


def test_the_api_routes_take_project(tmp_path: Path) -> None:
    """GET /api/top/skills?project=beta and /api/trend/...?project=alpha: the same documents."""
    directory = tmp_path / "srv"
    write_log(directory / "events.jsonl", two_projects(monday := last_monday()))
    days = days_back(monday)
    with running_server(directory) as server:
        token = server.tokens["program_director"]
        status, _, body = server.request(
            "GET", f"/api/top/skills?days={days}&project=beta", token=token
        )
        assert status == 200, body
        assert [(r["name"], r["count"]) for r in orjson.loads(body)["rows"]] == [("tdd", 5)]
        status, _, body = server.request(
            "GET", "/api/trend/skill_invocation_total?key=tdd&weeks=2&project=alpha", token=token
        )
        assert status == 200, body
        assert [w["value"] for w in orjson.loads(body)["weeks"]] == [2.0, 3.0]


def test_api_projects_is_the_projects_document(tmp_path: Path) -> None:
    """GET /api/projects: a row per project, for read roles; the collector gets 403."""
    directory = tmp_path / "srv"
    write_log(directory / "events.jsonl", two_projects(monday := last_monday()))
    days = days_back(monday)
    with running_server(directory) as server:
        status, _, body = server.request(
            "GET", f"/api/projects?days={days}", token=server.tokens["program_director"]
        )
        assert status == 200, body
        doc = orjson.loads(body)
        assert doc["command"] == "projects"
        rows = {r["project"]: r["skill_invocations"] for r in doc["projects"]}
        assert rows == {"alpha": 4, "beta": 5}
        denied, _, _ = server.request("GET", "/api/projects", token=server.tokens["collector"])
        assert denied == 403


def test_alerts_route_and_web_page_take_project(tmp_path: Path) -> None:
    """GET /api/alerts?live=true&project=beta is status --json of beta; the web page of every
    project shows the cross-project overview, each name linking to that project's page."""
    directory = tmp_path / "srv"
    write_log(directory / "events.jsonl", two_projects(monday := last_monday()))
    week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
    with running_server(directory) as server:
        token = server.tokens["tech_lead"]
        status, _, body = server.request("GET", "/api/alerts?project=beta&live=true", token=token)
        assert status == 200, body
        doc = orjson.loads(body)
        assert (doc["command"], doc["project"]) == ("status", "beta")
        status, _, body = server.request("GET", f"/?week={week}", token=token)
        assert status == 200, body
        page = body.decode()
        assert "Projects this week" in page
        for name, runs in (("alpha", 4), ("beta", 5)):
            link = f'<a href="/?week={week}&amp;project={name}">{name}</a></td><td>{runs}</td>'
            assert link in page
        status, _, body = server.request("GET", f"/?week={week}&project=alpha", token=token)
        assert status == 200, body
        page = body.decode()
        assert "<strong>Project:</strong> alpha" in page
        assert "Projects this week" not in page
        assert '<option value="alpha" selected>alpha</option>' in page
        status, _, body = server.request("GET", f"/?week={week}&project=nobody", token=token)
        assert status == 404
        assert b"No events of project nobody" in body
