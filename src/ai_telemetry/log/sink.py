"""The one way into the log: scrub, validate, serialise, append.

Every collector, the SDK and the CLI write through `LogSink`, so the privacy guard runs before
anything reaches disk, wherever the event came from.
"""

from __future__ import annotations

import math

from ai_telemetry.errors import EventValidationError, PrivacyViolation
from ai_telemetry.events.privacy import _LOWER_UUID, PrivacyGuard, lower_uuids
from ai_telemetry.events.schema import (
    EVENT_TYPES,
    MAX_LINE_BYTES,
    canonical_timestamp,
    canonical_timestamps,
    check_timestamp_range,
    check_value,
    fields_for,
    new_event_id,
    validate_event,
)
from ai_telemetry.log.writer import EventLog

TYPE_CHECKING = False  # the hook imports this module: keep `typing` and friends out
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    from ai_telemetry.config import Settings


_MEMO_MAX_LEN = 160
"""Longest string value the fast path remembers (as the guard's own clean-value cache)."""
_MEMO_PER_FIELD = 4096
"""Values remembered per (event type, field) before that field's memo starts afresh."""

_GENERIC, _TIMESTAMP, _ID, _NUMBER, _INTEGER = range(5)
"""How `LogSink._fast_prepare` takes a field's values that are not in its memo (see there)."""
_UUID_LENGTH = 36
_MIN_GROUP = 4
"""Events of one shape in a batch from which `LogSink.prepare_many` judges them by column."""
_STR_ONLY = frozenset({str})
_NUMBERS = frozenset({int, float})
_INT = frozenset({int})
_BOOL_ONLY = frozenset({bool})


class _Plan:
    """The fast path's decisions for one shape of event: per key (in order) its field, the
    memo of its string values and how a new value is taken; the type's spec; whether the
    required fields are among the keys."""

    __slots__ = ("entries", "required", "spec")

    def __init__(
        self, entries: tuple[tuple[str, Any, dict[str, Any], int], ...], spec: Any, required: bool
    ) -> None:
        self.entries = entries
        self.spec = spec
        self.required = required


_NO_PLAN = _Plan((), None, False)
"""A shape the fast path never takes: a type outside the contract, a learning type, a key
outside the allowlist (the guard drops it and counts it), or no timestamp."""


def _code(field: Any) -> int:
    kind = field.kind
    if kind == "timestamp":
        return _TIMESTAMP
    if kind in ("id", "text") and field.max_length >= _UUID_LENGTH:
        # A lower-case UUID: the guard answers clean without a scan (`_LOWER_UUID`), and
        # `check_string` keeps it (not empty, no control character, not starting with [ or {,
        # not longer than the field allows).
        return _ID
    if kind in ("number", "integer") and math.isfinite(field.minimum + field.maximum):
        # within finite bounds a number is finite, and `check_value` keeps it as it is (in an
        # integer field only an int: it turns a float into one)
        return _NUMBER if kind == "number" else _INTEGER
    return _GENERIC


def _remember(known: dict[str, Any], value: str, hit: Any) -> Any:
    """Keep a field's judged ``value`` (its checked form ``hit``) in its memo ``known``, unless
    too long; the memo is emptied when full (bounded memory). Returns ``hit``."""
    if len(value) <= _MEMO_MAX_LEN:
        if len(known) >= _MEMO_PER_FIELD:
            known.clear()
        known[value] = hit
    return hit


def _plan(event_type: str, keys: tuple[str, ...], memos: dict[str, dict[str, Any]]) -> _Plan:
    """The plan of one shape; ``memos``: the event type's memo per field, shared by its
    shapes (so the memory is bounded per type and field, whatever the key orders)."""
    spec = EVENT_TYPES.get(event_type)
    if spec is None or event_type.startswith("learning_") or "timestamp" not in keys:
        return _NO_PLAN
    allowed = fields_for(event_type)
    entries: list[tuple[str, Any, dict[str, Any], int]] = []
    for key in keys:
        field = allowed.get(key)
        if field is None:
            return _NO_PLAN
        known = memos.get(key)
        if known is None:
            known = memos[key] = {}
        entries.append((key, field, known, _code(field)))
    required = all(name in keys for name in spec.required)
    return _Plan(tuple(entries), spec, required)


DEFAULT_LOCK_TIMEOUT = 2.0
"""Seconds a `LogSink` waits for the writers' lock before spooling (appends hold it for
microseconds; only a stopped writer or ``validate``/retention rewriting the log holds it long)."""


class WriteReport:
    """What one `LogSink.write` call did.

    Attributes:
        written: events appended.
        rejected: (index in the batch, one-line reason) for each event not written.
        unknown_types: event type -> count, for types outside the contract (kept, reported).
        redacted: values the privacy guard removed.
        spooled: of ``written``, events kept in the spool because another process held the
            log's lock too long; the next writer holding the lock appends them.
    """

    __slots__ = ("redacted", "rejected", "spooled", "unknown_types", "written")

    def __init__(self) -> None:
        self.written = 0
        self.spooled = 0
        self.rejected: list[tuple[int, str]] = []
        self.unknown_types: dict[str, int] = {}
        self.redacted = 0


def _stdlib_line(event: dict[str, Any]) -> bytes:
    import json

    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _line_encoder(fast: bool) -> Callable[[dict[str, Any]], bytes]:
    """orjson for throughput (SDK, CLI, collectors); the standard library's json for one-event
    processes such as the Claude Code hook, where importing orjson costs more than it saves."""
    if not fast:
        return _stdlib_line
    import orjson

    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE

    def line(event: dict[str, Any]) -> bytes:
        return dumps(event, option=option)

    return line


class LogSink:
    """Scrubs, validates and appends events to one log.

    Args:
        settings: where the log is, the privacy policy, the durability mode, the project.
        source: default ``source`` stamped on events that carry none (``sdk``, ``hook``, ...).
        fast_json: encode with orjson (default); ``False`` uses the standard library, for
            short-lived processes that write a few events.
        known_clean: values already scanned clean by an earlier process (see
            `PrivacyGuard.known_clean`).
        lock_timeout: seconds to wait for another process holding the log's lock; then the
            batch goes to the spool (see `ai_telemetry.log.writer`). Bounded by default: the
            sink runs inside hosts (SDK, hooks) that must not hang on a stopped process.
        spool: keep a batch that timed out in ``events.jsonl.spool/`` (default); ``False``
            raises `LogLockTimeout` instead, for a caller with a spool of its own (the Claude
            Code hook keeps its events in the hook spool, which its daemon replays).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        source: str | None = None,
        fast_json: bool = True,
        known_clean: Iterable[str] = (),
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        spool: bool = True,
    ) -> None:
        self.settings = settings
        self._encode = _line_encoder(fast_json)
        self.guard = PrivacyGuard(policy=settings.privacy_policy, known_clean=known_clean)
        self.log = EventLog(
            settings.log_path,
            fsync=settings.durability == "fsync",
            lock_timeout=lock_timeout,
            spool=spool,
        )
        self._defaults: dict[str, str] = {}
        self._plans: dict[str, dict[tuple[str, ...], _Plan]] = {}
        self._memos: dict[str, dict[str, dict[str, Any]]] = {}
        if source:
            self._defaults["source"] = source
        if settings.project:
            self._defaults["project"] = settings.project

    def prepare(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], bool, int]:
        """Scrub then validate one event: (event, is_unknown_type, values removed).

        Raises:
            PrivacyViolation: policy ``reject`` and the event carries personal data or a secret.
            EventValidationError: the event breaks the contract.
        """
        if self._defaults:
            raw = self._with_defaults(raw)
        fast = self._fast_prepare(raw)
        if fast is not None:
            return fast, False, 0
        return self._slow_prepare(raw)

    def _with_defaults(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        if not str(raw.get("event_type", "")).startswith("learning_"):
            return {**self._defaults, **raw}
        if "project" in self._defaults:
            return {"project": self._defaults["project"], **raw}
        return raw

    def _slow_prepare(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], bool, int]:
        clean, removed = self.guard.scrub(raw)
        checked = validate_event(clean)
        return checked.event, checked.unknown_type, removed

    def prepare_many(
        self, events: Iterable[Mapping[str, Any]], *, owned: bool = False
    ) -> list[tuple[dict[str, Any], bool, int] | EventValidationError | PrivacyViolation]:
        """`prepare` of each event, or the exception it raises (the same answers, in order).
        ``owned``: the events are dicts the caller made for this call and does not keep (an
        event that comes out whole is then returned as itself, not copied).

        Events of one shape (type and keys in order) are judged column by column when there
        are several (`_MIN_GROUP`): each field's distinct values once, through what the
        one-event fast path would do with them. When every value of every column comes out
        exactly as it went in (a memo hit equal to the value, a canonical timestamp, a
        lower-case UUID in an id or text field, numbers within their finite bounds, no None),
        the one-event path would have returned each event as a copy of itself, and so does
        this; any other group goes event by event through `prepare`.
        """
        raws = [self._with_defaults(e) for e in events] if self._defaults else list(events)
        out: list[tuple[dict[str, Any], bool, int] | EventValidationError | PrivacyViolation]
        out = [None] * len(raws)  # type: ignore[list-item]
        groups: dict[tuple[Any, tuple[str, ...]], list[int]] = {}
        for index, raw in enumerate(raws):
            event_type = raw.get("event_type")
            key = (event_type if event_type.__class__ is str else None, tuple(raw))
            group = groups.get(key)
            if group is None:
                groups[key] = [index]
            else:
                group.append(index)
        for (event_type, keys), indexes in groups.items():
            if len(indexes) >= _MIN_GROUP and event_type.__class__ is str:
                plan = self._plan_for(event_type, keys)
                rows = [raws[i] for i in indexes]
                if plan is not _NO_PLAN and plan.required and self._columns_whole(plan, rows):
                    has_id = "event_id" in keys
                    fresh = owned or bool(self._defaults)  # `_with_defaults` made new dicts
                    for index, raw in zip(indexes, rows, strict=True):
                        event = raw if fresh and raw.__class__ is dict else dict(raw)
                        if not has_id:
                            event["event_id"] = new_event_id()
                        out[index] = (event, False, 0)
                    continue
            for index in indexes:
                raw = raws[index]
                try:
                    fast = self._fast_prepare(raw)
                    out[index] = (fast, False, 0) if fast is not None else self._slow_prepare(raw)
                except (EventValidationError, PrivacyViolation) as exc:
                    out[index] = exc
        return out

    def _columns_whole(self, plan: _Plan, rows: list[Mapping[str, Any]]) -> bool:
        """True when `_fast_prepare` would keep every value of ``rows`` as it is."""
        columns = list(zip(*[row.values() for row in rows], strict=True))
        keeps = self.guard.keeps
        try:
            for (_key, field, known, code), column in zip(plan.entries, columns, strict=True):
                types = set(map(type, column))
                if types == _STR_ONLY:
                    distinct = set(column)
                    if len(distinct) > 1:  # the values that never repeat: one call for all
                        if code == _ID and lower_uuids(distinct):
                            continue
                        if code == _TIMESTAMP and canonical_timestamps(distinct):
                            continue
                    for value in distinct:
                        hit = known.get(value)
                        if hit is None:
                            if code == _TIMESTAMP:
                                if canonical_timestamp(value):
                                    continue
                            elif code == _ID and len(value) == _UUID_LENGTH and _LOWER_UUID(value):
                                continue
                            if not keeps(field, value):
                                return False
                            hit = _remember(known, value, check_value(field, value))
                        if hit != value or (code == _TIMESTAMP and not canonical_timestamp(value)):
                            return False
                elif types <= _NUMBERS if code == _NUMBER else code == _INTEGER and types == _INT:
                    low, high = min(column), max(column)
                    if math.isnan(sum(column)) or low < field.minimum or high > field.maximum:
                        return False  # a NaN among them (min and max may miss it), or out of bounds
                elif types == _BOOL_ONLY:
                    for value in set(column):
                        if check_value(field, value) is not value:
                            return False
                else:
                    return False  # None, a container, a number in a text field: one by one
        except (EventValidationError, OverflowError):
            return False
        return True

    def _fast_prepare(self, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        """`scrub` then `validate_event` in one pass, for an event they leave whole: a known,
        non-learning type, only allowed keys, scalar values, nothing for the guard to remove
        and nothing for validation to refuse. None for anything else, and the caller takes
        the two steps one after the other (so every refusal and every redaction, and its
        message, comes from them exactly as before).

        The per-key decisions are made once per shape of event (its type and keys in order,
        `_plan`). A string value of a field is judged once (the guard's verdict, then the
        field's check) and remembered by its exact text, per event type and field: the verdict
        and the check depend on nothing else (the guard's policy is fixed for the sink), and
        the ones that depend on the clock, a timestamp's range, are checked again every time.
        Tool, skill, model and outcome values repeat in nearly every event of a batch. The
        values that never repeat are not remembered but answered at once where the answer is
        known without the two steps (`_UNIQUE`): a canonical timestamp
        (`canonical_timestamp`: kept as written, and the guard does not scan one), a lower-case
        UUID in an id or text field, a number within its field's finite bounds.
        """
        event_type = raw.get("event_type")
        if event_type.__class__ is not str:
            return None
        keys = tuple(raw)
        plan = self._plan_for(event_type, keys)
        if plan is _NO_PLAN:
            return None
        keeps = self.guard.keeps
        out: dict[str, Any] = {}
        try:
            for (key, field, known, code), value in zip(plan.entries, raw.values(), strict=True):
                cls = value.__class__
                if cls is str:
                    hit = known.get(value)
                    if hit is None:
                        if code == _TIMESTAMP:
                            if canonical_timestamp(value):
                                out[key] = value
                                continue
                        elif code == _ID and len(value) == _UUID_LENGTH and _LOWER_UUID(value):
                            out[key] = value
                            continue
                        if not keeps(field, value):
                            return None
                        hit = _remember(known, value, check_value(field, value))
                    elif code == _TIMESTAMP:
                        check_timestamp_range(hit, field.name)
                    out[key] = hit
                elif cls is float or cls is int:
                    if (code == _NUMBER or (code == _INTEGER and cls is int)) and (
                        field.minimum <= value <= field.maximum
                    ):
                        out[key] = value
                    else:
                        out[key] = check_value(field, value)
                elif cls is bool:
                    out[key] = check_value(field, value)
                elif value is not None:
                    return None
        except EventValidationError:
            return None
        if len(out) != len(keys) or not plan.required:
            for name in plan.spec.required:
                if name not in out:
                    return None
        if "event_id" not in out:
            out["event_id"] = new_event_id()
        return out

    def _plan_for(self, event_type: str, keys: tuple[str, ...]) -> _Plan:
        plans = self._plans.get(event_type)
        if plans is None:
            if event_type not in EVENT_TYPES:
                return _NO_PLAN  # nothing kept for a type outside the contract
            plans = self._plans[event_type] = {}
            self._memos[event_type] = {}
        plan = plans.get(keys)
        if plan is None:
            if len(plans) >= _MEMO_PER_FIELD:
                plans.clear()
            plan = plans[keys] = _plan(event_type, keys, self._memos[event_type])
        return plan

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteReport:
        """Append every acceptable event in one locked write; report the rest.

        Raises:
            LogError: the log cannot be written; nothing of this batch was acknowledged
                (`LogLockTimeout`, a subclass, for a lock not free in time with ``spool`` off).
        """
        report = WriteReport()
        lines: list[bytes] = []
        for index, prepared in enumerate(self.prepare_many(events)):
            if not isinstance(prepared, tuple):
                report.rejected.append((index, str(prepared)))
                continue
            event, unknown, removed = prepared
            if unknown:
                name = event["event_type"]
                report.unknown_types[name] = report.unknown_types.get(name, 0) + 1
            line = self._encode(event)
            if len(line) > MAX_LINE_BYTES + 1:  # the newline is not counted
                report.rejected.append(
                    (
                        index,
                        f"the event is {len(line) - 1:,} bytes as a line, more than the "
                        f"{MAX_LINE_BYTES:,} allowed (docs/log.md); shorten its values",
                    )
                )
                continue
            report.redacted += removed
            lines.append(line)
        if lines and not self.log.write_lines(b"".join(lines)):
            report.spooled = len(lines)
        report.written = len(lines)
        return report

    def close(self) -> None:
        self.log.close()


def append_events(
    events: Iterable[Mapping[str, Any]], *, settings: Settings, source: str | None = None
) -> WriteReport:
    """Write a batch of events through a fresh sink (tool-side convenience)."""
    sink = LogSink(settings, source=source)
    try:
        return sink.write(events)
    finally:
        sink.close()
