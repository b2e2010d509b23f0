"""The server's one writer: a thread that owns the log sink, fed by a bounded queue.

Datasette's pattern (``execute_write_fn``): every write of the server goes through one
thread, so the duplicate check and the append happen in one order, and readers (the read API,
the CLI beside the server) never wait for it: the log's writers' lock is held for the
microseconds of one append per batch, and the warehouse is not opened here at all.

Each event's privacy guard, validation and encoding (`EventWriter.prepare`) run before the
batch is queued, on the thread that parsed it (the event loop, or a worker thread for a large
batch): they depend on the event alone (and the sink's fixed policy), so where they run does
not change what they answer, and the Python work of a batch then stays on one thread instead
of two taking turns with the interpreter lock (which cost a third more CPU per event under
load). The writer thread then decides, in order, exactly as before: a duplicate id first
(whatever the guard or validation said of it), then an event the hook already recorded, then
the guard's or validation's refusal, then the append.

A batch is acknowledged (its future resolves) only after `LogSink`'s append returned, so an
HTTP 2xx means the events are in the log (durability ``write``; ``fsync`` also syncs). A batch
that cannot be written fails whole (`LogError`), and nothing of it counts as seen.

Idempotence by ``event_id``: the ids already in the log are read once at start (one regex
pass over the bytes); each accepted event adds its id. An event sent again (a client's retry,
the same OTLP record exported twice) is answered ``duplicate`` and not written.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from ai_telemetry.collect.idempotent import logged_event_ids
from ai_telemetry.collect.otlp.importer import HOOK_OVERLAP, hook_sessions
from ai_telemetry.config import Settings
from ai_telemetry.events.schema import MAX_LINE_BYTES
from ai_telemetry.log.sink import LogSink

Status = Literal["accepted", "duplicate", "rejected", "covered_by_hook"]
DEFAULT_MAX_PENDING: Final = 64
_INLINE_EVENTS: Final = 2000
"""Batches up to this many events are prepared on the event loop; larger ones on a worker
thread."""
LOCK_TIMEOUT: Final = 10.0
"""Seconds the writer waits for the log's lock (held by another process) before a batch
fails with 503."""
"""Batches waiting for the writer before the server answers 503 (Retry-After)."""


class Overloaded(Exception):
    """The writer's queue is full, or the server is shutting down: retry later."""


@dataclass(slots=True)
class Outcome:
    """What became of one event of a batch."""

    status: Status
    event_id: str | None = None
    message: str | None = None


@dataclass(slots=True)
class BatchResult:
    """The outcome of every event of one batch, in order."""

    outcomes: list[Outcome] = field(default_factory=list)
    redacted: int = 0

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


Prepared = tuple[dict[str, Any], bytes, int] | str
"""One event made ready for the log by `EventWriter.prepare`: (the event as stored, its line,
the values the guard removed), or the guard's or validation's refusal message."""


@dataclass(slots=True)
class _Job:
    events: Sequence[Mapping[str, Any]]
    prepared: list[Prepared]
    skip_hooked: bool
    future: concurrent.futures.Future[BatchResult]


def stamp_source(raw: Mapping[str, Any], *, origin: str, sender: str) -> dict[str, Any]:
    """The event with ``source`` = ``<its source, else origin>:<token name>``.

    Learning events keep theirs: their ``source`` is the learning's kind (incident, ...).
    """
    event = dict(raw)
    if str(event.get("event_type", "")).startswith("learning_"):
        return event
    own = event.get("source")
    base = own if isinstance(own, str) and own else origin
    event["source"] = f"{base}:{sender}"
    return event


class EventWriter:
    """One thread appending batches to the log through a `LogSink`.

    Args:
        settings: the log, privacy policy, durability and project (as any `LogSink`).
        max_pending: batches queued before `submit` raises `Overloaded`.
    """

    def __init__(self, settings: Settings, *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.settings = settings
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_pending)
        self._thread: threading.Thread | None = None
        self._closing = False
        self._sink: LogSink | None = None
        self._seen: set[str] = set()
        self._hooked: set[tuple[str, str]] = set()
        self._encode = orjson.dumps

    def start(self) -> None:
        """Read the ids and hook sessions already in the log, then start the thread."""
        self._seen = logged_event_ids(self.settings.log_path)
        self._hooked = hook_sessions(self.settings.log_path)
        # No spool: a batch is acknowledged only once it is in the log itself. While `validate`
        # or retention holds the log, the requests wait with the thread (the queue bounds
        # them: 503 beyond it); after LOCK_TIMEOUT the batch fails whole (503, retry).
        self._sink = LogSink(self.settings, lock_timeout=LOCK_TIMEOUT, spool=False)
        self._thread = threading.Thread(target=self._run, name="ai-telemetry-writer", daemon=True)
        self._thread.start()

    @property
    def seen_ids(self) -> int:
        return len(self._seen)

    def prepare(
        self, events: Sequence[Mapping[str, Any]], *, origin: str, sender: str
    ) -> list[Prepared]:
        """Each event with its source stamped, through the privacy guard and the validation
        (`LogSink.prepare`) and encoded as its log line, or the refusal's message.

        Raises:
            Overloaded: the writer has not started or is closing.
        """
        sink = self._sink
        if sink is None or self._closing:
            raise Overloaded("the server is shutting down")
        encode = self._encode
        newline = orjson.OPT_APPEND_NEWLINE
        stamped = [stamp_source(raw, origin=origin, sender=sender) for raw in events]
        out: list[Prepared] = []
        for prepared in sink.prepare_many(stamped, owned=True):
            if isinstance(prepared, tuple):
                event, _unknown, removed = prepared
                out.append((event, encode(event, option=newline), removed))
            else:
                out.append(str(prepared))
        return out

    def submit(
        self,
        events: Sequence[Mapping[str, Any]],
        *,
        origin: str,
        sender: str,
        skip_hooked: bool = False,
        prepared: list[Prepared] | None = None,
    ) -> concurrent.futures.Future[BatchResult]:
        """Queue a batch; the future resolves once it is in the log (or failed whole).

        Args:
            events: the raw events.
            origin: ``source`` for events that carry none (``serve``, ``otlp``).
            sender: the token's name, appended to every event's source.
            skip_hooked: leave out `HOOK_OVERLAP` events of sessions the Claude Code hook
                already recorded (the OTLP receiver: `import otlp`'s double-count rule).
            prepared: `prepare` of these events, when the caller ran it already.

        Raises:
            Overloaded: the queue is full or the writer is closing.
        """
        future: concurrent.futures.Future[BatchResult] = concurrent.futures.Future()
        if self._closing or self._thread is None:
            raise Overloaded("the server is shutting down")
        if prepared is None:
            prepared = self.prepare(events, origin=origin, sender=sender)
        try:
            self._queue.put_nowait(_Job(events, prepared, skip_hooked, future))
        except queue.Full:
            raise Overloaded("the writer is busy") from None
        return future

    async def write(
        self,
        events: Sequence[Mapping[str, Any]],
        *,
        origin: str,
        sender: str,
        skip_hooked: bool = False,
    ) -> BatchResult:
        """`prepare` then `submit`, awaited from the event loop (a large batch is prepared on
        a worker thread, so the loop keeps serving)."""
        if self._closing or self._thread is None:
            raise Overloaded("the server is shutting down")
        if self._queue.full():  # answer 503 before doing the batch's work
            raise Overloaded("the writer is busy")
        if len(events) <= _INLINE_EVENTS:
            prepared = self.prepare(events, origin=origin, sender=sender)
        else:
            from starlette.concurrency import run_in_threadpool

            prepared = await run_in_threadpool(self.prepare, events, origin=origin, sender=sender)
        future = self.submit(
            events, origin=origin, sender=sender, skip_hooked=skip_hooked, prepared=prepared
        )
        return await asyncio.wrap_future(future)

    def close(self, timeout: float | None = None) -> None:
        """Write every queued batch, then stop the thread and close the log."""
        self._closing = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        if self._sink is not None:
            self._sink.close()

    # --- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                result = self._write(job)
            except BaseException as exc:
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)

    def _write(self, job: _Job) -> BatchResult:
        sink = self._sink
        assert sink is not None
        result = BatchResult()
        outcomes = result.outcomes
        lines: list[bytes] = []
        fresh: list[str] = []
        hook_pairs: list[tuple[str, str]] = []
        batch_ids: set[str] = set()
        seen = self._seen
        hooked = self._hooked if job.skip_hooked else None
        for raw, prepared in zip(job.events, job.prepared, strict=True):
            raw_id = raw.get("event_id")
            if isinstance(raw_id, str) and (raw_id in seen or raw_id in batch_ids):
                outcomes.append(Outcome("duplicate", raw_id))
                continue
            if hooked and raw.get("event_type") in HOOK_OVERLAP:
                pair = (raw.get("session_id"), raw.get("event_type"))
                if pair in hooked:
                    outcomes.append(Outcome("covered_by_hook", _str(raw_id)))
                    continue
            if isinstance(prepared, str):
                outcomes.append(Outcome("rejected", _str(raw_id), prepared))
                continue
            event, line, removed = prepared
            event_id = str(event["event_id"])
            if event_id in seen or event_id in batch_ids:
                outcomes.append(Outcome("duplicate", event_id))
                continue
            if len(line) > MAX_LINE_BYTES + 1:
                outcomes.append(
                    Outcome(
                        "rejected",
                        event_id,
                        f"the event is {len(line) - 1:,} bytes as a line, more than the "
                        f"{MAX_LINE_BYTES:,} allowed (docs/log.md); shorten its values",
                    )
                )
                continue
            result.redacted += removed
            batch_ids.add(event_id)
            fresh.append(event_id)
            lines.append(line)
            source = event.get("source")
            if isinstance(source, str) and (source == "hook" or source.startswith("hook:")):
                session = event.get("session_id")
                if isinstance(session, str) and event["event_type"] in HOOK_OVERLAP:
                    hook_pairs.append((session, event["event_type"]))
            outcomes.append(Outcome("accepted", event_id))
        if lines:
            sink.log.write_lines(b"".join(lines))  # LogError: the whole batch fails
            seen.update(fresh)
            self._hooked.update(hook_pairs)
        return result


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["BatchResult", "EventWriter", "Outcome", "Overloaded", "stamp_source"]
