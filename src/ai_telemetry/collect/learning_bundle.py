"""Shared learnings: a versioned bundle of LEARN entries, exported from one project and imported
into another (issue 19 §3, the seed's "skill marketplace").

``ai-telemetry learnings export --output BUNDLE`` writes every well-formed ``LEARN-*.md`` of a
history folder into one JSON document (`BUNDLE_FORMAT`, `BUNDLE_VERSION`)::

    {"format": "ai-telemetry-learnings", "version": 1, "exported_at": "...Z",
     "origin": {"project": "residency-scheduler"},
     "entries": [{"id": "LEARN-2025-003", "sha256": "...", "text": "---\\nid: ...",
                  "provenance": {"project": "...", "id": "LEARN-2025-003", "exported_at": ...}}],
     "redacted": 2}

``learnings import BUNDLE`` writes each entry into the local history folder:

- **privacy guard, both ways**: every text field (each line of the entry, front matter
  included) goes through `scrub_text` on export and again on import (a bundle may come from a
  project with an older guard, or be edited by hand);
- **de-duplicated by content hash** (`content_hash`: the text with its ids and provenance
  lines taken out), so a lesson already here (written locally, or imported before, under any
  id) is skipped;
- **ids renumbered**: an imported id already used here by other content gets the next free
  ``LEARN-YYYY-NNN``; every mention of a renumbered id inside the imported texts is rewritten,
  and each imported entry keeps ``origin: PROJECT/ID`` in its front matter, so it can be
  traced back.

`export_bundle` returns bytes and `import_bundle` takes bytes, so the team server's
``GET/POST /api/learnings`` call them as they are; the CLI only reads and writes the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ai_telemetry.collect.learnings import (
    ID_PATTERN,
    EntryError,
    _folder_lock,
    _slug,
    next_learning_id,
    parse_entry,
)
from ai_telemetry.errors import CollectorError

BUNDLE_FORMAT: Final = "ai-telemetry-learnings"
BUNDLE_VERSION: Final = 1
MAX_BUNDLE_BYTES: Final = 64 * 1024 * 1024
MAX_ENTRY_CHARS: Final = 256 * 1024
_ORIGIN_LINE: Final = re.compile(r"^origin\s*:.*(?:\n|$)", re.MULTILINE)
_ID_LINE: Final = re.compile(r"^(id\s*:\s*)(\S+)\s*$", re.MULTILINE)
_WORD: Final = re.compile(r"\S+")


STRUCTURED_KEYS: Final = frozenset(
    {"id", "date", "severity", "source", "status", "implemented", "pr", "commit", "origin"}
)
"""Front-matter keys whose values `parse_entry` checks as ids, dates, enums or hashes: kept as
they are (the detectors would take a date for a schedule entry); every other line is text."""
_KEY: Final = re.compile(r"\s*([A-Za-z_][\w-]*)\s*:")


def scrub_text(text: str) -> tuple[str, int]:
    """The privacy guard on an entry's text, line by line: what it detects becomes its marker.

    The values of `STRUCTURED_KEYS` in the front matter are checked by `parse_entry` instead.

    A line the detectors flag is scrubbed word by word (a flagged word, or two neighbouring
    words that together read as a name, become ``[REDACTED:category]``); a line still flagged
    after that is replaced as a whole (fail closed).

    Returns:
        The text as it may be shared, and how many values were replaced.
    """
    from ai_telemetry.events.privacy import detect, marker

    out: list[str] = []
    removed = 0
    lines = text.split("\n")
    front_end = 0
    if lines and lines[0].strip() == "---":
        front_end = next((i for i, ln in enumerate(lines[1:], 1) if ln.strip() == "---"), 0)
    for number, line in enumerate(lines):
        key = _KEY.match(line) if number < front_end else None
        if key is not None and key.group(1).lower() in STRUCTURED_KEYS:
            out.append(line)
            continue
        prefix = line[: key.end()] if key is not None else ""
        clean, count = _scrub_line(line[len(prefix) :], detect, marker)
        out.append(prefix + clean)
        removed += count
    return "\n".join(out), removed


def _scrub_line(line: str, detect: Any, marker: Any) -> tuple[str, int]:
    if not line.strip() or detect(line) is None:
        return line, 0
    words = [(m.start(), m.end()) for m in _WORD.finditer(line)]
    alone = [detect(line[a:b]) for a, b in words]
    flagged = {i: c for i, c in enumerate(alone) if c is not None}
    for i in range(len(words) - 1):
        if alone[i] is None and alone[i + 1] is None:
            pair = detect(line[words[i][0] : words[i + 1][1]])
            if pair is not None:  # two words that only together are a name
                flagged[i] = flagged[i + 1] = pair
    pieces: list[str] = []
    last = 0
    for i, (a, b) in enumerate(words):
        pieces += [line[last:a], marker(flagged[i]) if i in flagged else line[a:b]]
        last = b
    pieces.append(line[last:])
    scrubbed = "".join(pieces)
    category = detect(scrubbed)
    if category is not None:  # still flagged: the whole line goes (fail closed)
        indent = line[: len(line) - len(line.lstrip())]
        return indent + marker(category), max(1, len(flagged))
    return scrubbed, len(flagged)


def content_hash(text: str) -> str:
    """SHA-256 of an entry's lesson: its text without ids, ``origin`` lines or line-end spaces.

    The same lesson under another id (renumbered on import) has the same hash.
    """
    body = _ORIGIN_LINE.sub("", text)
    body = ID_PATTERN.sub("LEARN-ID", body)
    lines = [line.rstrip() for line in body.strip().splitlines()]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What `export_bundle` put into the bundle."""

    data: bytes
    entries: int
    redacted: int
    problems: list[str] = field(default_factory=list)
    """``path:line: what is wrong`` for each entry left out."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What `import_bundle` did."""

    written: list[Path]
    duplicates: list[str]
    """Bundle ids whose lesson is already here (by content hash)."""
    renumbered: dict[str, str]
    """Bundle id -> the new local id, for ids already used here."""
    redacted: int
    problems: list[str] = field(default_factory=list)
    """``entry N (ID): what is wrong`` for each entry left out."""


def _now_text(now: datetime | None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def export_bundle(
    history_dir: Path, *, project: str | None = None, now: datetime | None = None
) -> ExportResult:
    """Every well-formed entry of ``history_dir`` as a bundle (UTF-8 JSON bytes).

    Raises:
        CollectorError: the folder does not exist.
    """
    import orjson

    from ai_telemetry.collect.learnings import scan_entries

    exported_at = _now_text(now)
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    redacted = 0
    for item in scan_entries(history_dir):
        if isinstance(item, str):
            problems.append(item)
            continue
        try:
            text = item.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{item.path}:1: cannot read ({exc})")
            continue
        if len(text) > MAX_ENTRY_CHARS:
            problems.append(f"{item.path}:1: longer than {MAX_ENTRY_CHARS} characters")
            continue
        clean, removed = scrub_text(text)
        redacted += removed
        entries.append(
            {
                "id": item.id,
                "sha256": content_hash(clean),
                "text": clean,
                "provenance": {
                    "project": project,
                    "id": item.id,
                    "exported_at": exported_at,
                },
            }
        )
    document = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "exported_at": exported_at,
        "origin": {"project": project},
        "entries": entries,
        "redacted": redacted,
    }
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    return ExportResult(data, len(entries), redacted, problems)


def default_project(history_dir: Path) -> str | None:
    """The repository's folder name for ``REPO/.claude/History`` (the usual layout), else None."""
    resolved = history_dir.resolve()
    if resolved.parent.name == ".claude" and resolved.parent.parent.name:
        return resolved.parent.parent.name
    return None


def write_bundle(path: Path, data: bytes) -> None:
    """Publish a bundle atomically (`ai_telemetry.log.files.atomic_write`).

    Raises:
        CollectorError: the file cannot be written; the message says where.
    """
    from ai_telemetry.log.files import atomic_write

    try:
        atomic_write(path, data, perms=0o666)  # as `open`: the umask decides
    except OSError as exc:
        raise CollectorError(f"{path}: cannot write the bundle ({exc.strerror or exc})") from None


def read_bundle(data: bytes, *, where: str = "bundle") -> list[dict[str, Any]]:
    """The entries of a bundle, its envelope checked.

    Raises:
        CollectorError: not JSON, another format, a newer version, or no entry list.
    """
    import orjson

    if len(data) > MAX_BUNDLE_BYTES:
        raise CollectorError(f"{where}: larger than {MAX_BUNDLE_BYTES // 2**20} MiB")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CollectorError(f"{where}: not a learnings bundle (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise CollectorError(
            f"{where}: not a learnings bundle (format is not {BUNDLE_FORMAT!r}); "
            "write one with `ai-telemetry learnings export`"
        )
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version:
        raise CollectorError(f"{where}: version {version!r} is not a bundle version")
    if version > BUNDLE_VERSION:
        raise CollectorError(
            f"{where}: bundle version {version} is newer than this ai-telemetry reads "
            f"({BUNDLE_VERSION}); upgrade ai-telemetry"
        )
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise CollectorError(f"{where}: 'entries' must be a list")
    origin = document.get("origin")
    project = origin.get("project") if isinstance(origin, dict) else None
    out: list[dict[str, Any]] = []
    for raw in entries:
        item = dict(raw) if isinstance(raw, dict) else {"_bad": raw}
        provenance = item.get("provenance")
        if not isinstance(provenance, dict):
            item["provenance"] = {"project": project, "id": item.get("id")}
        out.append(item)
    return out


def _origin_label(provenance: dict[str, Any], fallback_id: str) -> str:
    project = provenance.get("project")
    original = provenance.get("id")
    ident = original if isinstance(original, str) and ID_PATTERN.fullmatch(original) else None
    label = f"{project}/" if isinstance(project, str) and project else ""
    return f"{label}{ident or fallback_id}"


def _with_origin(text: str, learning_id: str, origin: str) -> str:
    """The front matter with ``id: learning_id`` followed by one ``origin:`` line."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return text
    out = [lines[0]]
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join([*out, *lines[number:]])
        if _ORIGIN_LINE.match(line):
            continue
        match = _ID_LINE.match(line)
        if match is not None:
            out += [f"{match.group(1)}{learning_id}", f"origin: {origin}"]
            continue
        out.append(line)
    return text


def _local_hashes(history_dir: Path) -> set[str]:
    hashes: set[str] = set()
    if history_dir.is_dir():
        for path in history_dir.glob("LEARN-*.md"):
            try:
                hashes.add(content_hash(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
    return hashes


def _local_ids(history_dir: Path) -> set[str]:
    ids: set[str] = set()
    if history_dir.is_dir():
        for path in history_dir.glob("LEARN-*.md"):
            match = ID_PATTERN.match(path.name)
            if match is not None:
                ids.add(match.group(0))
    return ids


def import_bundle(data: bytes, history_dir: Path, *, where: str = "bundle") -> ImportResult:
    """Write the bundle's new lessons into ``history_dir`` (see the module docstring).

    A malformed entry is reported in ``problems`` and skipped; the others are imported.

    Raises:
        CollectorError: not a bundle (`read_bundle`), or the folder cannot be written.
    """
    raw_entries = read_bundle(data, where=where)
    redacted = 0
    problems: list[str] = []
    checked: list[tuple[str, str, str]] = []  # (bundle id, clean text, origin)
    for number, item in enumerate(raw_entries, start=1):
        text = item.get("text")
        label = f"{where}: entry {number}"
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{label}: 'text' must be the entry's Markdown")
            continue
        if len(text) > MAX_ENTRY_CHARS:
            problems.append(f"{label}: longer than {MAX_ENTRY_CHARS} characters")
            continue
        clean, removed = scrub_text(text.replace("\r\n", "\n"))
        redacted += removed
        try:
            entry = parse_entry(Path(f"entry-{number}.md"), clean)
        except EntryError as exc:
            problems.append(f"{label}: line {exc.line}: {exc}")
            continue
        checked.append((entry.id, clean, _origin_label(item["provenance"], entry.id)))
    written: list[Path] = []
    duplicates: list[str] = []
    renumbered: dict[str, str] = {}
    try:
        history_dir.mkdir(parents=True, exist_ok=True)
        with _folder_lock(history_dir):
            hashes = _local_hashes(history_dir)
            taken = _local_ids(history_dir)
            fresh: list[tuple[str, str, str]] = []
            for bundle_id, text, origin in checked:
                digest = content_hash(text)
                if digest in hashes:
                    duplicates.append(bundle_id)
                    continue
                hashes.add(digest)
                fresh.append((bundle_id, text, origin))
            # choose every new id first, so cross-references between entries can be rewritten
            chosen: dict[str, str] = {}
            for bundle_id, _, _ in fresh:
                new_id = bundle_id
                if new_id in taken or new_id in chosen.values():
                    year = int(bundle_id[6:10])
                    new_id = _next_free(history_dir, year, taken | set(chosen.values()))
                    renumbered[bundle_id] = new_id
                chosen[bundle_id] = new_id
            for bundle_id, text, origin in fresh:
                new_id = chosen[bundle_id]
                body = ID_PATTERN.sub(lambda m: renumbered.get(m.group(0), m.group(0)), text)
                body = _with_origin(body, new_id, origin)
                title = _title(body)
                slug = _slug(title) if title else ""
                path = history_dir / (f"{new_id}-{slug}.md" if slug else f"{new_id}.md")
                with path.open("x", encoding="utf-8") as f:
                    f.write(body)
                taken.add(new_id)
                written.append(path)
    except FileExistsError as exc:
        raise CollectorError(f"{exc.filename}: already exists; import again") from None
    except OSError as exc:
        raise CollectorError(f"{history_dir}: cannot write learning entries ({exc})") from None
    return ImportResult(written, duplicates, renumbered, redacted, problems)


def _next_free(history_dir: Path, year: int, taken: set[str]) -> str:
    candidate = next_learning_id(history_dir, year=year)
    number = int(candidate[11:])
    while f"LEARN-{year}-{number:03d}" in taken:
        number += 1
    return f"LEARN-{year}-{number:03d}"


def _title(text: str) -> str | None:
    """The entry's ``# ID: title`` heading after the front matter (its comments are # too)."""
    lines = text.splitlines()
    end = next((i for i, ln in enumerate(lines[1:], 1) if ln.strip() == "---"), 0)
    for line in lines[end + 1 :]:
        if line.startswith("# "):
            heading = line[2:].strip()
            _, sep, rest = heading.partition(":")
            return (rest if sep and ID_PATTERN.match(heading) else heading).strip() or None
    return None


__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "ExportResult",
    "ImportResult",
    "content_hash",
    "default_project",
    "export_bundle",
    "import_bundle",
    "read_bundle",
    "scrub_text",
    "write_bundle",
]
