"""The read commands on the PostgreSQL store, through `--store URL` and the composition root."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ai_telemetry import demo
from ai_telemetry.cli import cli
from ai_telemetry.config import Settings
from ai_telemetry.store.postgres import PostgresStore


@pytest.fixture
def demo_store(postgres_url: str, settings: Settings) -> str:
    """A migrated store and a log of four weeks of demo data ending this week."""
    with PostgresStore(postgres_url, settings=settings, check=False) as store:
        store.migrate()
    data = demo.generate(weeks=8, seed=3, end=datetime.now(UTC) + timedelta(days=7))
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    settings.log_path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in data.events))
    return postgres_url


@pytest.mark.parametrize(
    "argv",
    [
        ["aggregate", "--json"],
        ["top", "tools", "--json"],
        ["trend", "skill_success_rate", "--json"],
        ["query", "SELECT count(*) AS n FROM events", "--json"],
        ["status", "--json"],
        ["detect", "--json"],
    ],
    ids=lambda a: a[0],
)
def test_read_command_on_postgres(demo_store: str, settings: Settings, argv: list[str]) -> None:
    """Each read command answers from PostgreSQL with its --json document."""
    if argv[0] == "detect":  # detects on metrics.json: write it first
        assert 0 == CliRunner().invoke(cli, ["aggregate", "--store", demo_store]).exit_code
    result = CliRunner().invoke(cli, [*argv, "--store", demo_store])
    assert result.exit_code in (0, 1), result.output  # detect exits 1 when it finds alerts
    json.loads(result.stdout)
    with PostgresStore(demo_store, settings=settings) as store:
        assert store.count() > 0  # the command loaded the local log into the store


def test_store_option_lasts_one_command(demo_store: str) -> None:
    """After a command with --store, the next one without it is back on the default store."""
    from ai_telemetry.stores import chosen_store

    assert 0 == CliRunner().invoke(cli, ["top", "tools", "--store", demo_store]).exit_code
    assert chosen_store.get() is None


def test_dashboard_on_postgres(demo_store: str, tmp_path: Path) -> None:
    """dashboard --store writes its file from the PostgreSQL store."""
    out = tmp_path / "dash.md"
    assert 0 == CliRunner().invoke(cli, ["aggregate", "--store", demo_store]).exit_code
    result = CliRunner().invoke(cli, ["dashboard", "--store", demo_store, "--output", str(out)])
    assert 0 == result.exit_code, result.output
    assert out.stat().st_size > 0


def test_aggregate_reads_the_same_numbers_as_duckdb(demo_store: str, tmp_path: Path) -> None:
    """aggregate --store postgresql:// writes the same metrics as the default DuckDB store."""
    pg_out, duck_out = tmp_path / "pg.json", tmp_path / "duck.json"
    pg = CliRunner().invoke(cli, ["aggregate", "--store", demo_store, "--output", str(pg_out)])
    duck = CliRunner().invoke(cli, ["aggregate", "--output", str(duck_out)])
    assert 0 == pg.exit_code, pg.output
    assert 0 == duck.exit_code, duck.output
    a, b = json.loads(pg_out.read_text()), json.loads(duck_out.read_text())
    assert a["events"] == b["events"]
    assert a["metrics"].keys() == b["metrics"].keys()


def test_unmigrated_store_is_one_line(postgres_url: str, settings: Settings) -> None:
    """A read command on a store that is behind fails in one line naming `store migrate`."""
    result = CliRunner().invoke(cli, ["aggregate", "--store", postgres_url])
    assert 2 == result.exit_code
    assert 1 == len(result.output.strip().splitlines())
    assert "ai-telemetry store migrate" in result.output


def test_wrong_store_value(settings: Settings) -> None:
    """--store with neither duckdb nor a postgresql:// URL is refused before anything runs."""
    result = CliRunner().invoke(cli, ["top", "tools", "--store", "mysql://x/y"])
    assert 0 != result.exit_code
    assert "postgresql://" in result.output


def test_weekly_on_postgres(demo_store: str, settings: Settings) -> None:
    """weekly --store runs the weekly job (aggregate, history, detect, dashboard) on PostgreSQL."""
    result = CliRunner().invoke(cli, ["weekly", "--store", demo_store])
    assert result.exit_code in (0, 1), result.output  # 1: alerts were found
    assert settings.metrics_path.exists()
    with PostgresStore(demo_store, settings=settings) as store:
        assert store.weeks()  # the weekly history was recorded in PostgreSQL
