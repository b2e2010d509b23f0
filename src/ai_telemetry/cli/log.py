"""``ai-telemetry validate`` and ``ai-telemetry tail``: the log's health and its latest events."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from ai_telemetry.cli.output import echo, echo_json, echo_line, emit, json_option

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SHOWN_BAD_LINES = 50


def parse_when(text: str, *, now: datetime) -> datetime:
    """Parse ``--since``/``--until``: an RFC 3339 time, a date, or an age such as ``7d`` or ``2h``.

    A time without an offset, and a bare date, are taken as UTC.

    Raises:
        click.BadParameter: the text is none of those.
    """
    match = _RELATIVE.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return now - timedelta(**{_UNITS[unit]: amount})
    value = text.strip()
    if value[-1:] in ("z", "Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a time; write e.g. 2025-12-26T10:30:00Z, 2025-12-26, 7d, 2h or 30m"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _resolve_log(log: Path | None) -> tuple[Path, Path]:
    """(log path, quarantine path) from ``--log`` or the settings."""
    from ai_telemetry.config import load_settings

    settings = load_settings(log_path=log)
    return settings.log_path, settings.quarantine_path


def _text_line(event: dict[str, Any]) -> str:
    """One event on one line: values escaped (`terminal`), so a newline in a name cannot
    split it and no control character reaches the terminal."""
    from ai_telemetry.report.escape import terminal

    head = terminal(f"{event.get('timestamp', '?')}  {event.get('event_type', '?')}")
    rest = " ".join(
        f"{terminal(k)}={terminal(v)}"
        for k, v in event.items()
        if k not in ("timestamp", "event_type", "event_id")
    )
    return f"{head}  {rest}" if rest else head


def _printer(as_json: bool) -> Callable[[dict[str, Any]], None]:
    if as_json:
        import orjson

        return lambda event: echo_json(orjson.dumps(event).decode())
    return lambda event: echo(_text_line(event))


@click.command("validate")
@click.option(
    "--log",
    "log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Log to check (default: AI_TELEMETRY_LOG_PATH, else <telemetry dir>/events.jsonl).",
)
@click.option(
    "--no-quarantine",
    is_flag=True,
    help="Only report; leave bad lines in the log.",
)
@json_option
def validate_cmd(*, log: Path | None, no_quarantine: bool, as_json: bool) -> None:
    """Check every line of the event log; move bad lines to the quarantine file.

    Reports the number of valid events, each bad line as "line N: reason", and event types
    outside the contract (kept, not dropped). Bad lines are moved, raw and with their line
    number and reason, to events.quarantine.jsonl beside the log, unless --no-quarantine.
    The privacy guard is applied to the valid events too (a line appended by hand never met
    it): values it finds are redacted in the log itself, and their number is reported (with
    --no-quarantine, only counted).

    Exit status: 0 when every line is a valid event, 1 when bad lines were found (whether or not
    they were moved), and non-zero with a one-line message when the log cannot be read.
    """
    from ai_telemetry.log.reader import quarantine_bad_lines, read_log, redact_log

    path, quarantine_path = _resolve_log(log)
    if no_quarantine:
        report = read_log(path)
    else:
        report = quarantine_bad_lines(path, quarantine_path=quarantine_path)
    report.redacted, report.redacted_lines = redact_log(path, apply=not no_quarantine)
    if as_json:
        emit(report.to_document(path))
    else:
        _print_report(path, report, report_only=no_quarantine)
    if report.bad:
        raise SystemExit(1)


def _print_report(path: Path, report: Any, *, report_only: bool) -> None:
    bad = report.bad
    echo(f"{path}: {report.valid} valid events, {len(bad)} bad lines")
    for item in bad[:_SHOWN_BAD_LINES]:
        echo_line(f"  line {item.line}: {item.reason}")
    if len(bad) > _SHOWN_BAD_LINES:
        echo(f"  ... and {len(bad) - _SHOWN_BAD_LINES} more (use --json for all)")
    if report.unknown_types:
        listed = ", ".join(f"{name} ({n})" for name, n in report.unknown_types.most_common())
        echo_line(f"unknown event types (kept): {listed}")
    if report.quarantined:
        echo(f"moved {report.quarantined} bad lines to {report.quarantine_path}")
    elif bad:
        echo("bad lines left in place (--no-quarantine)")
    if report.redacted:
        verb = "would redact" if report_only else "redacted"
        echo(f"privacy guard: {verb} {report.redacted} values in {report.redacted_lines} lines")


@click.command("tail")
@click.option(
    "-n",
    "--lines",
    "count",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="How many of the latest matching events to show.",
)
@click.option(
    "--type",
    "event_types",
    multiple=True,
    metavar="TYPE",
    help="Only this event type; repeat for several.",
)
@click.option(
    "--since",
    metavar="WHEN",
    help="Only events at or after WHEN: RFC 3339, a date, or an age (7d, 2h, 30m).",
)
@click.option("--until", metavar="WHEN", help="Only events before WHEN (same forms as --since).")
@click.option(
    "-f", "--follow", is_flag=True, help="Keep printing new events as they arrive, until Ctrl-C."
)
@click.option(
    "--json/--text",
    "as_json",
    default=True,
    show_default=True,
    help="JSON Lines (one event per line), or a short readable line per event.",
)
@click.option(
    "--log",
    "log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Log to read (default: AI_TELEMETRY_LOG_PATH, else <telemetry dir>/events.jsonl).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.01),
    default=0.5,
    show_default=True,
    help="Seconds between polls with --follow.",
)
def tail_cmd(
    *,
    count: int,
    event_types: Sequence[str],
    since: str | None,
    until: str | None,
    follow: bool,
    as_json: bool,
    log: Path | None,
    interval: float,
) -> None:
    """Print the latest events of the log, optionally filtered by type and time.

    Bad lines are skipped (ai-telemetry validate reports them).
    """
    from ai_telemetry.log.reader import TORN, scan_log

    path, _ = _resolve_log(log)
    now = datetime.now(UTC)
    since_at = parse_when(since, now=now) if since else None
    until_at = parse_when(until, now=now) if until else None
    wanted = frozenset(event_types) or None
    show = _printer(as_json)

    def matches(event: dict[str, Any]) -> bool:
        if wanted is not None and event["event_type"] not in wanted:
            return False
        if since_at is None and until_at is None:
            return True
        moment = datetime.fromisoformat(event["timestamp"])
        return (since_at is None or moment >= since_at) and (until_at is None or moment < until_at)

    def read_from(offset: int, keep: int | None) -> tuple[list[dict[str, Any]], int]:
        found: deque[dict[str, Any]] = deque(maxlen=keep)
        for line in scan_log(path, start_offset=offset):
            if line.reason == TORN:
                break  # maybe a write in progress: read it again on the next poll
            offset = line.end
            if line.event is not None and matches(line.event):
                found.append(line.event)
        return list(found), offset

    events, offset = read_from(0, count)
    for event in events:
        show(event)
    if not follow:
        return
    _follow(path, offset, interval, read_from, show)


def _follow(
    path: Path,
    offset: int,
    interval: float,
    read_from: Callable[[int, int | None], tuple[list[dict[str, Any]], int]],
    show: Callable[[dict[str, Any]], None],
) -> None:
    """Poll for new lines until Ctrl-C.

    When the log is replaced (retention, quarantine) or shrinks, go on from the new file's end:
    its lines are the old ones rewritten, already shown.
    """
    identity = _identity(path)
    try:
        while True:
            time.sleep(interval)
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if (st.st_dev, st.st_ino) != identity or st.st_size < offset:
                identity, offset = (st.st_dev, st.st_ino), _last_line_end(path, st.st_size)
            if st.st_size == offset:
                continue
            events, offset = read_from(offset, None)
            for event in events:
                show(event)
    except KeyboardInterrupt:
        return


def _identity(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (-1, -1)
    return (st.st_dev, st.st_ino)


def _last_line_end(path: Path, size: int) -> int:
    """Offset just past the last newline in the first ``size`` bytes (0 when there is none)."""
    with path.open("rb") as fh:
        pos = size
        while pos > 0:
            step = min(pos, 65536)
            fh.seek(pos - step)
            block = fh.read(step)
            at = block.rfind(b"\n")
            if at >= 0:
                return pos - step + at + 1
            pos -= step
    return 0
