"""Shared learnings: export a bundle from one history folder, import it into another (issue 19
§3): privacy guard both ways, de-duplication by content hash, conflicting ids renumbered and
cross-referenced, bad bundles refused with one line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from ai_telemetry.cli import cli
from ai_telemetry.collect.learning_bundle import (
    BUNDLE_FORMAT,
    content_hash,
    export_bundle,
    import_bundle,
)
from ai_telemetry.collect.learnings import create_learning, parse_entry, scan_entries
from ai_telemetry.errors import CollectorError

NOW = datetime(2025, 12, 8, 9, 0, tzinfo=UTC)
DAY = date(2025, 12, 1)


def _entry(folder: Path, title: str, body: str = "", skill: str | None = None) -> Path:
    path = create_learning(folder, title=title, skill=skill, today=DAY).path
    if body:
        path.write_text(path.read_text("utf-8") + "\n" + body + "\n", "utf-8")
    return path


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A project's history: two lessons, the second pointing at the first."""
    folder = tmp_path / "alpha" / ".claude" / "History"
    _entry(folder, "Rotation dates drift at DST", "Check the offset.", skill="test-writer")
    _entry(folder, "Follow-up", "See LEARN-2025-001 for the first case.")
    return folder


def test_round_trip_keeps_lessons_and_provenance(origin: Path, tmp_path: Path) -> None:
    """Every entry arrives with its text and an origin line naming project and id."""
    bundle = export_bundle(origin, project="alpha", now=NOW)
    target = tmp_path / "beta"
    result = import_bundle(bundle.data, target)
    assert 2 == len(result.written) == bundle.entries
    entries = sorted((e for e in scan_entries(target) if not isinstance(e, str)), key=str)
    assert ["LEARN-2025-001", "LEARN-2025-002"] == sorted(e.id for e in entries)
    first = (target / result.written[0].name).read_text("utf-8")
    assert "origin: alpha/LEARN-2025-001" in first
    assert "Check the offset." in first
    assert content_hash(first) == content_hash(result.written[0].read_text("utf-8"))
    document = json.loads(bundle.data)
    assert (BUNDLE_FORMAT, 1) == (document["format"], document["version"])
    assert "alpha" == document["entries"][0]["provenance"]["project"]


def test_export_applies_the_privacy_guard(origin: Path) -> None:
    """An e-mail address in an entry's text leaves as its marker, never as itself."""
    _entry(origin, "Ask around", "Ask jane.roe@example.com about the rota.")
    bundle = export_bundle(origin, project="alpha", now=NOW)
    assert b"jane.roe@example.com" not in bundle.data
    assert b"[REDACTED:email]" in bundle.data
    assert 1 <= bundle.redacted


def test_import_applies_the_privacy_guard(origin: Path, tmp_path: Path) -> None:
    """A bundle edited by hand to hold a token is scrubbed again on import."""
    document = json.loads(export_bundle(origin, project="alpha", now=NOW).data)
    token = "ghp_" + "a1b2c3d4e5" * 4
    document["entries"][0]["text"] += f"\nThe token {token} leaked.\n"
    result = import_bundle(json.dumps(document).encode(), tmp_path / "beta")
    written = result.written[0].read_text("utf-8")
    assert token not in written
    assert "[REDACTED:github_token]" in written
    assert 1 <= result.redacted


def test_importing_twice_adds_nothing(origin: Path, tmp_path: Path) -> None:
    """The second import finds every lesson by its content hash and writes no file."""
    data = export_bundle(origin, project="alpha", now=NOW).data
    target = tmp_path / "beta"
    import_bundle(data, target)
    again = import_bundle(data, target)
    assert ([], ["LEARN-2025-001", "LEARN-2025-002"]) == (again.written, again.duplicates)
    assert 2 == len(list(target.glob("LEARN-*.md")))


def test_conflicting_ids_are_renumbered_and_cross_referenced(origin: Path, tmp_path: Path) -> None:
    """A taken id gets the next free one, and mentions of it in the other entries follow."""
    target = tmp_path / "beta"
    _entry(target, "A local lesson", "Something else entirely.")
    result = import_bundle(export_bundle(origin, project="alpha", now=NOW).data, target)
    assert {"LEARN-2025-001": "LEARN-2025-002", "LEARN-2025-002": "LEARN-2025-003"} == (
        result.renumbered
    )
    follow_up = next(p for p in result.written if p.name.startswith("LEARN-2025-003"))
    text = follow_up.read_text("utf-8")
    assert "See LEARN-2025-002 for the first case." in text
    assert "origin: alpha/LEARN-2025-002" in text
    assert "LEARN-2025-003" == parse_entry(follow_up, text).id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"format": "other"}', "not a learnings bundle"),
        (json.dumps({"format": BUNDLE_FORMAT, "version": 99, "entries": []}).encode(), "newer"),
    ],
)
def test_a_bad_bundle_is_refused_with_one_line(data: bytes, message: str, tmp_path: Path) -> None:
    """Not JSON, another format, a newer version: CollectorError naming the bundle."""
    with pytest.raises(CollectorError, match=message) as caught:
        import_bundle(data, tmp_path / "beta", where="x.json")
    assert str(caught.value).startswith("x.json: ")
    assert "\n" not in str(caught.value)


def test_a_malformed_entry_is_skipped_and_reported(origin: Path, tmp_path: Path) -> None:
    """An entry without front matter is named in problems; the others are imported."""
    document = json.loads(export_bundle(origin, project="alpha", now=NOW).data)
    document["entries"].append({"id": "LEARN-2025-009", "text": "no front matter"})
    result = import_bundle(json.dumps(document).encode(), tmp_path / "beta")
    assert 2 == len(result.written)
    assert ["bundle: entry 3: line 1: no front matter: the first line must be ---"] == (
        result.problems
    )


def test_cli_export_then_import(origin: Path, tmp_path: Path) -> None:
    """learnings export --output, then learnings import into another folder."""
    bundle = tmp_path / "alpha.json"
    target = tmp_path / "beta"
    runner = CliRunner()
    out = runner.invoke(cli, ["learnings", "export", "--output", str(bundle), "--dir", str(origin)])
    assert 0 == out.exit_code, out.output
    assert "wrote 2 entries" in out.output
    assert "alpha" == json.loads(bundle.read_text("utf-8"))["origin"]["project"]
    done = runner.invoke(cli, ["learnings", "import", str(bundle), "--dir", str(target)])
    assert 0 == done.exit_code, done.output
    assert "imported 2 entries" in done.output
    missing = runner.invoke(cli, ["learnings", "import", str(tmp_path / "nope.json")])
    assert 1 == missing.exit_code
    assert "nope.json: cannot read the bundle" in missing.output
