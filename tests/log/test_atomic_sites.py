"""One copy of the temp-file + fsync + rename dance: `ai_telemetry.log.files.atomic_write`.

Every module that publishes a file calls it (or `atomic_write_text`); a new hand-written copy
(``os.replace``, ``os.rename``, ``tmp.replace(path)``, ``Path(tmp).replace(path)``) fails here.
A rename left elsewhere is listed in `ALLOWED`, with how many and why.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import ai_telemetry
from ai_telemetry.collect.claude_code.settings_install import write_json_atomic
from ai_telemetry.log.files import atomic_write, atomic_write_text

SRC = Path(ai_telemetry.__file__).parent

ALLOWED: dict[str, tuple[int, str]] = {
    "log/files.py": (1, "atomic_write itself"),
    "log/reader.py": (
        1,
        "the log rewrite streams the file line by line (never in memory) and keeps its mode, "
        "under the writers' lock",
    ),
    "log/writer.py": (
        1,
        "a spool file gets a new unique name (O_EXCL, never over another file), fsynced only "
        "in the fsync durability mode, on the hook's path",
    ),
    "events/_world_names.py": (
        1,
        "a best-effort marshal cache in the user's cache directory, built once per process: "
        "no fsync wanted, plain os calls on strings",
    ),
    "collect/claude_code/hook.py": (
        2,
        "the hook's hot path: a cache and error counters written without fsync on purpose "
        "(a lost update costs a rescan), in a directory checked by own_directory",
    ),
    "collect/claude_code/forward.py": (
        1,
        "imported by the hook on every call (os and json only); the token file is fchmod-ed "
        "to 0600 whatever the umask, in a 0700 directory",
    ),
    "analyze/aggregate.py": (1, "owned by another change (analyze/): not converted yet"),
    "store/retention.py": (
        2,
        "a Parquet file DuckDB's COPY writes, fsynced and renamed; the log swapped for the "
        "kept lines (store/ is owned by another change)",
    ),
    "store/pg_retention.py": (1, "a Parquet file DuckDB's COPY writes, fsynced and renamed"),
}


def _renames(tree: ast.AST) -> list[int]:
    """Lines of ``os.replace``/``os.rename`` calls, of a one-argument ``.replace`` (a path's
    rename: ``str.replace`` takes two, ``datetime.replace`` and ``Settings.replace``
    keywords), and of ``.rename`` on something named like a temp file."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        attr, owner = node.func.attr, node.func.value
        by_os = attr in ("replace", "rename") and isinstance(owner, ast.Name) and owner.id == "os"
        path_replace = attr == "replace" and len(node.args) == 1 and not node.keywords
        tmp_rename = attr == "rename" and "tmp" in ast.unparse(owner).lower()
        if by_os or path_replace or tmp_rename:
            lines.append(node.lineno)
    return lines


def _found() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in sorted(SRC.rglob("*.py")):
        lines = _renames(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[path.relative_to(SRC).as_posix()] = lines
    return found


def test_only_atomic_write_renames_a_temp_file() -> None:
    """No module outside `ALLOWED` renames a file over another; the allowed ones no more
    often than listed (a new copy there fails too)."""
    found = _found()
    extra = {
        name: lines for name, lines in found.items() if len(lines) > ALLOWED.get(name, (0, ""))[0]
    }
    assert not extra, (
        f"hand-written temp-file renames in {extra}: call "
        "ai_telemetry.log.files.atomic_write (or atomic_write_text) instead"
    )


def test_allowed_sites_still_exist() -> None:
    """An exception that went away is taken off the list (so it cannot hide a new copy)."""
    found = _found()
    stale = {name for name, (count, _why) in ALLOWED.items() if len(found.get(name, [])) < count}
    assert not stale, f"update ALLOWED in {__file__}: {sorted(stale)} no longer rename as listed"


def test_the_check_sees_each_spelling() -> None:
    """The patterns a copy is written with are all caught; other replaces are not."""
    caught = """
os.replace(tmp, path)
os.rename(tmp, path)
tmp.replace(path)
Path(tmp).replace(path)
tmp_path.rename(path)
"""
    ignored = """
text.replace("a", "b")
moment.replace(tzinfo=None)
settings.replace(durability="write")
path.rename(chained)
"""
    assert [2, 3, 4, 5, 6] == sorted(_renames(ast.parse(caught)))
    assert [] == _renames(ast.parse(ignored))


@pytest.fixture
def umask_022() -> Iterator[None]:
    """A known umask for the modes below."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_atomic_write_text_modes_and_directories(tmp_path: Path, umask_022: None) -> None:
    """``perms`` less the umask for a new file; ``keep_mode`` keeps an existing file's bits
    exactly; ``make_dirs=False`` creates no directory; nothing is left beside the file."""
    path = tmp_path / "a" / "b.txt"
    atomic_write_text(path, "één\n", perms=0o666)
    assert ("één\n", 0o644) == (path.read_text(encoding="utf-8"), path.stat().st_mode & 0o777)
    path.chmod(0o640)
    atomic_write_text(path, "two\n", keep_mode=True)
    assert ("two\n", 0o640) == (path.read_text(), path.stat().st_mode & 0o777)
    atomic_write_text(path, "three\n")
    assert 0o644 == path.stat().st_mode & 0o777
    assert ["b.txt"] == [p.name for p in path.parent.iterdir()]
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "c", b"x", make_dirs=False)
    assert not (tmp_path / "missing").exists()


def test_rewrites_replace_a_planted_link_and_keep_settings_mode(
    tmp_path: Path, umask_022: None
) -> None:
    """settings.json chmod-ed 0600 stays 0600 after a rewrite; a link at the target is
    replaced, never written through."""
    settings = tmp_path / "settings.json"
    settings.write_text("{}\n")
    settings.chmod(0o600)
    write_json_atomic(settings, {"hooks": {}})
    assert ('{\n  "hooks": {}\n}\n', 0o600) == (
        settings.read_text(),
        settings.stat().st_mode & 0o777,
    )
    victim = tmp_path / "bashrc"
    victim.write_text("mine\n")
    link = tmp_path / "state.json"
    link.symlink_to(victim)
    atomic_write(link, b"{}\n")
    assert ("mine\n", False) == (victim.read_text(), link.is_symlink())
