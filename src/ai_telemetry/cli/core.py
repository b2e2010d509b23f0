"""Foundation commands: init, log, doctor, schema, demo."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson

from ai_telemetry.cli.output import echo, echo_json, echo_line, emit, json_option
from ai_telemetry.config import load_settings
from ai_telemetry.errors import AITelemetryError, EventValidationError

_BATCH = 5_000


@click.command("init")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="Telemetry directory.")
def init_cmd(directory: Path | None) -> None:
    """Create the telemetry layout: events.jsonl, dashboards/, alerts.log, archives/."""
    from ai_telemetry.store.layout import init_layout

    settings = load_settings(telemetry_dir=directory)
    created = init_layout(settings)
    for path in created:
        echo(f"created {path}")
    if not created:
        echo(f"{settings.telemetry_dir} is ready; nothing to create")


def _parse_field(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r}: write KEY=VALUE, e.g. skill=test-writer")
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw
    if isinstance(value, dict | list):
        value = raw
    return key, value


def _stdin_events(stream: Any, errors: list[str]) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc.msg})")


@click.command("log")
@click.argument("event_type", required=False)
@click.option("-f", "--field", "fields", multiple=True, help="KEY=VALUE (JSON values allowed).")
@click.option("--json", "json_text", help="One whole event as a JSON object.")
@click.option("--source", default="cli", show_default=True, help="Source stamped on the events.")
def log_cmd(
    event_type: str | None, fields: tuple[str, ...], json_text: str | None, source: str
) -> None:
    """Append events: one from options or --json, or many as JSON Lines on stdin (EVENT_TYPE -).

    \b
    ai-telemetry log skill_execution -f skill=test-writer -f outcome=success \\
        -f duration_seconds=12.5
    ai-telemetry log --json '{"event_type": "lint_report", "lint_errors": 0,
        "timestamp": "2025-12-26T10:30:00Z"}'
    cat events.jsonl | ai-telemetry log -

    The event is in the file when the command returns (durability write or fsync). Exits 1
    when any event was rejected; the valid ones are written all the same.
    """
    from ai_telemetry.events.schema import utc_now
    from ai_telemetry.log.sink import LogSink

    settings = load_settings()
    if settings.durability == "buffered":
        settings = settings.replace(durability="write")
    sink = LogSink(settings, source=source)
    rejected: list[str] = []
    written = 0
    try:
        if event_type == "-" or (event_type is None and json_text is None):
            if event_type is None and sys.stdin.isatty():
                raise click.UsageError("give EVENT_TYPE and fields, --json, or JSON Lines on stdin")
            batch: list[Any] = []
            numbers: list[int] = []
            for number, item in _stdin_events(sys.stdin.buffer, rejected):
                batch.append(item)
                numbers.append(number)
                if len(batch) >= _BATCH:
                    written += _write(sink, batch, numbers, rejected)
                    batch, numbers = [], []
            written += _write(sink, batch, numbers, rejected)
        else:
            event: dict[str, Any] = {}
            if json_text is not None:
                try:
                    parsed = orjson.loads(json_text)
                except orjson.JSONDecodeError as exc:
                    raise EventValidationError(
                        "", f"--json is not valid JSON ({exc.msg})"
                    ) from None
                if not isinstance(parsed, dict):
                    raise EventValidationError("", "--json must be a JSON object")
                event.update(parsed)
            if event_type is not None:
                event["event_type"] = event_type
            event.update(_parse_field(text) for text in fields)
            event.setdefault("timestamp", utc_now())
            written += _write(sink, [event], [1], rejected)
            if rejected:
                raise EventValidationError("", rejected[0].partition(": ")[2])
    finally:
        sink.close()
    echo(f"wrote {written} event(s) to {settings.log_path}", err=True)
    for message in rejected[:20]:
        echo_line(f"rejected {message}", err=True)
    if len(rejected) > 20:
        echo(f"... and {len(rejected) - 20} more rejected", err=True)
    if rejected:
        sys.exit(1)


def _write(sink: Any, batch: list[Any], numbers: list[int], rejected: list[str]) -> int:
    if not batch:
        return 0
    report = sink.write(batch)
    for name, count in report.unknown_types.items():
        echo(f"kept {count} event(s) of unknown type {name!r} (see docs/events.md)", err=True)
    rejected.extend(f"line {numbers[index]}: {reason}" for index, reason in report.rejected)
    if report.spooled:
        click.echo(
            f"the log is locked by another process: kept {report.spooled} event(s) in "
            f"{sink.log.path.name}.spool/; the next writer appends them",
            err=True,
        )
    return int(report.written)


@click.command("doctor")
@json_option
def doctor_cmd(as_json: bool) -> None:
    """Check the setup and show problems the SDK and hooks swallowed. Exits 1 on failure."""
    from ai_telemetry.doctor import Check, doctor_document, run_checks

    try:
        settings = load_settings()
    except AITelemetryError as exc:
        if as_json:
            emit(doctor_document(None, [Check("config", "fail", str(exc))]))
        else:
            echo(f"fail  config: {exc}")
        sys.exit(1)
    checks = run_checks(settings)
    if as_json:
        emit(doctor_document(settings, checks))
    else:
        echo(f"telemetry dir  {settings.telemetry_dir}")
        echo(f"log            {settings.log_path}")
        echo(f"durability     {settings.durability}    privacy {settings.privacy_policy}")
        echo(f"config file    {settings.config_path}")
        for check in checks:
            fix = f"  -> {check.fix}" if check.fix and check.status != "ok" else ""
            echo(f"{check.status:<5} {check.name}: {check.detail}{fix}")
    if any(check.status == "fail" for check in checks):
        sys.exit(1)


@click.command("schema")
@click.option("--markdown", is_flag=True, help="Print docs/events.md instead.")
def schema_cmd(markdown: bool) -> None:
    """Print the event contract as JSON Schema (draft 2020-12)."""
    from ai_telemetry.events.jsonschema import events_markdown, json_schema

    if markdown:
        echo(events_markdown())
    else:
        echo_json(orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2).decode())


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("ai-telemetry-demo"),
    show_default=True,
    help="Where the demo telemetry directory goes (never your real one).",
)
@click.option("--weeks", default=12, show_default=True, help="Weeks of data (at least 8).")
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@click.option("--end", help="Monday after the last week, YYYY-MM-DD (default: this week).")
def demo_cmd(directory: Path, weeks: int, seed: int, end: str | None) -> None:
    """Write a realistic sample data set and run the pipeline on it."""
    from ai_telemetry.pipeline import run_demo

    for line in run_demo(directory, weeks=weeks, seed=seed, end=end):
        echo(line)
