"""Test results from JUnit XML: pytest, Jenkins-style nested suites, nose, jest-junit, ...

Every ``<testcase>`` anywhere under the root counts once, whatever the nesting:

- with a ``<failure>`` child: failed; with an ``<error>`` child: error (a failure and an error
  on the same case count as one error);
- else with a ``<skipped>`` child: skipped;
- else: passed.

A report with suites but no ``<testcase>`` elements falls back to the counts on the outermost
suites (``tests``, ``failures``, ``errors``, ``skipped`` or ``skip``). The duration is the
root's ``time``, else the sum of the top-level suites' ``time``, else of the cases'.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ai_telemetry.collect.ci._files import load_xml, local_name, number, read_bytes
from ai_telemetry.errors import ReportFormatError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

_WHAT = "JUnit XML report"
_HINT = "write one with `pytest --junitxml=junit.xml`"


@dataclass(frozen=True, slots=True)
class TestReport:
    """Counts of one test run."""

    __test__ = False  # not a pytest test class, despite the name

    passed: int
    failed: int
    errors: int
    skipped: int
    duration_seconds: float | None
    digest_source: bytes

    @property
    def failed_count(self) -> int:
        """Failures plus errors: what METRICS.md's ``failed_count`` counts."""
        return self.failed + self.errors

    @property
    def outcome(self) -> str:
        """``failed`` when any test failed or errored, else ``passed``."""
        return "failed" if self.failed_count else "passed"


def parse_junit(path: Path) -> TestReport:
    """Read a JUnit XML file.

    Raises:
        ReportFormatError: unreadable, broken, or not JUnit (e.g. a coverage report).
    """
    data = read_bytes(path, _WHAT)
    root = load_xml(path, data, _WHAT, _HINT)
    tag = local_name(root.tag)
    if tag not in ("testsuites", "testsuite"):
        raise ReportFormatError(
            f"{path}: XML with root <{tag}> is not a {_WHAT} "
            f"(expected <testsuites> or <testsuite>); {_HINT}"
        )
    cases = [el for el in root.iter() if local_name(el.tag) == "testcase"]
    if cases:
        passed = failed = errors = skipped = 0
        for case in cases:
            kinds = {local_name(child.tag) for child in case}
            if "error" in kinds:
                errors += 1
            elif "failure" in kinds:
                failed += 1
            elif "skipped" in kinds:
                skipped += 1
            else:
                passed += 1
    else:
        passed, failed, errors, skipped = _suite_counts(path, root)
    return TestReport(passed, failed, errors, skipped, _duration(path, root, cases), data)


def _top_suites(root: Element) -> list[Element]:
    if local_name(root.tag) == "testsuite":
        return [root]
    return [el for el in root if local_name(el.tag) == "testsuite"]


def _suite_counts(path: Path, root: Element) -> tuple[int, int, int, int]:
    tests = failed = errors = skipped = 0.0
    for suite in _top_suites(root):
        tests += number(path, suite.get("tests"), "tests") or 0
        failed += number(path, suite.get("failures"), "failures") or 0
        errors += number(path, suite.get("errors"), "errors") or 0
        skip = suite.get("skipped", suite.get("skip"))
        skipped += number(path, skip, "skipped") or 0
    passed = tests - failed - errors - skipped
    if min(passed, failed, errors, skipped) < 0:
        raise ReportFormatError(f"{path}: suite counts do not add up (tests < failures + ...)")
    return int(passed), int(failed), int(errors), int(skipped)


def _duration(path: Path, root: Element, cases: list[Element]) -> float | None:
    own = number(path, root.get("time"), "time")
    if own is not None:
        return round(own, 3)
    suites = [number(path, s.get("time"), "time") for s in _top_suites(root)]
    if suites and all(t is not None for t in suites):
        return round(sum(t for t in suites if t is not None), 3)
    times = [number(path, c.get("time"), "time") for c in cases]
    known = [t for t in times if t is not None]
    return round(sum(known), 3) if known else None
