"""The learnings collector and `learning new`, on real entry files."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ai_telemetry.cli import cli
from ai_telemetry.collect.git import Commit, commit_events
from ai_telemetry.collect.learnings import (
    collect_learnings,
    new_learning,
    next_learning_id,
    parse_entry,
)
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.errors import CollectorError
from ai_telemetry.log.sink import append_events

DATA = Path(__file__).resolve().parents[1] / "data" / "learnings"


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A copy of the sample entries (good and malformed) in .claude/History."""
    target = tmp_path / ".claude" / "History"
    shutil.copytree(DATA, target)
    return target


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(cwd=tmp_path, environ={})


def logged(settings: Settings) -> list[dict[str, object]]:
    if not settings.log_path.exists():
        return []
    return [orjson.loads(line) for line in settings.log_path.read_bytes().splitlines()]


def test_created_events_carry_front_matter_fields(history: Path, settings: Settings) -> None:
    """learning_created holds id, UTC timestamp, severity, source, skill, type and tags."""
    collect_learnings(history, settings=settings)
    first = next(e for e in logged(settings) if e["event_type"] == "learning_created")
    assert {k: v for k, v in first.items() if k != "event_id"} == {
        "timestamp": "2025-12-15T00:00:00Z",
        "event_type": "learning_created",
        "id": "LEARN-2025-001",
        "severity": "critical",
        "source": "incident",
        "learning_type": "bug-pattern",
        "skill": "systematic-debugger",
        "tags": "timezone,datetime",
    }


def test_implemented_entry_yields_implementation_with_pr_and_commit(
    history: Path, settings: Settings
) -> None:
    """status implemented: learning_implemented at the implemented date (UTC), PR and commit."""
    collect_learnings(history, settings=settings)
    done = [e for e in logged(settings) if e["event_type"] == "learning_implemented"]
    assert [(e["id"], e["timestamp"], e.get("pr"), e.get("commit_hash")) for e in done] == [
        ("LEARN-2025-001", "2025-12-17T07:30:00Z", 128, "3f2a9c1"),
        ("LEARN-2025-003", "2025-12-21T00:00:00Z", None, None),
    ]


def test_block_list_tags_and_inline_comments_are_read(history: Path, settings: Settings) -> None:
    """`- item` tag lists and `# comments` after a value are understood."""
    collect_learnings(history, settings=settings)
    second = next(e for e in logged(settings) if e.get("id") == "LEARN-2025-002")
    assert (second["tags"], second["source"], second["timestamp"]) == (
        "review,tests",
        "code_review",
        "2025-12-20T16:45:00Z",
    )


def test_malformed_entries_are_reported_with_path_and_line(
    history: Path, settings: Settings
) -> None:
    """Bad severity, missing and unclosed front matter: each reported as path:line, skipped."""
    result = collect_learnings(history, settings=settings)
    where = [p.split(": ", 1)[0] for p in result.problems]
    assert where == [
        f"{history / 'LEARN-2025-004-bad-severity.md'}:5",
        f"{history / 'LEARN-2025-005-no-front-matter.md'}:1",
        f"{history / 'LEARN-2025-006-unclosed.md'}:5",
    ]


def test_good_entries_are_collected_despite_bad_ones(history: Path, settings: Settings) -> None:
    """Three good entries give three created and two implemented events."""
    result = collect_learnings(history, settings=settings)
    assert (result.entries, result.written) == (3, 5)


def test_second_scan_adds_nothing(history: Path, settings: Settings) -> None:
    """Re-scanning the same folder writes no events."""
    collect_learnings(history, settings=settings)
    again = collect_learnings(history, settings=settings)
    assert (again.written, again.already_logged, len(logged(settings))) == (0, 5, 5)


def test_git_mention_and_entry_share_one_implementation_event(
    history: Path, settings: Settings
) -> None:
    """A commit mentioning LEARN-2025-001, then the entry scan: one learning_implemented."""
    commit = Commit("abcdef1", "2025-12-16T10:00:00Z", "fix tz, LEARN-2025-001")
    append_events(commit_events(commit), settings=settings, source="git")
    collect_learnings(history, settings=settings)
    done = [e["id"] for e in logged(settings) if e["event_type"] == "learning_implemented"]
    assert sorted(done) == ["LEARN-2025-001", "LEARN-2025-003"]


def test_entry_text_never_reaches_the_log(history: Path, settings: Settings) -> None:
    """Words from the entry's body are not in the log."""
    collect_learnings(history, settings=settings)
    assert b"scheduler" not in settings.log_path.read_bytes()


def test_missing_folder_is_a_collector_error(tmp_path: Path, settings: Settings) -> None:
    """A folder that does not exist gives a CollectorError naming it."""
    with pytest.raises(CollectorError, match="nowhere: no such folder"):
        collect_learnings(tmp_path / "nowhere", settings=settings)


def test_bad_id_is_reported_on_its_line(tmp_path: Path) -> None:
    """An id not shaped LEARN-YYYY-NNN is an error on the id's line."""
    with pytest.raises(Exception, match="not LEARN-YYYY-NNN") as info:
        parse_entry(tmp_path / "x.md", "---\n# c\nid: LEARN-25-1\n---\n")
    assert getattr(info.value, "line", None) == 3


def test_next_id_follows_the_highest_of_the_year(history: Path) -> None:
    """With 001..006 present for 2025, the next id is LEARN-2025-007; 2026 starts at 001."""
    assert (next_learning_id(history, year=2025), next_learning_id(history, year=2026)) == (
        "LEARN-2025-007",
        "LEARN-2026-001",
    )


def test_new_entry_round_trips_through_the_collector(tmp_path: Path, settings: Settings) -> None:
    """A new entry from the template is collected as learning_created with its options."""
    folder = tmp_path / "History"
    path = new_learning(
        folder,
        severity="warning",
        source="experiment",
        skill="tdd",
        title="Flaky fixtures!",
        today=date(2026, 3, 1),
    )
    collect_learnings(folder, settings=settings)
    event = logged(settings)[0]
    assert (path.name, event["id"], event["severity"], event["source"], event["skill"]) == (
        "LEARN-2026-001-flaky-fixtures.md",
        "LEARN-2026-001",
        "warning",
        "experiment",
        "tdd",
    )


def test_new_entry_without_skill_has_no_skill(tmp_path: Path, settings: Settings) -> None:
    """An entry made without --skill parses with no skill, and the next id increments."""
    folder = tmp_path / "History"
    new_learning(folder, today=date(2026, 3, 1))
    second = new_learning(folder, today=date(2026, 3, 2))
    entry = parse_entry(second, second.read_text())
    assert (entry.id, entry.skill, entry.status) == ("LEARN-2026-002", None, "open")


_NEW_ENTRIES = """
import sys
from datetime import date
from pathlib import Path
from ai_telemetry.collect.learnings import new_learning
for i in range(5):
    new_learning(Path(sys.argv[1]), title=f"{sys.argv[2]} {i}", today=date(2026, 3, 1))
"""


def test_writers_at_the_same_moment_get_distinct_ids(tmp_path: Path) -> None:
    """Real processes, held at the folder's lock and let go together: each entry has its own
    number (with titles, the file names differ, so only the lock keeps the ids apart)."""
    import fcntl
    import subprocess
    import sys
    import time

    folder = tmp_path / "History"
    folder.mkdir()
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        procs = [
            subprocess.Popen([sys.executable, "-c", _NEW_ENTRIES, str(folder), f"writer {n}"])
            for n in range(6)
        ]
        time.sleep(1.0)
        assert [] == list(folder.iterdir())  # all of them wait for the lock
    finally:
        os.close(fd)
    assert [0] * 6 == [p.wait(timeout=60) for p in procs]
    ids = [parse_entry(p, p.read_text()).id for p in folder.glob("LEARN-*.md")]
    assert 30 == len(ids) == len(set(ids))
    assert "LEARN-2026-030" == max(ids)


def test_cli_learning_new_then_collect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`learning new` prints the path; `collect learnings` then writes one event."""
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("AI_TELEMETRY_")]:
        monkeypatch.delenv(key)
    runner = CliRunner()
    made = runner.invoke(cli, ["learning", "new", "--severity", "critical", "--title", "T"])
    collected = runner.invoke(cli, ["collect", "learnings"])
    assert (made.exit_code, Path(made.output.strip()).exists(), collected.output) == (
        0,
        True,
        "1 entries read, 1 events written, 0 already in the log, 0 skipped\n",
    )


def test_cli_collect_learnings_reports_skipped_files(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI lists each skipped file on stderr and still exits 0."""
    monkeypatch.chdir(history.parent.parent)
    for key in [k for k in os.environ if k.startswith("AI_TELEMETRY_")]:
        monkeypatch.delenv(key)
    result = CliRunner().invoke(cli, ["collect", "learnings", str(history)])
    assert (result.exit_code, result.stderr.count("skipped: ")) == (0, 3)


@pytest.mark.parametrize("titles", [("first", "second"), (None, None)])
def test_two_concurrent_cli_learning_new_get_two_ids(
    tmp_path: Path, titles: tuple[str | None, str | None]
) -> None:
    """Two `ai-telemetry learning new` processes released at the same moment get two ids (with
    titles the file names differ; without, both want the same file name)."""
    import fcntl
    import subprocess
    import sys
    import time

    folder = tmp_path / "History"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "ai_telemetry", "learning", "new", "--dir", str(folder)]
                + (["--title", title] if title else []),
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for title in titles
        ]
        time.sleep(1.0)
        assert [] == list(folder.iterdir())  # both are waiting for the lock
    finally:
        os.close(fd)
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [0, 0] == [p.returncode for p in procs]
    ids = sorted(parse_entry(Path(out), Path(out).read_text()).id for out in outputs)
    assert 2 == len(set(ids)) == len(list(folder.glob("LEARN-*.md")))
