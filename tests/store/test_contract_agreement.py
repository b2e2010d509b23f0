"""One definition of a valid event: the reader (validate), the writer and the warehouse agree.

Every line of a hand-made corpus (each value of issues 12 §4 and 20 §2, §3, §6) and of
Hypothesis-made logs is judged three ways: `classify_line` (what ``validate`` reports), the
warehouse's SQL filter (what ``aggregate`` counts), and `LogSink` (what the writer accepts);
the accepted sets and the bad-line counts must be equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ai_telemetry.config import Settings
from ai_telemetry.log.reader import classify_line
from ai_telemetry.log.sink import LogSink
from ai_telemetry.store.warehouse import Warehouse

TS = "2026-01-05T10:00:00Z"


def _line(n: int, **fields: Any) -> bytes:
    event = {"timestamp": TS, "event_type": "skill_execution", "skill": "s", "outcome": "success"}
    event.update(fields)
    event["event_id"] = f"line-{n}"
    return orjson.dumps({k: v for k, v in event.items() if v is not _DROP})


_DROP = object()


def _raw(n: int, member: str) -> bytes:
    """A line whose last member is written by hand (values orjson would not write)."""
    return (
        f'{{"timestamp":"{TS}","event_type":"skill_execution","skill":"s","outcome":"success",'
        f'"event_id":"line-{n}",{member}}}'
    ).encode()


CORPUS: list[bytes] = [
    _line(0, duration_seconds=5.0),
    _line(1, duration_seconds=-100),
    _raw(2, '"duration_seconds":NaN'),
    _raw(3, '"duration_seconds":Infinity'),
    _raw(4, '"duration_seconds":1e400'),
    _line(5, duration_seconds="12"),
    _line(6, skill=123),
    _line(7, skill=_DROP),
    _line(8, duration_seconds=1e308),
    _line(9, timestamp="2099-01-01T00:00:00Z"),
    _line(10, timestamp="0000-01-01T00:00:00Z"),
    _line(11, timestamp="0001-01-01T00:00:00+01:00"),
    _line(12, skill="<script>alert(1)</script>"),
    _line(13, skill="a|b"),
    _line(14, skill="a\nb"),
    _line(15, skill="a\x1bb"),
    _line(16, skill="a\x07b"),
    _line(17, skill="acgme-compliance"),
    _line(18, skill="META_UPDATER"),
    _line(19, skill="plugin:skill"),
    _line(20, event_type="tool_call", tool="mcp__server__tool", skill=_DROP, outcome=_DROP),
    _line(21, skill="x" * 129),
    _line(22, skill="true"),
    _line(23, session_id=42),
    _line(24, session_id=True),
    _line(25, session_id={"a": 1}),
    _line(26, error_type="red\x1b[31m"),
    _line(27, error_type="[REDACTED:email]"),
    _line(28, error_type="[1, 2]"),
    _line(29, timestamp="2026-01-05T10:00:00"),
    _line(30, timestamp="2026-01-05T11:00:00+01:00"),
    _line(31, timestamp="2026-01-05T24:00:00Z"),
    _line(32, timestamp="1969-12-31T23:59:59Z"),
    _line(33, context_tokens=1.5),
    _line(34, context_tokens=2_000_000_000),
    _line(35, event_type="test_coverage", coverage_percent=101, skill=_DROP, outcome=_DROP),
    _line(36, event_type="test_coverage", coverage_percent=87.3, delta_percent=-0.4),
    _line(37, event_type="tool_call", tool="Read", skill="<outside the type>", outcome=_DROP),
    _line(38, event_type="custom_thing", skill=123),
    _line(39, event_type="bad type"),
    _line(40, outcome="done"),
    _line(41, event_type="commit", commit_hash=1234567, skill="s", outcome=_DROP),
    _line(42, error_type="x" * 70_000),  # a line over MAX_LINE_BYTES
    b"",
    b"not json",
    b"[1, 2]",
    _line(43, model="openai/gpt-4o", event_type="llm_request", skill=_DROP, outcome=_DROP),
    _line(44, duration_seconds=True),
    # outside the contract's fields: DuckDB's reader takes these numbers, JSON does not
    _raw(45, '"extra":NaN'),
    _raw(46, '"extra":-Infinity'),
    _raw(47, '"nested":{"x":[1,Infinity]}'),
    _line(48, error_type="value is NaN, not Infinity"),  # the words in a string are fine
]


def _reader_verdicts(lines: list[bytes]) -> tuple[set[str], int]:
    ids: set[str] = set()
    bad = 0
    for raw in lines:
        event, reason, _ = classify_line(raw)
        if event is None:
            assert reason
            bad += 1
        else:
            ids.add(str(event["event_id"]))
    return ids, bad


def _warehouse_verdicts(tmp: Path, lines: list[bytes]) -> tuple[set[str], int]:
    tmp.mkdir(parents=True, exist_ok=True)
    settings = Settings(telemetry_dir=tmp, log_path=tmp / "events.jsonl")
    settings.log_path.write_bytes(b"".join(raw + b"\n" for raw in lines))
    with Warehouse(settings, path=":memory:") as wh:
        report = wh.ingest()
        ids = {r[0] for r in wh.con.execute("SELECT event_id FROM events").fetchall()}
    return ids, report.bad_lines


def test_the_issue_corpus_is_judged_alike_by_validate_and_the_warehouse(tmp_path: Path) -> None:
    """Each value of the issues: validate and the warehouse accept and refuse the same lines."""
    reader = _reader_verdicts(CORPUS)
    assert reader == _warehouse_verdicts(tmp_path, CORPUS)
    accepted = {f"line-{n}" for n in (0, 17, 18, 19, 20, 23, 24, 27, 30, 36, 37, 38, 41, 43, 48)}
    assert accepted == reader[0]


def test_the_writer_accepts_what_the_reader_accepts(tmp_path: Path) -> None:
    """LogSink writes what validate accepts, refuses the rest with a reason (unless the privacy
    guard removed the offending value), and everything it wrote is valid for both readers."""
    import json  # the standard library reads NaN, Infinity and 1e400 (as floats)

    sink = LogSink(Settings(telemetry_dir=tmp_path, log_path=tmp_path / "events.jsonl"))
    for raw in CORPUS:
        try:
            obj = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        event, _, _ = classify_line(raw)
        report = sink.write([obj])
        if event is not None:
            assert 1 == report.written, raw[:120]
        elif report.written:  # only when the privacy guard removed the offending value
            assert report.redacted > 0, raw[:120]
        assert all(reason for _, reason in report.rejected)
    sink.close()
    written = sink.log.path.read_bytes().splitlines()
    assert _reader_verdicts(written) == _warehouse_verdicts(tmp_path / "w", written)
    assert 0 == _reader_verdicts(written)[1]


# --- Hypothesis: logs of events whose values come from every kind's edges ---------------------

_TEXTS = st.one_of(
    st.sampled_from(["s", "acgme-compliance", "plugin:skill", "mcp__a__b", "1.2.0", "", "true"]),
    st.sampled_from(["[REDACTED:email]", "[x]", "{y}", "a|b", "<b>", "x" * 129, "é", "日本"]),
    st.text(max_size=6),
)
_NUMBERS = st.one_of(
    st.integers(min_value=-5, max_value=2_000_000_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 100, 100.5, 2_592_000, 2_592_001, -0.0]),
)
_VALUES = st.one_of(_TEXTS, _NUMBERS, st.booleans(), st.none(), st.just([1]), st.just({"a": 1}))
_FIELDS = st.sampled_from(
    [
        "skill",
        "agent",
        "tool",
        "outcome",
        "duration_seconds",
        "context_tokens",
        "session_id",
        "error_type",
        "coverage_percent",
        "delta_percent",
        "commit_hash",
        "model",
        "project",
        "status_code",
        "source",
        "id",
    ]
)
_TIMESTAMPS = st.sampled_from(
    [
        TS,
        "2026-01-05T10:00:00.123456789Z",
        "2026-01-05T10:00:00+05:30",
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:30:00+01:00",
        "2199-12-31T23:59:59Z",
        "2026-02-29T10:00:00Z",
        "2026-01-05 10:00:00Z",
        "2026-01-05T10:00Z",
    ]
)
_TYPES = st.sampled_from(
    ["skill_execution", "tool_call", "test_coverage", "commit", "learning_created", "x_custom"]
)


@st.composite
def _events(draw: st.DrawFn, n: int) -> bytes:
    event: dict[str, Any] = {"timestamp": draw(_TIMESTAMPS), "event_type": draw(_TYPES)}
    for name in draw(st.lists(_FIELDS, max_size=5, unique=True)):
        event[name] = draw(_VALUES)
    event["event_id"] = f"h-{n}"
    return orjson.dumps(event)


@st.composite
def _logs(draw: st.DrawFn) -> list[bytes]:
    size = draw(st.integers(min_value=1, max_value=12))
    return [draw(_events(n)) for n in range(size)]


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=_logs())
def test_generated_logs_are_judged_alike(tmp_path: Path, lines: list[bytes]) -> None:
    """For any log, the warehouse keeps validate's valid events and counts its bad lines."""
    assert _reader_verdicts(lines) == _warehouse_verdicts(tmp_path / "h", lines)
