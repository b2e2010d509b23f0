"""schemathesis over /openapi.json: generated requests to every operation, never a 5xx."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from serve_test_helpers import Server, recent, running_server, skill_event


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("fuzz") / "Telemetry"
    with running_server(directory) as running:
        running.post_events(
            [skill_event(n, event_id=str(uuid.uuid4()), timestamp=recent(n + 1)) for n in range(30)]
        )
        yield running


@pytest.fixture(scope="module")
def api_schema(live_server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(
        f"{live_server.url}/openapi.json",
        headers={"Authorization": f"Bearer {live_server.tokens['meta_updater']}"},
        timeout=30,
    )


def test_no_operation_answers_5xx(api_schema: schemathesis.BaseSchema, live_server: Server) -> None:
    """Whatever request schemathesis generates for any operation, the answer is not a 5xx.

    (schemathesis's own pytest plugin does not load under pytest 9 yet, so each operation's
    strategy is driven by hypothesis here.)"""
    headers = {"Authorization": f"Bearer {live_server.tokens['meta_updater']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9, [o.label for o in operations]
    calls: dict[str, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=120)
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1

        fuzz()
    assert len(calls) == len(operations)


def test_openapi_declares_the_bearer_scheme(live_server: Server) -> None:
    """The schema has the bearer security scheme; only the public routes of ROUTE_ROLES
    (/healthz, the dashboard's login form) need no token."""
    import orjson

    from ai_telemetry.serve.auth import PUBLIC, ROUTE_ROLES

    status, _, data = live_server.request(
        "GET", "/openapi.json", token=live_server.tokens["collector"]
    )
    assert 200 == status
    document = orjson.loads(data)
    assert {"type": "http", "scheme": "bearer"}.items() <= document["components"][
        "securitySchemes"
    ]["bearerAuth"].items()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            public = ROUTE_ROLES[(method.upper(), path)] == PUBLIC
            expected = [] if public else [{"bearerAuth": []}]
            assert expected == operation["security"], path
