"""Proposals for META_UPDATER (issue 19 §4, §5) on the demo data with a frozen clock: drafted
SKILL.md files for the audit's Create New rows, and a fix proposal for an open alert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from review_helpers import NOW, check_golden, shared_world

from ai_telemetry.cli import cli
from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.report.propose_fix import load_fix_proposal, render_fix_markdown
from ai_telemetry.report.propose_skill import propose_skills, skill_name

ALERT = "anomaly|skill_duration_seconds.p50|systematic-debugger"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """Demo telemetry (weekly job run, alerts open) and a git repository with learnings."""
    return shared_world(tmp_path_factory.getbasetemp())


def _skills(world: tuple[Settings, Path], output: Path | None = None) -> object:
    settings, repo = world
    return propose_skills(
        "2025-Q4",
        settings=settings,
        repo=repo,
        history_dir=repo / ".claude/History",
        output=output,
        now=NOW,
    )


def test_golden_skill_drafts(world: tuple[Settings, Path], tmp_path: Path) -> None:
    """One SKILL.md per Create New row, matching the golden files (UPDATE_GOLDEN=1)."""
    result = _skills(world, tmp_path / "drafts")
    names = sorted(p.parent.name for p in result.written)  # type: ignore[attr-defined]
    assert [
        "export-check-patterns",
        "race-guard",
        "rota-exporter",
        "stale-cache-guard",
    ] == names
    for name in names:
        check_golden(
            f"skill-draft-{name}.md", (tmp_path / "drafts" / name / "SKILL.md").read_text()
        )


def test_a_draft_is_claude_code_skill_format(world: tuple[Settings, Path]) -> None:
    """YAML front matter with name and description, then lessons, checklist and evidence."""
    draft = next(d for d in _skills(world).drafts if d.name == "rota-exporter")  # type: ignore[attr-defined]
    head, _, body = draft.text.removeprefix("---\n").partition("\n---\n")
    assert ["name: rota-exporter", "description"] == [
        line.split(":")[0] if i else line for i, line in enumerate(head.splitlines())
    ]
    for section in ("## Lessons", "## Checklist", "## Evidence"):
        assert section in body
    assert "LEARN-2025-511" in body
    assert "- [ ] Convert to UTC in the exporter." in body


def test_drafts_are_never_installed(world: tuple[Settings, Path]) -> None:
    """--output inside .claude/skills is refused: drafts are for review."""
    _, repo = world
    with pytest.raises(AnalyticsError, match="would install the drafts"):
        _skills(world, repo / ".claude" / "skills" / "new")


def test_learning_text_goes_through_the_privacy_guard(world: tuple[Settings, Path]) -> None:
    """LEARN-2025-507's title holds an e-mail address; no draft repeats it."""
    texts = "\n".join(d.text for d in _skills(world).drafts)  # type: ignore[attr-defined]
    assert "jane.doe@example.org" not in texts


def test_skill_names() -> None:
    """Names from the pattern rows."""
    assert "stale-cache-guard" == skill_name("root cause: stale-cache")
    assert "rota-exporter" == skill_name("skill named in learnings: rota-exporter")
    assert "export-check-patterns" == skill_name("theme: #export, export, check")


def test_golden_fix_proposal(world: tuple[Settings, Path]) -> None:
    """The fix proposal for the systematic-debugger duration alert (UPDATE_GOLDEN=1)."""
    settings, repo = world
    proposal = load_fix_proposal(
        "systematic-debugger",
        settings=settings,
        repo=repo,
        history_dir=repo / ".claude/History",
        now=NOW,
    )
    assert ALERT == proposal.alert["id"]
    assert [(".claude/skills/systematic-debugger/SKILL.md", "2025-11-20")] == [
        (p, f"{t:%Y-%m-%d}" if t else None) for p, t in proposal.files
    ]
    assert proposal.limits is not None
    assert proposal.limits.lower < proposal.limits.center < proposal.limits.upper
    check_golden("fix-systematic-debugger.md", render_fix_markdown(proposal))


def test_an_unknown_alert_lists_the_open_ones(world: tuple[Settings, Path]) -> None:
    """A one-line error naming the open alerts."""
    settings, repo = world
    with pytest.raises(AnalyticsError, match="is not an open alert; open: incident_repeat"):
        load_fix_proposal("nope", settings=settings, repo=repo, history_dir=repo, now=NOW)


def test_cli_json_is_the_library_document(world: tuple[Settings, Path]) -> None:
    """propose fix --json and propose skills --json print the library's documents."""
    settings, repo = world
    env = {"AI_TELEMETRY_DIR": str(settings.telemetry_dir)}
    stamp = NOW.isoformat()
    args = ["propose", "fix", ALERT, "--repo", str(repo), "--as-of", stamp, "--json"]
    done = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert 0 == done.exit_code, done.output
    expected = load_fix_proposal(
        ALERT, settings=settings, repo=repo, history_dir=repo / ".claude/History", now=NOW
    ).to_document()
    assert json.loads(json.dumps(expected)) == json.loads(done.output)
    args = ["propose", "skills", "--quarter", "2025-Q4", "--repo", str(repo), "--as-of", stamp]
    done = CliRunner().invoke(cli, [*args, "--json"], env=env, catch_exceptions=False)
    assert 0 == done.exit_code, done.output
    document = json.loads(done.output)
    assert ("propose skills", []) == (document["command"], document["written"])
    assert 4 == len(document["drafts"])


def test_weekly_writes_fix_proposals_for_new_critical_alerts(tmp_path: Path) -> None:
    """[propose] fixes = true: one fix-*.md next to the dashboard per new critical alert."""
    from datetime import UTC, datetime

    from ai_telemetry.config import load_settings
    from ai_telemetry.demo import generate
    from ai_telemetry.log.sink import append_events
    from ai_telemetry.pipeline import run_weekly

    directory = tmp_path / "telemetry"
    directory.mkdir()
    (directory / "config.toml").write_text("[propose]\nfixes = true\n", encoding="utf-8")
    settings = load_settings(telemetry_dir=directory, environ={}, durability="write")
    end = datetime(2025, 12, 29, tzinfo=UTC)
    append_events(generate(weeks=8, seed=42, end=end).events, settings=settings, source="demo")
    run = run_weekly(settings, now=end, learnings_dir=None, notifiers={}, retention=False)
    step = next(s for s in run.steps if s.name == "proposals")
    critical = [a for a in run.opened if a.severity == "critical"]
    files = sorted(settings.dashboards_dir.glob("fix-2025-12-29-*.md"))
    assert ("ok", len(critical)) == (step.status, len(files))
    assert 1 <= len(files)
    assert files[0].read_text("utf-8").startswith("# Task for META_UPDATER: fix ")
