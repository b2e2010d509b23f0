"""``dashboard``, ``status``, ``review``, ``audit``, ``compare``: the report commands.

Each parses its options, calls the library (`ai_telemetry.report`) and prints or writes a file;
errors from the library become one line and a non-zero exit. Shared by two rooms: the dashboards
(``dashboard_cmd``, ``status_cmd``) and the reviews (``review_group``, ``audit_group``,
``compare_group``, appended below).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from ai_telemetry.cli.options import history_option, project_option, repo_option
from ai_telemetry.cli.output import echo, emit, json_option
from ai_telemetry.cli.store import store_option


@click.command("dashboard")
@store_option
@click.option(
    "--metrics",
    "metrics_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="metrics.json to show (default: the telemetry directory's).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write (default: dashboards/weekly-<window end date>.md in the telemetry dir).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html"]),
    help="md or html (default: from --output's extension, else md).",
)
@click.option(
    "--weeks",
    type=click.IntRange(2, 104),
    default=12,
    show_default=True,
    help="Weeks of history for trends.",
)
@click.option("--no-history", is_flag=True, help="Only metrics.json: no trends, no changes.")
@project_option
def dashboard_cmd(  # noqa: PLR0917 (click passes options positionally)
    metrics_path: Path | None,
    output: Path | None,
    fmt: str | None,
    weeks: int,
    no_history: bool,
    project: str | None,
) -> None:
    """Write the weekly dashboard (Markdown, or one self-contained HTML file).

    With --project, the project's metrics for metrics.json's window, its own weekly history
    and its alerts (dashboards/weekly-<date>-<project>.md).
    """
    from ai_telemetry.config import load_settings
    from ai_telemetry.report.dashboard import make_dashboard

    settings = None
    if metrics_path is None:
        settings = load_settings()
        metrics_path = settings.metrics_path
    written = make_dashboard(
        metrics_path,
        output=output,
        fmt=fmt,
        settings=settings,
        history=not no_history,
        weeks=weeks,
        project=project,
    )
    echo(f"wrote {written}")


@click.command("status")
@store_option
@click.option(
    "--metrics",
    "metrics_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Show this metrics.json instead of the last 7 days of the log.",
)
@click.option(
    "--weeks",
    type=click.IntRange(2, 104),
    default=12,
    show_default=True,
    help="Weeks of history for the sparklines.",
)
@project_option
@json_option
def status_cmd(metrics_path: Path | None, weeks: int, project: str | None, as_json: bool) -> None:
    """Show the week at a glance: what needs attention, trends, top skills, open alerts."""
    from datetime import UTC, datetime

    from ai_telemetry.config import load_settings
    from ai_telemetry.report.dashboard import settings_for, status_report
    from ai_telemetry.report.status import print_status, status_document

    settings = settings_for(metrics_path) if metrics_path is not None else load_settings()
    report = status_report(
        settings, metrics_path=metrics_path, now=datetime.now(UTC), weeks=weeks, project=project
    )
    if as_json:
        emit(status_document(report))
    else:
        print_status(report)


# --- reviews: monthly learning review, quarterly skill audit, skill A/B comparison ----------


def _review_clock(as_of: str | None) -> object:
    from ai_telemetry.analyze.window import parse_moment

    return parse_moment(as_of, option="--as-of") if as_of else None


def _emit_report(text: str, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output`` and say so on stderr."""
    from ai_telemetry.errors import AnalyticsError
    from ai_telemetry.log.files import atomic_write_text

    if output is None:
        echo(text, nl=False)
        return
    try:
        atomic_write_text(output, text, perms=0o666)  # as `open`: the umask decides
    except OSError as exc:
        raise AnalyticsError(f"{output}: cannot write the report ({exc.strerror or exc})") from None
    echo(f"wrote {output}", err=True)


def _document_text(document: Mapping[str, Any]) -> str:
    from ai_telemetry.documents import dumps

    return dumps(document) + "\n"


_output_option = click.option(
    "--output", type=click.Path(path_type=Path, dir_okay=False), help="Markdown file to write."
)
_as_of_option = click.option(
    "--as-of",
    help="The report's clock (date or RFC 3339), for reproducible reports [default: now].",
)


@click.command("projects")
@store_option
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True)
@json_option
def projects_cmd(days: int, as_json: bool) -> None:
    """The cross-project overview of the last N days: per project, skill runs and success,
    agent completion, LLM cost and the open alerts that concern it."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.ports import Window
    from ai_telemetry.report.projects import project_overview, render_projects

    doc = project_overview(load_settings(), Window.last_days(days))
    if as_json:
        emit(doc)
    else:
        echo(render_projects(doc))


@click.group("review")
def review_group() -> None:
    """Periodic reviews (the seed's Monthly Learning Review)."""


@review_group.command("learnings")
@store_option
@click.option("--month", required=True, help="The month to review, YYYY-MM.")
@_output_option
@repo_option
@history_option
@click.option("--top", type=click.IntRange(min=1), default=3, show_default=True, help="Themes.")
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.10,
    show_default=True,
    help="Flag a skill whose error rate is above this.",
)
@click.option(
    "--min-learnings",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Flag a skill with this many open learnings.",
)
@click.option(
    "--similarity",
    type=click.FloatRange(0, 1),
    default=0.25,
    show_default=True,
    help="Cosine similarity at which learnings join one theme.",
)
@_as_of_option
@project_option
@json_option
def review_learnings_cmd(  # noqa: PLR0917 (click passes options positionally)
    month: str,
    output: Path | None,
    repo: Path,
    history_dir: Path | None,
    top: int,
    error_rate: float,
    min_learnings: int,
    similarity: float,
    as_of: str | None,
    project: str | None,
    as_json: bool,
) -> None:
    """Answer the seed's four questions for a month, plus the META_UPDATER prompt."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.report.review import ReviewOptions, load_review
    from ai_telemetry.report.review_render import render_review

    options = ReviewOptions(top, error_rate, min_learnings, similarity)
    review = load_review(
        month,
        settings=load_settings(),
        history_dir=history_dir or repo / ".claude" / "History",
        now=_review_clock(as_of),  # type: ignore[arg-type]
        options=options,
        project=project,
    )
    _emit_report(_document_text(review.to_document()) if as_json else render_review(review), output)


@click.group("audit")
def audit_group() -> None:
    """Audits (the seed's Quarterly Skill Audit)."""


@audit_group.command("skills")
@store_option
@click.option("--quarter", required=True, help="The quarter to audit, YYYY-QN (e.g. 2025-Q4).")
@_output_option
@repo_option
@history_option
@click.option(
    "--high-usage",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Runs per week from which usage is high.",
)
@click.option(
    "--min-success",
    type=click.FloatRange(0, 1),
    default=0.90,
    show_default=True,
    help="Success rate from which a skill is of high value.",
)
@click.option(
    "--stale-days",
    type=click.IntRange(min=1),
    default=180,
    show_default=True,
    help="Days without a change to a skill's folder to call it stale.",
)
@click.option(
    "--min-pattern",
    type=click.IntRange(min=2),
    default=3,
    show_default=True,
    help="Learnings or incidents that make a recurring pattern (Create New).",
)
@_as_of_option
@project_option
@json_option
def audit_skills_cmd(  # noqa: PLR0917 (click passes options positionally)
    quarter: str,
    output: Path | None,
    repo: Path,
    history_dir: Path | None,
    high_usage: float,
    min_success: float,
    stale_days: int,
    min_pattern: int,
    as_of: str | None,
    project: str | None,
    as_json: bool,
) -> None:
    """Per skill: usage, success, learnings, last update, and the decision matrix."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.report.audit import AuditOptions, load_audit, render_audit

    options = AuditOptions(high_usage, min_success, stale_days, min_pattern)
    audit = load_audit(
        quarter,
        settings=load_settings(),
        repo=repo,
        history_dir=history_dir or repo / ".claude" / "History",
        now=_review_clock(as_of),  # type: ignore[arg-type]
        options=options,
        project=project,
    )
    _emit_report(_document_text(audit.to_document()) if as_json else render_audit(audit), output)


@click.group("compare")
def compare_group() -> None:
    """Comparisons (the seed's Phase 3 A/B testing for skill updates)."""


@compare_group.command("skill")
@store_option
@click.argument("name")
@click.option("--versions", nargs=2, metavar="A B", help="The two skill_versions to compare.")
@click.option("--before-after", metavar="DATE", help="Compare runs before and after this moment.")
@click.option("--commit", metavar="HASH", help="Compare runs before and after this commit.")
@repo_option
@click.option(
    "--mde",
    type=click.FloatRange(0.001, 1),
    default=0.05,
    show_default=True,
    help="Smallest success-rate difference worth detecting, for the runs-needed estimate.",
)
@_output_option
@project_option
@json_option
def compare_skill_cmd(  # noqa: PLR0917 (click passes options positionally)
    name: str,
    versions: tuple[str, str] | None,
    before_after: str | None,
    commit: str | None,
    repo: Path,
    mde: float,
    output: Path | None,
    project: str | None,
    as_json: bool,
) -> None:
    """Is the new version better? Success with an exact test, duration with a rank test."""
    from ai_telemetry.analyze.window import parse_moment
    from ai_telemetry.config import load_settings
    from ai_telemetry.errors import AnalyticsError
    from ai_telemetry.report.compare import load_comparison, render_comparison

    chosen = [
        o
        for o, v in (
            ("--versions", versions),
            ("--before-after", before_after),
            ("--commit", commit),
        )
        if v
    ]
    if len(chosen) > 1:
        raise AnalyticsError(f"{' and '.join(chosen)} exclude each other; give one of them")
    result = load_comparison(
        name,
        settings=load_settings(),
        versions=tuple(versions) if versions else None,  # type: ignore[arg-type]
        before_after=parse_moment(before_after, option="--before-after") if before_after else None,
        commit=commit,
        repo=repo,
        mde=mde,
        project=project,
    )
    text = _document_text(result.to_document()) if as_json else render_comparison(result)
    _emit_report(text, output)
