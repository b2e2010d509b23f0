"""Monthly learning review: golden Markdown on fixed data, themes, privacy, gaps, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from review_helpers import NOW, check_golden, shared_world

from ai_telemetry.cli import cli
from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError
from ai_telemetry.report.review import build_review, parse_month
from ai_telemetry.report.review_render import review_learnings
from ai_telemetry.report.themes import ThemeInput, cluster, parse_learning_text
from ai_telemetry.stores import open_ingested


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """Demo telemetry, a repository of learning entries, extra incidents."""
    return shared_world(tmp_path_factory.getbasetemp())


def _review(world: tuple[Settings, Path]) -> str:
    settings, repo = world
    return review_learnings(
        "2025-12", settings=settings, history_dir=repo / ".claude" / "History", now=NOW
    )


def test_golden_review(world: tuple[Settings, Path]) -> None:
    """The December review matches the golden file (UPDATE_GOLDEN=1 rewrites it)."""
    check_golden("review-2025-12.md", _review(world))


def test_personal_title_is_withheld(world: tuple[Settings, Path]) -> None:
    """A title holding an email address is never printed; its id still is."""
    settings, repo = world
    with open_ingested(settings) as wh:
        review = build_review(wh, "2025-12", history_dir=repo / ".claude/History", now=NOW)
    assert review.by_id["LEARN-2025-507"].title.startswith("(title withheld: it looks like")
    assert "jane.doe" not in _review(world)


def test_similar_entries_share_a_theme() -> None:
    """Entries about the same thing cluster together, an unrelated one stays alone."""
    items = [
        ThemeInput("A", "DST change moved shift times by an hour", ("timezone",)),
        ThemeInput("B", "Duty hours wrong across the DST boundary", ("timezone",)),
        ThemeInput("C", "Onboarding guide misses the opt-out", ("docs",)),
    ]
    themes = cluster(items)
    assert [t.ids for t in themes] == [["A", "B"], ["C"]]
    assert "#timezone" in themes[0].terms


def test_template_boilerplate_is_ignored() -> None:
    """The template's prompt lines never count as text; the id leaves the title."""
    text = (
        "---\nid: LEARN-2025-001\n---\n# LEARN-2025-001: Real title\n## Context\n"
        "What were we doing: which skill or agent, which part of the code, which task?\n"
        "Actual words.\n"
    )
    assert parse_learning_text(text) == ("Real title", "Actual words.")


def test_critical_open_learnings_are_listed(world: tuple[Settings, Path]) -> None:
    """Open critical learnings of the month are listed; implemented ones are not."""
    settings, repo = world
    with open_ingested(settings) as wh:
        review = build_review(wh, "2025-12", history_dir=repo / ".claude/History", now=NOW)
    ids = [lrn.id for lrn in review.critical_open]
    assert "LEARN-2025-501" in ids
    assert "LEARN-2025-505" not in ids  # implemented on 2025-12-30


def test_gap_reasons(world: tuple[Settings, Path]) -> None:
    """Each root cause gets its coverage verdict from its learnings."""
    settings, repo = world
    with open_ingested(settings) as wh:
        review = build_review(wh, "2025-12", history_dir=repo / ".claude/History", now=NOW)
    by_cause = {g.root_cause: g for g in review.gaps}
    assert by_cause["flaky-fixture"].covered
    assert "planned but not yet implemented" in by_cause["timezone-handling"].reason
    assert "none adds a test" in by_cause["stale-cache"].reason
    assert "no root cause" in by_cause[""].reason


def test_skill_flagged_by_error_rate(world: tuple[Settings, Path]) -> None:
    """A skill above the error-rate threshold is flagged with its numbers."""
    settings, repo = world
    with open_ingested(settings) as wh:
        review = build_review(wh, "2025-12", history_dir=repo / ".claude/History", now=NOW)
    reasons = {f.skill: " ".join(f.reasons) for f in review.skills}
    assert "error rate 10.1% (11 errors in 109 runs)" in reasons["test-writer"]


def test_bad_month_is_an_error() -> None:
    """A month that is not YYYY-MM is refused with the form to use."""
    with pytest.raises(AnalyticsError, match="2025-12"):
        parse_month("December")


def test_cli_writes_the_review(
    world: tuple[Settings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`review learnings --output` writes what the library renders."""
    settings, repo = world
    monkeypatch.setenv("AI_TELEMETRY_DIR", str(settings.telemetry_dir))
    out = tmp_path / "review.md"
    result = CliRunner().invoke(
        cli,
        ["review", "learnings", "--month", "2025-12", "--repo", str(repo), "--output", str(out),
         "--as-of", "2026-01-02T09:00:00Z"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _review(world) == out.read_text(encoding="utf-8")


def test_cli_bad_month_exits_nonzero(world: tuple[Settings, Path]) -> None:
    """A malformed month is one line on stderr and exit code 1."""
    result = CliRunner().invoke(cli, ["review", "learnings", "--month", "12/2025"])
    assert result.exit_code == 1
    assert "write it as 2025-12" in result.output
