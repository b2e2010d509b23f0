"""Always-valid sequential A/B tests of skill versions (mSPRT)."""

from __future__ import annotations

import math
import random

import pytest

from ai_telemetry.analyze.sequential import Arm, evaluate, msprt


def test_msprt_is_the_normal_mixture_ratio() -> None:
    """Lambda = sqrt(V / (V + tau^2)) exp(tau^2 d^2 / (2 V (V + tau^2)))."""
    d, v, tau = 0.1, 0.002, 0.08
    expected = math.sqrt(v / (v + tau**2)) * math.exp(tau**2 * d**2 / (2 * v * (v + tau**2)))
    assert msprt(d, v, tau) == pytest.approx(expected)
    assert msprt(0.0, v, tau) < 1.0


def _week(rng: random.Random, arm: Arm, runs: int, success: float, duration: float) -> None:
    for _ in range(runs):
        ok = rng.random() < success
        arm.add(
            success=ok,
            rollback=not ok and rng.random() < 0.1,
            values={
                "duration": duration * math.exp(rng.gauss(0, 0.5)),
                "tokens": 12_000 * math.exp(rng.gauss(0, 0.3)),
            },
        )


def _run(seed: int, *, lift: float = 0.0, ratio: float = 1.0, weeks: int = 52) -> tuple[str, int]:
    """One experiment looked at weekly: its verdict and the week (1-based) it came."""
    rng = random.Random(seed)
    old, new = Arm(), Arm()
    for w in range(weeks):
        _week(rng, old, 12, 0.80, 120.0)
        _week(rng, new, 12, 0.80 + lift, 120.0 * ratio)
        result = evaluate(old, new)
        if result.verdict != "no difference yet":
            return result.verdict, w + 1
    return "no difference yet", weeks


@pytest.mark.slow
def test_weekly_looks_keep_the_false_winner_rate_within_alpha() -> None:
    """300 experiments where nothing changed, 52 weekly looks: at most 5% declare a winner."""
    verdicts = [_run(seed)[0] for seed in range(300)]
    assert verdicts.count("better") / len(verdicts) <= 0.05
    assert (len(verdicts) - verdicts.count("no difference yet")) / len(verdicts) <= 0.05


@pytest.mark.slow
def test_a_ten_point_better_success_rate_is_found() -> None:
    """+10 points of success (0.80 -> 0.90): "better" in at least 90% of 60 experiments."""
    verdicts = [_run(1000 + seed, lift=0.10)[0] for seed in range(60)]
    assert verdicts.count("better") / len(verdicts) >= 0.9


def test_a_slower_version_is_worse() -> None:
    """+40% duration is "worse" within a few weeks."""
    verdict, weeks = _run(7, ratio=1.4)
    assert verdict == "worse"
    assert weeks <= 8


def test_no_difference_yet_says_the_runs_still_needed() -> None:
    """An undecided experiment says how many more runs per version it needs; fewer later."""
    rng = random.Random(3)
    old, new = Arm(), Arm()
    _week(rng, old, 10, 0.8, 120.0)
    _week(rng, new, 10, 0.8, 120.0)
    early = evaluate(old, new)
    for _ in range(5):
        _week(rng, old, 10, 0.8, 120.0)
        _week(rng, new, 10, 0.8, 120.0)
    later = evaluate(old, new)
    assert early.verdict == later.verdict == "no difference yet"
    assert early.runs_needed is not None and later.runs_needed is not None
    assert early.runs_needed > later.runs_needed > 0
