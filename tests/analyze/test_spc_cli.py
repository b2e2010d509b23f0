"""``ai-telemetry spc``: JSON Lines of series in, one JSON line of signals out per line."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from ai_telemetry.cli import cli


def spc(stdin: str, *args: str) -> tuple[int, list[object], str]:
    """Run the command in-process: (exit code, parsed stdout lines, stderr)."""
    result = CliRunner().invoke(cli, ["spc", *args], input=stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, lines, result.stderr


def test_western_electric_with_given_center_and_sigma() -> None:
    """Each input line gives one output line listing the points where rules fire."""
    code, lines, _ = spc(
        "[0, 0.5, 3.5, 0]\n[2.5, 0, 2.5]\n",
        "--center",
        "0",
        "--sigma",
        "1",
        "--rules",
        "western-electric",
    )
    assert (code, lines) == (
        0,
        [[{"index": 2, "rules": ["WE1"]}], [{"index": 2, "rules": ["WE2"]}]],
    )


def test_in_control_line_gives_empty_list() -> None:
    """A line where nothing fires gives []."""
    code, lines, _ = spc("[0.1, -0.2, 0.3]\n", "--center", "0", "--sigma", "1")
    assert (code, lines) == (0, [[]])


def test_given_center_and_sigma_print_nothing_on_stderr() -> None:
    """With --center and --sigma there is nothing to estimate, so stderr stays empty."""
    _, _, err = spc("[0.1, -0.2, 0.3]\n", "--center", "0", "--sigma", "1")
    assert err == ""


def test_estimates_and_says_how_on_stderr() -> None:
    """Without --center/--sigma the estimate is described on stderr; stdout stays JSON."""
    code, lines, err = spc("[1, 3, 2, 6]\n")
    assert (code, lines) == (0, [[]])
    assert err.startswith("line 1: center 3 (mean of 4 baseline points), sigma 2.06856")


def test_baseline_option_uses_first_points() -> None:
    """--baseline N estimates from the first N points, so a later jump is flagged."""
    code, lines, _ = spc("[10, 11, 10, 11, 10, 11, 30]\n", "--baseline", "6")
    assert (code, lines) == (0, [[{"index": 6, "rules": ["WE1"]}]])


def test_cusum_and_ewma_rule_sets() -> None:
    """--rules cusum,ewma reports CUSUM+ and EWMA names for a sustained upward shift."""
    series = json.dumps([0.0] * 5 + [1.5] * 10)
    code, lines, _ = spc(series + "\n", "--center", "0", "--sigma", "1", "--rules", "cusum,ewma")
    fired = {rule for point in lines[0] for rule in point["rules"]}  # type: ignore[index]
    assert (code, fired) == (0, {"CUSUM+", "EWMA"})


def test_robust_rule_set_uses_median_and_mad_by_default() -> None:
    """--rules robust estimates with median/MAD, so one huge outlier does not hide itself."""
    code, lines, err = spc("[10, 11, 9, 10, 12, 10, 11, 95]\n", "--rules", "robust")
    assert (code, lines) == (0, [[{"index": 7, "rules": ["ROBUST"]}]])
    assert "median of 8 baseline points" in err


def test_bad_line_is_an_error_naming_it_after_good_lines() -> None:
    """A bad line stops with exit 1 and an error naming it; earlier lines were still printed."""
    code, lines, err = spc('[0, 4]\n[1, "x"]\n[0]\n', "--center", "0", "--sigma", "1")
    assert (code, lines) == (1, [[{"index": 1, "rules": ["WE1"]}]])
    assert "stdin line 2, item 1" in err and "Traceback" not in err


def test_line_that_is_not_an_array_is_an_error() -> None:
    """A JSON object instead of an array is rejected with the line number."""
    code, _, err = spc('{"a": 1}\n', "--center", "0", "--sigma", "1")
    assert code == 1 and "stdin line 1: expected a JSON array" in err


def test_constant_line_without_sigma_is_an_error() -> None:
    """A line whose points do not vary cannot give a sigma: error naming the line."""
    code, _, err = spc("[5, 5, 5]\n")
    assert code == 1 and "stdin line 1: cannot estimate sigma" in err


def test_unknown_rule_set_is_an_error() -> None:
    """An unknown --rules value is an error listing the valid ones."""
    code, _, err = spc("[1]\n", "--rules", "nelson")
    assert code == 1 and "western-electric, cusum, ewma, robust" in err


def test_blank_lines_are_skipped() -> None:
    """Blank lines produce no output line."""
    code, lines, _ = spc("\n[0]\n\n", "--center", "0", "--sigma", "1")
    assert (code, lines) == (0, [[]])


def test_installed_command_runs_as_a_real_process() -> None:
    """python -m ai_telemetry spc works end to end through a pipe."""
    proc = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "spc", "--center", "0", "--sigma", "1"],
        input="[0, 0, 0, 0, 0, 0, 0, 0, 3.2]\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, '[{"index":8,"rules":["WE1"]}]\n')
