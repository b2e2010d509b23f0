"""Weekly automation: the seed's crontab line, or a systemd timer.

``ai-telemetry schedule install`` adds ``0 9 * * 1 cd /path/to/repo && ai-telemetry weekly``
(Mondays 09:00) to the user's crontab unless a line running ``weekly`` for that directory is
already there: it reads ``crontab -l``, appends, and writes the whole table back with
``crontab -``. ``--systemd`` prints a user service and timer instead
(``OnCalendar=Mon *-*-* 09:00:00``). ``schedule remove`` takes the line out again.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ai_telemetry.errors import ConfigError

CRON_TIME: Final = "0 9 * * 1"
ON_CALENDAR: Final = "Mon *-*-* 09:00:00"
MARKER: Final = "# ai-telemetry weekly"


def default_command() -> str:
    """The ``ai-telemetry`` executable to put in the line: the one running now, if found."""
    found = shutil.which("ai-telemetry")
    if found:
        return str(Path(found).resolve())
    beside = Path(sys.executable).with_name("ai-telemetry")
    return str(beside) if beside.exists() else "ai-telemetry"


def cron_line(repo: Path, *, command: str | None = None) -> str:
    """``0 9 * * 1 cd <repo> && <ai-telemetry> weekly # ai-telemetry weekly``."""
    exe = command or default_command()
    return f"{CRON_TIME} cd {shlex.quote(str(repo))} && {exe} weekly {MARKER}"


def _is_ours(line: str, repo: Path) -> bool:
    text = line.strip()
    if text.startswith("#") or not text:
        return False
    return f"cd {shlex.quote(str(repo))} &&" in text and " weekly" in text


@dataclass(frozen=True, slots=True)
class CronResult:
    """What `install_cron` / `remove_cron` did."""

    changed: bool
    line: str
    table: str


def _run(
    crontab: str, args: list[str], text: str | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [crontab, *args], input=text, capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise ConfigError(
            f"{crontab}: not found; install cron (e.g. apt-get install cron), or use "
            "`ai-telemetry schedule install --systemd`"
        ) from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"{crontab} {' '.join(args)} failed: {exc}") from None


def read_crontab(*, crontab: str = "crontab") -> str:
    """The current crontab (``crontab -l``); empty when the user has none yet.

    Raises:
        ConfigError: crontab is missing or fails for another reason.
    """
    done = _run(crontab, ["-l"])
    if done.returncode != 0:
        if "no crontab" in done.stderr.lower():
            return ""
        raise ConfigError(f"crontab -l failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _write(table: str, crontab: str) -> None:
    done = _run(crontab, ["-"], table)
    if done.returncode != 0:
        raise ConfigError(f"crontab - failed: {done.stderr.strip() or done.returncode}")


def install_cron(repo: Path, *, command: str | None = None, crontab: str = "crontab") -> CronResult:
    """Add the weekly line for ``repo`` unless one is there.

    Args:
        repo: the repository the job runs in (``cd`` target), made absolute.
        command: the ai-telemetry executable (default: `default_command`).
        crontab: the crontab program (tests pass a stand-in).

    Raises:
        ConfigError: crontab cannot be read or written.
    """
    where = repo.resolve()
    line = cron_line(where, command=command)
    table = read_crontab(crontab=crontab)
    existing = [entry for entry in table.splitlines() if _is_ours(entry, where)]
    if existing:
        return CronResult(False, existing[0], table)
    new_table = table if not table or table.endswith("\n") else table + "\n"
    new_table += line + "\n"
    _write(new_table, crontab)
    return CronResult(True, line, new_table)


def remove_cron(repo: Path, *, crontab: str = "crontab") -> CronResult:
    """Remove the weekly line(s) for ``repo``; other lines stay as they were."""
    where = repo.resolve()
    table = read_crontab(crontab=crontab)
    kept = [entry for entry in table.splitlines() if not _is_ours(entry, where)]
    removed = [entry for entry in table.splitlines() if _is_ours(entry, where)]
    if not removed:
        return CronResult(False, "", table)
    new_table = "\n".join(kept) + ("\n" if kept else "")
    _write(new_table, crontab)
    return CronResult(True, removed[0], new_table)


def systemd_units(repo: Path, *, command: str | None = None) -> dict[str, str]:
    """A user service and timer running ``ai-telemetry weekly`` in ``repo`` on Mondays 09:00.

    Returns:
        ``{"ai-telemetry-weekly.service": ..., "ai-telemetry-weekly.timer": ...}``.
    """
    where = repo.resolve()
    exe = command or default_command()
    service = (
        "[Unit]\n"
        "Description=ai-telemetry weekly pipeline (collect, aggregate, detect, dashboard, "
        "notify, retention)\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={where}\n"
        f"ExecStart={exe} weekly\n"
    )
    timer = (
        "[Unit]\n"
        "Description=Run ai-telemetry weekly on Mondays at 09:00\n\n"
        "[Timer]\n"
        f"OnCalendar={ON_CALENDAR}\n"
        "Persistent=true\n"
        "Unit=ai-telemetry-weekly.service\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {"ai-telemetry-weekly.service": service, "ai-telemetry-weekly.timer": timer}
