"""Build the warehouse in the background, after a first ``aggregate`` answered from the log.

A first ``aggregate`` over a large log computes its window straight from ``events.jsonl`` (see
`ai_telemetry.analyze.aggregate`) and leaves the full ingest (every field, typed, on disk) and
the week's history to a detached process: `spawn` takes the warehouse lock, hands it to the
child, and returns. Until the child is done, any command that opens the warehouse waits for the
lock, so nobody reads a half-built warehouse; a failure is recorded for ``ai-telemetry doctor``.

    python -m ai_telemetry.analyze.catchup --lock-fd N --now 2026-11-26T10:00:00Z
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime

from ai_telemetry.config import Settings

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def spawn(settings: Settings, now: datetime) -> bool:
    """Start the background build unless another command holds the warehouse; never raise.

    Returns:
        True when the child was started (it holds the lock until it is done).
    """
    from ai_telemetry.errors import AnalyticsError
    from ai_telemetry.stores import take_store_lock

    try:
        fd = take_store_lock(settings, timeout=0)
    except AnalyticsError:
        return False  # someone else has it open, and ingests what is new
    from ai_telemetry.detached import spawn_module

    try:
        os.set_inheritable(fd, True)
        env = {
            **os.environ,
            "AI_TELEMETRY_DIR": str(settings.telemetry_dir),
            "AI_TELEMETRY_LOG_PATH": str(settings.log_path),
        }
        args = ("--lock-fd", str(fd), "--now", now.strftime(_TIME_FORMAT))
        return spawn_module(__name__, *args, env=env)
    finally:
        os.close(fd)  # the child's copy keeps the lock


def catch_up(settings: Settings, now: datetime, *, lock_fd: int = -1) -> None:
    """Ingest everything new and record the last complete week's history.

    Raises:
        AnalyticsError: the log, an archive or the warehouse cannot be read.
    """
    from ai_telemetry.analyze.history import record_weeks
    from ai_telemetry.stores import open_duckdb

    with open_duckdb(settings, progress=False, lock_fd=lock_fd) as store:
        store.ingest()
        record_weeks(store, 1, now=now, refresh=False, progress=False)


def main(argv: list[str] | None = None) -> int:
    """The child's entry point; failures go to the status file ``doctor`` reads."""
    import argparse
    from datetime import UTC

    from ai_telemetry.config import load_settings

    parser = argparse.ArgumentParser(prog="python -m ai_telemetry.analyze.catchup")
    parser.add_argument("--lock-fd", type=int, default=-1)
    parser.add_argument("--now", required=True)
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        catch_up(
            settings,
            datetime.strptime(args.now, _TIME_FORMAT).replace(tzinfo=UTC),
            lock_fd=args.lock_fd,
        )
    except Exception as exc:
        from ai_telemetry.collect.sdk import note_problem

        note_problem(settings, "warehouse_build", f"background warehouse build: {exc}", count=1)
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(OSError):
        os.nice(10)  # background work: the user's next command comes first
    raise SystemExit(main())
