"""A skill's version: the git blob id of its ``SKILL.md``, shortened to 12 hex digits.

The hook and the git collector name a version the same way, so runs the hook recorded and
changes a commit recorded meet in one experiment (`ai_telemetry.analyze.sequential`): the id is
what ``git hash-object SKILL.md`` prints, whether the file is committed or not. Only the file's
hash is kept, never its contents.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Final

VERSION_LENGTH: Final = 12
"""Hex digits kept of the blob id (as git abbreviates: unique enough within one skill)."""

_SKILL_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A skill folder's name: no separators, no leading dot (never a path outside ``skills/``)."""

SKILL_FILE: Final = re.compile(r"(?:^|/)skills/([^/]+)/SKILL\.md$")
"""A path inside a repository that is a skill's definition: ``.../skills/<name>/SKILL.md``."""


def blob_version(data: bytes) -> str:
    """The version of a ``SKILL.md`` with these bytes: its git blob id, 12 hex digits."""
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()[:VERSION_LENGTH]


def skill_file(name: str, *, project: Path, home: Path | None) -> Path | None:
    """Where Claude Code reads skill ``name`` from: the project's ``.claude/skills`` first, then
    the user's ``~/.claude/skills``; None when neither has it (a plugin's skill, say)."""
    if _SKILL_NAME.fullmatch(name) is None:
        return None
    for root in (project, home):
        if root is None:
            continue
        path = root / ".claude" / "skills" / name / "SKILL.md"
        if path.is_file():
            return path
    return None


def installed_version(name: str, *, project: Path, home: Path | None) -> str | None:
    """The version of skill ``name`` as installed now, or None (not found, or unreadable)."""
    path = skill_file(name, project=project, home=home)
    if path is None:
        return None
    try:
        return blob_version(path.read_bytes())
    except OSError:
        return None
