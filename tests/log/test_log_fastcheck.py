"""The reader's fast path agrees with validate_event, whatever the event."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from log_writer_child import make_event

from ai_telemetry.config import load_settings
from ai_telemetry.errors import EventValidationError
from ai_telemetry.events.schema import EVENT_TYPES, normalize_timestamp, validate_event
from ai_telemetry.log.fastcheck import canonical_timestamp, is_stored_event
from ai_telemetry.log.reader import classify_line
from ai_telemetry.log.sink import append_events


def test_sink_events_take_the_fast_path(fresh_log: Path) -> None:
    """Events as LogSink stores them are accepted without going through the validator."""
    events = [
        make_event("w", 0),
        {
            "event_type": "skill_execution",
            "timestamp": "2025-12-26T11:30:00+01:00",
            "skill": "systematic-debugger",
            "outcome": "success",
            "duration_seconds": 3,
        },
        {"event_type": "commit", "timestamp": "2025-12-26T10:30:00Z", "commit_hash": "ABCDEF12"},
        {"event_type": "deploy", "timestamp": "2025-12-26T10:30:00.5Z"},
    ]
    append_events(events, settings=load_settings(log_path=fresh_log, environ={}))
    stored = [orjson.loads(line) for line in fresh_log.read_bytes().splitlines()]
    assert [is_stored_event(e) for e in stored] == [True] * 4


# --- the fast path agrees with the validator ----------------------------------------------

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=2**63 - 1),  # what JSON from orjson can hold
    st.floats(allow_nan=False),
    st.sampled_from(["", "x", "success", "started", "passed", "ABCDEF1", "abcdef1", "zz"]),
    st.sampled_from(
        [
            "2025-12-26T10:30:00Z",
            "2025-12-26T10:30:00.123456Z",
            "2025-12-26T10:30:00.000000Z",
            "2025-12-26T10:30:00.5Z",
            "2025-13-26T10:30:00Z",
            "2025-12-26T10:30:00+01:00",
            "2025-12-26 10:30:00Z",
        ]
    ),
)
_extra_keys = ["timestamp", "event_id", "session_id", "redacted", "extra_field"]
_keys = st.sampled_from(
    [*sorted({f.name for t in EVENT_TYPES.values() for f in t.fields}), *_extra_keys]
)


@settings(max_examples=400, deadline=None)
@given(
    event_type=st.sampled_from([*sorted(EVENT_TYPES), "custom_type", "learning_created"]),
    fields=st.dictionaries(_keys, _values, max_size=6),
    timestamp=st.sampled_from(["2025-12-26T10:30:00Z", "2025-12-26T10:30:00.250000Z"]),
)
def test_fast_path_agrees_with_validate_event(
    event_type: str, fields: dict[str, object], timestamp: str
) -> None:
    """Whatever the fast path accepts, validate_event accepts too and leaves unchanged."""
    event = {"timestamp": timestamp, "event_type": event_type, **fields}
    if is_stored_event(event):
        assert event == validate_event(event, assign_id=False).event


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(_keys, _values, max_size=6))
def test_classify_matches_validate_event(fields: dict[str, object]) -> None:
    """classify_line refuses exactly the events validate_event refuses."""
    event = {"event_type": "skill_execution", "timestamp": "2025-12-26T10:30:00Z", **fields}
    try:
        expected = validate_event(event, assign_id=False).event
    except EventValidationError:
        expected = None
    assert expected == classify_line(orjson.dumps(event))[0]


def test_same_shape_other_values_still_checked() -> None:
    """A cached shape does not wave through a later event with a bad value of the same type."""
    good = make_event("w", 0)
    negative = {**good, "duration_seconds": -1.0}
    empty = {**good, "tool": ""}
    wrong_enum = {**good, "outcome": "maybe"}
    assert [is_stored_event(e) for e in (good, negative, empty, wrong_enum)] == [
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    "stamp",
    [
        "2025-12-26T10:30:00Z",
        "2025-12-26T10:30:00.123456Z",
        "2025-12-26T10:30:00.000000Z",
        "2025-12-26T10:30:00.5Z",
        "2025-12-26T10:30:00.123456789Z",
        "2025-02-30T10:30:00Z",
        "2025-12-26 10:30:00Z",
        "2025-12-26T10:30:00+00:00",
        "2025-12-26T10:30:00.Z",
    ],
)
def test_canonical_timestamp_matches_the_schema(stamp: str) -> None:
    """A timestamp is canonical exactly when normalize_timestamp returns it unchanged."""
    try:
        unchanged = normalize_timestamp(stamp) == stamp
    except EventValidationError:
        unchanged = False
    assert canonical_timestamp(stamp) == unchanged


def test_a_column_of_timestamps_is_canonical_exactly_when_each_is() -> None:
    """`canonical_timestamps` (a batch's column in one call) agrees with `canonical_timestamp`
    of each value, including values that hold a newline, non-ASCII digits or odd lengths."""
    import random

    from ai_telemetry.events.schema import canonical_timestamps

    rng = random.Random(5)
    pieces = [
        "2025-12-26T10:30:00Z",
        "2025-12-26T10:30:00.123456Z",
        "2025-12-26T10:30:01.5Z",
        "2025-12-26T10:30:00.123456789Z",
        "2025-12-26T10:30:00.1234567890Z",
        "2025-02-30T10:30:00Z",
        "2025-12-26T10:30:60Z",
        "1969-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
        "2999-01-01T00:00:00Z",
        "2025-12-26T10:30:00.\u0661Z",
        "2025-12-26T10:30:00Z\n2025-12-26T10:30:00Z",
        "2025-12-26T10:30:00+00:00",
        "",
    ]
    for _ in range(3000):
        micros = rng.randrange(10**6)
        values = {f"2025-12-26T10:{rng.randrange(60):02d}:00.{micros:06d}Z" for _ in range(5)}
        values |= set(rng.sample(pieces, rng.randrange(3)))
        assert canonical_timestamps(values) == all(canonical_timestamp(v) for v in values), values
