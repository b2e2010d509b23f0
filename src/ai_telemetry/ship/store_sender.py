"""The `Shipper`'s sender for a PostgreSQL store: what ``serve --store postgresql://`` feeds.

The server acknowledges a batch once it is in its own log (the durability promise of every
2xx). A thread then runs the same `ai_telemetry.ship.shipper.Shipper` that ``ai-telemetry
ship`` runs, over that log, with this sender in place of HTTP: each batch of complete lines goes
to `PostgresStore.ingest_jsonl` (one COPY, idempotent by ``event_id``), and the checkpoint
(log identity and byte offset, written atomically) moves only after PostgreSQL committed it.
PostgreSQL down, or the server killed: the checkpoint says where to go on, and nothing that was
acknowledged is lost; several servers writing one database store each event once.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ai_telemetry.errors import AITelemetryError, ShipError
from ai_telemetry.ship.sender import BatchResult, backoff

if TYPE_CHECKING:
    from ai_telemetry.store.postgres import PostgresStore

BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 10.0


class StoreSender:
    """Sends batches of log lines into a `PostgresStore` (retrying until it takes them).

    Args:
        store: the store, not yet opened (opened on the first batch, again after a failure).
        scratch: a folder for the batch file `ingest_jsonl` reads.
        should_stop: polled between retries; True ends `send` with `ShipError`.
        sleep: how to wait (tests inject it).
    """

    def __init__(
        self,
        store: PostgresStore,
        *,
        scratch: Path,
        should_stop: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        from ai_telemetry.config import safe_url

        self.store = store
        self.url = safe_url(store.url)
        """The store's URL without its password (checkpoint name, messages)."""
        self.scratch = scratch
        self.should_stop = should_stop
        self._sleep = sleep
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        self._open = False
        self.retries = 0
        self.last_problem = ""

    def send(self, lines: bytes, *, count: int) -> BatchResult:
        """Store ``lines`` (complete JSON Lines) in one transaction; retry until it commits.

        Raises:
            ShipError: ``should_stop`` said stop while PostgreSQL was unavailable.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._store(lines, attempt)
            except AITelemetryError as exc:
                self.last_problem = str(exc)
            except Exception as exc:  # psycopg's errors and the pool's timeout: a lost server
                self.last_problem = f"{self.url}: {type(exc).__name__}: {exc}".strip()
            self.close()
            if self.should_stop():
                raise ShipError(f"stopped while retrying ({self.last_problem})")
            self.retries += 1
            self._sleep(backoff(self._rng, attempt, base=BACKOFF_BASE, cap=BACKOFF_CAP))

    def _store(self, lines: bytes, attempt: int) -> BatchResult:
        if not self._open:
            self.store.open()
            self._open = True
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=self.scratch, prefix="batch-", suffix=".jsonl"
        ) as batch:
            batch.write(lines)
            batch.flush()
            report = self.store.ingest_jsonl(Path(batch.name))
        return BatchResult(
            accepted=report.sent - report.replaced, duplicate=report.replaced, attempts=attempt
        )

    def close(self) -> None:
        """Close the store's connections (reopened by the next batch)."""
        if self._open:
            self._open = False
            with contextlib.suppress(Exception):  # closing a pool whose server is gone
                self.store.close()
