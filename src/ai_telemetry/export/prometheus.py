"""Prometheus export: a custom collector over the warehouse, a textfile, a server, a push.

`TelemetryCollector` is a ``prometheus_client`` collector. Each collect reads two metrics.json
documents (`read_documents`: all time for the counters, the current ISO week for the gauges and
summaries, both from `ai_telemetry.analyze.metrics.metrics_document`) and maps them to metric
families with the table of `ai_telemetry.export.names`. Nothing is computed here.

A scrape with nothing new is a cached read. The cache key is the state of the inputs (inode,
size and modification time of the log, of the archive manifest and of ``config.toml``, taken
before the ingest, as ``aggregate`` keys its own cache), the current ISO week and the project
selection. A hit in memory returns the families built last time; a hit on disk
(``prometheus-cache.json`` next to the warehouse, for one-shot ``--textfile`` and ``--push``
runs from cron) skips DuckDB and only maps the stored documents.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson

from ai_telemetry.config import Settings
from ai_telemetry.errors import AITelemetryError, ConfigError, ExportError
from ai_telemetry.export.names import EVENTS_SERIES, SERIES, Series
from ai_telemetry.log.files import atomic_write
from ai_telemetry.store.layout import inputs_fingerprint

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector, CollectorRegistry

    from ai_telemetry.analyze.window import Window

CACHE_NAME: Final = "prometheus-cache.json"
SHARED: Final = frozenset({"incident_root_cause_total"})
"""Metrics read from `Documents.shared`, not from the documents of one project."""
_SHARED: Final = frozenset(s.name for s in SERIES if s.metric in SHARED)
_CACHE_VERSION: Final = 1
DEFAULT_JOB: Final = "ai_infrastructure"
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Documents:
    """The two metrics.json documents one project's series are made from."""

    project: str | None
    all_time: Mapping[str, Any]
    week: Mapping[str, Any]
    shared: Mapping[str, Any] | None = None
    """Metrics not kept per project (Incident Repeat's root causes), on the first entry only;
    their series never carry a ``project`` label."""


def all_time_window(now: datetime) -> Window:
    """Every event up to the end of the current ISO week (stable for a week, so it caches)."""
    from ai_telemetry.analyze.window import Window

    return Window(EPOCH, Window.week_of(now.astimezone(UTC)).end)


def week_window(now: datetime) -> Window:
    """The current ISO week, Monday 00:00Z to the next Monday."""
    from ai_telemetry.analyze.window import Window

    return Window.week_of(now.astimezone(UTC))


def read_documents(
    settings: Settings,
    *,
    now: datetime,
    project: str | None = None,
    by_project: bool = False,
) -> list[Documents]:
    """Ingest what is new and build the documents of one exposition.

    Args:
        settings: where the log, the archives and the warehouse are.
        now: the clock (picks the current week).
        project: only this project's events (its series get a ``project`` label).
        by_project: one pair of documents per project seen in the log, each labelled.

    Raises:
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    from ai_telemetry.alert.detect import ROOT_CAUSE_METRIC
    from ai_telemetry.alert.history import root_cause_counts
    from ai_telemetry.analyze.metrics import metrics_document
    from ai_telemetry.stores import open_store

    whole, week = all_time_window(now), week_window(now)

    with open_store(settings, progress=False) as wh:
        wh.ingest()

        def pair(p: str | None) -> Documents:
            return Documents(
                p,
                metrics_document(wh, whole, project=p, allow_empty=True, now=now),
                metrics_document(wh, week, project=p, allow_empty=True, now=now),
            )

        first = pair(project)
        out = [first]
        if by_project and project is None:
            projects = sorted(first.all_time["events"]["by_project"])
            out = [pair(p) for p in projects] or [first]
        if project is None:
            # Incident Repeat's input, as `detect` fills it (not kept per project)
            causes = root_cause_counts(wh, end=week.end)
            out[0] = replace(out[0], shared={ROOT_CAUSE_METRIC: causes or None})
        return out


# --- documents -> metric families ---------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _samples(series: Series, value: Any) -> Iterator[tuple[tuple[str, ...], float]]:
    """(label values, value) of one catalogue metric's value, per `Series`' shape."""
    if value is None:
        return
    if series.reduce == "max":
        values = value.values() if isinstance(value, Mapping) else ()
        numbers = [n for v in values if (n := _number(v)) is not None]
        if numbers:
            yield (), max(numbers) * series.scale
        return
    items: list[tuple[tuple[str, ...], Any]]
    if series.key_label is None:
        items = [((), value)]
    elif isinstance(value, Mapping):
        items = [((str(k),), v) for k, v in value.items()]
    else:
        return
    for keys, raw in items:
        inner = raw
        if series.pick is not None:
            inner = raw.get(series.pick) if isinstance(raw, Mapping) else None
        if series.split_label is None:
            if (n := _number(inner)) is not None:
                yield keys, n * series.scale
        elif isinstance(inner, Mapping):
            for doc_key, label_value in series.split:
                if (n := _number(inner.get(doc_key))) is not None:
                    yield (*keys, label_value), n * series.scale


def families(documents: Sequence[Documents]) -> list[Metric]:
    """The metric families of an exposition, in `SERIES` order, from the documents."""
    from prometheus_client.metrics_core import Metric

    out: list[Metric] = []
    for series in (*SERIES, None):
        name = EVENTS_SERIES if series is None else series.name
        kind = "counter" if series is None else series.kind
        help_text = "Events stored." if series is None else series.help
        family = Metric(name.removesuffix("_total") if kind == "counter" else name, help_text, kind)
        for docs in documents:
            extra = {} if docs.project is None else {"project": docs.project}
            if series is None:
                total = docs.all_time["events"]["total"]
                family.add_sample(name, extra, float(total))
                continue
            doc = docs.all_time if series.source == "all_time" else docs.week
            value = doc["metrics"].get(series.metric)
            if series.metric in SHARED:
                value, extra = (docs.shared or {}).get(series.metric), {}
            for label_values, number in _samples(series, value):
                labels = dict(zip(series.labels, label_values, strict=True))
                family.add_sample(name, {**labels, **extra}, number)
        out.append(family)
    return out


# --- the collector and its cache ----------------------------------------------------------


class TelemetryCollector:
    """A ``prometheus_client`` collector over the warehouse (register it in any registry).

    Args:
        settings: where the log, the archives and the warehouse are.
        project: only this project's events, labelled ``project``.
        by_project: one labelled set of series per project.
        clock: the current time (tests freeze it).
        disk_cache: also keep the documents in ``prometheus-cache.json`` for the next process.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        project: str | None = None,
        by_project: bool = False,
        clock: Callable[[], datetime] | None = None,
        disk_cache: bool = True,
    ) -> None:
        self.settings = settings
        self.project = project
        self.by_project = by_project
        self._clock = clock or (lambda: datetime.now(UTC))
        self._disk_cache = disk_cache
        self._memo: tuple[str, list[Documents], list[Metric]] | None = None
        self._lock = threading.Lock()  # concurrent scrapes: one computes, the others wait
        self.hits = 0
        """Collects answered from memory or disk without reading the warehouse."""
        self.misses = 0
        """Collects that read the warehouse."""

    def describe(self) -> list[Metric]:
        """Nothing: registering the collector must not read the warehouse."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The families of the current state (cached when nothing changed)."""
        try:
            yield from self.families()
        except AITelemetryError as exc:
            if self._memo is None:
                raise
            # a server keeps answering with the last good numbers and says why once per scrape
            sys.stderr.write(f"ai-telemetry: export: {exc} (serving the last good numbers)\n")
            yield from self._memo[2]

    def _key(self, now: datetime) -> str:
        state = {
            "inputs": inputs_fingerprint(self.settings),
            "week": week_window(now).as_dict()["start"],
            "project": self.project,
            "by_project": self.by_project,
        }
        return orjson.dumps(state, option=orjson.OPT_SORT_KEYS).decode()

    def documents(self) -> list[Documents]:
        """The documents behind the current families."""
        self.families()
        assert self._memo is not None
        return self._memo[1]

    def families(self) -> list[Metric]:
        """The metric families: from memory, else from disk, else from the warehouse."""
        with self._lock:
            return self._families()

    def _families(self) -> list[Metric]:
        now = self._clock()
        key = self._key(now)
        if self._memo is not None and self._memo[0] == key:
            self.hits += 1
            return self._memo[2]
        docs = self._read_disk(key)
        if docs is not None:
            self.hits += 1
        else:
            self.misses += 1
            docs = read_documents(
                self.settings, now=now, project=self.project, by_project=self.by_project
            )
            self._write_disk(key, docs)
        built = families(docs)
        self._memo = (key, docs, built)
        return built

    def _cache_path(self) -> Path:
        return self.settings.telemetry_dir / CACHE_NAME

    def _read_disk(self, key: str) -> list[Documents] | None:
        if not self._disk_cache:
            return None
        try:
            data = orjson.loads(self._cache_path().read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
            return None
        if data.get("key") != key:
            return None
        return [
            Documents(d["project"], d["all_time"], d["week"], d.get("shared"))
            for d in data["documents"]
        ]

    def _write_disk(self, key: str, docs: list[Documents]) -> None:
        """Best effort: a cache that cannot be written only costs speed."""
        if not self._disk_cache:
            return
        body = {
            "version": _CACHE_VERSION,
            "key": key,
            "documents": [
                {"project": d.project, "all_time": d.all_time, "week": d.week, "shared": d.shared}
                for d in docs
            ],
        }
        with contextlib.suppress(OSError):  # no directory made, no directory fsync: a cache
            atomic_write(
                self._cache_path(), orjson.dumps(body), perms=0o666, sync_dir=False, make_dirs=False
            )


def registry_for(collector: Collector) -> CollectorRegistry:
    """A registry holding only ``collector`` (no process or platform metrics)."""
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def wsgi_app(collector: TelemetryCollector) -> Callable[..., Any]:
    """A WSGI app answering with the collector's exposition, for a server to mount at
    ``/metrics`` (prometheus_client's ``make_wsgi_app`` over a registry of this collector)."""
    from prometheus_client import make_wsgi_app

    app: Callable[..., Any] = make_wsgi_app(registry_for(collector))
    return app


def exposition(collector: TelemetryCollector) -> bytes:
    """The text exposition (format 0.0.4) of the collector's current families."""
    from prometheus_client import generate_latest

    return generate_latest(registry_for(collector))


# --- outputs -------------------------------------------------------------------------------


def write_textfile(collector: TelemetryCollector, path: Path) -> int:
    """Write the exposition for node_exporter's textfile collector, atomically.

    Temp file in the same directory, fsync, rename: the textfile collector never reads half a
    file. Returns the number of samples written.

    Raises:
        ExportError: the file cannot be written.
        AnalyticsError: the warehouse cannot be read.
    """
    body = exposition(collector)
    try:
        # 0o666 as `open` (the umask decides): node_exporter, often another user, reads it
        atomic_write(path, body, perms=0o666)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write the exposition ({exc.strerror or exc})") from None
    return sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:9464`` -> (host, port); ``:9464`` listens on 127.0.0.1.

    Raises:
        ConfigError: not HOST:PORT with a port in 0..65535.
    """
    host, sep, port_text = text.rpartition(":")
    hint = "write --listen 127.0.0.1:9464"
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"--listen {text!r} is not HOST:PORT; {hint}")
    return host.strip("[]") or "127.0.0.1", int(port_text)


def serve(
    collector: TelemetryCollector,
    listen: str,
    *,
    ready: Callable[[str, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Serve ``/metrics`` on ``listen`` until interrupted (or until ``stop()`` says so).

    Args:
        collector: what to expose.
        listen: ``HOST:PORT`` (port 0: a free port, reported to ``ready``).
        ready: called with the bound host and port once the server accepts connections.
        stop: polled every 0.2 s; True ends the server.

    Raises:
        ConfigError: ``listen`` is malformed, or the address cannot be bound.
    """
    from prometheus_client import start_http_server

    host, port = parse_listen(listen)
    try:
        server, thread = start_http_server(port, addr=host, registry=registry_for(collector))
    except OSError as exc:
        raise ConfigError(f"--listen {listen}: cannot listen ({exc.strerror or exc})") from None
    try:
        if ready is not None:
            ready(host, int(server.server_port))
        while thread.is_alive() and not (stop is not None and stop()):
            time.sleep(0.2)
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True, slots=True)
class PushResult:
    """One group pushed (or not) to a Pushgateway."""

    grouping_key: dict[str, str]
    attempts: int
    error: str | None = None


def push(
    settings: Settings,
    url: str,
    *,
    job: str = DEFAULT_JOB,
    now: datetime | None = None,
    attempts: int = 3,
    backoff: float = 1.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PushResult]:
    """Push the series to a Pushgateway, one group per project (the seed's ``push_to_gateway``).

    Each project's series go to the grouping key ``{job, project}`` (the Pushgateway adds the
    ``project`` label); a log without projects pushes one group, ``{job}``. Every group is tried
    ``attempts`` times, waiting ``backoff``, ``2 * backoff``, ... in between; failures are
    returned, not raised.

    Raises:
        AnalyticsError: the warehouse cannot be read.
    """
    from prometheus_client import push_to_gateway

    moment = now or datetime.now(UTC)
    collector = TelemetryCollector(settings, by_project=True, clock=lambda: moment)
    groups: list[tuple[dict[str, str], list[Metric]]] = []
    documents = collector.documents()
    for docs in documents:
        if docs.project is None:
            groups.append(({}, families([docs])))
            continue
        # the grouping key carries the project label; the series themselves do not
        built = families([Documents(None, docs.all_time, docs.week)])
        groups.append(({"project": docs.project}, [f for f in built if f.name not in _SHARED]))
    shared = documents[0].shared if documents[0].project is not None else None
    if shared is not None:  # what is not kept per project goes to the group of the job
        empty = {"metrics": {}, "events": {"total": 0}}
        built = families([Documents(None, empty, empty, shared)])
        groups.append(({}, [f for f in built if f.name in _SHARED]))
    results: list[PushResult] = []
    for key, group in groups:
        registry = registry_for(_Static(group))
        error: str | None = None
        tried = 0
        for attempt in range(attempts):
            tried = attempt + 1
            try:
                push_to_gateway(url, job=job, registry=registry, grouping_key=key, timeout=timeout)
                error = None
                break
            except Exception as exc:  # urllib's URLError, HTTPError, socket timeouts
                where = ", ".join(f"{k}={v}" for k, v in key.items()) or f"job={job}"
                error = f"push to {url} ({where}) failed: {type(exc).__name__}: {exc}"
            if attempt < attempts - 1:
                sleep(backoff * 2**attempt)
        results.append(PushResult(key, tried, error))
    return results


class _Static:
    """A collector of families built beforehand."""

    def __init__(self, built: list[Metric]) -> None:
        self.built = built

    def collect(self) -> list[Metric]:
        return self.built
