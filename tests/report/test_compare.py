"""Skill A/B comparison: statistics against scipy and published examples, verdicts, CLI."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from review_helpers import git
from scipy import stats as scipy_stats

from ai_telemetry.cli import cli
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.log.sink import append_events
from ai_telemetry.report.compare import Group, compare_groups
from ai_telemetry.report.stats import (
    fisher_exact,
    mann_whitney,
    newcombe_interval,
    sample_size_two_proportions,
    wilson_interval,
)


def test_fisher_tea_tasting() -> None:
    """Fisher's lady tasting tea, [[3, 1], [1, 3]]: two-sided p = 0.4857."""
    assert pytest.approx(fisher_exact([[3, 1], [1, 3]]), abs=5e-5) == 0.4857


def test_fisher_matches_scipy_on_random_tables() -> None:
    """Two-sided Fisher p-values equal scipy's on 400 random tables."""
    rng = random.Random(7)
    for _ in range(400):
        table = [[rng.randint(0, 40) for _ in range(2)] for _ in range(2)]
        expected = scipy_stats.fisher_exact(table).pvalue
        assert expected == pytest.approx(fisher_exact(table), rel=1e-9, abs=1e-12), table


def test_newcombe_worked_example() -> None:
    """Newcombe (1998), 56/70 vs 48/80, method 10: 0.0524 to 0.3339."""
    lower, upper = newcombe_interval(56, 70, 48, 80)
    assert (round(lower, 4), round(upper, 4)) == (0.0524, 0.3339)


def test_wilson_matches_scipy() -> None:
    """Wilson intervals equal scipy's binomtest(...).proportion_ci(method='wilson')."""
    for k, n in [(0, 10), (3, 10), (81, 100), (100, 100), (1, 1000)]:
        ci = scipy_stats.binomtest(k, n).proportion_ci(method="wilson")
        assert (ci.low, ci.high) == pytest.approx(wilson_interval(k, n), abs=1e-12)


def test_mann_whitney_exact_matches_scipy() -> None:
    """Exact two-sided Mann-Whitney p and U equal scipy's on 200 random tie-free samples."""
    rng = random.Random(11)
    for _ in range(200):
        x = [rng.random() for _ in range(rng.randint(1, 18))]
        y = [rng.random() for _ in range(rng.randint(1, 18))]
        expected = scipy_stats.mannwhitneyu(x, y, method="exact")
        got = mann_whitney(x, y, method="exact")
        assert (expected.statistic, expected.pvalue) == pytest.approx((got.u, got.p_value))


def test_mann_whitney_asymptotic_with_ties_matches_scipy() -> None:
    """Tie-corrected normal approximation equals scipy's on 200 samples with many ties."""
    rng = random.Random(13)
    for _ in range(200):
        x = [rng.randint(0, 6) for _ in range(rng.randint(2, 40))]
        y = [rng.randint(0, 6) for _ in range(rng.randint(2, 40))]
        expected = scipy_stats.mannwhitneyu(x, y, method="asymptotic")
        got = mann_whitney(x, y)
        assert got.method == "asymptotic"
        assert (expected.statistic, expected.pvalue) == pytest.approx((got.u, got.p_value))


def test_sample_size_formula() -> None:
    """Runs per group follow Fleiss' formula (0.80 vs 0.90: 199 per group)."""
    norm = scipy_stats.norm
    p1, p2 = 0.8, 0.9
    pbar = (p1 + p2) / 2
    root = (
        norm.ppf(0.975) * (2 * pbar * (1 - pbar)) ** 0.5
        + norm.ppf(0.8) * (p1 * (1 - p1) + p2 * (1 - p2)) ** 0.5
    )
    assert -(-(root**2) // (p1 - p2) ** 2) == sample_size_two_proportions(p1, p2)
    assert sample_size_two_proportions(p1, p2) == 199


def test_verdict_names_the_better_version() -> None:
    """94/100 vs 81/100 is significant and worded as in the issue."""
    a = Group("v1", 100, 81, (1.0, 2.0))
    b = Group("v2", 100, 94, (1.5, 2.5))
    result = compare_groups("s", "versions", a, b)
    assert result.verdict.startswith("v2 is better: success 94% vs 81% (difference +13 points")
    expected_p = scipy_stats.fisher_exact([[94, 6], [81, 19]]).pvalue
    assert f"95% CI +4 to +22; Fisher p = {expected_p:.3f})" in result.verdict
    assert result.more_runs == ""


def test_undecided_data_says_how_many_more_runs() -> None:
    """A small, non-significant difference reports the runs needed for 80% power."""
    a = Group("v1", 50, 45, ())
    b = Group("v2", 50, 46, ())
    result = compare_groups("s", "versions", a, b, mde=0.05)
    assert result.verdict.startswith("The data can't tell yet")
    needed = sample_size_two_proportions(0.90, 0.95)
    assert needed == result.needed_per_group
    assert f"{2 * (needed - 50)} more" in result.more_runs


def _runs(start: datetime, version: str, n: int, ok: int, seconds: float) -> list[dict[str, Any]]:
    events = []
    for i in range(n):
        at = start + timedelta(hours=i)
        events.append(
            {
                "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "event_type": "skill_execution",
                "skill": "triage",
                "outcome": "success" if i < ok else "error",
                "duration_seconds": seconds + i % 7,
                "skill_version": version,
            }
        )
    return events


@pytest.fixture
def ab_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A log with 100 runs of v1 in November (81 ok) and 100 of v2 in December (94 ok)."""
    telemetry = tmp_path / "telemetry"
    settings = load_settings(
        telemetry_dir=telemetry, log_path=telemetry / "events.jsonl", durability="write"
    )
    events = _runs(datetime(2025, 11, 1, tzinfo=UTC), "v1", 100, 81, 100.0)
    events += _runs(datetime(2025, 12, 1, tzinfo=UTC), "v2", 100, 94, 60.0)
    append_events(events, settings=settings, source="sdk")
    monkeypatch.setenv("AI_TELEMETRY_DIR", str(telemetry))
    return settings


def test_cli_auto_versions(ab_log: Settings) -> None:
    """Without options the two latest versions are compared, older first."""
    result = CliRunner().invoke(cli, ["compare", "skill", "triage"])
    assert result.exit_code == 0, result.output
    assert "v2 is better: success 94% vs 81%" in result.output
    assert "v2 is faster" in result.output


def test_cli_before_after_commit(ab_log: Settings, tmp_path: Path) -> None:
    """--commit splits at the commit's committer time, like --before-after that moment."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "SKILL.md").write_text("v2\n")
    git(repo, "add", "SKILL.md")
    git(repo, "commit", "-q", "-m", "v2", date="2025-11-20T00:00:00Z")
    head = git(repo, "rev-parse", "HEAD")
    by_commit = CliRunner().invoke(cli, ["compare", "skill", "triage", "--commit", head,
                                         "--repo", str(repo)])  # fmt: skip
    by_date = CliRunner().invoke(
        cli, ["compare", "skill", "triage", "--before-after", "2025-11-20"]
    )
    assert by_commit.exit_code == 0, by_commit.output
    assert by_date.output == by_commit.output
    assert "before and after 2025-11-20 00:00 UTC" in by_commit.output


def test_cli_unknown_skill_is_one_line(ab_log: Settings) -> None:
    """An unknown skill exits 1 with one line, no traceback."""
    result = CliRunner().invoke(cli, ["compare", "skill", "nope"])
    assert result.exit_code == 1
    assert "no finished runs of skill 'nope'" in result.output
    assert "Traceback" not in result.output


def test_cli_options_exclude_each_other(ab_log: Settings) -> None:
    """--versions with --before-after is refused."""
    result = CliRunner().invoke(
        cli,
        ["compare", "skill", "triage", "--versions", "v1", "v2", "--before-after", "2025-12-01"],
    )
    assert result.exit_code == 1
    assert "exclude each other" in result.output


def test_cli_shows_the_sequential_verdict(ab_log: Settings) -> None:
    """compare skill adds the always-valid sequential verdict: v2 faster, so better."""
    result = CliRunner().invoke(cli, ["compare", "skill", "triage"])
    assert result.exit_code == 0, result.output
    assert "Sequential test (mSPRT, valid at every weekly look)" in result.output
    assert "v2 vs v1: better (duration)" in result.output


def test_json_carries_the_sequential_test(ab_log: Settings) -> None:
    """compare skill --json has sequential.verdict and each metric's always-valid p-value."""
    import json

    result = CliRunner().invoke(cli, ["compare", "skill", "triage", "--json"])
    assert result.exit_code == 0, result.output
    sequential = json.loads(result.output)["sequential"]
    assert sequential["verdict"] == "better"
    by_name = {m["name"]: m for m in sequential["metrics"]}
    assert set(by_name) == {"success_rate", "duration", "rollback_rate", "tokens"}
    assert by_name["duration"]["verdict"] == "better"
    assert by_name["duration"]["p_value"] < 0.0125
    assert by_name["tokens"]["previous"] is None  # no context_tokens were logged
