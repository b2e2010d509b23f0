"""``ai-telemetry ship``: send the local log (and archives) to an ``ai-telemetry serve``."""

from __future__ import annotations

import click

from ai_telemetry.cli.output import echo, echo_line


@click.command("ship")
@click.option("--to", "url", required=True, help="The server's base URL (http://host:8787).")
@click.option(
    "--token",
    envvar="AI_TELEMETRY_SHIP_TOKEN",
    required=True,
    help="A token of the server (role collector is enough); or AI_TELEMETRY_SHIP_TOKEN, "
    "which keeps it out of the process list.",
)
@click.option(
    "--once/--follow",
    "once",
    default=True,
    help="Send what is there and exit (default), or keep sending new events until stopped "
    "(SIGTERM or Ctrl-C).",
)
@click.option(
    "--give-up-after",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds of failed retries after which to stop with an error (default: 300 with "
    "--once, never with --follow).",
)
@click.option(
    "--archives/--no-archives",
    default=True,
    help="Also send the Parquet archives retention made (each part once; default on).",
)
@click.option(
    "--batch-lines",
    type=click.IntRange(min=1, max=100_000),
    default=5000,
    show_default=True,
    help="Largest batch, in lines.",
)
def ship_cmd(  # noqa: PLR0917 (click passes options positionally)
    url: str,
    token: str,
    once: bool,
    give_up_after: float | None,
    archives: bool,
    batch_lines: int,
) -> None:
    """Send the local log to a server's POST /v1/events, from where it last stopped.

    The checkpoint (<telemetry dir>/ship/) moves only after the server acknowledged a batch,
    so a shipper or a server killed at any moment loses nothing and doubles nothing (the
    server is idempotent by event_id). A rotated or truncated log is noticed and sent again
    from its first line. Network failures are retried with backoff and jitter.
    """
    import signal
    import threading

    from ai_telemetry.config import load_settings
    from ai_telemetry.ship.sender import Sender
    from ai_telemetry.ship.shipper import Shipper, checkpoint_path

    settings = load_settings()
    stop = threading.Event()
    if give_up_after is None and once:
        give_up_after = 300.0
    sender = Sender(url, token, give_up_after=give_up_after, sleep=stop.wait)  # a stop wakes it

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    shipper = Shipper(
        sender,
        log_path=settings.log_path,
        checkpoint=checkpoint_path(settings.telemetry_dir, url),
        archives_dir=settings.archives_dir if archives else None,
        batch_lines=batch_lines,
    )
    with shipper:
        report = shipper.run(follow=not once, stop=stop)
    for reason in report.restarted:
        echo_line(
            f"ai-telemetry: {settings.log_path}: {reason}; sent again from its first line", err=True
        )
    for message in report.rejections:
        echo_line(f"ai-telemetry: the server rejected a line: {message}", err=True)
    if report.skipped:
        echo(f"ai-telemetry: {report.skipped} lines over the line limit were not sent", err=True)
    parts = f", {report.archive_parts} archive parts" if report.archive_parts else ""
    echo(
        f"Shipped {report.lines} lines in {report.batches} batches to {sender.url}{parts}: "
        f"{report.accepted} accepted, {report.duplicate} duplicate, {report.rejected} rejected"
        + (f" ({report.retries} retries)" if report.retries else "")
        + "."
    )
