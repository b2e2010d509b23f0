"""Skill recommendations (issue 19 §2): which skill has done best on tasks like this one?

A task is described by the folders it touches and, optionally, its kind (debug, test, review,
migrate, ...). Past tasks are the finished ``skill_execution`` runs that recorded ``folders``
(the Claude Code hook does, docs/collect/claude-code.md) and ``task_kind``:

- **similar**: a past run's weight is the Jaccard similarity of the two folder sets, each
  folder expanded to its prefixes (``src/api`` is ``src`` and ``src/api``), cubed
  (`RecommendOptions.sharpness`): the same folders count fully, a sibling under the same top
  folder (1/3, so 1/27) hardly. With ``--kind``, only runs of that kind count.
- **score**: per skill, the weighted success rate shrunk by a Beta prior of
  `RecommendOptions.prior_strength` pseudo-runs at `RecommendOptions.prior_mean` (50%: Beta(2,
  2)), so a skill seen twice does not outrank one seen fifty times on luck: evidence has to
  earn the score. Ties go to fewer rollbacks, then the shorter median duration. (Shrinking
  towards the similar runs' own rate instead, ``prior_mean=None``, ranked below the
  most-used baseline in the evaluation: with success rates of 90-99% everywhere, luck on a
  few runs then decides; docs/recommend.md.)
- **evidence**: similar runs ``n``, their weight, successes, the raw rate and its Wilson
  interval (95%), rollbacks and the median duration.
- **no recommendation** when the data cannot tell: no similar past run, the best skill has
  fewer than `RecommendOptions.min_runs` similar runs, or the best two score the same.

`evaluate` measures it offline by a time split (docs/recommend.md).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.analyze.proportions import wilson
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.ports import SkillRun

if TYPE_CHECKING:
    from ai_telemetry.documents.types import RecommendDocument

Z_95: Final = 1.959963984540054


@dataclass(frozen=True, slots=True)
class RecommendOptions:
    """How skills are ranked (see the module docstring)."""

    prior_strength: float = 4.0
    """Pseudo-runs of the prior (the success rate of all similar runs)."""
    min_runs: int = 3
    """Similar runs the best skill needs before it is recommended."""
    depth: int = 2
    """Folders kept of each given path (as the hook's ``folder_depth``)."""
    top: int = 5
    """Skills listed."""
    prior_mean: float | None = 0.5
    """Mean of the prior; None: the success rate of all similar runs."""
    sharpness: float = 3.0
    """A similar run weighs its similarity to this power (higher: exact folders matter more)."""


@dataclass(frozen=True, slots=True)
class SkillScore:
    """One skill's record on the similar past tasks."""

    skill: str
    runs: int
    weight: float
    successes: float
    success_rate: float
    score: float
    ci_low: float
    ci_high: float
    rollbacks: int
    median_duration_seconds: float | None


@dataclass(slots=True)
class Recommendation:
    """The ranking for one task, and the recommendation or why there is none."""

    folders: tuple[str, ...]
    kind: str | None
    similar_runs: int
    prior: float | None
    skills: list[SkillScore]
    recommended: str | None
    reason: str
    options: RecommendOptions = field(default_factory=RecommendOptions)
    project: str | None = None
    """Ranked from this project's runs only (``--project``); None: every project's."""

    def to_document(self) -> RecommendDocument:
        """The ``recommend --json`` document (docs/schemas/recommend.json)."""
        from ai_telemetry.documents import finite, header

        return {
            **header("recommend"),
            "project": self.project,
            "folders": list(self.folders),
            "kind": self.kind,
            "similar_runs": self.similar_runs,
            "prior_success_rate": finite(self.prior),
            "prior_strength": self.options.prior_strength,
            "min_runs": self.options.min_runs,
            "recommended": self.recommended,
            "reason": self.reason,
            "skills": [
                {
                    "skill": s.skill,
                    "runs": s.runs,
                    "weight": round(s.weight, 6),
                    "successes": round(s.successes, 6),
                    "success_rate": round(s.success_rate, 6),
                    "score": round(s.score, 6),
                    "ci_low": round(s.ci_low, 6),
                    "ci_high": round(s.ci_high, 6),
                    "rollbacks": s.rollbacks,
                    "median_duration_seconds": finite(s.median_duration_seconds),
                }
                for s in self.skills
            ],
        }


def normalize_folders(paths: Iterable[str], *, depth: int) -> tuple[str, ...]:
    """Each path as its first ``depth`` folders (``./src/api/routes/`` -> ``src/api``), sorted.

    A given path is taken as a folder (a task is described by folders, not files).

    Raises:
        AnalyticsError: a path outside the project (absolute, or climbing out with ``..``).
    """
    out: set[str] = set()
    for raw in paths:
        text = raw.strip().replace("\\", "/")
        if text.startswith(("/", "~")) or ".." in text.split("/"):
            raise AnalyticsError(
                f"--paths {raw!r}: give folders relative to the project, e.g. src/api"
            )
        parts = [p for p in text.split("/") if p and p != "."]
        out.add("/".join(parts[:depth]) if parts else ".")
    return tuple(sorted(out))


def _prefixes(folders: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for folder in folders:
        parts = folder.split("/")
        out.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(out)


class _Indexed:
    """Runs with their folder prefixes computed once (an evaluation ranks many tasks)."""

    __slots__ = ("prefixes", "runs")

    def __init__(self, runs: Sequence[SkillRun]) -> None:
        self.runs = list(runs)
        self.prefixes = [_prefixes(r.folders) for r in self.runs]


def rank(
    runs: Sequence[SkillRun] | _Indexed,
    folders: Sequence[str],
    *,
    kind: str | None = None,
    options: RecommendOptions | None = None,
) -> Recommendation:
    """Rank skills for a task touching ``folders`` (normalised) of ``kind``."""
    o = options or RecommendOptions()
    indexed = runs if isinstance(runs, _Indexed) else _Indexed(runs)
    query = _prefixes(folders)
    per_skill: dict[str, list[tuple[SkillRun, float]]] = {}
    for run, prefixes in zip(indexed.runs, indexed.prefixes, strict=True):
        if kind is not None and run.task_kind != kind:
            continue
        shared = len(query & prefixes)
        if not shared:
            continue
        weight = (shared / len(query | prefixes)) ** o.sharpness
        per_skill.setdefault(run.skill, []).append((run, weight))
    similar = sum(len(v) for v in per_skill.values())
    total_w = sum(w for v in per_skill.values() for _, w in v)
    total_s = sum(w for v in per_skill.values() for r, w in v if r.outcome == "success")
    prior = (total_s / total_w if total_w else None) if o.prior_mean is None else o.prior_mean
    scores: list[SkillScore] = []
    for skill, items in per_skill.items():
        weight = sum(w for _, w in items)
        successes = sum(w for r, w in items if r.outcome == "success")
        assert prior is not None
        score = (successes + o.prior_strength * prior) / (weight + o.prior_strength)
        low, high = wilson(successes, weight, Z_95)
        durations = [r.duration_seconds for r, _ in items if r.duration_seconds is not None]
        scores.append(
            SkillScore(
                skill=skill,
                runs=len(items),
                weight=weight,
                successes=successes,
                success_rate=successes / weight,
                score=score,
                ci_low=low,
                ci_high=high,
                rollbacks=sum(1 for r, _ in items if r.outcome == "rollback"),
                median_duration_seconds=statistics.median(durations) if durations else None,
            )
        )
    scores.sort(
        key=lambda s: (
            -round(s.score, 9),
            s.rollbacks / s.runs,
            s.median_duration_seconds if s.median_duration_seconds is not None else math.inf,
            s.skill,
        )
    )
    recommended, reason = _decide(scores, similar, kind, o)
    return Recommendation(
        folders=tuple(folders),
        kind=kind,
        similar_runs=similar,
        prior=prior,
        skills=scores[: o.top],
        recommended=recommended,
        reason=reason,
        options=o,
    )


def _decide(
    scores: list[SkillScore], similar: int, kind: str | None, o: RecommendOptions
) -> tuple[str | None, str]:
    of_kind = f" of kind {kind}" if kind else ""
    if not scores:
        return None, f"no recommendation: no past skill run{of_kind} touched these folders"
    best = scores[0]
    if best.runs < o.min_runs:
        return None, (
            f"no recommendation: {best.skill} leads on {best.runs} similar run(s); "
            f"{o.min_runs} are needed"
        )
    if len(scores) > 1 and round(scores[1].score, 9) == round(best.score, 9):
        return None, f"no recommendation: {best.skill} and {scores[1].skill} score the same"
    margin = ""
    if len(scores) > 1 and best.ci_low <= scores[1].success_rate:
        margin = f"; {scores[1].skill} is within its 95% interval"
    return best.skill, (
        f"{best.skill}: {best.success_rate:.0%} success on {best.runs} similar run(s){of_kind} "
        f"(95% CI {best.ci_low:.0%}-{best.ci_high:.0%}), shrunk score {best.score:.3f} "
        f"from {similar} similar runs{margin}"
    )


def recommend(
    paths: Sequence[str],
    *,
    settings: Any,
    kind: str | None = None,
    options: RecommendOptions | None = None,
    until: datetime | None = None,
    project: str | None = None,
) -> Recommendation:
    """Ingest what is new and rank skills for a task touching ``paths`` (``--kind``), from the
    runs of ``project`` only when given.

    Raises:
        AnalyticsError: no path, a path outside the project, or the warehouse cannot be read.
    """
    from ai_telemetry.stores import open_ingested

    o = options or RecommendOptions()
    if not paths:
        raise AnalyticsError("--paths: give at least one folder the task touches, e.g. src/api")
    folders = normalize_folders(paths, depth=o.depth)
    naive = until.replace(tzinfo=None) if until is not None and until.tzinfo else until
    with open_ingested(settings, progress=False) as store:
        runs = store.task_runs(until=naive, project=project)
    result = rank(runs, folders, kind=kind, options=o)
    result.project = project
    return result


# --- offline evaluation ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Hit rates of a time split: trained on runs before ``split``, tested on successes after."""

    split: datetime
    train_runs: int
    tested: int
    top1: float
    top3: float
    baseline_top1: float
    baseline_top3: float
    no_recommendation: int
    with_kind: bool


def evaluate(
    runs: Sequence[SkillRun],
    *,
    train_fraction: float = 0.75,
    with_kind: bool = False,
    options: RecommendOptions | None = None,
) -> Evaluation:
    """Top-1 / top-3 hit rate of the skill that then succeeded, vs the most used skills.

    The runs (oldest first) are split by time at ``train_fraction`` of them; each later
    successful run is a task (its folders, and its kind when ``with_kind``) ranked from the
    earlier runs only. A hit is its skill among the first one or three ranked. The baseline
    ranks skills by how often they ran before the split, whatever the task.

    Raises:
        AnalyticsError: too few runs to split.
    """
    from collections import Counter

    ordered = sorted(runs, key=lambda r: r.ts)
    cut = int(len(ordered) * train_fraction)
    if cut < 1 or cut >= len(ordered):
        raise AnalyticsError(f"{len(ordered)} skill runs with folders: too few to split")
    split = ordered[cut].ts
    train = [r for r in ordered if r.ts < split]
    tests = [r for r in ordered if r.ts >= split and r.outcome == "success"]
    baseline = [s for s, _ in sorted(Counter(r.skill for r in train).items(), key=_by_count)]
    indexed = _Indexed(train)
    o = options or RecommendOptions()
    hits1 = hits3 = base1 = base3 = none = 0
    for task in tests:
        ranked = rank(indexed, task.folders, kind=task.task_kind if with_kind else None, options=o)
        names = [s.skill for s in ranked.skills]
        hits1 += names[:1] == [task.skill]
        hits3 += task.skill in names[:3]
        base1 += baseline[:1] == [task.skill]
        base3 += task.skill in baseline[:3]
        none += ranked.recommended is None
    n = len(tests) or 1
    return Evaluation(
        split=split,
        train_runs=len(train),
        tested=len(tests),
        top1=hits1 / n,
        top3=hits3 / n,
        baseline_top1=base1 / n,
        baseline_top3=base3 / n,
        no_recommendation=none,
        with_kind=with_kind,
    )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


__all__ = [
    "Evaluation",
    "RecommendOptions",
    "Recommendation",
    "SkillScore",
    "evaluate",
    "normalize_folders",
    "rank",
    "recommend",
    "wilson",
]
