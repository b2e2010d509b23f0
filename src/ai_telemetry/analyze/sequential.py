"""Always-valid sequential A/B tests of a skill's new version against its previous one.

An experiment compares two versions of one skill on four metrics: success rate, duration (on a
log scale), rollback rate and context tokens (log scale). It is looked at every week, and a
test that is looked at every week must not be the fixed-sample test run again each time: with
52 looks, a 5% Fisher test declares a winner in roughly a third of experiments where nothing
changed (bench/ab_sequential.py measures it).

The test is the mixture sequential probability ratio test (mSPRT; Robbins 1970, Johari, Pekelis
and Walsh 2017, "Always valid inference"): with an estimate ``d`` of the difference (new minus
previous) and its variance ``V``, and a normal mixing distribution N(0, tau^2) over the effect,

    Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 d^2 / (2 V (V + tau^2)))

is a nonnegative martingale under "no difference", so P(Lambda ever reaches 1/alpha) <= alpha
however often it is looked at (Ville's inequality). Its always-valid p-value is the running
minimum of 1 / Lambda. Rates use the pooled binomial variance; log durations and tokens their
sample variances (a plug-in, as in Johari et al.).

An experiment's verdict: ``worse`` when any metric is worse, ``better`` when at least one is
better and none is worse, each metric at ``alpha / 4`` (so the false-winner rate over all four
stays within ``alpha``); else ``no difference yet``, with the runs each version still needs
for the test to decide if the true difference were the smallest one worth knowing
(`MetricSpec.mde`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

Verdict = Literal["better", "worse", "no difference yet"]
Kind = Literal["rate", "log"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric an experiment compares.

    Attributes:
        name: ``success_rate``, ``duration``, ``rollback_rate``, ``tokens``.
        kind: ``rate`` (a proportion) or ``log`` (a positive quantity on a log scale).
        better: ``up`` or ``down``: which way the new version should move it.
        tau: the mixing spread: the size of effect the test is tuned to (a rate difference, or
            a log ratio).
        mde: the smallest difference worth knowing, for "runs still needed".
    """

    name: str
    kind: Kind
    better: Literal["up", "down"]
    tau: float
    mde: float


METRICS: Final[tuple[MetricSpec, ...]] = (
    MetricSpec("success_rate", "rate", "up", tau=0.08, mde=0.05),
    MetricSpec("duration", "log", "down", tau=0.2, mde=math.log(1.15)),
    MetricSpec("rollback_rate", "rate", "down", tau=0.04, mde=0.02),
    MetricSpec("tokens", "log", "down", tau=0.2, mde=math.log(1.15)),
)
"""The four metrics of a skill experiment."""


@dataclass(slots=True)
class Arm:
    """Sufficient statistics of one version's runs.

    Attributes:
        runs: runs of this version.
        successes: runs with outcome success.
        rollbacks: runs with outcome rollback.
        logs: per log metric, ``[n, sum of logs, sum of squared logs]``.
    """

    runs: int = 0
    successes: int = 0
    rollbacks: int = 0
    logs: dict[str, list[float]] = field(default_factory=dict)

    def add(
        self,
        *,
        success: bool,
        rollback: bool = False,
        values: Mapping[str, float | None] | None = None,
    ) -> None:
        """Count one run: its outcome and its positive values (duration, tokens)."""
        self.runs += 1
        self.successes += success
        self.rollbacks += rollback
        for name, value in (values or {}).items():
            if value is not None and value > 0:
                stats = self.logs.setdefault(name, [0.0, 0.0, 0.0])
                log = math.log(value)
                stats[0] += 1
                stats[1] += log
                stats[2] += log * log


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One metric's comparison at this look.

    Attributes:
        name: the metric.
        previous: its value for the previous version (a rate, or the geometric mean).
        new: its value for the new version.
        difference: new minus previous (rate points, or the ratio new / previous for logs).
        p_value: the always-valid p-value (1 / Lambda, not yet a running minimum).
        verdict: ``better``, ``worse`` or ``no difference yet`` at ``alpha / 4``.
        runs_needed: more runs per version for the test to decide at an effect of ``mde``
            (0 once decided; None when that cannot be worked out yet).
    """

    name: str
    previous: float | None
    new: float | None
    difference: float | None
    p_value: float
    verdict: Verdict
    runs_needed: int | None


def msprt(difference: float, variance: float, tau: float) -> float:
    """The mixture likelihood ratio Lambda of an estimate and its variance (normal mixture)."""
    if variance <= 0:
        return 1.0
    total = variance + tau * tau
    exponent = tau * tau * difference * difference / (2.0 * variance * total)
    return math.sqrt(variance / total) * math.exp(min(exponent, 700.0))


def _estimate(spec: MetricSpec, old: Arm, new: Arm) -> tuple[float, float, float, float] | None:
    """(previous value, new value, difference, variance) on the test's scale, None if empty."""
    if spec.kind == "rate":
        if old.runs == 0 or new.runs == 0:
            return None
        count = {"success_rate": "successes", "rollback_rate": "rollbacks"}[spec.name]
        k_old, k_new = getattr(old, count), getattr(new, count)
        p_old, p_new = k_old / old.runs, k_new / new.runs
        pooled = (k_old + k_new + 0.5) / (old.runs + new.runs + 1.0)
        variance = pooled * (1.0 - pooled) * (1.0 / old.runs + 1.0 / new.runs)
        return p_old, p_new, p_new - p_old, variance
    a, b = old.logs.get(spec.name), new.logs.get(spec.name)
    if a is None or b is None or a[0] < 2 or b[0] < 2:
        return None
    means = [s[1] / s[0] for s in (a, b)]
    variances = [
        max((s[2] - s[0] * m * m) / (s[0] - 1), 1e-6) for s, m in zip((a, b), means, strict=True)
    ]
    variance = variances[0] / a[0] + variances[1] / b[0]
    return math.exp(means[0]), math.exp(means[1]), means[1] - means[0], variance


def _runs_needed(spec: MetricSpec, variance: float, runs: int, alpha: float) -> int:
    """More runs per version until Lambda at an effect of ``mde`` would reach 1 / alpha."""
    if runs <= 0:
        return 0
    unit = variance * runs  # variance of one run's contribution, per version pair
    n = runs
    while n < 10_000_000 and msprt(spec.mde, unit / n, spec.tau) < 1.0 / alpha:
        n *= 2
    lo, hi = max(runs, n // 2), n
    while lo < hi:
        mid = (lo + hi) // 2
        if msprt(spec.mde, unit / mid, spec.tau) >= 1.0 / alpha:
            hi = mid
        else:
            lo = mid + 1
    return max(0, lo - runs)


def compare_metric(spec: MetricSpec, old: Arm, new: Arm, *, alpha: float) -> MetricResult:
    """One metric's mSPRT at ``alpha`` (the caller splits alpha over the metrics)."""
    estimate = _estimate(spec, old, new)
    if estimate is None:
        return MetricResult(spec.name, None, None, None, 1.0, "no difference yet", None)
    previous, value, difference, variance = estimate
    ratio = msprt(difference, variance, spec.tau)
    p_value = min(1.0, 1.0 / ratio)
    verdict: Verdict = "no difference yet"
    if p_value <= alpha:
        improved = difference > 0 if spec.better == "up" else difference < 0
        verdict = "better" if improved else "worse"
    shown = math.exp(difference) if spec.kind == "log" else difference
    needed = (
        0
        if verdict != "no difference yet"
        else _runs_needed(spec, variance, min(old.runs, new.runs), alpha)
    )
    return MetricResult(spec.name, previous, value, shown, p_value, verdict, needed)


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    """An experiment's verdict at this look.

    Attributes:
        verdict: ``better``, ``worse`` or ``no difference yet``.
        metrics: each metric's comparison.
        runs_needed: for ``no difference yet``: the most runs per version any undecided metric
            still needs (None when unknown).
    """

    verdict: Verdict
    metrics: tuple[MetricResult, ...]
    runs_needed: int | None


def evaluate(
    old: Arm,
    new: Arm,
    *,
    alpha: float = 0.05,
    metrics: tuple[MetricSpec, ...] = METRICS,
    p_values: Mapping[str, float] | None = None,
) -> ExperimentResult:
    """The verdict of an experiment at one look.

    Args:
        old: the previous version's runs.
        new: the new version's runs.
        alpha: the false-winner rate over every look and every metric.
        metrics: what is compared.
        p_values: each metric's always-valid p-value at the earlier looks (its running
            minimum); the verdict uses the minimum with this look's. None: this look alone
            (Lambda is then only checked now, which is still valid, just less powerful).
    """
    each = alpha / len(metrics)
    results = []
    for spec in metrics:
        result = compare_metric(spec, old, new, alpha=each)
        earlier = (p_values or {}).get(spec.name)
        if earlier is not None and earlier < result.p_value:
            result = _with_p(result, earlier, spec, each)
        results.append(result)
    verdicts = {r.verdict for r in results}
    verdict: Verdict = "no difference yet"
    if "worse" in verdicts:
        verdict = "worse"
    elif "better" in verdicts:
        verdict = "better"
    if verdict != "no difference yet":
        return ExperimentResult(verdict, tuple(results), 0)
    needed = [r.runs_needed for r in results]
    known = [n for n in needed if n is not None]
    return ExperimentResult(verdict, tuple(results), max(known) if known else None)


def _with_p(result: MetricResult, p_value: float, spec: MetricSpec, alpha: float) -> MetricResult:
    """A metric's result with the running-minimum p-value of an earlier look."""
    if p_value > alpha or result.difference is None:
        return MetricResult(
            result.name, result.previous, result.new, result.difference, p_value,
            result.verdict, result.runs_needed,
        )  # fmt: skip
    raw = math.log(result.difference) if spec.kind == "log" else result.difference
    improved = raw > 0 if spec.better == "up" else raw < 0
    return MetricResult(
        result.name, result.previous, result.new, result.difference, p_value,
        "better" if improved else "worse", 0,
    )  # fmt: skip


VersionRun = tuple[str, str, datetime, str, float | None, float | None]
"""A finished run: skill, skill_version, time, outcome, duration_seconds, context_tokens."""


@dataclass(frozen=True, slots=True)
class Experiment:
    """A skill's newest version against the one before it, opened when the new one appeared.

    Attributes:
        skill: the skill.
        previous: the version before (by first appearance).
        new: the newest version.
        opened: when the new version's first finished run was seen.
        previous_runs: runs of the previous version compared.
        new_runs: runs of the new version compared.
        result: the sequential test's verdict now.
    """

    skill: str
    previous: str
    new: str
    opened: datetime
    previous_runs: int
    new_runs: int
    result: ExperimentResult

    def line(self) -> str:
        """The verdict in one line, for dashboards and ``status``."""
        head = f"{self.skill} {self.new} vs {self.previous}"
        if self.result.verdict == "no difference yet":
            more = self.result.runs_needed
            tail = f"; about {more} more runs of each version needed" if more else ""
            return f"{head}: no difference yet ({self.new_runs} vs {self.previous_runs} runs{tail})"
        moved = [
            m.name.replace("_", " ")
            for m in self.result.metrics
            if m.verdict == self.result.verdict
        ]
        return f"{head}: {self.result.verdict} ({', '.join(moved)})"


def _arm(runs: list[VersionRun]) -> Arm:
    arm = Arm()
    for _, _, _, outcome, duration, tokens in runs:
        arm.add(
            success=outcome == "success",
            rollback=outcome == "rollback",
            values={"duration": duration, "tokens": tokens},
        )
    return arm


def skill_experiments(runs: list[VersionRun], *, alpha: float = 0.05) -> list[Experiment]:
    """One experiment per skill with two or more versions: its newest against the one before.

    An experiment opens by itself when a skill's runs show a new ``skill_version`` (the hook,
    the SDK or a collector record it); it compares every run of the two versions so far, and
    the mSPRT keeps it valid at every weekly look.
    """
    by_skill: dict[str, dict[str, list[VersionRun]]] = {}
    first: dict[tuple[str, str], datetime] = {}
    for run in runs:
        skill, version, ts = run[0], run[1], run[2]
        by_skill.setdefault(skill, {}).setdefault(version, []).append(run)
        first.setdefault((skill, version), ts)
    out = []
    for skill in sorted(by_skill):
        versions = sorted(by_skill[skill], key=lambda v: (first[skill, v], v))
        if len(versions) < 2:
            continue
        previous, new = versions[-2], versions[-1]
        old_runs, new_runs = by_skill[skill][previous], by_skill[skill][new]
        result = evaluate(_arm(old_runs), _arm(new_runs), alpha=alpha)
        out.append(
            Experiment(
                skill, previous, new, first[skill, new], len(old_runs), len(new_runs), result
            )
        )
    return out
