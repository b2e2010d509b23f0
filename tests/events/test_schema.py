"""The event contract: the seed's examples validate, and bad events get precise messages."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ai_telemetry.errors import EventValidationError
from ai_telemetry.events.jsonschema import events_markdown, json_schema
from ai_telemetry.events.schema import (
    EVENT_TYPES,
    new_event_id,
    normalize_timestamp,
    timestamp_from_unix,
    validate_event,
)

ROOT = Path(__file__).resolve().parents[2]

# Every event line of the seed document, as written there.
SEED_EVENTS = (ROOT / "tests" / "data" / "seed_events.jsonl").read_text().splitlines()


@pytest.mark.parametrize("line", SEED_EVENTS)
def test_seed_examples_validate_as_written(line: str) -> None:
    """Each example event of the seed passes unchanged, plus an assigned event_id."""
    raw = orjson.loads(line)
    checked = validate_event(raw)
    assert raw == {k: v for k, v in checked.event.items() if k != "event_id"}
    assert not checked.unknown_type
    assert 36 == len(checked.event["event_id"])


@pytest.mark.parametrize("line", SEED_EVENTS)
def test_seed_examples_match_the_json_schema(line: str) -> None:
    """The printed JSON Schema accepts the seed's events once they carry an id."""
    import jsonschema

    event = validate_event(orjson.loads(line)).event
    jsonschema.validate(event, json_schema())


def test_other_offsets_are_converted_to_utc() -> None:
    """+02:00 becomes Z, two hours earlier."""
    assert "2025-12-26T08:30:00Z" == normalize_timestamp("2025-12-26T10:30:00+02:00")


def test_a_timestamp_without_offset_is_rejected_with_a_fix() -> None:
    """The message names the field, the value and how to write it."""
    with pytest.raises(EventValidationError) as caught:
        validate_event({"timestamp": "2025-12-26T10:30:00", "event_type": "commit"})
    message = str(caught.value)
    assert "timestamp" in message and "no UTC offset" in message
    assert "2025-12-26T10:30:00Z" in message


@pytest.mark.parametrize(
    ("event", "field", "words"),
    [
        ({"event_type": "skill_execution", "skill": "x", "outcome": "done"}, "outcome", "one of"),
        (
            {"event_type": "tool_call", "tool": "Read", "duration_seconds": "fast"},
            "duration_seconds",
            "number",
        ),
        (
            {"event_type": "tool_call", "tool": "Read", "duration_seconds": -1},
            "duration_seconds",
            "negative",
        ),
        (
            {"event_type": "agent_task", "agent": "a", "outcome": "success", "tool_calls": 1.5},
            "tool_calls",
            "whole",
        ),
        ({"event_type": "commit", "commit_hash": "not-a-hash"}, "commit_hash", "hexadecimal"),
        ({"event_type": "skill_execution", "outcome": "success"}, "skill", "required"),
        ({"event_type": "learning_created", "severity": "info"}, "id", "required"),
    ],
)
def test_bad_fields_are_named(event: dict[str, object], field: str, words: str) -> None:
    """Each broken field gets an error naming it and saying why."""
    with pytest.raises(EventValidationError) as caught:
        validate_event({"timestamp": "2025-12-26T10:30:00Z", **event})
    assert field == caught.value.field
    assert words in str(caught.value)


def test_negative_delta_is_allowed() -> None:
    """A coverage delta may be negative (a decline)."""
    event = validate_event(
        {
            "timestamp": "2025-12-26T10:30:00Z",
            "event_type": "test_coverage",
            "coverage_percent": 85.0,
            "delta_percent": -2.6,
        }
    ).event
    assert -2.6 == event["delta_percent"]


def test_unknown_types_are_kept_and_flagged() -> None:
    """An event type outside the contract passes validation, flagged for reporting."""
    checked = validate_event({"timestamp": "2025-12-26T10:30:00Z", "event_type": "deploy"})
    assert checked.unknown_type
    assert "deploy" == checked.event["event_type"]


def test_learning_id_is_accepted_for_id() -> None:
    """learning_id is a synonym of id on learning events."""
    event = validate_event(
        {
            "timestamp": "2025-12-26T10:30:00Z",
            "event_type": "learning_implemented",
            "learning_id": "LEARN-2025-001",
            "pr": 12,
        }
    ).event
    assert "LEARN-2025-001" == event["id"]


def test_event_ids_are_unique_and_sortable_by_time() -> None:
    """UUIDv7: version 7, and a later millisecond sorts later."""
    first, second = new_event_id(1_000), new_event_id(2_000)
    assert "7" == first[14]
    assert first < second
    assert len({new_event_id() for _ in range(10_000)}) == 10_000


def test_timestamp_from_unix_round_trips() -> None:
    """Formatting a Unix time gives the canonical UTC form with microseconds."""
    assert "2025-12-26T10:30:00.250000Z" == timestamp_from_unix(1766745000.25)


def test_docs_events_md_is_rendered_from_the_contract() -> None:
    """docs/events.md is up to date (regenerate: python -m ai_telemetry.events.jsonschema)."""
    page = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert events_markdown().strip() == page.strip()
    for name in EVENT_TYPES:
        assert f"## `{name}`" in page
