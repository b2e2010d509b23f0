"""Seeded generator of a realistic ``events.jsonl`` for the analytics benchmarks.

Two shapes (``--shape``):

- ``team`` (the default, issue 14): a year (2025-01-01 onwards) of a team running Claude Code
  on a handful of projects: thousands of sessions (each opens with ``session_start``, runs a
  few hundred events and closes with ``session_end`` and a free-text reason), 48 skills and
  12 agents with Zipf-like popularity, each ``started`` and then (mostly) finished minutes
  later in the same session, ~60 tools of which most are MCP tools on eight servers, tool
  calls inside agent tasks, LLM requests attributed to skills and agents (some re-logged with
  a larger usage under the same ``event_id``, some answered twice under one ``request_id``),
  free-text fields (``error_type`` with details, ``skill_version``, ``reason``, ``trigger``,
  ``tags``), time-ordered UUIDv7-shaped ids, and a trickle of learning, CI, lint, coverage and
  incident events;
- ``classic``: the earlier, kinder shape (12 skills, 7 tools, 60 sessions, no free text), for
  comparing with the numbers measured on it.

    python bench/gen_events.py --events 1000000 --output /tmp/bench/events.jsonl
"""

from __future__ import annotations

import argparse
import heapq
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SKILLS = [
    "systematic-debugger", "constraint-preflight", "test-writer", "acgme-compliance",
    "code-review", "schema-migrator", "doc-writer", "perf-profiler", "security-audit",
    "refactor-guide", "api-designer", "release-notes",
]  # fmt: skip
SKILL_WEIGHTS = [47, 34, 28, 19, 15, 12, 10, 8, 6, 5, 4, 3]
AGENTS = ["explorer", "planner", "implementer", "reviewer", "tester"]
TOOLS = ["Read", "Grep", "Edit", "Bash", "Write", "Glob", "mcp__scheduler__validate"]
TOOL_WEIGHTS = [30, 20, 15, 15, 8, 7, 5]
MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"]
OUTCOMES = ["success", "error", "rollback", "handoff"]
OUTCOME_WEIGHTS = [88, 7, 2, 3]
START = datetime(2025, 1, 1, tzinfo=UTC)


def _ts(ms: int) -> str:
    moment = START + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _generate_classic(n: int, path: Path, *, seed: int = 42, span_days: int = 365) -> int:
    """Write about ``n`` events to ``path``; return the number written."""
    rng = random.Random(seed)
    step = max(1, span_days * 86_400_000 // max(n, 1))
    sessions = [f"s{rng.getrandbits(48):012x}" for _ in range(60)]
    pending: list[tuple[int, int, str]] = []  # (due ms, tie, line) for terminal events
    tie = 0
    written = 0
    now = 0
    lines: list[str] = []

    def eid() -> str:
        return f"{rng.getrandbits(128):032x}"

    with path.open("w", encoding="utf-8") as out:
        while written < n:
            now += rng.randint(1, 2 * step - 1)
            while pending and pending[0][0] <= now and written < n:
                due, _, line = heapq.heappop(pending)
                lines.append(line.replace("@TS@", _ts(due)))
                written += 1
            if written >= n:
                break
            ts = _ts(now)
            sid = rng.choice(sessions)
            r = rng.random()
            if r < 0.40:
                tool = rng.choices(TOOLS, TOOL_WEIGHTS)[0]
                outcome = "error" if rng.random() < 0.04 else "success"
                extra = ',"mcp_server":"scheduler"' if tool.startswith("mcp__") else ""
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"tool_call","event_id":"{eid()}",'
                    f'"session_id":"{sid}","tool":"{tool}","outcome":"{outcome}",'
                    f'"duration_seconds":{rng.expovariate(2):.3f}{extra}}}'
                )
            elif r < 0.55:
                model = rng.choice(MODELS)
                skill = (
                    f',"skill":"{rng.choices(SKILLS, SKILL_WEIGHTS)[0]}"'
                    if rng.random() < 0.5
                    else ""
                )
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"llm_request","event_id":"{eid()}",'
                    f'"session_id":"{sid}","model":"{model}","request_id":"req_{eid()[:20]}",'
                    f'"input_tokens":{rng.randint(10, 5000)},'
                    f'"output_tokens":{rng.randint(10, 3000)},'
                    f'"cache_creation_input_tokens":{rng.randint(0, 20000)},'
                    f'"cache_read_input_tokens":{rng.randint(0, 150000)},'
                    f'"cost_usd":{rng.random() / 5:.5f}{skill}}}'
                )
            elif r < 0.80:
                skill = rng.choices(SKILLS, SKILL_WEIGHTS)[0]
                tokens = rng.randint(5000, 180000)
                if rng.random() < 0.05:  # a terminal event logged without its start
                    outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"skill_execution","event_id":"{eid()}",'
                        f'"session_id":"{sid}","skill":"{skill}","outcome":"{outcome}",'
                        f'"duration_seconds":{rng.lognormvariate(4, 1):.2f}}}'
                    )
                else:
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"skill_execution","event_id":"{eid()}",'
                        f'"session_id":"{sid}","skill":"{skill}","outcome":"started",'
                        f'"context_tokens":{tokens}}}'
                    )
                    if rng.random() < 0.93:
                        duration = rng.lognormvariate(4, 1)
                        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
                        tie += 1
                        due = now + max(1, int(duration * 1000))
                        heapq.heappush(
                            pending,
                            (
                                due,
                                tie,
                                f'{{"timestamp":"@TS@","event_type":"skill_execution",'
                                f'"event_id":"{eid()}","session_id":"{sid}","skill":"{skill}",'
                                f'"outcome":"{outcome}","duration_seconds":{duration:.2f},'
                                f'"context_tokens":{tokens + rng.randint(0, 20000)}}}',
                            ),
                        )
            elif r < 0.90:
                agent = rng.choice(AGENTS)
                outcome = rng.choices(OUTCOMES, [90, 5, 2, 3])[0]
                task = f"t{rng.getrandbits(40):010x}"
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"agent_task","event_id":"{eid()}",'
                    f'"session_id":"{sid}","task_id":"{task}","agent":"{agent}",'
                    f'"outcome":"{outcome}","duration_seconds":{rng.lognormvariate(5, 1):.2f},'
                    f'"tool_calls":{rng.randint(1, 80)}}}'
                )
            elif r < 0.95:
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"context_snapshot","event_id":"{eid()}",'
                    f'"session_id":"{sid}","context_tokens":{rng.randint(1000, 199000)},'
                    f'"model":"{rng.choice(MODELS)}"}}'
                )
            elif r < 0.975:
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"skill_load","event_id":"{eid()}",'
                    f'"skill":"{rng.choice(SKILLS)}","duration_seconds":{rng.random():.3f}}}'
                )
            elif r < 0.99:
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"session_end","event_id":"{eid()}",'
                    f'"session_id":"{sid}","duration_seconds":{rng.lognormvariate(7, 1):.1f}}}'
                )
            else:
                kind = rng.random()
                if kind < 0.3:
                    cov = 80 + rng.random() * 15
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"test_coverage","event_id":"{eid()}",'
                        f'"coverage_percent":{cov:.1f}}}'
                    )
                elif kind < 0.6:
                    outcome = "failed" if rng.random() < 0.1 else "passed"
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"ci_build","event_id":"{eid()}",'
                        f'"outcome":"{outcome}"}}'
                    )
                elif kind < 0.8:
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"lint_report","event_id":"{eid()}",'
                        f'"lint_errors":{rng.randint(0, 40)}}}'
                    )
                else:
                    sev = rng.choices(["critical", "warning", "info"], [1, 3, 6])[0]
                    src = rng.choice(["incident", "observation", "experiment", "code_review"])
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"learning_created",'
                        f'"event_id":"{eid()}","id":"LEARN-2025-{rng.getrandbits(24):07d}",'
                        f'"severity":"{sev}","source":"{src}"}}'
                    )
            written += 1
            if len(lines) >= 10_000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
    return written


_SKILL_WORDS = (
    "systematic", "constraint", "test", "schema", "release", "security", "perf", "doc",
    "api", "refactor", "incident", "migration", "review", "triage", "deploy", "data",
)  # fmt: skip
_SKILL_ROLES = ("debugger", "preflight", "writer", "auditor", "planner", "guide", "checker")
TEAM_SKILLS = [
    f"{_SKILL_WORDS[i % 16]}-{_SKILL_ROLES[(i * 5 + i // 16) % 7]}"
    + (f"-{i // 16}" if i >= 16 else "")
    for i in range(48)
]
TEAM_AGENTS = [
    "explorer", "planner", "implementer", "reviewer", "tester", "debugger", "documenter",
    "migrator", "security-reviewer", "release-manager", "data-analyst", "general-purpose",
]  # fmt: skip
_BUILTIN_TOOLS = (
    "Read", "Grep", "Edit", "Bash", "Write", "Glob", "MultiEdit", "WebFetch", "WebSearch",
    "TodoWrite", "Task", "NotebookEdit", "LS", "BashOutput", "KillShell", "ExitPlanMode",
)  # fmt: skip
_MCP = {
    "github": ("create_pull_request", "list_issues", "get_file_contents", "search_code",
               "create_issue", "add_comment"),
    "scheduler": ("validate", "list_rotations", "swap_shift", "explain_violation"),
    "postgres": ("query", "list_tables", "describe_table"),
    "sentry": ("get_issue", "search_events", "list_projects"),
    "linear": ("create_ticket", "update_ticket", "search"),
    "filesystem": ("read_file", "write_file", "list_directory", "search_files", "move_file"),
    "browser": ("navigate", "screenshot", "click", "fill", "evaluate"),
    "slack": ("post_message", "search_messages", "list_channels"),
}  # fmt: skip
TEAM_TOOLS = list(_BUILTIN_TOOLS) + [f"mcp__{s}__{t}" for s, ts in _MCP.items() for t in ts]
TEAM_PROJECTS = ["scheduler", "billing-api", "web-app", "data-pipeline", "infra", "mobile"]
TEAM_MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-sonnet-4"]
_ERRORS = (
    "TimeoutError", "FileNotFoundError", "PermissionError", "ValueError", "KeyError",
    "AssertionError", "ConnectionResetError", "JSONDecodeError", "UnicodeDecodeError",
    "subprocess.CalledProcessError", "httpx.ReadTimeout", "rate_limit_error", "overloaded_error",
    "tool_use_error", "invalid_request_error", "context_length_exceeded", "ImportError",
    "ModuleNotFoundError", "TypeError", "RuntimeError", "OSError", "MemoryError",
)  # fmt: skip
_DETAILS = (
    "exit status 1", "exit status 2", "after 30 s", "after 120 s", "in tests/test_api.py",
    "in src/app/models.py", "while reading config.yaml", "on line {n}", "at offset {n}",
    "status 429", "status 500", "status 503", "{n} bytes over the limit",
)  # fmt: skip
_REASONS = (
    "user exited after {n} turns", "idle for {n} minutes", "context limit reached, compacted",
    "task completed", "clear command", "logout", "prompt_input_exit", "other",
    "the terminal was closed", "resumed in a new session",
)  # fmt: skip
_TRIGGERS = ("turn", "turn", "turn", "turn", "compact (auto)", "compact (manual)")
_TAGS = ("timezone", "flaky-test", "migration", "performance", "security", "ci", "docs",
         "api", "database", "regression", "tooling", "onboarding")  # fmt: skip


def _zipf(n: int, s: float = 1.1) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


def _cost(u: list[int]) -> float:
    return (u[0] * 3 + u[1] * 15 + u[2] * 3.75 + u[3] * 0.3) / 1e6


def _uuid7(rng: random.Random, ms: int) -> str:
    """A UUIDv7-shaped id (time-ordered, as the writers assign them)."""
    t = (int(START.timestamp() * 1000) + ms) & ((1 << 48) - 1)
    r = rng.getrandbits(74)
    h = f"{t:012x}7{r >> 62 & 0xFFF:03x}{0x8 | (r >> 60 & 0x3):x}{r & ((1 << 60) - 1):015x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _generate_team(n: int, path: Path, *, seed: int = 42, span_days: int = 365) -> int:
    """The ``team`` shape (see the module docstring)."""
    rng = random.Random(seed)
    # ~1.3 events per tick (the finishing events, session starts and ends come on top)
    step = max(1, span_days * 86_400_000 * 13 // 10 // max(n, 1))
    skill_w, agent_w, tool_w = _zipf(48), _zipf(12, 0.9), _zipf(len(TEAM_TOOLS), 0.8)
    rng.shuffle(tool_w)
    tool_w[TEAM_TOOLS.index("Read")] = tool_w[TEAM_TOOLS.index("Bash")] = max(tool_w) * 2
    versions = {s: [f"{1 + i % 3}.{rng.randint(0, 9)}.{rng.randint(0, 20)}" for i in range(3)]
                for s in TEAM_SKILLS}  # fmt: skip

    def text(pool: tuple[str, ...]) -> str:
        return rng.choice(pool).replace("{n}", str(rng.randint(1, 400)))

    def error_type() -> str:
        base = rng.choice(_ERRORS)
        return f"{base}: {text(_DETAILS)}" if rng.random() < 0.6 else base

    pending: list[tuple[int, int, str]] = []  # (due ms, tie, line with @TS@ and @ID@)
    tie = 0
    written = 0
    now = 0
    lines: list[str] = []
    # session: [id, project, events left, open tasks [(task id, agent)]]
    sessions: list[list[Any]] = []
    sessions_made = 0

    def later(due: int, line: str) -> None:
        nonlocal tie
        tie += 1
        heapq.heappush(pending, (due, tie, line))

    def new_session(ts: str) -> list[Any]:
        nonlocal sessions_made
        sessions_made += 1
        sid = f"{rng.getrandbits(128):032x}"
        sid = f"{sid[:8]}-{sid[8:12]}-{sid[12:16]}-{sid[16:20]}-{sid[20:]}"
        project = rng.choices(TEAM_PROJECTS, [30, 20, 20, 12, 10, 8])[0]
        s = [sid, project, int(rng.lognormvariate(5.3, 0.8)) + 20, []]
        lines.append(
            f'{{"timestamp":"{ts}","event_type":"session_start","event_id":"{_uuid7(rng, now)}",'
            f'"session_id":"{sid}","project":"{project}","source":"hook"}}'
        )
        return s

    with path.open("w", encoding="utf-8") as out:
        while written < n:
            now += rng.randint(1, 2 * step - 1)
            while pending and pending[0][0] <= now and written < n:
                due, _, line = heapq.heappop(pending)
                lines.append(line.replace("@TS@", _ts(due)).replace("@ID@", _uuid7(rng, due)))
                written += 1
            if written >= n:
                break
            ts = _ts(now)
            while len(sessions) < 40 + (now // 3_600_000 % 24) // 2:  # busier later in the day
                sessions.append(new_session(ts))
                written += 1
            k = rng.randrange(len(sessions))
            sess = sessions[k]
            sid, project = sess[0], sess[1]
            sess[2] -= 1
            common = f'"session_id":"{sid}","project":"{project}"'
            if sess[2] <= 0:
                sessions.pop(k)
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"session_end",'
                    f'"event_id":"{_uuid7(rng, now)}",{common},"source":"hook",'
                    f'"duration_seconds":{rng.lognormvariate(7.5, 1):.1f},'
                    f'"reason":"{text(_REASONS)}"}}'
                )
                written += 1
                continue
            eid = _uuid7(rng, now)
            r = rng.random()
            if r < 0.42:
                tool = rng.choices(TEAM_TOOLS, tool_w)[0]
                failed = rng.random() < 0.05
                extra = f',"mcp_server":"{tool.split("__")[1]}"' if tool.startswith("mcp__") else ""
                if sess[3] and rng.random() < 0.5:
                    extra += f',"task_id":"{rng.choice(sess[3])[0]}"'
                if failed:
                    extra += f',"error_type":"{error_type()}"'
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"tool_call","event_id":"{eid}",{common},'
                    f'"source":"hook","tool":"{tool}",'
                    f'"outcome":"{"error" if failed else "success"}",'
                    f'"duration_seconds":{rng.lognormvariate(-1, 1.2):.3f}{extra}}}'
                )
            elif r < 0.58:
                model = rng.choices(TEAM_MODELS, [50, 15, 25, 10])[0]
                attr = ""
                if rng.random() < 0.45:
                    attr = f',"skill":"{rng.choices(TEAM_SKILLS, skill_w)[0]}"'
                elif sess[3] and rng.random() < 0.5:
                    attr = f',"agent":"{rng.choice(sess[3])[1]}"'
                req = f"req_{rng.getrandbits(96):024x}"
                usage = [rng.randint(10, 8000), rng.randint(10, 4000),
                         rng.randint(0, 30000), rng.randint(0, 180000)]  # fmt: skip

                llm = (
                    '{{"timestamp":"{ts}","event_type":"llm_request","event_id":"{id}",'
                    + common.replace("{", "{{").replace("}", "}}")
                    + f',"source":"import","model":"{model}","request_id":"{req}",'
                    + '"input_tokens":{u[0]},"output_tokens":{u[1]},'
                    + '"cache_creation_input_tokens":{u[2]},"cache_read_input_tokens":{u[3]},'
                    + '"cost_usd":{cost:.6f}'
                    + attr
                    + "}}"
                ).format

                lines.append(llm(ts=ts, id=eid, u=usage, cost=_cost(usage)))
                if rng.random() < 0.03:  # re-logged with the final usage, same event id
                    grown = [usage[0], usage[1] + rng.randint(1, 2000), usage[2], usage[3]]
                    later(
                        now + rng.randint(100, 60_000),
                        llm(ts="@TS@", id=eid, u=grown, cost=_cost(grown)),
                    )
                elif rng.random() < 0.02:  # one request answered twice (a retried stream)
                    later(
                        now + rng.randint(100, 5_000),
                        llm(ts="@TS@", id="@ID@", u=usage, cost=_cost(usage)),
                    )
            elif r < 0.80:
                skill = rng.choices(TEAM_SKILLS, skill_w)[0]
                version = rng.choice(versions[skill])
                tokens = rng.randint(3000, 190000)
                base = f'{common},"source":"sdk","skill":"{skill}","skill_version":"{version}"'
                if rng.random() < 0.04:  # a terminal event logged without its start
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"skill_execution","event_id":"{eid}",'
                        f'{base},"outcome":"success",'
                        f'"duration_seconds":{rng.lognormvariate(4, 1):.2f}}}'
                    )
                else:
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"skill_execution","event_id":"{eid}",'
                        f'{base},"outcome":"started","context_tokens":{tokens}}}'
                    )
                    if rng.random() < 0.94:
                        duration = rng.lognormvariate(4 + (TEAM_SKILLS.index(skill) % 5) / 4, 1)
                        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
                        err = f',"error_type":"{error_type()}"' if outcome == "error" else ""
                        later(
                            now + max(1, int(duration * 1000)),
                            f'{{"timestamp":"@TS@","event_type":"skill_execution",'
                            f'"event_id":"@ID@",{base},"outcome":"{outcome}",'
                            f'"duration_seconds":{duration:.2f},'
                            f'"context_tokens":{tokens + rng.randint(0, 20000)}{err}}}',
                        )
            elif r < 0.88:
                agent = rng.choices(TEAM_AGENTS, agent_w)[0]
                task = f"toolu_{rng.getrandbits(96):024x}"
                base = f'{common},"source":"hook","task_id":"{task}","agent":"{agent}"'
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"agent_task","event_id":"{eid}",'
                    f'{base},"agent_type":"{agent}","outcome":"started"}}'
                )
                sess[3].append((task, agent))
                if len(sess[3]) > 4:
                    sess[3].pop(0)
                if rng.random() < 0.95:
                    duration = rng.lognormvariate(5, 1)
                    outcome = rng.choices(OUTCOMES, [90, 5, 2, 3])[0]
                    err = f',"error_type":"{error_type()}"' if outcome == "error" else ""
                    later(
                        now + max(1, int(duration * 1000)),
                        f'{{"timestamp":"@TS@","event_type":"agent_task","event_id":"@ID@",'
                        f'{base},"agent_type":"{agent}","outcome":"{outcome}",'
                        f'"duration_seconds":{duration:.2f},"tool_calls":{rng.randint(1, 120)},'
                        f'"total_tokens":{rng.randint(2000, 400000)}{err}}}',
                    )
            elif r < 0.95:
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"context_snapshot","event_id":"{eid}",'
                    f'{common},"source":"hook","context_tokens":{rng.randint(1000, 199000)},'
                    f'"model":"{rng.choice(TEAM_MODELS)}","trigger":"{rng.choice(_TRIGGERS)}"}}'
                )
            elif r < 0.985:
                lines.append(
                    f'{{"timestamp":"{ts}","event_type":"skill_load","event_id":"{eid}",'
                    f'{common},"source":"hook","skill":"{rng.choices(TEAM_SKILLS, skill_w)[0]}",'
                    f'"duration_seconds":{rng.random() / 2:.3f}}}'
                )
            else:
                kind = rng.random()
                proj = f'"project":"{project}"'
                if kind < 0.3:
                    cov = 70 + rng.random() * 25
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"test_coverage","event_id":"{eid}",'
                        f'{proj},"source":"ci","coverage_percent":{cov:.1f}}}'
                    )
                elif kind < 0.6:
                    outcome = "failed" if rng.random() < 0.1 else "passed"
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"ci_build","event_id":"{eid}",'
                        f'{proj},"source":"ci","outcome":"{outcome}"}}'
                    )
                elif kind < 0.8:
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"lint_report","event_id":"{eid}",'
                        f'{proj},"source":"ci","lint_errors":{rng.randint(0, 60)}}}'
                    )
                else:
                    sev = rng.choices(["critical", "warning", "info"], [1, 3, 6])[0]
                    src = rng.choice(["incident", "observation", "experiment", "code_review"])
                    tags = ",".join(rng.sample(_TAGS, rng.randint(1, 3)))
                    lines.append(
                        f'{{"timestamp":"{ts}","event_type":"learning_created",'
                        f'"event_id":"{eid}",{proj},'
                        f'"id":"LEARN-2025-{rng.getrandbits(24):07d}",'
                        f'"severity":"{sev}","source":"{src}","tags":"{tags}"}}'
                    )
            written += 1
            if len(lines) >= 10_000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
    return written


SHAPES = {"team": _generate_team, "classic": _generate_classic}


def generate(
    n: int, path: Path, *, seed: int = 42, span_days: int = 365, shape: str = "team"
) -> int:
    """Write about ``n`` events of ``shape`` (``team`` or ``classic``) to ``path``; return the
    number written."""
    return SHAPES[shape](n, path, seed=seed, span_days=span_days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="team")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    count = generate(args.events, args.output, seed=args.seed, shape=args.shape)
    print(f"wrote {count} events to {args.output}")


if __name__ == "__main__":
    main()
