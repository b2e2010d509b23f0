"""Seeded generator of a realistic ``events.jsonl`` for the aggregation benchmark.

One year of events (2025-01-01 onwards), strictly increasing timestamps with milliseconds, in
the mix a team running Claude Code produces: tool calls, LLM requests, skill executions
(``started`` then a terminal outcome a few seconds to minutes later, in one of ~60 concurrent
sessions; some never finish, some terminals are logged without a start), agent tasks, context
snapshots, sessions, skill loads, and a trickle of learning, test, CI, lint and incident events.

    python bench/gen_events.py --events 1000000 --output /tmp/bench/events.jsonl
"""

from __future__ import annotations

import argparse
import heapq
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def generate(n: int, path: Path, *, seed: int = 42, span_days: int = 365) -> int:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    count = generate(args.events, args.output, seed=args.seed)
    print(f"wrote {count} events to {args.output}")


if __name__ == "__main__":
    main()
