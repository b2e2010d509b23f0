"""`LogSink.prepare`'s one-pass fast path gives exactly what the guard then the validation give.

Every event type of the contract, every field, values from the labelled privacy corpus (personal
data, secrets, legitimate telemetry values) and from the validation's edge cases; each event is
prepared twice (the second time from the memo) under both policies, and compared with
`PrivacyGuard.scrub` followed by `validate_event`: the same event, the same redaction count,
or the same exception with the same message.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ai_telemetry.config import load_settings
from ai_telemetry.errors import EventValidationError, PrivacyViolation
from ai_telemetry.events.privacy import PrivacyGuard
from ai_telemetry.events.schema import EVENT_TYPES, fields_for, validate_event
from ai_telemetry.log.sink import LogSink

DATA = Path(__file__).resolve().parent.parent / "data" / "privacy"
EDGE: tuple[Any, ...] = (
    "",
    " ",
    "tdd",
    "success",
    "error",
    "Read",
    "mcp__github__create_issue",
    "claude-sonnet-4-5",
    "2025-12-26T10:30:00Z",
    "2025-12-26T11:30:00+01:00",
    "2025-02-30T10:00:00Z",
    "2999-01-01T00:00:00Z",
    "2025-12-26 10:30:00",
    "0123abcdef0123abcdef",
    "ABCDEF1",
    "[REDACTED:email]",
    "{nested}",
    "line\nbreak",
    "x" * 300,
    0,
    -1,
    1.5,
    float("inf"),
    True,
    False,
    None,
    12345678901234567890,
    ["a"],
    {"a": 1},
)


def _corpus() -> list[str]:
    values: list[str] = []
    for name in ("pii.jsonl", "legit.jsonl"):
        with (DATA / name).open(encoding="utf-8") as handle:
            values.extend(json.loads(line)["value"] for line in handle if line.strip())
    return values


def _outcome(fn: Any, event: Mapping[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", fn(event)
    except (EventValidationError, PrivacyViolation) as exc:
        return type(exc).__name__, str(exc)


def _slow(guard: PrivacyGuard) -> Any:
    def run(event: Mapping[str, Any]) -> tuple[dict[str, Any], bool, int]:
        clean, removed = guard.scrub(event)
        checked = validate_event(clean)
        return checked.event, checked.unknown_type, removed

    return run


def _good(spec: Any, rng: random.Random) -> Any:
    """A value the field accepts (mostly): repeated names, as real batches carry."""
    kind = spec.kind
    if kind == "enum":
        return rng.choice(spec.choices)
    if kind in ("number", "integer"):
        return rng.choice((1, 2, 3.5)) if kind == "number" else rng.choice((1, 2, 30))
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "timestamp":
        return rng.choice(("2025-12-26T10:30:00Z", "2025-12-26T11:30:00.5+01:00"))
    if kind == "hash":
        return rng.choice(("abcdef1", "0123456789ABCDEF"))
    return rng.choice(("tdd", "Read", "sess-1", "debugger", "claude_opus"))


def _events(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    corpus = _corpus()
    pool = [*corpus[:: max(1, len(corpus) // 400)], *EDGE]
    types = sorted(EVENT_TYPES)
    events: list[dict[str, Any]] = []
    for n in range(count):
        event_type = types[n % len(types)]
        event: dict[str, Any] = {
            "event_type": event_type,
            "timestamp": "2025-12-26T10:30:00Z",
            "event_id": f"id-{n}",
        }
        mostly_good = n % 2 == 0
        for name, spec in fields_for(event_type).items():
            if name in ("event_type", "event_id") or rng.random() < 0.4:
                continue
            if mostly_good and rng.random() < 0.95:
                event[name] = _good(spec, rng)
            else:
                event[name] = rng.choice(pool)
        if rng.random() < 0.1:
            event["not_a_field"] = "x"
        if rng.random() < 0.1:
            del event["event_id"]
        events.append(event)
    return events


@pytest.mark.parametrize("policy", ["redact", "reject"])
def test_fast_path_matches_scrub_then_validate(tmp_path: Path, policy: str) -> None:
    settings = load_settings(
        environ={}, cwd=tmp_path, log_path=tmp_path / "events.jsonl", privacy_policy=policy
    )
    sink = LogSink(settings)
    reference = _slow(PrivacyGuard(policy=policy))  # type: ignore[arg-type]
    events = _events(seed=15, count=3000)
    fast_taken = 0
    for _ in range(2):  # the second time, values come from the memo
        for event in events:
            expected = _outcome(reference, event)
            got = _outcome(sink.prepare, event)
            if "event_id" not in event and expected[0] == "ok" and got[0] == "ok":
                # a fresh id each time: compare the rest and the id's presence
                assert "event_id" in got[1][0]
                expected = ("ok", ({**expected[1][0], "event_id": ""}, *expected[1][1:]))
                got = ("ok", ({**got[1][0], "event_id": ""}, *got[1][1:]))
            assert got == expected, event
            if got[0] == "ok" and got[1][2] == 0:
                fast_taken += 1
    assert fast_taken > 500  # the corpus does exercise the fast path


def test_memoised_timestamp_is_checked_against_the_clock_again(tmp_path: Path) -> None:
    from ai_telemetry.events import schema

    sink = LogSink(load_settings(environ={}, cwd=tmp_path, log_path=tmp_path / "events.jsonl"))
    event = {
        "event_type": "skill_execution",
        "timestamp": "2031-01-01T00:00:00Z",
        "skill": "tdd",
        "outcome": "success",
    }
    skew = schema.max_future_skew
    try:
        schema.max_future_skew = 10 * 365 * 86400.0
        assert sink.prepare(event)[0]["timestamp"] == "2031-01-01T00:00:00Z"
        schema.max_future_skew = 60.0
        with pytest.raises(EventValidationError, match="ahead of now"):
            sink.prepare(event)
    finally:
        schema.max_future_skew = skew


def _fresh_values(kind: str, rng: random.Random) -> list[Any]:
    """Values that never repeat in real batches (ids, times, measurements) and their edges."""
    import uuid

    if kind == "timestamp":
        micros = rng.randrange(10**6)
        return [
            f"2025-12-26T10:30:{rng.randrange(60):02d}.{micros:06d}Z",
            f"2025-12-26T10:30:00.{micros % 1000:03d}Z",
            "2025-12-26T10:30:00.000000Z",
            "2025-12-26T10:30:00.0Z",
            "2025-12-26T10:30:00.123456789Z",
            "2025-12-26T10:30:00.1234567890Z",
            "2025-12-26T10:30:00.\u0661\u0662\u0663Z",  # Arabic-Indic digits
            "2025-12-26T10:30:60Z",
            "2025-02-29T10:30:00.5Z",
            "1969-12-31T23:59:59.5Z",
            "2200-01-01T00:00:00.5Z",
            "2199-12-31T23:59:59.999999Z",
            "2999-06-01T00:00:00.25Z",
            "2025-12-26T10:30:00.5+01:00",
            "2025-12-26t10:30:00.5Z",
        ]
    if kind in ("number", "integer"):
        return [
            rng.random() * 1000,
            rng.randrange(10**6),
            0,
            -0.0,
            -1,
            -1e-9,
            1e300,
            float("nan"),
            float("inf"),
            2.0,
            10**20,
            1_000_000,
            1_000_001,
            True,
        ]
    if kind in ("id", "text", "name"):
        fresh = str(uuid.UUID(int=rng.getrandbits(128)))
        return [
            fresh,
            fresh.upper(),
            "{" + fresh[1:],
            fresh[:35] + "\n",
            fresh + "x",
            f"{fresh}\n{uuid.UUID(int=rng.getrandbits(128))}",  # two UUIDs on two lines: one value
        ]
    return []


@pytest.mark.parametrize("policy", ["redact", "reject"])
def test_values_taken_without_the_memo_match_scrub_then_validate(
    tmp_path: Path, policy: str
) -> None:
    """Canonical timestamps, lower-case UUIDs and bounded numbers skip the memo: each still
    gives what the guard then the validation give, in every field of every type."""
    settings = load_settings(
        environ={}, cwd=tmp_path, log_path=tmp_path / "events.jsonl", privacy_policy=policy
    )
    sink = LogSink(settings)
    reference = _slow(PrivacyGuard(policy=policy))  # type: ignore[arg-type]
    rng = random.Random(7)
    checked = fast = 0
    for event_type in sorted(EVENT_TYPES):
        fields = fields_for(event_type)
        base: dict[str, Any] = {"event_type": event_type, "timestamp": "2025-12-26T10:30:00Z"}
        for name in EVENT_TYPES[event_type].required:
            base.setdefault(name, _good(fields[name], rng))
        for name, spec in fields.items():
            if name == "event_type":
                continue
            for value in _fresh_values(spec.kind, rng):
                event = {**base, "event_id": "e-1", name: value}
                expected = _outcome(reference, event)
                got = _outcome(sink.prepare, event)
                # repr: 1 and 1.0 are equal, but not the same line in the log
                assert repr(got) == repr(expected), (event_type, name, value)
                checked += 1
                fast += sink._fast_prepare(event) is not None
    assert checked > 1000
    assert fast > 500  # the cases do reach the fast path


def _batch_outcomes(results: list[Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for result in results:
        if isinstance(result, tuple):
            out.append(("ok", repr(result)))  # repr: 1 and 1.0 differ in the log
        else:
            out.append((type(result).__name__, str(result)))
    return out


def _ids_given(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e if "event_id" in e else {**e, "event_id": f"given-{n}"} for n, e in enumerate(events)]


@pytest.mark.parametrize("policy", ["redact", "reject"])
def test_prepare_many_matches_prepare_one_by_one(tmp_path: Path, policy: str) -> None:
    """`prepare_many` judges events of one shape by column; every answer (event, redaction
    count, or the exception and its message) is the one `prepare` gives, over the privacy
    corpus, the fresh values and whole batches of clean events that take the column path."""
    settings = load_settings(
        environ={}, cwd=tmp_path, log_path=tmp_path / "events.jsonl", privacy_policy=policy
    )
    rng = random.Random(11)
    batches: list[list[dict[str, Any]]] = []
    corpus_events = _ids_given(_events(seed=21, count=2000))
    batches += [corpus_events[i : i + 100] for i in range(0, len(corpus_events), 100)]
    for event_type in sorted(EVENT_TYPES):
        fields = fields_for(event_type)
        base: dict[str, Any] = {"event_type": event_type, "timestamp": "2025-12-26T10:30:00Z"}
        for name in EVENT_TYPES[event_type].required:
            base.setdefault(name, _good(fields[name], rng))
        clean = [{**base, "event_id": f"{n:08x}-0000-4000-8000-000000000000"} for n in range(8)]
        batches.append(clean)  # whole: the column path
        for name, spec in fields.items():
            if name == "event_type":
                continue
            for value in [*_fresh_values(spec.kind, rng), _good(spec, rng)]:
                batch = [dict(e) for e in clean]
                batch[rng.randrange(len(batch))][name] = value  # one value in a column
                batches.append(batch)
                batches.append([{**e, name: value} for e in clean])  # the whole column
    column_path = 0
    reference_sink = LogSink(settings)
    for batch in batches:
        sink = LogSink(settings)  # fresh memos, so the column path judges values first
        whole = sink._columns_whole
        taken: list[bool] = []

        def counted(plan: Any, rows: Any, whole: Any = whole, taken: list[bool] = taken) -> bool:
            taken.append(whole(plan, rows))
            return taken[-1]

        sink._columns_whole = counted  # type: ignore[method-assign]
        expected = []
        for event in batch:
            try:
                expected.append(reference_sink.prepare(event))
            except (EventValidationError, PrivacyViolation) as exc:
                expected.append(exc)  # type: ignore[arg-type]
        got = sink.prepare_many(batch)
        assert _batch_outcomes(got) == _batch_outcomes(expected), batch[0]["event_type"]
        column_path += any(taken)
    assert column_path > 200  # the column path is taken, and agrees
