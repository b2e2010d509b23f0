"""Forwarding hook events to a team server (``claude-code install --server URL --token T``).

The hook never talks to the network. With forwarding configured it appends its events (same
privacy guard, same ``event_id``) to a local **forward spool**, ``forward/events.jsonl`` in the
state directory, besides the project's log (mode ``both``) or instead of it (mode ``only``).
The hook daemon runs a `Forwarder`: the `ai_telemetry.ship.shipper.Shipper` of
``ai-telemetry ship`` over that spool (one sender, one checkpoint protocol), following it, and
emptying it once the server acknowledged everything. An unreachable server loses nothing: the
spool keeps the events, the sender retries with backoff, and a daemon does not exit for being
idle while the spool holds events the server has not acknowledged.

The configuration is the user's, never the project's and never ``settings.json``:
``$XDG_CONFIG_HOME/ai-telemetry/server.json`` (``~/.config/...``), mode 0600 in a 0700
directory, holding the URL, the token and the mode.

Imported by the hook on every call: ``os`` and ``json`` only at module level.
"""

# ruff: noqa: PTH103, PTH105, PTH108, PTH111, PTH116, PTH118, PTH123
# (os.path on the hook's path, as in hook_client)

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Mapping

CONFIG_NAME = "server.json"
SPOOL_DIR = "forward"
MODES = ("both", "only")
RETRY_REFUSED = 60.0
"""Seconds before a forwarder the server refused (bad token) tries again."""


class ForwardConfig:
    """Where hook events go besides (or instead of) the local log."""

    __slots__ = ("mode", "token", "url")

    def __init__(self, url: str, token: str, mode: str = "both") -> None:
        self.url = url
        self.token = token
        self.mode = mode

    @property
    def only(self) -> bool:
        """True: the server only, the project's log is not written."""
        return self.mode == "only"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ForwardConfig) and (self.url, self.token, self.mode) == (
            other.url,
            other.token,
            other.mode,
        )

    def __hash__(self) -> int:
        return hash((self.url, self.mode))


def config_dir(env: Mapping[str, str]) -> str:
    """``$XDG_CONFIG_HOME/ai-telemetry``, else ``~/.config/ai-telemetry``."""
    base = env.get("XDG_CONFIG_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".config"
    )
    return os.path.join(base, "ai-telemetry")


def config_path(env: Mapping[str, str]) -> str:
    """The forwarding configuration file (see the module docstring)."""
    return os.path.join(config_dir(env), CONFIG_NAME)


def read_config(env: Mapping[str, str]) -> ForwardConfig | None:
    """The forwarding configuration, or None (none, or not one: forwarding is off)."""
    try:
        with open(config_path(env), "rb") as fh:
            doc = json.loads(fh.read(1 << 16))
        url, token, mode = doc["url"], doc["token"], doc.get("mode", "both")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (isinstance(url, str) and isinstance(token, str) and url and token):
        return None
    return ForwardConfig(url, token, mode if mode in MODES else "both")


def write_config(env: Mapping[str, str], config: ForwardConfig) -> str:
    """Store the configuration atomically, mode 0600 (the token is a secret); its path."""
    directory = config_dir(env)
    os.makedirs(directory, 0o700, exist_ok=True)
    path = config_path(env)
    tmp = f"{path}.{os.getpid()}.tmp"
    data = json.dumps({"url": config.url, "token": config.token, "mode": config.mode}, indent=1)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data.encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def remove_config(env: Mapping[str, str]) -> bool:
    """Delete the configuration; True if there was one."""
    try:
        os.unlink(config_path(env))
    except FileNotFoundError:
        return False
    return True


def spool_log(env: Mapping[str, str]) -> str:
    """The forward spool, ``forward/events.jsonl`` in the state directory."""
    from ai_telemetry.collect.claude_code.hook_client import state_base

    return os.path.join(state_base(env), SPOOL_DIR, "events.jsonl")


def checkpoint_file(env: Mapping[str, str]) -> str:
    """The forwarder's ship checkpoint, beside the spool."""
    from ai_telemetry.collect.claude_code.hook_client import state_base

    return os.path.join(state_base(env), SPOOL_DIR, "checkpoint.json")


def unsent(env: Mapping[str, str]) -> bool:
    """True while the forward spool holds events (emptied once all are acknowledged)."""
    try:
        return os.stat(spool_log(env)).st_size > 0
    except OSError:
        return False


class Forwarder:
    """The hook daemon's forwarding thread: ships the forward spool while a config exists.

    `poll` (called by the daemon every second) starts the thread when a configuration appears,
    restarts it when it changes, and stops it when it goes. One forwarder per user at a time
    (the checkpoint's lock): a second daemon's forwarder waits.

    Args:
        env: the daemon's environment (its user's config and state directories).
        stopping: set when the daemon exits.
    """

    def __init__(self, env: Mapping[str, str], stopping: threading.Event) -> None:
        import threading

        self.env = dict(env)
        self.stopping = stopping
        self.config: ForwardConfig | None = None
        self.problem = ""
        self.shipped = 0
        self._thread: threading.Thread | None = None
        self._stop_run = threading.Event()
        self._retry_at = 0.0

    def poll(self) -> None:
        """Start, restart or stop the thread to match the configuration on disk."""
        import threading
        import time

        config = read_config(self.env)
        running = self._thread is not None and self._thread.is_alive()
        if running and config != self.config:
            self._stop_run.set()
            return  # the next poll starts the new one
        if running or config is None or self.stopping.is_set():
            return
        if time.monotonic() < self._retry_at:
            return
        self.config = config
        self._stop_run = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(config,), daemon=True)
        self._thread.start()

    def pending(self) -> bool:
        """True while events wait for the server (a daemon stays up for them)."""
        return self.config is not None and read_config(self.env) is not None and unsent(self.env)

    def _run(self, config: ForwardConfig) -> None:
        import time
        from pathlib import Path

        from ai_telemetry.collect.claude_code.hook_spool import note_problem
        from ai_telemetry.errors import AITelemetryError
        from ai_telemetry.ship.sender import Sender
        from ai_telemetry.ship.shipper import Shipper

        stop = self._stop_run
        try:
            either = _Either(stop, self.stopping)
            sender = Sender(
                config.url,
                config.token,
                should_stop=either.is_set,
                sleep=either.wait,  # a stopping daemon is not held up by a backoff
            )
            shipper = Shipper(
                sender,
                log_path=Path(spool_log(self.env)),
                checkpoint=Path(checkpoint_file(self.env)),
                compact=True,
            )
            shipper.acquire()
        except AITelemetryError as exc:
            self.problem = str(exc)
            self._retry_at = time.monotonic() + RETRY_REFUSED
            return
        try:
            while not (stop.is_set() or self.stopping.is_set()):
                try:
                    report = shipper.run(follow=True, stop=either)
                    self.shipped = report.lines
                except AITelemetryError as exc:  # refused (token revoked, ...): say so, wait
                    self.problem = str(exc)
                    note_problem(self.env, spool_log(self.env), "forward_refused", str(exc))
                    stop.wait(RETRY_REFUSED)
        finally:
            shipper.release()


class _Either:
    """An Event-like that is set when either of two events is (what `Shipper.run` polls)."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()

    def wait(self, timeout: float) -> bool:
        import time

        end = time.monotonic() + timeout
        while not self.is_set() and (left := end - time.monotonic()) > 0:
            self.a.wait(min(left, 0.1))
        return self.is_set()
