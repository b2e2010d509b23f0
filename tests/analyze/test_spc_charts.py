"""Each chart rule on hand-made series, including the edges of its definition."""

from __future__ import annotations

import pytest

from ai_telemetry.analyze.spc import (
    Baseline,
    Cusum,
    Ewma,
    RobustZ,
    Signal,
    WesternElectric,
    check_series,
    make_charts,
)
from ai_telemetry.errors import AnalyticsError

UNIT = Baseline(0.0, 1.0)


def we(values: list[float], baseline: Baseline = UNIT) -> list[tuple[int, tuple[str, ...]]]:
    """(index, rules) for every point where a Western Electric rule fires."""
    return [
        (s.index, s.rules)
        for s in check_series(values, charts=[WesternElectric()], baseline=baseline)
    ]


def test_we1_fires_beyond_three_sigma_either_side() -> None:
    """WE1 fires at a point above +3 sigma and at one below -3 sigma."""
    assert we([0.0, 3.01, 0.0, -3.01]) == [(1, ("WE1",)), (3, ("WE1",))]


def test_we1_does_not_fire_exactly_at_three_sigma() -> None:
    """A point exactly on the 3-sigma limit is not beyond it."""
    assert we([3.0, 0.0, -3.0]) == []


def test_we1_exact_limit_with_non_unit_sigma() -> None:
    """x == center + 3 * sigma, computed as a chart draws the limit, is not beyond."""
    center, sigma = 0.1, 0.3
    assert we([center + 3 * sigma], Baseline(center, sigma)) == []


def test_we2_two_of_three_beyond_two_sigma_same_side() -> None:
    """WE2 fires at the third point of a window with two points beyond +2 sigma."""
    assert we([2.5, 0.0, 2.5]) == [(2, ("WE2",))]


def test_we2_fires_for_every_window_that_meets_it() -> None:
    """Windows end at the point checked: the window [2.5, 2.5, 0] fires at its last point too."""
    assert we([0.0, 2.5, 2.5, 0.0, 0.0]) == [(2, ("WE2",)), (3, ("WE2",))]


def test_we2_exactly_two_sigma_is_not_beyond() -> None:
    """Points exactly at 2 sigma do not count towards WE2."""
    assert we([2.0, 2.0, 2.0]) == []


def test_we2_opposite_sides_do_not_combine() -> None:
    """One point beyond +2 sigma and one beyond -2 sigma are not two on the same side."""
    assert we([2.5, -2.5, 0.0]) == []


def test_we2_incomplete_window_at_start_does_not_fire() -> None:
    """Two points beyond 2 sigma as the first two points do not fire: the window is incomplete."""
    assert we([2.5, 2.5, 0.0]) == [(2, ("WE2",))]


def test_we3_four_of_five_beyond_one_sigma() -> None:
    """WE3 fires when four of the last five points are beyond -1 sigma."""
    assert we([-1.5, -1.5, 0.0, -1.5, -1.5]) == [(4, ("WE3",))]


def test_we3_exactly_one_sigma_is_not_beyond() -> None:
    """Four points exactly at 1 sigma do not fire WE3."""
    assert we([1.0, 1.0, 1.0, 1.0, 1.0]) == []


def test_we3_incomplete_window_at_start_does_not_fire() -> None:
    """Four points beyond 1 sigma as the first four do not fire until a fifth point completes it."""
    assert we([1.5, 1.5, 1.5, 1.5, 0.0]) == [(4, ("WE3",))]


def test_we4_eight_on_one_side() -> None:
    """WE4 fires at the eighth consecutive point above the centre line and after."""
    assert we([0.5] * 9) == [(7, ("WE4",)), (8, ("WE4",))]


def test_we4_seven_is_not_enough() -> None:
    """Seven points on one side do not fire WE4."""
    assert we([-0.5] * 7 + [0.5]) == []


def test_we4_point_on_centre_line_breaks_the_run() -> None:
    """A point exactly on the centre line is on neither side, so it restarts the run."""
    assert we([0.5] * 4 + [0.0] + [0.5] * 7) == []
    assert we([0.5] * 4 + [0.0] + [0.5] * 8) == [(12, ("WE4",))]


def test_all_rules_listed_in_order_at_one_point() -> None:
    """A point where all four rules fire lists them WE1, WE2, WE3, WE4."""
    assert we([0.5, 0.5, 0.5, 1.5, 1.5, 2.5, 1.5, 3.5])[-1] == (7, ("WE1", "WE2", "WE3", "WE4"))


def test_cusum_accumulates_a_small_sustained_shift() -> None:
    """A 1-sigma shift fires CUSUM+ once C+ exceeds h (here after 9 points: 9 * 0.5 > 4)."""
    signals = check_series([1.0] * 12, charts=[Cusum(k=0.5, h=4.0)], baseline=UNIT)
    assert [(i, ("CUSUM+",)) for i in range(8, 12)] == [(s.index, s.rules) for s in signals]


def test_cusum_downward_shift_fires_cusum_minus() -> None:
    """A downward shift fires CUSUM-, never CUSUM+."""
    signals = check_series([-2.0] * 5, charts=[Cusum(k=0.5, h=4.0)], baseline=UNIT)
    assert {("CUSUM-",)} == {s.rules for s in signals}


def test_cusum_at_h_exactly_does_not_fire() -> None:
    """C+ equal to h is not beyond it: 8 points of 1.0 give C+ = 4.0 with k=0.5."""
    assert check_series([1.0] * 8, charts=[Cusum(k=0.5, h=4.0)], baseline=UNIT) == []


def test_ewma_first_point_uses_exact_limit() -> None:
    """With time-varying limits the first point's limit is L*sigma*lambda; 2.5 sigma crosses it."""
    # limit_1 = 2.962 * sqrt(0.2/1.8 * (1 - 0.64)) = 2.962 * 0.2 = 0.5924; z_1 = 0.2 * 3.0 = 0.6
    assert [Signal(0, ("EWMA",))] == check_series([3.0], charts=[Ewma()], baseline=UNIT)


def test_ewma_asymptotic_limit_is_wider_at_start() -> None:
    """The same first point does not cross the (wider) asymptotic limit 0.987."""
    assert check_series([3.0], charts=[Ewma(asymptotic=True)], baseline=UNIT) == []


def test_robust_fires_beyond_threshold_only() -> None:
    """ROBUST fires beyond 3.5 sigma, not at 3.5 sigma exactly."""
    signals = check_series([3.5, -3.6, 0.0], charts=[RobustZ()], baseline=UNIT)
    assert [Signal(1, ("ROBUST",))] == signals


def test_several_charts_merge_per_point_in_rule_order() -> None:
    """Several charts: rules at a point come in the fixed order WE, CUSUM, EWMA, ROBUST."""
    charts = make_charts(["robust", "ewma", "cusum", "western-electric"])
    signals = check_series([6.0], charts=charts, baseline=UNIT)
    assert [Signal(0, ("WE1", "CUSUM+", "EWMA", "ROBUST"))] == signals


def test_empty_series_has_no_signals() -> None:
    """An empty series gives no signals."""
    assert check_series([], charts=[WesternElectric()], baseline=UNIT) == []


def test_unknown_rule_set_names_the_valid_ones() -> None:
    """An unknown rule set name is an error listing the valid names."""
    with pytest.raises(AnalyticsError, match="western-electric, cusum, ewma, robust"):
        make_charts(["nelson"])


@pytest.mark.parametrize(
    "chart",
    [
        lambda: Cusum(h=0.0),
        lambda: Cusum(k=-1.0),
        lambda: Ewma(lam=1.5),
        lambda: RobustZ(threshold=0),
    ],
)
def test_bad_chart_parameters_are_rejected(chart: object) -> None:
    """Nonsense chart parameters raise an AnalyticsError saying what is allowed."""
    with pytest.raises(AnalyticsError, match="use a number"):
        chart()  # type: ignore[operator]
