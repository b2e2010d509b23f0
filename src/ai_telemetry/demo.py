"""A realistic, seeded multi-week sample data set, so the product shows its work before any
real data exists (``ai-telemetry demo``).

Every event type of the contract appears. A few anomalies are injected on purpose, and listed
in ``demo-anomalies.json`` beside the log, so detection can be measured against known truth:

- ``skill_error_spike``: acgme-compliance fails about 30% of the time in one week;
- ``learning_stall``: no learning entries for two weeks;
- ``incident_repeat``: the same root cause (timezone-handling) three times in a month;
- ``coverage_decline``: test coverage drops 2.6 points in one week;
- ``context_saturation``: context snapshots above 90% of the window in one week;
- ``tool_call_loop``: one agent task makes 64 tool calls (and hits the limit);
- ``duration_shift``: systematic-debugger takes ~60% longer for the last three weeks.

Terminal skill runs carry ``folders`` and ``task_kind`` (`SKILL_TASKS`): each skill has home
folders where it mostly succeeds, for the skill recommender's offline evaluation.

The same seed, week count and end date give the same events, ids included.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ai_telemetry.events.schema import format_timestamp, new_event_id

SKILLS: Final = {
    # name: (weekly invocations, error rate, median duration s, context tokens)
    "systematic-debugger": (46, 0.04, 240.0, 15_000),
    "constraint-preflight": (34, 0.03, 35.0, 6_000),
    "test-writer": (28, 0.05, 180.0, 12_000),
    "acgme-compliance": (19, 0.03, 95.0, 22_000),
    "code-review": (15, 0.02, 150.0, 18_000),
    "docs-writer": (6, 0.02, 120.0, 9_000),
    "legacy-migrator": (1, 0.10, 600.0, 40_000),
}
SKILL_TASKS: Final = {
    # name: (kind of task it serves, its home folders)
    "systematic-debugger": ("debug", ("src/scheduler", "src/api")),
    "constraint-preflight": ("review", ("src/constraints", "src/scheduler")),
    "test-writer": ("test", ("tests/unit", "tests/integration")),
    "acgme-compliance": ("review", ("src/compliance", "src/constraints")),
    "code-review": ("review", ("src/api", "src/ui")),
    "docs-writer": ("docs", ("docs", "src/api")),
    "legacy-migrator": ("migrate", ("migrations", "src/legacy")),
}
"""Task folders and kinds of the skill runs: a skill succeeds mostly in its home folders and
fails mostly elsewhere, so a recommender has something to find (docs/recommend.md)."""
TASK_FOLDERS: Final = tuple(sorted({f for _, homes in SKILL_TASKS.values() for f in homes}))
TASK_KINDS: Final = ("debug", "test", "review", "migrate", "docs")
AGENTS: Final = {
    # name: (agent type, weekly tasks, median minutes, tool calls)
    "explorer": ("Explore", 40, 2.5, 9),
    "planner": ("Plan", 22, 3.5, 6),
    "implementer": ("general-purpose", 30, 6.0, 22),
    "reviewer": ("code-reviewer", 18, 3.0, 11),
    "test-runner": ("test-runner", 25, 4.0, 8),
}
TOOLS: Final = (
    "Read",
    "Grep",
    "Glob",
    "Edit",
    "Write",
    "Bash",
    "mcp__github__create_issue",
    "mcp__scheduler__validate_schedule",
)
MODELS: Final = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
ROOT_CAUSES: Final = ("timezone-handling", "null-rotation", "stale-cache", "flaky-fixture", "race")
LEARNING_SOURCES: Final = ("incident", "observation", "experiment", "user_feedback", "code_review")


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One injected anomaly: what, where, and the week it starts (Monday, UTC)."""

    kind: str
    week_start: str
    detail: str
    weeks: int = 1


@dataclass(slots=True)
class DemoData:
    """The generated events and the anomalies injected into them."""

    events: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the week holding ``moment``."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


class _Gen:
    def __init__(self, rng: random.Random, data: DemoData, *, seed: int = 42) -> None:
        self.rng = rng
        # Task folders draw from their own stream, so every other number stays what it was.
        self.task_rng = random.Random(seed * 7919 + 1)  # noqa: S311 - sample data
        self.data = data
        self.session = 0

    def emit(self, at: datetime, event_type: str, **fields: Any) -> None:
        event_id = new_event_id(int(at.timestamp() * 1000), rand=self.rng.getrandbits(74))
        event = {
            "timestamp": format_timestamp(at),
            "event_type": event_type,
            "event_id": event_id,
            "project": "residency-scheduler",
        }
        if "source" not in fields and not event_type.startswith("learning_"):
            event["source"] = "demo"
        event.update(fields)
        self.data.events.append(event)

    def moment(self, start: datetime, *, workday: bool = True) -> datetime:
        """A random moment in the week, weighted to working hours."""
        day = self.rng.randrange(5 if workday else 7)
        seconds = self.rng.uniform(8 * 3600, 18 * 3600)
        return start + timedelta(days=day, seconds=seconds)

    def lognormal(self, median: float, spread: float = 0.5) -> float:
        return round(median * self.rng.lognormvariate(0, spread), 3)

    def new_session(self) -> str:
        self.session += 1
        return f"demo-session-{self.session:05d}"


def generate(*, weeks: int = 12, seed: int = 42, end: datetime | None = None) -> DemoData:
    """Generate ``weeks`` weeks of events ending before ``end`` (default: this week's Monday,
    and then this week's events up to today, 00:00 UTC).

    Without ``end``, the demo is looked at now: ``status`` and ``top --days 7`` read the 7 days
    to now, which hold little of the last whole week after Monday and none of it from Friday
    evening on. So the week under way gets ordinary events (no anomaly) up to the start of
    today (the same data all day); the weekly pipeline still reads whole weeks only.

    Args:
        weeks: how many whole weeks (at least 8, so every anomaly fits).
        seed: the random seed.
        end: the Monday (UTC) after the last generated week (nothing is generated after it).
    """
    weeks = max(weeks, 8)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    last = week_start(end or today)
    until = today if end is None else last
    first = last - timedelta(weeks=weeks)
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not security
    data = DemoData()
    gen = _Gen(rng, data, seed=seed)
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    # Where the anomalies go, counted back from the last week.
    spike, stall, decline, saturation, loop = (
        starts[-3],
        starts[-6],
        starts[-2],
        starts[-1],
        starts[-1],
    )
    shift_from = starts[-3]
    data.anomalies += [
        Anomaly("skill_error_spike", _day(spike), "acgme-compliance error rate ~30%"),
        Anomaly("learning_stall", _day(stall), "no learning entries for two weeks", weeks=2),
        Anomaly("incident_repeat", _day(starts[-4]), "root cause timezone-handling 3 times", 4),
        Anomaly("coverage_decline", _day(decline), "test coverage -2.6 points"),
        Anomaly("context_saturation", _day(saturation), "context snapshots above 90%"),
        Anomaly("tool_call_loop", _day(loop), "implementer task with 64 tool calls"),
        Anomaly("duration_shift", _day(shift_from), "systematic-debugger +60% duration", 3),
    ]
    coverage = 84.0
    learning_no = 0
    incident_no = 0
    under_way = [last] if until > last else []  # this week so far (after its Monday)
    for index, start in enumerate(starts + under_way):
        _skills(gen, start, spike=start == spike, slow=start >= shift_from)
        _agents(gen, start, loop=start == loop)
        _sessions_and_context(gen, start, saturated=start == saturation)
        if not stall <= start < stall + timedelta(weeks=2):
            learning_no = _learnings(gen, start, learning_no)
        incident_no = _incidents(gen, start, incident_no, repeat=start >= starts[-4])
        coverage = _quality(gen, start, coverage, index, decline=start == decline)
    cutoff = format_timestamp(until)
    data.events = sorted(
        (e for e in data.events if e["timestamp"] < cutoff),
        key=lambda e: (e["timestamp"], e["event_id"]),
    )
    return data


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _skills(gen: _Gen, start: datetime, *, spike: bool, slow: bool) -> None:
    rng = gen.rng
    for skill, (weekly, error_rate, median, tokens) in SKILLS.items():
        for _ in range(max(0, round(rng.gauss(weekly, weekly**0.5 / 2)))):
            at = gen.moment(start)
            session = gen.new_session()
            version = "v2" if start.isocalendar().week % 2 == 0 else "v1"
            gen.emit(
                at,
                "skill_load",
                skill=skill,
                duration_seconds=gen.lognormal(0.4, 0.6),
                session_id=session,
            )
            gen.emit(
                at,
                "skill_execution",
                skill=skill,
                outcome="started",
                session_id=session,
                context_tokens=int(tokens * rng.uniform(0.7, 1.0)),
                skill_version=version,
            )
            rate = 0.3 if spike and skill == "acgme-compliance" else error_rate
            roll = rng.random()
            if roll < rate:
                outcome = "error"
            elif roll < rate + 0.01:
                outcome = "rollback"
            elif roll < rate + 0.03:
                outcome = "handoff"
            else:
                outcome = "success"
            scale = 1.6 if slow and skill == "systematic-debugger" else 1.0
            duration = gen.lognormal(median * scale, 0.45)
            end = at + timedelta(seconds=duration)
            fields: dict[str, Any] = {
                "skill": skill,
                "outcome": outcome,
                "duration_seconds": duration,
                "session_id": session,
                "context_tokens": int(tokens * rng.uniform(1.0, 1.4)),
                "skill_version": version,
            }
            if outcome == "error":
                fields["error_type"] = rng.choice(("TimeoutError", "ValidationError", "KeyError"))
            fields.update(_task(gen.task_rng, skill, success=outcome == "success"))
            gen.emit(end, "skill_execution", **fields)
            if outcome == "success" and rng.random() < 0.3:
                gen.emit(
                    end + timedelta(minutes=5),
                    "commit",
                    commit_hash=f"{rng.getrandbits(160):040x}",
                    skill=skill,
                    source="git",
                )


def _task(rng: random.Random, skill: str, *, success: bool) -> dict[str, str]:
    """``folders`` and ``task_kind`` of one skill run: home folders for most successes,
    foreign ones for most failures."""
    kind, homes = SKILL_TASKS[skill]
    home = rng.random() < (0.8 if success else 0.3)
    pool = homes if home else tuple(f for f in TASK_FOLDERS if f not in homes)
    folders = sorted(set(rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2))))))
    if rng.random() >= 0.85:
        kind = rng.choice(TASK_KINDS)
    return {"folders": ",".join(folders), "task_kind": kind}


def _agents(gen: _Gen, start: datetime, *, loop: bool) -> None:
    rng = gen.rng
    for agent, (agent_type, weekly, minutes, calls) in AGENTS.items():
        count = max(0, round(rng.gauss(weekly, weekly**0.5 / 2)))
        for n in range(count):
            at = gen.moment(start)
            task = f"demo-task-{start.date().isoformat()}-{agent}-{n:03d}"
            session = gen.new_session()
            gen.emit(
                at,
                "agent_task",
                agent=agent,
                agent_type=agent_type,
                outcome="started",
                task_id=task,
                session_id=session,
            )
            tool_calls = max(1, round(rng.gauss(calls, calls / 4)))
            if loop and agent == "implementer" and n == 0:
                tool_calls = 64
                gen.emit(
                    at + timedelta(minutes=20),
                    "tool_call_limit_reached",
                    limit=50,
                    tool_calls=51,
                    task_id=task,
                    session_id=session,
                )
            clock = at
            for _ in range(tool_calls):
                tool = rng.choice(TOOLS)
                latency = gen.lognormal(0.8 if tool.startswith("mcp__") else 0.15, 0.7)
                clock += timedelta(seconds=rng.uniform(2, 20))
                fields: dict[str, Any] = {"tool": tool, "duration_seconds": latency}
                if tool.startswith("mcp__"):
                    fields["mcp_server"] = tool.split("__")[1]
                failed = rng.random() < 0.03
                fields["outcome"] = "error" if failed else "success"
                gen.emit(clock, "tool_call", task_id=task, session_id=session, **fields)
            roll = rng.random()
            outcome = (
                "error"
                if roll < 0.02
                else "rollback"
                if roll < 0.035
                else "handoff"
                if roll < 0.08
                else "success"
            )
            duration = gen.lognormal(minutes * 60, 0.5)
            gen.emit(
                at + timedelta(seconds=duration),
                "agent_task",
                agent=agent,
                agent_type=agent_type,
                outcome=outcome,
                duration_seconds=duration,
                tool_calls=tool_calls,
                task_id=task,
                session_id=session,
            )


def _sessions_and_context(gen: _Gen, start: datetime, *, saturated: bool) -> None:
    rng = gen.rng
    for _ in range(rng.randint(25, 35)):
        at = gen.moment(start)
        session = gen.new_session()
        minutes = gen.lognormal(35, 0.6)
        model = rng.choice(MODELS)
        gen.emit(at, "session_start", session_id=session)
        for turn in range(rng.randint(3, 8)):
            when = at + timedelta(minutes=minutes * (turn + 1) / 9)
            fill = rng.uniform(0.92, 0.98) if saturated and turn > 2 else rng.betavariate(4, 5)
            tokens = int(200_000 * fill)
            gen.emit(
                when,
                "context_snapshot",
                session_id=session,
                model=model,
                context_tokens=tokens,
                context_window=200_000,
                trigger="turn",
            )
            input_tokens = rng.randint(2, 40)
            cache_read = max(0, tokens - rng.randint(500, 5000))
            cache_write = tokens - cache_read - input_tokens
            output = rng.randint(80, 2500)
            gen.emit(
                when,
                "llm_request",
                session_id=session,
                model=model,
                input_tokens=input_tokens,
                output_tokens=output,
                cache_creation_input_tokens=max(0, cache_write),
                cache_read_input_tokens=cache_read,
                request_id=f"req_demo{rng.getrandbits(64):016x}",
                message_id=f"msg_demo{rng.getrandbits(64):016x}",
                cost_usd=round(
                    (input_tokens * 3 + output * 15 + max(0, cache_write) * 3.75 + cache_read * 0.3)
                    / 1e6,
                    6,
                ),
                duration_seconds=gen.lognormal(6.0, 0.5),
            )
        if rng.random() < 0.08:
            gen.emit(
                at + timedelta(minutes=minutes / 2),
                "llm_error",
                session_id=session,
                model=model,
                status_code=rng.choice((429, 500, 529)),
                attempt=rng.randint(1, 3),
                error_type="overloaded",
                duration_seconds=gen.lognormal(2.0, 0.5),
            )
        gen.emit(
            at + timedelta(minutes=minutes),
            "session_end",
            session_id=session,
            duration_seconds=round(minutes * 60, 3),
            reason="other",
        )


def _learnings(gen: _Gen, start: datetime, number: int) -> int:
    rng = gen.rng
    for _ in range(rng.randint(7, 13)):
        number += 1
        learning_id = f"LEARN-{start.year}-{number:03d}"
        at = gen.moment(start)
        severity = rng.choices(("critical", "warning", "info"), weights=(2, 5, 5))[0]
        gen.emit(
            at,
            "learning_created",
            id=learning_id,
            severity=severity,
            source=rng.choice(LEARNING_SOURCES),
            skill=rng.choice(list(SKILLS)),
        )
        if rng.random() < 0.78:
            days = gen.lognormal(2.5, 0.7)
            gen.emit(
                at + timedelta(days=days),
                "learning_implemented",
                id=learning_id,
                pr=rng.randint(100, 999),
                commit_hash=f"{rng.getrandbits(160):040x}",
            )
    return number


def _incidents(gen: _Gen, start: datetime, number: int, *, repeat: bool) -> int:
    rng = gen.rng
    count = rng.randint(0, 2) + (1 if repeat else 0)
    for n in range(count):
        number += 1
        incident = f"INC-{start.year}-{number:04d}"
        at = gen.moment(start)
        cause = "timezone-handling" if repeat and n == count - 1 else rng.choice(ROOT_CAUSES[1:])
        severity = rng.choice(("critical", "warning", "warning", "info"))
        gen.emit(at, "incident_opened", incident_id=incident, severity=severity, root_cause=cause)
        minutes = gen.lognormal(28, 0.7)
        gen.emit(
            at + timedelta(minutes=minutes),
            "incident_resolved",
            incident_id=incident,
            severity=severity,
            root_cause=cause,
            duration_seconds=round(minutes * 60, 3),
        )
    return number


def _quality(gen: _Gen, start: datetime, coverage: float, index: int, *, decline: bool) -> float:
    rng = gen.rng
    previous = coverage
    coverage = previous - 2.6 if decline else min(97.0, previous + rng.uniform(0.1, 0.6))
    coverage = round(coverage, 1)
    friday = start + timedelta(days=4, hours=16)
    gen.emit(
        friday,
        "test_coverage",
        coverage_percent=coverage,
        delta_percent=round(coverage - previous, 1),
        source="ci",
    )
    gen.emit(
        friday, "lint_report", lint_errors=max(0, 12 - index + rng.randint(-2, 2)), tool="ruff"
    )
    gen.emit(friday, "type_coverage", type_coverage_percent=round(90 + index * 0.6, 1))
    gen.emit(friday, "doc_coverage", doc_coverage_percent=round(88 + index * 0.7, 1))
    gen.emit(
        friday,
        "security_scan",
        open_findings=max(0, 3 - index // 3),
        resolved_findings=1 if index % 3 == 0 else 0,
        tool="bandit",
    )
    for day in range(5):
        for _ in range(rng.randint(4, 8)):
            at = start + timedelta(days=day, hours=rng.uniform(8, 19))
            failed = rng.random() < (0.12 if decline else 0.04)
            failed_tests = rng.randint(1, 4) if failed else 0
            outcome = "failed" if failed else "passed"
            gen.emit(at, "ci_build", outcome=outcome, failed_tests=failed_tests, source="ci")
            gen.emit(
                at,
                "test_run",
                outcome=outcome,
                failed_count=failed_tests,
                passed_count=rng.randint(640, 660),
                coverage_percent=coverage,
                source="ci",
            )
    return coverage
