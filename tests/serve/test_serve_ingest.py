"""``POST /v1/events``: JSON Lines or arrays, gzip, per-event results, idempotent retries."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import orjson
import pytest
from serve_test_helpers import Server, running_server, skill_event


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("ingest") / "Telemetry") as running:
        yield running


def test_json_lines_are_stored_with_the_token_name_as_source(server: Server) -> None:
    """Each accepted event is in the log when the 202 arrives, its source naming the token."""
    reply = server.post_events([skill_event(1), skill_event(2, source="sdk")])
    assert (2, 0, 0) == (reply["accepted"], reply["duplicates"], reply["rejected"])
    logged = server.log_events()
    assert ["serve:collector-1", "sdk:collector-1"] == [e["source"] for e in logged]
    assert [r["event_id"] for r in reply["results"]] == [e["event_id"] for e in logged]


def test_a_json_array_gzipped(server: Server) -> None:
    """A gzip-compressed JSON array is read like JSON Lines."""
    body = gzip.compress(orjson.dumps([skill_event(n) for n in range(50)]))
    status, _, data = server.request(
        "POST",
        "/v1/events",
        body,
        token=server.tokens["tech_lead"],
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert 202 == status
    assert 50 == orjson.loads(data)["accepted"]
    assert 50 == len(server.log_events())


def test_per_line_results_name_what_was_wrong(server: Server) -> None:
    """A bad line is rejected with its message; the good lines around it are stored."""
    body = (
        orjson.dumps(skill_event(1))
        + b"\nnot json\n"
        + orjson.dumps({"event_type": "skill_execution", "timestamp": "2026-01-01T00:00:00"})
        + b"\n[1, 2]\n"
        + orjson.dumps(skill_event(2))
        + b"\n"
    )
    status, _, data = server.request("POST", "/v1/events", body, token=server.tokens["collector"])
    assert 202 == status
    reply = orjson.loads(data)
    statuses = [r["status"] for r in reply["results"]]
    assert ["accepted", "rejected", "rejected", "rejected", "accepted"] == statuses
    assert reply["results"][1]["error"].startswith("line 2: not JSON")
    assert "timestamp" in reply["results"][2]["error"]
    assert "JSON object" in reply["results"][3]["error"]
    assert 2 == len(server.log_events())


def test_a_batch_sent_twice_is_stored_once(server: Server) -> None:
    """Retrying a batch with event ids answers duplicate and appends nothing."""
    batch = [skill_event(n, event_id=f"0190aaaa-0000-7000-8000-{n:012d}") for n in range(20)]
    first = server.post_events(batch)
    second = server.post_events([*batch, skill_event(99, event_id="0190aaaa-0000-7000-8000-x")])
    assert 20 == first["accepted"]
    assert (1, 20) == (second["accepted"], second["duplicates"])
    logged = server.log_events()
    assert 21 == len(logged)
    assert 21 == len({e["event_id"] for e in logged})


def test_repeated_id_inside_one_batch_is_a_duplicate(server: Server) -> None:
    """The same id twice in one batch stores the first only."""
    reply = server.post_events([skill_event(1, event_id="dup-id-0000000001")] * 3)
    assert ["accepted", "duplicate", "duplicate"] == [r["status"] for r in reply["results"]]


def test_the_privacy_guard_runs(server: Server) -> None:
    """An e-mail address in an error type never reaches the log."""
    reply = server.post_events(
        [skill_event(1, outcome="error", error_type="mail ana@example.org failed")]
    )
    assert 1 == reply["accepted"]
    [event] = server.log_events()
    assert "ana@example.org" not in orjson.dumps(event).decode()
    assert event["redacted"] >= 1


def test_a_read_only_role_cannot_send(server: Server) -> None:
    """program_director reads only: 403, nothing written."""
    status, _, _ = server.request(
        "POST", "/v1/events", orjson.dumps(skill_event(1)), token=server.tokens["program_director"]
    )
    assert 403 == status
    assert [] == server.log_events()


def test_a_broken_array_is_400(server: Server) -> None:
    """A body that starts as an array but is not JSON is refused whole."""
    status, _, data = server.request("POST", "/v1/events", b"[{", token=server.tokens["collector"])
    assert 400 == status
    assert "JSON array" in orjson.loads(data)["error"]


def test_learning_events_keep_their_source(server: Server) -> None:
    """A learning's source is its kind (incident, ...), not where it was sent from."""
    reply = server.post_events(
        [
            {
                "event_type": "learning_created",
                "timestamp": skill_event(0)["timestamp"],
                "id": "LEARN-2026-001",
                "severity": "info",
                "source": "incident",
            }
        ]
    )
    assert 1 == reply["accepted"]
    assert "incident" == server.log_events()[0]["source"]


def test_too_many_events_in_one_request_is_413(server: Server) -> None:
    """A request over MAX_EVENTS lines is refused whole (it would hold the writer too long)."""
    from ai_telemetry.serve.ingest import MAX_EVENTS

    status, _, data = server.request(
        "POST", "/v1/events", b"{}\n" * (MAX_EVENTS + 1), token=server.tokens["collector"]
    )
    assert 413 == status
    assert "smaller batches" in orjson.loads(data)["error"]
    assert 1 == server.post_events([skill_event(1)])["accepted"]
