"""``ai-telemetry doctor``: is collection healthy here, and if not, what to do.

The SDK and hooks never raise into their host; what they swallowed (a full disk, a read-only
log, invalid events, a broken config) lands in a small status file outside the telemetry
directory (see `ai_telemetry.collect.sdk.state_dir`), and this is where it is shown.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson

from ai_telemetry.config import Settings, read_settings_text
from ai_telemetry.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ai_telemetry.documents.types import CheckDoc, DoctorDocument

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def to_json(self) -> CheckDoc:
        """The check as an item of the ``doctor --json`` document."""
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def doctor_document(settings: Settings | None, checks: Sequence[Check]) -> DoctorDocument:
    """The ``doctor --json`` document (docs/schemas/doctor.json): the settings and every check.

    Args:
        settings: the settings in force, or None when they could not be loaded (then the
            checks say why).
        checks: what `run_checks` returned, in order; any check added there shows up here.
    """
    from ai_telemetry.documents import header

    shown: dict[str, str | None] = dict.fromkeys(
        ("telemetry_dir", "log_path", "durability", "privacy_policy", "config_path")
    )
    if settings is not None:
        shown = {
            "telemetry_dir": str(settings.telemetry_dir),
            "log_path": str(settings.log_path),
            "durability": str(settings.durability),
            "privacy_policy": str(settings.privacy_policy),
            "config_path": str(settings.config_path),
        }
    return {
        **header("doctor"),
        "ok": not any(check.status == "fail" for check in checks),
        "settings": shown,
        "checks": [check.to_json() for check in checks],
    }


def _last_line(path: Path, *, chunk: int = 65_536) -> bytes:
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - chunk))
        tail = handle.read()
    lines = [line for line in tail.split(b"\n") if line.strip()]
    return lines[-1] if lines else b""


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
    return count


def _problems(settings: Settings) -> tuple[Counter[str], str]:
    """SDK and hook problems recorded for this log: counts by kind, and the latest message."""
    from ai_telemetry.collect.sdk import state_dir

    status = state_dir() / "sdk-status.jsonl"
    counts: Counter[str] = Counter()
    latest = ""
    target = str(settings.log_path.resolve())
    try:
        with status.open("rb") as handle:
            for raw in handle:
                try:
                    entry = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and entry.get("log_path") == target:
                    counts[str(entry.get("kind"))] += int(entry.get("count", 1))
                    latest = f"{entry.get('timestamp')}: {entry.get('message')}"
    except FileNotFoundError:
        pass
    return counts, latest


def _collector_checks(settings: Settings) -> list[Check]:
    """What the Claude Code hook and the git hook swallowed (they must never fail their host)."""
    checks: list[Check] = []
    hook_status = settings.telemetry_dir / "hook-status.json"
    try:
        status = orjson.loads(hook_status.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        status = None
    if isinstance(status, dict) and status.get("errors"):
        checks.append(
            Check(
                "claude code hook",
                "warn",
                f"{status['errors']} swallowed error(s), last {status.get('last_error')}",
                "reproduce with AI_TELEMETRY_RAISE=1 ai-telemetry hook < payload.json",
            )
        )
    git_errors = settings.telemetry_dir / "git-hook-errors.log"
    if git_errors.is_file() and git_errors.stat().st_size:
        last = _last_line(git_errors).decode("utf-8", "replace")
        checks.append(
            Check(
                "git hook",
                "warn",
                f"{_count_lines(git_errors)} failure(s) noted, last: {last}",
                f"see {git_errors}",
            )
        )
    return checks


HOOK_CHECK_TIMEOUT = 5.0
"""Seconds doctor lets a configured hook command run (Claude Code's own limit is 10)."""
_HOOK_CHECK_PAYLOAD = b'{"hook_event_name": "Stop", "session_id": "ai-telemetry-doctor"}'


def claude_code_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment Claude Code gives a hook: this one without an activated virtualenv.

    ``VIRTUAL_ENV`` goes, and so does every ``PATH`` entry inside it or inside this
    interpreter's prefix (where ``ai-telemetry`` itself may be installed).
    """
    import sys

    env = dict(os.environ if environ is None else environ)
    prefixes = {str(Path(sys.prefix).resolve())}
    if env.get("VIRTUAL_ENV"):
        prefixes.add(str(Path(env["VIRTUAL_ENV"]).resolve()))
    env.pop("VIRTUAL_ENV", None)
    kept = []
    for entry in env.get("PATH", "").split(os.pathsep):
        resolved = str(Path(entry).resolve()) if entry else ""
        if entry and not any(resolved == p or resolved.startswith(p + os.sep) for p in prefixes):
            kept.append(entry)
    env["PATH"] = os.pathsep.join(kept) or "/usr/bin:/bin"
    return env


def hook_settings_files(project: Path, home: Path) -> list[Path]:
    """Where Claude Code reads hooks: the project's two files and the user's."""
    claude = project / ".claude"
    return [
        claude / "settings.json",
        claude / "settings.local.json",
        home / ".claude/settings.json",
    ]


def check_hook_command(command: str, *, project: Path, env: Mapping[str, str]) -> Check:
    """Run one configured hook command as Claude Code does (``sh -c``, no virtualenv on PATH).

    It is fed a ``Stop`` event, which writes nothing, in-process (no daemon is started).
    """
    import subprocess
    import time

    run_env = {**env, "AI_TELEMETRY_HOOK_DAEMON": "0", "CLAUDE_PROJECT_DIR": str(project)}
    name = "claude code hook command"
    fix = "run: ai-telemetry claude-code install (it writes this installation's absolute path)"
    start = time.monotonic()
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            input=_HOOK_CHECK_PAYLOAD,
            capture_output=True,
            env=run_env,
            cwd=project,
            timeout=HOOK_CHECK_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Check(name, "fail", f"{command!r} did not finish in {HOOK_CHECK_TIMEOUT:g} s", fix)
    except OSError as exc:
        return Check(name, "fail", f"cannot run /bin/sh for {command!r}: {exc.strerror}", fix)
    ms = (time.monotonic() - start) * 1000
    if done.returncode == 0:
        return Check(name, "ok", f"{command!r} runs without the virtualenv on PATH ({ms:.0f} ms)")
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    last = f": {said[-1][:200]}" if said else ""
    if done.returncode == 127:
        detail = (
            f"{command!r} is not found from a shell without the virtualenv on PATH, as Claude "
            f"Code runs it: every hook call fails (exit 127) and nothing is recorded{last}"
        )
    else:
        detail = f"{command!r} exits {done.returncode} when Claude Code runs it{last}"
    return Check(name, "fail", detail, fix)


def _hook_command_checks(project: Path, home: Path) -> list[Check]:
    from ai_telemetry.collect.claude_code.settings_install import configured_commands

    commands: dict[str, None] = {}
    for path in hook_settings_files(project, home):
        commands.update(dict.fromkeys(configured_commands(path)))
    env = claude_code_env()
    return [check_hook_command(command, project=project, env=env) for command in commands]


def human_bytes(count: float) -> str:
    """``2.0 MB``, ``512 kB``, ``37.4 GB``: free space as a person reads it."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count:.0f} bytes"


def disk_check(probe: Path) -> Check:
    """Free space for us (``statvfs`` ``f_bavail``: what a non-root writer may use) and
    whether the mount is read-only."""
    try:
        st = os.statvfs(probe)
    except OSError as exc:
        return Check("disk", "warn", f"{probe}: cannot tell free space ({exc.strerror})")
    free = st.f_bavail * st.f_frsize
    shown = f"{human_bytes(free)} free of {human_bytes(st.f_blocks * st.f_frsize)} at {probe}"
    if st.f_flag & os.ST_RDONLY:
        return Check(
            "disk",
            "fail",
            f"{shown}, on a read-only mount: nothing can be written",
            "remount it read-write, or point AI_TELEMETRY_DIR at a writable directory",
        )
    if free < 100e6:
        return Check("disk", "fail", shown, "free disk space; writes are failing or will fail")
    return Check("disk", "ok", shown)


def _path_checks(settings: Settings) -> list[Check]:
    """Paths a repository's files tried to redirect, and symlinks in the telemetry folder."""
    checks = [
        Check(
            "repository paths",
            "warn",
            message,
            "a repository's .env or config.toml may only point inside the project",
        )
        for message in settings.refused
    ]
    directory = settings.telemetry_dir
    links: list[str] = []
    for sub in (directory, directory / "hook-state", settings.archives_dir):
        try:
            entries = list(sub.iterdir())
        except OSError:
            continue
        links += [f"{e} -> {e.readlink()}" for e in entries if e.is_symlink()]
    spool = settings.log_path.with_name(settings.log_path.name + ".spool")
    if spool.is_symlink():
        links.append(f"{spool} -> {spool.readlink()}")
    if links:
        checks.append(
            Check(
                "symlinks",
                "fail",
                f"{len(links)} symbolic link(s) in the telemetry folder, never followed: "
                + "; ".join(links[:5]),
                "remove them; a cloned repository may have planted them to redirect writes",
            )
        )
    return checks


_SECRET_WORDS = ("password", "webhook", "token", "secret")


def _secret_keys(path: Path) -> list[str]:
    """Names of settings in a config.toml or .env that hold a secret (non-empty)."""
    try:
        text = read_settings_text(path)  # a regular file, capped: never blocks doctor
    except (OSError, ConfigError):
        return []
    if text is None:
        return []
    found: list[str] = []
    if path.name == ".env":
        for line in text.splitlines():
            key, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and value.strip() and any(w in key.lower() for w in _SECRET_WORDS):
                found.append(key.strip())
        return found
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []

    def walk(table: dict[str, object], prefix: str) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            elif value and any(w in key.lower() for w in _SECRET_WORDS):
                found.append(prefix + key)

    walk(data, "")
    return found


def _tracked_by_git(path: Path) -> bool:
    """Is the file in the index of the git repository around it? False without git."""
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "ls-files", "--error-unmatch", "--", path.name],
            cwd=path.parent,
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def _secret_checks(settings: Settings) -> list[Check]:
    """A file holding a secret must be readable by its owner only, and not committed."""
    checks: list[Check] = []
    for path in (settings.config_path, Path.cwd() / ".env"):
        if path.is_symlink() or not path.is_file():
            continue
        keys = _secret_keys(path)
        if not keys:
            continue
        held = ", ".join(keys[:4])
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            checks.append(
                Check(
                    "secrets",
                    "warn",
                    f"{path} holds {held} and is readable by others (mode {mode:o})",
                    f"chmod 600 {path}",
                )
            )
        if _tracked_by_git(path):
            checks.append(
                Check(
                    "secrets",
                    "warn",
                    f"{path} holds {held} and is tracked by git",
                    f"git rm --cached {path}, add it to .gitignore, and rotate the secret",
                )
            )
    return checks


def _spool_checks(settings: Settings) -> list[Check]:
    """Both spools in one check: what waits, where, and who writes it (docs/log.md, "Spools").

    - ``events.jsonl.spool/`` next to the log: event lines (scrubbed, validated) that a
      `LogSink` (the SDK, ``ai-telemetry log``, the importers) could not append because another
      process held the log's lock; the next writer that gets the lock appends them.
    - ``hook-spool/`` in the state directory: the Claude Code hook's requests (``.req``, not yet
      handled: no daemon yet, or no answer in time) and events whose write failed (``.ev``:
      lock held, disk full, read-only); the hook daemon writes them every second.
    """
    from ai_telemetry.collect.claude_code.hook_client import spool_dir
    from ai_telemetry.collect.claude_code.hook_spool import pending
    from ai_telemetry.log.writer import spool_dir_for, spooled_files

    parts: list[str] = []
    fixes: list[str] = []
    waiting = spooled_files(settings.log_path)
    if waiting:
        lines = 0
        for path in waiting:
            with contextlib.suppress(OSError):
                lines += _count_lines(path)
        parts.append(
            f"{lines} event(s) in {len(waiting)} file(s) in {spool_dir_for(settings.log_path)}, "
            "waiting for the log's lock"
        )
        fixes.append(
            "the next write appends the log's spool (ai-telemetry log, the SDK); if the lock "
            f"stays held, find the holder: fuser {settings.log_path}.lock"
        )
    hook_dir = spool_dir(os.environ)
    calls = pending(hook_dir)
    if calls:
        parts.append(f"{len(calls)} hook call(s) waiting in {hook_dir} to be written")
        fixes.append(
            "the hook daemon writes the hook spool once the log can be (see the problems "
            "below); or run any hook call with AI_TELEMETRY_HOOK_DAEMON=0"
        )
    if not parts:
        return []
    return [Check("spool", "warn", "; ".join(parts), "; ".join(fixes))]


def run_checks(
    settings: Settings, *, project: Path | None = None, home: Path | None = None
) -> list[Check]:
    """Every check, in the order a person would fix them.

    Args:
        settings: the settings in force.
        project: where Claude Code's project settings are (default: ``CLAUDE_PROJECT_DIR``,
            else the working directory).
        home: the home holding ``~/.claude/settings.json`` (default: ``Path.home()``).
    """
    checks: list[Check] = []
    directory = settings.telemetry_dir
    if not settings.enabled:
        checks.append(
            Check("enabled", "warn", "telemetry is disabled", "set AI_TELEMETRY_ENABLED=true")
        )
    if not directory.is_dir():
        checks.append(
            Check("directory", "fail", f"{directory} does not exist", "run: ai-telemetry init")
        )
    elif not os.access(directory, os.W_OK):
        checks.append(
            Check("directory", "fail", f"{directory} is not writable", f"chmod u+w {directory}")
        )
    else:
        checks.append(Check("directory", "ok", str(directory)))

    log = settings.log_path
    if log.is_symlink():
        checks.append(
            Check(
                "log",
                "fail",
                f"{log} is a symbolic link to {log.readlink()}; writes to it are refused",
                f"remove the link (rm {log}); a repository may not redirect the log",
            )
        )
    elif not log.exists():
        checks.append(Check("log", "warn", f"{log} does not exist yet", "run: ai-telemetry init"))
    elif not log.is_file():
        checks.append(
            Check("log", "fail", f"{log} is not a regular file", "point the log at a plain file")
        )
    elif not os.access(log, os.W_OK):
        checks.append(Check("log", "fail", f"{log} is not writable", f"chmod u+w {log}"))
    else:
        lines = _count_lines(log)
        last = _last_line(log)
        when = ""
        try:
            event = orjson.loads(last) if last else None
            if isinstance(event, dict):
                when = f", last event {event.get('timestamp')} ({event.get('event_type')})"
        except orjson.JSONDecodeError:
            when = ", last line is not valid JSON"
        size = log.stat().st_size
        checks.append(Check("log", "ok", f"{lines:,} lines, {size / 1e6:.1f} MB{when}"))

    quarantine = settings.quarantine_path
    if quarantine.exists():
        count = _count_lines(quarantine)
        checks.append(
            Check(
                "quarantine",
                "warn" if count else "ok",
                f"{count} bad line(s) kept in {quarantine}",
                "inspect them; they were never counted in metrics",
            )
        )

    checks.append(disk_check(directory if directory.is_dir() else Path.cwd()))
    checks += _path_checks(settings)
    checks += _secret_checks(settings)
    checks += _spool_checks(settings)
    checks += _collector_checks(settings)
    project = project or Path(os.environ.get("CLAUDE_PROJECT_DIR") or Path.cwd())
    checks += _hook_command_checks(project, home or Path.home())
    counts, latest = _problems(settings)
    if counts:
        summary = ", ".join(f"{kind}: {n}" for kind, n in sorted(counts.items()))
        fix = "fix the cause above; events kept in memory are written on the next flush"
        if counts.get("hook_spooled"):
            fix += "; spooled hook events are written by the hook daemon once the log can be"
        if counts.get("log_locked"):
            fix += (
                "; events spooled while another process held the log's lock are appended by "
                "the next writer once it is free"
            )
        if counts.get("warehouse_build"):
            fix += "; a failed background warehouse build is redone by the next analytics command"
        checks.append(
            Check(
                "sdk, hooks, background",
                "fail" if counts.get("write_failed") else "warn",
                f"swallowed problems ({summary}); latest {latest}",
                fix,
            )
        )
    else:
        checks.append(Check("sdk, hooks, background", "ok", "no swallowed problems recorded"))
    return checks
