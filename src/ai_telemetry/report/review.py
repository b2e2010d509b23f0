"""The seed's Monthly Learning Review: four questions answered from the telemetry, in Markdown.

``ai-telemetry review learnings --month 2025-12`` answers, for the learnings created in the
month:

1. **Top recurring themes**: learnings grouped by text and tags (`ai_telemetry.report.themes`);
   a theme recurs when it holds at least two entries; the largest come first.
2. **Critical learnings not yet implemented**: ``severity: critical`` entries of the month with
   no ``learning_implemented`` before the review's clock; older open critical ones are counted.
3. **Skills that need updates**: a skill is flagged when, in the month, its error rate is above
   ``error_rate`` (the seed's Skill Error Spike threshold, 10%), or at least ``min_learnings``
   learnings about it are still open, or a critical learning about it is open.
4. **Test-coverage gaps revealed by incidents**: incidents opened in the month, grouped by root
   cause. A root cause is *covered* when a learning about it (linked by the incident's
   ``learning_id``, a tag equal to the root cause, or the root cause named in its text) is
   test-related (a tag or type with "test", "coverage" or "regression", or its text speaking
   of tests) and was implemented at or after the last incident of that cause. Anything else is a
   gap, with the reason: no root cause recorded, no learning, no test planned, test planned
   but not done, or a test that did not catch it (implemented before an incident of the cause).

The review ends with the prompt the seed gives META_UPDATER, followed by these findings.
Nothing personal is printed: ids, titles that pass the privacy detectors, themes and counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.analyze.window import Window
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.report import sources
from ai_telemetry.report.sources import Incident, Learning, SkillStats, percent
from ai_telemetry.report.themes import DEFAULT_THRESHOLD, Theme, cluster, read_learning_texts

if TYPE_CHECKING:
    from ai_telemetry.documents.types import LearningDoc, ReviewDocument
    from ai_telemetry.ports import Store

SEED_PROMPT: Final = (
    "Analyze all learning entries from the past month. Identify:\n"
    "1. Top 3 recurring themes\n"
    "2. Critical learnings not yet implemented\n"
    "3. Skills that need updates based on new patterns\n"
    "4. Gaps in test coverage revealed by incidents"
)


@dataclass(frozen=True, slots=True)
class ReviewOptions:
    """Thresholds of the review (see the module docstring)."""

    top_themes: int = 3
    error_rate: float = 0.10
    min_learnings: int = 2
    similarity: float = DEFAULT_THRESHOLD


@dataclass(slots=True)
class SkillFinding:
    """A skill that needs an update, and why."""

    skill: str
    stats: SkillStats | None
    learnings: list[str]
    open_learnings: list[str]
    reasons: list[str]


@dataclass(slots=True)
class CoverageGap:
    """Incidents of one root cause and whether a test covers it."""

    root_cause: str
    incidents: list[Incident]
    learnings: list[str]
    covered: bool
    reason: str


@dataclass(slots=True)
class LearningReview:
    """Everything the monthly review prints."""

    month: str
    window: Window
    generated_at: datetime
    learnings: list[Learning]
    themes: list[Theme]
    critical_open: list[Learning]
    older_critical_open: list[str]
    skills: list[SkillFinding]
    incidents: list[Incident]
    gaps: list[CoverageGap]
    coverage: tuple[float | None, float | None]
    options: ReviewOptions
    with_text: int = 0
    """Learnings of the month whose file was found (the others are grouped by tags and skill)."""
    by_id: dict[str, Learning] = field(default_factory=dict)
    project: str | None = None
    """Only this project's events (``--project``); None: every project."""

    def to_document(self) -> ReviewDocument:
        """The ``review learnings --json`` document (docs/schemas/review-learnings.json).

        The numbers of the Markdown review; a learning's text is never in it (only its title,
        which the privacy detectors cleared).
        """
        from dataclasses import asdict

        from ai_telemetry.documents import finite, header, utc_text

        def members(theme: Theme) -> list[Learning]:
            return [self.by_id[i] for i in theme.ids if i in self.by_id]

        latest, delta = self.coverage
        return {
            **header("review learnings"),
            "month": self.month,
            "project": self.project,
            "window": {
                "start": str(utc_text(self.window.start)),
                "end": str(utc_text(self.window.end)),
            },
            "generated_at": str(utc_text(self.generated_at)),
            "options": {k: float(v) for k, v in asdict(self.options).items()},
            "learnings": [_learning_doc(lrn) for lrn in self.learnings],
            "themes": [
                {
                    "label": t.label,
                    "learnings": list(t.ids),
                    "critical": sum(1 for m in members(t) if m.severity == "critical"),
                    "open": sum(1 for m in members(t) if m.is_open),
                }
                for t in self.themes
            ],
            "critical_open": [lrn.id for lrn in self.critical_open],
            "older_critical_open": list(self.older_critical_open),
            "skills": [
                {
                    "skill": f.skill,
                    "runs": f.stats.runs if f.stats else 0,
                    "success_rate": finite(f.stats.success_rate) if f.stats else None,
                    "error_rate": finite(f.stats.error_rate) if f.stats else None,
                    "learnings": list(f.learnings),
                    "open_learnings": list(f.open_learnings),
                    "reasons": list(f.reasons),
                }
                for f in self.skills
            ],
            "incidents": [
                {
                    "id": i.id,
                    "opened": str(utc_text(i.opened)),
                    "severity": i.severity,
                    "root_cause": i.root_cause,
                    "learning_id": i.learning_id,
                }
                for i in self.incidents
            ],
            "coverage_gaps": [
                {
                    "root_cause": g.root_cause,
                    "incidents": [i.id for i in g.incidents],
                    "learnings": list(g.learnings),
                    "covered": g.covered,
                    "reason": g.reason,
                }
                for g in self.gaps
            ],
            "coverage": {"latest_percent": finite(latest), "change_points": finite(delta)},
            "learnings_with_text": self.with_text,
        }


def _learning_doc(lrn: Learning) -> LearningDoc:
    from ai_telemetry.documents import utc_text

    return {
        "id": lrn.id,
        "title": lrn.title,
        "severity": lrn.severity,
        "source": lrn.source,
        "skill": lrn.skill,
        "type": lrn.learning_type,
        "tags": list(lrn.tags),
        "created": str(utc_text(lrn.created)),
        "implemented": utc_text(lrn.implemented),
        "open": lrn.is_open,
    }


def parse_month(text: str) -> tuple[str, Window]:
    """``YYYY-MM`` -> (label, calendar month window).

    Raises:
        AnalyticsError: not ``YYYY-MM``.
    """
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return f"{year:04d}-{month:02d}", Window.month(year, month)
    except ValueError:
        raise AnalyticsError(f"--month {text!r} is not a month; write it as 2025-12") from None


def _skill_findings(
    stats: dict[str, SkillStats], learnings: list[Learning], options: ReviewOptions
) -> list[SkillFinding]:
    names = sorted(set(stats) | {lrn.skill for lrn in learnings if lrn.skill})
    out: list[SkillFinding] = []
    for name in names:
        about = [lrn for lrn in learnings if lrn.skill == name]
        open_ = [lrn for lrn in about if lrn.is_open]
        s = stats.get(name)
        reasons: list[str] = []
        if s is not None and s.error_rate is not None and s.error_rate > options.error_rate:
            reasons.append(
                f"error rate {percent(s.error_rate, 1)} ({s.errors} errors in {s.runs} runs) is "
                f"above {percent(options.error_rate)}"
            )
        if len(open_) >= options.min_learnings:
            reasons.append(f"{len(open_)} learnings about it are still open")
        critical = [lrn.id for lrn in open_ if lrn.severity == "critical"]
        if critical:
            reasons.append(f"open critical learning {', '.join(critical)}")
        if reasons:
            out.append(
                SkillFinding(name, s, [lrn.id for lrn in about], [lrn.id for lrn in open_], reasons)
            )
    out.sort(key=lambda f: (-len(f.reasons), -(f.stats.error_rate or 0) if f.stats else 0, f.skill))
    return out


def _gaps(
    incidents: list[Incident], history: list[Learning], month_end: datetime
) -> list[CoverageGap]:
    by_cause: dict[str, list[Incident]] = {}
    for inc in incidents:
        by_cause.setdefault(inc.root_cause or "", []).append(inc)
    out: list[CoverageGap] = []
    for cause, group in sorted(by_cause.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        linked = {inc.learning_id for inc in group if inc.learning_id}
        related = [
            lrn
            for lrn in history
            if lrn.created < month_end and (lrn.id in linked or (cause and lrn.mentions(cause)))
        ]
        tests = [lrn for lrn in related if lrn.test_related]
        last = max(inc.opened for inc in group)
        done = [lrn for lrn in tests if lrn.implemented is not None]
        covered = False
        if not cause:
            reason = "no root cause recorded: the incident cannot be matched to a test"
        elif not related:
            reason = "no learning about this root cause, so no test was planned"
        elif not tests:
            reason = "learnings exist but none adds a test"
        elif not done:
            reason = "a test is planned but not yet implemented"
        elif all(lrn.implemented is not None and lrn.implemented < last for lrn in done):
            reason = "a test was added before the last incident and did not catch it"
        else:
            covered = True
            reason = "covered by an implemented test learning"
        out.append(CoverageGap(cause, group, [lrn.id for lrn in related], covered, reason))
    return out


def build_review(
    wh: Store,
    month: str,
    *,
    history_dir: Path,
    now: datetime | None = None,
    options: ReviewOptions | None = None,
    project: str | None = None,
) -> LearningReview:
    """The monthly review of ``month`` (``YYYY-MM``) from an open, ingested warehouse (of
    ``project``'s events only, when given).

    Args:
        wh: an open, ingested `ai_telemetry.ports.Store`.
        month: the month, ``YYYY-MM``.
        history_dir: the folder of ``LEARN-*.md`` files (titles and text for the themes).
        now: the clock: implementation status is as of this moment.
        options: thresholds.

    Raises:
        AnalyticsError: a malformed month.
    """
    opts = options or ReviewOptions()
    label, window = parse_month(month)
    clock = (now or datetime.now(UTC)).astimezone(UTC)
    start, end = window.naive()
    as_of = clock.replace(tzinfo=None)
    texts = read_learning_texts(history_dir)
    history = sources.load_learnings(wh, until=end, as_of=as_of, texts=texts, project=project)
    month_learnings = [lrn for lrn in history if lrn.created >= start]
    themes = cluster([lrn.theme_input() for lrn in month_learnings], threshold=opts.similarity)
    recurring = [t for t in themes if len(t.ids) >= 2][: opts.top_themes]
    critical = [lrn for lrn in month_learnings if lrn.severity == "critical" and lrn.is_open]
    older = [
        lrn.id
        for lrn in history
        if lrn.created < start and lrn.severity == "critical" and lrn.is_open
    ]
    stats = sources.skill_stats(wh, start, end, project)
    opened = sources.load_incidents(wh, until=end, project=project)
    incidents = [i for i in opened if i.opened >= start]
    return LearningReview(
        month=label,
        window=window,
        generated_at=clock,
        learnings=month_learnings,
        themes=recurring,
        critical_open=critical,
        older_critical_open=older,
        skills=_skill_findings(stats, month_learnings, opts),
        incidents=incidents,
        gaps=_gaps(incidents, history, end),
        coverage=sources.coverage_summary(wh, start, end, project),
        options=opts,
        with_text=sum(1 for lrn in month_learnings if lrn.text),
        by_id={lrn.id: lrn for lrn in history},
        project=project,
    )


def load_review(
    month: str,
    *,
    settings: Any,
    history_dir: Path,
    now: datetime | None = None,
    options: ReviewOptions | None = None,
    project: str | None = None,
) -> LearningReview:
    """Ingest what is new and build the review of ``month`` (render it, or `to_document` it).

    Raises:
        AnalyticsError: a malformed month, or the warehouse cannot be read.
    """
    from ai_telemetry.stores import open_store

    with open_store(settings) as wh:
        wh.ingest()
        return build_review(
            wh, month, history_dir=history_dir, now=now, options=options, project=project
        )


__all__ = [
    "SEED_PROMPT",
    "CoverageGap",
    "LearningReview",
    "ReviewOptions",
    "SkillFinding",
    "build_review",
    "load_review",
    "parse_month",
]
