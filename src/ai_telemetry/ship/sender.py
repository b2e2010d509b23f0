"""One sender of event batches to a server's ``POST /v1/events``: gzip, retries, backoff.

`Sender.send` posts one batch of JSON Lines (gzip-compressed) with ``Authorization: Bearer``
and returns only once the server acknowledged it (a 2xx with its per-line results), retrying
what may succeed later:

- connection refused or reset, a timeout, a 5xx, 408 or 429: wait and retry, with exponential
  backoff and full jitter (``uniform(0, min(cap, base * 2**attempt))``), at least what a
  ``Retry-After`` header asks;
- 401, 403, 404 and any other 4xx: a `ShipError` at once (a wrong token or URL does not heal);
  413 is `BatchTooLarge` (the caller splits the batch).

The server is idempotent by ``event_id`` (issue 15 §2), so a batch sent again after a lost
answer is stored once: the caller may always resend what was not acknowledged.

Used by ``ai-telemetry ship`` (`ai_telemetry.ship.shipper`) and by the hook daemon's
forwarder: one sender for both. Standard library only (``http.client``), so the daemon pays
no import of an HTTP framework.
"""

from __future__ import annotations

import gzip
import http.client
import json
import random
import socket
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ai_telemetry.errors import ConfigError, ShipError

if TYPE_CHECKING:
    from collections.abc import Callable

EVENTS_PATH = "/v1/events"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
BACKOFF_BASE = 0.2
"""Seconds: the first retry waits up to this, doubling each time."""
BACKOFF_CAP = 30.0
"""Seconds: no retry waits longer (unless the server's ``Retry-After`` says so)."""
TIMEOUT = 30.0
"""Seconds to wait for the server to connect and to answer one batch."""


def backoff(rng: random.Random, attempt: int, *, base: float, cap: float) -> float:
    """The wait before retry ``attempt`` (1, 2, ...): exponential backoff with full jitter,
    ``uniform(0, min(cap, base * 2**(attempt - 1)))`` (the AWS architecture blog's rule: clients
    retrying together spread out)."""
    return rng.uniform(0, min(cap, base * 2 ** (attempt - 1)))


class BatchTooLarge(ShipError):
    """The server answered 413: the batch is over its body limit."""


@dataclass(slots=True)
class BatchResult:
    """What the server said of one batch (its 202 document, counted)."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    messages: tuple[str, ...] = ()
    """The first few rejection messages (for the shipper's report)."""
    attempts: int = 1


def parse_result(body: bytes, lines: int) -> BatchResult:
    """Count a ``/v1/events`` answer: ``{"accepted": n, "duplicates": n, "rejected": n,
    "results": [{"status": ..., "message": ...}, ...]}``; an answer without counts is taken
    as every line accepted (the 2xx says they are in the log)."""
    try:
        doc: Any = json.loads(body) if body.strip() else {}
    except ValueError:
        doc = {}
    result = BatchResult()
    results = doc.get("results") if isinstance(doc, dict) else None
    messages: list[str] = []
    if isinstance(results, list):
        for item in results:
            status = item.get("status") if isinstance(item, dict) else None
            if status == "duplicate":
                result.duplicate += 1
            elif status == "rejected":
                result.rejected += 1
                message = item.get("message") or item.get("error")
                if isinstance(message, str) and len(messages) < 5:
                    messages.append(message)
            else:
                result.accepted += 1
    elif isinstance(doc, dict) and any(k in doc for k in ("accepted", "duplicates", "rejected")):
        for key, name in (
            ("accepted", "accepted"),
            ("duplicates", "duplicate"),
            ("rejected", "rejected"),
        ):
            value = doc.get(key)
            if isinstance(value, int):
                setattr(result, name, value)
    else:
        result.accepted = lines
    result.messages = tuple(messages)
    return result


class Sender:
    """Posts batches to one server, keeping its connection open between them.

    Args:
        url: the server's base URL (``http://host:8787``); ``/v1/events`` is added.
        token: the bearer token (never logged, never in an error message).
        timeout: seconds per request.
        backoff_base: first retry's maximum wait.
        backoff_cap: largest wait between retries.
        give_up_after: seconds after which `send` stops retrying and raises `ShipError`
            (None: retry until ``should_stop`` says so).
        should_stop: polled between retries; True ends `send` with `ShipError`.
        sleep: how to wait (injected by tests); clock: monotonic seconds.
        rng: the jitter's random source.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = TIMEOUT,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        give_up_after: float | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--to {url!r}: not an http:// or https:// URL of a server")
        if not token:
            raise ConfigError("no token to send with: give --token (a token of role collector)")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path.rstrip("/") + EVENTS_PATH
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
            "User-Agent": "ai-telemetry-ship",
        }
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.give_up_after = give_up_after
        self.should_stop = should_stop
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._conn: http.client.HTTPConnection | None = None
        self.retries = 0
        """Retries made so far (all batches)."""
        self.last_problem = ""
        """Why the last retry was needed (for status lines)."""

    def close(self) -> None:
        """Close the kept connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host,
                    self._port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                self._conn = http.client.HTTPConnection(
                    self._host, self._port, timeout=self.timeout
                )
        return self._conn

    def send(self, lines: bytes, *, count: int) -> BatchResult:
        """Post ``lines`` (complete JSON Lines) until the server acknowledges them.

        Args:
            lines: the batch, each line ending in a newline.
            count: how many lines it holds.

        Raises:
            BatchTooLarge: 413.
            ShipError: the server refused for good (401, 403, 404, 400 for the whole batch),
                or retrying ran out of time, or ``should_stop`` said stop.
        """
        body = gzip.compress(lines, compresslevel=5)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            wait_at_least = 0.0
            try:
                status, headers, answer = self._post(body)
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                self.last_problem = f"{self.url}: {_reason(exc)}"
            else:
                if 200 <= status < 300:
                    result = parse_result(answer, count)
                    result.attempts = attempt
                    return result
                if status == 413:
                    raise BatchTooLarge(
                        f"{self.url}: the server refused a batch of {len(body):,} bytes (413)"
                    )
                if status not in RETRY_STATUSES:
                    raise ShipError(_refusal(self.url, status, answer))
                self.last_problem = f"{self.url}: HTTP {status}"
                wait_at_least = _retry_after(headers.get("retry-after"))
            if self.should_stop():
                raise ShipError(f"stopped while retrying ({self.last_problem})")
            delay = max(wait_at_least, self._backoff(attempt))
            if (
                self.give_up_after is not None
                and self._clock() + delay - started > self.give_up_after
            ):
                raise ShipError(
                    f"gave up after {attempt} attempts in {self._clock() - started:.0f} s "
                    f"({self.last_problem}); nothing acknowledged is lost: run it again"
                )
            self.retries += 1
            self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        return backoff(self._rng, attempt, base=self.backoff_base, cap=self.backoff_cap)

    def _post(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = self._connection()
        conn.request("POST", self._path, body=body, headers=self._headers)
        response = conn.getresponse()
        answer = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        if response.will_close:
            self.close()
        return response.status, headers, answer


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return min(max(float(value), 0.0), 300.0)
    except ValueError:
        return 1.0  # an HTTP date: a second is a fair guess, the backoff does the rest


def _refusal(url: str, status: int, answer: bytes) -> str:
    detail = ""
    try:
        doc = json.loads(answer)
        if isinstance(doc, dict):
            found = doc.get("error") or doc.get("detail") or doc.get("message")
            detail = found if isinstance(found, str) else ""
    except ValueError:
        pass
    hint = {
        401: "the token is missing or not known to the server (check --token)",
        403: "the token's role may not send events (create one with --role collector)",
        404: "no /v1/events there (is --to the ai-telemetry server's base URL?)",
    }.get(status, "")
    parts = [f"{url}: the server refused the events (HTTP {status})"]
    if detail:
        parts.append(detail[:200])
    if hint:
        parts.append(hint)
    return "; ".join(parts)
