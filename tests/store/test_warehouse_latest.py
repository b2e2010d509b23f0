"""De-duplication keeps the latest copy of an event id: within a batch, across batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from store_test_helpers import append_raw, event

from ai_telemetry.analyze.metrics import catalogue
from ai_telemetry.analyze.window import Window, parse_moment
from ai_telemetry.collect.claude_code.transcripts import import_transcripts
from ai_telemetry.config import Settings
from ai_telemetry.store.duckdb_store import DuckDBStore
from ai_telemetry.store.warehouse import Warehouse

TRANSCRIPTS = Path(__file__).parents[1] / "data" / "claude_code"
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def request(n: int, output: int, *, ts: str = "2025-12-16T10:00:00Z") -> dict[str, Any]:
    """An llm_request with id ``r<n>`` and ``output`` output tokens."""
    return {
        "timestamp": ts,
        "event_type": "llm_request",
        "event_id": f"r{n}",
        "model": "m",
        "input_tokens": 10,
        "output_tokens": output,
    }


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """Ingest what is new, then run ``sql``."""
    with Warehouse(settings) as wh:
        wh.ingest()
        return wh.con.execute(sql).fetchall()


def test_later_copy_in_one_batch_replaces_the_earlier(settings: Settings) -> None:
    """Two copies of an id in one ingest: one row, the later line's (larger) usage."""
    append_raw(settings, [request(1, 2), request(1, 159), request(2, 7)])
    got = rows(settings, "SELECT event_id, output_tokens FROM events ORDER BY 1")
    assert got == [("r1", 159.0), ("r2", 7.0)]


def test_later_line_wins_even_when_smaller(settings: Settings) -> None:
    """The rule is file order, not size: a later smaller copy replaces a larger one."""
    append_raw(settings, [request(1, 500), request(1, 20)])
    assert rows(settings, "SELECT output_tokens FROM events") == [(20.0,)]


def test_file_order_holds_across_parallel_read_blocks(settings: Settings) -> None:
    """Copies megabytes apart (read by different threads) still resolve to the last line."""
    filler = [event("2025-12-16T09:00:00Z", n, detail="x" * 200) for n in range(30_000)]
    append_raw(settings, [request(1, 900), *filler, request(1, 3), *filler[:5], request(2, 1)])
    got = rows(settings, "SELECT output_tokens, count(*) OVER () FROM events WHERE event_id='r1'")
    assert got == [(3.0, 1)]


@pytest.fixture
def found(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each raw-text lookup of differing copies answered (True: it found them all)."""
    answers: list[bool] = []
    original = Warehouse._copies_from_lines

    def spy(self: Warehouse, path: Path) -> bool:
        answers.append(original(self, path))
        return answers[-1]

    monkeypatch.setattr(Warehouse, "_copies_from_lines", spy)
    return answers


def test_later_copy_spelled_with_escapes_still_wins(settings: Settings, found: list[bool]) -> None:
    """A later copy whose id is written with JSON escapes (``r\\u0031`` is ``r1``) is not
    found on the raw text; the copies found then fall short and everything is read again."""
    escaped = orjson.dumps(request(1, 159)).replace(b'"r1"', b'"r\\u0031"') + b"\n"
    append_raw(settings, [request(1, 2), request(1, 40), escaped, request(2, 7)])
    got = rows(settings, "SELECT event_id, output_tokens FROM events ORDER BY 1")
    assert got == [("r1", 159.0), ("r2", 7.0)]
    assert found == [False]


def test_ids_with_pattern_characters_and_mentions_elsewhere(
    settings: Settings, found: list[bool]
) -> None:
    """Ids holding regular-expression characters and quotes are matched literally (on the raw
    text, without the re-read), and a line that only mentions an id elsewhere is no copy."""
    weird = 'r.1+(x)|"q" #&~=<>,;:/@!%`\\\\[{^$'
    first, last = request(1, 2), request(1, 159)
    first["event_id"] = last["event_id"] = weird
    mention = request(3, 1)
    mention["model"] = "r"  # a name; the id text below sits in a free-text field
    mention["error_message"] = weird
    other = request(4, 8)
    other["event_id"] = "r11"  # what an unescaped pattern "r.1" would also match
    append_raw(settings, [first, other, mention, last])
    got = rows(settings, "SELECT event_id, output_tokens FROM events ORDER BY 2")
    assert got == [("r3", 1.0), ("r11", 8.0), (weird, 159.0)]
    assert found == [True]


def test_lean_read_of_a_window_keeps_the_last_copy(settings: Settings) -> None:
    """The first run's in-memory read of one window settles copies the same way."""
    append_raw(settings, [request(1, 2), request(2, 7), request(1, 159)])
    window = Window(parse_moment("2025-12-15T00:00:00Z"), parse_moment("2025-12-22T00:00:00Z"))
    with DuckDBStore.from_log(settings, window, progress=False) as store:
        store.ingest()
        got = store.con.execute("SELECT event_id, output_tokens FROM events ORDER BY 1")
        assert got.fetchall() == [("r1", 159.0), ("r2", 7.0)]


def test_later_batch_replaces_the_stored_copy(settings: Settings) -> None:
    """An id re-written after an ingest: the newer batch's copy replaces the stored one."""
    append_raw(settings, [request(1, 2)])
    rows(settings, "SELECT 1")
    append_raw(settings, [request(1, 159)])
    assert rows(settings, "SELECT output_tokens FROM events") == [(159.0,)]


def test_session_end_whose_timestamp_moved_is_one_row(settings: Settings) -> None:
    """A session_end re-written later with a new timestamp replaces the old one, not adds."""
    end = {"event_type": "session_end", "event_id": "s-end", "session_id": "s"}
    append_raw(settings, [{**end, "timestamp": "2025-12-16T10:00:00Z", "duration_seconds": 60}])
    rows(settings, "SELECT 1")
    append_raw(settings, [{**end, "timestamp": "2025-12-18T08:00:00Z", "duration_seconds": 900}])
    got = rows(settings, "SELECT CAST(ts AS VARCHAR), duration_seconds FROM events")
    assert got == [("2025-12-18 08:00:00", 900.0)]


def test_moved_session_end_within_one_batch_is_one_row(settings: Settings) -> None:
    """Both copies of a moved session_end in one ingest: the later line's timestamp."""
    end = {"event_type": "session_end", "event_id": "s-end", "session_id": "s"}
    append_raw(
        settings,
        [
            {**end, "timestamp": "2025-12-16T10:00:00Z", "duration_seconds": 60},
            {**end, "timestamp": "2025-12-18T08:00:00Z", "duration_seconds": 900},
        ],
    )
    got = rows(settings, "SELECT CAST(ts AS VARCHAR), duration_seconds FROM events")
    assert got == [("2025-12-18 08:00:00", 900.0)]


def test_identical_reingest_after_truncation_doubles_nothing(settings: Settings) -> None:
    """The same bytes read again (truncated, then rewritten) keep one row per event."""
    lines = [request(n, n) for n in range(6)] + [event("2025-12-16T11:00:00Z", 9)]
    append_raw(settings, lines)
    rows(settings, "SELECT 1")
    settings.log_path.write_bytes(b"")
    append_raw(settings, [*lines, request(7, 7)])
    got = rows(settings, "SELECT count(*), count(DISTINCT event_id) FROM events")
    assert got == [(8, 8)]


def test_identical_copies_in_one_batch_keep_one(settings: Settings) -> None:
    """The same line twice in one ingest is one event, and the report counts the duplicate."""
    append_raw(settings, [request(1, 5), request(2, 5), request(1, 5)])
    with Warehouse(settings) as wh:
        report = wh.ingest()
        assert (wh.count(), report.inserted, report.duplicates) == (2, 2, 1)


def _independent_tokens(transcript: Path) -> dict[str, int]:
    """Per response (message id) the largest of each usage field, summed over responses."""
    best: dict[str, dict[str, int]] = {}
    for line in transcript.read_text().splitlines():
        rec = json.loads(line)
        msg = rec.get("message") or {}
        if rec.get("type") == "assistant" and "usage" in msg:
            seen = best.setdefault(msg["id"], dict.fromkeys(TOKEN_FIELDS, 0))
            for f in TOKEN_FIELDS:
                seen[f] = max(seen[f], msg["usage"].get(f, 0))
    return {f: sum(v[f] for v in best.values()) for f in TOKEN_FIELDS}


def test_tokens_of_a_transcript_imported_in_two_halves(settings: Settings, tmp_path: Path) -> None:
    """A response split across two imports (ingested in between) is one row at its final size."""
    source = TRANSCRIPTS / "handmade" / "streaming-growth.jsonl"
    lines = source.read_text().splitlines(keepends=True)
    target = tmp_path / "projects" / "p" / "s.jsonl"
    target.parent.mkdir(parents=True)
    target.write_text("".join(lines[:2]))  # msg_x's streamed copies are split here
    import_transcripts([target], settings=settings)
    rows(settings, "SELECT 1")
    target.write_text("".join(lines))
    import_transcripts([target], settings=settings)
    with DuckDBStore(settings) as wh:
        wh.ingest()
        window = Window(parse_moment("2026-03-01T00:00:00Z"), parse_moment("2026-04-01T00:00:00Z"))
        tokens = catalogue(wh, window)["metrics"]["llm_tokens_total"]
        stored = wh.con.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events WHERE event_type='llm_request'"
        ).fetchall()
    got = {
        "input_tokens": sum(t["input"] for t in tokens.values()),
        "output_tokens": sum(t["output"] for t in tokens.values()),
        "cache_creation_input_tokens": sum(t["cache_creation"] for t in tokens.values()),
        "cache_read_input_tokens": sum(t["cache_read"] for t in tokens.values()),
    }
    assert (got, stored) == (_independent_tokens(source), [(2, 2)])
