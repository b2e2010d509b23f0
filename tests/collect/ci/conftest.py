"""Real CI reports, made once per session by running real tools on a tiny sample project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from ai_telemetry.config import Settings, load_settings

BIN = Path(sys.executable).parent
DATA = Path(__file__).resolve().parents[2] / "data" / "ci"

SOURCE = '''\
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def sub(a, b):
    return a - b


class Box:
    def __init__(self, value: int) -> None:
        self.value = value

    def get(self) -> int:
        """The value."""
        return self.value

    def _hidden(self, x):
        return x


def never_called(x: int) -> int:
    """Absolute value, never run by the tests."""
    if x > 0:
        return x
    return -x
'''

TESTS = """\
import pytest

from sample.calc import Box, add, sub


def test_add():
    assert add(1, 2) == 3


def test_sub_fails():
    assert sub(3, 1) == 3


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.fixture
def broken():
    raise RuntimeError("fixture breaks")


def test_error(broken):
    pass


def test_box():
    assert Box(2).get() == 2
"""

LINTY = """\
import os


def check(x):
    if x == None:
        return 1
    return 2
"""


@dataclass(frozen=True)
class Reports:
    """Files written by real coverage.py, pytest and ruff runs."""

    project: Path
    source: Path
    coverage_json: Path
    coverage_xml: Path
    junit: Path
    ruff_json: Path
    coverage_total: float
    """`coverage report --format=total --precision=2`: coverage.py's own total."""
    ruff_concise_lines: int
    """Diagnostics ruff printed in its concise format: an independent count."""


def tool_env(project: Path) -> dict[str, str]:
    """A clean environment for the sample project's tools."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "COV_", "COVERAGE_", "AI_TELEMETRY_"))
    }
    env["PYTHONPATH"] = str(project / "src")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(project: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), cwd=project, env=tool_env(project), capture_output=True, text=True, check=check
    )


def make_project(root: Path) -> Path:
    """Write the sample project (sources, tests, a file with lint errors)."""
    (root / "src" / "sample").mkdir(parents=True)
    (root / "src" / "sample" / "__init__.py").write_text("")
    (root / "src" / "sample" / "calc.py").write_text(SOURCE)
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(TESTS)
    (root / "linty.py").write_text(LINTY)
    (root / "pytest.ini").write_text(textwrap.dedent("[pytest]\naddopts = -p no:cacheprovider\n"))
    return root


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    project = make_project(tmp_path_factory.mktemp("sample"))
    py = sys.executable
    run(
        project,
        py,
        "-m",
        "coverage",
        "run",
        "--source=src",
        "-m",
        "pytest",
        "-q",
        "--junitxml=junit.xml",
        "tests",
        check=False,  # the sample has a failing test on purpose
    )
    run(project, py, "-m", "coverage", "json", "-o", "coverage.json")
    run(project, py, "-m", "coverage", "xml", "-o", "coverage.xml")
    total = run(project, py, "-m", "coverage", "report", "--format=total", "--precision=2")
    ruff = str(BIN / "ruff")
    lint = run(
        project,
        ruff,
        "check",
        "--isolated",
        "--select",
        "E,F",
        "--output-format",
        "json",
        "--exit-zero",
        "linty.py",
    )
    (project / "ruff.json").write_text(lint.stdout)
    concise = run(
        project,
        ruff,
        "check",
        "--isolated",
        "--select",
        "E,F",
        "--output-format",
        "concise",
        "--exit-zero",
        "linty.py",
    )
    lines = [line for line in concise.stdout.splitlines() if line.startswith("linty.py:")]
    return Reports(
        project=project,
        source=project / "src",
        coverage_json=project / "coverage.json",
        coverage_xml=project / "coverage.xml",
        junit=project / "junit.xml",
        ruff_json=project / "ruff.json",
        coverage_total=float(total.stdout.strip()),
        ruff_concise_lines=len(lines),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh telemetry directory under tmp_path."""
    return load_settings(cwd=tmp_path, environ={})
