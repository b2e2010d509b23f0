"""Model-based detection: per-series models that know what the numbers are.

Pure Python over the weekly values the detectors already receive (no SQL, no numpy):

- **rates with their counts** (`judge_rate`): successes ``k`` of ``n`` against a beta-binomial
  posterior predictive from the previous weeks' counts, its spread widened by the week-to-week
  overdispersion the history shows, so 2 errors in 15 runs is judged as 2 of 15;
- **counts** (`judge_count`): a negative binomial (Poisson when the history is not overdispersed)
  around the history's level, or its Theil-Sen trend line when there are 8 or more weeks;
- **levels** (`judge_level`): durations and latencies on a log scale, other levels as they are,
  with median / MAD location and spread (trend-corrected from 8 weeks) and a Student-t predictive;
- **one multivariate view** per skill or agent (`judge_vector`): a robust Mahalanobis distance
  over the features' normal scores (each from its own model's tail), with their rank
  correlation over the previous weeks, judged against chi-square.

Every judgement gives the expected range, the seen value and a one-sided tail probability (how
often a value at least this bad comes from the model). `series_alpha` turns a project's false
alarm budget (alarms a year) into the tail probability that fires, given how many series are
judged each week. `wilson_bounds` and `count_surprise` are the evidence conditions of the threshold
rules.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

Side = Literal["up", "down"]
WEEKS_PER_YEAR: Final = 52.0
_TINY: Final = 1e-300


@dataclass(frozen=True, slots=True)
class Judgement:
    """How surprising one value is under its series' model.

    Attributes:
        model: the model's name (``beta-binomial``, ``negative binomial``, ``log-t`` ...).
        value: the value seen (a rate for rates).
        expected: the model's centre for this week.
        low: lower end of the expected range (central ``1 - 2 alpha`` predictive interval);
            for counts and levels only computed when the value is outside it (``nan`` else).
        high: upper end of it.
        tail: P(a value at least this far on the bad side) under the model.
        detail: what the model was fitted on, for the alert text.
    """

    model: str
    value: float
    expected: float
    low: float
    high: float
    tail: float
    detail: str


# --- special functions --------------------------------------------------------------------


def _lbeta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Lentz; Numerical Recipes 6.4)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _lbeta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def gammainc_upper(s: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(s, x)."""
    if x <= 0.0:
        return 1.0
    if x < s + 1.0:  # series for P
        term = total = 1.0 / s
        k = s
        for _ in range(1000):
            k += 1.0
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-14:
                break
        return max(0.0, 1.0 - total * math.exp(-x + s * math.log(x) - math.lgamma(s)))
    b = x + 1.0 - s  # continued fraction for Q
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - s)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return math.exp(-x + s * math.log(x) - math.lgamma(s)) * h


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on `t_sf`)."""
    lo, hi = -1e3, 1e3
    for _ in range(70):
        mid = (lo + hi) / 2.0
        if 1.0 - t_sf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def f_sf(f: float, d1: float, d2: float) -> float:
    """P(F > f) for the F distribution with ``d1``, ``d2`` degrees of freedom."""
    if f <= 0:
        return 1.0
    return betainc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f))


def normal_quantile(p: float) -> float:
    """The ``p`` quantile of the standard normal."""
    return statistics.NormalDist().inv_cdf(min(max(p, 1e-15), 1.0 - 1e-15))


# --- budget and evidence ------------------------------------------------------------------


def series_alpha(false_alarms_per_year: float, series: int) -> float:
    """The one-sided tail probability a series must reach to fire, from the yearly budget.

    With ``series`` series judged each week, firing at ``alpha`` gives about
    ``alpha * series * 52`` false alarms a year when nothing is wrong, so
    ``alpha = budget / (52 * series)``: 200 skills get the same noise as 10.
    """
    return min(0.5, false_alarms_per_year / (WEEKS_PER_YEAR * max(series, 1)))


def wilson_bounds(k: float, n: float, confidence: float) -> tuple[float, float]:
    """One-sided Wilson score bounds of a proportion ``k / n`` at ``confidence`` each."""
    from ai_telemetry.analyze.proportions import wilson

    return wilson(k, n, normal_quantile(confidence))


def count_surprise(k: float, past: Sequence[float], *, exposure: float = 1.0) -> float:
    """P(X >= k) for a count whose rate is learnt from ``past`` counts (gamma-Poisson).

    ``past`` are counts over non-overlapping windows of the same length as ``k``'s (scaled by
    ``exposure`` windows each). Prior Gamma(0.5, 0): Jeffreys.
    """
    shape = 0.5 + sum(past)
    rate = exposure * len(past)
    if rate <= 0:
        return 1.0
    p = rate / (rate + 1.0)
    return _nb_sf(math.ceil(k), shape, p)


# --- the univariate models ----------------------------------------------------------------


def _beta_binomial_pmf(n: int, a: float, b: float) -> list[float]:
    base = -_lbeta(a, b)
    out = []
    for k in range(n + 1):
        log_choose = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        out.append(math.exp(log_choose + _lbeta(k + a, n - k + b) + base))
    return out


def _quantile_of(pmf: Sequence[float], p: float) -> int:
    total = 0.0
    for k, mass in enumerate(pmf):
        total += mass
        if total >= p:
            return k
    return len(pmf) - 1


def judge_rate(
    k: float,
    n: float,
    past: Sequence[tuple[float, float]],
    *,
    side: Side,
    alpha: float,
) -> Judgement:
    """``k`` successes of ``n`` against the previous weeks' ``(k, n)`` (beta-binomial).

    The previous weeks give the mean rate; their spread beyond binomial noise gives the
    overdispersion (method of moments, Williams 1982), which caps the beta prior's concentration,
    so a history that moves from week to week is not judged as one long binomial sample.
    """
    ks = sum(p[0] for p in past)
    ns = sum(p[1] for p in past)
    mean = (ks + 0.5) / (ns + 1.0)
    concentration = ns + 1.0
    weeks = [(pk, pn) for pk, pn in past if pn > 0]
    if len(weeks) >= 3:
        binomial = mean * (1.0 - mean)
        spread = sum(pn * (pk / pn - mean) ** 2 for pk, pn in weeks) / (len(weeks) - 1)
        phi = spread / binomial if binomial > 0 else 1.0
        n_bar = ns / len(weeks)
        if phi > 1.0 and n_bar > 1.0:
            rho = min(0.5, (phi - 1.0) / (n_bar - 1.0))
            concentration = min(concentration, (1.0 - rho) / rho)
    a, b = mean * concentration, (1.0 - mean) * concentration
    size = max(round(n), 0)
    seen = min(max(round(k), 0), size)
    pmf = _beta_binomial_pmf(size, a, b)
    tail = sum(pmf[seen:]) if side == "up" else sum(pmf[: seen + 1])
    low, high = _quantile_of(pmf, alpha), _quantile_of(pmf, 1.0 - alpha)
    scale = float(size) if size else 1.0
    return Judgement(
        model="beta-binomial",
        value=seen / scale,
        expected=mean,
        low=low / scale,
        high=high / scale,
        tail=min(1.0, tail),
        detail=(
            f"{seen} of {size}; {round(ks)} of {round(ns)} in the {len(past)} previous weeks "
            f"(beta-binomial, prior weight {concentration:.0f} runs)"
        ),
    )


def theil_sen(values: Sequence[float]) -> tuple[float, float]:
    """Robust line through ``values`` at x = 0, 1, ...: (intercept, slope) (Theil-Sen)."""
    n = len(values)
    slopes = [(values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n)]
    slope = statistics.median(slopes) if slopes else 0.0
    intercept = statistics.median(v - slope * i for i, v in enumerate(values))
    return intercept, slope


TREND_WEEKS: Final = 8
"""From this many previous weeks on, a series' level follows its Theil-Sen trend line."""


@dataclass(frozen=True, slots=True)
class _Fit:
    """A fitted level: next week's centre, the residuals, and how uncertain the centre is."""

    centre: float
    residuals: list[float]
    factor: float
    """Variance of a new point over the residual variance: 1 + 1/n, more for an extrapolated
    trend line (1 + 1/n + (n - mean x)^2 / Sxx)."""
    params: int
    how: str


def _level(values: Sequence[float]) -> _Fit:
    """Next week's robust centre and the residuals around the fitted level.

    From `TREND_WEEKS` weeks on, a Theil-Sen line is fitted; it is used only when its slope is
    clear of the noise (|slope| beyond 3 standard errors), since a line through noise predicts
    worse than the median does.
    """
    n = len(values)
    centre = statistics.median(values)
    flat = _Fit(centre, [v - centre for v in values], 1.0 + 1.0 / max(n, 1), 1, "median")
    if n < TREND_WEEKS:
        return flat
    intercept, slope = theil_sen(values)
    residuals = [v - (intercept + slope * i) for i, v in enumerate(values)]
    sxx = n * (n * n - 1) / 12.0
    error = _robust_scale(residuals, 2) / math.sqrt(sxx)
    if abs(slope) <= 3.0 * error:
        return flat
    factor = 1.0 + 1.0 / n + (n - (n - 1) / 2.0) ** 2 / sxx
    return _Fit(intercept + slope * n, residuals, factor, 2, f"trend {slope:+.3g}/week")


SEASON_YEARS: Final = 2
"""A yearly shape counts only when this many earlier years show it (two years of history)."""

Season = tuple[float, Sequence[float]]
"""The same calendar week in an earlier year: its value, and the baseline weeks before it then."""


def seasonal_offset(seasons: Sequence[Season], transform: Callable[[float], float]) -> float | None:
    """How far this calendar week usually sits from its baseline, on the model's scale.

    For each earlier year: that week's value minus the median of the weeks before it then.
    The shape is believed only when `SEASON_YEARS` or more years show it and all agree on its
    direction; the smallest of their offsets is used (a one-off last year, or a shape that
    came and went, moves nothing). None: no yearly shape to allow for.
    """
    offsets = [
        transform(value) - statistics.median(transform(v) for v in before)
        for value, before in seasons
        if len(before) >= 3
    ]
    if len(offsets) < SEASON_YEARS:
        return None
    if all(o > 0 for o in offsets) or all(o < 0 for o in offsets):
        return min(offsets, key=abs)
    return None


def _robust_scale(residuals: Sequence[float], params: int = 1) -> float:
    """The residuals' standard deviation with outliers winsorized at 3 robust sigmas.

    Median / MAD alone is robust but inefficient: from 6-12 weeks it is so noisy that a t
    predictive built on it has far heavier tails than its degrees of freedom say. Winsorizing
    keeps a bad week from inflating the spread and keeps most of the sd's efficiency.
    """
    if not residuals:
        return 0.0
    mad = statistics.median(abs(r) for r in residuals)
    limit = 3.0 * 1.4826 * mad if mad > 0 else math.inf
    clipped = [min(max(r, -limit), limit) for r in residuals]
    dof = max(len(clipped) - params, 1)
    return math.sqrt(sum(r * r for r in clipped) / dof)


def _nb_sf(k: int, r: float, p: float) -> float:
    """P(X >= k), X negative binomial with ``r`` successes of probability ``p``."""
    if k <= 0:
        return 1.0
    return 1.0 - betainc(r, float(k), p)


def _nb_cdf(k: int, r: float, p: float) -> float:
    return 0.0 if k < 0 else betainc(r, float(k) + 1.0, p)


def judge_count(
    value: float,
    past: Sequence[float],
    *,
    side: Side,
    alpha: float,
    exposure: float | None = None,
    exposures: Sequence[float] = (),
    seasons: Sequence[Season] = (),
) -> Judgement:
    """A weekly count against a negative binomial around the previous weeks' level.

    With ``seasons`` (this calendar week in earlier years, `seasonal_offset`), a yearly shape
    two or more years agree on scales the expected count (on a log scale).

    With ``exposure`` and ``exposures`` (this week's and the previous weeks' activity, e.g.
    ``events_total``), the level is of the count per unit of activity, scaled to this week's:
    a holiday week with a third of the usual activity is expected to have a third of the usual
    learnings.
    """
    scaled = (
        exposure is not None
        and exposure > 0
        and len(exposures) == len(past)
        and min(exposures, default=0) > 0
    )
    typical = statistics.fmean(exposures) if scaled else 1.0
    ratio = (exposure or 1.0) / typical if scaled else 1.0
    series = [c * typical / e for c, e in zip(past, exposures, strict=True)] if scaled else past
    fit = _level(series)
    how = fit.how + (f", scaled to this week's activity x{ratio:.2f}" if scaled else "")
    offset = seasonal_offset(seasons, lambda c: math.log(c + 0.5)) if seasons else None
    if offset is not None:
        ratio *= math.exp(offset)
        how += f", this week of the year x{math.exp(offset):.2f}"
    mean = max(fit.centre * ratio, 0.25)
    spread = (_robust_scale(fit.residuals, fit.params) * ratio) ** 2 if len(series) > 1 else mean
    variance = max(spread, mean) * fit.factor + 1e-9
    variance = max(variance, mean * 1.0001)  # a Poisson, as the limit of the negative binomial
    r = mean * mean / (variance - mean)
    p = r / (r + mean)
    seen = round(value)
    tail = _nb_sf(seen, r, p) if side == "up" else _nb_cdf(seen, r, p)
    low = high = math.nan
    if tail < alpha:  # the range is for the alert text: only worked out when there is one
        lo = 0
        while _nb_cdf(lo, r, p) < alpha:
            lo += 1
        hi = lo
        while _nb_cdf(hi, r, p) < 1.0 - alpha and hi < 10 * mean + 1000:
            hi += 1
        low, high = float(lo), float(hi)
    return Judgement(
        model="negative binomial",
        value=float(seen),
        expected=mean,
        low=low,
        high=high,
        tail=min(1.0, max(tail, 0.0)),
        detail=f"mean {mean:.3g}, variance {variance:.3g} from {len(past)} weeks ({how})",
    )


def judge_level(
    value: float,
    past: Sequence[float],
    *,
    side: Side,
    alpha: float,
    log: bool,
    size: float | None = None,
    sizes: Sequence[float] = (),
    floor: float | None = None,
    seasons: Sequence[Season] = (),
) -> Judgement:
    """A level (a duration, a percent) against a robust Student-t predictive.

    On a log scale when ``log`` (durations and latencies are multiplicative): median and MAD of the
    previous weeks (or of their residuals around a Theil-Sen trend from 8 weeks), widened by
    ``sqrt(1 + 1/n)`` for the uncertainty of the centre, with ``n - 1`` degrees of freedom.
    With ``size`` and ``sizes`` (the runs behind this week's and each previous week's value, as
    for a median duration), the spread is read per run: a week of 12 runs is expected to move
    about twice as far as a week of 48. ``floor``: the smallest spread (default: 2% on a log
    scale, 0.2% of the level otherwise). ``seasons``: this calendar week in earlier years; a
    yearly shape two or more of them agree on moves the centre (`seasonal_offset`).
    """
    use_log = log and value > 0 and all(v > 0 for v in past)
    ys = [math.log(v) for v in past] if use_log else list(past)
    y = math.log(value) if use_log else value
    fit = _level(ys)
    centre, residuals, how = fit.centre, fit.residuals, fit.how
    offset = None
    if seasons and not use_log:
        offset = seasonal_offset(seasons, float)
    elif seasons and all(x > 0 for value, before in seasons for x in (value, *before)):
        offset = seasonal_offset(seasons, math.log)
    if offset is not None:
        centre += offset
        how += f", this week of the year {offset:+.3g}{' (log)' if use_log else ''}"
    weighted = size is not None and size > 0 and len(sizes) == len(ys) and min(sizes) > 0
    typical = statistics.fmean(sizes) if weighted else 1.0
    if weighted:
        residuals = [r * math.sqrt(n / typical) for r, n in zip(residuals, sizes, strict=True)]
    scale = _robust_scale(residuals, fit.params)
    # Below this spread a series is "flat" to its resolution (2% on a log scale; 0.2% of the
    # level otherwise, 0.2 points of a 97% coverage), so a rounding step is no anomaly.
    if floor is None:
        floor = 0.02 if use_log else 0.002 * max(abs(centre), 1e-3)
    scale = max(scale, floor) * math.sqrt(fit.factor)
    if weighted and size is not None:
        scale *= math.sqrt(typical / size)
    df = max(len(ys) - fit.params, 1)
    t = (y - centre) / scale
    tail = t_sf(t, df) if side == "up" else 1.0 - t_sf(t, df)
    back = math.exp if use_log else float
    lo = hi = math.nan
    if tail < alpha:  # the range is for the alert text: only worked out when there is one
        q = t_quantile(1.0 - alpha, df)
        lo, hi = centre - q * scale, centre + q * scale
    return Judgement(
        model="log-t" if use_log else "t",
        value=value,
        expected=back(centre),
        low=back(lo) if math.isfinite(lo) else math.nan,
        high=back(hi) if math.isfinite(hi) else math.nan,
        tail=min(1.0, max(tail, 0.0)),
        detail=(
            f"{'log scale, ' if use_log else ''}robust centre and spread of {len(ys)} weeks ({how})"
        ),
    )


# --- the multivariate view ----------------------------------------------------------------


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """``matrix^-1 vector`` by Gauss-Jordan elimination; None when singular."""
    n = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) < 1e-10:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [x - factor * y for x, y in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (0 when either does not vary)."""
    rx, ry = _ranks(x), _ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def judge_vector(
    tails: Sequence[float], past: Sequence[Sequence[float]], *, alpha: float
) -> Judgement | None:
    """One skill's or agent's features judged together (robust Mahalanobis distance).

    Each feature is first judged by its own model (`judge_rate`, `judge_level`), and its tail
    probability turned into a normal score in the bad direction, ``s = Phi^-1(1 - tail)``: the
    scores are calibrated one by one whatever each metric's distribution. Their correlation is
    the rank (Spearman) correlation of the features over the previous weeks, shrunk towards none
    by ``m / (m + 10)`` for ``m`` weeks (a correlation from 6-12 weeks is itself uncertain). The
    squared distance ``s' R^-1 s`` is judged against chi-square with ``d`` degrees of freedom; only
    a vector whose scores lean to the bad side (positive sum) counts. ``alpha`` is unused but
    kept for the common signature.

    Returns:
        None when there are fewer than two features or three previous weeks.
    """
    del alpha
    d, m = len(tails), len(past)
    if d < 2 or m < 3:
        return None
    scores = [normal_quantile(1.0 - min(max(t, 1e-12), 1.0 - 1e-12)) for t in tails]
    shrink = m / (m + 10.0)
    corr = [
        [
            1.0 if i == j else shrink * spearman([r[i] for r in past], [r[j] for r in past])
            for j in range(d)
        ]
        for i in range(d)
    ]
    solved = _solve(corr, scores)
    if solved is None:
        return None
    d2 = max(0.0, sum(a * b for a, b in zip(scores, solved, strict=True)))
    tail = gammainc_upper(d / 2.0, d2 / 2.0) if sum(scores) > 0 else 1.0
    shown = ", ".join(f"{x:+.2f}" for x in scores)
    return Judgement(
        model="robust Mahalanobis",
        value=math.sqrt(d2),
        expected=0.0,
        low=0.0,
        high=math.nan,
        tail=tail,
        detail=(
            f"distance {math.sqrt(d2):.2f} over {d} features (normal scores {shown}; rank "
            f"correlation of {m} weeks)"
        ),
    )
