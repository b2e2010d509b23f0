"""A commit that changes a skill's SKILL.md records the skill's versions, and the skill's runs
split at it into an experiment that opens by itself (issue 18 §3: "or its SKILL.md changing
in git, recorded by ... the git collector"). Real git, real warehouse, real PostgreSQL."""

from __future__ import annotations

import math
import os
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ai_telemetry.collect.git import collect_git, read_commits
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.report.weekly import load_experiments

T0 = datetime(2025, 11, 3, 9, tzinfo=UTC)
CHANGED = T0 + timedelta(days=14)
NOW = T0 + timedelta(days=35)


def _git(repo: Path, *args: str, when: datetime | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository whose skill `triage` is added at T0 and rewritten at CHANGED."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    skill = repo / ".claude" / "skills" / "triage" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text("---\nname: triage\n---\nRead the stack trace first.\n")
    (repo / "README.md").write_text("x\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "add triage", when=T0)
    first = _git(repo, "hash-object", str(skill))[:12]
    skill.write_text("---\nname: triage\n---\nBisect before reading anything.\n")
    _git(repo, "commit", "-q", "-am", "triage: bisect first [skill:triage]", when=CHANGED)
    second = _git(repo, "hash-object", str(skill))[:12]
    (repo / "README.md").write_text("y\n")
    _git(repo, "commit", "-q", "-am", "docs", when=CHANGED + timedelta(days=1))
    return repo, first, second


def _runs(settings: Settings) -> None:
    """Runs of triage without skill_version (the SDK without a version): slower after."""
    rng = random.Random(3)
    events: list[dict[str, Any]] = []
    for i in range(160):
        ts = T0 + timedelta(hours=1 + 4 * i)
        slow = 1.6 if ts >= CHANGED else 1.0
        events.append(
            {
                "event_type": "skill_execution",
                "event_id": f"run-{i:04d}",
                "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "skill": "triage",
                "outcome": "success" if rng.random() < 0.9 else "error",
                "duration_seconds": round(100 * slow * math.exp(rng.gauss(0, 0.3)), 3),
            }
        )
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    with settings.log_path.open("ab") as log:
        log.write(b"".join(orjson.dumps(e) + b"\n" for e in events))


def test_a_commit_changing_skill_md_records_both_versions(tmp_path: Path) -> None:
    """The add has a version and no previous one; the rewrite has both; the docs commit none."""
    repo, first, second = _repo(tmp_path)
    commits = read_commits(repo)
    assert [len(c.skill_changes) for c in commits] == [1, 1, 0]
    added, rewritten = commits[0].skill_changes[0], commits[1].skill_changes[0]
    assert (added.skill, added.previous, added.version) == ("triage", None, first)
    assert (rewritten.skill, rewritten.previous, rewritten.version) == ("triage", first, second)
    # the hook's single-commit path sees the same change
    [one] = read_commits(repo, commit=_git(repo, "rev-parse", "HEAD~1"))
    assert one.skill_changes == commits[1].skill_changes


def test_the_change_splits_the_runs_into_an_experiment(tmp_path: Path) -> None:
    """collect git, then the runs before and after the rewrite are an experiment: worse."""
    repo, first, second = _repo(tmp_path)
    settings = load_settings(environ={}, cwd=tmp_path, telemetry_dir=tmp_path / "Telemetry")
    _runs(settings)
    collect_git(repo, settings=settings)
    logged = [orjson.loads(x) for x in settings.log_path.read_bytes().splitlines()]
    commits = [e for e in logged if e["event_type"] == "commit"]
    assert [(e.get("skill"), e.get("skill_version")) for e in commits] == [
        ("triage", first),
        ("triage", second),
        (None, None),
    ]
    [experiment] = load_experiments(settings, now=NOW)
    assert (experiment.skill, experiment.previous, experiment.new) == ("triage", first, second)
    assert experiment.opened.replace(tzinfo=None) >= CHANGED.replace(tzinfo=None)
    runs = [e for e in logged if e["event_type"] == "skill_execution"]
    before = sum(1 for e in runs if e["timestamp"] < "2025-11-17T09:00:00Z")
    assert 0 < before < len(runs) == 160
    assert (experiment.previous_runs, experiment.new_runs) == (before, 160 - before)
    assert experiment.result.verdict == "worse"


def test_postgres_resolves_the_same_versions(tmp_path: Path, postgres_url: str) -> None:
    """The same log in PostgreSQL: skill_version_runs gives the same runs and versions."""
    from ai_telemetry.store.postgres import PostgresStore
    from ai_telemetry.stores import open_ingested

    repo, _, _ = _repo(tmp_path)
    settings = load_settings(environ={}, cwd=tmp_path, telemetry_dir=tmp_path / "Telemetry")
    _runs(settings)
    collect_git(repo, settings=settings)
    with open_ingested(settings, progress=False) as duck:
        expected = duck.skill_version_runs(before=NOW)
    with PostgresStore(postgres_url, settings=settings, check=False) as pg:
        pg.migrate()
    with PostgresStore(postgres_url, settings=settings) as pg:
        pg.load_warehouse(progress=False)
        actual = pg.skill_version_runs(before=NOW.replace(tzinfo=None))
    assert len(expected) == 160
    assert [(r[0], r[1], r[3]) for r in actual] == [(r[0], r[1], r[3]) for r in expected]
