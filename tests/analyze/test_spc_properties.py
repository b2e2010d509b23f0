"""Invariances every chart rule must have, checked with hypothesis.

Values are drawn on a grid of exactly representable numbers (multiples of 1/8, sigma a power of
two) so that shifting, scaling and mirroring are exact in floating point and a difference in the
result can only come from the rules, not from rounding at a limit.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ai_telemetry.analyze.spc import Baseline, Cusum, RobustZ, WesternElectric, check_series

grid = st.integers(-64, 64).map(lambda n: n / 8)
series = st.lists(grid, max_size=40)
powers = st.integers(-3, 3).map(lambda e: 2.0**e)
shifts = st.integers(-1000, 1000).map(float)
MIRROR = {"CUSUM+": "CUSUM-", "CUSUM-": "CUSUM+"}


def run(
    values: list[float], center: float = 0.0, sigma: float = 1.0
) -> list[tuple[int, tuple[str, ...]]]:
    charts = [WesternElectric(), Cusum(k=0.5, h=2.0), RobustZ(threshold=2.5)]
    return [
        (s.index, s.rules)
        for s in check_series(values, charts=charts, baseline=Baseline(center, sigma))
    ]


@given(series, shifts)
def test_shifting_points_and_center_together_changes_nothing(values: list[float], d: float) -> None:
    """Adding the same constant to every point and to the centre gives the same signals."""
    assert run([v + d for v in values], center=d) == run(values)


@given(series, powers)
def test_scaling_points_and_sigma_together_changes_nothing(values: list[float], a: float) -> None:
    """Multiplying deviations and sigma by the same factor gives the same signals."""
    assert run([v * a for v in values], sigma=a) == run(values)


@given(series)
def test_mirroring_about_the_center_mirrors_the_sides(values: list[float]) -> None:
    """Reflecting every point about the centre gives the same signals, CUSUM+ and - swapped."""
    expected = [(i, {MIRROR.get(r, r) for r in rules}) for i, rules in run(values)]
    mirrored = [(i, set(rules)) for i, rules in run([-v for v in values])]
    assert expected == mirrored


@given(series, grid)
def test_appending_a_point_never_changes_earlier_signals(values: list[float], extra: float) -> None:
    """Rules look only backwards: a new point leaves the signals of earlier points unchanged."""
    assert run([*values, extra])[: len(run(values))] == run(values)


@given(series)
def test_points_within_one_sigma_on_alternating_sides_never_signal(values: list[float]) -> None:
    """Points within 1 sigma that alternate sides can break no Western Electric rule."""
    calm = [abs(v) % 1.0 * (1 if i % 2 else -1) for i, v in enumerate(values)]
    signals = check_series(calm, charts=[WesternElectric()], baseline=Baseline(0.0, 1.0))
    assert signals == []
