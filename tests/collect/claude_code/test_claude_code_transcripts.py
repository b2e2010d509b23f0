"""Transcript import: de-duplicated responses, costs, context, agents, skills, increments."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ai_telemetry.collect.claude_code.pricing import estimate_cost
from ai_telemetry.collect.claude_code.transcripts import import_transcripts
from ai_telemetry.config import load_settings

DATA = Path(__file__).parents[2] / "data" / "claude_code"
FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def independent_totals(files: list[Path]) -> dict[str, int]:
    """Reference count: per (message id, request id) the largest of each field, then summed."""
    best: dict[tuple[str, str], dict[str, int]] = {}
    for file in files:
        for line in file.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            msg = rec.get("message") if isinstance(rec, dict) else None
            if rec.get("type") != "assistant" or not isinstance(msg, dict):
                continue
            if msg.get("model") == "<synthetic>" or "usage" not in msg:
                continue
            key = (msg["id"], rec.get("requestId") or "")
            seen = best.setdefault(key, dict.fromkeys(FIELDS, 0))
            for f in FIELDS:
                seen[f] = max(seen[f], msg["usage"].get(f, 0))
    return {f: sum(v[f] for v in best.values()) for f in FIELDS} | {"responses": len(best)}


class Workspace:
    """A telemetry dir plus a copy of sample transcripts laid out like ~/.claude/projects."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.projects = root / "projects"
        self.settings = load_settings(environ={}, cwd=root, telemetry_dir=root / "telemetry")

    def add(self, source: Path, relative: str) -> Path:
        target = self.projects / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def run(self, *paths: Path) -> Any:
        return import_transcripts(list(paths) or [self.projects], settings=self.settings)

    def events(self, event_type: str) -> list[dict[str, Any]]:
        path = self.settings.log_path
        rows = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
        return [r for r in rows if r["event_type"] == event_type]

    def latest(self, event_type: str) -> dict[str, dict[str, Any]]:
        """Events by event_id, the last written winning (the warehouse's rule)."""
        return {e["event_id"]: e for e in self.events(event_type)}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def real_samples() -> list[Path]:
    return sorted((DATA / "projects").rglob("*.jsonl"))


def test_token_totals_equal_an_independent_count_of_real_transcripts(ws: Workspace) -> None:
    """Summed llm_request tokens equal a separate de-duplicating count of the real samples."""
    report = ws.run(DATA / "projects")
    expected = independent_totals(real_samples())
    requests = ws.latest("llm_request").values()
    got = {f: sum(r[f] for r in requests) for f in FIELDS} | {"responses": len(requests)}
    assert got == expected
    assert report.llm_requests == expected["responses"] == 9


def test_copies_of_one_response_count_once(ws: Workspace) -> None:
    """The coverage sample's three lines of msg_0139... are one request, not three."""
    ws.run(DATA / "projects" / "-tmp-tmpw6sk2trg")
    matching = [
        r for r in ws.events("llm_request") if r["message_id"] == "msg_0139EUWrBy6PHQuT8UcAXFh7"
    ]
    assert len(matching) == 1
    assert [matching[0][f] for f in FIELDS] == [1, 1, 522, 18753]
    assert matching[0]["request_id"] == "req_011CXL3Bx95Mw4cbAbcMB45r"


def test_growing_copies_keep_the_largest_usage(ws: Workspace) -> None:
    """Streaming copies (output 2, 2, 159) give one request with 159 output tokens."""
    ws.run(DATA / "handmade" / "streaming-growth.jsonl")
    by_msg = {r["message_id"]: r for r in ws.events("llm_request")}
    assert by_msg["msg_x"]["output_tokens"] == 159
    assert by_msg["msg_y"]["output_tokens"] == 400  # no requestId: keyed on the message id
    assert "request_id" not in by_msg["msg_y"]


def test_cost_is_estimated_from_the_price_table(ws: Workspace) -> None:
    """Opus 4.5 at $5/$25 per MTok, cache write $6.25, cache read $0.50."""
    ws.run(DATA / "projects" / "-tmp-tmp74wiyiny")
    by_msg = {r["message_id"]: r for r in ws.events("llm_request")}
    first = by_msg["msg_01KF5AL1TRZ7eLJUyf8heHMW"]  # 2 in, 1 out, 3173 write, 15289 read
    assert first["cost_usd"] == pytest.approx((2 * 5 + 1 * 25 + 3173 * 6.25 + 15289 * 0.5) / 1e6)


def test_long_prompts_use_the_long_context_price() -> None:
    """Sonnet 4.5 past 200k prompt tokens is priced at $6/$22.50, read $0.60."""
    usage = {"input_tokens": 10, "cache_read_input_tokens": 250_000, "output_tokens": 400}
    expected = (10 * 6 + 400 * 22.5 + 250_000 * 0.6) / 1e6
    assert estimate_cost("claude-sonnet-4-5-20250929", usage) == pytest.approx(expected)


def test_one_hour_cache_writes_cost_twice_the_input_price() -> None:
    """ephemeral_1h tokens are priced at the 1h cache-write rate."""
    usage = {
        "cache_creation_input_tokens": 500,
        "cache_creation": {"ephemeral_1h_input_tokens": 500},
    }
    assert estimate_cost("claude-opus-4-5-20251101", usage) == pytest.approx(500 * 10 / 1e6)
    assert estimate_cost("<synthetic>", usage) is None


def test_context_snapshot_per_response(ws: Workspace) -> None:
    """Each response gives context = input + cache write + cache read, against its window."""
    ws.run(DATA / "handmade" / "streaming-growth.jsonl")
    snaps = {s["context_tokens"]: s for s in ws.events("context_snapshot")}
    assert snaps[3 + 2285 + 22137]["context_window"] == 200_000
    assert snaps[10 + 250_000]["context_window"] == 1_000_000
    assert all(s["trigger"] == "turn" for s in snaps.values())


def test_session_start_end_and_length(ws: Workspace) -> None:
    """A main transcript gives session_start and session_end with the length between."""
    ws.run(DATA / "projects" / "-tmp-tmp74wiyiny")
    [start] = ws.events("session_start")
    [end] = ws.events("session_end")
    assert start["timestamp"] == "2026-01-21T06:20:30.861Z"
    assert end["timestamp"] == "2026-01-21T06:20:44.516Z"
    assert end["duration_seconds"] == pytest.approx(13.655)


def test_subagent_folder_is_attributed_to_its_agent(ws: Workspace) -> None:
    """subagents/agent-<id>.jsonl responses carry the agent type from the parent's result."""
    session = "5e1f0c1e-0000-4000-8000-000000000002"
    ws.add(DATA / "handmade" / "agent-and-skill.jsonl", f"p/{session}.jsonl")
    ws.add(DATA / "handmade" / "agent-b77e1d2.jsonl", f"p/{session}/subagents/agent-b77e1d2.jsonl")
    ws.run()
    [sub] = [r for r in ws.events("llm_request") if r["message_id"] == "msg_b1"]
    assert (sub["agent"], sub["task_id"]) == ("Explore", "b77e1d2")
    assert len(ws.events("session_start")) == 1  # the subagent file is not a session


def test_inline_sidechain_is_attributed_to_the_open_task(ws: Workspace) -> None:
    """isSidechain lines between a Task call and its result belong to that agent type."""
    ws.run(DATA / "handmade" / "agent-and-skill.jsonl")
    by_msg = {r["message_id"]: r for r in ws.events("llm_request")}
    assert by_msg["msg_s1"]["agent"] == "Explore"
    assert "agent" not in by_msg["msg_a3"]


def test_skill_attribution_lasts_until_the_next_prompt(ws: Workspace) -> None:
    """Responses after a Skill call belong to it until the user types again."""
    ws.run(DATA / "handmade" / "agent-and-skill.jsonl")
    skills = {r["message_id"]: r.get("skill") for r in ws.events("llm_request")}
    assert skills == {
        "msg_a1": None,
        "msg_a2": "systematic-debugger",
        "msg_s1": None,
        "msg_a3": "systematic-debugger",
        "msg_a5": None,
    }


def test_unknown_types_and_bad_lines_are_skipped_and_counted(ws: Workspace) -> None:
    """An unknown record type and a non-JSON line are counted, never fatal."""
    report = ws.run(DATA / "handmade" / "agent-and-skill.jsonl")
    assert report.skipped_types == {"brand-new-record-kind": 1}
    assert report.malformed_lines == 1
    assert report.rejected == 0


def test_second_run_adds_nothing(ws: Workspace) -> None:
    """Importing the same files again writes no event."""
    ws.run(DATA / "projects")
    lines = ws.settings.log_path.read_text().count("\n")
    report = ws.run(DATA / "projects")
    assert (report.events_written, ws.settings.log_path.read_text().count("\n")) == (0, lines)


def test_appended_lines_are_imported_incrementally(ws: Workspace) -> None:
    """Only what was appended since the last run is read; a grown response supersedes itself."""
    lines = (DATA / "handmade" / "streaming-growth.jsonl").read_text().splitlines(keepends=True)
    target = ws.projects / "s.jsonl"
    target.parent.mkdir(parents=True)
    target.write_text("".join(lines[:2]) + lines[2][:40])  # a half-written third line
    ws.run(target)
    assert [r["output_tokens"] for r in ws.events("llm_request")] == [2]
    target.write_text("".join(lines))
    report = ws.run(target)
    assert report.lines == 3
    latest = ws.latest("llm_request")
    assert sorted(r["output_tokens"] for r in latest.values()) == [159, 400]


def test_a_replaced_file_is_read_again_without_doubles(ws: Workspace) -> None:
    """A truncated or replaced transcript is re-read from 0; ids keep one event per response."""
    target = ws.add(
        DATA / "projects" / "-tmp-tmp74wiyiny" / "de3b8b19-5bc0-4a2a-934a-1b6806567e25.jsonl",
        "p/s.jsonl",
    )
    ws.run(target)
    text = target.read_text().splitlines(keepends=True)
    target.unlink()
    target.write_text("".join(text[:3]))  # a new, shorter file at the same path
    report = ws.run(target)
    assert report.restarted == [str(target.resolve())]
    assert len(ws.latest("llm_request")) == 4


def test_missing_path_is_a_clear_error(ws: Workspace) -> None:
    """A path that does not exist raises CollectorError naming it."""
    from ai_telemetry.errors import CollectorError

    with pytest.raises(CollectorError, match="no-such-dir"):
        ws.run(ws.root / "no-such-dir")
