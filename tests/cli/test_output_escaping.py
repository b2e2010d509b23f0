"""Stored data is shown literally on every output: terminal, Markdown, alerts.log.

The demo data set with its busiest skill, its failing skill, an agent, a tool and a root cause
renamed to hostile strings (table pipes, HTML, rich markup, emoji codes, clear-screen, OSC 52
clipboard writes, OSC 8 hyperlinks, newlines, ``javascript:`` links). The event contract refuses
such names at every entrance now (the writer, validate and the warehouse's filter), so the
names are planted where the contract does not look: straight into the warehouse's rows (as a
store written by an older version or another engine holds them) and into a learning file.
Each command runs as its own process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

CLI = str(Path(sys.executable).with_name("ai-telemetry"))

SKILL_TOP = "root:x:0:0 [bold]x[/bold] :x: <script>alert(1)</script>|pipe"
SKILL_SPIKE = (
    "spike\x1b[2J\x1b]52;c;ZXZpbA==\x07\x1b]8;;javascript:alert(1)\x1b\\link\x1b]8;;\x1b\\"
    "\nAction: forged\x9b31m"
)
AGENT = "impl [red]x[/red]\x1b]0;title\x07 [a](javascript:alert(1))"
TOOL = "grep\x1b[2J|x <img src=x onerror=alert(1)>"
ROOT_CAUSE = "tz\n\n🚨 ANOMALY DETECTED 🚨\nAction: forged <javascript:alert(1)>"
TITLE = "<script>alert(1)</script> | [bold]x[/bold] \x1b[2J\x07 [c](javascript:alert(1))"
RENAMES = {
    "systematic-debugger": SKILL_TOP,
    "acgme-compliance": SKILL_SPIKE,
    "implementer": AGENT,
    "Grep": TOOL,
    "timezone-handling": ROOT_CAUSE,
}
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters that must never reach a terminal or a file raw (newline and tab may)."""


@dataclass(frozen=True)
class World:
    telemetry: Path
    repo: Path
    month: str
    quarter: str
    env: dict[str, str]


def _plant_hostile_names(telemetry: Path) -> None:
    """Rename, in the warehouse's stored rows, the names of RENAMES to their hostile forms."""
    import duckdb

    from ai_telemetry.store.columns import EVENT_COLUMNS

    con = duckdb.connect(str(telemetry / "warehouse.duckdb"))
    try:
        for column, kind in EVENT_COLUMNS:
            if kind != "VARCHAR" or column == "event_id":
                continue
            cases = " ".join("WHEN ? THEN ?" for _ in RENAMES)
            values = [x for pair in RENAMES.items() for x in pair]
            con.execute(
                f'UPDATE events SET "{column}" = CASE "{column}" {cases} END '
                f'WHERE "{column}" IN ({", ".join("?" for _ in RENAMES)})',
                [*values, *RENAMES],
            )
        # what was computed from the old names goes: caches are keyed by the generation
        con.execute(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'generation'"
        )
    finally:
        con.close()


def _learning_file(history: Path, learning_id: str, created: datetime) -> None:
    history.mkdir(parents=True, exist_ok=True)
    (history / f"{learning_id}.md").write_text(
        "---\n"
        f"id: {learning_id}\n"
        f"date: {created:%Y-%m-%d}\n"
        "type: bug-pattern\n"
        "severity: critical\n"
        "source: incident\n"
        "status: open\n"
        "skill: systematic-debugger\n"
        "tags: [evil, pipe]\n"
        "---\n\n"
        f"# {learning_id}: {TITLE}\n\n## Context\nHostile names in old logs.\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Demo events with hostile names, aggregated, detected and ready to report on."""
    from ai_telemetry.demo import generate, week_start

    root = tmp_path_factory.mktemp("hostile")
    telemetry, repo = root / "Telemetry", root / "repo"
    telemetry.mkdir()
    end = week_start(datetime.now(UTC)) + timedelta(weeks=1)
    data = generate(weeks=8, seed=7, end=end)
    now = datetime.now(UTC)
    events = [e for e in data.events if e["timestamp"] < f"{now:%Y-%m-%dT%H:%M:%S}"]
    created = now - timedelta(days=2)
    learning_id = f"LEARN-{created.year}-901"
    events.append(
        {
            "timestamp": f"{created:%Y-%m-%dT%H:%M:%SZ}",
            "event_type": "learning_created",
            "id": learning_id,
            "severity": "critical",
            "source": "incident",
            "skill": "systematic-debugger",
        }
    )
    events.sort(key=lambda e: str(e["timestamp"]))
    (telemetry / "events.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    _learning_file(repo / ".claude" / "History", learning_id, created)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_TELEMETRY_")}
    env |= {
        "AI_TELEMETRY_DIR": str(telemetry),
        "AI_TELEMETRY_STATE_DIR": str(root / "state"),
        "AI_TELEMETRY_HOOK_DAEMON": "0",
        "COLUMNS": "400",
    }
    quarter = f"{created.year}-Q{(created.month - 1) // 3 + 1}"
    w = World(telemetry, repo, f"{created:%Y-%m}", quarter, env)
    run(w, "query", "select count(*) from events")  # builds the warehouse from the clean log
    _plant_hostile_names(telemetry)
    run(w, "aggregate", "--backfill-weeks", "8")
    yield w


def run(w: World, *args: str, code: int | None = 0) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI in its own process; stdout and stderr as bytes (nothing decoded for us)."""
    result = subprocess.run(
        [CLI, *args],
        cwd=w.repo if w.repo.exists() else None,
        capture_output=True,
        env=w.env,
        timeout=120,
        check=False,
    )
    if code is not None:
        assert code == result.returncode, result.stderr.decode(errors="replace")
    return result


def assert_no_raw_controls(data: bytes) -> str:
    """No C0 (but newline and tab), DEL or C1 character in ``data``; the text."""
    text = data.decode("utf-8")
    assert [] == RAW_CONTROL.findall(text)
    return text


def test_top_shows_names_literally(world: World) -> None:
    """`top skills/agents/tools` print each hostile name on its own line, controls escaped."""
    for kind, name in (("skills", SKILL_TOP), ("agents", "impl [red]x[/red]"), ("tools", "grep")):
        result = run(world, "top", kind, "--days", "60", "--limit", "10")
        text = assert_no_raw_controls(result.stdout)
        assert name in text, kind
    skills = assert_no_raw_controls(run(world, "top", "skills", "--days", "60").stdout)
    assert "spike\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07" in skills
    assert "\\nAction: forged\\x9b31m" in skills
    assert not any(line.startswith("Action: forged") for line in skills.splitlines())


def test_query_table_keeps_markup_and_emoji_codes(world: World) -> None:
    """`query` shows ``root:x:0:0`` and ``[bold]`` as stored, and controls as escapes."""
    result = run(world, "query", "select distinct skill from skill_executions order by skill")
    text = assert_no_raw_controls(result.stdout)
    assert "root:x:0:0 [bold]x[/bold] :x: <script>alert(1)</script>|pipe" in text
    assert "❌" not in text
    assert "\\x1b]8;;javascript:alert(1)" in text


def test_query_csv_on_a_pipe_stays_lossless(world: World) -> None:
    """Piped CSV is data for programs: the stored bytes come through unchanged."""
    result = run(world, "query", "select distinct tool from events where tool like 'grep%'")
    assert TOOL.encode() in result.stdout or b"grep" in result.stdout  # table: escaped
    csv_out = run(
        world, "query", "--format", "csv", "select distinct tool from events where tool like 'g%'"
    )
    assert b"grep\x1b[2J|x" in csv_out.stdout


def test_status_escapes_every_value(world: World) -> None:
    """`status` prints no control sequence and shows the markup in names literally."""
    text = assert_no_raw_controls(run(world, "status").stdout)
    assert "root:x:0:0 [bold]x[/bold] :x:" in text
    assert "❌" not in text


def test_status_on_a_terminal_emits_only_colour_codes(world: World) -> None:
    """On a real terminal rich colours the screen; every ESC it sends is a plain SGR colour."""
    import pty

    leader, follower = pty.openpty()
    env = world.env | {"TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([CLI, "status"], stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    try:  # read while it writes: a full pty buffer would block it
        while chunk := _read(leader):
            chunks.append(chunk)
    finally:
        os.close(leader)
    assert 0 == proc.wait(timeout=120)
    out = b"".join(chunks).decode("utf-8")
    sequences = re.findall("\x1b[^a-zA-Z]*[a-zA-Z]?", out)
    assert sequences, "rich coloured nothing: the test would prove nothing"
    assert [] == [s for s in sequences if not re.fullmatch("\x1b\\[[0-9;]*m", s)]
    assert [] == re.findall("[\x07\x9b\x9d]", out)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        return b""


def test_trend_escapes_the_key(world: World) -> None:
    """`trend --key` with control characters prints them escaped."""
    text = assert_no_raw_controls(
        run(world, "trend", "skill_success_rate", "--key", SKILL_SPIKE).stdout
    )
    assert "skill_success_rate[spike\\x1b[2J" in text


def test_tail_text_escapes_events(world: World) -> None:
    """`tail --text` shows the events' names with controls escaped, one event per line."""
    result = run(world, "tail", "--text", "-n", "400")
    text = assert_no_raw_controls(result.stdout)
    assert 400 == len(text.splitlines())


def markdown_tables(text: str) -> list[list[str]]:
    """Each GFM table of ``text`` as its lines."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def cells(line: str) -> int:
    """The number of cells of a table line (escaped pipes do not split)."""
    return len(re.split(r"(?<!\\)\|", line.strip().strip("|")))


def check_markdown(text: str) -> None:
    """Tables keep their columns; no raw HTML, no javascript: link, in the text or rendered."""
    from markdown_it import MarkdownIt

    assert_no_raw_controls(text.encode())
    for table in markdown_tables(text):
        assert [cells(table[0])] * len(table) == [cells(line) for line in table], table[0]
    # fenced code is shown as typed (rendered escaped, checked below); all else is escaped
    prose = re.sub(r"^```.*?^```$", "", text, flags=re.S | re.M)
    assert "<script>" not in prose
    assert "javascript:" not in prose.lower()
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = md.parse(text)
    html_tokens = [t for t in tokens if t.type == "html_block"]
    html_tokens += [c for t in tokens for c in t.children or [] if c.type == "html_inline"]
    assert [] == html_tokens
    links = [c for t in tokens for c in t.children or [] if c.type == "link_open"]
    assert [] == [a.attrs for a in links if "javascript" in str(a.attrs.get("href", "")).lower()]
    rendered = md.render(text)
    assert "<script" not in rendered
    assert "<img" not in rendered
    # every table renders with the header's number of cells on every row
    for table_html in re.findall(r"<table>.*?</table>", rendered, flags=re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table_html, flags=re.S)
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in rows}
        assert 1 == len(widths), table_html[:200]


def test_markdown_dashboard_escapes_every_value(world: World, tmp_path: Path) -> None:
    """The weekly Markdown: tables keep their columns, no raw HTML, no link, names readable."""
    out = tmp_path / "weekly.md"
    run(world, "dashboard", "--output", str(out))
    text = out.read_text("utf-8")
    check_markdown(text)
    assert "root:x:0:0 \\[bold\\]x\\[/bold\\]" in text
    assert "\\<script\\>alert(1)\\</script\\>\\|pipe" in text


def test_review_learnings_escapes_titles(world: World) -> None:
    """`review learnings`: the hostile title, skill and root cause are escaped Markdown."""
    result = run(world, "review", "learnings", "--month", world.month, "--repo", str(world.repo))
    text = assert_no_raw_controls(result.stdout)
    check_markdown(text)
    assert "\\<script\\>alert(1)\\</script\\> \\| \\[bold\\]x\\[/bold\\]" in text


def test_audit_skills_escapes_names(world: World) -> None:
    """`audit skills`: skill names and patterns are escaped Markdown."""
    result = run(world, "audit", "skills", "--quarter", world.quarter, "--repo", str(world.repo))
    text = assert_no_raw_controls(result.stdout)
    check_markdown(text)
    assert "root:x:0:0 \\[bold\\]x\\[/bold\\]" in text


def test_detect_writes_one_entry_per_alert(world: World) -> None:
    """alerts.log: one nine-line entry per opened alert, however many newlines names hold."""
    result = run(world, "detect", "--no-notify")
    assert_no_raw_controls(result.stdout)
    assert_no_raw_controls(result.stderr)
    state = orjson.loads((world.telemetry / "alerts-state.json").read_bytes())
    opened = len(state["open"])
    assert opened >= 1
    keys = {a["key"] for a in state["open"]}
    assert keys & {SKILL_SPIKE, ROOT_CAUSE}, keys  # the hostile names did raise alerts
    log = assert_no_raw_controls((world.telemetry / "alerts.log").read_bytes())
    entries = [e for e in log.split("\n\n") if e.strip()]
    assert opened == len(entries)
    assert opened == log.splitlines().count("🚨 ANOMALY DETECTED 🚨")
    assert [9] * opened == [len(e.strip("\n").splitlines()) for e in entries]
    assert not any(line.startswith("Action: forged") for line in log.splitlines())
    gate = run(world, "gate", code=None)
    assert_no_raw_controls(gate.stdout)


def test_json_output_is_lossless_and_inert(world: World) -> None:
    """`--json` keeps the names exactly, with every control (C1 included) as a JSON escape."""
    result = run(world, "top", "skills", "--days", "60", "--limit", "10", "--json")
    assert_no_raw_controls(result.stdout)
    names = {row["name"] for row in orjson.loads(result.stdout)["rows"]}
    assert {SKILL_TOP, SKILL_SPIKE} <= names
    rows = run(world, "query", "--format", "json", "select distinct skill from skill_executions")
    assert_no_raw_controls(rows.stdout)
    assert SKILL_SPIKE in {row["skill"] for row in orjson.loads(rows.stdout)}


def test_html_dashboard_escapes_every_value(world: World, tmp_path: Path) -> None:
    """The HTML page (autoescaped) has no script, no javascript: URL and no raw control."""
    out = tmp_path / "weekly.html"
    run(world, "dashboard", "--output", str(out))
    text = assert_no_raw_controls(out.read_bytes())
    assert "<script" not in text
    assert "<img" not in text
    assert [] == re.findall(r"""(?i)(?:href|src|action)\s*=\s*["']?\s*javascript:""", text)
    assert "root:x:0:0 [bold]x[/bold] :x: &lt;script&gt;" in text


def test_compare_skill_escapes_the_name(world: World) -> None:
    """`compare skill`: the skill name in the heading is escaped Markdown."""
    middle = datetime.now(UTC) - timedelta(weeks=4)
    result = run(world, "compare", "skill", SKILL_TOP, "--before-after", f"{middle:%Y-%m-%d}")
    text = assert_no_raw_controls(result.stdout)
    check_markdown(text)
    assert "# Skill A/B comparison: root:x:0:0 \\[bold\\]x\\[/bold\\]" in text


def test_validate_names_unknown_types_on_one_line(world: World, tmp_path: Path) -> None:
    """`validate`: an unknown event type with a newline and ESC is listed on one line."""
    log = tmp_path / "events.jsonl"
    event = {"timestamp": "2025-12-15T14:30:00Z", "event_type": "x\nforged\x1b[2J"}
    log.write_bytes(orjson.dumps(event) + b"\n{not json\x1b[2J\n")
    result = run(world, "validate", "--no-quarantine", "--log", str(log), code=None)
    text = assert_no_raw_controls(result.stdout)
    assert not any(line.startswith("forged") for line in text.splitlines())
