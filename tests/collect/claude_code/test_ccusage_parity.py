"""The real sample transcripts: our usage reports against ccusage 20.0.24's, to the cent.

Totals, per UTC day and per session (by ``sessionId``). With npm on the machine the test
installs ``ccusage@20.0.24`` and runs it (``daily --json --offline -z UTC`` and
``session --json --offline``) on the same files, and checks it still gives the figures
recorded in ``tests/data/claude_code/ccusage-20.0.24.json``; without npm it compares against
that recording, so the test always runs.

The hand-made samples are left out: ccusage counts a response without ``requestId`` once per
copy (its issues #797 and #976), which ``streaming-growth.jsonl`` is made of.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ai_telemetry.cli import cli

DATA = Path(__file__).parents[2] / "data" / "claude_code"
RECORDED = json.loads((DATA / "ccusage-20.0.24.json").read_text())
VERSION = "20.0.24"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CLAUDE_CONFIG_DIR: projects/ holding every real sample (two copies of one session)."""
    root = tmp_path_factory.mktemp("claude")
    shutil.copytree(DATA / "projects", root / "projects")
    shutil.copytree(
        DATA / "progress" / "-home-USER-projects-spotter",
        root / "projects" / "-home-USER-projects-spotter-progress",
    )
    return root


@pytest.fixture(scope="module")
def ccusage(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """ccusage's figures: run live when npm is here, else the recording."""
    npm = shutil.which("npm")
    if npm is None:
        return dict(RECORDED)
    prefix = tmp_path_factory.mktemp("npm")
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"ccusage@{VERSION}"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    binary = prefix / "node_modules" / ".bin" / "ccusage"
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus)}

    def run(*args: str) -> Any:
        done = subprocess.run(
            [str(binary), *args, "--json", "--offline"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        return json.loads(done.stdout)

    keep = RECORDED["totals"].keys()
    daily = run("daily", "-z", "UTC")
    session = run("session")
    return {
        "daily": {r["period"]: {k: r[k] for k in keep} for r in daily["daily"]},
        "session": {r["period"]: {k: r[k] for k in keep} for r in session["session"]},
        "totals": {k: daily["totals"][k] for k in keep},
    }


@pytest.fixture(scope="module")
def ours(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    telemetry = tmp_path_factory.mktemp("telemetry")
    env = {"AI_TELEMETRY_DIR": str(telemetry)}
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "claude-code", str(corpus / "projects")], env=env)
    assert 0 == result.exit_code, result.output
    out = {}
    for report in ("daily", "session"):
        result = runner.invoke(cli, ["usage", report, "--json"], env=env)
        assert 0 == result.exit_code, result.output
        out[report] = json.loads(result.stdout)
    return out


def as_ccusage(row: dict[str, Any]) -> dict[str, Any]:
    """Our row in ccusage's terms (it sums both cache-write lifetimes)."""
    return {
        "inputTokens": row["input_tokens"],
        "outputTokens": row["output_tokens"],
        "cacheCreationTokens": row["cache_creation_5m_tokens"] + row["cache_creation_1h_tokens"],
        "cacheReadTokens": row["cache_read_tokens"],
        "totalTokens": row["total_tokens"],
        "totalCost": round(row["cost_usd"], 2),
    }


def cents(figures: dict[str, Any]) -> dict[str, Any]:
    return {**figures, "totalCost": round(figures["totalCost"], 2)}


def test_live_ccusage_still_gives_the_recorded_figures(ccusage: dict[str, Any]) -> None:
    """The recording is what ccusage 20.0.24 prints on these files (or is the recording)."""
    for part in ("daily", "session"):
        assert {k: cents(v) for k, v in RECORDED[part].items()} == {
            k: cents(v) for k, v in ccusage[part].items()
        }
    assert cents(RECORDED["totals"]) == cents(ccusage["totals"])


def test_totals_match_ccusage(ours: dict[str, Any], ccusage: dict[str, Any]) -> None:
    """Every token count and the cost to the cent."""
    assert cents(ccusage["totals"]) == as_ccusage(ours["daily"]["totals"])


def test_per_utc_day_matches_ccusage(ours: dict[str, Any], ccusage: dict[str, Any]) -> None:
    """Day by day in UTC."""
    assert {k: cents(v) for k, v in ccusage["daily"].items()} == {
        r["key"]: as_ccusage(r) for r in ours["daily"]["rows"]
    }


def test_per_session_matches_ccusage(ours: dict[str, Any], ccusage: dict[str, Any]) -> None:
    """Session by sessionId (the two copies of one session are one)."""
    assert {k: cents(v) for k, v in ccusage["session"].items()} == {
        r["key"]: as_ccusage(r) for r in ours["session"]["rows"]
    }
