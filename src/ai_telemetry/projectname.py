"""A project's name when none is configured: the git repository a directory belongs to.

Kept apart (only `pathlib`) so the hook's `load_settings` can name the project without importing
a collector.
"""

from __future__ import annotations

import re
from pathlib import Path

_VALID = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/@+-]{0,127}")
"""`events.schema.MODEL_PATTERN` (a test keeps them equal): what an event's ``project`` may be."""


def project_of(cwd: str) -> str | None:
    """The project a working directory belongs to: its git repository's name, else its own.

    A linked worktree (``.git`` is a file naming ``<main>/.git/worktrees/<name>``) counts as its
    main repository. A ``cwd`` that does not exist here (transcripts from another machine) is
    named by its last component.
    """
    path = Path(cwd)
    return repository_name(path) or path.name or None


def default_project(path: Path) -> str | None:
    """The git repository's name for a project left unset, if an event may carry it, else None."""
    name = repository_name(path)
    return name if name is not None and _VALID.fullmatch(name) else None


def repository_name(path: Path) -> str | None:
    """The name of the git repository holding ``path`` (a worktree counts as its main), or None."""
    for folder in (path, *path.parents):
        marker = folder / ".git"
        try:
            if marker.is_dir():
                return folder.name or None
            if marker.is_file():
                text = marker.read_text("utf-8", errors="replace").strip()
                target = text.removeprefix("gitdir:").strip()
                parts = Path(target).parts
                if "worktrees" in parts and parts.index("worktrees") >= 2:
                    return parts[parts.index("worktrees") - 2] or folder.name
                return folder.name or None
        except OSError:
            break
    return None


__all__ = ["default_project", "project_of", "repository_name"]
