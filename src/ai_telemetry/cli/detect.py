"""Detection commands: ``spc`` (control charts over series on stdin), ``detect`` (alerts from
metrics.json), ``gate`` (the deployment pause signal), ``weekly`` (the whole weekly job) and
``schedule`` (cron / systemd for it).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ai_telemetry.cli.options import project_option
from ai_telemetry.cli.output import echo, echo_json, echo_line, emit, json_option
from ai_telemetry.cli.store import store_option
from ai_telemetry.errors import AnalyticsError


def _parse_series(line: str, number: int) -> list[float]:
    """One stdin line -> a list of finite numbers, or an error naming the line."""
    import orjson

    hint = "write one JSON array of numbers per line, e.g. [12.0, 11.5, 13]"
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise AnalyticsError(f"stdin line {number}: not valid JSON ({exc}); {hint}") from None
    if not isinstance(data, list):
        raise AnalyticsError(
            f"stdin line {number}: expected a JSON array, got {type(data).__name__}; {hint}"
        )
    values: list[float] = []
    for position, item in enumerate(data):
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise AnalyticsError(
                f"stdin line {number}, item {position}: {item!r} is not a number; {hint}"
            )
        value = float(item)
        if not math.isfinite(value):
            raise AnalyticsError(f"stdin line {number}, item {position}: {item!r} is not finite")
        values.append(value)
    return values


def _split_names(values: Sequence[str]) -> list[str]:
    return [name for value in values for name in value.split(",") if name.strip()]


@click.command("spc")
@click.option("--center", type=float, help="Centre line (target). Estimated when omitted.")
@click.option(
    "--sigma",
    type=click.FloatRange(min=0, min_open=True),
    help="One standard deviation (> 0). Estimated when omitted.",
)
@click.option(
    "--rules",
    "rule_sets",
    multiple=True,
    default=("western-electric",),
    show_default=True,
    help="Rule sets: western-electric, cusum, ewma, robust (comma-separated or repeated).",
)
@click.option(
    "--baseline",
    "baseline_points",
    type=click.IntRange(min=2),
    help="Estimate from the first N points of each line (default: all of them).",
)
@click.option(
    "--estimator",
    type=click.Choice(["moving-range", "robust", "stddev"]),
    help="How to estimate: moving-range (default), robust (median/MAD; default for robust), "
    "stddev.",
)
@click.option("--cusum-k", type=float, default=0.5, show_default=True, help="CUSUM allowance.")
@click.option("--cusum-h", type=float, default=5.0, show_default=True, help="CUSUM interval.")
@click.option("--ewma-lambda", type=float, default=0.2, show_default=True, help="EWMA weight.")
@click.option("--ewma-l", type=float, default=2.962, show_default=True, help="EWMA limit width.")
@click.option(
    "--ewma-asymptotic", is_flag=True, help="EWMA: asymptotic limits instead of exact ones."
)
@click.option(
    "--robust-threshold",
    type=float,
    default=3.5,
    show_default=True,
    help="robust: modified z-score beyond which a point is an outlier.",
)
@json_option
def spc_cmd(
    *,
    center: float | None,
    sigma: float | None,
    rule_sets: tuple[str, ...],
    baseline_points: int | None,
    estimator: str | None,
    cusum_k: float,
    cusum_h: float,
    ewma_lambda: float,
    ewma_l: float,
    ewma_asymptotic: bool,
    robust_threshold: float,
    as_json: bool,
) -> None:
    """Check series for out-of-control points with control-chart rules.

    Reads JSON Lines on stdin, each line an array of numbers (oldest first), and writes one JSON
    line per input line: [{"index": i, "rules": ["WE2", ...]}, ...] for every point where a rule
    fires ([] when none). Blank lines are skipped. Without --center/--sigma each line's centre and
    sigma are estimated from its baseline window, and stderr says how. With --json, one document
    for all lines once stdin ends, each series with its baseline and signals.

    \b
    Example:
      echo '[0, 0.5, 3.5, 2.5, 2.4, 0]' | ai-telemetry spc --center 0 --sigma 1
    """
    import orjson

    from ai_telemetry.analyze.spc import (
        Baseline,
        check_series,
        estimate_baseline,
        make_charts,
        series_document,
        spc_document,
    )
    from ai_telemetry.documents.types import SpcSeriesDoc

    names = _split_names(rule_sets)
    results: list[SpcSeriesDoc] = []
    charts = make_charts(
        names,
        cusum_k=cusum_k,
        cusum_h=cusum_h,
        ewma_lambda=ewma_lambda,
        ewma_l=ewma_l,
        ewma_asymptotic=ewma_asymptotic,
        robust_threshold=robust_threshold,
    )
    if estimator is None:
        estimator = "robust" if all(c.estimator == "robust" for c in charts) else "moving-range"
    given = Baseline(center, sigma) if center is not None and sigma is not None else None

    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        values = _parse_series(line, number)
        if not values:
            if as_json:
                results.append(series_document(number, values, None, []))
            else:
                echo("[]")
            continue
        baseline = given
        if baseline is None:
            try:
                baseline = estimate_baseline(
                    values,
                    method=estimator,  # type: ignore[arg-type]  # click.Choice checked it
                    points=baseline_points,
                    center=center,
                    sigma=sigma,
                )
            except AnalyticsError as exc:
                raise AnalyticsError(f"stdin line {number}: {exc}") from None
            if not as_json:
                echo(f"line {number}: {baseline.describe()}", err=True)
        signals = check_series(values, charts=charts, baseline=baseline)
        if as_json:
            results.append(series_document(number, values, baseline, signals))
        else:
            echo_json(orjson.dumps([s.to_json() for s in signals]).decode())
    if as_json:
        emit(spc_document(names, results))


# --- detect, gate, weekly, schedule (the alerting stage) ----------------------------------


@click.command("detect")
@store_option
@click.option(
    "--metrics",
    "metrics_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="metrics.json to judge (default: the telemetry directory's).",
)
@click.option(
    "--alert-threshold",
    type=click.FloatRange(min=0, min_open=True),
    help="Run the z-score at this many standard deviations (default: [detect] zscore/threshold).",
)
@click.option("--no-notify", is_flag=True, help="Record alerts but send no e-mail or Slack.")
@project_option
@json_option
def detect_cmd(
    metrics_path: Path | None,
    alert_threshold: float | None,
    no_notify: bool,
    project: str | None,
    as_json: bool,
) -> None:
    """Find anomalies: threshold rules + models (or z-score, SPC) against the weekly history.

    New alerts are appended to alerts.log in the seed's format (an alert that stays open is
    not logged again; one that clears is logged as RESOLVED) and escalated: warning -> e-mail,
    critical -> e-mail + Slack.

    With --project (or on a metrics.json of `aggregate --project`), that project's metrics for
    the window are judged against its own weekly history; its alerts carry the project, and
    only its alerts resolve.

    \b
    Example:
      ai-telemetry aggregate && ai-telemetry detect --metrics .claude/Telemetry/metrics.json \\
        --alert-threshold 2.0
    """
    import orjson

    from ai_telemetry.alert.detect import detect_from_document, options_from_settings
    from ai_telemetry.alert.escalation import escalate
    from ai_telemetry.alert.store import record_alerts
    from ai_telemetry.analyze.metrics import document_project, for_project
    from ai_telemetry.config import load_settings

    settings = load_settings()
    path = metrics_path or settings.metrics_path
    try:
        document = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise AnalyticsError(
            f"{path}: no such file; run `ai-telemetry aggregate` first or pass --metrics"
        ) from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise AnalyticsError(f"{path}: cannot read metrics ({exc})") from None
    if not isinstance(document, dict):
        raise AnalyticsError(f"{path}: not a metrics.json object")
    document = for_project(document, project, settings=settings)
    options = options_from_settings(settings, threshold=alert_threshold)
    found = detect_from_document(document, settings=settings, options=options)
    if not as_json:
        for note in found.notes:
            echo_line(f"note: {note}", err=True)
    changes = record_alerts(
        settings,
        found.alerts,
        metrics=document,
        unchecked=found.unchecked,
        project=document_project(document),
    )
    if as_json:
        report = None if no_notify else escalate(changes.opened, settings=settings)
        emit(
            found.to_document(
                document,
                changes=changes,
                alerts_log=str(settings.alerts_log),
                notifications=report.to_json() if report is not None else None,
            )
        )
        return
    for alert in changes.opened:
        echo("\n".join(alert.lines()) + "\n")
    for alert in changes.resolved:
        echo_line(f"resolved: {alert.title} [{alert.rule}] {alert.subject}")
    echo(
        f"{len(found.alerts)} conditions hold: {len(changes.opened)} new, "
        f"{len(changes.still_open)} still open, {len(changes.resolved)} resolved "
        f"({found.history_weeks} weeks of history); see {settings.alerts_log}",
        err=True,
    )
    if not no_notify:
        report = escalate(changes.opened, settings=settings)
        echo(report.summary(), err=True)
        for line in report.queued:
            echo_line(f"notification failed: {line}", err=True)


@click.command("gate")
@project_option
@json_option
def gate_cmd(project: str | None, as_json: bool) -> None:
    """Deployment gate for CI: exit 1 while a critical alert or Coverage Decline is open."""
    from ai_telemetry.alert.escalation import gate
    from ai_telemetry.config import load_settings

    result = gate(load_settings(), project=project)
    if as_json:
        emit(result.to_document())
        if not result.ok:
            raise SystemExit(1)
        return
    if result.ok:
        echo("gate: open (no critical alert, no coverage decline)")
        return
    echo(f"gate: CLOSED - deployments paused by {len(result.blocking)} open alert(s):")
    for reason in result.reasons():
        echo_line(f"  {reason}")
    echo("the gate opens when `ai-telemetry detect` finds the metrics back within limits")
    raise SystemExit(1)


@click.command("weekly")
@store_option
@click.option(
    "--learnings",
    "learnings_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".claude/History"),
    show_default=True,
    help="Folder of LEARN-*.md entries (skipped when missing).",
)
@click.option(
    "--alert-threshold",
    type=click.FloatRange(min=0, min_open=True),
    help="Run the z-score at this threshold (default: [detect] zscore/threshold).",
)
@click.option("--no-retention", is_flag=True, help="Skip the retention step.")
@project_option
def weekly_cmd(
    learnings_dir: Path, alert_threshold: float | None, no_retention: bool, project: str | None
) -> None:
    """Run the weekly job: collect learnings, aggregate, detect, dashboard, notify, retention.

    Each step's failure is reported and the others still run; exit 1 if any step failed.
    With --project, the job of one project: metrics-<project>.json, its own history and
    alerts, dashboards/weekly-<date>-<project>.md (push and retention are the whole store's
    and are skipped).
    """
    from ai_telemetry.config import load_settings
    from ai_telemetry.pipeline import run_weekly

    run = run_weekly(
        load_settings(),
        learnings_dir=learnings_dir,
        threshold=alert_threshold,
        retention=not no_retention,
        project=project,
    )
    for line in run.summary():
        echo_line(line)
    if not run.ok:
        raise SystemExit(1)


@click.group("schedule")
def schedule_group() -> None:
    """Run `ai-telemetry weekly` every Monday at 09:00 (cron or systemd)."""


_repo = click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=Path(),
    show_default=True,
    help="The repository the job runs in.",
)
_crontab = click.option(
    "--crontab", "crontab", default="crontab", show_default=True, help="The crontab program."
)


@schedule_group.command("install")
@_repo
@click.option("--systemd", is_flag=True, help="Print a systemd service and timer instead.")
@click.option("--command", help="The ai-telemetry executable (default: this one).")
@_crontab
def schedule_install_cmd(repo: Path, systemd: bool, command: str | None, crontab: str) -> None:
    """Add the seed's crontab line (0 9 * * 1 cd REPO && ai-telemetry weekly), once."""
    from ai_telemetry.schedule import install_cron, systemd_units

    if systemd:
        for name, text in systemd_units(repo, command=command).items():
            echo(f"# ~/.config/systemd/user/{name}\n{text}")
        echo(
            "# then: systemctl --user daemon-reload && "
            "systemctl --user enable --now ai-telemetry-weekly.timer"
        )
        return
    result = install_cron(repo, command=command, crontab=crontab)
    if result.changed:
        echo(f"added to crontab: {result.line}")
    else:
        echo(f"already in crontab, unchanged: {result.line}")


@schedule_group.command("remove")
@_repo
@_crontab
def schedule_remove_cmd(repo: Path, crontab: str) -> None:
    """Remove the weekly crontab line for REPO."""
    from ai_telemetry.schedule import remove_cron

    result = remove_cron(repo, crontab=crontab)
    echo(f"removed from crontab: {result.line}" if result.changed else "nothing to remove")
