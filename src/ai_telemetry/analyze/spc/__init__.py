"""Statistical process control over metric series (weekly or daily values, oldest first).

    >>> from ai_telemetry.analyze.spc import Baseline, WesternElectric, check_series
    >>> check_series([0, 0.5, 3.5, 0], charts=[WesternElectric()], baseline=Baseline(0, 1))
    [Signal(index=2, rules=('WE1',))]

Pure Python on lists: a weekly series has tens of points, and a streaming `Monitor` per chart
lets a job feed one new point at a time. See docs/detection.md for the rules, defaults and the
measured run lengths.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ai_telemetry.analyze.spc.baseline import (
    ESTIMATORS,
    Baseline,
    Estimator,
    estimate_baseline,
    moving_range_sigma,
)
from ai_telemetry.analyze.spc.charts import (
    RULE_ORDER,
    Chart,
    Cusum,
    CusumMonitor,
    Ewma,
    EwmaMonitor,
    Monitor,
    RobustZ,
    RobustZMonitor,
    WesternElectric,
    WesternElectricMonitor,
)
from ai_telemetry.errors import AnalyticsError

if TYPE_CHECKING:
    from ai_telemetry.documents.types import SpcDocument, SpcSeriesDoc

__all__ = [
    "CHART_NAMES",
    "ESTIMATORS",
    "RULE_ORDER",
    "Baseline",
    "Chart",
    "Cusum",
    "CusumMonitor",
    "Estimator",
    "Ewma",
    "EwmaMonitor",
    "Monitor",
    "RobustZ",
    "RobustZMonitor",
    "Signal",
    "WesternElectric",
    "WesternElectricMonitor",
    "check_series",
    "estimate_baseline",
    "make_charts",
    "moving_range_sigma",
    "series_document",
    "spc_document",
]

CHART_NAMES: Final[tuple[str, ...]] = ("western-electric", "cusum", "ewma", "robust")
"""The names ``ai-telemetry spc --rules`` accepts (comma-separated for several)."""

_RANK: Final = {name: rank for rank, name in enumerate(RULE_ORDER)}


@dataclass(frozen=True, slots=True)
class Signal:
    """A point where at least one rule fires.

    Attributes:
        index: position of the point in the series (0 = oldest).
        rules: the rules that fire there, in `RULE_ORDER` (``WE1`` .. ``WE4``, ``CUSUM+``, ...).
    """

    index: int
    rules: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """``{"index": i, "rules": [...]}``, the CLI's output form."""
        return {"index": self.index, "rules": list(self.rules)}


def check_series(
    values: Sequence[float], *, charts: Iterable[Chart], baseline: Baseline
) -> list[Signal]:
    """Run every chart over a series; list the points where any rule fires.

    Args:
        values: the series, oldest first; finite numbers.
        charts: the charts to run (each gets a fresh monitor).
        baseline: the centre line and sigma every chart judges against.

    Returns:
        One `Signal` per point where something fires, in index order.
    """
    monitors = [chart.monitor(baseline) for chart in charts]
    if len(monitors) == 1:
        update = monitors[0].update
        out = []
        for index, value in enumerate(values):
            fired = update(value)
            if fired:
                out.append(Signal(index, fired))
        return out
    signals = []
    for index, value in enumerate(values):
        fired_all: list[str] = []
        for monitor in monitors:
            fired_all.extend(monitor.update(value))
        if fired_all:
            rules = tuple(sorted(set(fired_all), key=_RANK.__getitem__))
            signals.append(Signal(index, rules))
    return signals


def make_charts(
    names: Iterable[str],
    *,
    cusum_k: float = 0.5,
    cusum_h: float = 5.0,
    ewma_lambda: float = 0.2,
    ewma_l: float = 2.962,
    ewma_asymptotic: bool = False,
    robust_threshold: float = 3.5,
) -> list[Chart]:
    """Build charts by name (``western-electric``, ``cusum``, ``ewma``, ``robust``).

    Raises:
        AnalyticsError: an unknown name or a bad parameter; the message lists the valid names.
    """
    charts: list[Chart] = []
    seen: set[str] = set()
    for raw in names:
        name = raw.strip().lower()
        if name in seen:
            continue
        seen.add(name)
        if name in ("western-electric", "we"):
            charts.append(WesternElectric())
        elif name == "cusum":
            charts.append(Cusum(k=cusum_k, h=cusum_h))
        elif name == "ewma":
            charts.append(Ewma(lam=ewma_lambda, L=ewma_l, asymptotic=ewma_asymptotic))
        elif name == "robust":
            charts.append(RobustZ(threshold=robust_threshold))
        else:
            raise AnalyticsError(
                f"unknown rule set {raw!r}; use one or more of {', '.join(CHART_NAMES)} "
                "(comma-separated)"
            )
    if not charts:
        raise AnalyticsError(f"no rule set given; use one or more of {', '.join(CHART_NAMES)}")
    return charts


def series_document(
    line: int, values: Sequence[float], baseline: Baseline | None, signals: Sequence[Signal]
) -> SpcSeriesDoc:
    """One series' result in the ``spc --json`` document (``baseline`` None: an empty series)."""
    return {
        "line": line,
        "points": len(values),
        "baseline": None
        if baseline is None
        else {
            "center": baseline.center,
            "sigma": baseline.sigma,
            "center_method": baseline.center_method,
            "sigma_method": baseline.sigma_method,
            "points": baseline.points,
        },
        "signals": [{"index": s.index, "rules": list(s.rules)} for s in signals],
    }


def spc_document(rule_sets: Sequence[str], series: Sequence[SpcSeriesDoc]) -> SpcDocument:
    """The ``spc --json`` document (docs/schemas/spc.json): every series read, in order."""
    from ai_telemetry.documents import header

    return {**header("spc"), "rules": list(rule_sets), "series": list(series)}
