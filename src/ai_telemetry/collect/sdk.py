"""The instrumentation SDK: the seed's Data Collection 4 and 5.

Everything here runs inside someone else's process, so it never raises into the host and never
blocks it: a failure (a full disk, a read-only log, an invalid event) is counted, remembered in a
small status file that ``ai-telemetry doctor`` reads, and the host goes on.

The hot path is kept to a few hundred nanoseconds. In the default ``buffered`` durability mode
a call appends one tuple to a deque and returns; a background thread (started on first use)
turns the tuples into events, scrubs, validates and appends them at least every
``flush_interval`` seconds and at exit. In ``write`` and ``fsync`` modes the same work happens
before the call returns. Choices are made once, when the client is built, not per event.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import functools
import inspect
import os
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, ParamSpec, TypeVar, cast

from ai_telemetry.config import Settings, load_settings
from ai_telemetry.events.schema import format_timestamp, timestamp_from_unix

P = ParamSpec("P")
R = TypeVar("R")

_MAX_PENDING: Final = 100_000
"""Events kept in memory while the log cannot be written; older ones are counted as dropped."""

_WAKE_AT: Final = 10_000
"""Pending events that wake the flush thread early (once, when the buffer reaches it)."""

_current_task: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ai_telemetry_task", default=None
)
_current_session: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ai_telemetry_session", default=None
)

# Pending record shapes (tuples: cheap to build on the hot path).
_TOOL: Final = 0  # (_TOOL, wall_end, duration, tool, outcome, error_type, task_id, session_id)
_RAW: Final = 1  # (_RAW, event_dict)


@dataclass(slots=True)
class SdkStats:
    """What the client did, for ``doctor`` and tests."""

    recorded: int = 0
    written: int = 0
    rejected: int = 0
    write_failures: int = 0
    dropped: int = 0
    spooled: int = 0
    """Of ``written``, events left in the log's spool: another process held the log's lock
    longer than `ai_telemetry.log.sink.DEFAULT_LOCK_TIMEOUT`; the next writer appends them."""
    last_error: str = ""


def state_dir() -> Path:
    """Where the SDK and hooks leave their status for ``doctor``: outside the log's directory,
    so a read-only or full telemetry directory can still be reported."""
    explicit = os.environ.get("AI_TELEMETRY_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ai-telemetry"


class Telemetry:
    """An SDK client bound to one log.

    Args:
        settings: resolved settings (see `ai_telemetry.config.load_settings`).
        raise_errors: re-raise what would be swallowed (for tests only).
        clock: wall clock in Unix seconds (injected by tests).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        raise_errors: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.enabled = settings.enabled
        self.stats = SdkStats()
        self._raise = raise_errors
        self._clock = clock
        self._buffered = settings.durability == "buffered"
        self._pending: deque[tuple[Any, ...]] = deque()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._sink: Any = None  # LogSink, imported on first flush to keep `import` cheap
        self._encoder: Any = None  # ToolCallEncoder, likewise

    # -- hot path ----------------------------------------------------------------------------

    def record_tool_call(
        self, tool: str, outcome: str, duration: float, exc: BaseException | None = None
    ) -> None:
        """Record one tool call that just ended (called by `track_tool_call`). Never raises."""
        try:
            self._add(
                (
                    _TOOL,
                    self._clock(),
                    duration,
                    tool,
                    outcome,
                    None if exc is None else type(exc).__name__,
                    _current_task.get(),
                    _current_session.get(),
                )
            )
        except Exception:
            if self._raise:
                raise

    def log_event(self, event_type: str, fields: Mapping[str, Any]) -> None:
        """Record one event; ``timestamp`` defaults to now (UTC)."""
        event = dict(fields)
        event["event_type"] = event_type
        stamp = event.get("timestamp")
        if stamp is None:
            event["timestamp"] = timestamp_from_unix(self._clock())
        elif isinstance(stamp, datetime):
            event["timestamp"] = format_timestamp(stamp)
        if "task_id" not in event and (task := _current_task.get()) is not None:
            event["task_id"] = task
        if "session_id" not in event and (session := _current_session.get()) is not None:
            event["session_id"] = session
        self._add((_RAW, event))

    def _add(self, item: tuple[Any, ...]) -> None:
        if not self.enabled:
            return
        self.stats.recorded += 1
        self._pending.append(item)
        if self._buffered:
            if self._thread is None:
                self._start_thread()
            elif len(self._pending) == _WAKE_AT:
                self._wake.set()
        else:
            self.flush()

    # -- flushing ----------------------------------------------------------------------------

    def _start_thread(self) -> None:
        with self._flush_lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._run, name="ai-telemetry-flush", daemon=True)
            self._thread = thread
            thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.settings.flush_interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write everything pending. Never raises (unless ``raise_errors``)."""
        with self._flush_lock:
            if not self._pending:
                return
            items: list[tuple[Any, ...]] = []
            pending = self._pending
            while True:
                try:
                    items.append(pending.popleft())
                except IndexError:
                    break
            try:
                self._write(items)
            except Exception as exc:
                self._failed(items, exc)

    def _write(self, items: list[tuple[Any, ...]]) -> None:
        """Tool calls through the fast encoder, other events through the sink; one append each."""
        if self._sink is None:
            from ai_telemetry.collect.tool_lines import ToolCallEncoder
            from ai_telemetry.log.sink import LogSink

            self._sink = LogSink(self.settings, source="sdk")
            self._encoder = ToolCallEncoder(self._sink)
        lines: list[bytes] = []
        raws: list[dict[str, Any]] = []
        rejected: list[str] = []
        encode = self._encoder.encode
        for item in items:
            if item[0] == _TOOL:
                line = encode(item)
                if isinstance(line, bytes):
                    lines.append(line)
                else:
                    rejected.append(line)
            else:
                raws.append(item[1])
        spooled = 0
        if raws:
            report = self._sink.write(raws)
            self.stats.written += report.written
            spooled += report.spooled
            rejected += [reason for _, reason in report.rejected]
        if lines:
            if not self._sink.log.write_lines(b"".join(lines)):
                spooled += len(lines)
            self.stats.written += len(lines)
        if spooled:
            self.stats.spooled += spooled
            self.stats.last_error = f"log locked by another process; {spooled} event(s) spooled"
            note_problem(
                self.settings,
                "log_locked",
                f"{self._sink.log.lock_path} held by another process; {spooled} event(s) kept "
                f"in {self._sink.log.path.name}.spool/, appended by the next writer",
                count=spooled,
            )
        if rejected:
            self.stats.rejected += len(rejected)
            self.stats.last_error = f"invalid event: {rejected[-1]}"
            note_problem(self.settings, "invalid_event", rejected[-1], count=len(rejected))
            if self._raise:
                from ai_telemetry.errors import EventValidationError

                raise EventValidationError("", rejected[-1])

    def _failed(self, items: list[tuple[Any, ...]], exc: Exception) -> None:
        """Keep the events for the next flush (bounded), count, and remember the failure."""
        from ai_telemetry.errors import EventValidationError

        if isinstance(exc, EventValidationError):  # raise_errors: invalid, not a failed write
            raise exc
        self.stats.write_failures += 1
        self.stats.last_error = str(exc)
        overflow = len(items) + len(self._pending) - _MAX_PENDING
        if overflow > 0:
            self.stats.dropped += overflow
            items = items[overflow:]
        self._pending.extendleft(reversed(items))
        note_problem(self.settings, "write_failed", str(exc), count=1)
        if self._raise:
            raise exc

    def close(self) -> None:
        """Flush and stop the background thread (also registered with ``atexit``)."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        try:
            self.flush()
        finally:
            if self._sink is not None:
                self._sink.close()
                self._sink = self._encoder = None

    def _after_fork_in_child(self) -> None:
        """A forked child starts with a fresh buffer and no flush thread."""
        self._pending = deque()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        self._sink = None
        self._encoder = None


def note_problem(settings: Settings, kind: str, message: str, *, count: int) -> None:
    """Append one line to the SDK status file that ``doctor`` reads. Never raises."""
    try:
        import orjson

        directory = state_dir()
        directory.mkdir(parents=True, exist_ok=True)
        line = orjson.dumps(
            {
                "timestamp": timestamp_from_unix(time.time()),
                "log_path": str(settings.log_path.resolve()),
                "kind": kind,
                "count": count,
                "message": message[:300],
                "pid": os.getpid(),
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )
        fd = os.open(directory / "sdk-status.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except Exception:  # noqa: S110 - the status file is best effort by design
        pass


# -- the default client ------------------------------------------------------------------------

_client: Telemetry | None = None
_client_lock = threading.Lock()


def get_client() -> Telemetry:
    """The process-wide client, built from the environment, ``.env`` and config on first use.

    A broken configuration disables telemetry (and is reported by ``doctor``) instead of raising.
    """
    client = _client
    if client is not None:
        return client
    with _client_lock:
        if _client is None:
            try:
                settings = load_settings()
            except Exception as exc:
                settings = Settings(enabled=False)
                note_problem(settings, "config", str(exc), count=1)
            for message in settings.refused:  # a repository's .env or config.toml
                note_problem(settings, "refused_path", message, count=1)
            _install(Telemetry(settings))
        assert _client is not None
        return _client


def configure(*, raise_errors: bool = False, **settings: Any) -> Telemetry:
    """Replace the process-wide client, e.g. ``configure(log_path=..., durability="write")``.

    Settings not given come from the environment, ``.env`` and the config file as usual.
    Unlike the rest of the SDK this raises `ConfigError` on bad values: it is called by the
    developer setting things up, not on the host's hot path.
    """
    with _client_lock:
        old = _client
        _install(Telemetry(load_settings(**settings), raise_errors=raise_errors))
    if old is not None:
        old.close()
    assert _client is not None
    return _client


def _install(client: Telemetry) -> None:
    global _client  # noqa: PLW0603 - the one process-wide default, as in logging/sentry
    _client = client


def flush() -> None:
    """Write everything the default client holds."""
    if _client is not None:
        _client.flush()


def _close_default() -> None:
    if _client is not None:
        _client.close()


def _reset_after_fork() -> None:
    if _client is not None:
        _client._after_fork_in_child()


atexit.register(_close_default)
os.register_at_fork(after_in_child=_reset_after_fork)


# -- public API --------------------------------------------------------------------------------


def log_event(event_type: str, **fields: Any) -> None:
    """Record one event of any type, e.g. ``log_event("learning_created", id=..., ...)``.

    Never raises into the caller; an invalid event is counted and shown by ``doctor``.
    """
    try:
        get_client().log_event(event_type, fields)
    except Exception:
        if _client is not None and _client._raise:
            raise


def log_session_end(skill_name: str, outcome: str, duration_seconds: float) -> None:
    """The seed's ``log_session_end``: a terminal ``skill_execution`` event."""
    log_event(
        "skill_execution", skill=skill_name, outcome=outcome, duration_seconds=duration_seconds
    )


def track_tool_call(tool_name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator recording each call as a ``tool_call`` event (outcome and duration).

    Works on plain and ``async`` functions, and on generators (sync and async: the call lasts
    until the caller has taken the last item, and fails when the iteration raises; a caller
    that stops early ends a successful call); the host's exception is re-raised untouched.
    """

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        perf = time.perf_counter
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            return cast("Callable[P, R]", _track_generator(tool_name, func))
        if asyncio.iscoroutinefunction(func):
            afunc = cast("Callable[P, Awaitable[Any]]", func)

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                client = _client or get_client()
                if not client.enabled:
                    return await afunc(*args, **kwargs)
                start = perf()
                try:
                    result = await afunc(*args, **kwargs)
                except BaseException as exc:
                    client.record_tool_call(tool_name, "error", perf() - start, exc)
                    raise
                client.record_tool_call(tool_name, "success", perf() - start)
                return result

            return cast("Callable[P, R]", async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            client = _client or get_client()
            if not client.enabled:
                return func(*args, **kwargs)
            start = perf()
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                client.record_tool_call(tool_name, "error", perf() - start, exc)
                raise
            client.record_tool_call(tool_name, "success", perf() - start)
            return result

        return wrapper

    return decorator


@contextlib.contextmanager
def _spanning_call(tool_name: str) -> Iterator[None]:
    """Record the body as one tool call: an exception escaping it makes an error, except
    ``GeneratorExit`` (the caller stopped iterating early: the call ended well)."""
    client = _client or get_client()
    start = time.perf_counter()
    outcome, failure = "success", None
    try:
        yield
    except GeneratorExit:
        raise
    except BaseException as exc:
        outcome, failure = "error", exc
        raise
    finally:
        if client.enabled:
            client.record_tool_call(tool_name, outcome, time.perf_counter() - start, failure)


def _track_generator(tool_name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`track_tool_call` for a generator function: one call spans the whole iteration."""
    if inspect.isasyncgenfunction(func):

        @functools.wraps(func)
        async def async_gen_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
            inner: AsyncGenerator[Any, Any] = func(*args, **kwargs)
            with _spanning_call(tool_name):
                try:
                    item = await inner.__anext__()
                    while True:
                        try:
                            sent = yield item
                        except GeneratorExit:
                            raise
                        except BaseException as exc:  # thrown in by the caller: pass it on
                            item = await inner.athrow(exc)
                        else:
                            item = await inner.asend(sent)
                except StopAsyncIteration:
                    pass
                except GeneratorExit:
                    await inner.aclose()  # the caller stopped early
                    raise

        return async_gen_wrapper

    @functools.wraps(func)
    def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        with _spanning_call(tool_name):
            return (yield from func(*args, **kwargs))  # send, throw and close pass through

    return gen_wrapper


class _Run:
    """A ``skill_execution`` or ``agent_task`` in progress: a context manager, sync or async.

    On entry it records ``started``; on exit the terminal outcome with the duration:
    ``success``, ``error`` when an exception escapes (re-raised untouched), or ``rollback`` /
    ``handoff`` when marked so.
    """

    __slots__ = ("_event_type", "_fields", "_name_field", "_outcome", "_start", "_token", "extra")

    def __init__(self, event_type: str, name_field: str, name: str, fields: dict[str, Any]):
        self._event_type = event_type
        self._name_field = name_field
        self._fields = {name_field: name, **{k: v for k, v in fields.items() if v is not None}}
        self._outcome: str | None = None
        self._start = 0.0
        self._token: contextvars.Token[str | None] | None = None
        self.extra: dict[str, Any] = {}

    def rollback(self) -> None:
        """Mark the run as rolled back."""
        self._outcome = "rollback"

    def handoff(self) -> None:
        """Mark the run as handed off to a human."""
        self._outcome = "handoff"

    def set(self, **fields: Any) -> None:
        """Add fields to the terminal event (e.g. ``context_tokens=18900``, ``tool_calls=12``)."""
        self.extra.update(fields)

    def __enter__(self) -> _Run:
        if self._event_type == "agent_task" and "task_id" not in self._fields:
            from ai_telemetry.events.schema import new_event_id

            self._fields["task_id"] = new_event_id()
        if "task_id" in self._fields:
            self._token = _current_task.set(self._fields["task_id"])
        log_event(self._event_type, **self._fields, outcome="started")
        self._start = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        duration = round(time.perf_counter() - self._start, 6)
        if self._token is not None:
            _current_task.reset(self._token)
        outcome = self._outcome or ("error" if exc_type is not None else "success")
        fields = {**self._fields, **self.extra}
        if exc_type is not None and outcome == "error":
            fields["error_type"] = exc_type.__name__
        log_event(self._event_type, **fields, outcome=outcome, duration_seconds=duration)

    async def __aenter__(self) -> _Run:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def skill_execution(
    skill: str,
    *,
    skill_version: str | None = None,
    session_id: str | None = None,
    context_tokens: int | None = None,
) -> _Run:
    """Context manager for one skill execution (``with`` or ``async with``)."""
    return _Run(
        "skill_execution",
        "skill",
        skill,
        {
            "skill_version": skill_version,
            "session_id": session_id,
            "context_tokens": context_tokens,
        },
    )


def agent_task(
    agent: str,
    *,
    agent_type: str | None = None,
    task_id: str | None = None,
    session_id: str | None = None,
) -> _Run:
    """Context manager for one agent task; tool calls inside it carry its ``task_id``."""
    return _Run(
        "agent_task",
        "agent",
        agent,
        {"agent_type": agent_type, "task_id": task_id, "session_id": session_id},
    )
