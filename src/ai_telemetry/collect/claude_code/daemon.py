"""The warm hook daemon: runs the Claude Code hook logic for many short hook processes.

``ai-telemetry hook`` is a tiny client (`ai_telemetry.collect.claude_code.hook_client`): it
sends each hook event here over a UNIX socket and exits with the answer, so the imports, the
settings code and the privacy detectors' compiled patterns are paid once per daemon, not once
per tool call. The first hook call that finds no daemon starts one::

    python -P -m ai_telemetry.collect.claude_code.daemon SOCKET_PATH

- One daemon per user, version and socket: an exclusive ``flock`` on ``hook-<uid>-<version>.lock``
  (which holds the daemon's pid) beside the socket; a second daemon waits a moment, then exits.
- Private: the directory is mode 0700 and owned by the user, the socket mode 0600, so no other
  user can connect. Payloads are never logged.
- Each request is written to the hook spool before it is accepted (so a daemon killed at any
  later point loses nothing: the next daemon replays it), then runs
  `ai_telemetry.collect.claude_code.hook.run_hook` in its own thread, with the client's
  environment, working directory and time (never this process's), waiting at most
  `LOCK_WAIT_SERVE` seconds for each lock, and replies with the exit code and the stderr text
  (a kill-switch block: exit 2 and the reason). See `hook_client` for who owns the event when.
- A thread replays the spool when the daemon starts and every `hook_spool.REPLAY_EVERY`
  seconds: requests spooled by clients (no daemon yet, or no answer in time) and events whose
  write failed (log locked by another process, disk full).
- With forwarding configured (``claude-code install --server``), a thread ships the forward
  spool to the server (`ai_telemetry.collect.claude_code.forward.Forwarder`).
- It exits after ``AI_TELEMETRY_HOOK_DAEMON_IDLE`` seconds without a request (default 600;
  later while the forward spool holds events the server has not acknowledged),
  and when a client of another version comes, or its own code changed on disk (an editable
  install being edited): that client does its event itself, the next one starts a new daemon.
- A bad request never stops it: it is answered "do it yourself" (or exit 0) and forgotten.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from contextlib import suppress
from io import BytesIO, StringIO
from pathlib import Path

from ai_telemetry import __version__
from ai_telemetry.collect.claude_code.hook_client import (
    ACCEPTED,
    FALLBACK,
    GO,
    OP_HOOK,
    OP_STATUS,
    SPOOL_SUFFIX,
    encode_request,
    lock_path,
    socket_path,
    spool_dir,
)
from ai_telemetry.collect.claude_code.hook_spool import (
    REPLAY_EVERY,
    Request,
    decode_request,
    hold_request,
    release,
    replay,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_IDLE = 600.0
"""Seconds without a request after which the daemon exits."""
LOCK_WAIT = 3.0
"""Seconds a new daemon waits for an exiting one to release the lock."""
HEADER_MAX = 1 << 20
PAYLOAD_MAX = 64 << 20
"""Larger requests are answered "do it yourself"."""
LOCK_WAIT_SERVE = 0.2
"""Seconds a served request waits for each lock: its client waits at most ~0.6 s in all."""
LOCK_WAIT_REPLAY = 0.1
"""Seconds a replayed spool file waits for each lock (it is tried again a second later)."""
SHUTDOWN_WAIT = 5.0
"""Seconds an exiting daemon lets running requests finish (each is bounded well below)."""
_READ_TIMEOUT = 2.0
_REPLAYED_IDS_KEPT = 10_000
_CODE_CHECK_EVERY = 1.0


def read_request(conn: socket.socket) -> tuple[Request, bytes] | None:
    """Decode one request frame: (request, the frame's bytes); None if malformed or too big."""
    sizes = _recv_exact(conn, 8)
    if sizes is None:
        return None
    header_len = int.from_bytes(sizes[:4], "big")
    payload_len = int.from_bytes(sizes[4:], "big")
    if header_len > HEADER_MAX or payload_len > PAYLOAD_MAX:
        return None
    body = _recv_exact(conn, header_len + payload_len)
    if body is None:
        return None
    request = decode_request(body[:header_len], body[header_len:])
    return None if request is None else (request, sizes + body)


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def encode_frame(request: Request) -> bytes:
    """The request as a frame again (what is spooled)."""
    env = [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in request.env.items()]
    return encode_request(
        request.op,
        request.version,
        request.cwd,
        env,
        request.payload,
        request_id=request.request_id,
        now_ns=request.unix_ns,
    )


def _result(code: int, text: str) -> bytes:
    body = str(code).encode() + b"\0" + text.encode("utf-8", "replace")
    return len(body).to_bytes(4, "big") + body


class HookDaemon:
    """Serves hook requests on a listening socket until idle or stopped.

    Args:
        listener: a bound, listening UNIX stream socket.
        path: the socket's path (unlinked on exit).
        idle: seconds without a request after which `serve` returns.
        version: this daemon's package version; a client of another one stops it.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        listener: socket.socket,
        *,
        path: str,
        idle: float = DEFAULT_IDLE,
        version: str = __version__,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.listener = listener
        self.path = path
        self.idle = idle
        self.version = version
        self.served = 0
        self.started = time.time()
        self._clock = clock
        self._last = clock()
        self._active = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._stamps: dict[str, int] = {}
        self._checked = clock()
        self._code_changed()  # record the files as they are now
        self.replayed = 0
        self._spools: set[str] = {spool_dir(os.environ)}
        # Request ids replayed lately: a request whose client gave up, spooled it and saw it
        # replayed before this daemon got to it must not be taken again (its name is free).
        self._claims = threading.Lock()
        self._replayed_ids: dict[str, None] = {}
        from ai_telemetry.collect.claude_code.forward import Forwarder

        self.forwarder = Forwarder(os.environ, self._stopping)
        self._replayer = threading.Thread(target=self._replay_loop, daemon=True)
        self._replayer.start()

    def _replay_one(self, name: str, data: bytes) -> bool:
        from ai_telemetry.collect.claude_code.hook import replay_file

        request_id = name.rsplit(".", 1)[0]
        with self._claims:
            self._replayed_ids[request_id] = None
            while len(self._replayed_ids) > _REPLAYED_IDS_KEPT:
                del self._replayed_ids[next(iter(self._replayed_ids))]
        return replay_file(name, data, lock_wait=LOCK_WAIT_REPLAY)

    def _replay_loop(self) -> None:
        """Write what waits in the spools seen so far, now and every `REPLAY_EVERY` s."""
        while not self._stopping.is_set():
            with suppress(Exception):  # forwarding is tried again on the next pass
                self.forwarder.poll()
            with self._lock:
                directories = sorted(self._spools)
            for directory in directories:
                try:
                    done = replay(directory, self._replay_one)
                except Exception:  # noqa: S112 - a bad spool file never stops the daemon
                    continue
                if done:
                    with self._lock:
                        self.replayed += done
                        self._last = self._clock()
            self._stopping.wait(REPLAY_EVERY)

    def serve(self) -> None:
        """Accept and handle requests (one thread each) until idle or `stop`; then clean up."""
        self.listener.settimeout(max(0.05, min(1.0, self.idle / 4)))
        while not self._stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                with self._lock:
                    idle = not self._active and self._clock() - self._last >= self.idle
                if idle and not self.forwarder.pending():  # events the server has not taken
                    break
                continue
            except OSError:  # out of descriptors, ...: let running requests finish
                time.sleep(0.05)
                continue
            with self._lock:
                self._active += 1
                self._last = self._clock()
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()
        self._shutdown()

    def stop(self) -> None:
        """Stop accepting: the socket goes at once, so the next client starts a new daemon."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._unlink()

    def _unlink(self) -> None:
        with suppress(OSError):
            Path(self.path).unlink()

    def _shutdown(self) -> None:
        self._unlink()
        self.listener.close()
        deadline = self._clock() + SHUTDOWN_WAIT
        while self._clock() < deadline:
            with self._lock:
                if not self._active:
                    return
            time.sleep(0.01)

    def _serve_one(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(_READ_TIMEOUT)
            self.handle(conn)
        except Exception:  # noqa: S110 - a bad request or a gone client never stops the daemon
            pass
        finally:
            conn.close()
            with self._lock:
                self._active -= 1
                self._last = self._clock()

    def handle(self, conn: socket.socket) -> None:
        """Answer one connection: fallback, status, or accept then run the hook."""
        received = read_request(conn)
        if received is None:
            conn.sendall(FALLBACK)
            return
        request, _ = received
        if request.version != self.version or self._code_changed():
            conn.sendall(FALLBACK)  # that client does its event; the next one starts afresh
            self.stop()
            return
        status = request.op == OP_STATUS
        if not status and (
            request.op != OP_HOOK or request.env.get("HOME") != os.environ.get("HOME")
        ):
            conn.sendall(FALLBACK)  # `~` in settings would expand against the wrong home
            return
        if status:
            conn.sendall(ACCEPTED)
            if conn.recv(1) == GO:
                conn.sendall(_result(0, json.dumps(self.status())))
            return
        from ai_telemetry.collect.claude_code.hook import reduce_payload

        # Only what the hook reads is spooled and handled (no tool inputs or outputs on disk).
        request.payload = reduce_payload(request.payload)
        held = self._hold(request, encode_frame(request))
        if held is None:
            return  # its client gave up and spooled it already: the replay writes it
        directory, fd = held
        done = False
        try:
            conn.sendall(ACCEPTED)  # from here on the event is in the spool: ours
            if conn.recv(1) != GO:
                return  # the client went away: the replay writes it
            code, text = self.run(request)
            done = True
        finally:
            if fd >= 0:
                release(directory, request.request_id, fd, done=done)
        conn.sendall(_result(code, text))

    def _hold(self, request: Request, frame: bytes) -> tuple[str, int] | None:
        """Spool the request, locked: (spool directory, descriptor).

        The descriptor is -1 when the request cannot be spooled (no id, disk full): it is then
        served unspooled, as a last resort. None: its client spooled it already (it gave up).
        """
        if not request.request_id:
            return ("", -1)
        directory = spool_dir(request.env)
        with self._lock:
            self._spools.add(directory)
        with self._claims:  # atomic with the replay's claim (see `_replay_one`)
            if request.request_id in self._replayed_ids:
                return None
            fd = hold_request(directory, request.request_id, frame)
        if fd is None and not (Path(directory) / (request.request_id + SPOOL_SUFFIX)).exists():
            return ("", -1)
        return None if fd is None else (directory, fd)

    def run(self, request: Request) -> tuple[int, str]:
        """Run the hook for one request: (exit code, stderr text); never raise."""
        from ai_telemetry.collect.claude_code.hook import run_hook

        stderr = StringIO()
        unix = request.unix_ns / 1e9 if request.unix_ns else time.time()
        try:
            code = run_hook(
                [],
                stdin=BytesIO(request.payload),
                stderr=stderr,
                environ=request.env,
                cwd=request.cwd or None,
                clock=lambda: unix,
                request_id=request.request_id or None,
                lock_wait=LOCK_WAIT_SERVE,
                replay_spool=False,
            )
        except Exception:  # run_hook swallows its own errors; this is belt and braces
            code = 0
        with self._lock:
            self.served += 1
        return (2 if code == 2 else 0), stderr.getvalue() if code == 2 else ""

    def status(self) -> dict[str, object]:
        """What the daemon is: pid, version, requests served, start time, socket."""
        with self._lock:
            served = self.served
            replayed = self.replayed
        return {
            "pid": os.getpid(),
            "version": self.version,
            "served": served,
            "replayed": replayed,
            "started_unix": self.started,
            "socket": self.path,
            "forward": {
                "url": self.forwarder.config.url if self.forwarder.config else None,
                "shipped": self.forwarder.shipped,
                "problem": self.forwarder.problem,
            },
        }

    def _code_changed(self) -> bool:
        """True once a loaded ``ai_telemetry`` module's file changed (checked at most 1/s)."""
        now = self._clock()
        if self._stamps and now - self._checked < _CODE_CHECK_EVERY:
            return False
        self._checked = now
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if not (name == "ai_telemetry" or name.startswith("ai_telemetry.")) or not path:
                continue
            try:
                stamp = Path(path).stat().st_mtime_ns
            except OSError:
                return True
            if self._stamps.setdefault(path, stamp) != stamp:
                return True
        return False


def idle_seconds(environ: dict[str, str] | os._Environ[str]) -> float:
    """``AI_TELEMETRY_HOOK_DAEMON_IDLE`` (seconds, > 0), else `DEFAULT_IDLE`."""
    try:
        value = float(environ.get("AI_TELEMETRY_HOOK_DAEMON_IDLE", ""))
    except ValueError:
        return DEFAULT_IDLE
    return value if value > 0 else DEFAULT_IDLE


def private_dir(directory: Path) -> bool:
    """Create ``directory`` mode 0700 if needed; True if it is ours and private."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
        if info.st_uid != os.getuid():
            return False
        if info.st_mode & 0o077:
            directory.chmod(0o700)
    except OSError:
        return False
    return True


def acquire_lock(path: str, *, wait: float = LOCK_WAIT) -> int | None:
    """Take the single-instance lock (writing our pid into it); None if another daemon keeps it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(0.05)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def bind(path: str) -> socket.socket:
    """Listen on ``path`` (mode 0600), replacing a stale socket file left by a dead daemon."""
    Path(path).unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    Path(path).chmod(0o600)
    listener.listen(128)
    return listener


def main(argv: list[str] | None = None) -> int:
    """Run the daemon on the socket given (default: `socket_path` of the environment)."""
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else socket_path(os.environ, __version__)
    if not path or not private_dir(Path(path).parent):
        return _replay_once()
    os.chdir("/")  # hold no project directory busy
    try:
        lock_fd = acquire_lock(lock_path(path))
    except OSError:
        return _replay_once()
    if lock_fd is None:
        return 0  # another daemon serves this socket (and replays the spool)
    try:
        try:
            listener = bind(path)
        except OSError:
            return _replay_once()
        daemon = HookDaemon(listener, path=path, idle=idle_seconds(os.environ))
        daemon.serve()
    finally:
        os.close(lock_fd)
    return 0


def _replay_once() -> int:
    """A daemon that cannot serve still writes what its clients spooled, then exits."""
    from ai_telemetry.collect.claude_code.hook import replay_spool_of

    replay_spool_of(os.environ, lock_wait=LOCK_WAIT_REPLAY, budget=30.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
