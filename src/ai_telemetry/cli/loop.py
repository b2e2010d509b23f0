"""``recommend`` and ``propose``: closing the loop for META_UPDATER (issue 19 §2, §4, §5).

Each parses its options, calls the library and prints; ``--json`` prints the document the MCP
tools answer with.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ai_telemetry.cli.options import history_option, project_option, repo_option
from ai_telemetry.cli.output import echo, emit, json_option
from ai_telemetry.cli.store import store_option


@click.command("recommend")
@click.option(
    "--paths",
    "paths",
    multiple=True,
    required=True,
    metavar="DIR",
    help="A folder the task touches (repeat, or give several after one --paths).",
)
@click.argument("more_paths", nargs=-1, metavar="[DIR]...")
@click.option("--kind", metavar="KIND", help="Kind of task: debug, test, review, migrate, ...")
@click.option("--depth", type=click.IntRange(1, 8), default=2, show_default=True)
@click.option(
    "--min-runs",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Similar runs the best skill needs before it is recommended.",
)
@project_option
@json_option
def recommend_cmd(
    *,
    paths: tuple[str, ...],
    more_paths: tuple[str, ...],
    kind: str | None,
    depth: int,
    min_runs: int,
    project: str | None,
    as_json: bool,
) -> None:
    """Rank skills by their record on past tasks that touched the same folders."""
    from ai_telemetry.analyze.recommend import RecommendOptions, recommend
    from ai_telemetry.config import load_settings

    result = recommend(
        [*paths, *more_paths],
        settings=load_settings(),
        kind=kind,
        options=RecommendOptions(depth=depth, min_runs=min_runs),
        project=project,
    )
    if as_json:
        emit(result.to_document())
        return
    of_kind = f", kind {kind}" if kind else ""
    echo(f"task: {', '.join(result.folders)}{of_kind} ({result.similar_runs} similar past runs)")
    echo(result.reason if result.recommended is None else f"recommended: {result.reason}")
    if result.skills:
        echo("")
        echo(f"{'skill':<28} {'runs':>5} {'success':>8} {'95% CI':>11} {'score':>6} {'rb':>3}")
        for s in result.skills:
            ci = f"{s.ci_low:.0%}-{s.ci_high:.0%}"
            echo(
                f"{s.skill:<28} {s.runs:>5} {s.success_rate:>8.0%} {ci:>11} "
                f"{s.score:>6.3f} {s.rollbacks:>3}"
            )


_as_of_option = click.option("--as-of", help="The clock (date or RFC 3339), default now.")


def _clock(as_of: str | None) -> datetime | None:
    from ai_telemetry.analyze.window import parse_moment

    return parse_moment(as_of, option="--as-of") if as_of else None


@click.group("propose")
def propose_group() -> None:
    """Drafts for META_UPDATER: fixes for open alerts, new skills for recurring patterns."""


@propose_group.command("fix")
@store_option
@click.argument("alert_id")
@repo_option
@history_option
@click.option("--weeks", type=click.IntRange(3, 520), default=12, show_default=True)
@_as_of_option
@json_option
def propose_fix_cmd(
    *,
    alert_id: str,
    repo: Path,
    history_dir: Path | None,
    weeks: int,
    as_of: str | None,
    as_json: bool,
) -> None:
    """Evidence, a META_UPDATER task and a PR-body draft for an open alert (ALERT_ID or part)."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.report.propose_fix import load_fix_proposal, render_fix_markdown

    proposal = load_fix_proposal(
        alert_id,
        settings=load_settings(),
        repo=repo.resolve(),
        history_dir=(history_dir or repo / ".claude" / "History").resolve(),
        now=_clock(as_of),
        weeks=weeks,
    )
    if as_json:
        emit(proposal.to_document())
        return
    echo(render_fix_markdown(proposal).rstrip("\n"))


@propose_group.command("skills")
@store_option
@click.option("--quarter", help="The audit's quarter, YYYY-QN [default: the clock's quarter].")
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write DIR/<name>/SKILL.md drafts here (never under .claude/skills).",
)
@repo_option
@history_option
@_as_of_option
@project_option
@json_option
def propose_skills_cmd(
    *,
    quarter: str | None,
    output: Path | None,
    repo: Path,
    history_dir: Path | None,
    as_of: str | None,
    project: str | None,
    as_json: bool,
) -> None:
    """Draft a SKILL.md for each Create New row of the quarterly audit (drafts, not installed)."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.report.propose_skill import propose_skills

    result = propose_skills(
        quarter,
        settings=load_settings(),
        repo=repo.resolve(),
        history_dir=(history_dir or repo / ".claude" / "History").resolve(),
        output=output,
        now=_clock(as_of),
        project=project,
    )
    if as_json:
        emit(result.to_document())
        return
    if not result.drafts:
        echo(f"no Create New row in the {result.quarter} audit: nothing to draft")
        return
    for draft in result.drafts:
        echo(f"{draft.name}: {draft.pattern} ({len(draft.evidence)} learnings or incidents)")
    if result.written:
        echo(f"wrote {len(result.written)} drafts under {output} (review, then move to install)")
    else:
        echo("(give --output DIR to write the drafts)")
