"""Execution pairing (METRICS.md): started + next terminal in one session; orphans; unfinished."""

from __future__ import annotations

from pathlib import Path

from metrics_test_helpers import ev, make_settings, metrics, write_jsonl

WEEK = ("2025-12-15", "2025-12-22")


def _skill(ts: str, outcome: str, session: str | None = None, **kw: object) -> dict[str, object]:
    fields: dict[str, object] = {"skill": "dbg", "outcome": outcome, **kw}
    if session is not None:
        fields["session_id"] = session
    return ev(ts, "skill_execution", **fields)


def test_started_and_terminal_in_same_session_are_one_execution(tmp_path: Path) -> None:
    """Interleaved sessions pair within their own session."""
    settings = make_settings(tmp_path)
    write_jsonl(
        settings,
        [
            _skill("2025-12-16T10:00:00Z", "started", "A"),
            _skill("2025-12-16T10:01:00Z", "started", "B"),
            _skill("2025-12-16T10:02:00Z", "error", "A", duration_seconds=120),
            _skill("2025-12-16T10:03:00Z", "success", "B", duration_seconds=120),
        ],
    )
    m = metrics(settings, *WEEK)
    assert (m["skill_invocation_total"]["dbg"], m["skill_success_rate"]["dbg"]) == (2, 0.5)


def test_terminal_without_start_is_an_execution_on_its_own(tmp_path: Path) -> None:
    """An orphan terminal event (the seed's log_session.py writes only these) counts once."""
    settings = make_settings(tmp_path)
    write_jsonl(
        settings,
        [
            _skill("2025-12-16T10:00:00Z", "success", duration_seconds=5),
            _skill("2025-12-16T11:00:00Z", "error", duration_seconds=7),
        ],
    )
    m = metrics(settings, *WEEK)
    assert (
        m["skill_invocation_total"]["dbg"],
        m["skill_error_rate"]["dbg"],
        m["skill_avg_duration_seconds"]["dbg"],
    ) == (2, 0.5, 6.0)


def test_unfinished_execution_counts_as_invocation_not_in_rates(tmp_path: Path) -> None:
    """A start with no terminal is an invocation but not a finished execution."""
    settings = make_settings(tmp_path)
    write_jsonl(
        settings,
        [
            _skill("2025-12-16T10:00:00Z", "started", "A"),
            _skill("2025-12-16T10:05:00Z", "started", "B"),
            _skill("2025-12-16T10:09:00Z", "success", "B", duration_seconds=240),
        ],
    )
    m = metrics(settings, *WEEK)
    assert (m["skill_invocation_total"]["dbg"], m["skill_success_rate"]["dbg"]) == (2, 1.0)


def test_only_unfinished_executions_give_null_rates(tmp_path: Path) -> None:
    """With no finished execution the success rate is null, not 0."""
    settings = make_settings(tmp_path)
    write_jsonl(settings, [_skill("2025-12-16T10:00:00Z", "started", "A")])
    m = metrics(settings, *WEEK)
    assert (m["skill_invocation_total"]["dbg"], m["skill_success_rate"]) == (1, None)


def test_execution_belongs_to_window_of_its_start(tmp_path: Path) -> None:
    """A run started on Sunday and ended on Monday counts in the week it started."""
    settings = make_settings(tmp_path)
    write_jsonl(
        settings,
        [
            _skill("2025-12-21T23:50:00Z", "started", "A"),
            _skill("2025-12-22T00:10:00Z", "success", "A", duration_seconds=1200),
        ],
    )
    assert metrics(settings, *WEEK)["skill_invocation_total"] == {"dbg": 1}
    assert metrics(settings, "2025-12-22", "2025-12-29")["skill_invocation_total"] is None


def test_started_and_terminal_at_same_instant_pair(tmp_path: Path) -> None:
    """At equal timestamps the start sorts first, whatever the line order."""
    settings = make_settings(tmp_path)
    write_jsonl(
        settings,
        [
            _skill("2025-12-16T10:00:00Z", "success", "A", duration_seconds=0),
            _skill("2025-12-16T10:00:00Z", "started", "A"),
        ],
    )
    m = metrics(settings, *WEEK)
    assert (m["skill_invocation_total"]["dbg"], m["skill_success_rate"]["dbg"]) == (1, 1.0)
