"""Skill proposals (issue 19 §4, the seed's "automated skill generation from patterns"): for each
"Create New" row of the quarterly skill audit (a recurring pattern no skill covers), a drafted
``SKILL.md`` in Claude Code's skill format, for a person to review. Drafts only: they are
written to the folder given, never under ``.claude/skills`` (that would install them).

A draft has YAML front matter (``name``, ``description``) and a body with:

- **Lessons**: each learning of the pattern, its title and the "Learning" section of its entry;
- **Checklist**: the "Action" section of each learning as a step, plus a check per recurring
  root cause;
- **Evidence**: which learnings and incidents made the pattern, and why the audit flagged it.

Every text taken from a learning entry goes through the privacy guard (`scrub_text`) first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.errors import AnalyticsError

if TYPE_CHECKING:
    from ai_telemetry.documents.types import ProposeSkillsDocument
    from ai_telemetry.ports import Store
    from ai_telemetry.report.audit import PatternRow, SkillAudit
    from ai_telemetry.report.themes import LearningText

SKILLS_DIR: Final = Path(".claude/skills")
_SECTION: Final = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)
_SLUG: Final = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SkillDraft:
    """One drafted skill."""

    name: str
    description: str
    pattern: str
    evidence: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class SkillProposals:
    """The drafts for one quarter's audit."""

    quarter: str
    generated_at: datetime
    drafts: list[SkillDraft]
    written: list[Path]
    project: str | None = None
    """The project of the audit (``--project``); None: every project."""

    def to_document(self) -> ProposeSkillsDocument:
        """The ``propose skills --json`` document (docs/schemas/propose-skills.json)."""
        from ai_telemetry.documents import header, utc_text

        return {
            **header("propose skills"),
            "quarter": self.quarter,
            "project": self.project,
            "generated_at": str(utc_text(self.generated_at)),
            "drafts": [
                {
                    "name": d.name,
                    "description": d.description,
                    "pattern": d.pattern,
                    "evidence": list(d.evidence),
                    "skill_md": d.text,
                }
                for d in self.drafts
            ],
            "written": [str(p) for p in self.written],
        }


def skill_name(pattern: str) -> str:
    """A skill name for a pattern row: ``root cause: stale-cache`` -> ``stale-cache-guard``."""
    kind, _, what = pattern.partition(": ")
    words = [w for w in _SLUG.sub(" ", what.lower()).split() if w]
    seen: list[str] = []
    for word in words:
        if word not in seen:
            seen.append(word)
    base = "-".join(seen[:3]) or "recurring-pattern"
    if kind == "root cause":
        return f"{base}-guard"[:64]
    if kind == "theme":
        return f"{base}-patterns"[:64]
    return base[:64]


def read_sections(history_dir: Path) -> dict[str, dict[str, str]]:
    """Learning id -> its ``## Section`` texts (lower-cased titles), template lines left out."""
    from ai_telemetry.collect.learnings import EntryError, read_front_matter
    from ai_telemetry.report.themes import _template_lines

    boilerplate = _template_lines()
    out: dict[str, dict[str, str]] = {}
    if not history_dir.is_dir():
        return out
    for path in sorted(history_dir.glob("LEARN-*.md")):
        try:
            text = path.read_text(encoding="utf-8")
            learning_id = read_front_matter(text).get("id", (0, ""))[1]
        except (OSError, UnicodeDecodeError, EntryError):
            continue
        if not isinstance(learning_id, str) or learning_id in out:
            continue
        matches = list(_SECTION.finditer(text))
        sections: dict[str, str] = {}
        for i, match in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            lines = [
                ln.strip()
                for ln in text[match.end() : end].splitlines()
                if ln.strip() and ln.strip() not in boilerplate
            ]
            sections[match.group(1).strip().lower()] = " ".join(lines)
        out[learning_id] = sections
    return out


def _clean(text: str) -> str:
    from ai_telemetry.collect.learning_bundle import scrub_text
    from ai_telemetry.report.escape import terminal

    return " ".join(terminal(scrub_text(text)[0]).split())


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def draft_skill(
    row: PatternRow,
    *,
    quarter: str,
    learnings: dict[str, Any],
    texts: dict[str, LearningText],
    incidents: dict[str, Any],
    sections: dict[str, dict[str, str]] | None = None,
) -> SkillDraft:
    """The SKILL.md draft for one Create New row."""
    name = skill_name(row.pattern)
    ids = list(row.evidence)
    lrn_ids = [i for i in ids if i in learnings]
    inc_ids = [i for i in ids if i in incidents]
    for lrn in learnings.values():  # incidents' learnings count as lessons too
        if lrn.id not in lrn_ids and any(
            incidents[i].learning_id == lrn.id for i in inc_ids if incidents[i].learning_id
        ):
            lrn_ids.append(lrn.id)
    what = row.pattern.partition(": ")[2] or row.pattern
    description = _clean(
        f"Use when working on {what}: a recurring pattern ({len(ids)} "
        f"{'incidents' if inc_ids and not lrn_ids else 'learnings or incidents'} in {quarter}) "
        "that no skill covers yet. Applies the lessons and checklist drafted from them."
    )[:1024]
    lessons: list[str] = []
    steps: list[str] = []
    for lid in lrn_ids:
        text = texts.get(lid)
        title = _clean(text.title) if text is not None else (learnings[lid].title or lid)
        parts = (sections or {}).get(lid, {})
        lesson = _clean(parts.get("learning", ""))
        cause = _clean(parts.get("root cause", ""))
        action = _clean(parts.get("action", ""))
        line = f"- **{lid}**: {title}."
        if cause:
            line += f" Root cause: {_sentence(cause)}"
        if lesson:
            line += f" Lesson: {_sentence(lesson)}"
        lessons.append(line)
        if action and f"- [ ] {action}" not in steps:
            steps.append(f"- [ ] {action}")
    causes = sorted({incidents[i].root_cause for i in inc_ids if incidents[i].root_cause})
    steps += [f"- [ ] Check the change for {_clean(c)} before finishing." for c in causes]
    steps.append("- [ ] Add a test that fails on the mistake these lessons describe.")
    evidence = [
        f"- {lid}: learning, {learnings[lid].severity}, {learnings[lid].created:%Y-%m-%d}"
        + (", open" if learnings[lid].is_open else ", implemented")
        for lid in lrn_ids
    ]
    evidence += [
        f"- {iid}: incident, {incidents[iid].severity or 'unknown'}, "
        f"{incidents[iid].opened:%Y-%m-%d}, root cause {_clean(incidents[iid].root_cause or '?')}"
        for iid in inc_ids
    ]
    body = [
        "---",
        f"name: {name}",
        f"description: {_yaml_string(description)}",
        "---",
        "",
        f"# {name}",
        "",
        f"> DRAFT by `ai-telemetry propose skills` from the {quarter} skill audit, for a person "
        "to review. Not installed: move it to `.claude/skills/` once it says what you want.",
        "",
        f"Pattern: {_clean(row.pattern)}. {_clean(row.reason)}.",
        "",
        "## Lessons",
        "",
        *(lessons or ["- (no learning entry text: see the evidence)"]),
        "",
        "## Checklist",
        "",
        *steps,
        "",
        "## Evidence",
        "",
        *evidence,
        "",
    ]
    return SkillDraft(name, description, row.pattern, tuple(ids), "\n".join(body))


def build_proposals(audit: SkillAudit, *, wh: Store, history_dir: Path) -> list[SkillDraft]:
    """One draft per Create New row of ``audit`` (an open warehouse for the learnings)."""
    from ai_telemetry.report import sources
    from ai_telemetry.report.themes import read_learning_texts

    texts = read_learning_texts(history_dir)
    parts = read_sections(history_dir)
    until = audit.window.end.replace(tzinfo=None)
    as_of = audit.as_of.replace(tzinfo=None)
    learnings = {
        lrn.id: lrn
        for lrn in sources.load_learnings(
            wh, until=until, as_of=as_of, texts=texts, project=audit.project
        )
    }
    incidents = {i.id: i for i in sources.load_incidents(wh, until=until, project=audit.project)}
    drafts: list[SkillDraft] = []
    names: set[str] = set()
    for row in audit.patterns:
        draft = draft_skill(
            row,
            quarter=audit.quarter,
            learnings=learnings,
            texts=texts,
            incidents=incidents,
            sections=parts,
        )
        if draft.name in names:  # two rows about the same thing: keep the first
            continue
        names.add(draft.name)
        drafts.append(draft)
    return drafts


def write_drafts(drafts: list[SkillDraft], output: Path, *, repo: Path) -> list[Path]:
    """Write ``output/<name>/SKILL.md`` for each draft (atomically).

    Raises:
        AnalyticsError: ``output`` is inside the repository's ``.claude/skills`` (drafts are
            never installed), or a file cannot be written.
    """
    from ai_telemetry.report.markdown import ReportError, write_text_atomic

    target = output.resolve()
    installed = (repo / SKILLS_DIR).resolve()
    if target == installed or installed in target.parents:
        raise AnalyticsError(
            f"--output {output}: inside {SKILLS_DIR}, which would install the drafts; "
            "write them elsewhere (e.g. .claude/skill-drafts) and review them first"
        )
    written: list[Path] = []
    for draft in drafts:
        path = output / draft.name / "SKILL.md"
        try:
            write_text_atomic(draft.text, path)
        except ReportError as exc:
            raise AnalyticsError(f"{path}: cannot write the draft ({exc})") from None
        written.append(path)
    return written


def propose_skills(
    quarter: str | None,
    *,
    settings: Any,
    repo: Path,
    history_dir: Path,
    output: Path | None = None,
    now: datetime | None = None,
    project: str | None = None,
) -> SkillProposals:
    """Run the quarter's audit (default: the clock's quarter; of ``project`` only, when given)
    and draft a skill for each Create New row (written to ``output`` when given).

    Raises:
        AnalyticsError: a malformed quarter, the warehouse cannot be read, or a bad output.
    """
    from ai_telemetry.report.audit import build_audit
    from ai_telemetry.stores import open_ingested

    if quarter is None:
        from datetime import UTC

        clock = (now or datetime.now(UTC)).astimezone(UTC)
        quarter = f"{clock.year}-Q{(clock.month - 1) // 3 + 1}"
    with open_ingested(settings) as wh:
        audit = build_audit(
            wh, quarter, repo=repo, history_dir=history_dir, now=now, project=project
        )
        drafts = build_proposals(audit, wh=wh, history_dir=history_dir)
    written = write_drafts(drafts, output, repo=repo) if output is not None else []
    return SkillProposals(audit.quarter, audit.generated_at, drafts, written, project)


__all__ = [
    "SkillDraft",
    "SkillProposals",
    "build_proposals",
    "draft_skill",
    "propose_skills",
    "skill_name",
    "write_drafts",
]
