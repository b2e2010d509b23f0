"""Detection commands: ``ai-telemetry spc`` (control charts over series on stdin).

``detect``, ``gate``, ``weekly`` and ``schedule`` join this module later (issue 6, items 3-5).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

import click

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
) -> None:
    """Check series for out-of-control points with control-chart rules.

    Reads JSON Lines on stdin, each line an array of numbers (oldest first), and writes one JSON
    line per input line: [{"index": i, "rules": ["WE2", ...]}, ...] for every point where a rule
    fires ([] when none). Blank lines are skipped. Without --center/--sigma each line's centre and
    sigma are estimated from its baseline window, and stderr says how.

    \b
    Example:
      echo '[0, 0.5, 3.5, 2.5, 2.4, 0]' | ai-telemetry spc --center 0 --sigma 1
    """
    import orjson

    from ai_telemetry.analyze.spc import Baseline, check_series, estimate_baseline, make_charts

    charts = make_charts(
        _split_names(rule_sets),
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
            click.echo("[]")
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
            click.echo(f"line {number}: {baseline.describe()}", err=True)
        signals = check_series(values, charts=charts, baseline=baseline)
        click.echo(orjson.dumps([s.to_json() for s in signals]).decode())
