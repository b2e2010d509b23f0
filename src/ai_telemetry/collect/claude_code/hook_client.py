"""The hook's client side: hand one Claude Code hook event to the warm hook daemon.

Claude Code starts the hook command on every tool call (twice: PreToolUse and PostToolUse),
and a Python process that imports ``pathlib``, ``re`` and ``json`` already costs about 2.5
times a bare ``python -c pass``. So the hook process does no telemetry work itself: it sends
its stdin, working directory and the few environment variables that matter to a long-lived
daemon (`ai_telemetry.collect.claude_code.daemon`) over a UNIX socket, and exits with the
daemon's answer.

Why the imports are what they are: this module runs in every hook process, before anything
else, so it imports only ``os``, ``sys`` and ``time`` (loaded by the interpreter anyway) and
``_socket``, the C half of ``socket``. The ``socket`` module itself imports ``enum`` and
``selectors``, and ``pathlib`` imports ``re`` and ``fnmatch``: several times the cost of this
whole client. `claude-code install` runs it as ``python -I -S .../hook_main.py`` (no ``site``:
see `ai_telemetry.collect.claude_code.hook_main`); ``ai-telemetry hook`` runs it too.

The wire format (protocol version `PROTOCOL`), one request and one reply per connection::

    request: u32 header length, u32 payload length, header, payload
             header = NUL-joined: protocol, op, package version, cwd, request id,
                      client time (Unix ns), NAME=value, ...
             op = "H" (handle a hook event) or "S" (status, for tests and doctor)
    reply:   "F"                      -- not handled: do it yourself (version mismatch, ...)
             "A"                      -- accepted: the request is in the daemon's spool
    then:    the client sends "G" (go), the daemon works and replies u32 length, body
             body = exit code, NUL, stderr text

Who owns the event, so that none is lost and none written twice:

- Until the client reads ``A`` the event is the client's. The daemon writes the request to the
  spool (`spool_dir`, ``<request id>.req``) *before* it sends ``A``. A client that gets no
  ``A`` within `ACCEPT_TIMEOUT` writes the same file itself (same name: one file, one event)
  and exits; the daemon replays the spool (`ai_telemetry.collect.claude_code.hook_spool`).
- After ``A`` the event is on disk and the daemon's. With ``G`` the daemon handles it at once
  and deletes the spool file once the events are written (or moved to the spool as events,
  when the log cannot be written in time); a daemon that gets no ``G`` leaves the file to its
  replay. A daemon killed at any point after ``A`` leaves the file too, and the next daemon
  replays it: the client starts one when the connection breaks after ``G``.
- The client waits for the answer until `ANSWER_BUDGET` seconds after it started, then exits
  0 whatever happens (a kill-switch block that comes later is not applied).

With no daemon running the client spools the event, starts a daemon (detached) and exits at
once: the new daemon writes it.
"""

# ruff: noqa: PTH102, PTH103, PTH108, PTH109, PTH111, PTH118, SIM105
# (no pathlib, no contextlib on the hook's path: see the module docstring)

from __future__ import annotations

import os
import sys
import time

from ai_telemetry import __version__  # the package is loaded already (we are in it): free

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

PROTOCOL = b"2"
OP_HOOK = b"H"
OP_STATUS = b"S"
FALLBACK = b"F"
ACCEPTED = b"A"
GO = b"G"
ACCEPT_TIMEOUT = 0.3
"""Seconds a client waits to connect, send and be accepted before it spools the event."""
ANSWER_BUDGET = 0.6
"""Seconds after its start by which a client has exited, whatever the daemon does."""
FORWARDED_ENV = ("CLAUDE_PROJECT_DIR", "HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME")
"""Environment sent with each request, besides every ``AI_TELEMETRY_*`` variable."""
SPOOL_SUFFIX = ".req"
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes with the terminating NUL
NOT_RUNNING = -1
"""`ask_daemon` result: no daemon listens at the socket (start one)."""
UNANSWERED = -2
"""`ask_daemon` result: no ``A`` in time (the event is still the client's)."""
REFUSED = -3
"""`ask_daemon` result: the daemon answered ``F`` (do it in-process)."""
TAKEN = -4
"""`ask_daemon` result: accepted, but no answer in time or the daemon went away (it's spooled)."""


def state_base(environ: Mapping[str, str]) -> str:
    """``$AI_TELEMETRY_STATE_DIR``, else ``$XDG_STATE_HOME/ai-telemetry`` (``~/.local/state``).

    The same directory as `ai_telemetry.collect.sdk.state_dir`, without importing it.
    """
    explicit = environ.get("AI_TELEMETRY_STATE_DIR")
    if explicit:
        return explicit
    state = environ.get("XDG_STATE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state, "ai-telemetry")


def socket_dir(environ: Mapping[str, str]) -> str:
    """The daemon's private directory (mode 0700).

    ``$AI_TELEMETRY_STATE_DIR/run`` when that is set (an explicit state directory keeps
    everything of ours, tests rely on it), else ``$XDG_RUNTIME_DIR/ai-telemetry``, else
    ``run`` under `state_base`.
    """
    if environ.get("AI_TELEMETRY_STATE_DIR"):
        return os.path.join(state_base(environ), "run")
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "ai-telemetry")
    return os.path.join(state_base(environ), "run")


def spool_dir(environ: Mapping[str, str]) -> str:
    """Where hook events wait that could not be written yet: ``hook-spool`` in `state_base`.

    Not in the telemetry directory (a full or locked one is the reason to spool) and not in
    ``$XDG_RUNTIME_DIR`` (a reboot would empty it).
    """
    return os.path.join(state_base(environ), "hook-spool")


def socket_path(environ: Mapping[str, str], version: str) -> str | None:
    """The daemon's socket, ``hook-<uid>-<version>.sock`` in `socket_dir` (None if too long).

    The version is in the name so that two installs of different versions (a ``--user`` hook
    and a project's, both run for every event) each keep their own daemon warm instead of
    stopping each other's on every call.
    """
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in version)[:40]
    path = os.path.join(socket_dir(environ), f"hook-{os.getuid()}-{safe}.sock")
    return path if len(os.fsencode(path)) <= _SUN_PATH_MAX else None


def lock_path(sock_path: str) -> str:
    """The daemon's single-instance lock (it holds its pid): ``hook-<uid>-<version>.lock``."""
    return sock_path.removesuffix(".sock") + ".lock"


def daemon_enabled(environ: Mapping[str, str]) -> bool:
    """False with ``AI_TELEMETRY_HOOK_DAEMON=0`` or ``AI_TELEMETRY_RAISE`` (tests see errors)."""
    if environ.get("AI_TELEMETRY_RAISE", "") not in ("", "0"):
        return False
    return environ.get("AI_TELEMETRY_HOOK_DAEMON", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


def new_request_id(now_ns: int) -> str:
    """A spool-file name: the time first (the spool replays in order), then 64 random bits."""
    return f"{now_ns:019d}-{os.urandom(8).hex()}"


def encode_request(
    op: bytes,
    version: str,
    cwd: str,
    env: list[bytes],
    payload: bytes,
    *,
    request_id: str = "",
    now_ns: int = 0,
) -> bytes:
    """One request frame (see the module docstring)."""
    header = b"\0".join(
        [
            PROTOCOL,
            op,
            version.encode(),
            os.fsencode(cwd),
            request_id.encode(),
            str(now_ns).encode(),
            *env,
        ]
    )
    return len(header).to_bytes(4, "big") + len(payload).to_bytes(4, "big") + header + payload


def forwarded_env() -> list[bytes]:
    """``NAME=value`` of this process's ``AI_TELEMETRY_*`` and `FORWARDED_ENV` variables."""
    names = tuple(n.encode() for n in FORWARDED_ENV)
    return [
        k + b"=" + v for k, v in os.environb.items() if k.startswith(b"AI_TELEMETRY_") or k in names
    ]


def write_spool_file(directory: str, name: str, data: bytes) -> bool:
    """Put ``data`` at ``directory/name`` unless that name exists (temp file, then link).

    A request spooled by the daemon and by its client has one name, so it is one file.
    Returns False (and leaves no temp file) when it cannot be written.
    """
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    try:
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(directory, 0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        try:
            os.link(tmp, os.path.join(directory, name))
        except FileExistsError:
            pass
        return True
    except OSError:
        return False
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def ask_daemon(path: str, request: bytes, *, deadline: float | None = None) -> tuple[int, bytes]:
    """Send one request: (exit code, stderr bytes), or (`NOT_RUNNING`, ...) with b"".

    Args:
        path: the daemon's socket.
        request: an `encode_request` frame.
        deadline: ``time.monotonic()`` by which to give up waiting for the answer (default:
            `ANSWER_BUDGET` from now).
    """
    import _socket

    end = time.monotonic() + ANSWER_BUDGET if deadline is None else deadline
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    accepted = False
    try:
        sock.settimeout(max(0.01, min(ACCEPT_TIMEOUT, end - time.monotonic())))
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            return NOT_RUNNING, b""
        sock.sendall(request)
        reply = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:  # closed, or timed out, before the whole reply
                return (TAKEN if accepted else UNANSWERED), b""
            reply += chunk
            if not accepted:
                if reply == FALLBACK:
                    return REFUSED, b""
                if reply != ACCEPTED:
                    return UNANSWERED, b""
                accepted = True  # the request is in the daemon's spool: never redo it
                try:
                    sock.sendall(GO)
                except OSError:  # the daemon is gone: its spool file stays for the next one
                    return TAKEN, b""
                reply = b""
                sock.settimeout(max(0.01, end - time.monotonic()))
                continue
            if len(reply) >= 4 and len(reply) >= 4 + int.from_bytes(reply[:4], "big"):
                code, _, text = reply[4:].partition(b"\0")
                return (2 if code == b"2" else 0), text
    except OSError:
        return (TAKEN if accepted else UNANSWERED), b""
    finally:
        sock.close()


def daemon_alive(path: str) -> bool:
    """True when a daemon holds the socket's lock (serving, starting up, or about to exit)."""
    import fcntl

    try:
        fd = os.open(lock_path(path), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def start_daemon(path: str) -> None:
    """Start the daemon detached (own session, stdio on /dev/null); never raise."""
    from ai_telemetry.detached import spawn_module

    spawn_module("ai_telemetry.collect.claude_code.daemon", path)


def run_client(argv: list[str]) -> int:
    """The hook: through the daemon when there is one, else spooled for the one it starts.

    In-process only when the daemon is disabled, refuses the request (another version), or
    the spool cannot be written.

    Returns:
        the hook's exit code: 0, or 2 when the tool-call limit blocks a PreToolUse.
    """
    start = time.monotonic()
    raw: bytes | None = None
    answer: tuple[int, bytes] | None = None
    try:
        raw = sys.stdin.buffer.read()
        path = socket_path(os.environ, __version__) if daemon_enabled(os.environ) else None
        if path is not None:
            answer = _via_daemon(path, raw, start + ANSWER_BUDGET)
    except Exception:  # noqa: S110 - no stdin, ...: the in-process hook runs and records why
        pass
    if answer is not None:  # the daemon or its spool has the event: never redo it
        code, text = answer
        if text:
            try:
                sys.stderr.write(text.decode("utf-8", "replace"))
                sys.stderr.flush()
            except Exception:  # noqa: S110 - a closed stderr must not fail Claude Code
                pass
        return code
    return _in_process(argv, raw)


def _in_process(argv: list[str], raw: bytes | None) -> int:
    if "site" not in sys.modules:  # started with -S (hook_main): the venv's packages too
        try:
            import site

            site.main()
        except Exception:  # noqa: S110 - the package itself is on sys.path already
            pass
    from io import BytesIO

    from ai_telemetry.collect.claude_code.hook import run_hook

    return run_hook(argv, stdin=None if raw is None else BytesIO(raw))


def _via_daemon(path: str, raw: bytes, deadline: float) -> tuple[int, bytes] | None:
    """The answer (exit code, stderr) once the daemon or the spool has the event, else None."""
    try:
        cwd = os.getcwd()
    except OSError:  # deleted: the daemon then needs CLAUDE_PROJECT_DIR, as the hook does
        cwd = ""
    now_ns = time.time_ns()
    request_id = new_request_id(now_ns)
    frame = encode_request(
        OP_HOOK, __version__, cwd, forwarded_env(), raw, request_id=request_id, now_ns=now_ns
    )
    code, text = ask_daemon(path, frame, deadline=deadline)
    if code >= 0:
        return code, text
    if code == TAKEN:
        if not daemon_alive(path):  # it died after taking the event: the next one replays it
            start_daemon(path)
        return 0, b""
    if code == REFUSED:
        return None
    if not write_spool_file(spool_dir(os.environ), request_id + SPOOL_SUFFIX, frame):
        return None  # no spool either (disk full, ...): do it here
    if code == NOT_RUNNING and not daemon_alive(path):
        start_daemon(path)  # it writes what we spooled; the next call goes through it
    return 0, b""


def main() -> int:
    """Entry point of `ai_telemetry.collect.claude_code.hook_main` (``sys.argv[1:]``)."""
    args = sys.argv[1:]
    return run_client(args[1:] if args[:1] == ["hook"] else args)
