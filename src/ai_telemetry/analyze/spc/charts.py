"""Control charts: Western Electric rules, tabular CUSUM, EWMA and a robust z-score.

Each chart is a small configuration object (`Chart`) that makes a streaming `Monitor` for one
series: ``monitor.update(x)`` takes the next point and returns the names of the rules that fire
at it. Streaming keeps the charts usable point by point (a weekly job feeds one new value) and
makes run-length simulation cheap; `check_series` runs a whole list.

A rule fires at point i when the window of its last N points ending at i is complete and meets
the condition. "Beyond k sigma" is strict and is judged against the limits as a chart draws them,
``x > center + k * sigma`` (or ``x < center - k * sigma``), so a point exactly on a limit is not
beyond it. A point exactly on the centre line is on neither side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Protocol

from ai_telemetry.analyze.spc.baseline import Baseline, Estimator
from ai_telemetry.errors import AnalyticsError

RULE_ORDER: Final[tuple[str, ...]] = (
    "WE1",
    "WE2",
    "WE3",
    "WE4",
    "CUSUM+",
    "CUSUM-",
    "EWMA",
    "ROBUST",
)
"""Every rule name a chart can report, in the order they are listed at a point."""

_NONE: Final[tuple[str, ...]] = ()


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AnalyticsError(message)


class Monitor(Protocol):
    """A chart's state over one series."""

    def update(self, value: float) -> tuple[str, ...]:
        """Take the next point; return the rules that fire at it (in `RULE_ORDER`)."""
        ...


class Chart(Protocol):
    """A control chart's settings; makes a fresh `Monitor` per series."""

    @property
    def name(self) -> str:
        """The name ``--rules`` selects it by."""
        ...

    @property
    def estimator(self) -> Estimator:
        """The baseline estimator that suits it when centre and sigma are not given."""
        ...

    def monitor(self, baseline: Baseline) -> Monitor:
        """A monitor starting at the first point of a series judged against ``baseline``."""
        ...


# --- Western Electric ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WesternElectric:
    """The four Western Electric zone rules on an individuals chart.

    WE1: one point beyond 3 sigma. WE2: two of three consecutive points beyond 2 sigma on the
    same side. WE3: four of five consecutive points beyond 1 sigma on the same side. WE4: eight
    consecutive points on the same side of the centre line. Together, in control, they signal
    on average once every 91.75 points (Champ & Woodall, 1987).
    """

    name: str = "western-electric"
    estimator: Estimator = "moving-range"

    def monitor(self, baseline: Baseline) -> WesternElectricMonitor:
        """A fresh monitor for one series."""
        return WesternElectricMonitor(baseline.center, baseline.sigma)


class WesternElectricMonitor:
    """Streaming state of the Western Electric rules.

    The last few points are kept as bit masks (bit 0 = newest) of "strictly above +1/+2 sigma"
    and "strictly below -1/-2 sigma", plus the length of the current run on each side of the
    centre line, so one update is a handful of integer operations.
    """

    __slots__ = (
        "_above1",
        "_above2",
        "_below1",
        "_below2",
        "_center",
        "_lower",
        "_n",
        "_run_high",
        "_run_low",
        "_upper",
    )

    def __init__(self, center: float, sigma: float) -> None:
        self._center = center
        self._upper = (center + sigma, center + 2 * sigma, center + 3 * sigma)
        self._lower = (center - sigma, center - 2 * sigma, center - 3 * sigma)
        self._above1 = self._above2 = self._below1 = self._below2 = 0
        self._run_high = self._run_low = 0
        self._n = 0

    def update(self, value: float) -> tuple[str, ...]:
        """Take the next point; return the Western Electric rules that fire at it."""
        u1, u2, u3 = self._upper
        l1, l2, l3 = self._lower
        self._n = n = self._n + 1
        above1 = self._above1 = ((self._above1 << 1) | (value > u1)) & 0b11111
        above2 = self._above2 = ((self._above2 << 1) | (value > u2)) & 0b111
        below1 = self._below1 = ((self._below1 << 1) | (value < l1)) & 0b11111
        below2 = self._below2 = ((self._below2 << 1) | (value < l2)) & 0b111
        if value > self._center:
            self._run_high += 1
            self._run_low = 0
        elif value < self._center:
            self._run_low += 1
            self._run_high = 0
        else:
            self._run_high = self._run_low = 0
        we4 = self._run_high >= 8 or self._run_low >= 8
        if not (above1 or below1 or we4):
            return _NONE

        fired: list[str] = []
        if value > u3 or value < l3:
            fired.append("WE1")
        if n >= 3 and (above2.bit_count() >= 2 or below2.bit_count() >= 2):
            fired.append("WE2")
        if n >= 5 and (above1.bit_count() >= 4 or below1.bit_count() >= 4):
            fired.append("WE3")
        if we4:
            fired.append("WE4")
        return tuple(fired)


# --- CUSUM --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cusum:
    """Tabular (two one-sided) CUSUM in sigma units (Page, 1954; Montgomery ch. 9.1).

    With z = (x - center) / sigma: C+ = max(0, C+ + z - k), C- = max(0, C- - z - k), both
    starting at 0. ``CUSUM+`` fires while C+ > h, ``CUSUM-`` while C- > h. The sums are not reset
    after a signal, so a sustained shift is reported at every point while it lasts.

    Attributes:
        k: reference value (allowance), half the shift to detect quickly; 0.5 targets 1 sigma.
        h: decision interval. k=0.5 with h=5 gives an in-control ARL of 465 and detects a
            1-sigma shift in 10.4 points on average; h=4 gives 168 and 8.38.
    """

    k: float = 0.5
    h: float = 5.0
    name: str = "cusum"
    estimator: Estimator = "moving-range"

    def __post_init__(self) -> None:
        _require(self.k >= 0 and math.isfinite(self.k), f"CUSUM k={self.k!r}; use a number >= 0")
        _require(self.h > 0 and math.isfinite(self.h), f"CUSUM h={self.h!r}; use a number > 0")

    def monitor(self, baseline: Baseline) -> CusumMonitor:
        """A fresh monitor for one series."""
        return CusumMonitor(baseline.center, baseline.sigma, k=self.k, h=self.h)


class CusumMonitor:
    """Streaming state of a tabular CUSUM."""

    __slots__ = ("_center", "_h", "_k", "_sigma", "high", "low")

    def __init__(self, center: float, sigma: float, *, k: float, h: float) -> None:
        self._center = center
        self._sigma = sigma
        self._k = k
        self._h = h
        self.high = 0.0
        """C+, the upper cumulative sum."""
        self.low = 0.0
        """C-, the lower cumulative sum."""

    def update(self, value: float) -> tuple[str, ...]:
        """Take the next point; return ``CUSUM+`` / ``CUSUM-`` when a sum is beyond h."""
        z = (value - self._center) / self._sigma
        self.high = max(0.0, self.high + z - self._k)
        self.low = max(0.0, self.low - z - self._k)
        if self.high > self._h:
            return ("CUSUM+", "CUSUM-") if self.low > self._h else ("CUSUM+",)
        return ("CUSUM-",) if self.low > self._h else _NONE


# --- EWMA ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ewma:
    """Exponentially weighted moving average chart (Roberts, 1959; Montgomery ch. 9.2).

    z_i = lam * x_i + (1 - lam) * z_{i-1}, z_0 = center. ``EWMA`` fires while z_i is strictly
    beyond center +/- L * sigma * sqrt(lam / (2 - lam) * (1 - (1 - lam)^(2i))). By default the
    limits are these exact, time-varying ones (narrower for the first points, so an early shift
    is seen sooner); ``asymptotic=True`` uses the limit i -> infinity, as the ARL tables do.

    Attributes:
        lam: weight of the newest point, in (0, 1].
        L: width of the limits in sigma of the EWMA statistic. lam=0.2 with L=2.962 gives an
            in-control ARL of 500 with asymptotic limits (Lucas & Saccucci, 1990).
        asymptotic: use the asymptotic limits.
    """

    lam: float = 0.2
    L: float = 2.962  # the textbook's name
    asymptotic: bool = False
    name: str = "ewma"
    estimator: Estimator = "moving-range"

    def __post_init__(self) -> None:
        _require(0 < self.lam <= 1, f"EWMA lambda={self.lam!r}; use a number in (0, 1]")
        _require(self.L > 0 and math.isfinite(self.L), f"EWMA L={self.L!r}; use a number > 0")

    def monitor(self, baseline: Baseline) -> EwmaMonitor:
        """A fresh monitor for one series."""
        return EwmaMonitor(
            baseline.center, baseline.sigma, lam=self.lam, L=self.L, asymptotic=self.asymptotic
        )


class EwmaMonitor:
    """Streaming state of an EWMA chart."""

    __slots__ = ("_asymptotic", "_center", "_decay", "_lam", "_scale", "_width", "statistic")

    def __init__(
        self, center: float, sigma: float, *, lam: float, L: float, asymptotic: bool
    ) -> None:
        self._center = center
        self._lam = lam
        self._width = L * sigma * math.sqrt(lam / (2 - lam))
        self._asymptotic = asymptotic
        self._decay = 1.0  # (1 - lam)^(2i), updated per point
        self._scale = (1 - lam) ** 2
        self.statistic = center
        """z_i, the current EWMA."""

    def update(self, value: float) -> tuple[str, ...]:
        """Take the next point; return ``EWMA`` when the average is beyond its limits."""
        self.statistic = self._lam * value + (1 - self._lam) * self.statistic
        if self._asymptotic:
            width = self._width
        else:
            self._decay *= self._scale
            width = self._width * math.sqrt(1 - self._decay)
        deviation = self.statistic - self._center
        return ("EWMA",) if deviation > width or deviation < -width else _NONE


# --- robust z-score -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RobustZ:
    """Outliers by robust z-score against a median/MAD baseline (Iglewicz & Hoaglin, 1993).

    ``ROBUST`` fires when |x - center| > threshold * sigma. With the ``robust`` estimator the
    centre is the median and sigma 1.4826 * MAD, so |x - median| / sigma is the modified z-score
    and the default threshold 3.5 is Iglewicz and Hoaglin's. Outliers inside the baseline barely
    move the median and the MAD, so one bad week does not hide the next.
    """

    threshold: float = 3.5
    name: str = "robust"
    estimator: Estimator = "robust"

    def __post_init__(self) -> None:
        _require(
            self.threshold > 0 and math.isfinite(self.threshold),
            f"robust threshold={self.threshold!r}; use a number > 0",
        )

    def monitor(self, baseline: Baseline) -> RobustZMonitor:
        """A fresh monitor for one series."""
        return RobustZMonitor(baseline.center, baseline.sigma, threshold=self.threshold)


class RobustZMonitor:
    """Stateless per point: a point is an outlier or it is not."""

    __slots__ = ("_high", "_low")

    def __init__(self, center: float, sigma: float, *, threshold: float) -> None:
        self._high = center + threshold * sigma
        self._low = center - threshold * sigma

    def update(self, value: float) -> tuple[str, ...]:
        """Take the next point; return ``ROBUST`` when it is beyond the threshold."""
        return ("ROBUST",) if value > self._high or value < self._low else _NONE
