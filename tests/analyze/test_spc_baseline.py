"""Centre line and sigma: given, or estimated from the baseline window."""

from __future__ import annotations

import statistics

import pytest

from ai_telemetry.analyze.spc import Baseline, estimate_baseline, moving_range_sigma
from ai_telemetry.errors import AnalyticsError


def test_moving_range_sigma_is_mean_range_over_d2() -> None:
    """Sigma = mean |x[i] - x[i-1]| / 1.128."""
    assert moving_range_sigma([1.0, 3.0, 2.0, 6.0]) == pytest.approx((2 + 1 + 4) / 3 / 1.128)


def test_default_estimate_is_mean_and_moving_range() -> None:
    """Without a method, centre = mean and sigma = moving range of every point."""
    baseline = estimate_baseline([1.0, 3.0, 2.0, 6.0])
    assert (baseline.center, baseline.sigma, baseline.points) == (
        pytest.approx(3.0),
        pytest.approx(7 / 3 / 1.128),
        4,
    )


def test_baseline_window_uses_first_points_only() -> None:
    """points=N estimates from the first N values and ignores the rest."""
    baseline = estimate_baseline([1.0, 3.0, 100.0, 500.0], points=2)
    assert (baseline.center, baseline.sigma) == (pytest.approx(2.0), pytest.approx(2 / 1.128))


def test_robust_estimate_is_median_and_scaled_mad() -> None:
    """Robust: centre = median, sigma = 1.4826 * median absolute deviation."""
    values = [10.0, 11.0, 9.0, 10.5, 250.0]
    baseline = estimate_baseline(values, method="robust")
    mad = statistics.median(abs(v - 10.5) for v in values)
    assert (baseline.center, baseline.sigma) == (10.5, pytest.approx(1.4826 * mad))


def test_robust_falls_back_to_mean_absolute_deviation_when_mad_is_zero() -> None:
    """More than half the points equal: sigma = 1.2533 * mean |x - median|."""
    baseline = estimate_baseline([0.0, 0.0, 0.0, 4.0], method="robust")
    assert (baseline.sigma, baseline.sigma_method) == (pytest.approx(1.2533 * 1.0), "mean-ad")


def test_stddev_estimate_is_sample_standard_deviation() -> None:
    """stddev: sigma = sample standard deviation (n - 1)."""
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    baseline = estimate_baseline(values, method="stddev")
    assert baseline.sigma == pytest.approx(statistics.stdev(values))


def test_given_center_keeps_it_and_estimates_sigma() -> None:
    """A given centre is kept; only sigma is estimated."""
    baseline = estimate_baseline([1.0, 2.0, 3.0], center=10.0)
    assert (baseline.center, baseline.center_method, baseline.sigma_method) == (
        10.0,
        "given",
        "moving-range",
    )


def test_describe_says_how_sigma_was_estimated() -> None:
    """describe() names the method and the number of points used."""
    text = estimate_baseline([1.0, 3.0, 2.0]).describe()
    assert "mean of 3 baseline points" in text and "moving range" in text and "/ 1.128" in text


def test_constant_baseline_cannot_give_sigma() -> None:
    """Baseline points that do not vary are an error that says to pass sigma."""
    with pytest.raises(AnalyticsError, match=r"do not vary.*pass sigma"):
        estimate_baseline([5.0, 5.0, 5.0])


def test_one_point_cannot_give_a_moving_range() -> None:
    """One point has no moving range: an error saying at least 2 are needed."""
    with pytest.raises(AnalyticsError, match="at least 2"):
        estimate_baseline([5.0])


def test_baseline_rejects_non_positive_sigma() -> None:
    """A given sigma of 0 is rejected with a message saying it must be > 0."""
    with pytest.raises(AnalyticsError, match="> 0"):
        Baseline(0.0, 0.0)
