"""The CI report parsers, on reports made by real tools and on public samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ai_telemetry.collect.ci.coverage_report import parse_coverage
from ai_telemetry.collect.ci.junit import parse_junit
from ai_telemetry.collect.ci.lint import parse_ruff
from ai_telemetry.collect.ci.pyast import measure_source
from ai_telemetry.collect.ci.security import parse_security
from ai_telemetry.errors import ReportFormatError

DATA = Path(__file__).resolve().parents[2] / "data" / "ci"
Reports = Any  # the session fixture `reports` (conftest.py): real tool outputs


def counts(path: Path) -> tuple[int, int, int, int]:
    report = parse_junit(path)
    return report.passed, report.failed, report.errors, report.skipped


# --- coverage -----------------------------------------------------------------------------


def test_coverage_json_matches_coverage_py_total(reports: Reports) -> None:
    """coverage.py JSON gives the same total as `coverage report --format=total`."""
    assert parse_coverage(reports.coverage_json).percent == reports.coverage_total


def test_cobertura_from_coverage_py_matches_its_total(reports: Reports) -> None:
    """coverage.py's Cobertura XML gives the same line coverage (no branch data here)."""
    assert parse_coverage(reports.coverage_xml).percent == reports.coverage_total


def test_gcovr_cobertura_counts_covered_over_valid_lines() -> None:
    """gcovr's published Cobertura example: 6 of 7 lines, 85.71%."""
    report = parse_coverage(DATA / "cobertura_gcovr.xml")
    assert (report.percent, report.kind) == (round(600 / 7, 2), "cobertura")


def test_clover_xml_is_refused_with_its_name() -> None:
    """A Clover report (root <coverage> too) is refused, naming the file and the kind."""
    with pytest.raises(ReportFormatError, match=r"clover_gcovr\.xml: Clover XML"):
        parse_coverage(DATA / "clover_gcovr.xml")


def test_junit_given_as_coverage_is_refused(reports: Reports) -> None:
    """A JUnit file passed as coverage names the file and its root element."""
    with pytest.raises(ReportFormatError, match=r"junit\.xml: XML with root <testsuites>"):
        parse_coverage(reports.junit)


def test_truncated_coverage_xml_is_refused(tmp_path: Path, reports: Reports) -> None:
    """A truncated Cobertura file is reported as not well-formed, with its path."""
    broken = tmp_path / "cut.xml"
    broken.write_bytes(reports.coverage_xml.read_bytes()[:200])
    with pytest.raises(ReportFormatError, match=r"cut\.xml: not a coverage report: not well"):
        parse_coverage(broken)


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    """XML declaring entities (billion laughs) is refused, not expanded."""
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<coverage line-rate="0.5">&b;</coverage>'
    )
    with pytest.raises(ReportFormatError, match=r"bomb\.xml: refused"):
        parse_coverage(bomb)


# --- junit --------------------------------------------------------------------------------


def test_pytest_junit_counts_pass_fail_skip_error(reports: Reports) -> None:
    """pytest's JUnit XML: 2 passed, 1 failed, 1 error (broken fixture), 1 skipped."""
    assert counts(reports.junit) == (2, 1, 1, 1)


def test_pytest_junit_outcome_and_failed_count(reports: Reports) -> None:
    """Failures and errors together make failed_count; any makes the outcome failed."""
    report = parse_junit(reports.junit)
    assert (report.failed_count, report.outcome) == (2, "failed")


def test_jenkins_style_nested_suites_count_every_case_once() -> None:
    """buildviz's nested suites: 1 pass and 3 failures across two levels."""
    assert counts(DATA / "junit_nested_buildviz.xml") == (1, 3, 0, 0)


def test_nested_suites_with_skip_and_error() -> None:
    """A nested suite with a failure, an error, a pass and a skip counts each once."""
    assert counts(DATA / "junit_skip_error_buildviz.xml") == (1, 1, 1, 1)


def test_nose_xunit_with_skip_attribute() -> None:
    """nose's xunit output (skip= attribute on the suite) counts by test case."""
    assert counts(DATA / "junit_nose_skip.xml") == (1, 1, 1, 1)


def test_duration_sums_case_times_without_suite_times() -> None:
    """Without suite times the duration is the sum of the cases' times."""
    assert parse_junit(DATA / "junit_nested_buildviz.xml").duration_seconds == round(
        0.0062 + 0.0060 + 0.0062 + 0.0050, 3
    )


def test_suite_counts_are_used_when_there_are_no_cases(tmp_path: Path) -> None:
    """A summary-only report falls back to the suites' tests/failures/errors/skipped."""
    path = tmp_path / "summary.xml"
    path.write_text(
        '<testsuites><testsuite name="a" tests="10" failures="2" errors="1" skipped="3" '
        'time="4.5"/><testsuite name="b" tests="5" failures="0" errors="0" skipped="0" '
        'time="0.5"/></testsuites>'
    )
    report = parse_junit(path)
    assert (counts(path), report.duration_seconds) == ((9, 2, 1, 3), 5.0)


def test_coverage_given_as_junit_is_refused(reports: Reports) -> None:
    """A Cobertura file passed as JUnit names the file."""
    with pytest.raises(ReportFormatError, match=r"coverage\.xml: XML with root <coverage>"):
        parse_junit(reports.coverage_xml)


# --- ruff ---------------------------------------------------------------------------------


def test_ruff_json_counts_every_diagnostic(reports: Reports) -> None:
    """ruff's JSON gives as many lint errors as ruff's concise output has lines."""
    assert (parse_ruff(reports.ruff_json).errors, reports.ruff_concise_lines > 0) == (
        reports.ruff_concise_lines,
        True,
    )


def test_empty_ruff_output_is_zero_errors(tmp_path: Path) -> None:
    """`[]` (a clean run) is zero lint errors."""
    path = tmp_path / "ruff.json"
    path.write_text("[]")
    assert parse_ruff(path).errors == 0


def test_bandit_given_as_ruff_is_refused() -> None:
    """A bandit report passed as ruff output is refused, naming the file."""
    with pytest.raises(ReportFormatError, match=r"bandit_one_vuln\.json: a JSON dict"):
        parse_ruff(DATA / "bandit_one_vuln.json")


def test_pip_audit_list_given_as_ruff_is_refused() -> None:
    """A legacy pip-audit list is not mistaken for ruff diagnostics."""
    with pytest.raises(ReportFormatError, match=r"item 0 is not a ruff diagnostic"):
        parse_ruff(DATA / "pip_audit_legacy_zero.json")


# --- security -----------------------------------------------------------------------------


def test_bandit_sample_has_one_open_finding() -> None:
    """DefectDojo's bandit sample: one B101 finding."""
    report = parse_security(DATA / "bandit_one_vuln.json")
    assert (report.open_findings, report.tool) == (1, "bandit")


def test_pip_audit_counts_vulnerabilities_not_packages() -> None:
    """pip-audit: 7 vulnerabilities in 4 packages; the skipped package is no finding."""
    report = parse_security(DATA / "pip_audit_many_vulns.json")
    assert (report.open_findings, report.tool) == (7, "pip-audit")


def test_legacy_pip_audit_list_with_no_vulnerabilities() -> None:
    """The legacy top-level list form reads as pip-audit with zero findings."""
    assert parse_security(DATA / "pip_audit_legacy_zero.json").open_findings == 0


def test_ruff_output_given_as_security_is_refused(reports: Reports) -> None:
    """ruff diagnostics passed as a security report are refused."""
    with pytest.raises(ReportFormatError, match=r"ruff\.json: item 0 is not a pip-audit"):
        parse_security(reports.ruff_json)


# --- type and doc coverage ----------------------------------------------------------------


def test_type_coverage_counts_fully_annotated_functions(reports: Reports) -> None:
    """4 of 6 functions are fully annotated (self excepted): 66.67%."""
    types, _ = measure_source(reports.source)
    assert (types.covered, types.total, types.percent) == (4, 6, 66.67)


def test_doc_coverage_counts_public_functions_only(reports: Reports) -> None:
    """3 of 4 public functions have docstrings (dunder and _private not counted): 75%."""
    _, docs = measure_source(reports.source)
    assert (docs.covered, docs.total, docs.percent) == (3, 4, 75.0)


def test_staticmethod_first_parameter_needs_an_annotation(tmp_path: Path) -> None:
    """A staticmethod's first parameter named self is not exempt."""
    (tmp_path / "m.py").write_text(
        "class A:\n    @staticmethod\n    def f(self) -> None:\n        pass\n"
        "    def g(self) -> None:\n        pass\n"
    )
    types, _ = measure_source(tmp_path)
    assert (types.covered, types.total) == (1, 2)


def test_functions_under_if_blocks_and_nested_functions_count(tmp_path: Path) -> None:
    """Functions under `if` count for both measures; nested ones only for types."""
    (tmp_path / "m.py").write_text(
        "import sys\nif sys:\n    def f() -> None:\n        '''Doc.'''\n"
        "        def inner(x):\n            pass\n"
    )
    types, docs = measure_source(tmp_path)
    assert ((types.covered, types.total), (docs.covered, docs.total)) == ((1, 2), (1, 1))


def test_hidden_and_venv_directories_are_skipped(tmp_path: Path) -> None:
    """Files under .venv, venv and __pycache__ are not measured."""
    (tmp_path / "a.py").write_text("def f() -> None:\n    pass\n")
    for skipped in (".venv", "venv", "__pycache__"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "b.py").write_text("def g(x):\n    pass\n")
    types, _ = measure_source(tmp_path)
    assert (types.files, types.total) == (1, 1)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A file that is not valid Python is reported with its path and line."""
    (tmp_path / "ok.py").write_text("def f() -> None:\n    pass\n")
    (tmp_path / "bad.py").write_text("x = 1\ndef broken(:\n")
    with pytest.raises(ReportFormatError, match=r"bad\.py:2: not valid Python"):
        measure_source(tmp_path)
