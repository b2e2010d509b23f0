"""``ai-telemetry statusline``: Claude Code's ``statusLine`` command, one line of usage.

Claude Code runs the status line command on every refresh with its status JSON on stdin
(``session_id``, ``transcript_path``, ``cwd``, ``workspace``, ``model``, ``cost``...), so it is
held to the hook's budget (at most 2x a bare ``python -c pass``). The fast path therefore never
opens the warehouse: it reads ``statusline.cache`` in the telemetry directory, the numbers
computed by the last refresh, and prints::

    session $1.23 | today $4.56 | block $2.10, 2h13m left | skills 92% (7d)

When those numbers are older than `STALE_SECONDS`, or do not know this session, it starts one
refresh in the background (``ai-telemetry statusline --refresh``, at most one at a time): that
imports the session's project folder of transcripts (unchanged files cost a ``stat``), ingests
the warehouse and computes the numbers with `ai_telemetry.analyze.usage`, the one place usage
is computed. Until a refresh knows the session, its cost is Claude Code's own figure
(``cost.total_cost_usd``). The block's time left is counted from its end at print time. Days
are UTC days. Anything wrong prints a shorter line, never an error: the status line is
someone else's screen.

Only ``os`` and ``time`` are imported on the fast path: not ``json`` (which imports ``re``), not
``contextlib`` (``enum``). The few payload fields it needs are read by `field` (the payload
is JSON, in which a quote inside a string is always escaped, so ``"key":`` is a key), and the
cache is lines of ``name value`` (`parse_cache`, `format_cache`).
"""

# ruff: noqa: PTH103, PTH108, PTH109, PTH116, PTH118, PTH120, PTH123
# (no pathlib on the status line's fast path: see the module docstring)
from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from ai_telemetry.documents.types import StatuslineDocument

CACHE_FILE = "statusline.cache"
LOCK_FILE = ".statusline-refresh.lock"
STALE_SECONDS = 30.0
UNKNOWN_SESSION_SECONDS = 5.0
"""A session the numbers do not know yet is looked for again after this (not on every call)."""
LOCK_SECONDS = 120.0
_SESSIONS_KEPT = 20


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_SPACE = " \t\r\n"
_NUMBER = "0123456789+-.eE"


def _value_start(text: str, key: str) -> int:
    """Index just past ``"key":`` (and spaces), or -1."""
    quoted = f'"{key}"'
    at = text.find(quoted)
    while at >= 0:
        i = at + len(quoted)
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i < len(text) and text[i] == ":":
            i += 1
            while i < len(text) and text[i] in _SPACE:
                i += 1
            return i
        at = text.find(quoted, at + 1)  # that was a string value, not a key
    return -1


def field(text: str, key: str) -> str | float | None:
    """The string or number value of ``key`` anywhere in a JSON text (first key of that name).

    Enough for Claude Code's status JSON, whose keys we read are unique; None for anything else
    (an object, an array, ``null``, a malformed text).
    """
    i = _value_start(text, key)
    if i < 0 or i >= len(text):
        return None
    if text[i] == '"':
        out: list[str] = []
        i += 1
        while i < len(text):
            c = text[i]
            if c == '"':
                return "".join(out)
            if c == "\\":
                nxt = text[i + 1 : i + 2]
                if nxt == "u":
                    try:
                        out.append(chr(int(text[i + 2 : i + 6], 16)))
                    except ValueError:
                        return None
                    i += 6
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            out.append(c)
            i += 1
        return None
    end = i
    while end < len(text) and text[end] in _NUMBER:
        end += 1
    try:
        return float(text[i:end])
    except ValueError:
        return None


def _payload(raw: bytes) -> dict[str, Any]:
    """The fields of Claude Code's status JSON that we use."""
    text = raw.decode("utf-8", "replace") if raw else ""
    out: dict[str, Any] = {}
    for key in ("session_id", "transcript_path", "cwd", "project_dir"):
        value = field(text, key)
        if isinstance(value, str) and value:
            out[key] = value
    cost = field(text, "total_cost_usd")
    if isinstance(cost, float):
        out["total_cost_usd"] = cost
    return out


def parse_cache(text: str) -> dict[str, Any]:
    """``statusline.cache``: ``name value`` lines; ``session <id> <cost>`` once per session."""
    out: dict[str, Any] = {"sessions": {}}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name == "session":
            sid, _, cost = rest.rpartition(" ")
            try:
                out["sessions"][sid] = float(cost)
            except ValueError:
                continue
        elif name in ("today", "computed_at"):
            out[name] = rest
        elif rest:
            try:
                out[name] = float(rest)
            except ValueError:
                continue
    return out


def format_cache(data: dict[str, Any]) -> str:
    """The text of ``statusline.cache`` (the inverse of `parse_cache`)."""
    lines = [f"{k} {v}" for k, v in data.items() if k != "sessions" and v is not None and v != ""]
    lines += [f"session {sid} {cost}" for sid, cost in data.get("sessions", {}).items()]
    return "\n".join(lines) + "\n"


def telemetry_dir(payload: dict[str, Any]) -> str:
    """Where the hook writes: AI_TELEMETRY_DIR, else ``<project>/.claude/Telemetry``."""
    explicit = os.environ.get("AI_TELEMETRY_DIR")
    if explicit:
        return explicit
    log_path = os.environ.get("AI_TELEMETRY_LOG_PATH")
    if log_path:
        return os.path.dirname(log_path) or "."
    base = payload.get("project_dir") or payload.get("cwd") or os.getcwd()
    return os.path.join(str(base), ".claude", "Telemetry")


def _read_cache(folder: str) -> dict[str, Any]:
    try:
        with open(os.path.join(folder, CACHE_FILE), encoding="utf-8") as fh:
            return parse_cache(fh.read())
    except (OSError, ValueError):
        return {"sessions": {}}


def _start_refresh(folder: str, payload: dict[str, Any]) -> None:
    """One background refresh at a time (a lock file younger than LOCK_SECONDS holds)."""
    lock = os.path.join(folder, LOCK_FILE)
    try:
        if time.time() - os.stat(lock).st_mtime < LOCK_SECONDS:
            return
        os.unlink(lock)  # a refresh that died
    except OSError:
        pass
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(fd)
    except OSError:
        return
    import subprocess
    import sys

    session = payload.get("session_id")
    transcript = payload.get("transcript_path")
    cmd = [
        sys.executable,
        "-m",
        "ai_telemetry",
        "statusline",
        "--refresh",
        session if isinstance(session, str) else "",
    ]
    if isinstance(transcript, str) and transcript:
        cmd += ["--transcript", transcript]
    env = {**os.environ, "AI_TELEMETRY_DIR": folder}
    try:
        subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=os.path.dirname(folder.rstrip("/")) or ".",
        )
    except OSError:
        try:  # noqa: SIM105 - contextlib costs the fast path its enum import
            os.unlink(lock)
        except OSError:
            pass


def _money(value: float) -> str:
    return f"${value:,.2f}"


def numbers(payload: dict[str, Any], cache: dict[str, Any], now: float) -> dict[str, Any]:
    """The statusline's numbers from the cache (and the payload for a session not known yet)."""
    session = payload.get("session_id")
    sessions: dict[str, float] = cache.get("sessions") or {}
    session_cost = sessions.get(session) if session else None
    if session_cost is None:
        session_cost = payload.get("total_cost_usd")
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    today_cost = cache.get("today_cost_usd") if cache.get("today") == today else 0.0
    block_end = cache.get("block_end")
    block_cost = None
    left = None
    if isinstance(block_end, float) and block_end > now:
        block_cost = cache.get("block_cost_usd")
        left = (block_end - now) / 60
    return {
        "session_id": session,
        "session_cost_usd": session_cost,
        "today_cost_usd": float(today_cost or 0.0),
        "block_cost_usd": block_cost,
        "block_remaining_minutes": None if left is None else round(left, 1),
        "week_skill_success_rate": cache.get("week_skill_success_rate"),
        "computed_at": cache.get("computed_at") or "",
    }


def line_of(values: dict[str, Any]) -> str:
    """The one line Claude Code shows."""
    parts = []
    if values["session_cost_usd"] is not None:
        parts.append(f"session {_money(values['session_cost_usd'])}")
    parts.append(f"today {_money(values['today_cost_usd'])}")
    if values["block_cost_usd"] is not None and values["block_remaining_minutes"] is not None:
        left = int(values["block_remaining_minutes"])
        parts.append(
            f"block {_money(values['block_cost_usd'])}, {left // 60}h{left % 60:02d}m left"
        )
    rate = values["week_skill_success_rate"]
    if isinstance(rate, int | float):
        parts.append(f"skills {rate:.0%} (7d)")
    return " | ".join(parts)


def _values(raw: bytes, now: float | None = None, *, may_refresh: bool = True) -> dict[str, Any]:
    payload = _payload(raw)
    folder = telemetry_dir(payload)
    cache = _read_cache(folder)
    moment = time.time() if now is None else now
    age = moment - float(cache.get("computed_epoch") or 0)
    known = payload.get("session_id") in (cache.get("sessions") or {})
    if may_refresh and (age > STALE_SECONDS or (not known and age > UNKNOWN_SESSION_SECONDS)):
        _start_refresh(folder, payload)
    return numbers(payload, cache, moment)


def render(raw: bytes, now: float | None = None) -> str:
    """The line for one status JSON payload (starting a refresh when the numbers are stale)."""
    try:
        return line_of(_values(raw, now))
    except Exception:  # someone else's screen: a shorter line, never a traceback
        return "ai-telemetry: no usage yet"


def document(raw: bytes, *, refresh_first: bool = False) -> StatuslineDocument:
    """``statusline --json``: the numbers of the line and the line.

    Args:
        raw: Claude Code's status JSON.
        refresh_first: compute the numbers now, in this process (no background refresh).
    """
    from typing import cast

    from ai_telemetry.documents import header

    payload = _payload(raw)
    if refresh_first:
        session = payload.get("session_id")
        transcript = payload.get("transcript_path")
        from pathlib import Path

        refresh(
            session_id=session if isinstance(session, str) else None,
            transcript=Path(transcript) if isinstance(transcript, str) and transcript else None,
            settings_dir=telemetry_dir(payload),
        )
    values = _values(raw, may_refresh=not refresh_first)
    doc: dict[str, Any] = {**header("statusline"), **values, "line": line_of(values)}
    return cast("StatuslineDocument", doc)


def main_fast() -> int:
    """``python -m ai_telemetry statusline``: stdin in, one line out, exit 0 whatever happens."""
    import sys

    try:
        raw = sys.stdin.buffer.read()
    except (OSError, ValueError):
        raw = b""
    sys.stdout.write(render(raw) + "\n")
    return 0


# --- the refresh (background, slow path) ---------------------------------------------------


def refresh(
    *,
    session_id: str | None,
    transcript: Path | None,
    now: float | None = None,
    settings_dir: str | None = None,
) -> None:
    """Import the session's project folder, compute the numbers, write statusline.cache.

    ``settings_dir`` is the telemetry directory (default: from the environment, as the
    background refresh is started with AI_TELEMETRY_DIR set).

    Raises:
        AITelemetryError: the log, the warehouse or the state cannot be used.
    """
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from ai_telemetry.analyze import usage
    from ai_telemetry.collect.claude_code.transcripts import import_transcripts
    from ai_telemetry.config import load_settings
    from ai_telemetry.documents import utc_text
    from ai_telemetry.log.files import atomic_write_text
    from ai_telemetry.stores import open_ingested

    settings = load_settings(telemetry_dir=Path(settings_dir) if settings_dir else None)
    lock = settings.telemetry_dir / LOCK_FILE
    # A refresh that fails leaves its lock: the next one waits LOCK_SECONDS, so a broken
    # setup never starts a process on every status line refresh.
    if transcript is not None and transcript.exists():
        import_transcripts([transcript.parent], settings=settings)
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    today = moment.date()
    with open_ingested(settings, progress=False) as wh:
        daily = usage.usage_document(wh, "daily", since=today, until=today)
        blocks = usage.blocks_document(wh, since=today - timedelta(days=1), until=today, now=moment)
        session_cost = None
        if session_id:
            lo, hi = datetime(1970, 1, 1), datetime(9999, 1, 1)
            tally = usage.Tally()
            for r in usage.load_responses(wh, lo, hi, session_id=session_id):
                tally.add(r)
            # a session we have no response of keeps Claude Code's own figure meanwhile
            session_cost = round(tally.cost, 6) if tally.requests else None
        rate = usage.week_skill_success_rate(wh, moment)
    sessions: dict[str, float] = _read_cache(str(settings.telemetry_dir))["sessions"]
    if session_id and session_cost is not None:
        sessions.pop(session_id, None)
        sessions[session_id] = session_cost
    sessions = dict(list(sessions.items())[-_SESSIONS_KEPT:])
    active = blocks["active"]
    end = None
    if active is not None:
        end = datetime.fromisoformat(active["end"].replace("Z", "+00:00")).timestamp()
    data = {
        "computed_epoch": moment.timestamp(),
        "computed_at": utc_text(moment),
        "today": today.isoformat(),
        "today_cost_usd": daily["totals"]["cost_usd"],
        "block_end": end,
        "block_cost_usd": None if active is None else active["cost_usd"],
        "week_skill_success_rate": rate,
        "sessions": sessions,
    }
    # a cache: no directory fsync; 0600 as the `mkstemp` of before made it
    atomic_write_text(
        Path(settings.telemetry_dir) / CACHE_FILE, format_cache(data), perms=0o600, sync_dir=False
    )
    lock.unlink(missing_ok=True)
