"""The seed's Quarterly Skill Audit: per skill usage, success, learnings, age, and a decision.

``ai-telemetry audit skills --quarter 2025-Q4`` lists every skill known by a folder under
``.claude/skills/<name>/`` in the repository or by ``skill_execution`` / ``skill_load`` events
before the quarter's end, with:

- **usage**: executions in the quarter (METRICS.md's pairing) and per week of the quarter
  elapsed (up to the clock);
- **success rate**: success / finished executions in the quarter;
- **learnings**: learnings created in the quarter whose ``skill`` is this one (open ones too);
- **last update**: committer date of the last commit touching ``.claude/skills/<name>`` before
  the audit's moment (the quarter's end, or the clock when earlier), from ``git log``.

The decision matrix (thresholds are `AuditOptions`, all options of the command):

- **Deprecate**: no executions in the quarter ("unused"). The audit cannot see whether another
  skill absorbed the job: the reason says to check that before removing it.
- **Keep & Enhance**: high usage, at least ``high_usage`` executions per week. High value when
  success is at least ``min_success``; below it the reason says to enhance it first.
- **Keep As-Is**: used, but less than ``high_usage`` per week: specialized or for rare events.
- **Create New**: a recurring pattern without a skill: a theme of at least ``min_pattern``
  learnings of the quarter none of which names an existing skill; a root cause of at least
  ``min_pattern`` incidents in the quarter with no learning about it naming an existing skill;
  or at least ``min_pattern`` learnings naming a skill that has no folder and no runs.

Any row also notes a folder unchanged for ``stale_days`` or more.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.analyze.window import Window
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.report import gitlog, sources
from ai_telemetry.report.review_render import cell
from ai_telemetry.report.sources import Learning, percent
from ai_telemetry.report.themes import DEFAULT_THRESHOLD, cluster, read_learning_texts

if TYPE_CHECKING:
    from ai_telemetry.documents.types import AuditDocument
    from ai_telemetry.ports import Store

SKILLS_DIR: Final = Path(".claude/skills")
DECISIONS: Final = ("Keep & Enhance", "Keep As-Is", "Deprecate", "Create New")


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """Thresholds of the decision matrix (see the module docstring)."""

    high_usage: float = 5.0
    """Executions per week from which usage is high."""
    min_success: float = 0.90
    """Success rate from which a skill is of high value."""
    stale_days: int = 180
    """Days without a change to the skill's folder after which the row says so."""
    min_pattern: int = 3
    """Learnings or incidents that make a recurring pattern."""
    similarity: float = DEFAULT_THRESHOLD


@dataclass(slots=True)
class SkillRow:
    """One skill in the audit."""

    skill: str
    runs: int
    per_week: float
    success_rate: float | None
    learnings: int
    open_learnings: int
    has_folder: bool
    last_update: datetime | None
    days_since_update: int | None
    decision: str = ""
    reason: str = ""


@dataclass(slots=True)
class PatternRow:
    """A recurring pattern no skill covers (a Create New row)."""

    pattern: str
    evidence: list[str]
    reason: str
    decision: str = "Create New"


@dataclass(slots=True)
class SkillAudit:
    """Everything the quarterly audit prints."""

    quarter: str
    window: Window
    as_of: datetime
    generated_at: datetime
    weeks: float
    rows: list[SkillRow]
    patterns: list[PatternRow]
    options: AuditOptions
    git_note: str = ""
    counts: Counter[str] = field(default_factory=Counter)
    project: str | None = None
    """Only this project's events (``--project``); None: every project."""

    def to_document(self) -> AuditDocument:
        """The ``audit skills --json`` document (docs/schemas/audit-skills.json)."""
        from dataclasses import asdict

        from ai_telemetry.documents import finite, header, utc_text

        return {
            **header("audit skills"),
            "quarter": self.quarter,
            "project": self.project,
            "window": {
                "start": str(utc_text(self.window.start)),
                "end": str(utc_text(self.window.end)),
            },
            "as_of": str(utc_text(self.as_of)),
            "generated_at": str(utc_text(self.generated_at)),
            "weeks": self.weeks,
            "options": {k: float(v) for k, v in asdict(self.options).items()},
            "decisions": {d: self.counts[d] for d in DECISIONS},
            "skills": [
                {
                    "skill": r.skill,
                    "runs": r.runs,
                    "per_week": r.per_week,
                    "success_rate": finite(r.success_rate),
                    "learnings": r.learnings,
                    "open_learnings": r.open_learnings,
                    "has_folder": r.has_folder,
                    "last_update": utc_text(r.last_update),
                    "days_since_update": r.days_since_update,
                    "decision": r.decision,
                    "reason": r.reason,
                }
                for r in self.rows
            ],
            "patterns": [
                {
                    "pattern": p.pattern,
                    "evidence": list(p.evidence),
                    "decision": p.decision,
                    "reason": p.reason,
                }
                for p in self.patterns
            ],
            "note": self.git_note,
        }


def parse_quarter(text: str) -> tuple[str, Window]:
    """``YYYY-QN`` -> (label, window from the quarter's first day to the next quarter's).

    Raises:
        AnalyticsError: not ``YYYY-Q1`` .. ``YYYY-Q4``.
    """
    value = text.strip().upper()
    try:
        year_text, q_text = value.split("-Q")
        year, q = int(year_text), int(q_text)
        if not 1 <= q <= 4:
            raise ValueError(q)
    except ValueError:
        raise AnalyticsError(f"--quarter {text!r} is not a quarter; write it as 2025-Q4") from None
    start = Window.month(year, 3 * q - 2).start
    end = Window.month(year, 3 * q).end
    return f"{year:04d}-Q{q}", Window(start, end)


def _known_skills(
    store: Store, repo: Path, end: datetime, project: str | None
) -> tuple[set[str], set[str]]:
    folder = repo / SKILLS_DIR
    folders = {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()
    return folders, store.skills_seen(before=end, project=project)


def _decide(row: SkillRow, o: AuditOptions, quarter: str) -> None:
    notes: list[str] = []
    if row.runs == 0:
        row.decision = "Deprecate"
        notes.append(f"unused: no runs in {quarter}")
        notes.append("check that another skill has absorbed its job before removing it")
        if row.open_learnings:
            notes.append(f"but {row.open_learnings} open learning(s) point at it")
    elif row.per_week >= o.high_usage:
        row.decision = "Keep & Enhance"
        value = (
            f"success {percent(row.success_rate)} (high value)"
            if row.success_rate is not None and row.success_rate >= o.min_success
            else f"success {percent(row.success_rate)} is below {percent(o.min_success)}: "
            "enhance it first"
        )
        notes.append(f"high usage ({row.per_week:.1f} runs/week); {value}")
        if row.open_learnings:
            notes.append(f"fold in {row.open_learnings} open learning(s)")
    else:
        row.decision = "Keep As-Is"
        notes.append(f"low usage ({row.per_week:.1f} runs/week) but used: specialized or rare")
        if row.success_rate is not None and row.success_rate < o.min_success:
            notes.append(f"watch: success {percent(row.success_rate)}")
    if row.days_since_update is not None and row.days_since_update >= o.stale_days:
        notes.append(f"folder unchanged for {row.days_since_update} days")
    if not row.has_folder:
        notes.append("no folder under .claude/skills")
    row.reason = "; ".join(notes)


def _patterns(
    learnings: list[Learning],
    incidents: list[sources.Incident],
    existing: set[str],
    o: AuditOptions,
) -> list[PatternRow]:
    out: list[PatternRow] = []
    by_id = {lrn.id: lrn for lrn in learnings}
    for theme in cluster([lrn.theme_input() for lrn in learnings], threshold=o.similarity):
        members = [by_id[i] for i in theme.ids]
        if len(members) >= o.min_pattern and not any(m.skill in existing for m in members):
            out.append(
                PatternRow(
                    f"theme: {theme.label}",
                    theme.ids,
                    f"{len(members)} learnings share this theme and none names an existing skill",
                )
            )
    unknown = Counter(lrn.skill for lrn in learnings if lrn.skill and lrn.skill not in existing)
    for name, n in sorted(unknown.items()):
        if n >= o.min_pattern:
            ids = [lrn.id for lrn in learnings if lrn.skill == name]
            out.append(
                PatternRow(
                    f"skill named in learnings: {name}",
                    ids,
                    f"{n} learnings name skill {name}, which has no folder and no runs",
                )
            )
    causes = Counter(i.root_cause for i in incidents if i.root_cause)
    for cause, n in sorted(causes.items(), key=lambda kv: (-kv[1], kv[0])):
        if n < o.min_pattern:
            continue
        linked = {i.learning_id for i in incidents if i.root_cause == cause and i.learning_id}
        about = [lrn for lrn in learnings if lrn.id in linked or lrn.mentions(cause)]
        if any(lrn.skill in existing for lrn in about):
            continue
        out.append(
            PatternRow(
                f"root cause: {cause}",
                [i.id for i in incidents if i.root_cause == cause],
                f"{n} incidents with this root cause and no learning ties it to a skill",
            )
        )
    return out


def build_audit(
    wh: Store,
    quarter: str,
    *,
    repo: Path,
    history_dir: Path,
    now: datetime | None = None,
    options: AuditOptions | None = None,
    project: str | None = None,
) -> SkillAudit:
    """The audit of ``quarter`` (``YYYY-QN``) from an open, ingested warehouse (of
    ``project``'s events only, when given).

    Raises:
        AnalyticsError: a malformed quarter.
    """
    o = options or AuditOptions()
    label, window = parse_quarter(quarter)
    clock = (now or datetime.now(UTC)).astimezone(UTC)
    as_of = min(clock, window.end)
    start, end = window.naive()
    naive_as_of = as_of.replace(tzinfo=None)
    weeks = max((as_of - window.start).total_seconds() / (7 * 86400), 1 / 7)
    folders, seen = _known_skills(wh, repo, end, project)
    existing = folders | seen
    stats = sources.skill_stats(wh, start, end, project)
    texts = read_learning_texts(history_dir)
    history = sources.load_learnings(wh, until=end, as_of=naive_as_of, texts=texts, project=project)
    quarter_learnings = [lrn for lrn in history if lrn.created >= start]
    in_git = gitlog.is_repository(repo)
    rows: list[SkillRow] = []
    for name in sorted(existing):
        s = stats.get(name)
        about = [lrn for lrn in quarter_learnings if lrn.skill == name]
        changed = (
            gitlog.last_change(repo, f"{SKILLS_DIR.as_posix()}/{name}", before=as_of)
            if in_git and name in folders
            else None
        )
        row = SkillRow(
            skill=name,
            runs=s.runs if s else 0,
            per_week=(s.runs if s else 0) / weeks,
            success_rate=s.success_rate if s else None,
            learnings=len(about),
            open_learnings=sum(1 for lrn in about if lrn.is_open),
            has_folder=name in folders,
            last_update=changed,
            days_since_update=(as_of - changed).days if changed else None,
        )
        _decide(row, o, label)
        rows.append(row)
    opened = sources.load_incidents(wh, until=end, project=project)
    incidents = [i for i in opened if i.opened >= start]
    audit = SkillAudit(
        quarter=label,
        window=window,
        as_of=as_of,
        generated_at=clock,
        weeks=weeks,
        rows=rows,
        patterns=_patterns(quarter_learnings, incidents, existing, o),
        options=o,
        git_note="" if in_git else f"{repo} is not a git repository: last updates are unknown",
        project=project,
    )
    audit.counts.update(r.decision for r in rows)
    audit.counts.update(p.decision for p in audit.patterns)
    return audit


def render_audit(audit: SkillAudit) -> str:
    """The audit as a Markdown document (ends with a newline)."""
    o = audit.options
    last_day = audit.window.end.date().fromordinal(audit.window.end.date().toordinal() - 1)
    lines = [
        f"# Quarterly Skill Audit: {audit.quarter}",
        "",
        f"Generated {audit.generated_at:%Y-%m-%d %H:%M} UTC for {audit.window.start:%Y-%m-%d} "
        f"to {last_day:%Y-%m-%d} ({audit.weeks:.1f} weeks counted).",
        "",
        f"- High usage: {o.high_usage:g} or more runs per week. High value: success rate "
        f"{percent(o.min_success)} or more.",
        f"- Stale: the skill's folder unchanged for {o.stale_days} days or more. A pattern "
        f"recurs at {o.min_pattern} learnings or incidents.",
    ]
    if audit.git_note:
        lines.append(f"- Note: {cell(audit.git_note)}.")
    summary = ", ".join(f"{d} {audit.counts[d]}" for d in DECISIONS)
    lines += [
        f"- Decisions: {summary}.",
        "",
        "## Skills",
        "",
        "| Skill | Runs | Runs/week | Success | Learnings (open) | Last update | Decision | Why |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in audit.rows:
        updated = (
            f"{r.last_update:%Y-%m-%d} ({r.days_since_update} days ago)"
            if r.last_update is not None
            else "unknown"
        )
        lines.append(
            f"| {cell(r.skill)} | {r.runs} | {r.per_week:.1f} | {percent(r.success_rate)} | "
            f"{r.learnings} ({r.open_learnings}) | {updated} | **{r.decision}** | "
            f"{cell(r.reason)} |"
        )
    lines += ["", "## Create New: recurring patterns without a skill", ""]
    if not audit.patterns:
        lines.append("No recurring pattern lacks a skill this quarter.")
    else:
        lines += ["| Pattern | Evidence | Decision | Why |", "|---|---|---|---|"]
        for p in audit.patterns:
            shown = ", ".join(cell(e) for e in p.evidence[:5]) + (
                f" and {len(p.evidence) - 5} more" if len(p.evidence) > 5 else ""
            )
            lines.append(f"| {cell(p.pattern)} | {shown} | **{p.decision}** | {cell(p.reason)} |")
    return "\n".join(lines) + "\n"


def audit_skills(
    quarter: str,
    *,
    settings: Any,
    repo: Path,
    history_dir: Path,
    now: datetime | None = None,
    options: AuditOptions | None = None,
) -> str:
    """Ingest what is new, build the audit of ``quarter`` and render it as Markdown.

    Raises:
        AnalyticsError: a malformed quarter, or the warehouse cannot be read.
    """
    return render_audit(
        load_audit(
            quarter,
            settings=settings,
            repo=repo,
            history_dir=history_dir,
            now=now,
            options=options,
        )
    )


def load_audit(
    quarter: str,
    *,
    settings: Any,
    repo: Path,
    history_dir: Path,
    now: datetime | None = None,
    options: AuditOptions | None = None,
    project: str | None = None,
) -> SkillAudit:
    """Ingest what is new and build the audit of ``quarter`` (render it, or `to_document` it).

    Raises:
        AnalyticsError: a malformed quarter, or the warehouse cannot be read.
    """
    from ai_telemetry.stores import open_ingested

    with open_ingested(settings) as wh:
        return build_audit(
            wh,
            quarter,
            repo=repo,
            history_dir=history_dir,
            now=now,
            options=options,
            project=project,
        )


__all__ = [
    "DECISIONS",
    "AuditOptions",
    "PatternRow",
    "SkillAudit",
    "SkillRow",
    "audit_skills",
    "build_audit",
    "load_audit",
    "parse_quarter",
    "render_audit",
]
