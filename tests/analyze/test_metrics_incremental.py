"""The same log gives the same metrics however it was ingested: in one go, in any number of
incremental batches, or straight from the log on a first run; and those equal a pure-Python
reference of METRICS.md's pairing with the warehouse's rule that the latest copy of an id wins.

Hypothesis draws skill events in a few skills and sessions (with and without a session id) on
a coarse clock, so that ties of time are common; re-written copies of earlier ids (another
outcome, another time); and where the log is cut into batches.
"""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from metrics_test_helpers import make_settings, metrics, write_jsonl

from ai_telemetry.store.warehouse import Warehouse

OUTCOMES = ("started", "started", "success", "error", "rollback")

event = st.fixed_dictionaries(
    {
        "minute": st.integers(0, 8),
        "skill": st.sampled_from(["x", "y"]),
        "session_id": st.sampled_from(["a", "b", None]),
        "outcome": st.sampled_from(OUTCOMES),
        "duration_seconds": st.integers(1, 50),
        # None: a new id; k: a later copy of the k-th id drawn so far (modulo)
        "copy_of": st.one_of(st.none(), st.none(), st.integers(0, 30)),
    }
)


def _event_ids(drawn: list[dict[str, Any]], prefix: str) -> list[str]:
    """Each drawn event's id: a new one (not in file order), or that of an earlier event it is
    a later copy of (``copy_of``)."""
    new: list[str] = []
    out = []
    for n, d in enumerate(drawn):
        if d["copy_of"] is None or not new:
            new.append(f"{prefix}-{n * 7919 % 1009:04d}")
            out.append(new[-1])
        else:
            out.append(new[d["copy_of"] % len(new)])
    return out


def _lines(drawn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The log's lines, in file order."""
    out = []
    for d, event_id in zip(drawn, _event_ids(drawn, "id"), strict=True):
        line = {
            "timestamp": f"2025-12-16T10:{d['minute']:02d}:00Z",
            "event_type": "skill_execution",
            "event_id": event_id,
            "skill": d["skill"],
            "outcome": d["outcome"],
        }
        if d["session_id"] is not None:
            line["session_id"] = d["session_id"]
        if d["outcome"] != "started":
            line["duration_seconds"] = float(d["duration_seconds"])
        out.append(line)
    return out


def reference(lines: list[dict[str, Any]], since: str = "") -> dict[str, Any]:
    """Invocations, success and error rates and mean duration per skill, by hand, of the
    executions anchored at ``since`` or later."""
    latest = {line["event_id"]: line for line in lines}  # the last copy of an id wins
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in latest.values():
        groups[(e["skill"], e.get("session_id") or "")].append(e)
    runs: dict[str, list[tuple[str | None, float | None]]] = defaultdict(list)
    anchored = defaultdict(list)  # skill -> its runs' anchor times, in step with runs
    for (skill, _), group in groups.items():
        group.sort(
            key=lambda e: (
                e["timestamp"],
                e["outcome"] != "started",
                e["outcome"],
                e.get("duration_seconds", math.inf),  # NULLS LAST
            )
        )
        for k, e in enumerate(group):
            before = group[k - 1] if k else None
            after = group[k + 1] if k + 1 < len(group) else None
            if e["outcome"] == "started":
                if after is not None and after["outcome"] != "started":
                    runs[skill].append((after["outcome"], after["duration_seconds"]))
                else:
                    runs[skill].append((None, None))  # unfinished
                anchored[skill].append(e["timestamp"])
            elif before is None or before["outcome"] != "started":
                runs[skill].append((e["outcome"], e["duration_seconds"]))
                anchored[skill].append(e["timestamp"])
    out: dict[str, Any] = {"total": {}, "success": {}, "error": {}, "avg": {}}
    for skill, every in runs.items():
        rs = [r for r, at in zip(every, anchored[skill], strict=True) if at >= since]
        if not rs:
            continue
        finished = [(o, d) for o, d in rs if o is not None]
        out["total"][skill] = len(rs)
        if finished:
            n = len(finished)
            out["success"][skill] = round(sum(o == "success" for o, _ in finished) / n, 6)
            out["error"][skill] = round(sum(o == "error" for o, _ in finished) / n, 6)
            out["avg"][skill] = round(sum(d for _, d in finished if d) / n, 6)
    return {k: v or None for k, v in out.items()}


def _skill_numbers(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": m["skill_invocation_total"],
        "success": m["skill_success_rate"],
        "error": m["skill_error_rate"],
        "avg": m["skill_avg_duration_seconds"],
    }


def _batched_and_one_go(
    lines: list[dict[str, Any]], cuts: list[int], starts: tuple[str, ...] = ("2025-12-15",)
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """For each window (from each of ``starts`` to 2025-12-22), its metrics after ingesting
    ``lines`` in batches cut at ``cuts``, and in one go.

    (`metrics` also checks each against the first-run document, read straight from the log.)
    """
    bounds = sorted({min(c, len(lines)) for c in cuts} | {len(lines)})
    with tempfile.TemporaryDirectory() as tmp:
        batched = make_settings(Path(tmp) / "batched")
        done = 0
        for bound in bounds:
            write_jsonl(batched, lines[done:bound])
            done = bound
            with Warehouse(batched, progress=False) as wh:
                wh.ingest()
        one_go = make_settings(Path(tmp) / "one-go")
        write_jsonl(one_go, lines)
        return [
            (metrics(batched, start, "2025-12-22"), metrics(one_go, start, "2025-12-22"))
            for start in starts
        ]


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=st.lists(event, min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_batches_one_go_first_run_and_reference_agree(
    drawn: list[dict[str, Any]], cuts: list[int]
) -> None:
    lines = _lines(drawn)
    starts = ("2025-12-15", "2025-12-16T10:04:00Z")  # the second splits the drawn minutes
    for start, (in_batches, at_once) in zip(
        starts, _batched_and_one_go(lines, cuts, starts), strict=True
    ):
        assert in_batches == at_once
        assert reference(lines, since=start.replace("2025-12-15", "")) == _skill_numbers(at_once)


other = st.fixed_dictionaries(
    {
        "minute": st.integers(0, 8),
        "kind": st.sampled_from(["agent_task", "tool_call", "llm_request", "test_coverage"]),
        "name": st.sampled_from(["p", "q"]),
        "task": st.sampled_from(["t1", "t2", None]),
        "outcome": st.sampled_from(OUTCOMES),
        "number": st.integers(0, 9),
        "copy_of": st.one_of(st.none(), st.none(), st.integers(0, 30)),
    }
)


def _other_lines(drawn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Agent tasks (with tool calls of their task), tool calls, LLM requests (a response seen
    twice under one request id) and coverage reports, with later copies of earlier ids."""
    out = []
    for d, event_id in zip(drawn, _event_ids(drawn, "o"), strict=True):
        line: dict[str, Any] = {
            "timestamp": f"2025-12-16T11:{d['minute']:02d}:00Z",
            "event_type": d["kind"],
            "event_id": event_id,
        }
        k = d["number"]
        if d["kind"] == "agent_task":
            line |= {"agent": d["name"], "outcome": d["outcome"], "session_id": "s"}
            if d["task"]:
                line["task_id"] = d["task"]
            if d["outcome"] != "started":
                line["duration_seconds"] = float(k)
                if k % 2:
                    line["tool_calls"] = float(k)
        elif d["kind"] == "tool_call":
            line |= {"tool": d["name"], "outcome": "error" if k < 3 else "success"}
            line["duration_seconds"] = k / 10
            if d["task"]:
                line["task_id"] = d["task"]
        elif d["kind"] == "llm_request":
            line |= {"model": d["name"], "request_id": f"r{k % 3}", "input_tokens": k}
            line |= {"output_tokens": 9 - k, "cost_usd": k / 100}
        else:
            line["coverage_percent"] = 50.0 + k
        out.append(line)
    return out


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=st.lists(other, min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_other_types_give_one_document_however_ingested(
    drawn: list[dict[str, Any]], cuts: list[int]
) -> None:
    """Agent tasks, tool calls, LLM requests and coverage: the whole document is the same."""
    [(in_batches, at_once)] = _batched_and_one_go(_other_lines(drawn), cuts)
    assert in_batches == at_once


def test_values_at_the_same_instant_do_not_depend_on_the_batches(tmp_path: Path) -> None:
    """Two coverage reports at one instant: the latest value is the one with the greater
    event id, whether the second line came in a later batch or with the first."""
    lines = [
        {"timestamp": "2025-12-16T10:00:00Z", "event_type": "test_coverage", "event_id": "b",
         "coverage_percent": 80.0},
        {"timestamp": "2025-12-16T10:00:00Z", "event_type": "test_coverage", "event_id": "a",
         "coverage_percent": 90.0},
    ]  # fmt: skip
    batched, one_go = make_settings(tmp_path / "batched"), make_settings(tmp_path / "one-go")
    write_jsonl(batched, lines[:1])
    with Warehouse(batched, progress=False) as wh:
        wh.ingest()
    write_jsonl(batched, lines[1:])
    write_jsonl(one_go, lines)
    for settings in (batched, one_go):
        assert 80.0 == metrics(settings, "2025-12-15", "2025-12-22")["test_coverage_percent"]


def test_terminals_at_the_same_instant_pair_by_outcome(tmp_path: Path) -> None:
    """A start, then two terminal events at one instant after a window's start: the start
    pairs with the first by outcome (error before success), the other counts on its own in the
    window, whatever the ids, the file order or the batches."""
    run = {"event_type": "skill_execution", "skill": "x", "session_id": "a"}
    lines = [
        {**run, "timestamp": "2025-12-16T10:02:00Z", "event_id": "c", "outcome": "started"},
        {**run, "timestamp": "2025-12-16T10:05:00Z", "event_id": "a", "outcome": "success",
         "duration_seconds": 7.0},
        {**run, "timestamp": "2025-12-16T10:05:00Z", "event_id": "b", "outcome": "error",
         "duration_seconds": 5.0},
    ]  # fmt: skip
    for order in (lines, lines[::-1]):
        [(in_batches, at_once)] = _batched_and_one_go(order, [1, 2], ("2025-12-16T10:04:00Z",))
        assert in_batches == at_once
        assert ({"x": 1}, {"x": 1.0}) == (
            at_once["skill_invocation_total"],
            at_once["skill_success_rate"],
        )
