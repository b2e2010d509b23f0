"""The instrumentation SDK: events written, host behaviour untouched, failures swallowed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

import ai_telemetry
from ai_telemetry.collect.sdk import Telemetry
from ai_telemetry.config import load_settings


def read_events(log: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines()]


def test_log_event_writes_a_validated_event(sdk_client: Telemetry) -> None:
    """log_event writes one line with a UTC timestamp, an event id and source sdk."""
    ai_telemetry.log_event("lint_report", lint_errors=3)
    [event] = read_events(sdk_client.settings.log_path)
    assert ("lint_report", 3, "sdk") == (event["event_type"], event["lint_errors"], event["source"])
    assert event["timestamp"].endswith("Z")
    assert len(event["event_id"]) == 36


def test_log_session_end_is_the_seeds_event(sdk_client: Telemetry) -> None:
    """The seed's log_session_end writes a terminal skill_execution."""
    ai_telemetry.log_session_end("systematic-debugger", "success", 247.3)
    [event] = read_events(sdk_client.settings.log_path)
    expected = ("skill_execution", "systematic-debugger", "success", 247.3)
    assert expected == (
        event["event_type"],
        event["skill"],
        event["outcome"],
        event["duration_seconds"],
    )


def test_track_tool_call_records_success_and_duration(sdk_client: Telemetry) -> None:
    """A decorated function returns its value and records a success with its duration."""

    @ai_telemetry.track_tool_call("mcp__docs__search")
    def search(query: str) -> str:
        time.sleep(0.02)
        return query.upper()

    assert "ABC" == search("abc")
    [event] = read_events(sdk_client.settings.log_path)
    assert ("tool_call", "mcp__docs__search", "success", "docs") == (
        event["event_type"],
        event["tool"],
        event["outcome"],
        event["mcp_server"],
    )
    assert 0.02 <= event["duration_seconds"] < 1.0
    assert search.__name__ == "search"


def test_track_tool_call_reraises_the_hosts_exception_untouched(sdk_client: Telemetry) -> None:
    """The host's own exception object comes back out, and the call is recorded as an error."""
    boom = ZeroDivisionError("division by zero")

    @ai_telemetry.track_tool_call("divide")
    def divide() -> None:
        raise boom

    with pytest.raises(ZeroDivisionError) as caught:
        divide()
    assert caught.value is boom
    [event] = read_events(sdk_client.settings.log_path)
    assert ("error", "ZeroDivisionError") == (event["outcome"], event["error_type"])


def test_track_tool_call_on_async_functions(sdk_client: Telemetry) -> None:
    """Async functions stay async and are timed across their awaits."""

    @ai_telemetry.track_tool_call("fetch")
    async def fetch(n: int) -> int:
        await asyncio.sleep(0.02)
        return n * 2

    @ai_telemetry.track_tool_call("fail")
    async def fail() -> None:
        await asyncio.sleep(0)
        raise KeyError("k")

    assert asyncio.iscoroutinefunction(fetch)
    assert 8 == asyncio.run(fetch(4))
    with pytest.raises(KeyError):
        asyncio.run(fail())
    events = read_events(sdk_client.settings.log_path)
    assert [("fetch", "success"), ("fail", "error")] == [(e["tool"], e["outcome"]) for e in events]
    assert events[0]["duration_seconds"] >= 0.02


def test_track_tool_call_on_generators_spans_the_iteration(sdk_client: Telemetry) -> None:
    """A decorated generator is one call from the first item to the last: its duration covers
    the iteration, an error raised while iterating is an error, a caller that stops early ends
    a successful call, and send() still reaches the generator."""

    @ai_telemetry.track_tool_call("stream")
    def stream(n: int) -> Any:
        for i in range(n):
            time.sleep(0.01)
            got = yield i
            if got is not None:
                yield got * 10

    @ai_telemetry.track_tool_call("broken")
    def broken() -> Any:
        yield 1
        raise OSError("disk gone")

    assert [0, 1, 2] == list(stream(3))
    with pytest.raises(OSError, match="disk gone"):
        list(broken())
    early = stream(10)
    assert 0 == next(early)
    assert 70 == early.send(7)
    early.close()
    events = read_events(sdk_client.settings.log_path)
    assert [("stream", "success"), ("broken", "error"), ("stream", "success")] == [
        (e["tool"], e["outcome"]) for e in events
    ]
    assert events[0]["duration_seconds"] >= 0.03
    assert "OSError" == events[1]["error_type"]


def test_track_tool_call_on_async_generators(sdk_client: Telemetry) -> None:
    """The same for async generators: timed across the iteration, errors recorded."""

    @ai_telemetry.track_tool_call("astream")
    async def astream(n: int) -> Any:
        for i in range(n):
            await asyncio.sleep(0.01)
            yield i

    @ai_telemetry.track_tool_call("abroken")
    async def abroken() -> Any:
        yield 1
        raise TimeoutError("slow")

    async def main() -> tuple[list[int], list[int]]:
        every = [i async for i in astream(3)]
        first = []
        async with contextlib.aclosing(astream(10)) as items:  # stops early, closes it
            async for i in items:
                first.append(i)
                break
        with pytest.raises(TimeoutError):
            [i async for i in abroken()]
        return every, first

    assert ([0, 1, 2], [0]) == asyncio.run(main())
    events = read_events(sdk_client.settings.log_path)
    assert [("astream", "success"), ("astream", "success"), ("abroken", "error")] == [
        (e["tool"], e["outcome"]) for e in events
    ]
    assert events[0]["duration_seconds"] >= 0.03


def test_skill_execution_records_started_then_success(sdk_client: Telemetry) -> None:
    """A skill run writes started, then success with a duration and the fields set inside."""
    with ai_telemetry.skill_execution("test-writer", skill_version="v2") as run:
        run.set(context_tokens=18900)
    started, ended = read_events(sdk_client.settings.log_path)
    assert ("started", "success") == (started["outcome"], ended["outcome"])
    assert ("v2", 18900) == (ended["skill_version"], ended["context_tokens"])
    assert ended["duration_seconds"] >= 0


def test_skill_execution_exception_makes_it_an_error(sdk_client: Telemetry) -> None:
    """An exception escaping the block records error (with its type) and propagates."""
    with pytest.raises(ValueError, match="bad"), ai_telemetry.skill_execution("code-review"):
        raise ValueError("bad")
    ended = read_events(sdk_client.settings.log_path)[-1]
    assert ("error", "ValueError") == (ended["outcome"], ended["error_type"])


@pytest.mark.parametrize("mark", ["rollback", "handoff"])
def test_skill_execution_explicit_rollback_and_handoff(sdk_client: Telemetry, mark: str) -> None:
    """run.rollback() and run.handoff() set the terminal outcome."""
    with ai_telemetry.skill_execution("acgme-compliance") as run:
        getattr(run, mark)()
    assert mark == read_events(sdk_client.settings.log_path)[-1]["outcome"]


def test_agent_task_gives_its_task_id_to_tool_calls_inside(sdk_client: Telemetry) -> None:
    """Tool calls made inside an agent task carry the task's id; outside they do not."""

    @ai_telemetry.track_tool_call("Read")
    def read() -> None:
        return None

    async def main() -> None:
        async with ai_telemetry.agent_task("explorer", agent_type="Explore"):
            read()
            read()
        read()

    asyncio.run(main())
    events = read_events(sdk_client.settings.log_path)
    task_id = events[0]["task_id"]
    calls = [e for e in events if e["event_type"] == "tool_call"]
    assert [task_id, task_id, None] == [e.get("task_id") for e in calls]
    assert ["started", "success"] == [
        e["outcome"] for e in events if e["event_type"] == "agent_task"
    ]


def test_invalid_event_is_swallowed_without_raise_errors(telemetry_dir: Path) -> None:
    """Without raise_errors an invalid event is counted, not raised into the host."""
    client = ai_telemetry.configure(telemetry_dir=telemetry_dir, durability="write")
    try:
        ai_telemetry.log_event("skill_execution", outcome="exploded")
        assert 1 == client.stats.rejected
        assert "skill" in client.stats.last_error or "outcome" in client.stats.last_error
    finally:
        ai_telemetry.configure(telemetry_dir=telemetry_dir, enabled=False)


def test_full_disk_is_counted_and_shown_by_doctor(tmp_path: Path) -> None:
    """Writes to a full device (/dev/full) never raise; doctor reports the failure."""
    directory = tmp_path / "Telemetry"
    directory.mkdir()
    (directory / "events.jsonl").symlink_to("/dev/full")
    client = ai_telemetry.configure(telemetry_dir=directory, durability="write")
    try:

        @ai_telemetry.track_tool_call("Read")
        def read() -> int:
            return 7

        assert 7 == read()
        assert client.stats.write_failures >= 1
    finally:
        ai_telemetry.configure(telemetry_dir=directory, enabled=False)
    doctor = subprocess.run(
        [sys.executable, "-m", "ai_telemetry", "doctor"],
        env={**os.environ, "AI_TELEMETRY_DIR": str(directory)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert 1 == doctor.returncode
    assert "write_failed" in doctor.stdout


def test_disabled_writes_nothing_and_calls_through(tmp_path: Path) -> None:
    """AI_TELEMETRY_ENABLED=false: functions work, no file is created."""
    client = ai_telemetry.configure(telemetry_dir=tmp_path / "T", enabled=False)

    @ai_telemetry.track_tool_call("Read")
    def read() -> int:
        return 1

    assert 1 == read()
    ai_telemetry.log_event("lint_report", lint_errors=1)
    client.flush()
    assert not (tmp_path / "T").exists()


def run_script(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_buffered_mode_flushes_at_exit(telemetry_dir: Path) -> None:
    """In the default buffered mode, events recorded just before exit reach the file."""
    done = run_script(
        """
        import ai_telemetry
        @ai_telemetry.track_tool_call("Grep")
        def grep(): return 1
        for _ in range(1000): grep()
        """,
        {"AI_TELEMETRY_DIR": str(telemetry_dir)},
    )
    assert 0 == done.returncode, done.stderr
    assert 1000 == len(read_events(telemetry_dir / "events.jsonl"))


def test_buffered_mode_flushes_within_the_interval(telemetry_dir: Path) -> None:
    """A buffered event is in the file within about a second, while the host keeps running."""
    done = run_script(
        """
        import pathlib, time, ai_telemetry
        ai_telemetry.log_event("lint_report", lint_errors=0)
        log = pathlib.Path(ai_telemetry.get_client().settings.log_path)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not (log.exists() and log.stat().st_size):
            time.sleep(0.05)
        print("seen" if log.exists() and log.stat().st_size else "missing")
        """,
        {"AI_TELEMETRY_DIR": str(telemetry_dir), "AI_TELEMETRY_FLUSH_INTERVAL": "1"},
    )
    assert "seen" == done.stdout.strip(), done.stderr


def test_forked_child_and_parent_both_write_once(telemetry_dir: Path) -> None:
    """After fork, parent and child each write their own events; nothing is doubled."""
    done = run_script(
        """
        import os, ai_telemetry
        ai_telemetry.log_event("lint_report", lint_errors=1)
        pid = os.fork()
        if pid == 0:
            ai_telemetry.log_event("lint_report", lint_errors=2)
            ai_telemetry.flush()
            os._exit(0)
        os.waitpid(pid, 0)
        ai_telemetry.log_event("lint_report", lint_errors=3)
        """,
        {"AI_TELEMETRY_DIR": str(telemetry_dir)},
    )
    assert 0 == done.returncode, done.stderr
    values = sorted(e["lint_errors"] for e in read_events(telemetry_dir / "events.jsonl"))
    assert [1, 2, 3] == values


def test_env_file_configures_the_sdk(tmp_path: Path) -> None:
    """The seed's .env (AI_TELEMETRY_LOG_PATH) is honoured by the SDK."""
    (tmp_path / ".env").write_text("AI_TELEMETRY_LOG_PATH=custom/events.jsonl\n")
    settings = load_settings(cwd=tmp_path, environ={})
    assert tmp_path / "custom" / "events.jsonl" == settings.log_path
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import ai_telemetry; ai_telemetry.log_event('commit', commit_hash='abc1234')",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    assert "abc1234" == read_events(tmp_path / "custom" / "events.jsonl")[0]["commit_hash"]


def test_fast_tool_call_lines_match_the_sink(telemetry_dir: Path) -> None:
    """A tool call written by the SDK's fast path is the event the sink would write."""
    from ai_telemetry.log.reader import read_log
    from ai_telemetry.log.sink import LogSink

    client = ai_telemetry.configure(telemetry_dir=telemetry_dir, project="p1", durability="write")
    try:

        @ai_telemetry.track_tool_call("mcp__github__create_issue")
        def create() -> None:
            raise TimeoutError

        with ai_telemetry.agent_task("implementer"), pytest.raises(TimeoutError):
            create()
    finally:
        ai_telemetry.configure(telemetry_dir=telemetry_dir, enabled=False)
    log = client.settings.log_path
    fast = next(e for e in read_events(log) if e["event_type"] == "tool_call")
    by_sink, _, _ = LogSink(client.settings, source="sdk").prepare(
        {k: v for k, v in fast.items() if k != "event_id"}
    )
    assert by_sink | {"event_id": fast["event_id"]} == fast
    assert ("github", "TimeoutError", "p1") == (
        fast["mcp_server"],
        fast["error_type"],
        fast["project"],
    )
    report = read_log(log)
    assert ([], 3) == (report.bad, report.valid)


def test_fast_tool_call_lines_are_scrubbed(telemetry_dir: Path) -> None:
    """A secret used as a tool name is redacted (policy redact) or refused (policy reject)."""
    secret = "sk-ant-api03-" + "x7Q" * 30
    client = ai_telemetry.configure(telemetry_dir=telemetry_dir, durability="write")

    @ai_telemetry.track_tool_call(secret)
    def leak() -> int:
        return 1

    try:
        leak()
        ai_telemetry.configure(
            telemetry_dir=telemetry_dir, durability="write", privacy_policy="reject"
        )
        leak()
        rejecting = ai_telemetry.get_client()
        assert 1 == rejecting.stats.rejected
    finally:
        ai_telemetry.configure(telemetry_dir=telemetry_dir, enabled=False)
    raw = client.settings.log_path.read_bytes()
    assert secret.encode() not in raw
    [event] = read_events(client.settings.log_path)
    assert (1, True) == (event["redacted"], event["tool"].startswith("[REDACTED"))
