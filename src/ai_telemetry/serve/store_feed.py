"""``serve --store postgresql://...``: the server's log fed on into the central store.

The writer acknowledges a batch once it is in the server's own log; this feed then sends the
log on to PostgreSQL in the background (`ai_telemetry.ship.store_sender`), so a request never
waits on the database and an unreachable database loses nothing: the feed's checkpoint is in
the telemetry folder (``ship/``), and a restarted server goes on from it. At shutdown, after the
writer wrote its last batch, the feed gets `DRAIN_SECONDS` to send the rest; what it could not
send is sent by the next start. Several servers (each with its own folder and log) may feed one
database: the store keeps each ``event_id`` once.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Final

from ai_telemetry.errors import AITelemetryError

if TYPE_CHECKING:
    from ai_telemetry.config import Settings
    from ai_telemetry.ship.shipper import Shipper

DRAIN_SECONDS: Final = 15.0
"""How long shutdown waits for the feed to send what the log holds beyond its checkpoint."""
POLL: Final = 0.2
"""Seconds between looks at the log when everything is sent."""
RESTART_DELAY: Final = 2.0


class StoreFeed:
    """A thread shipping the server's log into a PostgreSQL store.

    Args:
        settings: the server's telemetry folder (its log, archives, checkpoints).
        url: the ``postgresql://`` URL.
    """

    def __init__(self, settings: Settings, url: str) -> None:
        from ai_telemetry.ship.shipper import Shipper, checkpoint_path
        from ai_telemetry.ship.store_sender import StoreSender
        from ai_telemetry.store.postgres import PostgresStore

        self._stop = threading.Event()
        self.sender = StoreSender(
            PostgresStore(url, settings=settings),
            scratch=settings.telemetry_dir / "ship" / "scratch",
            should_stop=self._stop.is_set,
        )
        self.shipper: Shipper = Shipper(
            self.sender,
            log_path=settings.log_path,
            checkpoint=checkpoint_path(settings.telemetry_dir, self.sender.url),
            archives_dir=settings.archives_dir,
        )
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Take the checkpoint's lock and start sending.

        Raises:
            ShipError: another server over this folder feeds the same store.
        """
        self.shipper.acquire(wait=5.0)
        self._thread = threading.Thread(target=self._run, name="ai-telemetry-store-feed")
        self._thread.daemon = True
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.shipper.run(follow=True, stop=self._stop, poll=POLL)
            except AITelemetryError as exc:  # a log it cannot read: say so, try again
                sys.stderr.write(f"ai-telemetry serve: store feed: {exc}\n")
                self._stop.wait(RESTART_DELAY)

    def close(self, *, drain: float = DRAIN_SECONDS) -> None:
        """Stop following, send what the log holds beyond the checkpoint (at most ``drain``
        seconds), and let go of the lock."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        deadline = threading.Event()
        timer = threading.Timer(drain, deadline.set)
        timer.daemon = True
        timer.start()
        self.sender.should_stop = deadline.is_set
        started = time.monotonic()
        try:
            self.shipper.run(follow=False, stop=deadline)
        except AITelemetryError as exc:
            sys.stderr.write(f"ai-telemetry serve: store feed: {exc}\n")
        finally:
            timer.cancel()
            self.shipper.release()
            self.sender.close()
        if deadline.is_set():
            sys.stderr.write(
                f"ai-telemetry serve: {self.sender.url} did not take the last events within "
                f"{time.monotonic() - started:.0f} s ({self.sender.last_problem or 'busy'}); "
                "the next start sends them (the checkpoint is kept)\n"
            )
