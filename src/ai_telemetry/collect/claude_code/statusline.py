"""``ai-telemetry statusline``: Claude Code's ``statusLine`` command, one line of usage.

Claude Code runs the status line command on every refresh with its status JSON on stdin
(``session_id``, ``transcript_path``, ``cwd``, ``workspace``, ``model``, ``cost``...), so it is
held to the hook's budget (at most 2x a bare ``python -c pass``). The fast path therefore never
opens the warehouse: it reads ``statusline.json`` in the telemetry directory, the numbers
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

Only ``json``, ``os`` and ``time`` are imported on the fast path.
"""

# ruff: noqa: PTH103, PTH105, PTH108, PTH109, PTH116, PTH118, PTH120, PTH123
# (no pathlib on the status line's fast path: see the module docstring)
from __future__ import annotations

import contextlib
import json
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from ai_telemetry.documents.types import StatuslineDocument

CACHE_FILE = "statusline.json"
LOCK_FILE = ".statusline-refresh.lock"
STALE_SECONDS = 30.0
LOCK_SECONDS = 120.0
_SESSIONS_KEPT = 20


def _payload(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def telemetry_dir(payload: dict[str, Any]) -> str:
    """Where the hook writes: AI_TELEMETRY_DIR, else ``<project>/.claude/Telemetry``."""
    explicit = os.environ.get("AI_TELEMETRY_DIR")
    if explicit:
        return explicit
    log_path = os.environ.get("AI_TELEMETRY_LOG_PATH")
    if log_path:
        return os.path.dirname(log_path) or "."
    workspace = payload.get("workspace")
    project = workspace.get("project_dir") if isinstance(workspace, dict) else None
    base = project or payload.get("cwd") or os.getcwd()
    return os.path.join(str(base), ".claude", "Telemetry")


def _read_cache(folder: str) -> dict[str, Any]:
    try:
        with open(os.path.join(folder, CACHE_FILE), "rb") as fh:
            data = json.loads(fh.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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
        with contextlib.suppress(OSError):
            os.unlink(lock)


def _money(value: float) -> str:
    return f"${value:,.2f}"


def numbers(payload: dict[str, Any], cache: dict[str, Any], now: float) -> dict[str, Any]:
    """The statusline's numbers from the cache (and the payload for a session not known yet)."""
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    known = cache.get("sessions")
    sessions: dict[str, Any] = known if isinstance(known, dict) else {}
    session_cost = sessions.get(session) if session else None
    if not isinstance(session_cost, int | float):
        cost = payload.get("cost")
        total = cost.get("total_cost_usd") if isinstance(cost, dict) else None
        session_cost = float(total) if isinstance(total, int | float) else None
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    today_cost = cache.get("today_cost_usd") if cache.get("today") == today else 0.0
    block = cache.get("block") if isinstance(cache.get("block"), dict) else None
    block_cost = None
    left = None
    if block and isinstance(block.get("end"), int | float) and block["end"] > now:
        block_cost = block.get("cost_usd")
        left = (block["end"] - now) / 60
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
    sessions = cache.get("sessions")
    known = isinstance(sessions, dict) and payload.get("session_id") in sessions
    if may_refresh and (age > STALE_SECONDS or not known):
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
    """Import the session's project folder, compute the numbers, write statusline.json.

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
    from ai_telemetry.store.warehouse import open_ingested

    settings = load_settings(telemetry_dir=Path(settings_dir) if settings_dir else None)
    lock = settings.telemetry_dir / LOCK_FILE
    try:
        if transcript is not None and transcript.exists():
            import_transcripts([transcript.parent], settings=settings)
        moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        today = moment.date()
        with open_ingested(settings, progress=False) as wh:
            daily = usage.usage_document(wh.con, "daily", since=today, until=today)
            blocks = usage.blocks_document(
                wh.con, since=today - timedelta(days=1), until=today, now=moment
            )
            session_cost = None
            if session_id:
                lo, hi = datetime(1970, 1, 1), datetime(9999, 1, 1)
                tally = usage.Tally()
                for r in usage.load_responses(wh.con, lo, hi, session_id=session_id):
                    tally.add(r)
                session_cost = round(tally.cost, 6)
            rate = usage.week_skill_success_rate(wh.con, moment)
        old = _read_cache(str(settings.telemetry_dir))
        known = old.get("sessions")
        sessions: dict[str, Any] = known if isinstance(known, dict) else {}
        if session_id and session_cost is not None:
            sessions.pop(session_id, None)
            sessions[session_id] = session_cost
        sessions = dict(list(sessions.items())[-_SESSIONS_KEPT:])
        active = blocks["active"]
        block = None
        if active is not None:
            end = datetime.fromisoformat(active["end"].replace("Z", "+00:00"))
            block = {"end": end.timestamp(), "cost_usd": active["cost_usd"]}
        data = {
            "computed_epoch": moment.timestamp(),
            "computed_at": utc_text(moment),
            "today": today.isoformat(),
            "today_cost_usd": daily["totals"]["cost_usd"],
            "block": block,
            "week_skill_success_rate": rate,
            "sessions": sessions,
        }
        _write_atomic(Path(settings.telemetry_dir) / CACHE_FILE, data)
    finally:
        lock.unlink(missing_ok=True)


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
