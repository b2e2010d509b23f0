"""``ai-telemetry hook``: turn Claude Code hook events into telemetry events.

Claude Code runs the hook command for every configured event and pipes one JSON object to its
stdin (``session_id``, ``hook_event_name``, and per event ``tool_name``, ``tool_use_id``,
``tool_response``, ``trigger``, ``reason``, ...). This module maps those to events:

- PreToolUse: remembers the start time by ``tool_use_id``; ``Skill`` and ``Agent``/``Task``
  also open a ``skill_execution`` / ``agent_task`` with outcome ``started``. With a tool-call
  limit configured, a task past it is blocked (exit code 2, reason on stderr: Claude Code's
  contract for a blocking PreToolUse) and ``tool_call_limit_reached`` is written once.
- PostToolUse / PostToolUseFailure: ``tool_call`` (tool, outcome, duration, MCP server), and
  the terminal ``skill_execution`` / ``agent_task`` (with the agent's own totals).
- SessionStart / SessionEnd: ``session_start`` / ``session_end`` with the session's length.
- PreCompact: ``context_snapshot`` (trigger ``manual`` or ``auto``), sized from the transcript.
- UserPromptSubmit, Stop, SubagentStop: bookkeeping for the per-task tool-call count.

Folders: the file paths of Read/Edit/Write/MultiEdit/NotebookEdit inputs are cut to their first
``folder_depth`` folders inside the project (``src/api``; `task_folder`), remembered per task in
the session state (since the user's prompt, or for a subagent's task), and a terminal
``skill_execution`` carries those touched so far as ``folders`` (through the privacy guard, as
every field), for skill recommendations. File names and contents are never kept.

Only names, ids, outcomes, folders and numbers are kept: never tool inputs, prompts or
outputs. The hook
exits 0 and prints nothing, whatever happens (errors are counted in ``hook-status.json`` and in
the SDK's status file for ``doctor``; ``AI_TELEMETRY_RAISE=1`` re-raises them, for tests),
except when it blocks a call.

It never waits long: each lock (the session's state, the log's writers' lock) is waited for at
most ``lock_wait`` seconds. A session state still locked after that is skipped for this call
(its events are written without the Pre/Post pairing and the tool-call count); a log that
cannot be written (locked, full, read-only) has the events kept in the hook spool
(`ai_telemetry.collect.claude_code.hook_spool`) and written later. Both are counted where
``doctor`` shows them. A transcript is read only when it is a regular file, at most its last
256 KiB, and never while the session's lock is held.

It runs on every tool call, so it imports only the sink's modules, and those only once it has
an event to write.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import suppress
from pathlib import Path

from ai_telemetry.collect.claude_code.hook_state import StateUnavailable

# Every import here is paid on every Claude Code tool call: `typing`, `collections.abc` and
# `orjson` (whose own start-up imports dataclasses, uuid and json) stay out.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import IO, Any

    from ai_telemetry.config import Settings

AGENT_TOOLS = frozenset({"Agent", "Task"})
SKILL_TOOL = "Skill"
MAIN_TASK = "main"
STATUS_FILE = "hook-status.json"
STATE_DIR = "hook-state"
_NAME_MAX = 200
CLEAN_VALUES_FILE = "clean-values.json"
CLEAN_VALUES_MAX = 2000
FILE_TOOLS = frozenset({"Read", "Edit", "Write", "MultiEdit", "NotebookEdit"})
"""Tools whose ``file_path`` (``notebook_path``) says which folder a task works in."""
FOLDER_DEPTH = 2
"""Path components kept of each folder by default (``src/api``); 0 records none."""
FOLDERS_MAX = 16
"""Distinct folders remembered per task (the rest are not recorded)."""
LOCK_WAIT = 0.15
"""Seconds an in-process hook waits for each lock before it skips or spools (the budget)."""


def run_hook(
    argv: list[str],
    *,
    stdin: IO[bytes] | None = None,
    stderr: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | None = None,
    clock: Callable[[], float] = time.time,
    request_id: str | None = None,
    lock_wait: float = LOCK_WAIT,
    replay_spool: bool = True,
) -> int:
    """Handle one Claude Code hook event; return the process exit code.

    Args:
        argv: arguments after ``hook`` (unused; accepted so future options do not break).
        stdin: where the hook JSON comes from (default: the process's stdin).
        stderr: where a block reason goes (default: the process's stderr).
        environ: environment (default ``os.environ``).
        cwd: the hook's working directory, the project when ``CLAUDE_PROJECT_DIR`` is unset
            (default: this process's; the hook daemon passes its client's).
        clock: Unix time in seconds.
        request_id: the request's id (`hook_client.new_request_id`): names the spool file of
            events whose write fails (default: a new one).
        lock_wait: seconds to wait for each lock (session state, log).
        replay_spool: afterwards, write what earlier calls left in the spool (the in-process
            hook; the daemon replays on its own).

    Returns:
        0, or 2 when the tool-call limit blocks a PreToolUse.
    """
    del argv
    env = os.environ if environ is None else environ
    code = 0
    spooled = False
    try:
        raw = (stdin if stdin is not None else sys.stdin.buffer).read()
        code, spooled = _handle(
            raw,
            env=env,
            cwd=cwd,
            now=clock(),
            stderr=stderr or sys.stderr,
            request_id=request_id,
            lock_wait=lock_wait,
        )
    except Exception as exc:
        if _raising(env):
            raise
        _record_failure(exc, env=env, cwd=cwd, now=clock())
    if replay_spool and not spooled:  # a log that just refused us will refuse the spool too
        replay_spool_of(env, lock_wait=lock_wait)
    return code


def _raising(env: Mapping[str, str]) -> bool:
    return env.get("AI_TELEMETRY_RAISE", "") not in ("", "0")


def replay_spool_of(env: Mapping[str, str], *, lock_wait: float, budget: float = 0.2) -> int:
    """Write what waits in the spool of this environment, for about ``budget`` s; never raise.

    Each lock is waited for at most ``lock_wait`` s (and never more than 0.05 s: this runs in
    a hook call, after its own work).
    """
    try:
        from ai_telemetry.collect.claude_code.hook_client import spool_dir
        from ai_telemetry.collect.claude_code.hook_spool import replay

        wait = min(lock_wait, 0.05)
        return replay(
            spool_dir(env),
            lambda name, data: replay_file(name, data, lock_wait=wait),
            stop_after=budget,
        )
    except Exception:
        if _raising(env):
            raise
        return 0


def replay_file(name: str, data: bytes, *, lock_wait: float) -> bool:
    """Handle one spool file: True when it is done (written, or not ours), False to keep it."""
    from ai_telemetry.collect.claude_code.hook_spool import EVENTS_SUFFIX, decode_frame

    if name.endswith(EVENTS_SUFFIX):
        try:
            kept = json.loads(data)
            env, cwd, events = kept["env"], kept["cwd"], kept["events"]
            from ai_telemetry.config import load_settings

            settings = load_settings(environ=env, cwd=_project_dir(env, cwd or None))
        except Exception:  # not one of ours, or its settings broke meanwhile: drop it
            return True
        from ai_telemetry.errors import LogError

        try:
            _write(events, settings, lock_wait=lock_wait, env=env)
        except LogError:
            return False  # still cannot be written: keep it, try again later
        except Exception:
            return True
        return True
    request = decode_frame(data)
    if request is None:
        return True
    unix = request.unix_ns / 1e9 if request.unix_ns else time.time()
    run_hook(
        [],
        stdin=_bytes_io(request.payload),
        stderr=_null_text(),
        environ=request.env,
        cwd=request.cwd or None,
        clock=lambda: unix,
        request_id=request.request_id or None,
        lock_wait=lock_wait,
        replay_spool=False,
    )
    return True


def _bytes_io(data: bytes) -> IO[bytes]:
    from io import BytesIO

    return BytesIO(data)


def _null_text() -> IO[str]:
    from io import StringIO

    return StringIO()


def _project_dir(env: Mapping[str, str], cwd: str | None = None) -> Path:
    return Path(env.get("CLAUDE_PROJECT_DIR") or cwd or Path.cwd())


def _handle(
    raw: bytes,
    *,
    env: Mapping[str, str],
    cwd: str | None,
    now: float,
    stderr: IO[str],
    request_id: str | None = None,
    lock_wait: float = LOCK_WAIT,
) -> tuple[int, bool]:
    """The hook's work: (exit code, whether its events went to the spool)."""
    from ai_telemetry.config import load_settings

    payload = json.loads(raw) if raw.strip() else {}
    if not isinstance(payload, dict):
        return 0, False
    settings = load_settings(environ=env, cwd=_project_dir(env, cwd))
    if not settings.enabled:
        return 0, False
    hook = HookEvent(payload, now=now)
    hook.root = str(_project_dir(env, cwd))
    hook.home = env.get("HOME") or ""
    hook.folder_depth = folder_depth(env, settings)
    state_dir = settings.telemetry_dir / STATE_DIR
    events, block_reason = hook.process(
        state_dir, limit=settings.tool_call_limit, lock_wait=lock_wait
    )
    problem = hook.state_problem
    if problem is not None:
        if problem.locked:
            from ai_telemetry.collect.claude_code.hook_spool import note_problem

            note_problem(env, _log_key(settings), "hook_state_locked", f"hook: {problem}")
        elif _raising(env):
            raise problem
        else:
            cause = problem.__cause__
            failure = cause if isinstance(cause, Exception) else problem
            _record_failure(failure, env=env, cwd=cwd, now=now)
    spooled = False
    if events:
        from ai_telemetry.errors import LogError

        try:
            _write(events, settings, lock_wait=lock_wait, env=env)
        except LogError as exc:
            if _raising(env):
                raise
            _spool(events, exc, settings=settings, env=env, cwd=cwd, request_id=request_id)
            spooled = True
    if block_reason:
        stderr.write(block_reason + "\n")
        stderr.flush()
        return 2, spooled
    return 0, spooled


def folder_depth(env: Mapping[str, str], settings: Settings) -> int:
    """``AI_TELEMETRY_FOLDER_DEPTH``, else ``[hook] folder_depth`` of config.toml, else 2.

    A value that is not a whole number from 0 to 8 falls back to the default: the hook never
    fails on its configuration.
    """
    raw: object = env.get("AI_TELEMETRY_FOLDER_DEPTH")
    if raw in (None, ""):
        table = settings.extra.get("hook")
        raw = table.get("folder_depth") if isinstance(table, dict) else None
    if raw is None or isinstance(raw, bool):
        return FOLDER_DEPTH
    try:
        depth = int(str(raw))
    except ValueError:
        return FOLDER_DEPTH
    return depth if 0 <= depth <= 8 else FOLDER_DEPTH


def task_folder(path: object, root: str, depth: int) -> str | None:
    """The first ``depth`` folders of a file path inside the project (``src/api``), or None.

    Only folders are kept, never the file's name; a path outside the project (absolute
    elsewhere, or climbing out with ``..``) gives None. A file at the project's top is ``.``.
    """
    if not isinstance(path, str) or not path or len(path) > 4096 or depth <= 0:
        return None
    if Path(path).is_absolute():
        try:
            path = os.path.relpath(path, root)
        except ValueError:
            return None
    parts = [p for p in os.path.normpath(path).replace(os.sep, "/").split("/") if p]
    if not parts or parts[0] == ".." or parts[0].startswith("~"):
        return None
    folders = parts[:-1][:depth]
    return "/".join(folders) if folders else "."


def _log_key(settings: Settings) -> str:
    """The log path as doctor matches status lines to it."""
    try:
        return str(settings.log_path.resolve())
    except OSError:
        return str(settings.log_path)


def _spool(
    events: list[dict[str, Any]],
    exc: Exception,
    *,
    settings: Settings,
    env: Mapping[str, str],
    cwd: str | None,
    request_id: str | None,
) -> None:
    """Keep events the log refused in the spool, and say so in one line where doctor looks."""
    from ai_telemetry.collect.claude_code.hook_client import new_request_id
    from ai_telemetry.collect.claude_code.hook_spool import note_problem, spool_events

    where = spool_events(env, cwd, request_id or new_request_id(time.time_ns()), events)
    n = len(events)
    if where is not None:
        note_problem(
            env,
            _log_key(settings),
            "hook_spooled",
            f"hook: {exc}; {n} event(s) kept in {where}, written once the log can be",
            count=n,
        )
    else:
        note_problem(
            env,
            _log_key(settings),
            "write_failed",
            f"hook: {exc}; {n} event(s) lost: the spool cannot be written either",
            count=n,
        )


def _write(
    events: list[dict[str, Any]],
    settings: Settings,
    *,
    lock_wait: float,
    env: Mapping[str, str],
) -> None:
    """Write through the sink, waiting at most ``lock_wait`` s for the writers' lock.

    Raises:
        LogError: the log cannot be written (locked by another process, full, read-only).
    """
    from ai_telemetry import __version__
    from ai_telemetry.events.privacy import DETECTOR_VERSION
    from ai_telemetry.log.sink import LogSink

    if settings.durability == "buffered":
        settings = settings.replace(durability="write")
    # Values an earlier hook process already found clean (tool names, session ids...): with
    # them the privacy guard compiles its detectors only for a value it has not seen yet. The
    # cache is the user's (state directory), never the project's: a repository that committed
    # one could otherwise whitelist values the guard would redact.
    from ai_telemetry.collect.claude_code.hook_client import state_base

    cache = Path(state_base(env)) / CLEAN_VALUES_FILE
    key = f"{__version__}+detectors.{DETECTOR_VERSION}"  # new detectors: scan everything again
    known = _read_clean_values(cache, key)
    # Forwarding to a team server (claude-code install --server): the events also (or only)
    # go to the forward spool, which the hook daemon ships; the same ids in both places.
    from ai_telemetry.collect.claude_code.forward import read_config, spool_log

    targets = [settings]
    forward = read_config(env)
    if forward is not None:
        from ai_telemetry.events.schema import new_event_id

        for event in events:
            if "event_id" not in event:
                event["event_id"] = new_event_id()
        spool = settings.replace(log_path=Path(spool_log(env)))
        # The spool first: if the project's log then fails, the replay writes both again and
        # the server drops the copy by id; the other order would double the project's log.
        targets = [spool] if forward.only else [spool, settings]
    seen = known
    for target in targets:
        # No log spool: what the log refuses (locked, full) goes to the hook spool, in the
        # state directory, which the hook daemon replays every second (docs/log.md, "Spools").
        sink = LogSink(
            target,
            source="hook",
            fast_json=False,
            known_clean=seen,
            lock_timeout=lock_wait,
            spool=False,
        )
        try:
            sink.write(events)
        finally:
            sink.close()
        seen = sink.guard.known_clean
    if not seen <= known:
        _save_clean_values(cache, key, seen)


def _read_clean_values(path: Path, version: str) -> frozenset[str]:
    from ai_telemetry.log.files import read_bytes

    try:
        data = json.loads(read_bytes(path))  # never through a link (to /dev/zero, say)
    except (OSError, ValueError):
        return frozenset()
    if not isinstance(data, dict) or data.get("version") != version:
        return frozenset()  # detectors may have changed: scan everything again
    values = data.get("values")
    return (
        frozenset(v for v in values if isinstance(v, str))
        if isinstance(values, list)
        else frozenset()
    )


def _save_clean_values(path: Path, version: str, values: frozenset[str]) -> None:
    """Atomically replace the cache (bounded; a lost concurrent update only costs a rescan)."""
    kept = sorted(values)[:CLEAN_VALUES_MAX]
    tmp = path.with_name(f".{path.name}.{_writer_id()}.tmp")
    try:
        from ai_telemetry.log.files import open_file, own_directory

        own_directory(path.parent)
        with open_file(tmp, "w", encoding="utf-8") as handle:
            handle.write(json.dumps({"version": version, "values": kept}))
        tmp.replace(path)
    except OSError:
        with suppress(OSError):  # NotADirectoryError, a full disk: no temp file left behind
            tmp.unlink(missing_ok=True)


def _writer_id() -> str:
    """Process and thread: temp file names unique even among the hook daemon's threads."""
    from _thread import get_ident  # a builtin module: free, unlike `threading`

    return f"{os.getpid()}.{get_ident()}"


_READ_FIELDS = (
    "hook_event_name",
    "session_id",
    "agent_id",
    "transcript_path",
    "reason",
    "tool_name",
    "tool_use_id",
    "duration_ms",
    "is_interrupt",
    "trigger",
)
_READ_INPUT = ("skill", "subagent_type", "file_path", "notebook_path")
_READ_RESPONSE = (
    "commandName",
    "status",
    "agentType",
    "totalDurationMs",
    "totalTokens",
    "usage",
    "totalToolUseCount",
    "agentId",
)


def reduce_payload(raw: bytes) -> bytes:
    """The hook JSON with only the fields `HookEvent` reads (what the daemon spools).

    Tool inputs and responses can be large and private (a file read, a shell command): the
    spool keeps none of that. Anything that is not a JSON object is kept as it is, so the hook
    still records it as bad input.
    """
    try:
        payload = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(payload, dict):
        return raw
    kept = {k: payload[k] for k in _READ_FIELDS if k in payload}
    tool_input = payload.get("tool_input")
    if isinstance(tool_input, dict):
        names = (*_READ_INPUT, "command") if payload.get("tool_name") == SKILL_TOOL else _READ_INPUT
        kept["tool_input"] = {k: tool_input[k] for k in names if k in tool_input}
    response = payload.get("tool_response")
    if isinstance(response, dict):
        kept["tool_response"] = {k: response[k] for k in _READ_RESPONSE if k in response}
    return json.dumps(kept, separators=(",", ":")).encode()


def _name(value: object) -> str | None:
    """A short non-empty string, or None (names only: never free text from inputs)."""
    if isinstance(value, str) and value and len(value) <= _NAME_MAX:
        return value
    return None


def _count(value: object) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def mcp_server(tool: str) -> str | None:
    """The server of an MCP tool named ``mcp__<server>__<tool>``, else None."""
    if not tool.startswith("mcp__"):
        return None
    server, sep, _ = tool[5:].partition("__")
    return server if sep and server else None


class HookEvent:
    """One hook payload and what it becomes.

    Args:
        payload: the JSON object Claude Code sent.
        now: Unix time of the event.
    """

    def __init__(self, payload: Mapping[str, Any], *, now: float) -> None:
        from ai_telemetry.events.schema import timestamp_from_unix

        self.payload = payload
        self.now = now
        self.name = str(payload.get("hook_event_name") or "")
        self.session_id = _name(payload.get("session_id"))
        self.agent_id = _name(payload.get("agent_id"))
        self.timestamp = timestamp_from_unix(now)
        self.state_problem: StateUnavailable | None = None
        self.context: tuple[int | None, str | None] = (None, None)
        self.root = ""
        self.home = ""
        self.folder_depth = FOLDER_DEPTH

    def base(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """An event of this hook call: timestamp, session, task, and ``fields``."""
        event: dict[str, Any] = {"event_type": event_type, "timestamp": self.timestamp}
        if self.session_id:
            event["session_id"] = self.session_id
        if self.agent_id:
            event["task_id"] = self.agent_id
        event.update((k, v) for k, v in fields.items() if v is not None)
        return event

    def process(
        self, state_dir: Path, *, limit: int | None, lock_wait: float = LOCK_WAIT
    ) -> tuple[list[dict[str, Any]], str]:
        """Update the session state; return (events to write, block reason or "").

        A state that cannot be had within ``lock_wait`` seconds (or at all) is skipped: the
        handler runs on an empty one and `state_problem` says why.
        """
        handler = _HANDLERS.get(self.name)
        if handler is None:
            return [], ""
        if self.name == "PreCompact":  # before the session lock: a slow read holds nobody up
            self.context = _last_context(self.payload.get("transcript_path"))
        if self.session_id is None:
            return handler(self, {}, limit)
        from ai_telemetry.collect.claude_code.hook_state import locked_state, state_path

        try:
            with locked_state(
                state_path(state_dir, self.session_id), now=self.now, timeout=lock_wait
            ) as state:
                return handler(self, state, limit)
        except StateUnavailable as exc:
            self.state_problem = exc
            return handler(self, {}, limit)

    # --- handlers: (state, limit) -> (events, block reason) -----------------------------

    def _task_key(self) -> str:
        return self.agent_id or MAIN_TASK

    def session_start(self, state: dict[str, Any], _: int | None) -> _Result:
        if "t0" in state:  # resumed, cleared or compacted: the same session goes on
            return [], ""
        state["t0"] = self.now
        if not self.session_id:
            return [], ""
        from ai_telemetry.collect.claude_code.ids import session_event_id

        return [
            self.base("session_start", event_id=session_event_id(self.session_id, "session_start"))
        ], ""

    def session_end(self, state: dict[str, Any], _: int | None) -> _Result:
        t0 = state.get("t0")
        state["_delete"] = True
        if not self.session_id:
            return [], ""
        from ai_telemetry.collect.claude_code.ids import session_event_id

        duration = round(self.now - t0, 3) if isinstance(t0, int | float) else None
        event = self.base(
            "session_end",
            event_id=session_event_id(self.session_id, "session_end"),
            duration_seconds=duration if duration is None or duration >= 0 else None,
            reason=_name(self.payload.get("reason")),
        )
        return [event], ""

    def user_prompt(self, state: dict[str, Any], _: int | None) -> _Result:
        for key in ("n", "f"):  # a new prompt: a new task for the main agent
            table = state.get(key)
            if isinstance(table, dict):
                table.pop(MAIN_TASK, None)
        hit = state.get("hit")
        if isinstance(hit, list) and MAIN_TASK in hit:
            hit.remove(MAIN_TASK)
        return [], ""

    def subagent_stop(self, state: dict[str, Any], _: int | None) -> _Result:
        if self.agent_id:
            for key in ("n", "f"):
                table = state.get(key)
                if isinstance(table, dict):
                    table.pop(self.agent_id, None)
            hit = state.get("hit")
            if isinstance(hit, list) and self.agent_id in hit:
                hit.remove(self.agent_id)
        return [], ""

    def pre_tool(self, state: dict[str, Any], limit: int | None) -> _Result:
        tool = _name(self.payload.get("tool_name"))
        if tool is None:
            return [], ""
        task = self._task_key()
        counts = state.setdefault("n", {})
        done = counts.get(task, 0) if isinstance(counts.get(task), int) else 0
        if limit is not None and done >= limit:
            events: list[dict[str, Any]] = []
            hit = state.setdefault("hit", [])
            if task not in hit:
                hit.append(task)
                events.append(self.base("tool_call_limit_reached", limit=limit, tool_calls=done))
            scope = "this subagent task" if self.agent_id else "this task (since the last prompt)"
            reason = (
                f"ai-telemetry: tool-call limit reached: {done} tool calls in {scope}, limit "
                f"{limit}. Stop and summarise progress for the user instead of calling more "
                "tools. (Raise or unset AI_TELEMETRY_TOOL_CALL_LIMIT / tool_call_limit to change.)"
            )
            return events, reason
        counts[task] = done + 1
        if tool in FILE_TOOLS and self.folder_depth:
            self._note_folder(state, task)
        tool_use_id = _name(self.payload.get("tool_use_id"))
        if tool_use_id:
            state.setdefault("p", {})[tool_use_id] = self.now
        return self._open_execution(tool), ""

    def _note_folder(self, state: dict[str, Any], task: str) -> None:
        tool_input = self.payload.get("tool_input")
        if not isinstance(tool_input, dict):
            return
        path = tool_input.get("file_path") or tool_input.get("notebook_path")
        folder = task_folder(path, self.root or str(Path.cwd()), self.folder_depth)
        if folder is None:
            return
        table = state.setdefault("f", {})
        if not isinstance(table, dict):
            return
        seen = table.setdefault(task, [])
        if isinstance(seen, list) and folder not in seen and len(seen) < FOLDERS_MAX:
            seen.append(folder)

    def _folders(self, state: dict[str, Any]) -> str | None:
        table = state.get("f")
        seen = table.get(self._task_key()) if isinstance(table, dict) else None
        if not isinstance(seen, list) or not seen:
            return None
        return ",".join(sorted(str(f) for f in seen))[:1000] or None

    def _open_execution(self, tool: str) -> list[dict[str, Any]]:
        tool_input = self.payload.get("tool_input")
        tool_input = tool_input if isinstance(tool_input, dict) else {}
        if tool == SKILL_TOOL:
            skill = _name(tool_input.get("skill")) or _name(tool_input.get("command"))
            if skill:
                return [self.base("skill_execution", skill=skill, outcome="started")]
        elif tool in AGENT_TOOLS:
            agent = _name(tool_input.get("subagent_type")) or "general-purpose"
            return [self.base("agent_task", agent=agent, agent_type=agent, outcome="started")]
        return []

    def post_tool(self, state: dict[str, Any], _: int | None) -> _Result:
        tool = _name(self.payload.get("tool_name"))
        if tool is None:
            return [], ""
        failed = self.name == "PostToolUseFailure"
        tool_use_id = _name(self.payload.get("tool_use_id"))
        pending = state.get("p")
        started = (
            pending.pop(tool_use_id, None) if tool_use_id and isinstance(pending, dict) else None
        )
        duration: float | None = None
        duration_ms = self.payload.get("duration_ms")
        if (
            isinstance(duration_ms, int | float)
            and not isinstance(duration_ms, bool)
            and duration_ms >= 0
        ):
            duration = duration_ms / 1000
        elif isinstance(started, int | float) and self.now >= started:
            duration = self.now - started
        if duration is not None:
            duration = round(duration, 6)
        outcome = "error" if failed else "success"
        events = [
            self.base(
                "tool_call",
                tool=tool,
                outcome=outcome,
                duration_seconds=duration,
                mcp_server=mcp_server(tool),
                error_type="interrupted"
                if failed and self.payload.get("is_interrupt") is True
                else None,
            )
        ]
        events.extend(self._close_execution(tool, outcome, duration, self._folders(state)))
        return events, ""

    def _close_execution(
        self, tool: str, outcome: str, duration: float | None, folders: str | None = None
    ) -> list[dict[str, Any]]:
        tool_input = self.payload.get("tool_input")
        tool_input = tool_input if isinstance(tool_input, dict) else {}
        response = self.payload.get("tool_response")
        response = response if isinstance(response, dict) else {}
        if tool == SKILL_TOOL:
            skill = (
                _name(tool_input.get("skill"))
                or _name(tool_input.get("command"))
                or _name(response.get("commandName"))
            )
            if not skill:
                return []
            version = None
            if self.root:  # on this machine (not the http hook, whose files are elsewhere)
                from ai_telemetry.collect.skill_version import installed_version

                version = installed_version(
                    skill, project=Path(self.root), home=Path(self.home) if self.home else None
                )
            return [
                self.base(
                    "skill_execution",
                    skill=skill,
                    skill_version=version,
                    outcome=outcome,
                    duration_seconds=duration,
                    folders=folders,
                )
            ]
        if tool not in AGENT_TOOLS:
            return []
        status = response.get("status")
        if status in ("async_launched", "running", "started"):
            return []  # a background agent: it has not finished yet
        if (
            outcome == "success"
            and isinstance(status, str)
            and status not in ("completed", "success")
        ):
            outcome = "error"
        agent = (
            _name(tool_input.get("subagent_type"))
            or _name(response.get("agentType"))
            or "general-purpose"
        )
        total_ms = _count(response.get("totalDurationMs"))
        tokens = _count(response.get("totalTokens"))
        usage = response.get("usage")
        if tokens is None and isinstance(usage, dict):
            parts = [
                _count(usage.get(k))
                for k in (
                    "input_tokens",
                    "output_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                )
            ]
            tokens = (
                sum(p for p in parts if p is not None)
                if any(p is not None for p in parts)
                else None
            )
        event = self.base(
            "agent_task",
            agent=agent,
            agent_type=agent,
            outcome=outcome,
            duration_seconds=total_ms / 1000 if total_ms is not None else duration,
            tool_calls=_count(response.get("totalToolUseCount")),
            total_tokens=tokens,
        )
        agent_id = _name(response.get("agentId"))
        if agent_id:
            event["task_id"] = agent_id
        return [event]

    def pre_compact(self, state: dict[str, Any], _: int | None) -> _Result:
        trigger = self.payload.get("trigger")
        trigger = trigger if trigger in ("manual", "auto") else "compact"
        tokens, model = self.context
        window = None
        if model:
            from ai_telemetry.collect.claude_code.pricing import context_window

            window = context_window(model, used_tokens=tokens or 0)
        return [
            self.base(
                "context_snapshot",
                trigger=trigger,
                context_tokens=tokens,
                context_window=window,
                model=model,
            )
        ], ""


if TYPE_CHECKING:
    _Result = tuple[list[dict[str, Any]], str]
    _Handler = Callable[[HookEvent, dict[str, Any], int | None], _Result]

_HANDLERS: dict[str, _Handler] = {
    "SessionStart": HookEvent.session_start,
    "SessionEnd": HookEvent.session_end,
    "UserPromptSubmit": HookEvent.user_prompt,
    "PreToolUse": HookEvent.pre_tool,
    "PostToolUse": HookEvent.post_tool,
    "PostToolUseFailure": HookEvent.post_tool,
    "SubagentStop": HookEvent.subagent_stop,
    "PreCompact": HookEvent.pre_compact,
}
"""Hook event name -> handler. Stop and unknown events write nothing."""

_TAIL_BYTES = 256 * 1024


def _last_context(transcript_path: object) -> tuple[int | None, str | None]:
    """(context tokens, model) of the last main-chain response in a transcript, if readable.

    Only a regular file is read (a FIFO would block, ``/dev/zero`` never ends), opened
    non-blocking, and only its last `_TAIL_BYTES`.
    """
    if not isinstance(transcript_path, str) or not transcript_path or "\0" in transcript_path:
        return None, None
    import stat

    try:
        fd = os.open(
            os.path.expanduser(transcript_path),  # noqa: PTH111 - no pathlib needed here
            os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC,
        )
    except OSError:
        return None, None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, None
        size = info.st_size
        lines = os.pread(fd, min(size, _TAIL_BYTES), max(0, size - _TAIL_BYTES)).splitlines()
    except OSError:
        return None, None
    finally:
        os.close(fd)
    for line in reversed(lines):
        if b'"usage"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        message = record.get("message") if isinstance(record, dict) else None
        if record.get("isSidechain") or not isinstance(message, dict):
            continue
        usage = message.get("usage")
        if not isinstance(usage, dict):
            continue
        tokens = sum(
            _count(usage.get(k)) or 0
            for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        return tokens, _name(message.get("model"))
    return None, None


def _record_failure(
    exc: BaseException, *, env: Mapping[str, str], cwd: str | None = None, now: float
) -> None:
    """Count a swallowed error in ``hook-status.json`` (for ``doctor``); never raise.

    Always in the SDK's status file in the state directory too. ``hook-status.json`` goes in
    the telemetry directory only when the user chose it (``AI_TELEMETRY_DIR`` or
    ``AI_TELEMETRY_LOG_PATH`` in their environment) or it stays inside the project: a
    repository that commits ``.claude/Telemetry`` as a symlink to ``~`` gets no file there
    (the same rule as `ai_telemetry.config.load_settings`, which refuses such a folder). It is
    read and written without following a symlink (`ai_telemetry.log.files`).
    """
    try:
        project = _project_dir(env, cwd)
        chosen = env.get("AI_TELEMETRY_DIR") or (
            (os.path.dirname(env["AI_TELEMETRY_LOG_PATH"]) or ".")  # noqa: PTH120
            if env.get("AI_TELEMETRY_LOG_PATH")
            else ""
        )
        directory = Path(chosen or project / ".claude/Telemetry")
        if not directory.is_absolute():
            directory = project / directory
    except Exception:
        return
    # Where the SDK's status goes (the state directory): a full or read-only telemetry
    # directory, the usual reason for the failure, cannot hold hook-status.json.
    from ai_telemetry.collect.claude_code.hook_spool import note_problem

    note_problem(env, str(directory / "events.jsonl"), "hook_error", _one_line(exc))
    try:
        from ai_telemetry.config import _inside

        if not chosen and not _inside(directory, project):
            return  # a repository's symlinked folder: the status file above says it all
        _write_status(directory, exc, now)
    except Exception:  # noqa: S110 - counting a failure must never fail the hook
        pass


def _write_status(directory: Path, exc: BaseException, now: float) -> None:
    """Bump the counters of ``directory/hook-status.json`` (temp file, then rename)."""
    from ai_telemetry.log.files import open_file, read_bytes

    path = directory / STATUS_FILE
    try:
        status = json.loads(read_bytes(path))
        if not isinstance(status, dict):
            status = {}
    except (OSError, ValueError):
        status = {}
    errors = status.get("errors")
    status["errors"] = (errors if isinstance(errors, int) else 0) + 1
    status["last_error"] = type(exc).__name__  # the type only: messages may hold data
    status["last_error_unix"] = now
    tmp = path.with_name(f".{STATUS_FILE}.{_writer_id()}.tmp")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with open_file(tmp, "w", encoding="utf-8") as handle:  # O_NOFOLLOW: no planted link
            handle.write(json.dumps(status))
        tmp.replace(path)  # a rename replaces a planted link, never writes through it
    except Exception:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def _one_line(exc: BaseException) -> str:
    """The failure in one line: its type, and the OS's reason (never the payload's text)."""
    name = type(exc).__name__
    if isinstance(exc, OSError):
        where = f" on {exc.filename}" if exc.filename else ""
        return f"hook: {name}{where}: {exc.strerror or exc}"
    from ai_telemetry.errors import ConfigError, LogError

    if isinstance(exc, ConfigError | LogError):  # these name a file and a fix, never data
        return f"hook: {name}: {exc}"
    return f"hook: {name} (reproduce with AI_TELEMETRY_RAISE=1 ai-telemetry hook < payload)"
