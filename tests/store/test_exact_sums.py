"""Means and sums of fractional doubles do not depend on the order the rows come in.

A parallel scan hands DuckDB's ``avg`` and ``sum`` the rows in any order, and a float sum
differs in its last bits with the order, enough to flip the sixth decimal metrics.json keeps
(`catalogue_sql.Dialect.exact`; found by `bench/incremental_bench.py`: a skill's mean duration
115.622813 after an incremental read, 115.622812 in a fresh one). Real DuckDB, the same values
inserted in two orders.
"""

from __future__ import annotations

import math
import random

import duckdb

from ai_telemetry.store.catalogue_sql import DUCKDB

_RNG = random.Random(7)
VALUES = [round(_RNG.uniform(0, 300), 3) for _ in range(5000)]


def _aggregates(values: list[float]) -> tuple[float, float, float, float]:
    con = duckdb.connect()
    con.execute("SET threads = 1")  # one order per table: the order the rows were inserted in
    con.execute("CREATE TABLE t (d DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    row = con.execute(
        f"SELECT avg(d), sum(d), {DUCKDB.exact('avg', 'd')}, {DUCKDB.exact('sum', 'd')} FROM t"
    ).fetchone()
    assert row is not None
    return row


def test_exact_aggregates_ignore_the_order() -> None:
    values = VALUES.copy()
    random.Random(3).shuffle(values)
    plain_mean, plain_sum, mean, total = _aggregates(VALUES)
    other_mean, other_sum, mean_again, total_again = _aggregates(values)
    assert (plain_mean, plain_sum) != (other_mean, other_sum)  # the data shows the problem
    assert (mean, total) == (mean_again, total_again)
    assert math.isclose(total, math.fsum(VALUES), rel_tol=0, abs_tol=1e-9)
