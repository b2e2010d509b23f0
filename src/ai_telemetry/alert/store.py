"""alerts.log (for people) and alerts-state.json (for programs): which alerts are open.

- ``alerts.log`` is append-only text in the seed's format: an entry when an alert opens
  (``🚨 ANOMALY DETECTED 🚨``), one when it resolves (``✅ RESOLVED``), and a line when a
  notification fails or is delivered late. Entries are separated by a blank line.
- ``alerts-state.json`` holds the open alerts and the last resolved ones. It is written
  atomically (temp file, fsync, rename) under a lock, so two runs never lose each other's state.

`reconcile` is the pure core: given what was open and what holds now, it says what opens, what
stays open and what resolves. An alert that stays open is not logged again; its value and
``last_seen`` are refreshed. `record_alerts` does the same on disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson

from ai_telemetry.alert.model import Alert
from ai_telemetry.errors import AlertError
from ai_telemetry.log.files import atomic_write, flock_within, open_fd, open_file, read_bytes

if TYPE_CHECKING:
    from ai_telemetry.config import Settings

STATE_NAME: Final = "alerts-state.json"
STATE_VERSION: Final = 1
KEEP_RESOLVED: Final = 200


def utc_text(moment: datetime) -> str:
    """``2025-12-29T09:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_path(settings: Settings) -> Path:
    """Where the machine-readable state lives: ``alerts-state.json`` beside alerts.log."""
    return settings.alerts_log.with_name(STATE_NAME)


@dataclass(slots=True)
class AlertState:
    """The open alerts (by id) and the most recently resolved ones (oldest first)."""

    open: dict[str, dict[str, Any]] = field(default_factory=dict)
    resolved: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "schema_version": STATE_VERSION,
            "open": list(self.open.values()),
            "resolved": self.resolved[-KEEP_RESOLVED:],
        }


@dataclass(slots=True)
class Reconciled:
    """What one detection run changed."""

    opened: list[Alert] = field(default_factory=list)
    still_open: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


def reconcile(
    state: AlertState,
    current: Sequence[Alert],
    *,
    now: datetime,
    unchecked: Container[str] = (),
    project: str | None = None,
) -> Reconciled:
    """Update ``state`` in place with the alerts that hold ``now``.

    New ids open (``opened`` set to ``now``); known ids stay open with their first ``opened``
    and the new value; open ids that no longer hold resolve, unless their rule is in
    ``unchecked`` (not evaluated this run): those stay as they were. Only alerts of
    ``project`` (None: the whole store's) can resolve: a run judges one project's metrics, or
    the whole store's, and leaves the others' alerts alone.
    """
    stamp = utc_text(now)
    out = Reconciled()
    seen: set[str] = set()
    for alert in current:
        if alert.id in seen:
            continue
        seen.add(alert.id)
        before = state.open.get(alert.id)
        if before is None:
            opened = replace(alert, opened=stamp)
            out.opened.append(opened)
        else:
            opened = replace(alert, opened=str(before.get("opened") or stamp))
            out.still_open.append(opened)
        record = opened.to_json()
        record["last_seen"] = stamp
        state.open[alert.id] = record
    for alert_id in [i for i in state.open if i not in seen]:
        record = state.open[alert_id]
        if record.get("rule") in unchecked or (record.get("project") or None) != project:
            continue
        record = state.open.pop(alert_id)
        record["resolved"] = stamp
        state.resolved.append(record)
        out.resolved.append(Alert.from_json(record))
    return out


# --- files --------------------------------------------------------------------------------


def read_state(settings: Settings) -> AlertState:
    """The state on disk (empty when there is none yet).

    Raises:
        AlertError: the file is not readable JSON; the message says how to recover.
    """
    path = state_path(settings)
    try:
        data = orjson.loads(read_bytes(path))
    except FileNotFoundError:
        return AlertState()
    except (OSError, orjson.JSONDecodeError) as exc:
        raise AlertError(
            f"{path}: cannot read the alert state ({exc}); move it aside and run "
            "`ai-telemetry detect` again to rebuild it (open alerts will be logged again)"
        ) from None
    if not isinstance(data, Mapping):
        raise AlertError(f"{path}: not an alert state object; move it aside and detect again")
    opened = [a for a in data.get("open", []) if isinstance(a, Mapping) and "id" in a]
    resolved = [a for a in data.get("resolved", []) if isinstance(a, Mapping)]
    return AlertState({str(a["id"]): dict(a) for a in opened}, [dict(a) for a in resolved])


def _atomic_write(path: Path, data: bytes) -> None:
    """`atomic_write` (the directory created), a failure as an `AlertError`."""
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise AlertError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_state(settings: Settings, state: AlertState) -> None:
    """Write the state atomically."""
    path = state_path(settings)
    _atomic_write(path, orjson.dumps(state.to_json(), option=orjson.OPT_INDENT_2) + b"\n")


STATE_LOCK_TIMEOUT: Final = 5.0
"""Seconds a detection run waits for another one holding the alert state lock (a run holds
it for milliseconds: read the state, append to alerts.log, write the state)."""


def state_lock_path(settings: Settings) -> Path:
    """The alert state lock: ``alerts-state.lock`` beside alerts.log."""
    return state_path(settings).with_suffix(".lock")


@contextlib.contextmanager
def state_lock(settings: Settings, *, timeout: float = STATE_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the alert state lock (one detection run at a time), waiting at most ``timeout``.

    The holder writes its pid into the lock file, so a run that gives up can say who holds it.

    Raises:
        AlertError: the lock file cannot be opened, or another process held the lock for
            ``timeout`` seconds (one line naming the file and the holder, when known).
    """
    path = state_lock_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = open_fd(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise AlertError(f"{path}: cannot create the alert lock ({exc.strerror})") from None
    try:
        _acquire(fd, path, timeout)
        with contextlib.suppress(OSError):  # the pid is a courtesy for a waiting run
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, timeout: float) -> None:
    if not flock_within(fd, timeout, max_pause=0.05):
        raise AlertError(
            f"{path}: still locked after {timeout:g} s by {_holder(fd)}; another "
            "detection run is updating the alerts: try again, or stop that process "
            "if it is stuck"
        )


def _holder(fd: int) -> str:
    """``pid 1234 (ai-telemetry detect)`` from the pid the holder wrote, or what is known."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    if not text.isdigit():
        return "another process (pid unknown; fuser shows it)"
    try:
        raw = Path(f"/proc/{text}/cmdline").read_bytes()
    except OSError:
        return f"pid {text}"
    words = raw.decode(errors="replace").split("\0")
    # `python3 ai-telemetry detect`, not the full paths of the interpreter and the script
    words = [Path(w).name if w.startswith("/") else w for w in words if w]
    command = " ".join(words)
    command = "".join(c if c.isprintable() else "?" for c in command)[:80]
    return f"pid {text} ({command})" if command else f"pid {text}"


def append_log(settings: Settings, entries: Sequence[Sequence[str]]) -> None:
    """Append entries (each a list of lines) to alerts.log, a blank line after each.

    Each line is escaped (`ai_telemetry.report.escape.log_field`), so it stays one line and
    carries no control character, whatever the data in it.

    Raises:
        AlertError: alerts.log cannot be written.
    """
    if not entries:
        return
    from ai_telemetry.report.escape import log_field

    text = "".join("\n".join(log_field(line) for line in lines) + "\n\n" for lines in entries)
    path = settings.alerts_log
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_file(path, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
    except OSError as exc:
        raise AlertError(f"{path}: cannot append alerts ({exc.strerror or exc})") from None


def log_line(settings: Settings, text: str, *, now: datetime) -> None:
    """One notice line in alerts.log (notification failures and late deliveries)."""
    append_log(settings, [[f"[{utc_text(now)}] {text}"]])


def record_alerts(
    settings: Settings,
    current: Sequence[Alert],
    *,
    now: datetime | None = None,
    metrics: Mapping[str, Any] | None = None,
    unchecked: Container[str] = (),
    lock_timeout: float = STATE_LOCK_TIMEOUT,
    project: str | None = None,
) -> Reconciled:
    """Reconcile the alerts that hold now with the state on disk; log what opened and resolved.

    Args:
        settings: where alerts.log and alerts-state.json are.
        current: every alert whose condition holds in this run (`detect_anomalies`).
        now: the clock.
        metrics: the current metrics document, to show resolved alerts' current values.
        unchecked: rules not evaluated in this run; their open alerts stay open.
        lock_timeout: seconds to wait for another run holding the alert state lock.
        project: the project whose metrics were judged (None: the whole store's); only its
            open alerts can resolve.

    Raises:
        AlertError: the state or alerts.log cannot be read or written, or the lock stayed
            held for ``lock_timeout`` seconds.
    """
    from ai_telemetry.analyze.rules import metric_values

    moment = now or datetime.now(UTC)
    with state_lock(settings, timeout=lock_timeout):
        state = read_state(settings)
        changes = reconcile(state, current, now=moment, unchecked=unchecked, project=project)
        entries = [a.lines() for a in changes.opened]
        stamp = utc_text(moment)
        for alert in changes.resolved:
            now_values = metric_values(metrics, alert.metric) if metrics is not None else {}
            entries.append(alert.resolved_lines(at=stamp, value=now_values.get(alert.key)))
        append_log(settings, entries)
        write_state(settings, state)
    return changes


OPEN_FIELDS: Final = (
    "severity",
    "metric",
    "key",
    "value",
    "threshold",
    "analysis",
    "action",
    "opened",
    "rule",
    "project",
)


def open_alerts(settings: Settings, *, project: str | None = None) -> list[dict[str, Any]]:
    """The open alerts (of ``project`` only, when given), most severe first, then oldest first.

    Each dict has ``severity``, ``metric``, ``key``, ``value``, ``threshold``, ``analysis``,
    ``action``, ``opened``, ``rule`` and ``project``, plus ``id``, ``title``, ``current``,
    ``threshold_text``, ``detectors`` and ``last_seen``.

    Raises:
        AlertError: the state file is unreadable.
    """
    rank = {"critical": 0, "warning": 1, "info": 2}
    alerts = list(read_state(settings).open.values())
    if project is not None:
        alerts = [a for a in alerts if a.get("project") == project]
    for alert in alerts:
        for name in OPEN_FIELDS:
            alert.setdefault(name, None)
    alerts.sort(key=lambda a: (rank.get(str(a["severity"]), 3), str(a["opened"]), str(a["id"])))
    return alerts
