"""The layers: analyze/ is pure Python over `ai_telemetry.ports.Store`, the stores know nothing
of analysis, ``ports`` sits below both, and a few known import cycles stay gone.

An AST walk over the sources (every ``import``, at module level or inside a function), so a
lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "ai_telemetry"


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(module imported, inside a function) for every import statement of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])

    def walk(node: ast.AST, nested: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, nested
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                yield base, nested
                for alias in child.names:
                    yield f"{base}.{alias.name}", nested
            yield from walk(child, inner)

    yield from walk(tree, False)


def _modules(folder: str) -> list[Path]:
    return sorted((SRC / folder).rglob("*.py"))


def _is(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("path", _modules("analyze"), ids=lambda p: p.name)
def test_analyze_imports_neither_duckdb_nor_a_store(path: Path) -> None:
    """analyze/ reaches storage only through the `Store` protocol: no duckdb, no store/, and
    the composition root (`ai_telemetry.stores`) only inside the functions that take settings."""
    found = [
        (name, nested)
        for name, nested in _imports(path)
        if _is(name, "duckdb")
        or _is(name, "ai_telemetry.store")
        or (_is(name, "ai_telemetry.stores") and not nested)
    ]
    assert [] == found


@pytest.mark.parametrize(
    "path", _modules("report") + _modules("alert"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_reports_and_alerts_read_through_the_store_protocol(path: Path) -> None:
    """report/ and alert/ read events and history through `Store` only: no duckdb, nothing of
    store/ (their SQL lives in store/evidence.py and store/catalogue_sql.py), the composition
    root only inside functions."""
    found = [
        (name, nested)
        for name, nested in _imports(path)
        if _is(name, "duckdb")
        or _is(name, "psycopg")
        or _is(name, "ai_telemetry.store")
        or (_is(name, "ai_telemetry.stores") and not nested)
    ]
    assert [] == found


@pytest.mark.parametrize("path", _modules("analyze"), ids=lambda p: p.name)
def test_analyze_creates_no_tables(path: Path) -> None:
    """No SQL that creates tables or views is written in analyze/ (the stores own the schema)."""
    text = path.read_text(encoding="utf-8").upper()
    assert [] == [w for w in ("CREATE TABLE", "CREATE OR REPLACE", "CREATE TEMP") if w in text]


@pytest.mark.parametrize("path", _modules("store"), ids=lambda p: p.name)
def test_store_imports_nothing_of_analysis(path: Path) -> None:
    """store/ never imports analyze/, report/ or alert/ (the old retention -> history ->
    metrics -> warehouse cycle)."""
    layers = ("ai_telemetry.analyze", "ai_telemetry.report", "ai_telemetry.alert")
    found = [n for n, _ in _imports(path) if any(_is(n, layer) for layer in layers)]
    assert [] == found


def test_ports_imports_only_the_standard_library_events_and_errors() -> None:
    """ports.py, below both analyze/ and store/, imports the standard library, ``events`` and
    ``errors`` only."""
    allowed = ("ai_telemetry.events", "ai_telemetry.errors", "__future__")
    found = [
        n
        for n, _ in _imports(SRC / "ports.py")
        if not any(_is(n, a) for a in allowed) and n.split(".")[0] not in sys.stdlib_module_names
    ]
    assert [] == found


def test_review_and_its_renderer_form_no_cycle() -> None:
    """report/review.py builds, report/review_render.py renders: only the renderer imports
    the other."""
    found = [n for n, _ in _imports(SRC / "report" / "review.py") if "review_render" in n]
    assert [] == found


def test_the_duckdb_store_is_a_store() -> None:
    """`DuckDBStore` has every method of the `Store` protocol (checked at run time too)."""
    from ai_telemetry.config import Settings
    from ai_telemetry.ports import Store
    from ai_telemetry.store.duckdb_store import DuckDBStore

    store = DuckDBStore(Settings())
    assert isinstance(store, Store)


def test_the_postgresql_store_is_a_store() -> None:
    """`PostgresStore` has every method of the `Store` protocol (no connection is made)."""
    from ai_telemetry.config import Settings
    from ai_telemetry.ports import Store
    from ai_telemetry.store.postgres import PostgresStore

    assert isinstance(PostgresStore("postgresql://localhost/x", settings=Settings()), Store)
