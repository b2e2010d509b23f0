"""The composition root of storage: `open_store` picks the `Store` from the configuration.

Every command, the server, the Prometheus export and the MCP server get their store here and
nowhere else. The store is named by a URL, from (first found) the ``url`` argument, the
command's ``--store URL`` (`chosen_store`), the ``AI_TELEMETRY_STORE`` environment variable,
``[store] url`` in ``config.toml``, or the default ``duckdb`` (the embedded warehouse in the
telemetry directory, ``duckdb:`` or ``duckdb://`` alike). ``postgresql://...`` is the central
PostgreSQL store (`ai_telemetry.store.postgres.PostgresStore`, docs/scale.md); any other
scheme is a `ConfigError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final

from ai_telemetry.config import Settings, safe_url
from ai_telemetry.errors import ConfigError

if TYPE_CHECKING:
    from ai_telemetry.ports import Store, Window
    from ai_telemetry.store.duckdb_store import DuckDBStore

STORE_ENV: Final = "AI_TELEMETRY_STORE"
chosen_store: ContextVar[str | None] = ContextVar("ai_telemetry_store", default=None)
"""The running command's ``--store URL`` (set by the CLI; before ``AI_TELEMETRY_STORE``)."""
SCHEMES: Final = ("duckdb", "postgresql")
"""The store kinds this build knows."""


def store_url(settings: Settings, *, url: str | None = None) -> str:
    """The configured store URL: ``url``, else ``AI_TELEMETRY_STORE``, else ``[store] url``,
    else ``"duckdb"``."""
    if url:
        return url
    if chosen := chosen_store.get():  # the running command's --store
        return chosen
    env = os.environ.get(STORE_ENV, "").strip()
    if env:
        return env
    section = settings.extra.get("store", {})
    if isinstance(section, Mapping):
        value = section.get("url")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "duckdb"


def store_scheme(url: str) -> str:
    """The kind of store a URL names (``duckdb``, ``postgresql``, ...), lower case."""
    scheme, sep, _ = url.partition(":")
    return (scheme if sep else url).strip().lower()


def open_store(
    settings: Settings,
    *,
    url: str | None = None,
    progress: bool | None = None,
    window: Window | None = None,
) -> Store:
    """The store the configuration names, not yet opened (use it as a context manager).

    Args:
        settings: the telemetry directory, log and configuration.
        url: overrides ``AI_TELEMETRY_STORE`` and ``[store] url``.
        progress: show a progress bar on long ingests (default: when stderr is a terminal).
        window: serve only the catalogue of this window, straight from the log, in memory
            (what a first ``aggregate`` over a large log does); nothing is written.

    Raises:
        ConfigError: the URL names a store this build does not have.
    """
    chosen = store_url(settings, url=url)
    if store_scheme(chosen) in ("postgresql", "postgres"):
        from ai_telemetry.store.postgres import PostgresStore

        return PostgresStore(chosen, settings=settings)
    return _duckdb(settings, url=url, progress=progress, window=window)


def open_duckdb(
    settings: Settings,
    *,
    progress: bool | None = None,
    window: Window | None = None,
    lock_fd: int = -1,
) -> DuckDBStore:
    """The embedded DuckDB store itself (for what is DuckDB's own: the first run straight from
    the log, the background catch-up that inherits the warehouse lock as ``lock_fd``)."""
    from ai_telemetry.store.duckdb_store import DuckDBStore
    from ai_telemetry.store.warehouse import Warehouse

    if window is not None:
        return DuckDBStore.from_log(settings, window, progress=progress)
    wh = Warehouse(settings, progress=progress, lock_fd=lock_fd)
    return DuckDBStore(settings, warehouse=wh)


def take_store_lock(settings: Settings, *, timeout: float) -> int:
    """Take the embedded warehouse's lock (to hand to a background catch-up); its descriptor.

    Raises:
        AnalyticsError: another command holds it longer than ``timeout`` seconds.
    """
    from ai_telemetry.store.warehouse import WAREHOUSE_FILE, take_lock

    return take_lock(settings.telemetry_dir / WAREHOUSE_FILE, timeout=timeout)


def inputs_fingerprint(settings: Settings) -> dict[str, list[int] | None]:
    """A fingerprint of what the store reads (log, archive manifest, ``config.toml``)."""
    from ai_telemetry.store.layout import inputs_fingerprint as fingerprint

    return fingerprint(settings)


def answers_from_log(settings: Settings, window: Window, *, min_bytes: int, max_bytes: int) -> bool:
    """Whether a first `aggregate` answers straight from the log (the embedded store only).

    Yes when there is no warehouse yet, at least ``min_bytes`` of log, and not more than
    ``max_bytes`` of it in the range the window reads (assuming a steady rate between the
    first and the last event; when those cannot be read, yes).
    """
    from ai_telemetry.store.catalogue_sql import catalogue_range
    from ai_telemetry.store.duckdb_store import log_time_span
    from ai_telemetry.store.warehouse import WAREHOUSE_FILE

    if store_scheme(store_url(settings)) != "duckdb":
        return False
    if (settings.telemetry_dir / WAREHOUSE_FILE).exists():
        return False
    try:
        size = settings.log_path.stat().st_size
    except OSError:
        return False
    if size < min_bytes:
        return False
    if size <= max_bytes:
        return True
    span = log_time_span(settings.log_path)
    if span is None:
        return True
    first, last = span
    lo, hi = catalogue_range(window)
    inside = (min(hi, last) - max(lo, first)).total_seconds()
    whole = max((last - first).total_seconds(), 1.0)
    return size * max(inside, 0.0) / whole <= max_bytes


def _duckdb(
    settings: Settings, *, url: str | None, progress: bool | None, window: Window | None
) -> DuckDBStore:
    chosen = store_url(settings, url=url)
    scheme = store_scheme(chosen)
    if scheme != "duckdb":
        raise ConfigError(
            f"store {safe_url(chosen)!r} (from {_origin(url)}): unknown kind {scheme!r}; this "
            f"build has {', '.join(SCHEMES)}; set {STORE_ENV}=duckdb or remove [store] url"
        )
    return open_duckdb(settings, progress=progress, window=window)


def _origin(url: str | None) -> str:
    if url:
        return "the command line"
    if os.environ.get(STORE_ENV, "").strip():
        return STORE_ENV
    return "[store] url in config.toml"


def open_ingested(
    settings: Settings, *, url: str | None = None, progress: bool | None = None
) -> Store:
    """`open_store`, opened, with what is new ingested; the caller closes it (or uses ``with``).

    A line written to the log without the privacy guard and redacted in the store's copy is
    reported on stderr (``ai-telemetry validate`` redacts the log itself).

    Raises:
        ConfigError: the URL names a store this build does not have.
        AnalyticsError: the store, the log or an archive cannot be read.
    """
    import sys

    store = open_store(settings, url=url, progress=progress)
    store.__enter__()
    try:
        report = store.ingest()
    except BaseException as exc:
        store.__exit__(type(exc), exc, exc.__traceback__)
        raise
    if report.redacted:
        sys.stderr.write(
            f"ai-telemetry: the privacy guard redacted {report.redacted} values in the "
            "warehouse's copy of new events (lines written to the log without the guard); "
            "run `ai-telemetry validate` to redact the log itself\n"
        )
    return store
