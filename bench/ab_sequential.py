"""Sequential A/B tests of skill updates: false-winner rate, power and weeks to a verdict.

Simulates experiments of a skill's new version against its previous one, both running every
week (runs per version per week ~ Poisson(``--runs``)), looked at every week for ``--weeks``
weeks, and judges them with:

- the mSPRT of `ai_telemetry.analyze.sequential` (success rate, log duration, rollback rate, log
  tokens, each at alpha / 4; an experiment's verdict is its first decided week);
- beside it, a naive weekly two-sided Fisher exact test on the cumulative success counts at 5%
  (scipy), declaring a winner the first week p < 0.05.

Scenarios: ``null`` (nothing changed: every decision is a false winner or loser), ``+10 points
success`` (0.80 -> 0.90) and ``-20% duration``. The runs are drawn through their sufficient
statistics (binomial counts; the sum and sum of squares of normal log values), vectorised with
numpy over the experiments; the test statistic is the library's own `msprt`.

    .venv/bin/python bench/ab_sequential.py                     # 10,000 experiments x 52 weeks
    .venv/bin/python bench/ab_sequential.py --experiments 1000  # quick look
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import numpy as np

from ai_telemetry.analyze.sequential import METRICS, msprt

BASE = {"success": 0.80, "rollback": 0.02, "duration": (math.log(120.0), 0.5), "tokens": (9.4, 0.3)}


def _simulate(
    rng: np.random.Generator,
    experiments: int,
    weeks: int,
    runs: float,
    *,
    success_lift: float = 0.0,
    duration_ratio: float = 1.0,
) -> dict[str, np.ndarray]:
    """Cumulative sufficient statistics per experiment, week and arm: shape (E, W, 2)."""
    n = rng.poisson(runs, size=(experiments, weeks, 2)).astype(float)
    n = np.maximum(n, 0)
    p_success = np.array([BASE["success"], BASE["success"] + success_lift])
    succ = rng.binomial(n.astype(int), p_success)
    roll = rng.binomial((n - succ).astype(int), BASE["rollback"] / (1 - BASE["success"]))
    out = {"n": n.cumsum(1), "success": succ.cumsum(1), "rollback": roll.cumsum(1)}
    for name, (mu, sigma) in (("duration", BASE["duration"]), ("tokens", BASE["tokens"])):
        shift = np.array([0.0, math.log(duration_ratio) if name == "duration" else 0.0])
        safe = np.maximum(n, 1)
        mean = rng.normal(mu + shift, sigma / np.sqrt(safe))
        total = mean * n
        # sum of squares = n * mean^2 + sigma^2 * chi2(n - 1)
        chi = rng.chisquare(np.maximum(n - 1, 1)) * (n > 1)
        squares = n * mean * mean + sigma * sigma * chi
        out[name + "_sum"] = total.cumsum(1)
        out[name + "_sq"] = squares.cumsum(1)
    return out


def _msprt_vec(d: np.ndarray, v: np.ndarray, tau: float) -> np.ndarray:
    total = v + tau * tau
    exponent = np.minimum(tau * tau * d * d / (2 * v * total), 700)
    return np.sqrt(v / total) * np.exp(exponent)


def sequential_verdicts(
    stats: dict[str, np.ndarray], alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """First decided week (or -1) and its verdict (+1 better, -1 worse) per experiment."""
    n = stats["n"]
    each = alpha / len(METRICS)
    decided = np.zeros(n.shape[:2], dtype=bool)
    sign = np.zeros(n.shape[:2])
    for spec in METRICS:
        if spec.kind == "rate":
            k = stats["success" if spec.name == "success_rate" else "rollback"]
            ok = (n[..., 0] > 0) & (n[..., 1] > 0)
            safe = np.maximum(n, 1)
            p = k / safe
            pooled = (k.sum(-1) + 0.5) / (n.sum(-1) + 1)
            v = pooled * (1 - pooled) * (1 / safe[..., 0] + 1 / safe[..., 1])
            d = p[..., 1] - p[..., 0]
        else:
            name = spec.name
            total, sq = stats[name + "_sum"], stats[name + "_sq"]
            ok = (n[..., 0] >= 2) & (n[..., 1] >= 2)
            safe = np.maximum(n, 2)
            mean = total / safe
            var = np.maximum((sq - safe * mean * mean) / (safe - 1), 1e-6)
            v = var[..., 0] / safe[..., 0] + var[..., 1] / safe[..., 1]
            d = mean[..., 1] - mean[..., 0]
        lam = np.where(ok, _msprt_vec(d, v, spec.tau), 1.0)
        hit = lam >= 1 / each
        good = d > 0 if spec.better == "up" else d < 0
        sign = np.where(hit & ~decided, np.where(good, 1.0, -1.0), sign)
        # a "worse" on any metric wins over a "better" in the same week
        sign = np.where(hit & decided & ~good, -1.0, sign)
        decided |= hit
    first = np.where(decided.any(1), decided.argmax(1), -1)
    verdict = np.where(first >= 0, sign[np.arange(len(first)), np.maximum(first, 0)], 0)
    return first, verdict


def naive_fisher(stats: dict[str, np.ndarray], alpha: float = 0.05) -> np.ndarray:
    """First week a weekly two-sided Fisher test on cumulative successes has p < alpha (or -1)."""
    from scipy.stats import fisher_exact

    n, k = stats["n"].astype(int), stats["success"].astype(int)
    first = np.full(n.shape[0], -1)
    for e in range(n.shape[0]):
        for w in range(n.shape[1]):
            table = [[k[e, w, 0], n[e, w, 0] - k[e, w, 0]], [k[e, w, 1], n[e, w, 1] - k[e, w, 1]]]
            if fisher_exact(table).pvalue < alpha:
                first[e] = w
                break
    return first


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--runs", type=float, default=15.0, help="runs per version per week")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--fisher", type=int, default=2000, help="null experiments for Fisher")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    assert msprt(0.0, 1.0, 1.0) < 1  # the library's statistic and the vectorised one agree below
    rng = np.random.default_rng(args.seed)
    rows = []
    for label, kwargs in (
        ("null (no change)", {}),
        ("+10 points success (0.80 -> 0.90)", {"success_lift": 0.10}),
        ("-20% duration", {"duration_ratio": 0.8}),
    ):
        stats = _simulate(rng, args.experiments, args.weeks, args.runs, **kwargs)
        first, verdict = sequential_verdicts(stats)
        decided = first >= 0
        better = float(np.mean(verdict > 0))
        worse = float(np.mean(verdict < 0))
        weeks = first[decided] + 1
        median = statistics.median(weeks.tolist()) if decided.any() else None
        fisher = ""
        if not kwargs:
            subset = {k: v[: args.fisher] for k, v in stats.items()}
            fisher_first = naive_fisher(subset)
            fisher = f"{np.mean(fisher_first >= 0) * 100:.1f}% (of {args.fisher})"
        rows.append((label, better, worse, median, fisher))
    print(
        f"{args.experiments} experiments x {args.weeks} weekly looks, ~{args.runs:g} runs per "
        "version per week; mSPRT at alpha 0.05 over four metrics (0.0125 each).\n"
    )
    print("| scenario | verdict better | verdict worse | median weeks to a verdict | "
          "naive weekly Fisher (success), any p < 0.05 |")  # fmt: skip
    print("|---|---|---|---|---|")
    for label, better, worse, median, fisher in rows:
        shown = "-" if median is None else f"{median:g}"
        print(f"| {label} | {better * 100:.1f}% | {worse * 100:.1f}% | {shown} | {fisher} |")
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
