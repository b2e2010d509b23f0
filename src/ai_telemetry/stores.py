"""The composition root of storage: `open_store` picks the `Store` from the configuration.

Every command, the server, the Prometheus export and the MCP server get their store here and
nowhere else. The store is named by a URL, from (first found) the ``url`` argument, the
``AI_TELEMETRY_STORE`` environment variable, ``[store] url`` in ``config.toml``, or the default
``duckdb`` (the embedded warehouse in the telemetry directory, ``duckdb:`` or ``duckdb://``
alike). A PostgreSQL store (``postgresql://...``) is the next implementation; until then that
scheme, like any other, is a `ConfigError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ai_telemetry.config import Settings
from ai_telemetry.errors import ConfigError

if TYPE_CHECKING:
    from ai_telemetry.ports import Store, Window
    from ai_telemetry.store.duckdb_store import DuckDBStore

STORE_ENV: Final = "AI_TELEMETRY_STORE"
SCHEMES: Final = ("duckdb",)
"""The store kinds this build knows."""


def store_url(settings: Settings, *, url: str | None = None) -> str:
    """The configured store URL: ``url``, else ``AI_TELEMETRY_STORE``, else ``[store] url``,
    else ``"duckdb"``."""
    if url:
        return url
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
    return _duckdb(settings, url=url, progress=progress, window=window)


def open_duckdb(
    settings: Settings, *, progress: bool | None = None, window: Window | None = None
) -> DuckDBStore:
    """The embedded DuckDB store itself (for the commands that are DuckDB's own: ``query``'s
    file handling, ``status``, retention)."""
    from ai_telemetry.store.duckdb_store import DuckDBStore

    if window is not None:
        return DuckDBStore.from_log(settings, window, progress=progress)
    return DuckDBStore(settings, progress=progress)


def _duckdb(
    settings: Settings, *, url: str | None, progress: bool | None, window: Window | None
) -> DuckDBStore:
    chosen = store_url(settings, url=url)
    scheme = store_scheme(chosen)
    if scheme != "duckdb":
        raise ConfigError(
            f"store {_shown(chosen)!r} (from {_origin(url)}): unknown kind {scheme!r}; this "
            f"build has {', '.join(SCHEMES)}; set {STORE_ENV}=duckdb or remove [store] url"
        )
    return open_duckdb(settings, progress=progress, window=window)


def _origin(url: str | None) -> str:
    if url:
        return "the command line"
    if os.environ.get(STORE_ENV, "").strip():
        return STORE_ENV
    return "[store] url in config.toml"


def _shown(url: str) -> str:
    """The URL without a password (``user:secret@host`` -> ``user:***@host``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
