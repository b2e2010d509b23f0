"""collect_ci end to end, the `collect ci` command, and the GitHub workflow it ships."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner

from ai_telemetry.cli import cli
from ai_telemetry.collect.ci import build_id_from_env, collect_ci
from ai_telemetry.collect.ci.github import write_workflow
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.errors import CollectorError, ReportFormatError

DATA = Path(__file__).resolve().parents[2] / "data" / "ci"
Reports = Any  # the session fixture `reports` (conftest.py): real tool outputs


def logged(settings: Settings) -> list[dict[str, Any]]:
    if not settings.log_path.exists():
        return []
    return [orjson.loads(line) for line in settings.log_path.read_bytes().splitlines() if line]


def clock() -> str:
    return "2025-12-26T14:20:00Z"


def cobertura(tmp_path: Path, name: str, covered: int, valid: int) -> Path:
    path = tmp_path / name
    path.write_text(
        f'<coverage line-rate="{covered / valid}" lines-covered="{covered}" '
        f'lines-valid="{valid}"><packages/></coverage>'
    )
    return path


def test_all_reports_become_their_events(reports: Reports, settings: Settings) -> None:
    """Every option writes its METRICS.md event, with the numbers of its report."""
    collect_ci(
        settings=settings,
        coverage=reports.coverage_json,
        junit=reports.junit,
        ruff=reports.ruff_json,
        types=reports.source,
        docs=reports.source,
        security=DATA / "pip_audit_many_vulns.json",
        build_id="b1",
        clock=clock,
    )
    by_type = {e["event_type"]: e for e in logged(settings)}
    total = reports.coverage_total
    assert {
        "test_coverage": by_type["test_coverage"]["coverage_percent"],
        "test_run": (
            by_type["test_run"]["outcome"],
            by_type["test_run"]["passed_count"],
            by_type["test_run"]["failed_count"],
            by_type["test_run"]["skipped_count"],
            by_type["test_run"]["coverage_percent"],
        ),
        "ci_build": (by_type["ci_build"]["outcome"], by_type["ci_build"]["failed_tests"]),
        "lint_report": by_type["lint_report"]["lint_errors"],
        "type_coverage": by_type["type_coverage"]["type_coverage_percent"],
        "doc_coverage": by_type["doc_coverage"]["doc_coverage_percent"],
        "security_scan": by_type["security_scan"]["open_findings"],
    } == {
        "test_coverage": total,
        "test_run": ("failed", 2, 2, 1, total),
        "ci_build": ("failed", 2),
        "lint_report": reports.ruff_concise_lines,
        "type_coverage": 66.67,
        "doc_coverage": 75.0,
        "security_scan": 7,
    }


def test_events_are_stamped_by_the_clock_and_source(reports: Reports, settings: Settings) -> None:
    """Events carry the injected clock's UTC timestamp and source ci."""
    collect_ci(settings=settings, junit=reports.junit, build_id="b1", clock=clock)
    assert {(e["timestamp"], e["source"]) for e in logged(settings)} == {
        ("2025-12-26T14:20:00Z", "ci")
    }


def test_coverage_delta_is_against_the_previous_value(tmp_path: Path, settings: Settings) -> None:
    """A second build's coverage carries the (negative) change from the first."""
    collect_ci(settings=settings, coverage=cobertura(tmp_path, "a.xml", 90, 100), build_id="1")
    collect_ci(settings=settings, coverage=cobertura(tmp_path, "b.xml", 873, 1000), build_id="2")
    events = logged(settings)
    assert [e.get("delta_percent") for e in events] == [None, -2.7]


def test_delta_reads_past_broken_log_lines(tmp_path: Path, settings: Settings) -> None:
    """Garbage lines in the log do not stop the previous coverage from being found."""
    collect_ci(settings=settings, coverage=cobertura(tmp_path, "a.xml", 80, 100), build_id="1")
    with settings.log_path.open("ab") as f:
        f.write(b'{"broken\nnot json at all\n')
    collect_ci(settings=settings, coverage=cobertura(tmp_path, "b.xml", 85, 100), build_id="2")
    latest = [e for e in logged_tolerant(settings) if e["event_type"] == "test_coverage"][-1]
    assert latest["delta_percent"] == 5.0


def logged_tolerant(settings: Settings) -> list[dict[str, Any]]:
    out = []
    for line in settings.log_path.read_bytes().splitlines():
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return out


def test_same_build_collected_twice_adds_nothing(reports: Reports, settings: Settings) -> None:
    """Re-running the collector on the same reports of the same build writes nothing."""
    options = {"coverage": reports.coverage_xml, "junit": reports.junit, "build_id": "7"}
    first = collect_ci(settings=settings, **options)
    second = collect_ci(settings=settings, **options)
    assert (first.written, second.written, second.already_logged, len(logged(settings))) == (
        3,
        0,
        3,
        3,
    )


def test_next_build_with_same_reports_adds_events(reports: Reports, settings: Settings) -> None:
    """The same lint report in a new build is a new data point."""
    collect_ci(settings=settings, ruff=reports.ruff_json, build_id="1")
    again = collect_ci(settings=settings, ruff=reports.ruff_json, build_id="2")
    assert (again.written, len(logged(settings))) == (1, 2)


def test_one_broken_input_writes_nothing(
    tmp_path: Path, reports: Reports, settings: Settings
) -> None:
    """A broken report among good ones raises naming it, and the log stays empty."""
    broken = tmp_path / "junit.xml"
    broken.write_text("<testsuites><testsuite>")
    with pytest.raises(ReportFormatError, match=str(broken)):
        collect_ci(settings=settings, coverage=reports.coverage_json, junit=broken)
    assert settings.log_path.exists() is False


def test_resolved_findings_count_the_drop_since_last_scan(settings: Settings) -> None:
    """pip-audit going from 7 open findings to 0 resolves 7."""
    collect_ci(settings=settings, security=DATA / "pip_audit_many_vulns.json", build_id="1")
    collect_ci(settings=settings, security=DATA / "pip_audit_legacy_zero.json", build_id="2")
    events = logged(settings)
    assert [(e["open_findings"], e.get("resolved_findings")) for e in events] == [
        (7, None),
        (0, 7),
    ]


def test_build_id_comes_from_the_ci_environment() -> None:
    """GitHub's run id and attempt identify the build; outside CI there is none."""
    github = {"GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2"}
    assert (build_id_from_env(github), build_id_from_env({})) == ("GITHUB_RUN_ID=42/2", "")


def test_empty_source_tree_is_an_error(tmp_path: Path, settings: Settings) -> None:
    """--types on a folder without functions is an error naming it, not 100%."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportFormatError, match="no functions found"):
        collect_ci(settings=settings, types=tmp_path / "empty")


# --- CLI ----------------------------------------------------------------------------------


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith(("AI_TELEMETRY_", "GITHUB_RUN"))]:
        monkeypatch.delenv(key)
    return tmp_path


def test_cli_without_reports_is_a_usage_error(in_tmp: Path) -> None:
    """`collect ci` with no option exits 2 and says what to give."""
    result = CliRunner().invoke(cli, ["collect", "ci"])
    assert (result.exit_code, "give at least one of --coverage" in result.output) == (2, True)


def test_cli_wrong_kind_is_one_line_naming_the_file(in_tmp: Path) -> None:
    """A Clover file as --coverage: exit 1, one line naming the file."""
    result = CliRunner().invoke(
        cli, ["collect", "ci", "--coverage", str(DATA / "clover_gcovr.xml")]
    )
    lines = result.output.strip().splitlines()
    assert (result.exit_code, len(lines), "clover_gcovr.xml" in lines[0]) == (1, 1, True)


def test_cli_prints_a_summary(in_tmp: Path) -> None:
    """`collect ci --security` prints the finding count and what it wrote."""
    result = CliRunner().invoke(
        cli, ["collect", "ci", "--security", str(DATA / "bandit_one_vuln.json")]
    )
    assert result.output == (
        "security: 1 open findings (bandit)\n1 events written, 0 already in the log\n"
    )


# --- GitHub workflow ----------------------------------------------------------------------


def test_init_github_refuses_to_overwrite(tmp_path: Path) -> None:
    """A second init without --force fails and leaves the file alone."""
    path = write_workflow(tmp_path)
    path.write_text("mine")
    with pytest.raises(CollectorError, match="--force"):
        write_workflow(tmp_path)
    assert path.read_text() == "mine"


def test_init_github_force_overwrites(tmp_path: Path) -> None:
    """--force replaces the file with the workflow."""
    path = write_workflow(tmp_path)
    path.write_text("mine")
    write_workflow(tmp_path, force=True)
    assert yaml.safe_load(path.read_text())["name"] == "Collect AI Metrics"


def test_cli_ci_init_github_writes_the_workflow(in_tmp: Path) -> None:
    """`ci init github` writes .github/workflows/ai-telemetry.yml."""
    result = CliRunner().invoke(cli, ["ci", "init", "github"])
    assert (result.exit_code, (in_tmp / ".github/workflows/ai-telemetry.yml").is_file()) == (
        0,
        True,
    )


def test_workflow_steps_run_for_real_on_a_sample_project(tmp_path: Path, reports: Reports) -> None:
    """The workflow's test, lint and collect steps, run with bash, fill the log."""
    project = tmp_path / "project"
    shutil.copytree(reports.project, project, ignore=shutil.ignore_patterns("*.json", "*.xml"))
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    workflow = yaml.safe_load(write_workflow(project).read_text())
    steps = {s.get("name"): s for s in workflow["jobs"]["collect"]["steps"]}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_TELEMETRY_", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(project / "src")
    (project / "reports").mkdir()
    for name in ("Run tests with coverage", "Lint", "Collect CI metrics"):
        subprocess.run(
            ["bash", "-c", steps[name]["run"]],
            cwd=project,
            env=env,
            check=name.startswith("Run") is False,
            capture_output=True,
        )
    events = logged(load_settings(cwd=project, environ={}))
    assert sorted(e["event_type"] for e in events) == [
        "ci_build",
        "doc_coverage",
        "lint_report",
        "test_coverage",
        "test_run",
        "type_coverage",
    ]
