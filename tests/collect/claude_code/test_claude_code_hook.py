"""The Claude Code hook: payload -> events, pairing, sessions, kill switch, never failing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ai_telemetry.collect.claude_code.hook import mcp_server, reduce_payload, run_hook
from ai_telemetry.collect.claude_code.ids import session_event_id

DATA = Path(__file__).parents[2] / "data" / "claude_code"
PAYLOADS: dict[str, dict[str, Any]] = json.loads((DATA / "hook_payloads.json").read_text())
CLI = Path(sys.executable).parent / "ai-telemetry"


class Hook:
    """Runs hook payloads in-process against one project dir, with a settable clock."""

    def __init__(self, root: Path, **env: str) -> None:
        self.root = root
        self.env = {"CLAUDE_PROJECT_DIR": str(root), "AI_TELEMETRY_RAISE": "1", **env}
        self.now = 1_767_225_600.0  # 2026-01-01T00:00:00Z
        self.stderr = io.StringIO()

    def __call__(self, payload: dict[str, Any], *, after: float = 0.0) -> int:
        self.now += after
        return run_hook(
            [],
            stdin=io.BytesIO(json.dumps(payload).encode()),
            stderr=self.stderr,
            environ=self.env,
            clock=lambda: self.now,
        )

    @property
    def telemetry(self) -> Path:
        return self.root / ".claude" / "Telemetry"

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        path = self.telemetry / "events.jsonl"
        if not path.exists():
            return []
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [r for r in rows if event_type is None or r["event_type"] == event_type]


@pytest.fixture
def hook(tmp_path: Path) -> Hook:
    return Hook(tmp_path)


def payload(name: str, **changes: Any) -> dict[str, Any]:
    return {**PAYLOADS[name], **changes}


def test_post_tool_use_pairs_with_pre_for_duration(hook: Hook) -> None:
    """A PostToolUse after its PreToolUse gives a tool_call with the elapsed time."""
    hook(payload("PreToolUse"))
    hook(payload("PostToolUse"), after=1.25)
    [call] = hook.events("tool_call")
    assert (call["tool"], call["outcome"], call["duration_seconds"]) == ("Write", "success", 1.25)
    assert call["session_id"] == "abc123"
    assert call["source"] == "hook"


def test_duration_ms_in_payload_wins_over_pairing(hook: Hook) -> None:
    """When Claude Code sends duration_ms, that is the duration."""
    hook(payload("PreToolUse"))
    hook(payload("PostToolUse", duration_ms=340), after=5)
    assert hook.events("tool_call")[0]["duration_seconds"] == 0.34


def test_failure_is_an_error_outcome_without_the_message(hook: Hook) -> None:
    """PostToolUseFailure records an error, never the error text or the command."""
    hook(payload("PreToolUse", tool_name="Bash", tool_use_id="toolu_01BCD234"))
    hook(payload("PostToolUseFailure"), after=2)
    [call] = hook.events("tool_call")
    assert (call["tool"], call["outcome"], call["duration_seconds"]) == ("Bash", "error", 2.0)
    text = (hook.telemetry / "events.jsonl").read_text()
    assert "npm test" not in text
    assert "non-zero" not in text


def test_no_input_prompt_or_output_reaches_the_log(hook: Hook) -> None:
    """Tool inputs, responses, prompts and messages are never written."""
    for name in (
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "Stop",
        "SessionEnd",
    ):
        hook(payload(name), after=1)
    text = (hook.telemetry / "events.jsonl").read_text()
    for secret in ("file content", "factorial", "/path/to/file.txt", "summary", "my-project"):
        assert secret not in text


def test_mcp_tool_carries_its_server(hook: Hook) -> None:
    """mcp__<server>__<tool> tools name their server."""
    hook(payload("PostToolUse", tool_name="mcp__github__get_issue", tool_use_id="toolu_9"))
    assert hook.events("tool_call")[0]["mcp_server"] == "github"
    assert mcp_server("mcp__memory__create_entities") == "memory"
    assert mcp_server("Read") is None


def test_skill_tool_opens_and_closes_a_skill_execution(hook: Hook) -> None:
    """The Skill tool becomes skill_execution started, then success with its duration."""
    skill = {"tool_name": "Skill", "tool_input": {"skill": "test-writer"}, "tool_use_id": "t_s"}
    hook(payload("PreToolUse", **skill))
    hook(payload("PostToolUse", **skill, tool_response={"success": True}), after=3)
    runs = hook.events("skill_execution")
    assert [(r["skill"], r["outcome"]) for r in runs] == [
        ("test-writer", "started"),
        ("test-writer", "success"),
    ]
    assert runs[1]["duration_seconds"] == 3.0


def test_agent_tool_reports_the_agents_own_totals(hook: Hook) -> None:
    """The Agent tool becomes agent_task with duration, tool calls and tokens from its response."""
    call = {
        "tool_name": "Agent",
        "tool_use_id": "t_a",
        "tool_input": {"subagent_type": "Explore", "prompt": "look", "description": "d"},
    }
    hook(payload("PreToolUse", **call))
    hook(payload("PostToolUse", **call, tool_response=PAYLOADS["AgentToolResponse"]), after=20)
    started, done = hook.events("agent_task")
    assert (started["agent"], started["outcome"]) == ("Explore", "started")
    assert (
        done["agent"],
        done["outcome"],
        done["duration_seconds"],
        done["tool_calls"],
        done["total_tokens"],
        done["task_id"],
    ) == ("Explore", "success", 14.234, 2, 7841, "a3f9c2e")


def test_older_task_tool_name_is_an_agent_too(hook: Hook) -> None:
    """Claude Code's older name for the Agent tool, Task, is recognised."""
    call = {"tool_name": "Task", "tool_use_id": "t_t", "tool_input": {"subagent_type": "Plan"}}
    hook(payload("PostToolUse", **call, tool_response={"status": "completed"}))
    assert hook.events("agent_task")[0]["agent"] == "Plan"


def test_session_length_from_start_to_end(hook: Hook) -> None:
    """SessionEnd reports the time since SessionStart and removes the state file."""
    hook(payload("SessionStart"))
    assert (hook.telemetry / "hook-state" / "abc123.json").exists()
    hook(payload("SessionEnd"), after=754.5)
    [start] = hook.events("session_start")
    [end] = hook.events("session_end")
    assert end["duration_seconds"] == 754.5
    assert end["reason"] == "other"
    assert start["event_id"] == session_event_id("abc123", "session_start")
    assert not (hook.telemetry / "hook-state" / "abc123.json").exists()


def test_resumed_session_does_not_start_again(hook: Hook) -> None:
    """A second SessionStart of a live session (resume, compact) writes nothing."""
    hook(payload("SessionStart"))
    hook(payload("SessionStart", source="compact"), after=10)
    assert len(hook.events("session_start")) == 1


def test_precompact_snapshot_is_sized_from_the_transcript(hook: Hook, tmp_path: Path) -> None:
    """PreCompact writes a context_snapshot with the last response's context tokens."""
    transcript = (
        DATA / "projects" / "-tmp-tmp74wiyiny" / "de3b8b19-5bc0-4a2a-934a-1b6806567e25.jsonl"
    )
    hook(payload("PreCompact", transcript_path=str(transcript), trigger="auto"))
    [snap] = hook.events("context_snapshot")
    assert (snap["trigger"], snap["context_tokens"], snap["context_window"], snap["model"]) == (
        "auto",
        1 + 128 + 18700,
        200_000,
        "claude-opus-4-5-20251101",
    )


def test_kill_switch_blocks_past_the_limit_once_logged(tmp_path: Path) -> None:
    """Past the limit PreToolUse exits 2 with a reason; the limit event is written once."""
    hook = Hook(tmp_path, AI_TELEMETRY_TOOL_CALL_LIMIT="2")
    codes = [hook(payload("PreToolUse", tool_use_id=f"t{i}")) for i in range(4)]
    assert codes == [0, 0, 2, 2]
    assert "tool-call limit reached" in hook.stderr.getvalue()
    [hit] = hook.events("tool_call_limit_reached")
    assert (hit["limit"], hit["tool_calls"]) == (2, 2)


def test_a_new_prompt_starts_a_new_task_for_the_limit(tmp_path: Path) -> None:
    """UserPromptSubmit resets the main agent's count."""
    hook = Hook(tmp_path, AI_TELEMETRY_TOOL_CALL_LIMIT="1")
    assert hook(payload("PreToolUse")) == 0
    assert hook(payload("PreToolUse", tool_use_id="t2")) == 2
    hook(payload("UserPromptSubmit"))
    assert hook(payload("PreToolUse", tool_use_id="t3")) == 0


def test_subagents_are_counted_per_task(tmp_path: Path) -> None:
    """A subagent (agent_id) has its own count, separate from the main agent's."""
    hook = Hook(tmp_path, AI_TELEMETRY_TOOL_CALL_LIMIT="1")
    assert hook(payload("PreToolUse")) == 0
    assert hook(payload("PreToolUse", tool_use_id="t2", agent_id="sub1")) == 0
    assert hook(payload("PreToolUse", tool_use_id="t3", agent_id="sub1")) == 2


def test_without_a_limit_nothing_is_blocked(hook: Hook) -> None:
    """The kill switch is off by default."""
    assert all(hook(payload("PreToolUse", tool_use_id=f"t{i}")) == 0 for i in range(60))


def test_broken_input_exits_zero_and_is_counted(tmp_path: Path) -> None:
    """Garbage on stdin: exit 0, nothing printed, one error in hook-status.json."""
    env = {k: v for k, v in os.environ.items() if k != "AI_TELEMETRY_RAISE"}
    env["CLAUDE_PROJECT_DIR"] = str(tmp_path)
    done = subprocess.run(
        [str(CLI), "hook"],
        check=False,
        input=b"{not json",
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    status = json.loads((tmp_path / ".claude/Telemetry/hook-status.json").read_text())
    assert (status["errors"], status["last_error"]) == (1, "JSONDecodeError")


def test_raise_env_var_reraises_for_tests(hook: Hook) -> None:
    """AI_TELEMETRY_RAISE=1 lets a swallowed error surface."""
    with pytest.raises(ValueError):
        run_hook([], stdin=io.BytesIO(b"{not json"), environ=hook.env)


def test_real_process_writes_a_tool_call_and_prints_nothing(tmp_path: Path) -> None:
    """The installed command, as Claude Code runs it, writes one event silently."""
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(tmp_path), "AI_TELEMETRY_RAISE": "1"}
    done = subprocess.run(
        [str(CLI), "hook"],
        check=False,
        input=json.dumps(PAYLOADS["PostToolUse"]).encode(),
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    [line] = (tmp_path / ".claude/Telemetry/events.jsonl").read_text().splitlines()
    assert json.loads(line)["tool"] == "Write"


def test_disabled_telemetry_writes_nothing(tmp_path: Path) -> None:
    """AI_TELEMETRY_ENABLED=false: the hook does nothing."""
    hook = Hook(tmp_path, AI_TELEMETRY_ENABLED="false")
    hook(payload("PostToolUse"))
    assert hook.events() == []


def _session_of_every_kind() -> list[dict[str, Any]]:
    skill = {"tool_name": "Skill", "tool_input": {"skill": "test-writer"}, "tool_use_id": "t_s"}
    old_skill = {"tool_name": "Skill", "tool_input": {"command": "old-skill"}, "tool_use_id": "t_o"}
    agent = {
        "tool_name": "Agent",
        "tool_use_id": "t_a",
        "tool_input": {"subagent_type": "Explore", "prompt": "look"},
    }
    return [
        payload("SessionStart"),
        payload("UserPromptSubmit"),
        payload("PreToolUse"),
        payload("PostToolUse"),
        payload("PostToolUseFailure"),
        payload("PreToolUse", **skill),
        payload("PostToolUse", **skill, tool_response={"success": True}),
        payload("PreToolUse", **old_skill),
        payload("PostToolUse", **old_skill, tool_response={"commandName": "old-skill"}),
        payload("PreToolUse", **agent),
        payload("PostToolUse", **agent, tool_response=PAYLOADS["AgentToolResponse"]),
        payload("PostToolUse", tool_name="mcp__github__search", tool_use_id="t_m"),
        payload("Stop"),
        payload("SessionEnd"),
    ]


def test_reduced_payload_gives_the_same_events(tmp_path: Path) -> None:
    """What the daemon spools (only the fields the hook reads) makes exactly the same events."""
    full, reduced = Hook(tmp_path / "full"), Hook(tmp_path / "reduced")
    for item in _session_of_every_kind():
        assert full(item, after=1) == run_hook(
            [],
            stdin=io.BytesIO(reduce_payload(json.dumps(item).encode())),
            environ=reduced.env,
            clock=lambda: full.now,
        )

    def strip(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "event_id"} for e in events]

    assert len(full.events()) > 10
    assert strip(full.events()) == strip(reduced.events())
    assert b"look" not in reduce_payload(json.dumps(_session_of_every_kind()[9]).encode())


def test_a_committed_clean_values_cache_cannot_whitelist_a_value(tmp_path: Path) -> None:
    """The guard's cache of clean values is the user's, not the repository's: a planted
    ``hook-state/clean-values.json`` listing an e-mail does not get that e-mail stored."""
    from ai_telemetry import __version__
    from ai_telemetry.events.privacy import DETECTOR_VERSION

    email = "jane.doe@example.com"
    hook = Hook(tmp_path / "repo", AI_TELEMETRY_STATE_DIR=str(tmp_path / "state"))
    planted = hook.telemetry / "hook-state" / "clean-values.json"
    planted.parent.mkdir(parents=True)
    key = f"{__version__}+detectors.{DETECTOR_VERSION}"
    planted.write_text(json.dumps({"version": key, "values": [email]}))
    assert 0 == hook(payload("SessionStart", session_id=email))
    [start] = hook.events("session_start")
    assert email not in (hook.telemetry / "events.jsonl").read_text()
    assert "REDACTED" in start["session_id"]
    assert email not in (tmp_path / "state" / "clean-values.json").read_text()
