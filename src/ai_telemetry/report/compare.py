"""Skill A/B comparison (the seed's Phase 3): is the new version of a skill better?

``ai-telemetry compare skill NAME`` splits the skill's finished executions (its terminal
``skill_execution`` events: success, error, rollback, handoff) into two groups:

- by ``skill_version`` (``--versions A B``; by default the two versions seen last, ordered by
  their first appearance, older first);
- or before and after a moment (``--before-after DATE``, or ``--commit HASH``: the commit's
  committer time from git).

Success (outcome ``success`` out of finished runs) is compared with Fisher's exact test
(two-sided) and the difference of rates gets Newcombe's hybrid score interval (method 10,
built from Wilson intervals). Durations are compared with the Mann-Whitney U test (exact when
there are no ties and the groups are small, else normal approximation with tie correction);
see `ai_telemetry.report.stats`. When the success test is not significant, the number of runs
per group needed for 80% power at alpha 0.05 is computed for the observed difference, or the
minimum detectable difference (``--mde``, 5 points) when the observed one is smaller.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ai_telemetry.errors import AnalyticsError

if TYPE_CHECKING:
    from ai_telemetry.analyze.sequential import Arm, ExperimentResult
    from ai_telemetry.documents.types import CompareDocument, CompareGroupDoc, SequentialDoc
    from ai_telemetry.ports import Store
from ai_telemetry.report.stats import (
    RankTest,
    fisher_exact,
    mann_whitney,
    newcombe_interval,
    sample_size_two_proportions,
)


@dataclass(frozen=True, slots=True)
class Group:
    """One side of the comparison."""

    label: str
    runs: int
    successes: int
    durations: tuple[float, ...]

    @property
    def rate(self) -> float:
        """Success rate (0 when there are no runs)."""
        return self.successes / self.runs if self.runs else 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """The result of `compare_skill`: the numbers and the verdict in words."""

    skill: str
    split: str
    a: Group
    b: Group
    difference: float
    """Success rate of b minus a."""
    ci: tuple[float, float]
    fisher_p: float
    durations: RankTest | None
    needed_per_group: int | None
    """Runs per group for 80% power, when the data cannot tell yet."""
    target_difference: float | None
    verdict: str
    duration_verdict: str
    more_runs: str
    sequential: ExperimentResult | None = None
    """The always-valid sequential test (`ai_telemetry.analyze.sequential`) of b against a."""
    project: str | None = None
    """Only this project's runs (``--project``); None: every project."""

    def to_document(self) -> CompareDocument:
        """The ``compare skill --json`` document (docs/schemas/compare-skill.json)."""
        from ai_telemetry.documents import finite, header

        return {
            **header("compare skill"),
            "skill": self.skill,
            "project": self.project,
            "split": self.split,
            "a": _group_doc(self.a),
            "b": _group_doc(self.b),
            "difference": self.difference,
            "ci": [self.ci[0], self.ci[1]],
            "fisher_p": self.fisher_p,
            "durations": None
            if self.durations is None
            else {
                "u": self.durations.u,
                "p_value": self.durations.p_value,
                "method": self.durations.method,
            },
            "needed_per_group": self.needed_per_group,
            "target_difference": finite(self.target_difference),
            "verdict": self.verdict,
            "duration_verdict": self.duration_verdict,
            "more_runs": self.more_runs,
            "sequential": None if self.sequential is None else sequential_doc(self.sequential),
        }


def sequential_doc(result: ExperimentResult, *, alpha: float = 0.05) -> SequentialDoc:
    """An `ExperimentResult` as its ``--json`` part (``SequentialDoc``)."""
    from ai_telemetry.documents import finite

    return {
        "test": "mSPRT (always valid), success rate, duration, rollback rate, tokens at alpha/4",
        "alpha": alpha,
        "verdict": result.verdict,
        "runs_needed": result.runs_needed,
        "metrics": [
            {
                "name": m.name,
                "previous": finite(m.previous),
                "new": finite(m.new),
                "difference": finite(m.difference),
                "p_value": m.p_value,
                "verdict": m.verdict,
                "runs_needed": m.runs_needed,
            }
            for m in result.metrics
        ],
    }


_Row = tuple[datetime, str | None, str, float | None, float | None]
"""A finished run: time, skill_version, outcome, duration_seconds, context_tokens."""


def arm_of(rows: list[_Row]) -> Arm:
    """The sufficient statistics of a group's runs, for the sequential test."""
    from ai_telemetry.analyze.sequential import Arm

    arm = Arm()
    for _, _, outcome, duration, tokens in rows:
        arm.add(
            success=outcome == "success",
            rollback=outcome == "rollback",
            values={"duration": duration, "tokens": tokens},
        )
    return arm


def _group_doc(g: Group) -> CompareGroupDoc:
    return {
        "label": g.label,
        "runs": g.runs,
        "successes": g.successes,
        "success_rate": g.rate,
        "median_duration_seconds": statistics.median(g.durations) if g.durations else None,
        "durations": len(g.durations),
    }


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _pts(value: float) -> str:
    return f"{value * 100:+.0f}"


def _group(label: str, rows: list[_Row]) -> Group:
    return Group(
        label,
        len(rows),
        sum(1 for r in rows if r[2] == "success"),
        tuple(float(r[3]) for r in rows if r[3] is not None),
    )


def _split(
    rows: list[_Row],
    skill: str,
    versions: tuple[str, str] | None,
    moment: datetime | None,
) -> tuple[str, tuple[str, list[_Row]], tuple[str, list[_Row]]]:
    if moment is not None:
        naive = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        day = f"{naive:%Y-%m-%d %H:%M} UTC"
        return (
            f"before and after {day}",
            ("before", [r for r in rows if r[0] < naive]),
            ("after", [r for r in rows if r[0] >= naive]),
        )
    if versions is None:
        first: dict[str, datetime] = {}
        for ts, version, *_ in rows:
            if version is not None and version not in first:
                first[version] = ts
        ordered = sorted(first, key=lambda v: (first[v], v))
        if len(ordered) < 2:
            have = ", ".join(ordered) or "none"
            raise AnalyticsError(
                f"skill {skill}: finished runs carry {len(ordered)} skill_version(s) ({have}); "
                "log skill_version on its runs, or compare with --before-after DATE"
            )
        versions = (ordered[-2], ordered[-1])
    va, vb = versions
    return (
        f"skill_version {va} vs {vb}",
        (va, [r for r in rows if r[1] == va]),
        (vb, [r for r in rows if r[1] == vb]),
    )


def compare_groups(
    skill: str,
    split: str,
    a: Group,
    b: Group,
    *,
    confidence: float = 0.95,
    alpha: float = 0.05,
    power: float = 0.8,
    mde: float = 0.05,
) -> Comparison:
    """Compare two groups of runs and word the verdict.

    Raises:
        AnalyticsError: a group has no finished runs.
    """
    for g in (a, b):
        if g.runs == 0:
            raise AnalyticsError(
                f"skill {skill}: no finished runs in group {g.label!r} ({split}); "
                "check the name, the versions or the date"
            )
    diff = b.rate - a.rate
    ci = newcombe_interval(b.successes, b.runs, a.successes, a.runs, confidence=confidence)
    p = fisher_exact([[b.successes, b.runs - b.successes], [a.successes, a.runs - a.successes]])
    level = f"{confidence * 100:.0f}% CI"
    needed: int | None = None
    target: float | None = None
    more = ""
    if p < alpha and diff != 0:
        win, lose, d, lo, hi = (b, a, diff, *ci) if diff > 0 else (a, b, -diff, -ci[1], -ci[0])
        verdict = (
            f"{win.label} is better: success {win.rate:.0%} vs {lose.rate:.0%} (difference "
            f"{_pts(d)} points, {level} {_pts(lo)} to {_pts(hi)}; Fisher {_p(p)})"
        )
    else:
        verdict = (
            f"The data can't tell yet: success {b.rate:.0%} ({b.label}) vs {a.rate:.0%} "
            f"({a.label}) (difference {_pts(diff)} points, {level} {_pts(ci[0])} to "
            f"{_pts(ci[1])}; Fisher {_p(p)})"
        )
        target = max(abs(diff), mde)
        other = a.rate + target if a.rate + target <= 1 else a.rate - target
        needed = sample_size_two_proportions(a.rate, other, alpha=alpha, power=power)
        extra_a, extra_b = max(0, needed - a.runs), max(0, needed - b.runs)
        more = (
            f"To detect a difference of {target * 100:.0f} points with {power:.0%} power at "
            f"alpha {alpha:g}, about {needed} runs per group are needed: "
            f"{extra_a + extra_b} more ({extra_a} of {a.label}, {extra_b} of {b.label})."
        )
    rank: RankTest | None = None
    if a.durations and b.durations:
        rank = mann_whitney(b.durations, a.durations)
        med_a, med_b = statistics.median(a.durations), statistics.median(b.durations)
        detail = f"median {med_b:.0f} s ({b.label}) vs {med_a:.0f} s ({a.label})"
        test = f"Mann-Whitney {_p(rank.p_value)}, {rank.method}"
        if rank.p_value < alpha:
            fast, slow = (b, a) if med_b < med_a else (a, b)
            duration_verdict = (
                f"{fast.label} is faster: median {statistics.median(fast.durations):.0f} s vs "
                f"{statistics.median(slow.durations):.0f} s ({slow.label}) ({test})"
            )
        else:
            duration_verdict = f"No clear difference in duration: {detail} ({test})"
    else:
        duration_verdict = "No durations were recorded for one of the groups."
    return Comparison(
        skill, split, a, b, diff, ci, p, rank, needed, target, verdict, duration_verdict, more
    )


def compare_skill(
    wh: Store,
    skill: str,
    *,
    versions: tuple[str, str] | None = None,
    before_after: datetime | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
    power: float = 0.8,
    mde: float = 0.05,
    project: str | None = None,
) -> Comparison:
    """Compare two versions of ``skill`` (or before/after a moment) from an open warehouse
    (``project``'s runs only, when given).

    Raises:
        AnalyticsError: no runs of the skill, fewer than two versions, or an empty group.
    """
    rows: list[_Row] = wh.skill_outcomes(skill, project=project)
    if not rows:
        raise AnalyticsError(
            f"no finished runs of skill {skill!r} in the log; see `ai-telemetry top skills`"
        )
    from ai_telemetry.analyze.sequential import evaluate

    split, (la, ra), (lb, rb) = _split(rows, skill, versions, before_after)
    comparison = compare_groups(
        skill, split, _group(la, ra), _group(lb, rb),
        confidence=confidence, alpha=alpha, power=power, mde=mde,
    )  # fmt: skip
    sequential = evaluate(arm_of(ra), arm_of(rb), alpha=alpha)
    return replace(comparison, sequential=sequential, project=project)


def render_comparison(c: Comparison) -> str:
    """The comparison as Markdown for the terminal or a file (every value Markdown-escaped)."""
    from ai_telemetry.report.escape import markdown_inline as cell

    lines = [
        f"# Skill A/B comparison: {cell(c.skill)} ({cell(c.split)})",
        "",
        "| Group | Finished runs | Successes | Success rate | Median duration |",
        "|---|---|---|---|---|",
    ]
    for g in (c.a, c.b):
        med = f"{statistics.median(g.durations):.0f} s" if g.durations else "—"
        lines.append(f"| {cell(g.label)} | {g.runs} | {g.successes} | {g.rate:.1%} | {med} |")
    lines += ["", f"- Success: {cell(c.verdict)}."]
    if c.more_runs:
        lines.append(f"- {cell(c.more_runs)}")
    lines.append(f"- Duration: {cell(c.duration_verdict)}.")
    if c.sequential is not None:
        lines += ["", *render_sequential(c.sequential, c.b.label, c.a.label)]
    return "\n".join(lines) + "\n"


def sequential_line(result: ExperimentResult, new: str, old: str) -> str:
    """The sequential verdict in one line (dashboards, ``status``)."""
    if result.verdict == "no difference yet":
        more = (
            f"; about {result.runs_needed} more runs of each version needed"
            if result.runs_needed
            else ""
        )
        return f"{new} vs {old}: no difference yet{more}"
    moved = [m.name.replace("_", " ") for m in result.metrics if m.verdict == result.verdict]
    return f"{new} vs {old}: {result.verdict} ({', '.join(moved)})"


def render_sequential(result: ExperimentResult, new: str, old: str) -> list[str]:
    """Markdown lines of the sequential test (every value Markdown-escaped)."""
    from ai_telemetry.report.escape import markdown_inline as cell

    lines = [
        f"Sequential test (mSPRT, valid at every weekly look): "
        f"**{cell(sequential_line(result, new, old))}**",
        "",
        "| Metric | Previous | New | Difference | Always-valid p | Verdict |",
        "|---|---|---|---|---|---|",
    ]
    for m in result.metrics:
        if m.previous is None or m.new is None or m.difference is None:
            lines.append(f"| {m.name} | — | — | — | — | {m.verdict} |")
            continue
        rate = m.name.endswith("_rate")
        prev = f"{m.previous:.1%}" if rate else f"{m.previous:.4g}"
        now = f"{m.new:.1%}" if rate else f"{m.new:.4g}"
        diff = f"{m.difference * 100:+.1f} points" if rate else f"x{m.difference:.3f}"
        lines.append(f"| {m.name} | {prev} | {now} | {diff} | {m.p_value:.3g} | {m.verdict} |")
    return lines


def compare_skill_report(
    skill: str,
    *,
    settings: Any,
    versions: tuple[str, str] | None = None,
    before_after: datetime | None = None,
    commit: str | None = None,
    repo: Path | None = None,
    mde: float = 0.05,
) -> str:
    """Ingest what is new, compare and render (the ``compare skill`` command's library twin).

    Raises:
        AnalyticsError: see `compare_skill`; an unknown commit.
    """
    return render_comparison(
        load_comparison(
            skill,
            settings=settings,
            versions=versions,
            before_after=before_after,
            commit=commit,
            repo=repo,
            mde=mde,
        )
    )


def load_comparison(
    skill: str,
    *,
    settings: Any,
    versions: tuple[str, str] | None = None,
    before_after: datetime | None = None,
    commit: str | None = None,
    repo: Path | None = None,
    mde: float = 0.05,
    project: str | None = None,
) -> Comparison:
    """Ingest what is new and compare (render it, or `Comparison.to_document` it).

    Raises:
        AnalyticsError: see `compare_skill`; an unknown commit.
    """
    from ai_telemetry.report.gitlog import commit_time
    from ai_telemetry.stores import open_ingested

    if commit is not None:
        before_after = commit_time(repo or Path.cwd(), commit)
    with open_ingested(settings) as wh:
        return compare_skill(
            wh, skill, versions=versions, before_after=before_after, mde=mde, project=project
        )


__all__ = [
    "Comparison",
    "Group",
    "arm_of",
    "compare_groups",
    "compare_skill",
    "compare_skill_report",
    "load_comparison",
    "render_comparison",
    "render_sequential",
    "sequential_doc",
    "sequential_line",
]
