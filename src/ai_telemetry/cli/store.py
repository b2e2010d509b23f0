"""``ai-telemetry store ...``: the central PostgreSQL store, and the ``--store URL`` option.

``--store URL`` (on aggregate, top, trend, query, dashboard, detect, weekly, status, serve,
projects, review learnings, audit skills, compare skill, propose fix and propose skills) is
``AI_TELEMETRY_STORE`` for one command: ``duckdb`` (the default) or a ``postgresql://`` URL.
It is kept in `ai_telemetry.stores.chosen_store` for the composition root to read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ai_telemetry.cli.output import echo

F = TypeVar("F", bound=Callable[..., Any])


def _remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        from ai_telemetry.store.postgres import store_url
        from ai_telemetry.stores import chosen_store

        store_url(value)  # refuse a wrong value before the command starts
        token = chosen_store.set(value)
        ctx.call_on_close(lambda: chosen_store.reset(token))  # for this command only
    return value


def store_option(func: F) -> F:
    """``--store URL``: which store the command reads (not passed to the command)."""
    return click.option(
        "--store",
        "store",
        metavar="URL",
        expose_value=False,
        callback=_remember,
        help="duckdb (default) or a postgresql:// URL; default: $AI_TELEMETRY_STORE.",
    )(func)


def _postgres(option: str | None, *, check: bool = True) -> Any:
    from ai_telemetry.config import load_settings
    from ai_telemetry.errors import ConfigError
    from ai_telemetry.store.postgres import PostgresStore, store_url

    url = store_url(option)
    if url is None:
        raise ConfigError(
            "this command needs a PostgreSQL store: pass --store postgresql://... or set "
            "AI_TELEMETRY_STORE"
        )
    return PostgresStore(url, settings=load_settings(), check=check)


_STORE = click.option(
    "--store", "url", metavar="URL", help="postgresql:// URL; default: $AI_TELEMETRY_STORE."
)


@click.group("store")
def store_group() -> None:
    """The central PostgreSQL store: migrate its schema, load the local log, retention."""


@store_group.command("migrate")
@_STORE
def store_migrate_cmd(url: str | None) -> None:
    """Create or upgrade the store's tables (versioned migrations, each in one transaction)."""
    with _postgres(url, check=False) as store:
        done = store.migrate()
        version = store.schema_version()
    if done:
        echo(f"{store.path}: applied migration(s) {', '.join(map(str, done))}; now at {version}")
    else:
        echo(f"{store.path}: already at version {version}, nothing to do")


@store_group.command("load")
@_STORE
def store_load_cmd(url: str | None) -> None:
    """Send the local log (through the local warehouse) to the store; only what is new."""
    with _postgres(url) as store:
        report = store.load_warehouse()
    echo(
        f"{store.path}: sent {report.sent} event(s), {report.replaced} replaced a stored copy"
        + (f"; new partitions {', '.join(report.partitions)}" if report.partitions else "")
    )


@store_group.command("retention")
@_STORE
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    help="Partitions wholly older than this many days are archived, then dropped.",
)
@click.option("--dry-run", is_flag=True, help="Only say which partitions would go.")
def store_retention_cmd(url: str | None, days: int, dry_run: bool) -> None:
    """Archive month partitions older than --days to Parquet (verified), then drop them."""
    from ai_telemetry.store.pg_retention import apply_pg_retention

    with _postgres(url) as store:
        report = apply_pg_retention(store, raw_days=days, dry_run=dry_run)
    verb = "would archive" if dry_run else "archived"
    names = ", ".join(report.partitions) or "no partition"
    echo(f"{store.path}: {verb} {names} ({report.archived} events) before {report.cutoff}")
    for line in report.recovered:
        echo(f"recovered: {line}", err=True)
