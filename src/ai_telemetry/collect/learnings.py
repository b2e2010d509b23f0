"""Learning entries: ``.claude/History/LEARN-*.md`` into ``learning_created`` / ``_implemented``.

An entry is Markdown with front matter between ``---`` lines (see ``learning_template.md``,
the seed's LEARNING_ENTRY_TEMPLATE): ``id`` (``LEARN-YYYY-NNN``), ``date``, ``type``,
``severity`` (critical, warning, info), ``source`` (incident, observation, experiment,
user_feedback, code_review), ``status``, and optionally ``skill``, ``tags``, ``implemented``
(a date), ``pr`` and ``commit``. The front matter is a small YAML subset: ``key: value``
lines, ``# comments``, quoted strings, and lists as ``[a, b]`` or ``- item`` lines.

Only front-matter fields reach the log; the text of the entry never does. Each entry yields a
``learning_created`` event at its ``date`` (a bare date is midnight UTC; a time without an
offset is taken as UTC); a ``status: implemented`` entry also yields ``learning_implemented``
at its ``implemented`` date (else its ``date``) with ``pr`` / ``commit_hash`` when given.
Event ids derive from the learning id, shared with the git collector, so re-scanning adds
nothing. A malformed entry is reported with its path and line, and skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ai_telemetry.collect.idempotent import collector_lock, drop_logged, stable_event_id
from ai_telemetry.config import Settings
from ai_telemetry.errors import CollectorError
from ai_telemetry.events.schema import LEARNING_SOURCES, SEVERITIES, format_timestamp

DEFAULT_DIR: Final = Path(".claude/History")
ID_PATTERN: Final = re.compile(r"LEARN-(\d{4})-(\d{3,})")
_KEY_LINE: Final = re.compile(r"([A-Za-z_][\w-]*)\s*:(.*)")
_PR_NUMBER: Final = re.compile(r"(?:^#?|/pull/)(\d+)/?$")
_HEX: Final = re.compile(r"[0-9a-fA-F]{7,64}")


class EntryError(Exception):
    """One malformed entry: where (line) and what."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class LearningEntry:
    """The front matter of one entry, checked. The entry's text is not kept."""

    path: Path
    id: str
    created: str
    severity: str
    source: str
    status: str
    learning_type: str | None = None
    skill: str | None = None
    tags: tuple[str, ...] = ()
    implemented: str | None = None
    pr: int | None = None
    commit: str | None = None

    def events(self) -> list[dict[str, Any]]:
        """``learning_created``, plus ``learning_implemented`` when the status says so."""
        created: dict[str, Any] = {
            "timestamp": self.created,
            "event_type": "learning_created",
            "event_id": stable_event_id("learning_created", self.id),
            "id": self.id,
            "severity": self.severity,
            "source": self.source,
        }
        for key, value in (
            ("learning_type", self.learning_type),
            ("skill", self.skill),
            ("tags", ",".join(self.tags) or None),
        ):
            if value:
                created[key] = value
        out = [created]
        if self.status == "implemented":
            done: dict[str, Any] = {
                "timestamp": self.implemented or self.created,
                "event_type": "learning_implemented",
                "event_id": stable_event_id("learning_implemented", self.id),
                "id": self.id,
            }
            if self.pr is not None:
                done["pr"] = self.pr
            if self.commit:
                done["commit_hash"] = self.commit
            out.append(done)
        return out


@dataclass(frozen=True, slots=True)
class LearningCollection:
    """What one `collect_learnings` call did."""

    entries: int
    written: int
    already_logged: int
    problems: list[str] = field(default_factory=list)
    """``path:line: what is wrong`` for each skipped file."""


# --- parsing ------------------------------------------------------------------------------


def _scalar(text: str) -> str:
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    hash_at = value.find(" #")
    return value[:hash_at].rstrip() if hash_at >= 0 else value


def _value(text: str) -> str | list[str]:
    value = _scalar(text)
    if value.startswith("[") and value.endswith("]"):
        return [_scalar(item) for item in value[1:-1].split(",") if _scalar(item)]
    return value


def read_front_matter(text: str) -> dict[str, tuple[int, str | list[str]]]:
    """The front matter's keys -> (line number, value).

    Raises:
        EntryError: no front matter, not closed, or a line that is not ``key: value``.
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise EntryError(1, "no front matter: the first line must be ---")
    out: dict[str, tuple[int, str | list[str]]] = {}
    last_key: str | None = None
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if stripped == "---":
            return out
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("- ") and last_key is not None:
            line_no, current = out[last_key]
            items = current if isinstance(current, list) else ([current] if current else [])
            out[last_key] = (line_no, [*items, _scalar(stripped[2:])])
            continue
        match = _KEY_LINE.fullmatch(stripped)
        if match is None:
            raise EntryError(number, f"expected 'key: value', got {stripped[:40]!r}")
        last_key = match.group(1).lower()
        out[last_key] = (number, _value(match.group(2)))
    raise EntryError(len(lines), "front matter is not closed: add a --- line after it")


def _moment(line: int, key: str, value: str) -> str:
    text = value.strip()
    try:
        if len(text) == 10:
            return format_timestamp(
                datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            )
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise EntryError(line, f"{key}: {text!r} is not a date; write YYYY-MM-DD") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_timestamp(moment)


def parse_entry(path: Path, text: str) -> LearningEntry:
    """Check one entry's front matter.

    Raises:
        EntryError: with the line of the offending key (or of the front matter's start).
    """
    meta = read_front_matter(text)

    def need(key: str) -> tuple[int, str]:
        if key not in meta:
            raise EntryError(1, f"{key} is missing from the front matter")
        line, value = meta[key]
        if not isinstance(value, str) or not value:
            raise EntryError(line, f"{key} must be a single non-empty value")
        return line, value

    def optional(key: str) -> tuple[int, str | None]:
        line, value = meta.get(key, (0, ""))
        if isinstance(value, list):
            raise EntryError(line, f"{key} must be a single value, not a list")
        return line, value or None

    line, learning_id = need("id")
    if not ID_PATTERN.fullmatch(learning_id):
        raise EntryError(line, f"id {learning_id!r} is not LEARN-YYYY-NNN")
    line, raw_date = need("date")
    created = _moment(line, "date", raw_date)
    line, severity = need("severity")
    if severity.lower() not in SEVERITIES:
        raise EntryError(line, f"severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    line, source = need("source")
    if source.lower() not in LEARNING_SOURCES:
        raise EntryError(line, f"source {source!r}; use one of {', '.join(LEARNING_SOURCES)}")
    _, status = optional("status")
    _, learning_type = optional("type")
    _, skill = optional("skill")
    _, tags = meta.get("tags", (0, []))
    tag_list = tags if isinstance(tags, list) else [t.strip() for t in tags.split(",")]
    line, implemented = optional("implemented")
    implemented_at = _moment(line, "implemented", implemented) if implemented else None
    line, pr_text = optional("pr")
    pr = None
    if pr_text:
        pr_match = _PR_NUMBER.search(pr_text.strip())
        if pr_match is None:
            raise EntryError(line, f"pr {pr_text!r} is not a pull request number")
        pr = int(pr_match.group(1))
    line, commit = optional("commit")
    if commit and not _HEX.fullmatch(commit):
        raise EntryError(line, f"commit {commit!r} is not a commit hash")
    return LearningEntry(
        path=path,
        id=learning_id,
        created=created,
        severity=severity.lower(),
        source=source.lower(),
        status=(status or "open").lower(),
        learning_type=learning_type,
        skill=skill,
        tags=tuple(t for t in tag_list if t),
        implemented=implemented_at,
        pr=pr,
        commit=commit.lower() if commit else None,
    )


def scan_entries(directory: Path) -> Iterator[LearningEntry | str]:
    """Each ``LEARN-*.md`` of ``directory``, sorted: an entry, or ``path:line: problem``.

    Raises:
        CollectorError: the directory does not exist.
    """
    if not directory.is_dir():
        raise CollectorError(
            f"{directory}: no such folder; learning entries live in .claude/History "
            f"(create one with `ai-telemetry learning new`)"
        )
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("LEARN-*.md")):
        try:
            text = path.read_text(encoding="utf-8")
            entry = parse_entry(path, text)
        except EntryError as exc:
            yield f"{path}:{exc.line}: {exc}"
            continue
        except (OSError, UnicodeDecodeError) as exc:
            yield f"{path}:1: cannot read ({exc})"
            continue
        if entry.id in seen:
            yield f"{path}:1: id {entry.id} is also used by {seen[entry.id].name}"
            continue
        seen[entry.id] = path
        yield entry


def collect_learnings(directory: Path, *, settings: Settings) -> LearningCollection:
    """Record every well-formed entry of ``directory`` not yet in the log.

    Raises:
        CollectorError: the directory does not exist.
        LogError: the log cannot be written.
    """
    from ai_telemetry.log.sink import append_events

    entries: list[LearningEntry] = []
    problems: list[str] = []
    for item in scan_entries(directory):
        if isinstance(item, str):
            problems.append(item)
        else:
            entries.append(item)
    events = [event for entry in entries for event in entry.events()]
    with collector_lock(settings.telemetry_dir):
        fresh = drop_logged(events, settings.log_path)
        report = append_events(fresh, settings=settings) if fresh else None
    if report is not None:
        problems.extend(f"{fresh[i].get('id')}: {reason}" for i, reason in report.rejected)
    written = report.written if report is not None else 0
    return LearningCollection(len(entries), written, len(events) - len(fresh), problems)


# --- new entries --------------------------------------------------------------------------


def next_learning_id(directory: Path, *, year: int) -> str:
    """The next free ``LEARN-<year>-NNN`` among the file names and ids in ``directory``."""
    highest = 0
    if directory.is_dir():
        for path in directory.glob("LEARN-*.md"):
            names = [path.name]
            with contextlib.suppress(OSError):
                names.append(path.read_text(encoding="utf-8", errors="replace")[:2000])
            for text in names:
                for match in ID_PATTERN.finditer(text):
                    if int(match.group(1)) == year:
                        highest = max(highest, int(match.group(2)))
    return f"LEARN-{year}-{highest + 1:03d}"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50].rstrip("-")


def render_entry(
    learning_id: str,
    *,
    today: date,
    severity: str,
    source: str,
    learning_type: str,
    skill: str | None,
    title: str | None,
) -> str:
    """A new entry's text from the template."""
    template = resources.files("ai_telemetry.collect").joinpath("learning_template.md")
    text = template.read_text(encoding="utf-8")
    for marker, value in (
        ("@ID@", learning_id),
        ("@DATE@", today.isoformat()),
        ("@TYPE@", learning_type),
        ("@SEVERITY@", severity),
        ("@SOURCE@", source),
        ("@SKILL@", skill or ""),
        ("@TITLE@", title or "short title"),
    ):
        text = text.replace(marker, value)
    return text.replace("skill: \n", "skill:\n")


@contextlib.contextmanager
def _folder_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder itself while an id is chosen and its file written.

    Two ``learning new`` at the same moment would otherwise both take the next number (under
    different file names, so creating the file exclusively does not catch it). Locking the
    folder (``flock`` works on a directory) leaves no lock file in the repository.
    """
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@dataclass(frozen=True, slots=True)
class NewLearning:
    """A learning entry just written."""

    path: Path
    id: str
    title: str | None
    redacted: tuple[str, ...]
    """Fields the privacy guard replaced by a marker (``title``, ``skill``, ``type``)."""


def guard_fields(**fields: str | None) -> tuple[dict[str, str | None], tuple[str, ...]]:
    """The privacy guard on free-text fields: a value holding personal data or a secret is
    replaced by its marker (``[REDACTED:email]``, `ai_telemetry.events.privacy.marker`).

    Returns:
        The fields as they may be written, and the names of those replaced.
    """
    from ai_telemetry.events.privacy import detect, marker

    out: dict[str, str | None] = {}
    redacted: list[str] = []
    for name, value in fields.items():
        category = detect(value) if value else None
        if category is not None:
            out[name] = marker(category)
            redacted.append(name)
        else:
            out[name] = value
    return out, tuple(redacted)


def new_learning(
    directory: Path,
    *,
    severity: str = "info",
    source: str = "observation",
    skill: str | None = None,
    learning_type: str = "pattern",
    title: str | None = None,
    today: date | None = None,
) -> Path:
    """Write a new entry with the next free id; return its path (see `create_learning`)."""
    return create_learning(
        directory,
        severity=severity,
        source=source,
        skill=skill,
        learning_type=learning_type,
        title=title,
        today=today,
    ).path


def create_learning(
    directory: Path,
    *,
    severity: str = "info",
    source: str = "observation",
    skill: str | None = None,
    learning_type: str = "pattern",
    title: str | None = None,
    today: date | None = None,
) -> NewLearning:
    """Write a new entry with the next free id, through the privacy guard (`guard_fields`).

    What ``ai-telemetry learning new`` and the MCP ``log_learning`` tool call. Writers on one
    machine take turns (`_folder_lock`); a file that appears meanwhile anyway (written by hand,
    or a synced folder) makes it try the next number.

    Raises:
        CollectorError: a bad severity or source, or the folder cannot be written.
    """
    guarded, redacted = guard_fields(title=title, skill=skill, type=learning_type)
    title, skill = guarded["title"], guarded["skill"]
    learning_type = guarded["type"] or learning_type
    if severity not in SEVERITIES:
        raise CollectorError(f"severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    if source not in LEARNING_SOURCES:
        raise CollectorError(f"source {source!r}; use one of {', '.join(LEARNING_SOURCES)}")
    day = today or datetime.now(UTC).date()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _folder_lock(directory):
            for _ in range(100):  # a file written meanwhile anyway: try the next number
                learning_id = next_learning_id(directory, year=day.year)
                slug = _slug(title) if title else ""
                path = directory / (f"{learning_id}-{slug}.md" if slug else f"{learning_id}.md")
                text = render_entry(
                    learning_id,
                    today=day,
                    severity=severity,
                    source=source,
                    learning_type=learning_type,
                    skill=skill,
                    title=title,
                )
                try:
                    with path.open("x", encoding="utf-8") as f:
                        f.write(text)
                except FileExistsError:
                    continue
                return NewLearning(path, learning_id, title, redacted)
    except OSError as exc:
        raise CollectorError(f"{directory}: cannot write a learning entry ({exc})") from None
    raise CollectorError(f"{directory}: could not find a free learning id")
