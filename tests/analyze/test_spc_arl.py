"""Average run lengths of the charts against published values, by simulation.

Run length = number of points up to and including the first signal, from a fresh start
(zero-state). Every simulation uses a fixed seed, so a failure is reproducible; the tolerances
are about four standard errors of the simulated mean.

Published values used here (all re-derived by us with a Markov-chain computation before citing):

- Western Electric rules 1-4 together: in-control ARL 91.75 (Champ & Woodall, "Exact results
  for Shewhart control charts with supplementary runs rules", Technometrics 29(4), 1987).
- Two-sided tabular CUSUM, k = 1/2: h = 4 -> ARL 168 in control, 8.38 at a 1-sigma shift;
  h = 5 -> 465 and 10.4 (Montgomery, Introduction to Statistical Quality Control, Table 9.3;
  a Brook-Evans chain with 400 states gives 167.7, 8.38, 465.4, 10.38).
- EWMA with asymptotic limits: lambda = 0.2, L = 2.962 -> 500 in control, 10.5 at 1 sigma;
  lambda = 0.1, L = 2.814 -> 500 and 10.3 (Lucas & Saccucci, Technometrics 32(1), 1990;
  Montgomery Table 9.11; a 301-state chain gives 499.6, 10.5, 499.4, 10.3). Note: lambda = 0.1
  with L = 2.7, and lambda = 0.2 with L = 2.86, give about 370, not 500.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ai_telemetry.analyze.spc import (
    Baseline,
    Cusum,
    CusumMonitor,
    Ewma,
    EwmaMonitor,
    Monitor,
    WesternElectricMonitor,
    check_series,
)


def library_run_lengths(
    make: Callable[[], Monitor], runs: int, *, shift: float = 0.0, seed: int
) -> np.ndarray:
    """Run lengths of fresh library monitors fed N(shift, 1) points (numpy draws, Python loop)."""
    rng = np.random.default_rng(seed)
    lengths = np.empty(runs)
    buffer: list[float] = []
    position = 0
    for run in range(runs):
        update = make().update
        n = 0
        while True:
            if position == len(buffer):
                buffer = (rng.standard_normal(1 << 18) + shift).tolist()
                position = 0
            value = buffer[position]
            position += 1
            n += 1
            if update(value):
                break
        lengths[run] = n
    return lengths


def cusum_oracle(k: float, h: float, runs: int, *, shift: float = 0.0, seed: int) -> np.ndarray:
    """Run lengths of a two-sided tabular CUSUM, vectorised across runs (the test's own oracle)."""
    rng = np.random.default_rng(seed)
    high = np.zeros(runs)
    low = np.zeros(runs)
    alive = np.arange(runs)
    lengths = np.zeros(runs)
    t = 0
    while alive.size:
        t += 1
        z = rng.standard_normal(alive.size) + shift
        high = np.maximum(0.0, high + z - k)
        low = np.maximum(0.0, low - z - k)
        stop = (high > h) | (low > h)
        lengths[alive[stop]] = t
        keep = ~stop
        alive, high, low = alive[keep], high[keep], low[keep]
    return lengths


def ewma_oracle(
    lam: float, width: float, runs: int, *, asymptotic: bool, shift: float = 0.0, seed: int
) -> np.ndarray:
    """Run lengths of an EWMA chart, vectorised across runs (the test's own oracle)."""
    rng = np.random.default_rng(seed)
    z = np.zeros(runs)
    alive = np.arange(runs)
    lengths = np.zeros(runs)
    t = 0
    while alive.size:
        t += 1
        z = lam * (rng.standard_normal(alive.size) + shift) + (1 - lam) * z
        factor = 1.0 if asymptotic else 1 - (1 - lam) ** (2 * t)
        limit = width * np.sqrt(lam / (2 - lam) * factor)
        stop = np.abs(z) > limit
        lengths[alive[stop]] = t
        alive, z = alive[~stop], z[~stop]
    return lengths


def test_western_electric_in_control_arl_matches_champ_woodall() -> None:
    """WE1-WE4 together signal on average every 91.75 in-control points (20,000 runs)."""
    lengths = library_run_lengths(lambda: WesternElectricMonitor(0.0, 1.0), 20_000, seed=1)
    assert abs(lengths.mean() / 91.75 - 1) < 0.03


def test_western_electric_alone_we1_matches_shewhart_arl() -> None:
    """A series beyond 3 sigma only by WE1 has the Shewhart ARL 1/0.0027 = 370.4: WE1 is strict."""
    rng = np.random.default_rng(2)
    values = rng.standard_normal(400_000).tolist()
    signals = check_series(values, charts=[WE1Only()], baseline=Baseline(0.0, 1.0))
    assert abs(len(values) / len(signals) / 370.4 - 1) < 0.05


class WE1Only:
    """The Western Electric monitor reporting only WE1, to isolate the 3-sigma rule."""

    name = "we1"
    estimator = "moving-range"

    def monitor(self, baseline: Baseline) -> Monitor:
        inner = WesternElectricMonitor(baseline.center, baseline.sigma)

        class _Only:
            def update(self, value: float) -> tuple[str, ...]:
                return tuple(r for r in inner.update(value) if r == "WE1")

        return _Only()


@pytest.mark.parametrize(("h", "published"), [(4.0, 168.0), (5.0, 465.0)])
def test_cusum_in_control_arl_matches_montgomery(h: float, published: float) -> None:
    """Tabular CUSUM k=0.5: in-control ARL 168 (h=4) and 465 (h=5), Montgomery Table 9.3."""
    lengths = cusum_oracle(0.5, h, 20_000, seed=3)
    assert abs(lengths.mean() / published - 1) < 0.03


@pytest.mark.parametrize(("h", "published"), [(4.0, 8.38), (5.0, 10.4)])
def test_cusum_one_sigma_shift_arl_matches_montgomery(h: float, published: float) -> None:
    """The library's CUSUM finds a 1-sigma shift in 8.38 (h=4) / 10.4 (h=5) points on average."""
    lengths = library_run_lengths(
        lambda: CusumMonitor(0.0, 1.0, k=0.5, h=h), 20_000, shift=1.0, seed=4
    )
    assert abs(lengths.mean() / published - 1) < 0.02


@pytest.mark.parametrize(("lam", "width"), [(0.2, 2.962), (0.1, 2.814)])
def test_ewma_in_control_arl_matches_lucas_saccucci(lam: float, width: float) -> None:
    """EWMA with asymptotic limits: in-control ARL 500 (Lucas & Saccucci 1990, Table 9.11)."""
    lengths = ewma_oracle(lam, width, 20_000, asymptotic=True, seed=5)
    assert abs(lengths.mean() / 500.0 - 1) < 0.03


@pytest.mark.parametrize(("lam", "width", "published"), [(0.2, 2.962, 10.5), (0.1, 2.814, 10.3)])
def test_ewma_one_sigma_shift_arl_matches_lucas_saccucci(
    lam: float, width: float, published: float
) -> None:
    """The library's EWMA (asymptotic limits) finds a 1-sigma shift in ~10.5 / 10.3 points."""
    lengths = library_run_lengths(
        lambda: EwmaMonitor(0.0, 1.0, lam=lam, L=width, asymptotic=True),
        20_000,
        shift=1.0,
        seed=6,
    )
    assert abs(lengths.mean() / published - 1) < 0.03


def test_ewma_time_varying_limits_signal_a_shift_sooner() -> None:
    """Exact (narrower early) limits catch a shift present from the start sooner than asymptotic."""
    exact = ewma_oracle(0.2, 2.962, 20_000, asymptotic=False, shift=1.0, seed=7)
    asymptotic = ewma_oracle(0.2, 2.962, 20_000, asymptotic=True, shift=1.0, seed=7)
    assert exact.mean() < 0.95 * asymptotic.mean()


def random_series(rng: np.random.Generator, count: int, length: int) -> list[list[float]]:
    """Series with a random sustained shift somewhere, so every rule gets exercised."""
    out = []
    for _ in range(count):
        values = rng.standard_normal(length)
        start = int(rng.integers(0, length))
        values[start:] += rng.uniform(-2.0, 2.0)
        out.append(values.tolist())
    return out


def oracle_cusum_flags(values: list[float], k: float, h: float) -> list[tuple[str, ...]]:
    """Per-point CUSUM rules from the oracle's recursion (not reset after a signal)."""
    high = low = 0.0
    flags: list[tuple[str, ...]] = []
    for x in values:
        high = max(0.0, high + x - k)
        low = max(0.0, low - x - k)
        flags.append(tuple(n for n, s in (("CUSUM+", high), ("CUSUM-", low)) if s > h))
    return flags


def test_library_cusum_matches_oracle_point_by_point() -> None:
    """The library's CUSUM flags exactly the points the oracle's recursion flags."""
    rng = np.random.default_rng(8)
    for values in random_series(rng, 200, 150):
        expected = [(i, f) for i, f in enumerate(oracle_cusum_flags(values, 0.5, 4.0)) if f]
        actual = check_series(values, charts=[Cusum(k=0.5, h=4.0)], baseline=Baseline(0.0, 1.0))
        assert expected == [(s.index, s.rules) for s in actual]


def test_library_ewma_matches_oracle_point_by_point() -> None:
    """The library's EWMA (exact limits) flags exactly the points the vectorised oracle flags."""
    rng = np.random.default_rng(9)
    lam, width = 0.2, 2.962
    for values in random_series(rng, 200, 150):
        array = np.asarray(values)
        z = np.empty_like(array)
        previous = 0.0
        for i, x in enumerate(array):
            previous = z[i] = lam * x + (1 - lam) * previous
        t = np.arange(1, len(array) + 1)
        limit = width * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
        # Points within 1e-9 of a limit are rounding-dependent: leave them out of the comparison.
        near = np.abs(np.abs(z) - limit) < 1e-9
        expected = {int(i) for i in np.flatnonzero((np.abs(z) > limit) & ~near)}
        actual = check_series(values, charts=[Ewma()], baseline=Baseline(0.0, 1.0))
        assert expected == {s.index for s in actual} - set(np.flatnonzero(near).tolist())
