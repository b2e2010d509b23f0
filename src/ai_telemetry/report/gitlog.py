"""What the audit and the comparison ask of git: when a path last changed, when a commit was made.

Both run ``git`` in the repository (``--repo``, default the working directory) and read the
committer date (``%cI``), which is what ``git log`` orders by and what a rebase refreshes.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from ai_telemetry.errors import AnalyticsError


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except FileNotFoundError:
        raise AnalyticsError("git is not installed; install it or leave out --commit") from None
    except subprocess.TimeoutExpired:
        raise AnalyticsError(f"{repo}: git did not answer within 60 s") from None


def _parse(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    return datetime.fromisoformat(text).astimezone(UTC)


def is_repository(repo: Path) -> bool:
    """Whether ``repo`` is inside a git work tree."""
    try:
        done = _git(repo, "rev-parse", "--is-inside-work-tree")
    except AnalyticsError:
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def last_change(repo: Path, path: str, *, before: datetime | None = None) -> datetime | None:
    """Committer time (UTC) of the last commit touching ``path``, or None when there is none.

    Args:
        repo: the repository.
        path: a path relative to the repository's top, e.g. ``.claude/skills/code-review``.
        before: only commits made before this moment.
    """
    args = ["log", "-1", "--format=%cI"]
    if before is not None:
        args.append(f"--before={before.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    done = _git(repo, *args, "--", path)
    if done.returncode != 0:
        return None
    return _parse(done.stdout)


def commit_time(repo: Path, revision: str) -> datetime:
    """Committer time (UTC) of ``revision``.

    Raises:
        AnalyticsError: not a git repository, or no such commit.
    """
    done = _git(repo, "show", "-s", "--format=%cI", f"{revision}^{{commit}}", "--")
    moment = _parse(done.stdout) if done.returncode == 0 else None
    if moment is None:
        raise AnalyticsError(
            f"--commit {revision}: no such commit in {repo}; give a hash from `git log` "
            "or point --repo at the repository"
        )
    return moment
