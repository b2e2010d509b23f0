"""A fast, conservative check of events already in the log, for the reader's hot loop.

Events written by `LogSink` were validated and normalised on the way in, so reading them back
through `validate_event` (which rebuilds every event) costs most of a read. `is_stored_event`
answers True only when `validate_event(event, assign_id=False)` would accept the event *and
return it unchanged*; on anything else (an unknown kind of field, a value it is not sure about,
learning events with their id synonym) it answers False and the caller asks the validator, which
stays the single source of truth. A property test holds the two together.

How it is fast: the lines of one log have few shapes (event type, keys in order, value types),
so the per-field decisions are made once per shape and cached as a `_Plan`; each event then
needs a handful of C-level tuple operations and the value checks the plan lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any, Final, NamedTuple

from ai_telemetry.errors import EventValidationError
from ai_telemetry.events.schema import (
    EVENT_TYPES,
    FIELDS_BY_TYPE,
    Field,
    fields_for,
    normalize_timestamp,
)

_STR, _NUMBER, _INTEGER, _ENUM, _TIMESTAMP, _HASH, _BOOLEAN = range(7)
_CODES: Final = {
    "text": _STR,
    "name": _STR,
    "id": _STR,
    "number": _NUMBER,
    "integer": _INTEGER,
    "enum": _ENUM,
    "timestamp": _TIMESTAMP,
    "hash": _HASH,
    "boolean": _BOOLEAN,
}
_HEX: Final = frozenset("0123456789abcdef")
_INF: Final = float("inf")
_MAX_PLANS: Final = 4096
_Table = dict[str, tuple[int, frozenset[str]]]
_Getter = Callable[[tuple[Any, ...]], tuple[Any, ...]]


def _fast_table(fields: Mapping[str, Field]) -> _Table | None:
    if any(f.kind not in _CODES for f in fields.values()):
        return None  # a kind this module does not know: always ask the validator
    return {name: (_CODES[f.kind], frozenset(f.choices)) for name, f in fields.items()}


# Learning types map learning_id to id: they always take the validator's path.
_TABLES: Final[dict[str, _Table | None]] = {
    name: _fast_table(table)
    for name, table in FIELDS_BY_TYPE.items()
    if not name.startswith("learning_")
}
_COMMON: Final = _fast_table(fields_for(""))
_REQUIRED: Final = {name: spec.required for name, spec in EVENT_TYPES.items()}


class _Plan(NamedTuple):
    """The checks one shape of event needs: getters pick values out of ``tuple(values)``."""

    strings: _Getter | None  # must be non-empty
    numbers: _Getter | None  # must be >= 0 and finite
    enums: tuple[tuple[int, frozenset[str]], ...]
    timestamps: tuple[int, ...]
    hashes: tuple[int, ...]


def _getter(positions: list[int]) -> _Getter | None:
    if not positions:
        return None
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    getter: _Getter = itemgetter(*positions)
    return getter


def _make_plan(event_type: str, keys: tuple[str, ...], types: tuple[type, ...]) -> _Plan | None:
    """Decide once per shape; None when the validator must look at such events."""
    table = _TABLES.get(event_type, _COMMON)
    if table is None or event_type.startswith("learning_") or "timestamp" not in keys:
        return None
    if not all(name in keys for name in _REQUIRED.get(event_type, ())):
        return None
    strings: list[int] = []
    numbers: list[int] = []
    enums: list[tuple[int, frozenset[str]]] = []
    timestamps: list[int] = []
    hashes: list[int] = []
    for index, (key, kind) in enumerate(zip(keys, types, strict=True)):
        if kind is type(None):
            return None  # the validator drops None values: not unchanged
        spec = table.get(key)
        if spec is None:
            continue  # outside the contract: the validator leaves it as it is
        code = spec[0]
        if code == _BOOLEAN:
            if kind is not bool:
                return None
        elif code in (_NUMBER, _INTEGER):
            if kind is not int and (code == _INTEGER or kind is not float):
                return None
            numbers.append(index)
        elif kind is not str:
            return None
        elif code == _STR:
            strings.append(index)
        elif code == _ENUM:
            enums.append((index, spec[1]))
        elif code == _TIMESTAMP:
            timestamps.append(index)
        else:
            hashes.append(index)
    return _Plan(_getter(strings), _getter(numbers), tuple(enums), tuple(timestamps), tuple(hashes))


_PLANS: dict[tuple[str, tuple[str, ...], tuple[type, ...]], _Plan | None] = {}


def _probe_fractions() -> tuple[frozenset[int], frozenset[int]]:
    """Which fraction lengths `normalize_timestamp` keeps as written: (non-zero, all-zero).

    Asked of the schema once at import rather than copied from it, so the two cannot drift.
    """
    kept: tuple[set[int], set[int]] = (set(), set())
    for digits in range(1, 10):
        for zero, sample in enumerate(("1" * digits, "0" * digits)):
            stamp = f"2025-12-26T10:30:00.{sample}Z"
            try:
                if normalize_timestamp(stamp) == stamp:
                    kept[zero].add(digits)
            except EventValidationError:
                pass
    return frozenset(kept[0]), frozenset(kept[1])


_FRACTIONS_KEPT, _ZERO_FRACTIONS_KEPT = _probe_fractions()


_last_second = [""]  # the last "YYYY-MM-DDTHH:MM:SS" found to be a real time (most repeat)


def canonical_timestamp(value: str) -> bool:
    """True when `normalize_timestamp` returns ``value`` unchanged: ``YYYY-MM-DDTHH:MM:SS[.f]Z``."""
    size = len(value)
    if size > 20:
        fraction = value[20:-1]
        if value[19] != "." or not fraction.isdigit() or not fraction.isascii():
            return False
        kept = _ZERO_FRACTIONS_KEPT if fraction.count("0") == len(fraction) else _FRACTIONS_KEPT
        if len(fraction) not in kept:
            return False
    elif size != 20:
        return False
    if value[-1] != "Z":
        return False
    second = value[:19]
    if second == _last_second[0]:
        return True
    if (
        second[10] != "T"
        or second[4] != "-"
        or second[7] != "-"
        or second[13] != ":"
        or second[16] != ":"
        or not second.isascii()
    ):
        return False
    try:
        datetime.fromisoformat(second)
    except ValueError:
        return False
    _last_second[0] = second
    return True


def is_stored_event(obj: dict[str, Any]) -> bool:
    """True only when `validate_event` would accept ``obj`` and return it unchanged."""
    event_type = obj.get("event_type")
    if type(event_type) is not str:
        return False
    shape = (event_type, tuple(obj), tuple(map(type, obj.values())))
    try:
        plan = _PLANS[shape]
    except KeyError:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[shape] = _make_plan(*shape)
    if plan is None:
        return False
    values = tuple(obj.values())
    if plan.strings is not None and not all(plan.strings(values)):
        return False
    if plan.numbers is not None:
        numbers = plan.numbers(values)
        # min catches negatives; the sum is NaN or infinite when any value is.
        if min(numbers) < 0 or not sum(numbers) < _INF:
            return False
    for index, choices in plan.enums:
        if values[index] not in choices:
            return False
    for index in plan.timestamps:
        if not canonical_timestamp(values[index]):
            return False
    for index in plan.hashes:
        value = values[index]
        if not 7 <= len(value) <= 64 or not _HEX.issuperset(value):
            return False
    return True
