"""``recommend`` and ``propose``: closing the loop for META_UPDATER (issue 19 §2, §4, §5).

Each parses its options, calls the library and prints; ``--json`` prints the document the MCP
tools answer with.
"""

from __future__ import annotations

import click

from ai_telemetry.cli.output import echo, emit, json_option


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
@json_option
def recommend_cmd(
    *,
    paths: tuple[str, ...],
    more_paths: tuple[str, ...],
    kind: str | None,
    depth: int,
    min_runs: int,
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
