"""What the review and the audit read: learnings, incidents and skill statistics.

Learnings and incidents come from the store (`ai_telemetry.ports.Store`: their front-matter
fields and events); skill statistics and coverage from the store's catalogue of the window (the
numbers of metrics.json, computed in one place); the titles and bodies of learning entries come
from the files on disk (`themes.read_learning_texts`) and never reach the log. A title is shown
only when the privacy detectors find nothing in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ai_telemetry.events.privacy import detect
from ai_telemetry.ports import Incident, Store, Window
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
    store: Store,
    *,
    until: datetime,
    as_of: datetime,
    texts: Mapping[str, LearningText],
    project: str | None = None,
) -> list[Learning]:
    """Learnings created before ``until`` (naive UTC), implemented if so before ``as_of``; of
    ``project`` only, when given."""
    out: list[Learning] = []
    for row in store.learnings(until=until, as_of=as_of, project=project):
        lid, tags = row.learning_id, row.tags
        text = texts.get(lid)
        tag_list = [t.strip().lower() for t in (tags or "").split(",") if t.strip()]
        if text is not None:
            tag_list.extend(t for t in text.tags if t not in tag_list)
        out.append(
            Learning(
                id=lid,
                created=row.created,
                severity=row.severity or "unknown",
                source=row.source or "unknown",
                skill=row.skill,
                learning_type=row.learning_type,
                tags=tuple(tag_list),
                implemented=row.implemented,
                title=safe_title(text.title) if text else "",
                text=f"{text.title}\n{text.body}" if text else "",
            )
        )
    return out


def load_incidents(store: Store, *, until: datetime, project: str | None = None) -> list[Incident]:
    """Incidents opened before ``until`` (naive UTC), oldest first."""
    return store.incidents(until=until, project=project)


def skill_stats(
    store: Store, start: datetime, end: datetime, project: str | None = None
) -> dict[str, SkillStats]:
    """Per skill: executions, success and error rates in ``[start, end)`` (naive UTC), from
    the store's catalogue of that window (and project)."""
    m = store.catalogue(Window(start, end), project=project)["metrics"]
    runs = m["skill_invocation_total"] or {}
    success = m["skill_success_rate"] or {}
    errors = m["skill_error_rate"] or {}
    totals = m["skill_error_total"] or {}
    return {
        name: SkillStats(int(n), success.get(name), errors.get(name), int(totals.get(name, 0)))
        for name, n in sorted(runs.items())
    }


def coverage_summary(
    store: Store, start: datetime, end: datetime, project: str | None = None
) -> tuple[float | None, float | None]:
    """(latest test coverage in the window, its change since before the window), in points."""
    q = store.catalogue(Window(start, end), project=project)["metrics"]
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
