"""Lint errors from ruff's JSON output (``ruff check --output-format json``).

Every diagnostic in the list counts as one lint error, fixable or not, syntax errors included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ai_telemetry.collect.ci._files import load_json, read_bytes
from ai_telemetry.errors import ReportFormatError

_WHAT = "ruff JSON report"
_HINT = "write one with `ruff check --output-format json --exit-zero . > ruff.json`"


@dataclass(frozen=True, slots=True)
class LintReport:
    """Diagnostics of one linter run."""

    errors: int
    tool: str
    digest_source: bytes


def parse_ruff(path: Path) -> LintReport:
    """Read ruff's JSON output.

    Raises:
        ReportFormatError: unreadable, not JSON, or not a list of ruff diagnostics.
    """
    data = read_bytes(path, _WHAT)
    doc = load_json(path, data, _WHAT, _HINT)
    if not isinstance(doc, list):
        raise ReportFormatError(f"{path}: a JSON {type(doc).__name__} is not a {_WHAT}; {_HINT}")
    for index, item in enumerate(doc):
        if not (isinstance(item, dict) and "filename" in item and "location" in item):
            raise ReportFormatError(
                f"{path}: item {index} is not a ruff diagnostic (no filename/location); {_HINT}"
            )
    return LintReport(len(doc), "ruff", data)
