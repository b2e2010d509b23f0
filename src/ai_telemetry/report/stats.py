"""Statistics for the skill A/B comparison, in pure Python (no scipy at run time).

- `wilson_interval`: Wilson's score interval for one proportion.
- `newcombe_interval`: Newcombe's hybrid score interval for a difference of two proportions
  (Newcombe 1998, method 10: built from the two Wilson intervals; for 56/70 vs 48/80 it gives
  0.0524 to 0.3339).
- `fisher_exact`: Fisher's exact test on a 2x2 table, two-sided, from the hypergeometric
  distribution in log space. A table counts as "at least as extreme" when its probability is at
  most the observed one times ``1 + 1e-7`` (the convention of R's ``fisher.test`` and scipy).
- `mann_whitney`: the Mann-Whitney U test, two-sided: the exact null distribution (a Gaussian
  binomial coefficient, computed with integers) when there are no ties and the samples are
  small, else the normal approximation with tie correction and continuity correction.
- `sample_size_two_proportions`: runs per group for a two-sided test of two proportions
  (normal approximation without continuity correction, Fleiss).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final, Literal

_STD_NORMAL: Final = NormalDist()
_RELATIVE_TOLERANCE: Final = 1 + 1e-7
EXACT_MAX_CELLS: Final = 10_000
"""``mann_whitney(method="auto")`` is exact when there are no ties and n1 * n2 <= this."""


def _z(confidence: float) -> float:
    return _STD_NORMAL.inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for ``successes / n``; (0, 1) when ``n`` is 0."""
    from ai_telemetry.analyze.proportions import wilson

    return wilson(successes, n, _z(confidence))


def newcombe_interval(
    x1: int, n1: int, x2: int, n2: int, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for ``x1/n1 - x2/n2``.

    Raises:
        ValueError: a group has no observations.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both groups need at least one observation")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence=confidence)
    l2, u2 = wilson_interval(x2, n2, confidence=confidence)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lower), min(1.0, upper)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(table: Sequence[Sequence[int]]) -> float:
    """Two-sided p-value of Fisher's exact test for ``[[a, b], [c, d]]``.

    Raises:
        ValueError: a cell is negative or the table is not 2x2.
    """
    if len(table) != 2 or any(len(row) != 2 for row in table):
        raise ValueError("the table must be 2x2")
    (a, b), (c, d) = table
    if min(a, b, c, d) < 0:
        raise ValueError("cells must be non-negative")
    row1, col1, n = a + b, a + c, a + b + c + d
    if 0 in (row1, col1) or n in (row1, col1):
        return 1.0
    lo, hi = max(0, col1 - (n - row1)), min(row1, col1)
    log_total = _log_comb(n, col1)

    def log_pmf(k: int) -> float:
        return _log_comb(row1, k) + _log_comb(n - row1, col1 - k) - log_total

    observed = log_pmf(a) + math.log(_RELATIVE_TOLERANCE)
    p = math.fsum(math.exp(lp) for k in range(lo, hi + 1) if (lp := log_pmf(k)) <= observed)
    return min(1.0, p)


@dataclass(frozen=True, slots=True)
class RankTest:
    """The result of `mann_whitney`."""

    u: float
    """U of the first sample: pairs (x, y) with x > y, ties counting one half."""
    p_value: float
    method: Literal["exact", "asymptotic"]


def _u_distribution(n1: int, n2: int) -> list[int]:
    """Counts of arrangements with U = 0 .. n1*n2 (the Gaussian binomial [n1+n2 choose n1])."""
    size = n1 * n2
    coeffs = [0] * (size + 1)
    coeffs[0] = 1
    for i in range(1, n1 + 1):
        step = n2 + i  # multiply by (1 - q^(n2+i)) ...
        for k in range(size, step - 1, -1):
            coeffs[k] -= coeffs[k - step]
        for k in range(i, size + 1):  # ... and divide by (1 - q^i)
            coeffs[k] += coeffs[k - i]
    return coeffs


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Mid-ranks (1-based) and the sizes of tie groups."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mid
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def mann_whitney(
    x: Sequence[float],
    y: Sequence[float],
    *,
    method: Literal["auto", "exact", "asymptotic"] = "auto",
) -> RankTest:
    """Two-sided Mann-Whitney U test of ``x`` against ``y``.

    ``auto`` is exact when there are no ties and ``len(x) * len(y) <= EXACT_MAX_CELLS``, else
    asymptotic (normal approximation, tie-corrected variance, continuity correction of 0.5).
    The exact p-value is ``2 * P(U >= max(U1, U2))``, capped at 1.

    Raises:
        ValueError: a sample is empty.
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one value")
    ranks, ties = _ranks([*x, *y])
    u1 = math.fsum(ranks[:n1]) - n1 * (n1 + 1) / 2
    big = max(u1, n1 * n2 - u1)
    if method == "auto":
        method = "exact" if not ties and n1 * n2 <= EXACT_MAX_CELLS else "asymptotic"
    if method == "exact":
        counts = _u_distribution(n1, n2)
        tail = sum(counts[math.ceil(big - 1e-9) :])
        p = 2 * tail / math.comb(n1 + n2, n1)
        return RankTest(u1, min(1.0, p), "exact")
    n = n1 + n2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    variance = n1 * n2 / 12 * ((n + 1) - tie_term)
    if variance <= 0:
        return RankTest(u1, 1.0, "asymptotic")
    z = (big - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    p = 2 * (1 - _STD_NORMAL.cdf(z))
    return RankTest(u1, min(1.0, max(0.0, p)), "asymptotic")


def sample_size_two_proportions(
    p1: float, p2: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Runs per group to tell ``p1`` from ``p2`` with a two-sided test (Fleiss, no correction).

    n = (z_(1-alpha/2) * sqrt(2 * pbar * qbar) + z_power * sqrt(p1 q1 + p2 q2))^2 / (p1 - p2)^2

    Raises:
        ValueError: the two proportions are equal.
    """
    if p1 == p2:
        raise ValueError("the proportions are equal: no sample size can tell them apart")
    za = _STD_NORMAL.inv_cdf(1 - alpha / 2)
    zb = _STD_NORMAL.inv_cdf(power)
    pbar = (p1 + p2) / 2
    root = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root * root / ((p1 - p2) ** 2))


__all__ = [
    "RankTest",
    "fisher_exact",
    "mann_whitney",
    "newcombe_interval",
    "sample_size_two_proportions",
    "wilson_interval",
]
