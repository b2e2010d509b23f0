"""Where a control chart's centre line and sigma come from.

A chart judges each point against a centre line ``center`` and a standard deviation ``sigma``.
Both are either given (a known target and spread) or estimated from a *baseline window*: by
default every point of the series (a Phase I, retrospective look), or its first ``n`` points
(Phase II: the first weeks define "normal", later weeks are judged against them).

Estimators (``method``):

``moving-range`` (default; the individuals chart of Shewhart, Montgomery ch. 6.4)
    centre = mean of the baseline points; sigma = mean(|x[i] - x[i-1]|) / d2 with d2 = 1.128
    (the expected range of two standard normal values). Moving ranges see only point-to-point
    noise, so a sustained shift inside the baseline inflates sigma much less than the standard
    deviation would.
``robust`` (the "ML-based" option of the seed: a median/MAD baseline resists outliers)
    centre = median; sigma = 1.4826 * median(|x - median|) (1.4826 = 1 / Phi^-1(3/4) makes the
    MAD a consistent estimator of a normal sigma). When more than half the points are equal the
    MAD is 0; then sigma = 1.2533 * mean(|x - median|) (sqrt(pi/2) makes the mean absolute
    deviation consistent), the fallback of Iglewicz & Hoaglin's modified z-score.
``stddev``
    centre = mean; sigma = sample standard deviation (n - 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import fmean, median
from typing import Final, Literal

from ai_telemetry.errors import AnalyticsError

Estimator = Literal["moving-range", "robust", "stddev"]
ESTIMATORS: Final[tuple[Estimator, ...]] = ("moving-range", "robust", "stddev")

D2: Final = 1.128
"""d2 for subgroups of two: E[|X1 - X2|] / sigma = 2 / sqrt(pi) = 1.1284."""
MAD_SCALE: Final = 1.4826
"""1 / Phi^-1(0.75): turns the median absolute deviation into a normal sigma."""
MEAN_AD_SCALE: Final = 1.2533
"""sqrt(pi / 2): turns the mean absolute deviation into a normal sigma."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """The centre line and sigma a chart judges points against.

    Attributes:
        center: the centre line.
        sigma: one standard deviation, > 0.
        center_method: how the centre was found: ``given``, ``mean`` or ``median``.
        sigma_method: how sigma was found: ``given``, ``moving-range``, ``mad``, ``mean-ad``,
            ``stddev``.
        points: how many baseline points the estimate used (0 when both were given).
    """

    center: float
    sigma: float
    center_method: str = "given"
    sigma_method: str = "given"
    points: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.center) and math.isfinite(self.sigma)) or self.sigma <= 0:
            raise AnalyticsError(
                f"baseline center={self.center!r}, sigma={self.sigma!r}: "
                "the centre must be finite and sigma a finite number > 0"
            )

    def describe(self) -> str:
        """One line saying what the centre and sigma are and how they were found."""
        how = {
            "given": "given",
            "mean": f"mean of {self.points} baseline points",
            "median": f"median of {self.points} baseline points",
            "moving-range": (
                f"moving range: mean |x[i] - x[i-1]| over {self.points - 1} ranges / {D2}"
            ),
            "mad": f"{MAD_SCALE} * median absolute deviation of {self.points} points",
            "mean-ad": (
                f"{MEAN_AD_SCALE} * mean absolute deviation of {self.points} points "
                "(the median absolute deviation was 0)"
            ),
            "stddev": f"sample standard deviation of {self.points} points",
        }
        return (
            f"center {self.center:.6g} ({how.get(self.center_method, self.center_method)}), "
            f"sigma {self.sigma:.6g} ({how.get(self.sigma_method, self.sigma_method)})"
        )


def moving_range_sigma(values: Sequence[float]) -> float:
    """Sigma of an individuals chart: the mean moving range over d2 = 1.128.

    Raises:
        AnalyticsError: fewer than two values.
    """
    if len(values) < 2:
        raise AnalyticsError(
            f"cannot estimate sigma from {len(values)} point(s): the moving range needs at least "
            "2; give more points or pass sigma"
        )
    total = 0.0
    for previous, current in pairwise(values):
        total += abs(current - previous)
    return total / (len(values) - 1) / D2


def estimate_baseline(
    values: Sequence[float],
    *,
    method: Estimator = "moving-range",
    points: int | None = None,
    center: float | None = None,
    sigma: float | None = None,
) -> Baseline:
    """Estimate what is not given from the baseline window (the first ``points`` values).

    Args:
        values: the series, oldest first.
        method: ``moving-range``, ``robust`` or ``stddev`` (see the module docstring).
        points: size of the baseline window; ``None`` uses every value.
        center: a known centre line; estimated when ``None``.
        sigma: a known sigma (> 0); estimated when ``None``.

    Returns:
        The baseline, saying how each part was found.

    Raises:
        AnalyticsError: too few points, or the baseline points do not vary (sigma would be 0).
    """
    if method not in ESTIMATORS:
        raise AnalyticsError(f"unknown estimator {method!r}; use one of {', '.join(ESTIMATORS)}")
    if center is not None and sigma is not None:
        return Baseline(float(center), float(sigma))
    if points is not None and points < 1:
        raise AnalyticsError(f"baseline window of {points} points; use at least 2")
    window = list(values if points is None else values[:points])
    if not window:
        raise AnalyticsError("cannot estimate a baseline from no points; give points or pass both")
    for value in window:
        if not math.isfinite(value):
            raise AnalyticsError(f"baseline point {value!r} is not a finite number")

    if center is not None:
        c, c_how = float(center), "given"
    elif method == "robust":
        c, c_how = median(window), "median"
    else:
        c, c_how = fmean(window), "mean"

    if sigma is not None:
        s, s_how = float(sigma), "given"
    elif method == "moving-range":
        s, s_how = moving_range_sigma(window), "moving-range"
    elif method == "stddev":
        if len(window) < 2:
            raise AnalyticsError(
                "cannot estimate a standard deviation from 1 point; give more points or pass sigma"
            )
        mean = fmean(window)
        s = math.sqrt(sum((v - mean) ** 2 for v in window) / (len(window) - 1))
        s_how = "stddev"
    else:
        deviations = [abs(v - c) for v in window]
        s, s_how = MAD_SCALE * median(deviations), "mad"
        if s == 0:
            s, s_how = MEAN_AD_SCALE * fmean(deviations), "mean-ad"

    if not s > 0:
        raise AnalyticsError(
            f"cannot estimate sigma: the {len(window)} baseline point(s) do not vary "
            f"(all {window[0]:.6g}); pass sigma, or use a baseline window that varies"
        )
    return Baseline(c, s, center_method=c_how, sigma_method=s_how, points=len(window))
