"""``aggregate``: bring the warehouse up to date, record the weekly history, build metrics.json.

The first run over a large log (no warehouse yet, at least `DIRECT_MIN_BYTES` of log) does not
wait for the full ingest: it reads only the fields the catalogue needs straight from the log
into a throwaway in-memory table (what a hand-written DuckDB query over the JSONL would do,
with the same de-duplication and bad-line counting as the warehouse), answers, and leaves the
warehouse and the week's history to a background process (`ai_telemetry.analyze.catchup`).
Both paths give the same document. When the window's part of the log is larger than
`DIRECT_MAX_BYTES` (estimated from the log's first and last timestamps), its table would not
fit in memory and the full build, compressed on disk, is as fast: the warehouse is then built
inline.

A run with nothing new is the common case (cron every Monday, a dashboard refresh, a CI gate
that re-reads the same week), so the last document is kept in ``metrics-cache.json`` next to
the warehouse with a fingerprint of its inputs: the inode, size and modification time of the
log, of the archive manifest and of ``config.toml``, taken *before* the ingest (a line appended
during the run changes the fingerprint, so the next run recomputes). When the fingerprint, the
window and the current ISO week all match, the cached document is returned without opening
DuckDB at all.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import orjson

from ai_telemetry.analyze import catchup
from ai_telemetry.analyze.history import last_complete_week, record_weeks
from ai_telemetry.analyze.metrics import compute_metrics, metrics_document
from ai_telemetry.analyze.window import Window
from ai_telemetry.config import Settings
from ai_telemetry.log.files import open_file

if TYPE_CHECKING:
    from ai_telemetry.documents.types import AggregateDocument

CACHE_NAME: Final = "metrics-cache.json"
_CACHE_VERSION: Final = 1
DIRECT_MIN_BYTES: Final = 64 * 1024 * 1024
"""Below this much log a first ingest takes well under a second: it is done inline."""
DIRECT_MAX_BYTES: Final = 1024 * 1024 * 1024
"""Above this much of the log in the window's range, a first run builds the warehouse inline."""


def _cache_key(window: Window, project: str | None, allow_empty: bool) -> str:
    w = window.as_dict()
    return f"{w['start']}|{w['end']}|{project or ''}|{int(allow_empty)}"


def _read_cache(settings: Settings) -> dict[str, Any] | None:
    try:
        data = orjson.loads((settings.telemetry_dir / CACHE_NAME).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return None
    return data


def _write_cache(settings: Settings, entry: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written only costs speed."""
    path = settings.telemetry_dir / CACHE_NAME
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # a direct run holds no lock
    with contextlib.suppress(OSError):
        with open_file(tmp, "wb") as fh:
            fh.write(orjson.dumps(entry))
        tmp.replace(path)


def aggregate(
    window: Window,
    *,
    settings: Settings,
    project: str | None = None,
    backfill_weeks: int = 0,
    allow_empty: bool = False,
    progress: bool | None = None,
    now: datetime | None = None,
    direct_min_bytes: int = DIRECT_MIN_BYTES,
    direct_max_bytes: int = DIRECT_MAX_BYTES,
) -> dict[str, Any]:
    """What ``ai-telemetry aggregate`` does: ingest, record history, return metrics.json.

    Args:
        window: the time window of the document.
        settings: where the log, the archives and the warehouse are.
        project: only events of this project.
        backfill_weeks: also recompute the history of the last N complete weeks.
        allow_empty: return nulls instead of raising for a window with no events.
        progress: progress bars on long ingests and back-fills (default: stderr is a terminal).
        now: the clock (for ``generated_at`` and the current week).
        direct_min_bytes: with no warehouse yet and at least this much log, answer straight
            from the log and build the warehouse in the background ...
        direct_max_bytes: ... unless more than this much of the log is in the window's range.

    Raises:
        NoDataError: the window holds no events (unless ``allow_empty``).
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    from ai_telemetry.stores import inputs_fingerprint, open_store

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    key = _cache_key(window, project, allow_empty)
    week = str(last_complete_week(moment))
    fingerprint = inputs_fingerprint(settings)
    if not backfill_weeks:
        cached = _read_cache(settings)
        if (
            cached is not None
            and cached.get("key") == key
            and cached.get("week") == week
            and cached.get("fingerprint") == fingerprint
        ):
            doc: dict[str, Any] = cached["document"]
            doc["generated_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            return doc
    entry = {"version": _CACHE_VERSION, "key": key, "week": week, "fingerprint": fingerprint}
    if not backfill_weeks and answers_from_log(
        settings, window, min_bytes=direct_min_bytes, max_bytes=direct_max_bytes
    ):
        doc = compute_metrics(
            window,
            from_log=True,
            settings=settings,
            project=project,
            allow_empty=allow_empty,
            progress=progress,
            now=moment,
        )
        _write_cache(settings, {**entry, "document": doc})
        catchup.spawn(settings, moment)
        return doc
    with open_store(settings, progress=progress) as wh:
        wh.ingest()
        record_weeks(
            wh,
            max(backfill_weeks, 1),
            now=moment,
            refresh=bool(backfill_weeks),
            progress=progress,
        )
        doc = metrics_document(wh, window, project=project, allow_empty=allow_empty, now=moment)
        _write_cache(settings, {**entry, "document": doc})
    return doc


def answers_from_log(
    settings: Settings,
    window: Window,
    *,
    min_bytes: int = DIRECT_MIN_BYTES,
    max_bytes: int = DIRECT_MAX_BYTES,
) -> bool:
    """Whether a first `aggregate` answers straight from the log.

    Yes when there is no warehouse yet, at least ``min_bytes`` of log, and not more than
    ``max_bytes`` of it in the range the window reads (assuming a steady rate between the
    first and the last event; when those cannot be read, yes).
    """
    from ai_telemetry.stores import answers_from_log as first_run_from_log

    return first_run_from_log(settings, window, min_bytes=min_bytes, max_bytes=max_bytes)


def aggregate_document(
    doc: dict[str, Any], *, output: str, with_metrics: bool = False
) -> AggregateDocument:
    """The ``aggregate --json`` document (docs/schemas/aggregate.json): what was written where.

    Args:
        doc: the metrics.json document `aggregate` returned.
        output: the file it was written to ("" for none).
        with_metrics: also carry ``doc`` itself as ``metrics`` (the MCP ``get_metrics`` tool,
            which answers with the numbers instead of writing a file).
    """
    from ai_telemetry.documents import header

    opening = header("aggregate")
    document: AggregateDocument = {
        "schema_version": opening["schema_version"],
        "command": opening["command"],
        "output": output,
        "window": {"start": str(doc["window"]["start"]), "end": str(doc["window"]["end"])},
        "events": dict(doc["events"]),
    }
    if with_metrics:
        document["metrics"] = doc
    return document
