"""Transcript import, issue 13: linear in files, sidechain files, progress lines, prices."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ai_telemetry.collect.claude_code import transcripts
from ai_telemetry.collect.claude_code.pricing import PriceTable, estimate_cost
from ai_telemetry.collect.claude_code.transcripts import import_transcripts, project_of
from ai_telemetry.config import load_settings
from ai_telemetry.errors import ConfigError

DATA = Path(__file__).parents[2] / "data" / "claude_code"
SESSION = "5e1f0c1e-0000-4000-8000-000000000002"
SPOTTER = "4d5611e5-241a-462a-8d15-5122611a9569"
PROGRESS = DATA / "progress" / "-home-USER-projects-spotter"
FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


class Workspace:
    """A telemetry dir and a ~/.claude/projects-like folder of copied transcripts."""

    def __init__(self, root: Path, *, config: str = "") -> None:
        self.projects = root / "projects"
        telemetry = root / "telemetry"
        telemetry.mkdir(parents=True, exist_ok=True)
        if config:
            (telemetry / "config.toml").write_text(config, encoding="utf-8")
        self.settings = load_settings(environ={}, cwd=root, telemetry_dir=telemetry)

    def add(self, source: Path, relative: str) -> Path:
        target = self.projects / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def run(self, *paths: Path) -> transcripts.ImportReport:
        return import_transcripts(list(paths) or [self.projects], settings=self.settings)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        path = self.settings.log_path
        rows = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
        return [r for r in rows if event_type is None or r["event_type"] == event_type]

    def latest(self, event_type: str | None = None) -> dict[str, dict[str, Any]]:
        """Events by event_id, the last written winning (the warehouse's rule)."""
        return {e["event_id"]: e for e in self.events(event_type)}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def copies(ws: Workspace, n: int) -> list[Path]:
    """``n`` main transcripts: copies of a real one, each its own session and responses."""
    source = DATA / "projects" / "-tmp-tmpw6sk2trg" / "c64cc478-3430-40fe-8e9c-4ee9986e9754.jsonl"
    text = source.read_text()
    out = []
    for i in range(n):
        body = text.replace("c64cc478-3430-40fe", f"{i:08x}-3430-40fe").replace("msg_", f"msg{i}_")
        target = ws.projects / f"-p{i % 3}" / f"{i:08x}-3430-40fe-8e9c-4ee9986e9754.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
        out.append(target)
    return out


# --- 1. linear in files --------------------------------------------------------------------


def test_unchanged_files_are_not_opened_again(ws: Workspace) -> None:
    """A re-import with nothing new opens no file: same size and mtime, other bytes, not read."""
    files = copies(ws, 12)
    first = ws.run()
    assert (12, 12, 0) == (first.files, first.opened, first.unchanged)
    for path in files:  # same size, same mtime, different bytes: only a read would notice
        st = path.stat()
        path.write_bytes(b"x" * (st.st_size - 1) + b"\n")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = ws.run()
    assert (12, 0, 12) == (again.files, again.opened, again.unchanged)
    assert (0, 0, 0) == (again.lines, again.malformed_lines, again.events_written)


def test_a_grown_file_is_opened_and_only_it(ws: Workspace) -> None:
    """Appending to one transcript re-opens that one file and reads only the new lines."""
    files = copies(ws, 5)
    ws.run()
    extra = files[0].read_text().splitlines()[-1].replace("msg0_", "msgNEW_")
    with files[0].open("a") as fh:
        fh.write(extra + "\n")
    report = ws.run()
    assert (1, 4, 1) == (report.opened, report.unchanged, report.lines)


def test_state_is_written_once_per_run(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """One state write for a run over many files; none when nothing changed."""
    writes: list[Path] = []
    real = transcripts.write_state

    def counting(path: Path, data: Any) -> None:
        writes.append(path)
        real(path, data)

    monkeypatch.setattr(transcripts, "write_state", counting)
    copies(ws, 20)
    ws.run()
    assert 1 == len(writes)
    ws.run()
    assert 1 == len(writes)


def test_a_file_still_being_written_is_read_again_when_done(ws: Workspace) -> None:
    """An unfinished last line is not skipped forever: when it is finished the size changed."""
    [path] = copies(ws, 1)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])
    first = ws.run()
    path.write_text("\n".join(lines) + "\n")
    second = ws.run()
    assert (len(lines) - 1, 1, 1) == (first.lines, second.opened, second.lines)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_order_and_split_into_runs_gives_the_same_events(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Importing the same files in any order and any split into runs gives the same usage."""
    sources = {
        f"p/{SESSION}.jsonl": DATA / "handmade" / "agent-and-skill.jsonl",
        "p/agent-b77e1d2.jsonl": DATA / "handmade" / "agent-b77e1d2.jsonl",
        f"s/{SPOTTER}.jsonl": PROGRESS / f"{SPOTTER}.jsonl",
        "g/growth.jsonl": DATA / "handmade" / "streaming-growth.jsonl",
        "r/de3b8b19.jsonl": DATA
        / "projects"
        / "-tmp-tmp74wiyiny"
        / "de3b8b19-5bc0-4a2a-934a-1b6806567e25.jsonl",
    }

    def usage(ws: Workspace) -> dict[str, tuple[Any, ...]]:
        keep = ("event_type", "timestamp", "session_id", "cost_usd", "duration_seconds", *FIELDS)
        return {k: tuple(e.get(f) for f in keep) for k, e in ws.latest().items()}

    reference = Workspace(tmp_path_factory.mktemp("ref"))
    for rel, src in sources.items():
        reference.add(src, rel)
    reference.run()
    order = data.draw(st.permutations(sorted(sources)))
    cuts = data.draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    ws = Workspace(tmp_path_factory.mktemp("split"))
    for rel, src in sources.items():
        ws.add(src, rel)
    batch: list[Path] = []
    for rel, cut in zip(order, cuts, strict=True):
        batch.append(ws.projects / rel)
        if cut:
            ws.run(*batch)
            batch = []
    if batch:
        ws.run(*batch)
    assert usage(reference) == usage(ws)


# --- 2. the two bugs -----------------------------------------------------------------------


def test_a_top_level_agent_file_never_moves_the_session_end(ws: Workspace) -> None:
    """Claude Code 2.0's agent-<id>.jsonl adds usage, never session_start or session_end."""
    ws.add(DATA / "handmade" / "agent-and-skill.jsonl", f"p/{SESSION}.jsonl")
    ws.run()
    agent = ws.add(DATA / "handmade" / "agent-b77e1d2.jsonl", "p/agent-b77e1d2.jsonl")
    report = ws.run(agent)
    [end] = ws.latest("session_end").values()
    assert 65.0 == end["duration_seconds"]
    assert 1 == len(ws.events("session_start"))
    assert 1 == len(ws.events("session_end"))
    [sub] = [r for r in ws.events("llm_request") if r["message_id"] == "msg_b1"]
    assert (SESSION, "b77e1d2", 1) == (sub["session_id"], sub["task_id"], report.llm_requests)


def test_agent_file_read_first_in_one_run_gives_the_same_session(ws: Workspace) -> None:
    """Within one run too the agent file is not a session of its own."""
    ws.add(DATA / "handmade" / "agent-and-skill.jsonl", f"p/{SESSION}.jsonl")
    ws.add(DATA / "handmade" / "agent-b77e1d2.jsonl", "p/agent-b77e1d2.jsonl")
    ws.run()
    assert [65.0] == [e["duration_seconds"] for e in ws.events("session_end")]


def reference_keys(*files: Path) -> dict[tuple[str, str], dict[str, int]]:
    """An independent count: assistant lines and progress-nested ones, max per key."""
    best: dict[tuple[str, str], dict[str, int]] = {}
    for file in files:
        for line in file.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("type") == "progress":
                rec = rec["data"].get("message") or {}
            msg = rec.get("message")
            if rec.get("type") != "assistant" or not isinstance(msg, dict) or "usage" not in msg:
                continue
            seen = best.setdefault(
                (msg["id"], rec.get("requestId") or ""), dict.fromkeys(FIELDS, 0)
            )
            for f in FIELDS:
                seen[f] = max(seen[f], msg["usage"].get(f, 0))
    return best


def imported(ws: Workspace) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (e["message_id"], e.get("request_id", "")): {f: e[f] for f in FIELDS}
        for e in ws.latest("llm_request").values()
    }


def test_progress_lines_count_when_the_subagent_file_is_missing(ws: Workspace) -> None:
    """Real 2.1 transcript without subagents/: its progress lines hold the agent's usage."""
    main = ws.add(PROGRESS / f"{SPOTTER}.jsonl", f"s/{SPOTTER}.jsonl")
    sub = PROGRESS / SPOTTER / "subagents" / "agent-a2898e3.jsonl"
    ws.run()
    expected = reference_keys(main)
    assert expected == imported(ws)
    # all of the subagent's responses but its final one (which the tool result carries)
    agent_keys = set(reference_keys(sub)) & set(expected)
    assert (12, 11) == (len(reference_keys(sub)), len(agent_keys))
    agents = {
        (e["message_id"], e["request_id"]): (e.get("agent"), e.get("task_id"))
        for e in ws.events("llm_request")
    }
    assert {("Explore", "a2898e3")} == {agents[k] for k in agent_keys}


def test_progress_lines_and_the_subagent_file_count_once(ws: Workspace) -> None:
    """With subagents/ present each response counts once, with the file's final usage."""
    main = ws.add(PROGRESS / f"{SPOTTER}.jsonl", f"s/{SPOTTER}.jsonl")
    sub = ws.add(
        PROGRESS / SPOTTER / "subagents" / "agent-a2898e3.jsonl",
        f"s/{SPOTTER}/subagents/agent-a2898e3.jsonl",
    )
    report = ws.run()
    expected = reference_keys(main) | reference_keys(sub)
    assert expected == imported(ws)
    assert len(expected) == report.llm_requests
    ids = [e["event_id"] for e in ws.events("llm_request")]
    assert len(ids) == len(set(ids))


def test_project_comes_from_the_cwd(ws: Workspace, tmp_path: Path) -> None:
    """The git repository's name (a worktree counts as its main repository), else the folder."""
    repo = tmp_path / "myrepo"
    (repo / ".git" / "worktrees" / "wt1").mkdir(parents=True)
    (repo / "src").mkdir()
    worktree = tmp_path / "elsewhere" / "wt1"
    worktree.mkdir(parents=True)
    (worktree / ".git").write_text(f"gitdir: {repo}/.git/worktrees/wt1\n")
    assert ("myrepo", "myrepo", "not-here") == (
        project_of(str(repo / "src")),
        project_of(str(worktree)),
        project_of("/nowhere/at/all/not-here"),
    )
    ws.add(PROGRESS / f"{SPOTTER}.jsonl", f"s/{SPOTTER}.jsonl")
    ws.run()
    assert {"spotter-dov"} == {e.get("project") for e in ws.events()}


# --- 3. prices -----------------------------------------------------------------------------


def unpriced_transcript(ws: Workspace) -> None:
    rows = []
    for i, model in enumerate(["claude-future-9", "claude-future-9", "other-model", "claude-2.1"]):
        rows.append(
            {
                "type": "assistant",
                "timestamp": f"2026-03-01T10:00:0{i}.000Z",
                "sessionId": "s-unpriced",
                "requestId": f"req_{i}",
                "message": {
                    "id": f"msg_{i}",
                    "model": model,
                    "usage": {"input_tokens": 1000, "output_tokens": 100},
                },
            }
        )
    path = ws.projects / "u" / "s-unpriced.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_unpriced_models_are_reported_once_per_model(ws: Workspace) -> None:
    """Models without a price are listed with their response counts, stored without cost."""
    unpriced_transcript(ws)
    report = ws.run()
    assert {"claude-future-9": 2, "other-model": 1} == report.unpriced_models
    costs = {e["model"]: e.get("cost_usd") for e in ws.events("llm_request")}
    assert costs["claude-2.1"] == pytest.approx((1000 * 8 + 100 * 24) / 1e6)
    assert costs["claude-future-9"] is None


def test_import_json_lists_unpriced_models(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """import claude-code --json: unpriced_models in the document; the text warns once per model."""
    from ai_telemetry.cli import main

    unpriced_transcript(ws)
    env = {"AI_TELEMETRY_DIR": str(ws.settings.telemetry_dir)}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert 0 == main(["import", "claude-code", str(ws.projects), "--json"])
        document = json.loads(capsys.readouterr().out)
        (ws.projects / "u" / "s-unpriced.jsonl").unlink()
        unpriced_transcript(ws)  # a new file identity: read again
        (ws.settings.telemetry_dir / "import-state.json").unlink()
        assert 0 == main(["import", "claude-code", str(ws.projects)])
    captured = capsys.readouterr()
    assert {"claude-future-9": 2, "other-model": 1} == document["unpriced_models"]
    assert (1, 0) == (document["files"], document["unchanged"])
    warnings = [line for line in captured.err.splitlines() if "no price" in line]
    assert 2 == len(warnings)
    assert "claude-future-9" in warnings[0]


def test_pricing_overrides_from_config(tmp_path: Path) -> None:
    """[pricing] in config.toml prices a model the table lacks and overrides one it has."""
    ws = Workspace(
        tmp_path,
        config='[pricing."claude-future-9"]\ninput = 2.0\noutput = 10.0\n'
        '[pricing."claude-2"]\ninput = 1.0\noutput = 1.0\n',
    )
    unpriced_transcript(ws)
    report = ws.run()
    costs = {e["model"]: e.get("cost_usd") for e in ws.events("llm_request")}
    assert {"other-model": 1} == report.unpriced_models
    assert costs["claude-future-9"] == pytest.approx((1000 * 2 + 100 * 10) / 1e6)
    assert costs["claude-2.1"] == pytest.approx(1100 / 1e6)


def test_pricing_override_defaults_cache_prices_by_ratio() -> None:
    """Omitted cache prices: 5-minute write 1.25x input, 1-hour 2x, read 0.1x."""
    table = PriceTable.from_config({"m": {"input": 4.0, "output": 8.0}})
    usage = {
        "cache_creation_input_tokens": 1_000_000,
        "cache_read_input_tokens": 1_000_000,
        "cache_creation": {"ephemeral_1h_input_tokens": 400_000},
    }
    assert table.cost("m", usage) == pytest.approx(0.6 * 5.0 + 0.4 * 8.0 + 0.4)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("x", "one table per model"),
        ({"m": {"input": 1.0}}, "input and output are required"),
        ({"m": {"input": -1, "output": 1}}, "give a number >= 0"),
        ({"m": {"input": 1, "output": 1, "cache": 2}}, "unknown key 'cache'"),
    ],
)
def test_bad_pricing_config_is_a_clear_error(section: object, message: str) -> None:
    """A malformed [pricing] section names the model and what to write."""
    with pytest.raises(ConfigError, match=message):
        PriceTable.from_config(section)


def test_retired_and_long_context_prices() -> None:
    """Retired models are priced; a sonnet-4-5 prompt above 200k uses the long-context price."""
    small = {"input_tokens": 1_000_000, "output_tokens": 0}
    assert 3.0 == estimate_cost("claude-3-sonnet-20240229", small)
    assert 0.8 == estimate_cost("claude-instant-1.2", small)
    assert 6.0 == estimate_cost("claude-sonnet-4-5-20250929", small)  # 1M > 200k: long
    assert 0.6 == estimate_cost("claude-sonnet-4-5-20250929", {"input_tokens": 200_000})
