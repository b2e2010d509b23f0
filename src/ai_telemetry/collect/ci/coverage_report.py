"""Line coverage from Cobertura XML or coverage.py JSON.

- Cobertura (``coverage xml``, gcovr, istanbul, JaCoCo converters, ...): the root
  ``<coverage>`` element's ``lines-covered`` / ``lines-valid`` when both are there, else its
  ``line-rate``. Branch rates are not mixed in.
- coverage.py JSON (``coverage json``): ``totals.percent_covered``, the same number as
  ``coverage report --format=total`` (it includes branches when branch coverage is on).

The percentage is rounded to two decimals. The kind is recognised from the content, not the
file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ai_telemetry.collect.ci._files import load_json, load_xml, local_name, number, read_bytes
from ai_telemetry.errors import ReportFormatError

_WHAT = "coverage report"
_HINT = "write one with `coverage xml` (Cobertura) or `coverage json`"


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """Overall coverage of one report."""

    percent: float
    kind: Literal["cobertura", "coverage.py-json"]
    digest_source: bytes
    """The file's bytes, for a content-derived event id."""


def parse_coverage(path: Path) -> CoverageReport:
    """Read a Cobertura XML or coverage.py JSON file.

    Raises:
        ReportFormatError: unreadable, broken, or another kind of file (JUnit, Clover, ...).
    """
    data = read_bytes(path, _WHAT)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return CoverageReport(_cobertura(path, data), "cobertura", data)
    if head in (b"{", b"["):
        return CoverageReport(_coverage_json(path, data), "coverage.py-json", data)
    raise ReportFormatError(f"{path}: not a {_WHAT} (neither XML nor JSON); {_HINT}")


def _cobertura(path: Path, data: bytes) -> float:
    root = load_xml(path, data, _WHAT, _HINT)
    tag = local_name(root.tag)
    if tag != "coverage" or root.get("line-rate") is None:
        kind = "Clover XML" if root.get("clover") is not None else f"XML with root <{tag}>"
        raise ReportFormatError(
            f"{path}: {kind} is not a Cobertura report (no <coverage line-rate=...>); {_HINT}"
        )
    covered = number(path, root.get("lines-covered"), "lines-covered")
    valid = number(path, root.get("lines-valid"), "lines-valid")
    if covered is not None and valid:
        percent = 100.0 * covered / valid
    else:
        rate = number(path, root.get("line-rate"), "line-rate")
        if rate is None:
            raise ReportFormatError(f"{path}: empty line-rate; {_HINT}")
        percent = 100.0 * rate
    if not 0.0 <= percent <= 100.0:
        raise ReportFormatError(f"{path}: line coverage {percent:g}% is outside 0..100")
    return round(percent, 2)


def _coverage_json(path: Path, data: bytes) -> float:
    doc = load_json(path, data, _WHAT, _HINT)
    totals = doc.get("totals") if isinstance(doc, dict) else None
    value = totals.get("percent_covered") if isinstance(totals, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportFormatError(
            f"{path}: JSON without totals.percent_covered is not a coverage.py report; {_HINT}"
        )
    if not 0.0 <= value <= 100.0:
        raise ReportFormatError(f"{path}: totals.percent_covered {value!r} is outside 0..100")
    return round(float(value), 2)
