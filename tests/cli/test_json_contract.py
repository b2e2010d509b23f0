"""The JSON contract: every read command takes --json and prints one document that its schema
in docs/schemas/ accepts, on the demo data; errors in JSON mode are {"error": ...} documents.

Adding a command? If it reads (prints numbers or state), give it ``@json_option``
(`ai_telemetry.cli.output`), a `TypedDict` in `ai_telemetry.documents.types`, an entry in
``DOCUMENTS`` and ``VERSIONS``, regenerate the schemas
(``python -m ai_telemetry.documents.jsonschema``) and add a line to ``DEMO_RUNS`` below. If it
only writes or installs, add it to ``NOT_READ`` with the reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from click.testing import CliRunner, Result

from ai_telemetry.cli import cli
from ai_telemetry.cli.output import remember_json_mode
from ai_telemetry.documents import VERSIONS
from ai_telemetry.documents.jsonschema import DOCUMENTS, file_name, render_schemas

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"

NOT_READ: dict[str, str] = {
    "init": "creates the telemetry layout",
    "store migrate": "writes the PostgreSQL store's schema",
    "store load": "sends the local log to the PostgreSQL store",
    "store retention": "archives and drops PostgreSQL partitions (like retention apply)",
    "log": "appends events (its --json is the event to append)",
    "hook": "the Claude Code hook: reads a payload, prints nothing",
    "demo": "writes a demo data set and runs the pipeline on it",
    "schema": "prints the event contract, already a JSON Schema",
    "tail": "a stream of events, JSON Lines by default (checked against the event schema)",
    "claude-code install": "writes Claude Code settings",
    "claude-code uninstall": "writes Claude Code settings",
    "import otlp": "imports OTLP files into the log",
    "collect git": "records commits into the log",
    "collect ci": "records CI reports into the log",
    "collect learnings": "records learning entries into the log",
    "git install-hook": "installs a git hook",
    "ci init github": "writes a workflow file",
    "learning new": "writes a learning entry",
    "learnings export": "writes a bundle file of learning entries",
    "learnings import": "writes learning entries from a bundle",
    "dashboard": "writes a dashboard file (its numbers are status --json's)",
    "weekly": "runs the weekly job (each step has its own read command)",
    "schedule install": "writes the crontab",
    "schedule remove": "writes the crontab",
    "export prometheus": "serves, writes, pushes or prints the Prometheus exposition (its numbers "
    "are aggregate --json's metrics.json, docs/prometheus.md)",
    "export prometheus-rules": "writes a Prometheus alerting-rules file",
    "export grafana": "writes Grafana provisioning files and a dashboard",
    "ship": "sends the log to a server (its counts are the server's per-line results)",
    "mcp": "a server (stdio or HTTP): its tools answer with the read commands' documents "
    "(tests/serve/test_mcp_server.py)",
    "serve": "the team server: its read API answers with the read commands' documents "
    "(tests/serve/test_serve_api.py)",
    "token create": "writes a token's hash and prints the token",
    "token revoke": "marks a token revoked",
    "token list": "names and roles of the tokens, no numbers",
}
"""Leaf commands that are not read commands, and why; every other one must take --json."""


def _month_ago() -> datetime:
    return datetime.now(UTC) - timedelta(days=21)


def _month() -> str:
    return f"{_month_ago():%Y-%m}"


def _quarter() -> str:
    moment = _month_ago()
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


DEMO_RUNS: dict[str, list[str]] = {
    "aggregate": ["aggregate", "--output", "{dir}/metrics-json-test.json"],
    "audit skills": ["audit", "skills", "--quarter", "{quarter}", "--repo", "{dir}"],
    "compare skill": ["compare", "skill", "acgme-compliance"],
    "detect": ["detect", "--no-notify"],
    "doctor": ["doctor"],
    "gate": ["gate"],
    "import claude-code": ["import", "claude-code", "{data}/projects", "--state", "{dir}/is.json"],
    "query": [
        "query",
        "select skill, count(*) as n, min(ts) as first from skill_executions "
        "group by skill order by n desc",
    ],
    "projects": ["projects", "--days", "30"],
    "propose fix": ["propose", "fix", "timezone-handling", "--repo", "{dir}"],
    "propose skills": ["propose", "skills", "--quarter", "{quarter}", "--repo", "{dir}"],
    "recommend": ["recommend", "--paths", "src/api", "tests/unit", "--kind", "debug"],
    "retention apply": ["retention", "apply", "--dry-run"],
    "review learnings": ["review", "learnings", "--month", "{month}", "--repo", "{dir}"],
    "spc": ["spc"],
    "status": ["status"],
    "statusline": ["statusline"],
    "top": ["top", "skills", "--days", "30"],
    "trend": ["trend", "skill_success_rate", "--key", "acgme-compliance"],
    "usage blocks": ["usage", "blocks", "--breakdown", "project"],
    "usage daily": ["usage", "daily", "--breakdown", "skill"],
    "usage monthly": ["usage", "monthly", "--timezone", "Europe/Berlin"],
    "usage session": ["usage", "session", "--breakdown", "agent"],
    "usage weekly": ["usage", "weekly", "--breakdown", "model"],
    "validate": ["validate", "--no-quarantine"],
}
"""Read command -> how the test runs it on the demo data (``--json`` is added)."""

SPC_INPUT = "[0, 0.5, 3.5, 2.5, 2.4, 0]\n\n[]\n[1, 1, 1, 1, 1, 1, 1, 1, 9]\n"
STATUS_INPUT = json.dumps(
    {"session_id": "demo-session", "transcript_path": "/nonexistent/t.jsonl", "cwd": "/tmp"}
)
STDIN: dict[str, str] = {"spc": SPC_INPUT, "statusline": STATUS_INPUT}
DATA = ROOT / "tests" / "data" / "claude_code"
EXIT_CODES: dict[str, set[int]] = {"gate": {0, 1}, "doctor": {0, 1}}
"""Commands whose exit status is part of the answer (gate closed, doctor failing)."""


def leaf_commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """(command path, command) of every command that is not a group."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"{prefix}{name} is listed but does not load"
        if isinstance(command, click.Group):
            yield from leaf_commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def read_commands() -> list[str]:
    return sorted(path for path, _ in leaf_commands(cli) if path not in NOT_READ)


def schema(command: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / file_name(command)).read_text("utf-8"))
    return loaded


def check(document: object, command: str) -> None:
    """Fail with every schema violation listed."""
    validator = jsonschema.Draft202012Validator(schema(command))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert [] == errors


def invoke(args: list[str], directory: Path, stdin: str = "") -> Result:
    return CliRunner().invoke(
        cli, args, input=stdin, env={"AI_TELEMETRY_DIR": str(directory)}, catch_exceptions=False
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """12 weeks of demo data ending this week, through the weekly pipeline (alerts open)."""
    from ai_telemetry.pipeline import run_demo

    directory = tmp_path_factory.mktemp("json-demo") / "Telemetry"
    saved = dict(os.environ)
    # Module scope runs before the autouse isolation: drop the developer's settings here too.
    for name in [n for n in os.environ if n.startswith("AI_TELEMETRY_")]:
        del os.environ[name]
    os.environ["AI_TELEMETRY_STATE_DIR"] = str(directory.parent / "state")
    try:
        for _ in run_demo(directory, weeks=12, seed=7):
            pass
        yield directory
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_every_read_command_takes_json() -> None:
    """A leaf command outside NOT_READ without the shared --json option fails here."""
    missing = []
    for path, command in leaf_commands(cli):
        if path in NOT_READ:
            continue
        flags = [p for p in command.params if "--json" in getattr(p, "opts", [])]
        if not flags or getattr(flags[0], "callback", None) is not remember_json_mode:
            missing.append(path)
    assert [] == missing, "use @json_option from ai_telemetry.cli.output (see this module)"


def test_not_read_names_only_real_commands() -> None:
    """The allowlist names commands that exist (a renamed command cannot hide in it)."""
    existing = {path for path, _ in leaf_commands(cli)}
    assert [] == sorted(set(NOT_READ) - existing)


def test_every_read_command_has_a_schema_and_a_demo_run() -> None:
    """Each read command has a document type, a version and a run on the demo data."""
    commands = read_commands()
    assert commands == sorted(set(DOCUMENTS) - {"error"})
    assert sorted(DOCUMENTS) == sorted(VERSIONS)
    assert commands == sorted(DEMO_RUNS)


def test_checked_in_schemas_are_the_generated_ones() -> None:
    """docs/schemas/ is what `python -m ai_telemetry.documents.jsonschema` renders, no more."""
    rendered = render_schemas()
    on_disk = {p.name: p.read_text("utf-8") for p in SCHEMAS.glob("*.json")}
    assert sorted(rendered) == sorted(on_disk)
    stale = [name for name, text in rendered.items() if on_disk[name] != text]
    assert [] == stale, "run: python -m ai_telemetry.documents.jsonschema docs/schemas"


@pytest.mark.parametrize("command", sorted(DOCUMENTS))
def test_schema_is_valid_json_schema(command: str) -> None:
    """Each schema is a valid draft 2020-12 schema that pins schema_version."""
    loaded = schema(command)
    jsonschema.Draft202012Validator.check_schema(loaded)
    assert VERSIONS[command] == loaded["properties"]["schema_version"]["const"]
    assert "schema_version" in loaded["required"]


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(DEMO_RUNS))
def test_json_output_on_the_demo_matches_its_schema(command: str, demo_dir: Path) -> None:
    """The command's --json output on the demo is one JSON document its schema accepts."""
    args = [
        a.format(dir=demo_dir, month=_month(), quarter=_quarter(), data=DATA)
        for a in DEMO_RUNS[command]
    ]
    result = invoke([*args, "--json"], demo_dir, stdin=STDIN.get(command, ""))
    assert result.exit_code in EXIT_CODES.get(command, {0}), result.output
    assert "" == result.stderr
    document = json.loads(result.stdout)
    check(document, command)
    assert (VERSIONS[command], command) == (document["schema_version"], document["command"])
    assert "\x1b[" not in result.stdout  # no colour


def test_tail_lines_are_events_of_the_contract(demo_dir: Path) -> None:
    """tail's JSON Lines are events that the event contract's schema accepts."""
    from ai_telemetry.events.jsonschema import json_schema

    result = invoke(["tail", "-n", "50"], demo_dir)
    assert 0 == result.exit_code, result.output
    lines = result.stdout.splitlines()
    assert 50 == len(lines)
    validator = jsonschema.Draft202012Validator(json_schema())
    errors = [e.message for line in lines for e in validator.iter_errors(json.loads(line))]
    assert [] == errors


def test_top_json_has_the_numbers_of_the_text(demo_dir: Path) -> None:
    """top --json lists the names and counts the text lists, in order."""
    text = invoke(["top", "agents", "--days", "30"], demo_dir).stdout.splitlines()[1:]
    document = json.loads(invoke(["top", "agents", "--days", "30", "--json"], demo_dir).stdout)
    shown = [f"{r['rank']}. {r['name']}: {r['count']} invocations" for r in document["rows"]]
    assert text == shown
    assert document["rows"], "the demo has agent tasks in the last 30 days"


def test_gate_json_has_the_reasons_of_the_text(demo_dir: Path) -> None:
    """gate --json: closed on the demo (critical alerts), the same reasons, exit 1 both ways."""
    text = invoke(["gate"], demo_dir)
    result = invoke(["gate", "--json"], demo_dir)
    document = json.loads(result.stdout)
    assert (1, 1, False) == (text.exit_code, result.exit_code, document["open"])
    assert [f"  {r}" for r in document["reasons"]] == text.stdout.splitlines()[1:-1]


def test_doctor_json_lists_every_check_of_the_text(demo_dir: Path) -> None:
    """doctor --json has one check per line the text prints, by name and status."""
    text = invoke(["doctor"], demo_dir).stdout.splitlines()[4:]
    document = json.loads(invoke(["doctor", "--json"], demo_dir).stdout)
    assert [line.split(":")[0] for line in text] == [
        f"{c['status']:<5} {c['name']}" for c in document["checks"]
    ]


def test_status_json_counts_what_the_screen_shows(demo_dir: Path) -> None:
    """status --json's event total and top skill are on the status screen.

    Of the demo's last week (its metrics.json): the 7 days to now hold almost none of the demo's
    events from Friday evening to Sunday, as the demo ends before this week's Monday.
    """
    week = ["--metrics", str(demo_dir / "metrics.json")]
    screen = invoke(["status", *week], demo_dir).stdout
    document = json.loads(invoke(["status", *week, "--json"], demo_dir).stdout)
    assert document["skills"], "the demo's last week has skill runs"
    assert f"{document['events_total']:,} events" in screen
    assert document["skills"][0]["name"] in screen


def test_a_library_error_in_json_mode_is_an_error_document(demo_dir: Path) -> None:
    """compare skill of an unknown skill: {"error": ...} on stdout, exit 1, stderr empty."""
    result = invoke(["compare", "skill", "no-such-skill", "--json"], demo_dir)
    document = json.loads(result.stdout)
    assert (1, "") == (result.exit_code, result.stderr)
    assert "no finished runs of skill 'no-such-skill'" in document["error"]
    assert "compare skill" == document["command"]
    check(document, "error")


def test_a_usage_error_in_json_mode_is_an_error_document(tmp_path: Path) -> None:
    """A bad option value with --json: an error document, click's usage exit status 2."""
    result = invoke(["top", "skills", "--days", "0", "--json"], tmp_path)
    document = json.loads(result.stdout)
    assert 2 == result.exit_code
    assert "--days" in document["error"]
    check(document, "error")


def test_a_missing_input_in_json_mode_is_an_error_document(tmp_path: Path) -> None:
    """detect --json without metrics.json says to run aggregate, as a document."""
    result = invoke(["detect", "--metrics", str(tmp_path / "nope.json"), "--json"], tmp_path)
    document = json.loads(result.stdout)
    assert 1 == result.exit_code
    assert "run `ai-telemetry aggregate` first" in document["error"]
    check(document, "error")


def test_errors_without_json_stay_one_line_on_stderr(tmp_path: Path) -> None:
    """Without --json the same error is one line on stderr and nothing on stdout."""
    result = invoke(["detect", "--metrics", str(tmp_path / "nope.json")], tmp_path)
    assert (1, "") == (result.exit_code, result.stdout)
    assert 1 == len(result.stderr.splitlines())
    assert result.stderr.startswith("ai-telemetry: error: ")


def test_doctor_json_with_a_broken_config_is_a_doctor_document(tmp_path: Path) -> None:
    """An unreadable config.toml: doctor --json still prints its document, the config failing."""
    directory = tmp_path / "Telemetry"
    directory.mkdir()
    (directory / "config.toml").write_text("this is [not toml\n", encoding="utf-8")
    result = invoke(["doctor", "--json"], directory)
    document = json.loads(result.stdout)
    assert (1, False) == (result.exit_code, document["ok"])
    assert ["config"] == [c["name"] for c in document["checks"] if c["status"] == "fail"]
    check(document, "doctor")


def test_a_report_with_output_writes_the_document_there(demo_dir: Path, tmp_path: Path) -> None:
    """review learnings --json --output FILE writes the document to FILE, nothing on stdout."""
    target = tmp_path / "review.json"
    args = ["review", "learnings", "--month", _month(), "--repo", str(demo_dir)]
    result = invoke([*args, "--json", "--output", str(target)], demo_dir)
    assert (0, "") == (result.exit_code, result.stdout)
    document = json.loads(target.read_text("utf-8"))
    check(document, "review learnings")
    assert document["learnings"], "the demo has learnings every month"
