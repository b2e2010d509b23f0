"""``aggregate``, ``top``, ``trend``, ``query``, ``retention``: the analytics commands.

Each parses its options, calls the library (`ai_telemetry.analyze`, `ai_telemetry.store`) and
prints; errors from the library become one line and a non-zero exit.
"""

from __future__ import annotations

from pathlib import Path

import click

from ai_telemetry.cli.options import project_option
from ai_telemetry.cli.output import echo, echo_json, echo_line, emit, json_option
from ai_telemetry.cli.store import store_option
from ai_telemetry.config import Settings, load_settings


def _settings(input_path: Path | None = None) -> Settings:
    settings = load_settings()
    if input_path is not None:
        # The warehouse lives next to the log it reads, so two logs never mix in one table.
        settings = settings.replace(log_path=input_path, telemetry_dir=input_path.parent)
    return settings


@click.command("aggregate")
@store_option
@click.option(
    "--input", "input_path", type=click.Path(path_type=Path), help="events.jsonl to read."
)
@click.option("--start", help="Window start (date or RFC 3339); default: 7 days before --end.")
@click.option("--end", help="Window end (date or RFC 3339, exclusive); default: now.")
@click.option("--output", type=click.Path(path_type=Path), help="metrics.json to write.")
@project_option
@click.option(
    "--backfill-weeks",
    type=click.IntRange(min=0),
    default=0,
    help="Also recompute the weekly history of the last N complete weeks.",
)
@click.option(
    "--allow-empty", is_flag=True, help="Write nulls instead of failing on an empty window."
)
@json_option
def aggregate_cmd(  # noqa: PLR0917 (click passes options positionally)
    input_path: Path | None,
    start: str | None,
    end: str | None,
    output: Path | None,
    project: str | None,
    backfill_weeks: int,
    allow_empty: bool,
    as_json: bool,
) -> None:
    """Compute every metric for a window and write metrics.json (the seed's aggregate.py)."""
    from ai_telemetry.analyze.aggregate import aggregate
    from ai_telemetry.analyze.metrics import write_metrics_json
    from ai_telemetry.analyze.window import window_from
    from ai_telemetry.errors import AnalyticsError

    settings = _settings(input_path)
    if input_path is not None and not input_path.is_file():
        raise AnalyticsError(f"--input {input_path}: no such file; point it at an events.jsonl")
    window = window_from(start, end)
    doc = aggregate(
        window,
        settings=settings,
        project=project,
        backfill_weeks=backfill_weeks,
        allow_empty=allow_empty,
    )
    target = output or settings.metrics_path
    write_metrics_json(doc, target)
    if as_json:
        from ai_telemetry.analyze.aggregate import aggregate_document

        emit(aggregate_document(doc, output=str(target)))
        return
    events = doc["events"]
    bad = events.get("bad_lines", 0)
    note = f", {bad} bad line{'s' * (bad != 1)} in the log skipped" if bad else ""
    total = events["total"]
    echo(
        f"wrote {target}: {total} event{'s' * (total != 1)} from {doc['window']['start']} to "
        f"{doc['window']['end']}{note}",
        err=True,
    )


@click.command("top")
@store_option
@click.argument("kind", type=click.Choice(["skills", "agents", "tools", "errors"]))
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True)
@project_option
@json_option
def top_cmd(kind: str, days: int, limit: int, project: str | None, as_json: bool) -> None:
    """Top skills, agents, tools or errors of the last N days (the seed's example query)."""
    from ai_telemetry.analyze.top import load_top, render_top, top_document

    rows, window = load_top(kind, days=days, limit=limit, settings=_settings(), project=project)
    if as_json:
        emit(top_document(rows, kind, days=days, limit=limit, window=window, project=project))
    else:
        echo(render_top(rows, kind, days=days, limit=limit))


@click.command("trend")
@store_option
@click.argument("metric")
@click.option("--key", help="Skill, agent, tool, severity, ... of a keyed metric.")
@click.option("--weeks", type=click.IntRange(min=1, max=520), default=12, show_default=True)
@project_option
@json_option
def trend_cmd(metric: str, key: str | None, weeks: int, project: str | None, as_json: bool) -> None:
    """Show one metric week by week (e.g. skill_success_rate --key systematic-debugger)."""
    from ai_telemetry.analyze.history import metric_series, render_trend, trend_document

    series = metric_series(metric, key=key, weeks=weeks, settings=_settings(), project=project)
    if as_json:
        emit(trend_document(metric, series, key=key, project=project))
    else:
        echo(render_trend(metric, series, key=key, weeks=weeks))


@click.command("query")
@store_option
@click.argument("sql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table, csv, or json (a bare array of row objects; --json is the versioned document).",
)
@project_option
@json_option
def query_cmd(sql: str, fmt: str, project: str | None, as_json: bool) -> None:
    """Run SQL over the warehouse, read-only (tables: events; views: skill_executions, ...).

    Only the warehouse's tables are reachable: reading or writing files (read_csv, COPY ... TO),
    ATTACH, INSTALL/LOAD and SET are refused (docs/privacy.md#what-query-refuses). With
    --project, events and the views hold that project's events only.
    """
    from ai_telemetry.stores import open_store

    with open_store(_settings()) as store:
        store.ingest()
        names, rows = store.query(sql, project=project)
    if as_json:
        from ai_telemetry.store.query_result import query_document

        emit(query_document(names, rows))
    else:
        _print_rows(names, rows, fmt)


def _print_rows(names: list[str], rows: list[tuple[object, ...]], fmt: str) -> None:
    if fmt == "json":
        import orjson

        echo_json(
            orjson.dumps([dict(zip(names, r, strict=True)) for r in rows], default=str).decode()
        )
    elif fmt == "csv":
        import csv
        import sys

        from ai_telemetry.report.escape import terminal

        writer = csv.writer(sys.stdout)
        if sys.stdout.isatty():  # piped CSV stays lossless; on a terminal no control runs
            names = [terminal(n) for n in names]
            rows = [tuple(v if v is None else terminal(v) for v in r) for r in rows]
        writer.writerow(names)
        writer.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        from ai_telemetry.report.escape import rich_text

        # Text cells: rich renders them as they are (no [markup], no :emoji:, no controls)
        table = Table()
        for name in names:
            table.add_column(rich_text(name))
        for r in rows:
            table.add_row(*(rich_text("" if v is None else v) for v in r))
        Console(markup=False, emoji=False, highlight=False).print(table)


@click.group("retention")
def retention_group() -> None:
    """Archive raw events older than 90 days to Parquet; prune old metric history."""


@retention_group.command("apply")
@click.option("--dry-run", is_flag=True, help="Only say what would move.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    help="Age after which raw events are archived.",
)
@json_option
def retention_apply_cmd(dry_run: bool, days: int, as_json: bool) -> None:
    """Move old raw events to archives/YYYY/*.parquet (crash-safe; archived events still count)."""
    from ai_telemetry.store.retention import apply_retention

    report = apply_retention(_settings(), raw_days=days, dry_run=dry_run)
    if as_json:
        emit(report.to_document())
        return
    for line in report.recovered:
        echo_line(f"recovered: {line}")
    verb = "would archive" if dry_run else "archived"
    echo(
        f"{verb} {report.archived} events older than {report.cutoff}; "
        f"{report.kept} lines stay in the log"
    )
    for name in report.files:
        echo(f"  archives/{name}")
    if not dry_run:
        echo(f"pruned {report.metrics_pruned} weekly metric rows older than 2 years")
