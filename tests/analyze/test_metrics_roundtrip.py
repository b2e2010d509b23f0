"""Round trip: events -> JSONL -> warehouse -> metrics equals a pure-Python reference."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from metrics_test_helpers import ev, make_settings, metrics, write_jsonl

OUTCOMES = ["success", "error", "rollback", "handoff"]
skill_names = st.sampled_from(["alpha", "beta", "gamma"])
tool_events = st.lists(
    st.tuples(st.sampled_from(["Read", "Grep", "Edit"]), st.sampled_from(["success", "error"])),
    max_size=15,
)
orphan_runs = st.lists(st.tuples(skill_names, st.sampled_from(OUTCOMES)), max_size=20)


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=orphan_runs, tools=tool_events)
def test_counts_and_rates_match_reference(
    runs: list[tuple[str, str]], tools: list[tuple[str, str]]
) -> None:
    """Invocations, success/error rates and tool counts equal a Counter-based reference."""
    events = [
        ev(
            f"2025-12-16T{i // 60:02d}:{i % 60:02d}:00Z",
            "skill_execution",
            skill=s,
            outcome=o,
            duration_seconds=float(i),
        )
        for i, (s, o) in enumerate(runs)
    ]
    events += [
        ev(f"2025-12-17T00:{i:02d}:00Z", "tool_call", tool=t, outcome=o)
        for i, (t, o) in enumerate(tools)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp))
        write_jsonl(
            settings, events or [ev("2025-12-16T00:00:00Z", "commit", commit_hash="abcdef1")]
        )
        m = metrics(settings, "2025-12-15", "2025-12-22")
    per_skill = Counter(s for s, _ in runs)
    success = Counter(s for s, o in runs if o == "success")
    errors = Counter(s for s, o in runs if o == "error")
    assert (dict(per_skill) or None) == m["skill_invocation_total"]
    expected_rates = {s: round(success[s] / n, 6) for s, n in per_skill.items()} or None
    assert expected_rates == m["skill_success_rate"]
    assert ({s: round(errors[s] / n, 6) for s, n in per_skill.items()} or None) == m[
        "skill_error_rate"
    ]
    assert (dict(Counter(t for t, _ in tools)) or None) == m["tool_call_total"]
