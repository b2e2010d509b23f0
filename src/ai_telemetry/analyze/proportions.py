"""Wilson's score interval of a proportion: the one copy the reports, the detectors and the
recommender use (`ai_telemetry.report.stats.wilson_interval`, `ai_telemetry.alert.models.
wilson_bounds`, the recommender's evidence)."""

from __future__ import annotations

import math


def wilson(successes: float, n: float, z: float) -> tuple[float, float]:
    """The Wilson score bounds of ``successes / n`` at ``z`` standard deviations (two-sided
    at the confidence ``z`` is the quantile of; one-sided for each bound); ``n`` may be a
    weight; (0, 1) when ``n`` is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = min(max(successes / n, 0.0), 1.0)
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


__all__ = ["wilson"]
