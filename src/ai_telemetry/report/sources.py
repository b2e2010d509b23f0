"""What the review and the audit read: learnings, incidents and skill statistics.

Learnings and incidents come from the warehouse (their front-matter fields and events); the
titles and bodies of learning entries come from the files on disk (`themes.read_learning_texts`)
and never reach the log. A title is shown only when the privacy detectors find nothing in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ai_telemetry.events.privacy import detect
from ai_telemetry.report.themes import LearningText, ThemeInput

_TEST_WORD: Final = re.compile(r"\b(?:tests?|testing|regression|coverage)\b", re.IGNORECASE)
TEST_MARKERS: Final = ("test", "coverage", "regression")
"""A tag or type holding one of these makes a learning *test-related*."""


@dataclass(frozen=True, slots=True)
class Learning:
    """One learning entry as the warehouse and (when there is one) its file know it."""

    id: str
    created: datetime
    severity: str
    source: str
    skill: str | None
    learning_type: str | None
    tags: tuple[str, ...]
    implemented: datetime | None
    title: str
    """Safe to print: empty when unknown, a placeholder when it looked personal."""
    text: str
    """Title and body, for grouping and matching only (never printed)."""

    @property
    def is_open(self) -> bool:
        """Not implemented (as of the report's clock)."""
        return self.implemented is None

    @property
    def test_related(self) -> bool:
        """Its tags or type name tests, coverage or regressions, or its text speaks of them."""
        labels = [*self.tags, self.learning_type or ""]
        if any(marker in label.lower() for label in labels for marker in TEST_MARKERS):
            return True
        return bool(_TEST_WORD.search(self.text))

    def mentions(self, root_cause: str) -> bool:
        """Whether this learning is about ``root_cause`` (a tag, or the words in its text)."""
        cause = root_cause.lower()
        if cause in (t.lower() for t in self.tags):
            return True
        return bool(self.text) and cause in self.text.lower()

    def theme_input(self) -> ThemeInput:
        """This learning as input to `themes.cluster`."""
        return ThemeInput(self.id, self.text, self.tags, self.skill)


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident opened (first ``incident_opened`` event of its id)."""

    id: str
    opened: datetime
    severity: str | None
    root_cause: str | None
    learning_id: str | None


@dataclass(frozen=True, slots=True)
class SkillStats:
    """A skill's executions in a window (METRICS.md's definitions)."""

    runs: int
    success_rate: float | None
    error_rate: float | None
    errors: int


def safe_title(title: str) -> str:
    """``title``, or a placeholder when the privacy detectors find something in it."""
    if not title:
        return ""
    category = detect(title)
    if category is not None:
        return f"(title withheld: it looks like it holds {category.replace('_', ' ')})"
    return title


def load_learnings(
    con: Any,
    *,
    until: datetime,
    as_of: datetime,
    texts: Mapping[str, LearningText],
) -> list[Learning]:
    """Learnings created before ``until`` (naive UTC), implemented if so before ``as_of``."""
    rows = con.execute(
        """WITH c AS (
             SELECT learning_id, min(ts) AS created, arg_min(severity, ts) AS severity,
               arg_min(source, ts) AS source, arg_min(skill, ts) AS skill,
               arg_min(learning_type, ts) AS learning_type, arg_min(tags, ts) AS tags
             FROM events WHERE event_type = 'learning_created' AND learning_id IS NOT NULL
               AND ts < ? GROUP BY learning_id),
           i AS (
             SELECT learning_id, min(ts) AS done FROM events
             WHERE event_type = 'learning_implemented' AND learning_id IS NOT NULL AND ts < ?
             GROUP BY learning_id)
           SELECT c.*, i.done FROM c LEFT JOIN i USING (learning_id)
           ORDER BY created, learning_id""",
        [until, as_of],
    ).fetchall()
    out: list[Learning] = []
    for lid, created, severity, source, skill, ltype, tags, done in rows:
        text = texts.get(lid)
        tag_list = [t.strip().lower() for t in (tags or "").split(",") if t.strip()]
        if text is not None:
            tag_list.extend(t for t in text.tags if t not in tag_list)
        out.append(
            Learning(
                id=lid,
                created=created,
                severity=severity or "unknown",
                source=source or "unknown",
                skill=skill,
                learning_type=ltype,
                tags=tuple(tag_list),
                implemented=done,
                title=safe_title(text.title) if text else "",
                text=f"{text.title}\n{text.body}" if text else "",
            )
        )
    return out


def load_incidents(con: Any, *, until: datetime) -> list[Incident]:
    """Incidents opened before ``until`` (naive UTC), oldest first."""
    rows = con.execute(
        "SELECT incident_id, min(ts), arg_min(severity, ts), arg_min(root_cause, ts), "
        "arg_min(learning_id, ts) FROM events WHERE event_type = 'incident_opened' "
        "AND incident_id IS NOT NULL AND ts < ? GROUP BY incident_id ORDER BY 2, 1",
        [until],
    ).fetchall()
    return [Incident(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def skill_stats(con: Any, start: datetime, end: datetime) -> dict[str, SkillStats]:
    """Per skill: executions, success and error rates in ``[start, end)`` (naive UTC)."""
    from ai_telemetry.store.catalogue_sql import skill_metrics

    con.execute("CREATE OR REPLACE TEMP VIEW ev AS SELECT * FROM events")
    m = skill_metrics(con, start, end)
    runs = m["skill_invocation_total"] or {}
    success = m["skill_success_rate"] or {}
    errors = m["skill_error_rate"] or {}
    totals = m["skill_error_total"] or {}
    return {
        name: SkillStats(int(n), success.get(name), errors.get(name), int(totals.get(name, 0)))
        for name, n in sorted(runs.items())
    }


def coverage_summary(con: Any, start: datetime, end: datetime) -> tuple[float | None, float | None]:
    """(latest test coverage in the window, its change since before the window), in points."""
    from ai_telemetry.store.catalogue_sql import quality_metrics

    con.execute("CREATE OR REPLACE TEMP VIEW ev AS SELECT * FROM events")
    q = quality_metrics(con, start, end)
    return q["test_coverage_percent"], q["test_coverage_delta"]


def percent(value: float | None, digits: int = 0) -> str:
    """A rate in [0, 1] as a percent with ``digits`` decimals, or an em dash when unknown."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


__all__ = [
    "Incident",
    "Learning",
    "SkillStats",
    "coverage_summary",
    "load_incidents",
    "load_learnings",
    "percent",
    "safe_title",
    "skill_stats",
]
