"""What makes the file collectors (git, CI reports, learnings) idempotent.

Each event gets an ``event_id`` derived from its content (a name-based UUID, RFC 9562 version 5,
over the collector's key such as ``("commit", <hash>, <skill>)``), and a batch is filtered
against the ids already in the log before it is written. Running a collector twice therefore
appends nothing the second time; and should two runs race, the warehouse still de-duplicates
by ``event_id``.
"""

from __future__ import annotations

import fcntl
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import orjson

NAMESPACE: Final = uuid.UUID("5c0f4c1e-7a2b-4d0e-9f51-a1e7e1e7e1e7")
"""Namespace of every content-derived event id ai-telemetry makes (fixed forever)."""

_EVENT_ID = re.compile(rb'"event_id"\s*:\s*"([0-9A-Za-z-]{16,64})"')


def stable_event_id(*parts: str) -> str:
    """A UUID string that depends only on ``parts``: the same key gives the same id.

    Args:
        *parts: the key, e.g. ``("commit", "3f2a...", "tdd")``. Order matters.
    """
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


@contextmanager
def collector_lock(telemetry_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock while a collector checks the log and appends to it.

    Without it, two runs at the same moment (a post-commit hook and a backfill) could both see
    an event as new and both write it.
    """
    telemetry_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(telemetry_dir / ".collect.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def logged_event_ids(log_path: Path) -> set[str]:
    """Every ``event_id`` already in the log (a missing or unreadable log holds none).

    One pass over the bytes with a regular expression: broken lines cost nothing and are
    simply not matched.
    """
    try:
        data = log_path.read_bytes()
    except OSError:
        return set()
    return {m.group(1).decode("ascii") for m in _EVENT_ID.finditer(data)}


def drop_logged(events: Iterable[Mapping[str, Any]], log_path: Path) -> list[Mapping[str, Any]]:
    """The events whose ``event_id`` is not yet in the log (and not repeated in the batch)."""
    seen = logged_event_ids(log_path)
    fresh: list[Mapping[str, Any]] = []
    for event in events:
        event_id = event.get("event_id")
        if isinstance(event_id, str):
            if event_id in seen:
                continue
            seen.add(event_id)
        fresh.append(event)
    return fresh


def read_logged_events(
    log_path: Path, event_types: Iterable[str], *, containing: bytes = b""
) -> Iterator[dict[str, Any]]:
    """The events of the given types in the log, in file order, skipping lines it cannot read.

    This only looks back for a previous value, so it is more tolerant than the log reader:
    a line that is not a JSON object is skipped silently, never quarantined nor fatal.
    ``containing`` skips, without parsing them, the lines that do not hold these bytes.
    """
    wanted = frozenset(event_types)
    if not log_path.is_file():
        return
    try:
        raw = log_path.read_bytes()
    except OSError:
        return
    for line in raw.splitlines():
        if not line.strip() or containing not in line:
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("event_type") in wanted:
            yield event
