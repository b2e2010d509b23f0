"""``serve --store postgresql://``: two servers feed one real PostgreSQL and every event is
stored once (issue 16 §3); a database that is down at first loses nothing (issue 16 §4's
"resumes after either side is killed", for the server's own feed)."""

from __future__ import annotations

import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from serve_test_helpers import make_tokens, skill_event, start_server, stop_server

from ai_telemetry.config import load_settings
from ai_telemetry.store.postgres import PostgresStore

BATCH = 100
GRACEFUL = {0, -signal.SIGTERM}
"""Exit codes of a server that drained on SIGTERM (uvicorn re-raises the signal it caught)."""


def migrated(url: str, directory: Path) -> None:
    settings = load_settings(environ={}, cwd=directory, telemetry_dir=directory)
    with PostgresStore(url, settings=settings, check=False) as store:
        store.migrate()


def stored(url: str) -> tuple[int, int]:
    """Rows in the store, and distinct event ids among them."""
    with psycopg.connect(url) as con:
        row = con.execute("SELECT count(*), count(DISTINCT event_id) FROM event_rows").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def wait_for(url: str, count: int, timeout: float = 60.0) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    seen = stored(url)
    while seen[1] < count and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = stored(url)
    return seen


def batches(n: int) -> list[list[dict[str, Any]]]:
    run = uuid.uuid4().hex[:8]
    events = [skill_event(i, event_id=f"feed-{run}-{i:05d}") for i in range(n)]
    return [events[i : i + BATCH] for i in range(0, n, BATCH)]


def test_two_servers_feed_one_postgres_and_each_event_is_stored_once(
    tmp_path: Path, postgres_url: str
) -> None:
    """The same 2,000 events sent to two servers at once (and retried to the first): the
    store holds 2,000 rows, each id once, while both run and after both stopped."""
    migrated(postgres_url, tmp_path / "migrate")
    servers = []
    for name in ("a", "b"):
        directory = tmp_path / name
        directory.mkdir()
        servers.append(
            start_server(directory, "--store", postgres_url, tokens=make_tokens(directory))
        )
    try:
        work = batches(2000)
        with ThreadPoolExecutor(8) as pool:
            sends = [pool.submit(s.post_events, b) for b in work for s in servers]
            sends += [pool.submit(servers[0].post_events, b) for b in work[::4]]  # retries
            answers = [f.result(timeout=120) for f in sends]
        assert all(a["accepted"] + a["duplicates"] == BATCH for a in answers)
        assert wait_for(postgres_url, 2000) == (2000, 2000)
        for s in servers:
            assert "fed into postgresql://" in s.printed()
    finally:
        codes = [stop_server(s) for s in servers]
    assert set(codes) <= GRACEFUL  # drained and exited, not killed
    assert stored(postgres_url) == (2000, 2000)


class FlakyProxy:
    """A loopback TCP proxy to PostgreSQL that refuses service until `up` is called."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.serving = threading.Event()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def up(self) -> None:
        self.serving.set()

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.serving.is_set():
                client.close()  # "the server closed the connection unexpectedly"
                continue
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


@contextmanager
def proxy_to(url: str) -> Iterator[tuple[FlakyProxy, str]]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    proxy = FlakyProxy((parts.hostname, parts.port))
    netloc = parts.netloc.replace(f":{parts.port}", f":{proxy.port}")
    try:
        yield proxy, urlunsplit(parts._replace(netloc=netloc))
    finally:
        proxy.close()


def test_a_store_down_at_first_gets_every_acknowledged_event_later(
    tmp_path: Path, postgres_url: str
) -> None:
    """PostgreSQL unreachable at start: the server warns, acknowledges 500 events into its log,
    and once the database answers the feed stores all 500 (nothing acknowledged is lost)."""
    migrated(postgres_url, tmp_path / "migrate")
    directory = tmp_path / "srv"
    directory.mkdir()
    with proxy_to(postgres_url) as (proxy, flaky_url):
        server = start_server(directory, "--store", flaky_url, tokens=make_tokens(directory))
        try:
            for batch in batches(500):
                assert server.post_events(batch)["accepted"] == BATCH
            assert len(server.log_events()) == 500  # a 2xx: in the server's log
            assert stored(postgres_url) == (0, 0)
            proxy.up()
            assert wait_for(postgres_url, 500) == (500, 500)
        finally:
            assert stop_server(server) in GRACEFUL
        assert "serving anyway" in server.printed()
        assert "secret" not in server.printed()
