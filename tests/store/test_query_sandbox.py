"""``query`` reaches the warehouse's tables and nothing else (issue 12 §4): one test per escape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from store_test_helpers import append_raw, event

from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError, QueryRefusedError
from ai_telemetry.store.warehouse import Warehouse

CLI = str(Path(sys.executable).with_name("ai-telemetry"))


def _query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    append_raw(settings, [event("2025-12-15T10:00:00Z", 1)])
    with Warehouse(settings) as wh:
        wh.ingest()
        return wh.read_only_query(sql)[1]


def _refused(settings: Settings, sql: str) -> str:
    with pytest.raises(QueryRefusedError) as info:
        _query(settings, sql)
    message = str(info.value)
    assert message.startswith("query refused: ")
    assert "\n" not in message
    return message


def test_the_warehouse_tables_are_readable(settings: Settings) -> None:
    """The lock-down leaves ordinary reads, views, temp tables and UTC timestamps working."""
    rows = _query(
        settings,
        "CREATE TEMP TABLE t AS SELECT count(*) AS n FROM tool_calls; "
        "SELECT n, current_setting('TimeZone') FROM t",
    )
    assert [(1, "UTC")] == rows


def test_reading_a_file_is_refused(settings: Settings, tmp_path: Path) -> None:
    """read_csv, read_text and a glob over the file system are refused."""
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\nroot,hunter2\n")
    for sql in (
        f"SELECT * FROM read_csv('{secret}')",
        f"SELECT * FROM read_text('{secret}')",
        "SELECT * FROM read_csv('/etc/passwd')",
        f"SELECT * FROM glob('{tmp_path}/*')",
    ):
        assert "file system operations are disabled" in _refused(settings, sql), sql


def test_copy_to_a_file_is_refused(settings: Settings, tmp_path: Path) -> None:
    """COPY ... TO and EXPORT DATABASE write nothing."""
    target = tmp_path / "out.csv"
    _refused(settings, f"COPY (SELECT * FROM events) TO '{target}'")
    _refused(settings, f"EXPORT DATABASE '{tmp_path / 'dump'}'")
    assert (False, False) == (target.exists(), (tmp_path / "dump").exists())


def test_attach_is_refused(settings: Settings, tmp_path: Path) -> None:
    """ATTACH of another database file is refused, and creates nothing."""
    other = tmp_path / "other.duckdb"
    _refused(settings, f"ATTACH '{other}' AS other")
    assert not other.exists()


def test_install_and_load_are_refused(settings: Settings) -> None:
    """INSTALL and LOAD of an extension are refused (nothing is downloaded at run time)."""
    _refused(settings, "INSTALL httpfs")
    _refused(settings, "LOAD httpfs")


def test_set_cannot_undo_the_lock_down(settings: Settings) -> None:
    """SET, RESET and PRAGMA cannot turn file access back on or change a setting."""
    for sql in (
        "SET enable_external_access = true",
        "SET memory_limit = '10GB'",
        "RESET TimeZone",
        "PRAGMA threads = 1",
    ):
        assert "locked" in _refused(settings, sql), sql


def test_broken_sql_is_still_a_query_failure(settings: Settings) -> None:
    """A typo is an ordinary failure, not a refusal."""
    with pytest.raises(AnalyticsError) as info:
        _query(settings, "SELEC 1")
    assert not isinstance(info.value, QueryRefusedError)


def test_cli_says_refused_in_one_line(tmp_path: Path, telemetry_dir: Path) -> None:
    """ai-telemetry query read_csv('/etc/passwd') prints one line and exits 1, no rows."""
    log = telemetry_dir / "events.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text('{"timestamp":"2025-12-15T10:00:00Z","event_type":"tool_call","tool":"T"}\n')
    proc = subprocess.run(
        [CLI, "query", "SELECT * FROM read_csv('/etc/passwd')"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
        check=False,
    )
    assert (1, "", 1) == (proc.returncode, proc.stdout, len(proc.stderr.splitlines()))
    assert proc.stderr.startswith("ai-telemetry: error: query refused: "), proc.stderr
