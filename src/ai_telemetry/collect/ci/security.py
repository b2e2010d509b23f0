"""Open security findings from bandit or pip-audit JSON.

- bandit (``bandit -r src -f json``): one finding per entry of ``results``.
- pip-audit (``pip-audit -f json``): one finding per vulnerability of every dependency, in the
  current ``{"dependencies": [...]}`` form and the legacy top-level list. Skipped dependencies
  are not findings.

The kind is recognised from the content. An empty JSON list reads as a legacy pip-audit report
with no findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_telemetry.collect.ci._files import load_json, read_bytes
from ai_telemetry.errors import ReportFormatError

_WHAT = "security report"
_HINT = "write one with `bandit -r src -f json -o bandit.json` or `pip-audit -f json -o audit.json`"


@dataclass(frozen=True, slots=True)
class SecurityReport:
    """Findings of one scanner run."""

    open_findings: int
    tool: str
    digest_source: bytes


def parse_security(path: Path) -> SecurityReport:
    """Read a bandit or pip-audit JSON report.

    Raises:
        ReportFormatError: unreadable, not JSON, or neither kind.
    """
    data = read_bytes(path, _WHAT)
    doc = load_json(path, data, _WHAT, _HINT)
    if (
        isinstance(doc, dict)
        and isinstance(doc.get("results"), list)
        and ("metrics" in doc or "generated_at" in doc or "errors" in doc)
    ):
        return SecurityReport(len(doc["results"]), "bandit", data)
    if isinstance(doc, dict) and isinstance(doc.get("dependencies"), list):
        return SecurityReport(_pip_audit_count(path, doc["dependencies"]), "pip-audit", data)
    if isinstance(doc, list):
        return SecurityReport(_pip_audit_count(path, doc), "pip-audit", data)
    raise ReportFormatError(f"{path}: JSON that is neither bandit nor pip-audit output; {_HINT}")


def _pip_audit_count(path: Path, dependencies: list[Any]) -> int:
    total = 0
    for index, dep in enumerate(dependencies):
        if not (
            isinstance(dep, dict) and "name" in dep and ("vulns" in dep or "skip_reason" in dep)
        ):
            raise ReportFormatError(
                f"{path}: item {index} is not a pip-audit dependency "
                f"(no name with vulns or skip_reason); {_HINT}"
            )
        vulns = dep.get("vulns", [])
        if not isinstance(vulns, list):
            raise ReportFormatError(f"{path}: dependency {index}: vulns is not a list")
        total += len(vulns)
    return total
