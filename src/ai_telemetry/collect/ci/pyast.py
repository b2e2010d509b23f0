"""Type-hint and docstring coverage of Python source, computed with `ast` (no import, no run).

Definitions (what ``type_coverage_percent`` and ``doc_coverage_percent`` mean):

- **Files**: the given ``.py`` file, or every ``*.py`` under the given directory, skipping
  directories named ``__pycache__``, ``venv``, ``node_modules``, ``build``, ``dist``,
  ``site-packages`` or starting with a dot.
- **Type coverage** = fully annotated functions / all functions, in percent. Functions are every
  ``def`` and ``async def`` (methods and nested functions included, lambdas not). Fully
  annotated means a return annotation and an annotation on every parameter (positional-only,
  regular, ``*args``, keyword-only, ``**kwargs``), except the first parameter of a method
  (a function directly in a class body, not a ``@staticmethod``) when it is named ``self`` or
  ``cls``.
- **Doc coverage** = documented public functions / public functions, in percent. Public
  functions are functions and methods whose name does not start with ``_`` (so dunder methods
  are not counted), not nested inside another function, and not inside a class whose name
  starts with ``_``; ``@overload`` stubs and property ``.setter``/``.deleter`` methods are not
  counted. Documented means a non-empty docstring. Classes and modules are not counted.

Percentages are rounded to two decimals. A tree without a single counted function is an error
for ``collect ci`` (a wrong path, most likely), not 100%.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ai_telemetry.errors import ReportFormatError

SKIPPED_DIRS: Final = frozenset(
    {"__pycache__", "venv", "node_modules", "build", "dist", "site-packages"}
)

_Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class SourceCoverage:
    """One coverage measure over a source tree."""

    covered: int
    total: int
    files: int
    digest: str
    """SHA-256 over the files' paths and bytes: the same tree gives the same digest."""

    @property
    def percent(self) -> float:
        """covered / total in percent, two decimals."""
        return round(100.0 * self.covered / self.total, 2)


@dataclass(slots=True)
class _Counts:
    typed: int = 0
    functions: int = 0
    documented: int = 0
    public: int = 0


def python_files(root: Path) -> list[Path]:
    """The ``.py`` files a measurement covers, sorted.

    Raises:
        ReportFormatError: ``root`` does not exist, or is a file that is not ``.py``.
    """
    if root.is_file():
        if root.suffix != ".py":
            raise ReportFormatError(f"{root}: not a Python file; pass a .py file or a folder")
        return [root]
    if not root.is_dir():
        raise ReportFormatError(f"{root}: no such file or folder")
    found: list[Path] = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts[:-1]
        if any(p in SKIPPED_DIRS or p.startswith(".") for p in parts):
            continue
        found.append(path)
    return sorted(found)


def _decorator_names(node: _Function) -> set[str]:
    names: set[str] = set()
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def _fully_annotated(node: _Function, *, is_method: bool) -> bool:
    args = node.args
    params = [*args.posonlyargs, *args.args]
    if (
        is_method
        and params
        and params[0].arg in ("self", "cls")
        and "staticmethod" not in _decorator_names(node)
    ):
        params = params[1:]
    params += args.kwonlyargs
    params += [a for a in (args.vararg, args.kwarg) if a is not None]
    return node.returns is not None and all(p.annotation is not None for p in params)


def _visit(body: list[ast.stmt], counts: _Counts, *, in_class: bool, public_scope: bool) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef):
            public = public_scope and not node.name.startswith("_")
            _visit(node.body, counts, in_class=True, public_scope=public)
        elif isinstance(node, _Function):
            counts.functions += 1
            counts.typed += _fully_annotated(node, is_method=in_class)
            decorators = _decorator_names(node)
            if (
                public_scope
                and not node.name.startswith("_")
                and not decorators & {"overload", "setter", "deleter"}
            ):
                counts.public += 1
                counts.documented += bool(ast.get_docstring(node))
            # nested functions: counted for types, never public for docs
            _visit(node.body, counts, in_class=False, public_scope=False)
        else:
            # functions defined under if/try/with at module or class level still count
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    _visit(block, counts, in_class=in_class, public_scope=public_scope)


def measure_source(root: Path) -> tuple[SourceCoverage, SourceCoverage]:
    """Type coverage and doc coverage of the Python source at ``root``.

    A measure with nothing to count has ``total == 0``; the caller decides (see `collect_ci`).

    Raises:
        ReportFormatError: the path is wrong, or a file is not valid Python (with its line).
    """
    files = python_files(root)
    counts = _Counts()
    digest = hashlib.sha256()
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReportFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
        try:
            tree = ast.parse(data, filename=str(path))
        except SyntaxError as exc:
            raise ReportFormatError(
                f"{path}:{exc.lineno or 0}: not valid Python ({exc.msg}); fix it or exclude it"
            ) from None
        except ValueError as exc:  # null bytes
            raise ReportFormatError(f"{path}: not a Python source file ({exc})") from None
        digest.update(path.relative_to(root).as_posix().encode() if path != root else b"")
        digest.update(b"\0" + hashlib.sha256(data).digest())
        _visit(tree.body, counts, in_class=False, public_scope=True)
    hexdigest = digest.hexdigest()
    return (
        SourceCoverage(counts.typed, counts.functions, len(files), hexdigest),
        SourceCoverage(counts.documented, counts.public, len(files), hexdigest),
    )
