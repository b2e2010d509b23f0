"""The hook's client side: hand one Claude Code hook event to the warm hook daemon.

Claude Code starts ``ai-telemetry hook`` on every tool call (twice: PreToolUse and
PostToolUse), and a Python process that imports ``pathlib``, ``re`` and ``json`` already costs
about 2.5 times a bare ``python -c pass``. So the hook process does no telemetry work itself:
it sends its stdin, working directory and the few environment variables that matter to a
long-lived daemon (`ai_telemetry.collect.claude_code.daemon`) over a UNIX socket, and exits with
the daemon's answer. When there is no daemon, it starts one (detached) for the next call and
does this call in-process, as before.

Why the imports are what they are: this module runs in every hook process, before anything
else, so it imports only ``os`` and ``sys`` (loaded by the interpreter anyway) and ``_socket``,
the C half of ``socket``. The ``socket`` module itself imports ``enum`` and ``selectors``, and
``pathlib`` imports ``re`` and ``fnmatch``: several times the cost of this whole client.

The wire format (protocol version `PROTOCOL`), one request and one reply per connection::

    request: u32 header length, u32 payload length, header, payload
             header = NUL-joined: protocol, op, package version, cwd, NAME=value, ...
             op = "H" (handle a hook event) or "S" (status, for tests and doctor)
    reply:   "F"                      -- not handled: do it yourself (version mismatch, ...)
             "A"                      -- accepted, if you still want it
    then:    the client sends "G" (go), the daemon works and replies u32 length, body
             body = exit code, NUL, stderr text

The ``G`` is the point of no return. Before sending it, every failure (no daemon, no answer in
time, a refusal) makes the client do the event in-process, and a daemon that gets no ``G`` (the
client gave up) does nothing, so no event is written twice. After it, the client never redoes
the event: a daemon killed in the middle of that one request loses it.
"""

# ruff: noqa: PTH109, PTH111, PTH118
# (no pathlib on the hook's path: see the module docstring)

from __future__ import annotations

import os
import sys

from ai_telemetry import __version__  # the package is loaded already (we are in it): free

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

PROTOCOL = b"1"
OP_HOOK = b"H"
OP_STATUS = b"S"
FALLBACK = b"F"
ACCEPTED = b"A"
GO = b"G"
CONNECT_TIMEOUT = 2.0
"""Seconds a client waits to connect, send and be accepted before doing the work itself."""
RESULT_TIMEOUT = 30.0
"""Seconds a client waits, once accepted, for the result (the work may wait on a file lock)."""
FORWARDED_ENV = ("CLAUDE_PROJECT_DIR", "HOME", "XDG_STATE_HOME")
"""Environment sent with each request, besides every ``AI_TELEMETRY_*`` variable."""
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes with the terminating NUL
NOT_RUNNING = -1
"""`ask_daemon` result: no daemon listens at the socket (start one)."""
UNANSWERED = -2
"""`ask_daemon` result: the daemon did not take the request (do it in-process)."""


def socket_dir(environ: Mapping[str, str]) -> str:
    """The daemon's private directory (mode 0700).

    ``$AI_TELEMETRY_STATE_DIR/run`` when that is set (an explicit state directory keeps
    everything of ours, tests rely on it), else ``$XDG_RUNTIME_DIR/ai-telemetry``, else
    ``run`` under the state directory (``$XDG_STATE_HOME/ai-telemetry``, default
    ``~/.local/state/ai-telemetry``), as `ai_telemetry.collect.sdk.state_dir` computes it.
    """
    explicit = environ.get("AI_TELEMETRY_STATE_DIR")
    if explicit:
        return os.path.join(explicit, "run")
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "ai-telemetry")
    state = environ.get("XDG_STATE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state, "ai-telemetry", "run")


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


def encode_request(op: bytes, version: str, cwd: str, env: list[bytes], payload: bytes) -> bytes:
    """One request frame (see the module docstring)."""
    header = b"\0".join([PROTOCOL, op, version.encode(), os.fsencode(cwd), *env])
    return len(header).to_bytes(4, "big") + len(payload).to_bytes(4, "big") + header + payload


def forwarded_env() -> list[bytes]:
    """``NAME=value`` of this process's ``AI_TELEMETRY_*`` and `FORWARDED_ENV` variables."""
    names = tuple(n.encode() for n in FORWARDED_ENV)
    return [
        k + b"=" + v for k, v in os.environb.items() if k.startswith(b"AI_TELEMETRY_") or k in names
    ]


def ask_daemon(path: str, request: bytes) -> tuple[int, bytes]:
    """Send one request: (exit code, stderr bytes), or (`NOT_RUNNING` or `UNANSWERED`, b"")."""
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            return NOT_RUNNING, b""
        sock.sendall(request)
        reply = b""
        accepted = False
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:  # closed (or timed out) before the whole reply
                return (0, b"") if accepted else (UNANSWERED, b"")
            reply += chunk
            if not accepted:
                if reply != ACCEPTED:
                    return UNANSWERED, b""
                try:
                    sock.sendall(GO)
                except OSError:  # the daemon is gone: it will not do the work
                    return UNANSWERED, b""
                accepted = True  # from here on, never fall back
                reply = b""
                sock.settimeout(RESULT_TIMEOUT)
                continue
            if len(reply) >= 4 and len(reply) >= 4 + int.from_bytes(reply[:4], "big"):
                code, _, text = reply[4:].partition(b"\0")
                return (2 if code == b"2" else 0), text
    except OSError:
        return UNANSWERED, b""
    finally:
        sock.close()


def start_daemon(path: str) -> None:
    """Start the daemon detached (own session, stdio on /dev/null); never raise."""
    try:
        devnull = os.devnull
        os.posix_spawn(
            sys.executable,
            # -P: the client's cwd (a project) must not shadow modules on the daemon's path
            [sys.executable, "-P", "-m", "ai_telemetry.collect.claude_code.daemon", path],
            os.environ,
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
        )
    except OSError:
        pass


def run_client(argv: list[str]) -> int:
    """``ai-telemetry hook``: through the daemon when it answers, else in-process.

    Returns:
        the hook's exit code: 0, or 2 when the tool-call limit blocks a PreToolUse.
    """
    from io import BytesIO

    raw: bytes | None = None
    answer: tuple[int, bytes] | None = None
    try:
        raw = sys.stdin.buffer.read()
        path = socket_path(os.environ, __version__) if daemon_enabled(os.environ) else None
        if path is not None:
            code, text = _via_daemon(path, raw)
            if code >= 0:
                answer = code, text
            elif code == NOT_RUNNING:
                start_daemon(path)  # for the next call; this one is done here
    except Exception:  # noqa: S110 - no stdin, ...: the in-process hook runs and records why
        pass
    if answer is not None:  # the daemon did the work: never redo it, whatever happens now
        code, text = answer
        if text:
            try:
                sys.stderr.write(text.decode("utf-8", "replace"))
                sys.stderr.flush()
            except Exception:  # noqa: S110 - a closed stderr must not fail Claude Code
                pass
        return code
    stdin = None if raw is None else BytesIO(raw)

    from ai_telemetry.collect.claude_code.hook import run_hook

    return run_hook(argv, stdin=stdin)


def _via_daemon(path: str, raw: bytes) -> tuple[int, bytes]:
    try:
        cwd = os.getcwd()
    except OSError:  # deleted: the daemon then needs CLAUDE_PROJECT_DIR, as the hook does
        cwd = ""
    return ask_daemon(path, encode_request(OP_HOOK, __version__, cwd, forwarded_env(), raw))
