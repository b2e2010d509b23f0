"""The monthly learning review as Markdown, and the META_UPDATER prompt filled with it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ai_telemetry.report.escape import markdown_inline, terminal
from ai_telemetry.report.review import SEED_PROMPT, CoverageGap, LearningReview, ReviewOptions
from ai_telemetry.report.sources import Learning, percent

# Every value from the log or the learning files goes through `cell` (Markdown-escaped, one
# line), in tables and in list items alike; inside the prompt's ```text block through
# `terminal` (one line, so it cannot close the fence; Markdown escapes would show there).
cell = markdown_inline


def _days(since: datetime, now: datetime) -> int:
    return max(0, (now.replace(tzinfo=None) - since).days)


def _ids(ids: list[str], limit: int = 6, *, esc: Callable[[object], str] = cell) -> str:
    shown = ", ".join(esc(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _describe(lrn: Learning) -> str:
    title = f' "{cell(lrn.title)}"' if lrn.title else ""
    state = "open" if lrn.is_open else "implemented"
    return f"{cell(lrn.id)}{title} ({cell(lrn.severity)}, {state})"


def _summary(review: LearningReview) -> list[str]:
    n = len(review.learnings)
    sev = Counter(lrn.severity for lrn in review.learnings)
    open_ = sum(1 for lrn in review.learnings if lrn.is_open)
    parts = ", ".join(f"{sev[k]} {cell(k)}" for k in ("critical", "warning", "info") if sev[k])
    lines = [
        f"Generated {review.generated_at:%Y-%m-%d %H:%M} UTC from the telemetry log and the "
        "learning entries on disk.",
        "",
        f"- Learning entries created in {review.month}: **{n}**"
        + (f" ({parts}); {n - open_} implemented, {open_} still open." if n else "."),
        f"- Incidents opened in {review.month}: **{len(review.incidents)}**.",
    ]
    if n:
        lines.append(
            f"- Entry files found for {review.with_text} of {n} learnings; the others are "
            "grouped by their tags and skill only."
        )
    return lines


def _themes(review: LearningReview) -> list[str]:
    top = review.options.top_themes
    lines = [
        f"## 1. Top {top} recurring themes",
        "",
        "A theme is a group of learnings with similar words and tags (TF-IDF and cosine "
        "similarity); it recurs when it holds two entries or more. `#name` is a tag.",
        "",
    ]
    if not review.themes:
        lines.append(f"No theme recurs in {review.month}: every learning stands on its own.")
        return lines
    if len(review.themes) < top:
        lines.append(f"Only {len(review.themes)} theme(s) recur this month.")
        lines.append("")
    lines += ["| # | Theme | Learnings | Critical | Still open |", "|---|---|---|---|---|"]
    for n, theme in enumerate(review.themes, start=1):
        members = [review.by_id[i] for i in theme.ids]
        crit = sum(1 for m in members if m.severity == "critical")
        open_ = sum(1 for m in members if m.is_open)
        lines.append(f"| {n} | {cell(theme.label)} | {len(members)} | {crit} | {open_} |")
    for n, theme in enumerate(review.themes, start=1):
        lines += ["", f"**Theme {n}: {cell(theme.label)}**", ""]
        lines += [f"- {_describe(review.by_id[i])}" for i in theme.ids]
    return lines


def _critical(review: LearningReview) -> list[str]:
    lines = ["## 2. Critical learnings not yet implemented", ""]
    if not review.critical_open:
        lines.append(f"None: every critical learning of {review.month} is implemented.")
    else:
        lines += ["| Learning | Title | Skill | Created | Open for |", "|---|---|---|---|---|"]
        for lrn in review.critical_open:
            lines.append(
                f"| {cell(lrn.id)} | {cell(lrn.title or '—')} | {cell(lrn.skill or '—')} | "
                f"{lrn.created:%Y-%m-%d} | {_days(lrn.created, review.generated_at)} days |"
            )
    if review.older_critical_open:
        lines += [
            "",
            f"Also still open from before {review.month}: {len(review.older_critical_open)} "
            f"critical learning(s): {_ids(review.older_critical_open)}.",
        ]
    return lines


def _skills(review: LearningReview) -> list[str]:
    o = review.options
    lines = [
        "## 3. Skills that need updates",
        "",
        f"A skill is listed when its error rate this month is above {percent(o.error_rate)}, "
        f"when {o.min_learnings} or more learnings about it are still open, or when a critical "
        "learning about it is open.",
        "",
    ]
    if not review.skills:
        lines.append("No skill needs an update on this evidence.")
        return lines
    lines += [
        "| Skill | Runs | Success | Error rate | Learnings (open) | Why |",
        "|---|---|---|---|---|---|",
    ]
    for f in review.skills:
        s = f.stats
        runs = s.runs if s else 0
        lines.append(
            f"| {cell(f.skill)} | {runs} | {percent(s.success_rate if s else None)} | "
            f"{percent(s.error_rate if s else None)} | {len(f.learnings)} "
            f"({len(f.open_learnings)}) | {cell('; '.join(f.reasons))} |"
        )
    return lines


def _gap_row(gap: CoverageGap) -> str:
    sev = Counter(i.severity or "unknown" for i in gap.incidents)
    severity = ", ".join(f"{n} {cell(k)}" for k, n in sorted(sev.items()))
    verdict = "covered" if gap.covered else "**gap**"
    return (
        f"| {cell(gap.root_cause or '(none recorded)')} | {len(gap.incidents)} | {severity} | "
        f"{_ids(gap.learnings, 4) or '—'} | {verdict} | {cell(gap.reason)} |"
    )


def _coverage(review: LearningReview) -> list[str]:
    lines = ["## 4. Gaps in test coverage revealed by incidents", ""]
    latest, delta = review.coverage
    if latest is not None:
        change = f" ({delta:+.1f} points over the month)" if delta is not None else ""
        lines += [f"Test coverage at the end of {review.month}: {latest:.1f}%{change}.", ""]
    lines += [
        "An incident's root cause is covered when a learning about it adds a test and was "
        "implemented after the last incident of that cause; anything else is a gap.",
        "",
    ]
    if not review.incidents:
        lines.append(f"No incidents were opened in {review.month}.")
        return lines
    lines += [
        "| Root cause | Incidents | Severity | Related learnings | Test coverage | Why |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_gap_row(gap) for gap in review.gaps]
    return lines


def _prompt(review: LearningReview) -> list[str]:
    esc = terminal
    themes = "; ".join(f"{esc(t.label)} ({len(t.ids)} entries)" for t in review.themes) or "none"
    critical = _ids([lrn.id for lrn in review.critical_open], esc=esc) or "none"
    skills = (
        "; ".join(f"{esc(f.skill)} ({esc(', '.join(f.reasons))})" for f in review.skills)
        or "none flagged"
    )
    gaps = [g for g in review.gaps if not g.covered]
    gap_text = (
        "; ".join(f"{esc(g.root_cause or 'no root cause')}: {esc(g.reason)}" for g in gaps)
        or "none found"
    )
    return [
        "## Prompt for META_UPDATER",
        "",
        "Paste this into META_UPDATER to start the human-guided review (the seed's prompt, "
        "followed by what the telemetry already found):",
        "",
        "```text",
        SEED_PROMPT,
        "",
        f"Findings from the telemetry for {review.month} "
        f"({len(review.learnings)} learning entries, {len(review.incidents)} incidents):",
        f"1. Recurring themes: {themes}",
        f"2. Critical learnings not yet implemented: {critical}",
        f"3. Skills that may need updates: {skills}",
        f"4. Test-coverage gaps from incidents: {gap_text}",
        "```",
    ]


def render_review(review: LearningReview) -> str:
    """The review as a Markdown document (ends with a newline)."""
    blocks = [
        [f"# Monthly Learning Review: {review.month}", "", *_summary(review)],
        _themes(review),
        _critical(review),
        _skills(review),
        _coverage(review),
        _prompt(review),
    ]
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def review_learnings(
    month: str,
    *,
    settings: Any,
    history_dir: Path,
    now: datetime | None = None,
    options: ReviewOptions | None = None,
) -> str:
    """Ingest what is new, build the review of ``month`` and render it as Markdown.

    Raises:
        AnalyticsError: a malformed month, or the warehouse cannot be read.
    """
    from ai_telemetry.report.review import load_review

    return render_review(
        load_review(month, settings=settings, history_dir=history_dir, now=now, options=options)
    )


__all__ = ["cell", "render_review", "review_learnings"]
