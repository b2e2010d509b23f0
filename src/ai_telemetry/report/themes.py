"""Recurring themes: learning entries grouped by their text and tags.

Each entry becomes a weighted bag of terms:

- the words of its title and body (``.claude/History/LEARN-*.md``, front matter and the
  template's boilerplate lines removed), lower-cased, stop words and words shorter than three
  letters dropped, weighted by TF-IDF (``tf * (ln((1 + N) / (1 + df)) + 1)``, scikit-learn's
  smoothed idf);
- its tags as ``#tag`` terms with weight `TAG_WEIGHT`, its skill as ``skill:name`` with weight
  `SKILL_WEIGHT` (an entry known only from the log, without a file, still has these).

Vectors are L2-normalised and compared by cosine similarity; average-linkage agglomerative
clustering merges the two most similar groups while their similarity is at least the
threshold (default `DEFAULT_THRESHOLD`). Ties break by entry order, so the result is
deterministic. A theme is named by its heaviest terms that at least two of its entries share
(a one-entry group by its own heaviest terms), and a term that looks personal (the privacy
detectors) is never used as a name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from ai_telemetry.events.privacy import detect

DEFAULT_THRESHOLD: Final = 0.25
TAG_WEIGHT: Final = 1.0
SKILL_WEIGHT: Final = 0.5
_WORD: Final = re.compile(r"[a-z][a-z0-9_-]*[a-z0-9]")
_HEADING_ID: Final = re.compile(r"^#\s+(?:LEARN-\d{4}-\d{3,}\s*:\s*)?", re.IGNORECASE)
STOP_WORDS: Final = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers him his how i if in into is it its
    itself just me more most my no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their them then there these they
    this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours one two new use used using get got make made
    need needs via per set""".split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True, slots=True)
class LearningText:
    """What a review needs of one entry's file: its title and body (never logged)."""

    id: str
    title: str
    body: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ThemeInput:
    """One learning to group: its id, text (maybe empty), tags and skill."""

    id: str
    text: str = ""
    tags: tuple[str, ...] = ()
    skill: str | None = None


@dataclass(slots=True)
class Theme:
    """A group of similar learnings."""

    ids: list[str]
    terms: list[str] = field(default_factory=list)
    """The theme's name: its heaviest shared terms (``#tag`` for tags, ``skill:name`` for the
    skill, which comes after words and tags)."""

    @property
    def label(self) -> str:
        """The terms joined for display."""
        return ", ".join(self.terms) if self.terms else "(no shared terms)"


@cache
def _template_lines() -> frozenset[str]:
    template = resources.files("ai_telemetry.collect").joinpath("learning_template.md")
    text = template.read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def parse_learning_text(text: str) -> tuple[str, str]:
    """(title, body) of an entry: the first ``#`` heading without its id, the rest without
    the front matter, section headings and the template's boilerplate lines."""
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        for end, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                lines = lines[end + 1 :]
                break
    title = ""
    body: list[str] = []
    boilerplate = _template_lines()
    for line in lines:
        stripped = line.strip()
        if not title and stripped.startswith("# "):
            title = _HEADING_ID.sub("", stripped).strip()
            continue
        if not stripped or stripped.startswith("#") or stripped in boilerplate:
            continue
        body.append(stripped)
    if title == "short title":
        title = ""
    return title, "\n".join(body)


def read_learning_texts(directory: Path) -> dict[str, LearningText]:
    """Learning id -> its title and body, for every readable ``LEARN-*.md`` in ``directory``.

    A missing folder gives an empty mapping (the review then groups by tags and skills only);
    an unreadable or malformed file is skipped (``ai-telemetry collect learnings`` reports it).
    """
    from ai_telemetry.collect.learnings import EntryError, read_front_matter

    out: dict[str, LearningText] = {}
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("LEARN-*.md")):
        try:
            text = path.read_text(encoding="utf-8")
            meta = read_front_matter(text)
        except (OSError, UnicodeDecodeError, EntryError):
            continue
        raw_id = meta.get("id", (0, ""))[1]
        if not isinstance(raw_id, str) or not raw_id or raw_id in out:
            continue
        raw_tags = meta.get("tags", (0, []))[1]
        tags = raw_tags if isinstance(raw_tags, list) else raw_tags.split(",")
        title, body = parse_learning_text(text)
        out[raw_id] = LearningText(
            raw_id, title, body, tuple(t.strip().lower() for t in tags if t.strip())
        )
    return out


def tokenize(text: str) -> list[str]:
    """Lower-cased words of at least three letters, stop words removed."""
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in STOP_WORDS]


def _vectors(items: Sequence[ThemeInput]) -> list[dict[str, float]]:
    words = [Counter(tokenize(item.text)) for item in items]
    df: Counter[str] = Counter()
    for bag in words:
        df.update(bag.keys())
    n = len(items)
    vectors: list[dict[str, float]] = []
    for item, bag in zip(items, words, strict=True):
        vec = {w: tf * (math.log((1 + n) / (1 + df[w])) + 1) for w, tf in bag.items()}
        word_norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vec = {w: v / word_norm for w, v in vec.items()}  # text counts as much as one tag
        for tag in item.tags:
            vec["#" + tag.lower()] = TAG_WEIGHT
        if item.skill:
            vec["skill:" + item.skill] = SKILL_WEIGHT
        norm = math.sqrt(sum(v * v for v in vec.values()))
        vectors.append({k: v / norm for k, v in vec.items()} if norm else {})
    return vectors


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def cluster(items: Sequence[ThemeInput], *, threshold: float = DEFAULT_THRESHOLD) -> list[Theme]:
    """Group ``items`` into themes, largest first (ties: the earliest entry first).

    Average linkage on cosine similarity, O(n^3) in the number of entries: fine for a month or
    a quarter of learnings (hundreds), not for tens of thousands.
    """
    vectors = _vectors(items)
    n = len(items)
    sim = [[_cosine(vectors[i], vectors[j]) for j in range(n)] for i in range(n)]
    groups: dict[int, list[int]] = {i: [i] for i in range(n)}
    # linkage[i][j]: average similarity of groups i and j (keys are the groups' first members)
    link = {i: {j: sim[i][j] for j in range(n) if j != i} for i in range(n)}
    while len(groups) > 1:
        best, pair = threshold, None
        for i in sorted(groups):
            for j, s in link[i].items():
                if j > i and (s > best + 1e-12 or (pair is None and s >= best)):
                    best, pair = s, (i, j)
        if pair is None:
            break
        i, j = pair
        size_i, size_j = len(groups[i]), len(groups[j])
        groups[i].extend(groups.pop(j))
        del link[j]
        for k in groups:
            if k == i:
                continue
            merged = (link[k][i] * size_i + link[k][j] * size_j) / (size_i + size_j)
            del link[k][j]
            link[k][i] = merged
            link[i][k] = merged
        link[i].pop(j, None)
    themes = [
        Theme([items[m].id for m in sorted(members)], _name(members, vectors))
        for members in groups.values()
    ]
    order = {item.id: pos for pos, item in enumerate(items)}
    themes.sort(key=lambda t: (-len(t.ids), order[t.ids[0]]))
    return themes


def _name(
    members: Iterable[int], vectors: Sequence[Mapping[str, float]], top: int = 3
) -> list[str]:
    members = list(members)
    weight: dict[str, float] = {}
    present: Counter[str] = Counter()
    for m in members:
        for term, value in vectors[m].items():
            weight[term] = weight.get(term, 0.0) + value
            present[term] += 1
    need = 2 if len(members) > 1 else 1
    ranked = sorted(
        (t for t in weight if present[t] >= need),
        key=lambda t: (t.startswith("skill:"), -weight[t], t),
    )
    return [t for t in ranked if detect(t) is None][:top]


__all__ = [
    "DEFAULT_THRESHOLD",
    "LearningText",
    "Theme",
    "ThemeInput",
    "cluster",
    "parse_learning_text",
    "read_learning_texts",
    "tokenize",
]
