"""The git collector: real repositories, real commits, the real installed hook."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import yaml
from click.testing import CliRunner

from ai_telemetry.cli import cli
from ai_telemetry.collect.git import (
    CHAINED_SUFFIX,
    Commit,
    collect_git,
    commit_events,
    install_hook,
    parse_message,
    run_hook,
)
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.errors import CollectorError

ROOT = Path(__file__).resolve().parents[2]


def git_env(home: Path) -> dict[str, str]:
    """A clean environment for git: no user config, a fixed identity, no AI_TELEMETRY_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_TELEMETRY_", "GIT_"))}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    return env


class Repo:
    """A real git repository in a temporary directory."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env
        self.counter = 0

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def commit(self, message: str, *, date: str | None = None) -> str:
        self.counter += 1
        (self.path / "file.txt").write_text(f"change {self.counter}\n")
        self.git("add", "file.txt")
        extra = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else None
        self.git("commit", "-q", "-m", message, env=extra)
        return self.git("rev-parse", "HEAD").strip()

    @property
    def settings(self) -> Settings:
        return load_settings(cwd=self.path, environ={})

    def events(self) -> list[dict[str, object]]:
        log = self.settings.log_path
        if not log.exists():
            return []
        return [orjson.loads(line) for line in log.read_bytes().splitlines() if line.strip()]

    def wait_for_events(self, count: int, timeout: float = 20.0) -> list[dict[str, object]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if len(events) >= count:
                time.sleep(0.2)  # let a straggler show itself
                return self.events()
            time.sleep(0.05)
        return self.events()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    path = tmp_path / "repo"
    path.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    r = Repo(path, git_env(home))
    r.git("init", "-q", "-b", "main")
    return r


def test_parse_message_finds_distinct_tags_and_learnings_in_order() -> None:
    """Skill tags and LEARN ids come out once each, in order of appearance."""
    message = (
        "fix tz [skill:tdd] [skill: systematic-debugger] [skill:tdd]\n\n"
        "LEARN-2025-042, LEARN-2025-007 LEARN-2025-042"
    )
    assert parse_message(message) == (
        ["tdd", "systematic-debugger"],
        ["LEARN-2025-042", "LEARN-2025-007"],
    )


def test_commit_without_tag_yields_one_commit_event_without_skill() -> None:
    """A commit with no [skill:...] tag still counts, as one commit event with no skill."""
    events = commit_events(Commit("abc1234", "2025-01-01T00:00:00Z", "plain message"))
    assert [(e["event_type"], e.get("skill")) for e in events] == [("commit", None)]


def test_event_ids_are_uuid_strings_stable_across_runs() -> None:
    """The same commit gives the same event ids, shaped as UUIDs."""
    commit = Commit("abc1234", "2025-01-01T00:00:00Z", "[skill:a] LEARN-2025-001")
    first = [e["event_id"] for e in commit_events(commit)]
    second = [e["event_id"] for e in commit_events(commit)]
    assert first == second
    assert all(len(i) == 36 and i.count("-") == 4 for i in first)


def test_installed_hook_records_skill_tags_of_a_real_commit(repo: Repo) -> None:
    """A real git commit runs the hook, which writes one commit event per skill tag."""
    install_hook(repo.path)
    commit_hash = repo.commit("add parser [skill:tdd] [skill:code-review]")
    events = repo.wait_for_events(2)
    assert [("commit", commit_hash, "tdd"), ("commit", commit_hash, "code-review")] == [
        (e["event_type"], e["commit_hash"], e["skill"]) for e in events
    ]


def test_hook_records_learning_implemented_with_commit_hash(repo: Repo) -> None:
    """A LEARN id in the message becomes learning_implemented carrying the commit hash."""
    install_hook(repo.path)
    commit_hash = repo.commit("apply LEARN-2025-042 tz fix")
    events = repo.wait_for_events(2)
    implemented = [e for e in events if e["event_type"] == "learning_implemented"]
    assert [("LEARN-2025-042", commit_hash)] == [(e["id"], e["commit_hash"]) for e in implemented]


def test_commit_message_text_is_never_stored(repo: Repo) -> None:
    """Words of the commit message do not reach the log."""
    install_hook(repo.path)
    repo.commit("zebracornflake secret plan [skill:tdd]")
    repo.wait_for_events(1)
    assert b"zebracornflake" not in repo.settings.log_path.read_bytes()


def test_hook_timestamp_is_the_committer_date_in_utc(repo: Repo) -> None:
    """The event's timestamp is the commit's committer date, converted to UTC."""
    install_hook(repo.path)
    repo.commit("[skill:tdd]", date="2025-03-04T10:20:30+05:30")
    events = repo.wait_for_events(1)
    assert [e["timestamp"] for e in events] == ["2025-03-04T04:50:30Z"]


def test_install_keeps_and_calls_an_existing_hook(repo: Repo) -> None:
    """An existing post-commit hook is kept and still runs on every commit."""
    hooks = repo.path / ".git" / "hooks"
    marker = repo.path / "old-hook-ran"
    (hooks / "post-commit").write_text(f"#!/bin/sh\necho ran >> '{marker}'\n")
    (hooks / "post-commit").chmod(0o755)
    result = install_hook(repo.path)
    repo.commit("[skill:tdd]")
    events = repo.wait_for_events(1)
    assert (hooks / ("post-commit" + CHAINED_SUFFIX), "ran\n", 1) == (
        result.chained,
        marker.read_text(),
        len(events),
    )


def test_install_twice_changes_nothing(repo: Repo) -> None:
    """Installing again rewrites only our hook: same text, chained hook untouched."""
    hooks = repo.path / ".git" / "hooks"
    (hooks / "post-commit").write_text("#!/bin/sh\ntrue\n")
    install_hook(repo.path)
    first = (hooks / "post-commit").read_text()
    second_result = install_hook(repo.path)
    assert (first, "#!/bin/sh\ntrue\n", True) == (
        (hooks / "post-commit").read_text(),
        (hooks / ("post-commit" + CHAINED_SUFFIX)).read_text(),
        second_result.updated,
    )


def test_install_respects_core_hooks_path(repo: Repo) -> None:
    """With core.hooksPath set, the hook goes there and still fires."""
    repo.git("config", "core.hooksPath", "githooks")
    result = install_hook(repo.path)
    repo.commit("[skill:tdd]")
    events = repo.wait_for_events(1)
    assert ((repo.path / "githooks" / "post-commit").resolve(), 1) == (
        result.path.resolve(),
        len(events),
    )


def test_commit_succeeds_when_telemetry_cannot_be_written(repo: Repo) -> None:
    """A broken telemetry directory never fails the commit, and the hook prints nothing."""
    install_hook(repo.path)
    (repo.path / ".claude").mkdir()
    (repo.path / ".claude" / "Telemetry").write_text("not a directory")
    repo.counter += 1
    (repo.path / "file.txt").write_text("x\n")
    repo.git("add", "file.txt")
    done = subprocess.run(
        ["git", "commit", "-m", "[skill:tdd]"],
        cwd=repo.path,
        env=repo.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_hook_script_returns_fast(repo: Repo) -> None:
    """The hook itself returns in well under a second: the Python part runs in the background."""
    result = install_hook(repo.path)
    repo.commit("first")
    start = time.perf_counter()
    subprocess.run([str(result.path)], cwd=repo.path, env=repo.env, check=True)
    elapsed = time.perf_counter() - start
    repo.wait_for_events(1)
    assert elapsed < 0.5


def test_run_hook_swallows_errors_and_returns_zero(tmp_path: Path) -> None:
    """Outside a repository the hook function records nothing and still returns 0."""
    settings = load_settings(cwd=tmp_path, environ={})
    assert (
        run_hook(tmp_path, commit=None, settings=settings),
        settings.log_path.exists(),
    ) == (0, False)


def test_backfill_since_skips_older_commits_and_converts_to_utc(repo: Repo) -> None:
    """collect git --since keeps only newer commits, timestamps in UTC."""
    repo.commit("[skill:old]", date="2024-12-31T23:00:00-02:00")
    new_hash = repo.commit("[skill:new]", date="2025-02-01T09:00:00-08:00")
    result = collect_git(repo.path, settings=repo.settings, since="2025-01-15")
    assert (1, [("new", new_hash, "2025-02-01T17:00:00Z")]) == (
        result.written,
        [(e["skill"], e["commit_hash"], e["timestamp"]) for e in repo.events()],
    )


def test_backfill_twice_adds_nothing(repo: Repo) -> None:
    """A second backfill over the same history writes no events."""
    repo.commit("[skill:a] LEARN-2025-001")
    repo.commit("[skill:b]")
    first = collect_git(repo.path, settings=repo.settings)
    second = collect_git(repo.path, settings=repo.settings)
    assert (
        first.written,
        second.written,
        second.already_logged,
        len(repo.events()),
    ) == (3, 0, 3, 3)


def test_backfill_after_hook_adds_nothing(repo: Repo) -> None:
    """Commits already recorded by the hook are not recorded again by a backfill."""
    install_hook(repo.path)
    repo.commit("[skill:a]")
    repo.wait_for_events(1)
    result = collect_git(repo.path, settings=repo.settings)
    assert (result.written, len(repo.events())) == (0, 1)


def test_backfill_outside_a_repository_raises(tmp_path: Path) -> None:
    """A directory that is not a git repository gives a CollectorError naming it."""
    with pytest.raises(CollectorError, match=str(tmp_path)):
        collect_git(tmp_path, settings=load_settings(cwd=tmp_path, environ={}))


def test_cli_collect_git_prints_a_summary(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """ai-telemetry collect git reports commits read and events written."""
    repo.commit("[skill:a]")
    monkeypatch.chdir(repo.path)
    for key in [k for k in os.environ if k.startswith("AI_TELEMETRY_")]:
        monkeypatch.delenv(key)
    result = CliRunner().invoke(cli, ["collect", "git", "--since", "2000-01-01"])
    assert (
        result.exit_code,
        result.output,
    ) == (0, "1 commits read, 1 events written, 0 already in the log\n")


def test_cli_install_hook_outside_repository_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git install-hook outside a repository exits non-zero with a one-line message."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = CliRunner().invoke(cli, ["git", "install-hook"])
    assert (result.exit_code, len(result.output.strip().splitlines())) == (1, 1)


def test_pre_commit_manifest_declares_a_post_commit_hook() -> None:
    """.pre-commit-hooks.yaml offers one python hook at the post-commit stage."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [(h["id"], h["language"], h["stages"], h["pass_filenames"]) for h in hooks] == [
        ("ai-telemetry-commit", "python", ["post-commit"], False)
    ]


def test_pre_commit_manifest_entry_records_head(repo: Repo) -> None:
    """The manifest's entry command, run as pre-commit would, records the new commit."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    argv = hooks[0]["entry"].split()
    assert argv[0] == "ai-telemetry"
    commit_hash = repo.commit("[skill:tdd]")
    done = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", *argv[1:]],
        cwd=repo.path,
        env=repo.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, "", [commit_hash]) == (
        done.returncode,
        done.stdout,
        [e["commit_hash"] for e in repo.events()],
    )


def test_hook_event_timestamps_parse_as_utc(repo: Repo) -> None:
    """Hook events carry timestamps ending in Z that parse to an aware UTC time."""
    install_hook(repo.path)
    repo.commit("[skill:tdd]")
    events = repo.wait_for_events(1)
    stamp = str(events[0]["timestamp"])
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo == UTC
