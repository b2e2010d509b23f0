"""Fixed data for the review, audit and comparison tests: the demo log, real learning entries
in a real git repository with dated commits, and a few extra incidents."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_telemetry.collect.learnings import collect_learnings
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.log.sink import append_events
from ai_telemetry.pipeline import run_demo

NOW = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
"""The frozen clock of the golden files."""
GOLDEN = Path(__file__).parent / "golden"

# id, date, severity, source, skill, tags, title, root cause, action, implemented
ENTRIES: list[tuple[str, str, str, str, str, str, str, str, str, str]] = [
    (
        "LEARN-2025-501", "2025-12-03", "critical", "incident", "acgme-compliance",
        "timezone, scheduling", "Shift handoff times moved by one hour after the DST change",
        "timezone-handling: naive datetimes compared with aware ones",
        "Add a regression test for DST transitions in the rotation builder.", "",
    ),
    (
        "LEARN-2025-502", "2025-12-05", "warning", "incident", "acgme-compliance",
        "timezone", "Duty-hour totals wrong across the DST boundary",
        "timezone-handling in the duty-hour sum",
        "Normalise every shift to UTC before summing.", "2025-12-20",
    ),
    (
        "LEARN-2025-503", "2025-12-08", "info", "observation", "docs-writer",
        "docs, onboarding", "Onboarding guide misses the telemetry opt-out",
        "docs written before the opt-out existed", "Add the opt-out to the guide.", "2025-12-10",
    ),
    (
        "LEARN-2025-504", "2025-12-09", "warning", "code_review", "docs-writer",
        "docs", "API docs examples drift from the code",
        "examples are not executed", "Run the docs examples in CI.", "",
    ),
    (
        "LEARN-2025-505", "2025-12-10", "critical", "user_feedback", "test-writer",
        "flaky-fixture, testing", "Fixture shares state between tests",
        "flaky-fixture: module-level cache", "Give each test its own fixture.", "2025-12-30",
    ),
    (
        "LEARN-2025-506", "2025-12-12", "warning", "observation", "",
        "caching", "Stale cache after a schedule import",
        "stale-cache: the import does not clear it", "Clear the cache on import.", "",
    ),
    (
        "LEARN-2025-507", "2025-12-15", "info", "experiment", "",
        "export", "Ask jane.doe@example.org about the rota export",
        "unknown", "Follow up.", "",
    ),
    (
        "LEARN-2025-508", "2025-12-16", "critical", "incident", "",
        "null-rotation", "Rotation is null when a resident is on leave",
        "null-rotation", "Handle leave in the rotation builder.", "",
    ),
    (
        "LEARN-2025-509", "2025-10-14", "warning", "observation", "rota-exporter",
        "export", "Export drops night shifts", "export ignores shifts past midnight",
        "Split shifts at midnight.", "",
    ),
    (
        "LEARN-2025-510", "2025-11-12", "info", "observation", "rota-exporter",
        "export", "Export CSV header order changes between runs", "dict ordering",
        "Fix the header order.", "",
    ),
    (
        "LEARN-2025-511", "2025-12-18", "warning", "observation", "rota-exporter",
        "export", "Export writes local times instead of UTC", "export skips the UTC conversion",
        "Convert to UTC in the exporter.", "",
    ),
]  # fmt: skip

SKILL_COMMITS = {
    # folder -> committer date of its last commit
    "systematic-debugger": "2025-11-20T10:00:00Z",
    "code-review": "2025-03-01T10:00:00Z",
    "legacy-migrator": "2025-06-01T10:00:00Z",
    "old-formatter": "2025-02-01T10:00:00Z",
}


def write_entry(directory: Path, entry: tuple[str, ...]) -> Path:
    """Write one LEARN-*.md file in the template's shape."""
    lid, day, severity, source, skill, tags, title, cause, action, implemented = entry
    status = "implemented" if implemented else "open"
    extra = f"implemented: {implemented}\npr: 42\n" if implemented else ""
    text = (
        f"---\nid: {lid}\ndate: {day}\ntype: pattern\nseverity: {severity}\nsource: {source}\n"
        f"status: {status}\nskill: {skill}\ntags: [{tags}]\n{extra}---\n\n"
        f"# {lid}: {title}\n\n## Context\nWorking on the scheduler.\n\n"
        f"## What happened\n{title}.\n\n## Root cause\n{cause}\n\n"
        f"## Learning\nCheck this earlier.\n\n## Action\n{action}\n"
    )
    path = directory / f"{lid}.md"
    path.write_text(text, encoding="utf-8")
    return path


def git(repo: Path, *args: str, date: str | None = None) -> str:
    """Run git in ``repo`` (with fixed author, and dates when given)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@invalid",
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_repo(repo: Path) -> Path:
    """A git repository with learning entries and skill folders committed at set dates."""
    history = repo / ".claude" / "History"
    history.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for entry in ENTRIES:
        write_entry(history, entry)
    git(repo, "add", ".claude/History")
    git(repo, "commit", "-q", "-m", "learnings", date="2025-01-15T10:00:00Z")
    for name, date in sorted(SKILL_COMMITS.items(), key=lambda kv: kv[1]):
        folder = repo / ".claude" / "skills" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "SKILL.md").write_text(f"# {name}\nversion {date}\n", encoding="utf-8")
        git(repo, "add", str(folder.relative_to(repo)))
        git(repo, "commit", "-q", "-m", f"skill {name}", date=date)
    return repo


def extra_incidents() -> list[dict[str, Any]]:
    """Incidents the demo lacks: one linked to a learning, one without a root cause."""
    return [
        {
            "timestamp": "2025-12-11T09:00:00Z",
            "event_type": "incident_opened",
            "incident_id": "INC-2025-9001",
            "severity": "warning",
            "root_cause": "stale-cache",
            "learning_id": "LEARN-2025-506",
        },
        {
            "timestamp": "2025-12-19T09:00:00Z",
            "event_type": "incident_opened",
            "incident_id": "INC-2025-9002",
            "severity": "info",
        },
    ]


def build_world(base: Path) -> tuple[Settings, Path]:
    """Demo telemetry plus the repository's learnings and extra incidents: (settings, repo)."""
    telemetry = base / "telemetry"
    for _ in run_demo(telemetry, weeks=12, seed=42, end="2025-12-29"):
        pass
    settings = load_settings(
        telemetry_dir=telemetry, log_path=telemetry / "events.jsonl", durability="write"
    )
    repo = make_repo(base / "repo")
    collect_learnings(repo / ".claude" / "History", settings=settings)
    append_events(extra_incidents(), settings=settings, source="cli")
    return settings, repo


def check_golden(name: str, actual: str) -> None:
    """Compare with ``golden/<name>``; ``UPDATE_GOLDEN=1`` rewrites it instead."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert expected == actual


def shared_world(base_temp: Path) -> tuple[Settings, Path]:
    """`build_world` once per test session (the demo takes seconds); later calls reuse it."""
    base = base_temp / "review-world"
    telemetry, repo = base / "telemetry", base / "repo"
    if not (repo / ".git").is_dir():
        return build_world(base)
    settings = load_settings(
        telemetry_dir=telemetry, log_path=telemetry / "events.jsonl", durability="write"
    )
    return settings, repo
