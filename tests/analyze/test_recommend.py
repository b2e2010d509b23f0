"""Skill recommendations (issue 19 §2): similar past tasks by folder, a shrunk success rate,
the evidence, "no recommendation" when the data cannot tell, and the offline evaluation on the
demo generator by a time split, with its measured hit rates as floors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ai_telemetry.analyze.recommend import (
    RecommendOptions,
    evaluate,
    normalize_folders,
    rank,
    recommend,
)
from ai_telemetry.demo import generate
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.ports import SkillRun

T0 = datetime(2025, 11, 3, 9, 0)
END = datetime(2025, 12, 8, tzinfo=UTC)


def _runs(skill: str, folders: str, outcomes: str, kind: str | None = None) -> list[SkillRun]:
    """One run per letter of ``outcomes``: s success, e error, r rollback."""
    names = {"s": "success", "e": "error", "r": "rollback"}
    return [
        SkillRun(
            skill, T0 + timedelta(hours=i), names[o], 60.0 + i, tuple(folders.split(",")), kind
        )
        for i, o in enumerate(outcomes)
    ]


def _demo_runs(seed: int = 42) -> list[SkillRun]:
    data = generate(weeks=12, seed=seed, end=END)
    return [
        SkillRun(
            e["skill"],
            datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).replace(tzinfo=None),
            e["outcome"],
            e.get("duration_seconds"),
            tuple(e["folders"].split(",")),
            e.get("task_kind"),
        )
        for e in data.events
        if e["event_type"] == "skill_execution" and e.get("folders")
    ]


def test_more_evidence_outranks_a_lucky_few() -> None:
    """20 of 21 in the folder beats 2 of 2: the prior makes evidence earn the score."""
    runs = _runs("steady", "src/api", "s" * 20 + "e") + _runs("lucky", "src/api", "ss")
    result = rank(runs, ("src/api",))
    assert ["steady", "lucky"] == [s.skill for s in result.skills]
    assert "steady" == result.recommended
    best = result.skills[0]
    assert (21, 20.0) == (best.runs, best.successes)
    assert best.ci_low < 20 / 21 < best.ci_high


def test_only_similar_folders_count() -> None:
    """Runs in docs/ say nothing about a task in src/api."""
    runs = _runs("writer", "docs", "s" * 30) + _runs("fixer", "src/api", "sssse")
    result = rank(runs, ("src/api",))
    assert ["fixer"] == [s.skill for s in result.skills]
    assert 5 == result.similar_runs


def test_no_recommendation_when_no_past_task_is_similar() -> None:
    """Nothing touched these folders: the answer says so instead of guessing."""
    result = rank(_runs("writer", "docs", "sss"), ("src/api",))
    assert (None, []) == (result.recommended, result.skills)
    assert result.reason.startswith("no recommendation: no past skill run")


def test_no_recommendation_on_too_few_runs() -> None:
    """Two similar runs are not enough (min_runs 3)."""
    result = rank(_runs("fixer", "src/api", "ss"), ("src/api",))
    assert result.recommended is None
    assert "2 similar run(s); 3 are needed" in result.reason


def test_kind_filters_the_past_tasks() -> None:
    """With a kind, only runs of that kind count."""
    runs = _runs("debugger", "src", "ssss", "debug") + _runs("tester", "src", "ssss", "test")
    assert ["tester"] == [s.skill for s in rank(runs, ("src",), kind="test").skills]


def test_rollbacks_break_a_tie() -> None:
    """The same success, the one without rollbacks first."""
    runs = _runs("careful", "src", "sssse") + _runs("reckless", "src", "ssssr")
    assert ["careful", "reckless"] == [s.skill for s in rank(runs, ("src",)).skills]


def test_paths_are_normalised_to_folders_of_the_depth() -> None:
    """./src/api/routes/ at depth 2 is src/api; a path outside the project is refused."""
    assert ("src/api", "tests") == normalize_folders(["./src/api/routes/", "tests"], depth=2)
    with pytest.raises(AnalyticsError, match="relative to the project"):
        normalize_folders(["../elsewhere"], depth=2)


def test_wilson_interval_is_one_function() -> None:
    """Known value: 8 of 10 is 49%-94% at 95%; the reports' two-sided interval and the
    detectors' one-sided bounds at 97.5% are the same numbers."""
    from ai_telemetry.alert.models import wilson_bounds
    from ai_telemetry.analyze.proportions import wilson
    from ai_telemetry.analyze.recommend import Z_95
    from ai_telemetry.report.stats import wilson_interval

    low, high = wilson(8, 10, Z_95)
    assert (0.490, 0.943) == (round(low, 3), round(high, 3))
    assert wilson_interval(8, 10) == pytest.approx((low, high))
    assert wilson_bounds(8, 10, 0.975) == pytest.approx((low, high))


def test_recommend_reads_the_warehouse(tmp_path: Path) -> None:
    """The library call ingests the log and ranks from the recorded folders."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.log.sink import append_events

    directory = tmp_path / "Telemetry"
    settings = load_settings(environ={}, cwd=tmp_path, telemetry_dir=directory)

    events = [
        {
            "timestamp": f"2025-11-0{3 + i // 10}T1{i % 10}:00:00Z",
            "event_type": "skill_execution",
            "skill": "fixer",
            "outcome": "success",
            "folders": "src/api",
            "duration_seconds": 10.0,
        }
        for i in range(5)
    ]
    append_events(events, settings=settings)
    result = recommend(["src/api/routes"], settings=settings)
    assert ("fixer", 5) == (result.recommended, result.similar_runs)
    document = result.to_document()
    assert ("recommend", ["src/api"]) == (document["command"], document["folders"])


# Measured on the demo generator (seed 42, 12 weeks to 2025-12-08; docs/recommend.md): the floors
# sit a little under the measured rates, so a change that makes the ranking worse fails here.
FLOORS = {
    False: (0.55, 0.82),  # measured 0.569, 0.840 (baseline 0.304, 0.701)
    True: (0.70, 0.93),  # measured 0.722, 0.952
}


@pytest.mark.parametrize("with_kind", [False, True], ids=["folders", "folders-and-kind"])
def test_offline_evaluation_beats_the_most_used_baseline(with_kind: bool) -> None:
    """Time split 75/25: top-1 and top-3 hit rates above their floors, top-3 above baseline."""
    result = evaluate(_demo_runs(), with_kind=with_kind, options=RecommendOptions())
    top1, top3 = FLOORS[with_kind]
    assert result.tested > 300
    assert result.top1 >= top1
    assert result.top3 >= top3
    assert result.top3 > result.baseline_top3
    assert result.top1 > result.baseline_top1


def test_offline_evaluation_holds_on_another_seed() -> None:
    """The defaults were chosen on seed 42; seed 7 must beat the baseline too."""
    result = evaluate(_demo_runs(seed=7))
    assert result.top3 > result.baseline_top3
    assert result.top1 > result.baseline_top1
