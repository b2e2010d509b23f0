"""``ai-telemetry mcp`` through real MCP client sessions (the ``mcp`` package) over stdio and
streamable HTTP, on the demo data: tools and schemas, results equal to the CLI's ``--json``,
the write tool off unless enabled, bad arguments answered with an MCP error."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ai_telemetry.documents.jsonschema import file_name
from ai_telemetry.serve.mcp import READ_TOOLS

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
CLI = [sys.executable, "-m", "ai_telemetry"]
TOOL_NAMES = {*READ_TOOLS, "log_learning"}
MOMENT = datetime.now(UTC) - timedelta(days=21)
MONTH = f"{MOMENT:%Y-%m}"
QUARTER = f"{MOMENT.year}-Q{(MOMENT.month - 1) // 3 + 1}"
START = f"{datetime.now(UTC) - timedelta(days=30):%Y-%m-%d}"
END = f"{datetime.now(UTC) + timedelta(days=1):%Y-%m-%d}"
AS_OF = f"{datetime.now(UTC):%Y-%m-%dT%H:00:00Z}"

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "get_metrics",
        {"window": f"{START}/{END}"},
        ["aggregate", "--start", START, "--end", END, "--output", "{dir}/m.json"],
    ),
    ("top", {"kind": "skills", "days": 30}, ["top", "skills", "--days", "30"]),
    (
        "top",
        {"kind": "errors", "days": 60, "limit": 3},
        ["top", "errors", "--days", "60", "--limit", "3"],
    ),
    (
        "trend",
        {"metric": "skill_success_rate", "key": "acgme-compliance", "weeks": 8},
        ["trend", "skill_success_rate", "--key", "acgme-compliance", "--weeks", "8"],
    ),
    ("open_alerts", {}, ["status", "--metrics", "{dir}/metrics.json"]),
    ("open_alerts", {"live": True, "weeks": 4}, ["status", "--weeks", "4"]),
    (
        "top",
        {"kind": "skills", "days": 30, "project": "nobody"},
        ["top", "skills", "--days", "30", "--project", "nobody"],
    ),
    (
        "trend",
        {"metric": "skill_invocation_total", "weeks": 4, "project": "nobody"},
        ["trend", "skill_invocation_total", "--weeks", "4", "--project", "nobody"],
    ),
    ("open_alerts", {"live": True, "project": "nobody"}, ["status", "--project", "nobody"]),
    (
        "skill_audit",
        {"quarter": QUARTER, "as_of": AS_OF, "project": "nobody"},
        [
            "audit",
            "skills",
            "--quarter",
            QUARTER,
            "--repo",
            "{dir}",
            "--as-of",
            AS_OF,
            "--project",
            "nobody",
        ],
    ),
    (
        "skill_audit",
        {"quarter": QUARTER, "as_of": AS_OF},
        ["audit", "skills", "--quarter", QUARTER, "--repo", "{dir}", "--as-of", AS_OF],
    ),
    (
        "learning_review",
        {"month": MONTH, "as_of": AS_OF},
        ["review", "learnings", "--month", MONTH, "--repo", "{dir}", "--as-of", AS_OF],
    ),
    ("compare_skill", {"name": "acgme-compliance"}, ["compare", "skill", "acgme-compliance"]),
    (
        "propose_fix",
        {"alert_id": "timezone-handling"},
        ["propose", "fix", "timezone-handling", "--repo", "{dir}"],
    ),
    (
        "propose_skill",
        {"quarter": QUARTER, "as_of": AS_OF},
        ["propose", "skills", "--quarter", QUARTER, "--repo", "{dir}", "--as-of", AS_OF],
    ),
    (
        "recommend_skill",
        {"paths": ["src/api", "tests/unit"], "kind": "debug"},
        ["recommend", "--paths", "src/api", "tests/unit", "--kind", "debug"],
    ),
    (
        "compare_skill",
        {"name": "acgme-compliance", "versions": ["v1", "v2"]},
        ["compare", "skill", "acgme-compliance", "--versions", "v1", "v2"],
    ),
]
"""(tool, arguments, the CLI command that must print the same document with --json)."""
TREND = next(c for c in CASES if c[0] == "trend")

CALL_TIME_FIELDS = {"window", "generated_at", "as_of"}
"""Fields that hold the moment of the call (two processes never share it)."""


def env(directory: Path, home: Path | None = None) -> dict[str, str]:
    out = {"AI_TELEMETRY_DIR": str(directory), "PATH": os.environ.get("PATH", "")}
    out["HOME"] = str(home or directory)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data set (12 weeks ending this week, alerts open), built by the CLI."""
    directory = tmp_path_factory.mktemp("mcp-demo") / "demo"
    subprocess.run(
        [*CLI, "demo", "--dir", str(directory)],
        check=True,
        capture_output=True,
        env=env(directory),
        timeout=300,
    )
    return directory


def cli_json(args: list[str], directory: Path) -> dict[str, Any]:
    argv = [a.replace("{dir}", str(directory)) for a in args]
    done = subprocess.run(
        [*CLI, *argv, "--json"],
        check=False,
        capture_output=True,
        text=True,
        env=env(directory),
        cwd=directory,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    loaded: dict[str, Any] = json.loads(done.stdout)
    return loaded


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the fields that hold the moment of the call."""
    out = {k: v for k, v in document.items() if k not in CALL_TIME_FIELDS}
    if isinstance(out.get("metrics"), dict):
        out["metrics"] = {k: v for k, v in out["metrics"].items() if k != "generated_at"}
    return out


Session = Any
Work = Callable[[Session], Awaitable[Any]]


async def _stdio(directory: Path, args: list[str], work: Work) -> Any:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "ai_telemetry", "mcp", "--repo", str(directory), *args],
        env=env(directory),
        cwd=str(directory),
    )
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await work(session)


def stdio_session(directory: Path, work: Work, *args: str) -> Any:
    """Run ``work`` in a client session with ``ai-telemetry mcp ARGS`` spawned over stdio."""
    return asyncio.run(asyncio.wait_for(_stdio(directory, list(args), work), timeout=240))


async def _everything(session: Session) -> dict[str, Any]:
    tools = await session.list_tools()
    results = [await session.call_tool(name, args) for name, args, _ in CASES]
    resources = await session.list_resources()
    contents = {str(r.uri): await session.read_resource(r.uri) for r in resources.resources}
    return {"tools": tools.tools, "results": results, "contents": contents}


@pytest.fixture(scope="module")
def stdio_run(demo: Path) -> dict[str, Any]:
    """One stdio session calling every case, listing and reading every resource."""
    result: dict[str, Any] = stdio_session(demo, _everything)
    return result


def test_every_read_tool_is_listed_with_its_schemas(stdio_run: dict[str, Any]) -> None:
    """The read tools, and no write tool by default; output schemas are docs/schemas'."""
    tools = {t.name: t for t in stdio_run["tools"]}
    assert set(READ_TOOLS) == set(tools)
    for name, command in READ_TOOLS.items():
        declared = json.loads((SCHEMAS / file_name(command)).read_text("utf-8"))
        assert declared == tools[name].output_schema, name
        assert "object" == tools[name].input_schema["type"]
    assert {"kind", "days", "limit", "project"} == set(tools["top"].input_schema["properties"])
    assert ["metric"] == tools["trend"].input_schema["required"]
    assert ["quarter"] == tools["skill_audit"].input_schema["required"]
    assert ["month"] == tools["learning_review"].input_schema["required"]
    assert {"name", "versions", "date", "commit", "project"} == set(
        tools["compare_skill"].input_schema["properties"]
    )


@pytest.mark.parametrize(
    "case", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_tool_answers_the_cli_json_document(
    case: int, stdio_run: dict[str, Any], demo: Path
) -> None:
    """The structured result is the CLI's --json document for the same arguments."""
    name, args, argv = CASES[case]
    result = stdio_run["results"][case]
    assert not result.is_error, result.content[0].text
    document = dict(result.structured_content)
    assert json.loads(result.content[0].text) == document  # the text block is the same JSON
    jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / file_name(READ_TOOLS[name])).read_text("utf-8"))
    ).validate(document)
    expected = cli_json(argv, demo)
    if name == "get_metrics":
        written = json.loads((demo / "m.json").read_text("utf-8"))
        assert comparable({"metrics": written}) == comparable({"metrics": document["metrics"]})
        assert "" == document.pop("output")
        expected.pop("output")
        del document["metrics"]
    if name == "top" or args.get("live"):  # the last N days ending now: the same length
        assert _length(expected["window"]) == pytest.approx(_length(document["window"]))
    if args.get("live"):  # events enter and leave a window that ends now, between the calls
        assert expected["alerts"] == document["alerts"]
        assert expected["events_total"] == pytest.approx(document["events_total"], rel=0.02)
        return
    assert comparable(expected) == comparable(document)


def _length(window: dict[str, str]) -> float:
    start = datetime.fromisoformat(window["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(window["end"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def test_open_alerts_lists_the_demo_alerts(stdio_run: dict[str, Any]) -> None:
    """The demo opens alerts; open_alerts answers with them, most severe first."""
    index = next(i for i, c in enumerate(CASES) if c[0] == "open_alerts")
    alerts = stdio_run["results"][index].structured_content["alerts"]
    assert alerts
    order = {"critical": 0, "warning": 1, "info": 2}
    assert sorted(alerts, key=lambda a: order[a["severity"]]) == alerts


def test_resources_are_metrics_json_and_the_latest_dashboard(
    stdio_run: dict[str, Any], demo: Path
) -> None:
    """Both resources read back the files the weekly job wrote."""
    contents = stdio_run["contents"]
    assert {"telemetry://metrics.json", "telemetry://dashboard/latest.md"} == set(contents)
    metrics = contents["telemetry://metrics.json"].contents[0].text
    assert (demo / "metrics.json").read_text("utf-8") == metrics
    dashboard = contents["telemetry://dashboard/latest.md"].contents[0].text
    latest = sorted((demo / "dashboards").glob("weekly-*.md"))[-1]
    assert latest.read_text("utf-8") == dashboard


async def _bad_calls(session: Session) -> list[Any]:
    calls = [
        ("top", {"kind": "bogus"}),
        ("trend", {"metric": "skill_success_rate", "weeks": 0}),
        ("trend", {}),
        ("skill_audit", {"quarter": "2025-Q9"}),
        ("learning_review", {"month": "last month"}),
        ("get_metrics", {"window": "yesterday"}),
        ("compare_skill", {"name": "acgme-compliance", "versions": ["v1", "v2"], "date": "x"}),
        ("log_learning", {"title": "refused while disabled"}),
        ("top", {"kind": "skills"}),  # the session still works
    ]
    return [await session.call_tool(name, args) for name, args in calls]


def test_bad_arguments_are_mcp_errors_and_the_server_keeps_serving(demo: Path) -> None:
    """Each bad call is an error result naming the problem; the next good call works."""
    *bad, good = stdio_session(demo, _bad_calls)
    assert [True] * len(bad) == [r.is_error for r in bad]
    texts = [r.content[0].text for r in bad]
    assert "kind" in texts[0]
    assert "weeks" in texts[1]
    assert "metric" in texts[2]
    assert "2025-Q9" in texts[3]
    assert "last month" in texts[4]
    assert "yesterday" in texts[5] and "7d" in texts[5]
    assert "exclude each other" in texts[6]
    assert "log_learning" in texts[7]
    assert [] == [t for t in texts if "Traceback" in t]
    assert not good.is_error
    assert not (demo / ".claude" / "History").exists()  # the refused write wrote nothing


async def _write(session: Session) -> tuple[Any, Any]:
    tools = await session.list_tools()
    result = await session.call_tool(
        "log_learning",
        {
            "title": "Mail jane.doe@example.com about the flaky retry",
            "severity": "warning",
            "skill": "acgme-compliance",
        },
    )
    return tools.tools, result


def test_log_learning_writes_the_next_entry_through_the_privacy_guard(
    demo: Path, tmp_path: Path
) -> None:
    """With --enable-write: listed; the entry gets the next free id and no e-mail address."""
    history = tmp_path / "History"
    history.mkdir()
    year = datetime.now(UTC).year
    (history / f"LEARN-{year}-004-older.md").write_text(f"---\nid: LEARN-{year}-004\n---\n")
    tools, result = stdio_session(demo, _write, "--enable-write", "--history", str(history))
    assert "log_learning" in {t.name for t in tools}
    assert not result.is_error, result.content[0].text
    entry = result.structured_content
    assert f"LEARN-{year}-005" == entry["id"]
    assert ["title"] == entry["redacted"]
    written = Path(entry["path"])
    assert history == written.parent
    text = written.read_text("utf-8")
    assert f"id: LEARN-{year}-005" in text
    assert "severity: warning" in text and "skill: acgme-compliance" in text
    assert "example.com" not in text and "[REDACTED:email]" in text


def test_write_is_enabled_by_config_toml(demo: Path, tmp_path: Path) -> None:
    """[mcp] enable_write = true in config.toml turns log_learning on without the flag."""
    directory = tmp_path / "telemetry"
    directory.mkdir()
    (directory / "config.toml").write_text("[mcp]\nenable_write = true\n")
    (directory / "events.jsonl").write_bytes((demo / "events.jsonl").read_bytes())

    async def names(session: Session) -> set[str]:
        return {t.name for t in (await session.list_tools()).tools}

    assert "log_learning" in stdio_session(directory, names)


def test_a_non_loopback_http_host_is_refused(tmp_path: Path) -> None:
    """--http 0.0.0.0:PORT: one line naming the missing team-server tokens, exit non-zero."""
    done = subprocess.run(
        [*CLI, "mcp", "--http", "0.0.0.0:8765"],
        check=False,
        capture_output=True,
        text=True,
        env=env(tmp_path),
        timeout=60,
    )
    assert 0 != done.returncode
    assert 1 == len(done.stderr.strip().splitlines())
    assert re.search(r"0\.0\.0\.0 is not a loopback address.*issue 15", done.stderr)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def http_url(demo: Path) -> Iterator[str]:
    """``ai-telemetry mcp --http 127.0.0.1:PORT`` running on the demo data."""
    port = _free_port()
    process = subprocess.Popen(
        [*CLI, "mcp", "--http", f"127.0.0.1:{port}", "--repo", str(demo)],
        env=env(demo),
        cwd=demo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not listen within 60 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _http(url: str) -> tuple[Any, Any, Any]:
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        streamable_http_client(url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = await session.list_tools()
        trend = await session.call_tool("trend", dict(TREND[1]))
        bad = await session.call_tool("top", {"kind": "bogus"})
        return tools.tools, trend, bad


def test_streamable_http_serves_the_same_tools_and_documents(http_url: str, demo: Path) -> None:
    """Over HTTP on loopback: the same tools and schemas, the CLI's document, MCP errors."""
    tools, trend, bad = asyncio.run(asyncio.wait_for(_http(http_url), timeout=120))
    assert set(READ_TOOLS) == {t.name for t in tools}
    declared = json.loads((SCHEMAS / "trend.json").read_text("utf-8"))
    assert declared == next(t for t in tools if t.name == "trend").output_schema
    assert not trend.is_error
    assert cli_json(TREND[2], demo) == trend.structured_content
    assert bad.is_error and "kind" in bad.content[0].text
