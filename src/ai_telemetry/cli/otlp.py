"""``ai-telemetry import otlp FILE``: a thin twin of `import_otlp_file`."""

from __future__ import annotations

from pathlib import Path

import click

from ai_telemetry.cli.output import echo, echo_line


@click.command("otlp")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["logs", "metrics", "traces"]),
    default=None,
    help="What the file holds (default: detected per request).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "protobuf"]),
    default=None,
    help="OTLP/JSON (also JSON Lines) or OTLP/protobuf (default: from name or content).",
)
@click.option("--force", is_flag=True, help="Read a file again even if it was imported before.")
def import_otlp_cmd(
    files: tuple[Path, ...], kind: str | None, fmt: str | None, force: bool
) -> None:
    """Import OTLP files (Claude Code telemetry, GenAI spans) into the event log.

    Importing the same file twice adds nothing. Prompts, tool inputs and user e-mails in the
    telemetry are never stored.
    """
    from ai_telemetry.collect.otlp.importer import import_otlp_file
    from ai_telemetry.config import load_settings

    settings = load_settings()
    for path in files:
        report = import_otlp_file(
            path,
            settings=settings,
            kind=kind,  # type: ignore[arg-type]
            fmt=fmt,  # type: ignore[arg-type]
            force=force,
        )
        if report.already_imported:
            echo(f"{path}: already imported, nothing to do (--force to read it again)")
            continue
        result = report.result
        line = (
            f"{path}: {report.written} events written from {result.records} records "
            f"in {report.requests} request(s)"
        )
        if report.duplicates:
            line += f", {report.duplicates} already in the log"
        if report.covered_by_hook:
            line += f", {report.covered_by_hook} already recorded by the Claude Code hook"
        if report.write is not None and report.write.rejected:
            line += f", {len(report.write.rejected)} rejected"
        echo_line(line)
        if result.skipped:
            skipped = ", ".join(f"{name} x{count}" for name, count in result.skipped.most_common())
            echo_line(f"  skipped: {skipped}")
        if report.write is not None:
            for index, reason in report.write.rejected[:5]:
                echo_line(f"  rejected event {index}: {reason}", err=True)
