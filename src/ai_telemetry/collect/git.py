"""Git collector: skill tags and learning ids from commit messages, by hook or by backfill.

A commit message is read, never stored. From it come:

- ``commit`` events: one per distinct ``[skill:name]`` tag, in the order they appear, or one
  without ``skill`` when the message has no tag (so commits without a skill are counted too).
- ``learning_implemented`` events: one per distinct ``LEARN-YYYY-NNN`` the message mentions,
  with the ``commit_hash``.

A commit that changes a skill's definition (``.../skills/<name>/SKILL.md``, added or modified)
also names that skill, with ``skill_version`` (the file's git blob id after the commit, 12 hex
digits, as `ai_telemetry.collect.skill_version` and the hook name versions) and
``previous_skill_version`` (before it; absent for a new skill): the skill's runs then split into
before and after, and an experiment opens by itself (`ai_telemetry.analyze.sequential`).

Timestamps are the committer date, converted to UTC. Event ids derive from the content (see
`ai_telemetry.collect.idempotent`), so the post-commit hook and ``collect git --since`` can both
run over the same commits and the log still holds each event once. The ``learning_implemented``
id is keyed on the learning id alone, shared with the learnings collector: the first record of
an implementation wins, later mentions add nothing.

The hook (`install_hook`) is a small POSIX shell script that runs the hook that was there before,
then starts ``ai-telemetry collect git --hook`` in the background and exits 0: a commit never
waits for Python and never fails because of us.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ai_telemetry.collect.idempotent import collector_lock, drop_logged, stable_event_id
from ai_telemetry.config import Settings
from ai_telemetry.errors import CollectorError
from ai_telemetry.events.schema import format_timestamp, utc_now

SKILL_TAG: Final = re.compile(r"\[skill:\s*([A-Za-z0-9][A-Za-z0-9_.:/-]*)\s*\]")
"""``[skill:name]``: a name of letters, digits and ``_ . : / -``."""
LEARNING_ID: Final = re.compile(r"\bLEARN-\d{4}-\d{3,}\b")
"""``LEARN-YYYY-NNN`` (three or more digits)."""

HOOK_MARKER: Final = "# ai-telemetry post-commit hook"
CHAINED_SUFFIX: Final = ".pre-ai-telemetry"
HOOK_ERRORS_FILE: Final = "git-hook-errors.log"

_FIELD = "\x1f"
_FORMAT = "--format=%H%x1f%ct%x1f%B"


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit as the collector sees it. The message is kept in memory only."""

    hash: str
    committed_at: str
    """Committer date, RFC 3339 UTC."""
    message: str
    skill_changes: tuple[SkillChange, ...] = ()
    """The skills whose SKILL.md this commit added or changed."""


@dataclass(frozen=True, slots=True)
class SkillChange:
    """A commit's change of one skill's SKILL.md: the blob versions before and after."""

    skill: str
    previous: str | None
    """None: the commit added the skill."""
    version: str


@dataclass(frozen=True, slots=True)
class GitCollection:
    """What one run of `collect_git` did."""

    commits: int
    written: int
    already_logged: int


@dataclass(frozen=True, slots=True)
class HookInstall:
    """What `install_hook` did."""

    path: Path
    chained: Path | None
    """The earlier hook our hook now calls first, if there was one."""
    updated: bool
    """True when our hook was already there and was rewritten in place."""


def parse_message(message: str) -> tuple[list[str], list[str]]:
    """The distinct skill tags and learning ids of a commit message, in order of appearance."""
    skills = list(dict.fromkeys(m.group(1) for m in SKILL_TAG.finditer(message)))
    learnings = list(dict.fromkeys(m.group(0) for m in LEARNING_ID.finditer(message)))
    return skills, learnings


def commit_events(commit: Commit) -> list[dict[str, Any]]:
    """The events one commit yields (see the module docstring)."""
    tags, learnings = parse_message(commit.message)
    changed = {change.skill: change for change in commit.skill_changes}
    skills = list(dict.fromkeys([*tags, *changed]))
    events: list[dict[str, Any]] = []
    for skill in skills or [""]:
        event: dict[str, Any] = {
            "timestamp": commit.committed_at,
            "event_type": "commit",
            "event_id": stable_event_id("commit", commit.hash, skill or ""),
            "source": "git",
            "commit_hash": commit.hash,
        }
        if skill:
            event["skill"] = skill
        change = changed.get(skill)
        if change is not None:
            event["skill_version"] = change.version
            if change.previous is not None:
                event["previous_skill_version"] = change.previous
        events.append(event)
    events.extend(
        {
            "timestamp": commit.committed_at,
            "event_type": "learning_implemented",
            "event_id": stable_event_id("learning_implemented", learning),
            "source": "git",
            "id": learning,
            "commit_hash": commit.hash,
        }
        for learning in learnings
    )
    return events


def _utc(seconds: int) -> str:
    """Whole-second Unix time (git's resolution) as RFC 3339 UTC, e.g. 2025-03-04T04:50:30Z."""
    return format_timestamp(datetime.fromtimestamp(seconds, UTC))


def _git(repo: Path, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except OSError as exc:
        raise CollectorError(f"cannot run git ({exc.strerror or exc}); is git installed?") from None


def read_commits(
    repo: Path, *, since: str | None = None, commit: str | None = None
) -> list[Commit]:
    """Commits of ``repo``, oldest first: one ``commit``, or all since ``since`` (or all).

    Args:
        repo: any directory inside the work tree.
        since: anything ``git log --since`` accepts (``2025-01-01``, ``2 weeks ago``).
        commit: one revision (hash, ``HEAD``); takes precedence over ``since``.

    Raises:
        CollectorError: ``repo`` is not a git repository, or the revision does not exist.
    """
    if commit is not None:
        args = ["log", "-1", "-z", _FORMAT, commit, "--"]
    else:
        args = ["log", "--reverse", "-z", _FORMAT]
        if since:
            args.append(f"--since={since}")
    done = _git(repo, args)
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git log failed"
        if commit is None and "does not have any commits" in done.stderr:
            return []
        raise CollectorError(f"{repo}: {reason}; run this inside a git repository with commits")
    changes = _skill_changes(repo, commit=commit, since=since)
    commits: list[Commit] = []
    for record in done.stdout.split("\0"):
        parts = record.split(_FIELD, 2)
        if len(parts) != 3:
            continue
        commit_hash, seconds, message = parts
        commit_hash = commit_hash.strip()
        found = tuple(changes.get(commit_hash, ()))
        commits.append(Commit(commit_hash, _utc(int(seconds)), message, found))
    return commits


_NO_BLOB: Final = "0" * 40
_RAW: Final = re.compile(r":\d+ \d+ ([0-9a-f]{40}) ([0-9a-f]{40}) ([AMCRT])\d*\t(?:[^\t]*\t)?(.+)")
"""A ``git log --raw --no-abbrev`` line: old blob, new blob, status, (old path,) path."""


def _skill_changes(
    repo: Path, *, commit: str | None, since: str | None
) -> dict[str, list[SkillChange]]:
    """Per commit hash, the skills whose SKILL.md it added or changed: one more ``git log``
    over the same commits (limited to skill files when it walks history). Deletions are not
    versions."""
    from ai_telemetry.collect.skill_version import SKILL_FILE, VERSION_LENGTH

    raw_args = ["--raw", "--no-abbrev", "--format=%x1e%H"]
    if commit is not None:  # that commit only: a path filter would walk back to another one
        args = ["log", "-1", *raw_args, commit, "--"]
    else:
        since_arg = [f"--since={since}"] if since else []
        args = ["log", "--reverse", *since_arg, *raw_args, "--", ":(glob)**/skills/*/SKILL.md"]
    done = _git(repo, args)
    out: dict[str, list[SkillChange]] = {}
    if done.returncode != 0:
        return out
    for record in done.stdout.split("\x1e")[1:]:
        lines = record.strip().splitlines()
        if not lines:
            continue
        for line in lines[1:]:
            raw = _RAW.fullmatch(line.strip())
            path = raw and SKILL_FILE.search(raw.group(4).strip('"'))
            if raw is None or path is None:
                continue
            old, new = raw.group(1), raw.group(2)
            out.setdefault(lines[0].strip(), []).append(
                SkillChange(
                    path.group(1),
                    None if old == _NO_BLOB else old[:VERSION_LENGTH],
                    new[:VERSION_LENGTH],
                )
            )
    return out


def collect_git(
    repo: Path,
    *,
    settings: Settings,
    since: str | None = None,
    commit: str | None = None,
) -> GitCollection:
    """Record the commits of ``repo`` (see `read_commits`) that are not in the log yet.

    Raises:
        CollectorError: ``repo`` is not a git repository, or the revision does not exist.
        LogError: the log cannot be written.
    """
    from ai_telemetry.log.sink import append_events

    commits = read_commits(repo, since=since, commit=commit)
    events = [event for c in commits for event in commit_events(c)]
    with collector_lock(settings.telemetry_dir):
        fresh = drop_logged(events, settings.log_path)
        report = append_events(fresh, settings=settings, source="git") if fresh else None
    written = report.written if report is not None else 0
    return GitCollection(len(commits), written, len(events) - len(fresh))


def run_hook(repo: Path, *, commit: str | None, settings: Settings | None = None) -> int:
    """The post-commit hook's work: record one commit, swallow every failure, return 0.

    Args:
        repo: the work tree.
        commit: the commit to record (default ``HEAD``).
        settings: resolved settings (default: `load_settings` from the working directory).

    A failure is noted (its type only) in ``git-hook-errors.log`` in the telemetry directory,
    when that can be written; nothing is printed.
    """
    try:
        if settings is None:
            from ai_telemetry.config import load_settings

            settings = load_settings()
        if settings.enabled:
            collect_git(repo, settings=settings, commit=commit or "HEAD")
    except Exception as exc:  # a hook never breaks the commit it watches
        if settings is not None:
            try:
                from ai_telemetry.log.files import open_file

                errors = settings.telemetry_dir / HOOK_ERRORS_FILE
                with open_file(errors, "a", encoding="utf-8") as f:
                    f.write(f"{utc_now()} post-commit {type(exc).__name__}\n")
            except OSError:
                pass
    return 0


def hook_script(*, python: str | None = None) -> str:
    """The post-commit hook's text, running ``python -m ai_telemetry`` (default: this Python)."""
    interpreter = shlex.quote(python or sys.executable)
    return f"""#!/bin/sh
{HOOK_MARKER}: installed by `ai-telemetry git install-hook`; re-running that updates it.
# Runs the hook that was here before (kept as post-commit{CHAINED_SUFFIX}), then records this
# commit's [skill:name] tags and LEARN-YYYY-NNN mentions in the background. Always exits 0.
hook_dir=$(dirname -- "$0")
if [ -x "$hook_dir/post-commit{CHAINED_SUFFIX}" ]; then
    "$hook_dir/post-commit{CHAINED_SUFFIX}" "$@"
fi
commit=$(git rev-parse HEAD 2>/dev/null) || exit 0
if [ -x {interpreter} ]; then
    set -- {interpreter} -m ai_telemetry
elif command -v ai-telemetry >/dev/null 2>&1; then
    set -- ai-telemetry
else
    exit 0
fi
( "$@" collect git --hook --commit "$commit" </dev/null >/dev/null 2>&1 & )
exit 0
"""


def hooks_dir(repo: Path) -> Path:
    """The repository's hooks directory (``core.hooksPath`` when set).

    Raises:
        CollectorError: ``repo`` is not inside a git repository.
    """
    done = _git(repo, ["rev-parse", "--git-path", "hooks"])
    if done.returncode != 0:
        raise CollectorError(f"{repo}: not a git repository; run `git init` or pass --repo")
    path = Path(done.stdout.strip())
    return path if path.is_absolute() else (repo / path).resolve()


def install_hook(repo: Path, *, python: str | None = None) -> HookInstall:
    """Install (or update) our post-commit hook, keeping any hook that was there.

    An existing hook that is not ours is renamed to ``post-commit.pre-ai-telemetry`` and
    called first by ours. Running this again only rewrites our hook.

    Raises:
        CollectorError: not a git repository, or the hooks directory cannot be written.
    """
    directory = hooks_dir(repo)
    path = directory / "post-commit"
    chained = directory / ("post-commit" + CHAINED_SUFFIX)
    updated = False
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            current = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            if HOOK_MARKER in current:
                updated = True
            elif chained.exists():
                raise CollectorError(
                    f"{path} exists and so does {chained}; merge them by hand, "
                    f"then run `ai-telemetry git install-hook` again"
                )
            else:
                path.rename(chained)
        from ai_telemetry.log.files import atomic_write_text

        # 0o777 less the umask: `open`'s mode plus the execute bits a hook needs
        atomic_write_text(path, hook_script(python=python), perms=0o777)
    except OSError as exc:
        raise CollectorError(f"{path}: cannot install the hook ({exc.strerror or exc})") from None
    return HookInstall(path, chained if chained.exists() else None, updated)
