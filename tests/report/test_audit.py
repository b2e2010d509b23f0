"""Quarterly skill audit: golden Markdown, git dates, decision matrix, CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from review_helpers import NOW, check_golden, git, shared_world

from ai_telemetry.cli import cli
from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.report.audit import AuditOptions, audit_skills, build_audit, parse_quarter
from ai_telemetry.report.gitlog import commit_time, last_change
from ai_telemetry.stores import open_ingested


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """Demo telemetry and a real git repository with dated skill commits."""
    return shared_world(tmp_path_factory.getbasetemp())


def _audit(world: tuple[Settings, Path], **options: float) -> dict[str, tuple[str, str]]:
    settings, repo = world
    with open_ingested(settings) as wh:
        audit = build_audit(
            wh,
            "2025-Q4",
            repo=repo,
            history_dir=repo / ".claude/History",
            now=NOW,
            options=AuditOptions(**options),  # type: ignore[arg-type]
        )
    rows = {r.skill: (r.decision, r.reason) for r in audit.rows}
    rows.update({p.pattern: (p.decision, p.reason) for p in audit.patterns})
    return rows


def test_golden_audit(world: tuple[Settings, Path]) -> None:
    """The Q4 audit matches the golden file (UPDATE_GOLDEN=1 rewrites it)."""
    settings, repo = world
    text = audit_skills(
        "2025-Q4", settings=settings, repo=repo, history_dir=repo / ".claude/History", now=NOW
    )
    check_golden("audit-2025-Q4.md", text)


def test_last_update_comes_from_git(world: tuple[Settings, Path]) -> None:
    """The skill folder's last commit date is its committer date."""
    _, repo = world
    moment = last_change(repo, ".claude/skills/code-review")
    assert datetime(2025, 3, 1, 10, tzinfo=UTC) == moment


def test_last_update_ignores_later_commits(world: tuple[Settings, Path]) -> None:
    """A commit after the audit's moment does not count as an update."""
    _, repo = world
    moment = last_change(
        repo, ".claude/skills/systematic-debugger", before=datetime(2025, 10, 1, tzinfo=UTC)
    )
    assert moment is None


def test_unused_skill_is_deprecated(world: tuple[Settings, Path]) -> None:
    """A skill folder without runs in the quarter is Deprecate, with the check to make."""
    decision, reason = _audit(world)["old-formatter"]
    assert decision == "Deprecate"
    assert "absorbed" in reason


def test_rare_skill_is_kept_as_is(world: tuple[Settings, Path]) -> None:
    """A skill used less than the high-usage threshold is Keep As-Is."""
    assert _audit(world)["legacy-migrator"][0] == "Keep As-Is"


def test_threshold_option_changes_the_decision(world: tuple[Settings, Path]) -> None:
    """Raising --high-usage above a skill's rate moves it from Keep & Enhance to Keep As-Is."""
    assert _audit(world)["docs-writer"][0] == "Keep & Enhance"
    assert _audit(world, high_usage=10.0)["docs-writer"][0] == "Keep As-Is"


def test_recurring_pattern_without_skill_is_create_new(world: tuple[Settings, Path]) -> None:
    """Learnings naming a skill that does not exist make a Create New row."""
    decision, reason = _audit(world)["skill named in learnings: rota-exporter"]
    assert decision == "Create New"
    assert "3 learnings" in reason


def test_commit_time_of_unknown_commit_is_an_error(world: tuple[Settings, Path]) -> None:
    """An unknown commit is refused with what to do."""
    _, repo = world
    with pytest.raises(AnalyticsError, match="no such commit"):
        commit_time(repo, "deadbeef")


def test_commit_time_reads_committer_date(tmp_path: Path) -> None:
    """The commit's committer date (GIT_COMMITTER_DATE) is what --commit uses."""
    git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-q", "-m", "f", date="2025-12-01T12:30:00Z")
    head = git(tmp_path, "rev-parse", "HEAD")
    assert datetime(2025, 12, 1, 12, 30, tzinfo=UTC) == commit_time(tmp_path, head)


def test_bad_quarter_is_an_error() -> None:
    """A quarter outside Q1..Q4 is refused with the form to use."""
    with pytest.raises(AnalyticsError, match="2025-Q4"):
        parse_quarter("2025-Q5")


def test_cli_audit_matches_library(
    world: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`audit skills` prints what the library renders."""
    settings, repo = world
    monkeypatch.setenv("AI_TELEMETRY_DIR", str(settings.telemetry_dir))
    result = CliRunner().invoke(
        cli,
        ["audit", "skills", "--quarter", "2025-q4", "--repo", str(repo),
         "--as-of", "2026-01-02T09:00:00Z"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = audit_skills(
        "2025-Q4", settings=settings, repo=repo, history_dir=repo / ".claude/History", now=NOW
    )
    assert expected == result.output
