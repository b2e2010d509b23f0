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
from typing import Any, Final, NamedTuple

from ai_telemetry.events.schema import (
    EVENT_TYPES,
    FIELDS_BY_TYPE,
    Field,
    canonical_timestamp,
    fields_for,
    string_predicate,
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
_MAX_PLANS: Final = 4096
_Table = dict[str, tuple[int, frozenset[str], Field]]


def _fast_table(fields: Mapping[str, Field]) -> _Table | None:
    if any(f.kind not in _CODES for f in fields.values()):
        return None  # a kind this module does not know: always ask the validator
    return {name: (_CODES[f.kind], frozenset(f.choices), f) for name, f in fields.items()}


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

    strings: tuple[tuple[int, Callable[[str], bool]], ...]  # the field's string predicate
    numbers: tuple[tuple[int, float, float], ...]  # index, minimum, maximum
    enums: tuple[tuple[int, frozenset[str]], ...]
    timestamps: tuple[int, ...]
    hashes: tuple[int, ...]


_PREDICATES: dict[int, Callable[[str], bool]] = {}


def _predicate(field: Field) -> Callable[[str], bool]:
    try:
        return _PREDICATES[id(field)]
    except KeyError:
        check = _PREDICATES[id(field)] = string_predicate(field)
        return check


def _make_plan(event_type: str, keys: tuple[str, ...], types: tuple[type, ...]) -> _Plan | None:
    """Decide once per shape; None when the validator must look at such events."""
    table = _TABLES.get(event_type, _COMMON)
    if table is None or event_type.startswith("learning_") or "timestamp" not in keys:
        return None
    if not all(name in keys for name in _REQUIRED.get(event_type, ())):
        return None
    strings: list[tuple[int, Callable[[str], bool]]] = []
    numbers: list[tuple[int, float, float]] = []
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
            numbers.append((index, spec[2].minimum, spec[2].maximum))
        elif kind is not str:
            return None
        elif code == _STR:
            strings.append((index, _predicate(spec[2])))
        elif code == _ENUM:
            enums.append((index, spec[1]))
        elif code == _TIMESTAMP:
            timestamps.append(index)
        else:
            hashes.append(index)
    return _Plan(tuple(strings), tuple(numbers), tuple(enums), tuple(timestamps), tuple(hashes))


_PLANS: dict[tuple[str, tuple[str, ...], tuple[type, ...]], _Plan | None] = {}


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
    for index, check in plan.strings:
        if not check(values[index]):
            return False
    for index, low, high in plan.numbers:
        if not low <= values[index] <= high:  # NaN fails both comparisons
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


__all__ = ["canonical_timestamp", "is_stored_event"]
