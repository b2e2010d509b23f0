"""DuckDB SQL to PostgreSQL SQL: the one place for the two dialects' differences.

The metric catalogue (analyze/metrics.py, analyze/executions.py) is written for DuckDB, mostly
in the subset the two engines share (window functions, ``WITH``, ``coalesce``, ``count(*)``,
``TIMESTAMP`` literals). What differs is rewritten here, statement by statement, so that the
PostgreSQL store runs the very same queries, with the same definitions:

==========================================  =================================================
DuckDB                                      PostgreSQL
==========================================  =================================================
``quantile_cont(x, [0.5, 0.95])``           ``percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP
                                            (ORDER BY x)`` (the same linear interpolation)
``quantile_cont(x, 0.95)``                  ``percentile_cont(0.95) WITHIN GROUP (ORDER BY x)``
``arg_min(a, t)`` (skips NULL a or t)       ``(array_agg(a ORDER BY t) FILTER (WHERE a IS NOT
                                            NULL AND t IS NOT NULL))[1]``
``epoch(interval)``                         ``extract(epoch FROM interval)::double precision``
``agg(...) FILTER (cond)``                  ``agg(...) FILTER (WHERE cond)``
``CREATE OR REPLACE TEMP TABLE t AS ...``   ``DROP TABLE IF EXISTS t`` + ``CREATE TEMP TABLE``
``DOUBLE``                                  ``DOUBLE PRECISION``
``SELECT cols FROM ... QUALIFY cond``       ``SELECT cols FROM (SELECT cols, cond AS __keep
                                            FROM ...) q WHERE __keep``
``INSERT OR REPLACE INTO metric_cache``     ``INSERT ... ON CONFLICT (key) DO UPDATE``
``?`` parameters                            ``%s`` (and a literal ``%`` doubled)
==========================================  =================================================

Text sorts the same on both only under byte order: the PostgreSQL tables declare their text
columns ``COLLATE "C"`` (DuckDB compares strings by bytes).
"""

from __future__ import annotations

import re
from typing import Final

_CREATE_TEMP: Final = re.compile(r"^\s*CREATE OR REPLACE TEMP TABLE (\w+)", re.IGNORECASE)
_INSERT_OR_REPLACE: Final = re.compile(r"INSERT OR REPLACE INTO metric_cache\b", re.IGNORECASE)
_DOUBLE: Final = re.compile(r"\bDOUBLE\b(?! PRECISION)")
_FILTER: Final = re.compile(r"\bFILTER\s*\((?!\s*WHERE\b)", re.IGNORECASE)


def _close(sql: str, start: int) -> int:
    """Index of the parenthesis closing the one opened just before ``start``."""
    depth = 1
    i = start
    quote = False
    while i < len(sql):
        ch = sql[i]
        if ch == "'":
            quote = not quote
        elif not quote:
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
                if depth == 0:
                    return i
        i += 1
    raise ValueError(f"unbalanced parentheses in SQL: {sql[:80]!r}")


def _split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments."""
    out: list[str] = []
    depth = 0
    quote = False
    current: list[str] = []
    for ch in text:
        if ch == "'":
            quote = not quote
        elif not quote:
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == "," and depth == 0:
                out.append("".join(current).strip())
                current = []
                continue
        current.append(ch)
    out.append("".join(current).strip())
    return out


def _rewrite_calls(sql: str, name: str, build: object) -> str:
    """Replace every ``name(args)`` call with ``build(args)`` (innermost rewritten too)."""
    pattern = re.compile(rf"(?<![\w.]){name}\(", re.IGNORECASE)
    assert callable(build)
    while (m := pattern.search(sql)) is not None:
        end = _close(sql, m.end())
        args = [_rewrite_calls(a, name, build) for a in _split_args(sql[m.end() : end])]
        sql = sql[: m.start()] + str(build(args)) + sql[end + 1 :]
    return sql


def _quantile(args: list[str]) -> str:
    value, fraction = args
    if fraction.startswith("["):
        fraction = "ARRAY" + fraction
    return f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {value})"


def _arg_min(args: list[str]) -> str:
    value, key = args
    return (
        f"(array_agg({value} ORDER BY {key}) FILTER (WHERE ({value}) IS NOT NULL "
        f"AND ({key}) IS NOT NULL))[1]"
    )


def _epoch(args: list[str]) -> str:
    (value,) = args
    return f"(extract(epoch FROM ({value}))::double precision)"


def _qualify(sql: str) -> str:
    """``SELECT a, b FROM ... QUALIFY cond`` (the statement's last SELECT) as a subquery."""
    at = sql.upper().rfind(" QUALIFY ")
    if at < 0:
        return sql
    head, cond = sql[:at], sql[at + len(" QUALIFY ") :]
    select = head.upper().rfind("SELECT ")
    frm = head.upper().find(" FROM ", select)
    cols = head[select + len("SELECT ") : frm]
    names = [c.strip() for c in cols.split(",")]
    if not all(re.fullmatch(r"\w+", n) for n in names):
        raise ValueError("QUALIFY is rewritten only after a SELECT of plain column names")
    return (
        f"{head[:select]}SELECT {cols} FROM (SELECT {cols}, ({cond}) AS __keep"
        f"{head[frm:]}) __q WHERE __keep"
    )


def to_postgres(sql: str, *, params: bool) -> list[str]:
    """The PostgreSQL statements for one DuckDB statement of the catalogue.

    Args:
        sql: the DuckDB statement.
        params: the statement has bound parameters (``?`` becomes ``%s``).

    Returns:
        One statement, or two (a ``DROP`` before a replaced temporary table); parameters
        belong to the last.
    """
    before: list[str] = []
    if (m := _CREATE_TEMP.match(sql)) is not None:
        before.append(f"DROP TABLE IF EXISTS {m.group(1)}")
        sql = "CREATE TEMP TABLE " + m.group(1) + sql[m.end() :]
    if _INSERT_OR_REPLACE.search(sql):
        sql = _INSERT_OR_REPLACE.sub("INSERT INTO metric_cache", sql)
        sql += " ON CONFLICT (key) DO UPDATE SET generation = EXCLUDED.generation, "
        sql += "body = EXCLUDED.body"
    sql = _rewrite_calls(sql, "quantile_cont", _quantile)
    sql = _rewrite_calls(sql, "arg_min", _arg_min)
    sql = _rewrite_calls(sql, "epoch", _epoch)
    sql = _FILTER.sub("FILTER (WHERE ", sql)
    sql = _DOUBLE.sub("DOUBLE PRECISION", sql)
    sql = _qualify(sql)
    if params:
        sql = sql.replace("%", "%%").replace("?", "%s")
    return [*before, sql]
