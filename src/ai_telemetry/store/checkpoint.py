"""Move a large WAL into the warehouse file in the background, after the command that wrote it.

A command that ingested a few tens of thousands of events leaves them in
``warehouse.duckdb.wal`` (durable: committed). Moving them into the file, DuckDB's checkpoint,
costs about a second at 10M stored events, and nothing the command answers depends on it. So
`Warehouse.close` hands the warehouse lock to this detached child (like the background build,
`ai_telemetry.analyze.catchup`) when the WAL has grown past `WAL_BACKGROUND_BYTES`, and the
command exits. Until the child is done, a command that opens the warehouse waits for the lock,
as it would for any other; if the child cannot start or fails, the WAL stays where it is, the
next command replays it, and the next close tries again (DuckDB itself checkpoints inline past
`WAL_INLINE`, so the WAL stays bounded either way).

    python -m ai_telemetry.store.checkpoint --lock-fd N PATH
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

WAL_BACKGROUND_BYTES: Final = 16 * 1024 * 1024
"""A WAL larger than this at close is checkpointed by a background child."""
WAL_INLINE: Final = "256MiB"
"""DuckDB's own `checkpoint_threshold`: past it a commit checkpoints inline (one connection
that wrote this much, or background children that could not run)."""


def wal_path(path: Path) -> Path:
    """The WAL beside the warehouse file ``path``."""
    return path.with_name(path.name + ".wal")


def wal_bytes(path: Path) -> int:
    """The size of the WAL of the warehouse file ``path`` (0 when there is none)."""
    try:
        return wal_path(path).stat().st_size
    except OSError:
        return 0


def spawn(path: Path, lock_fd: int) -> bool:
    """Start the checkpoint of ``path`` in a detached child holding the lock ``lock_fd``.

    The caller must have closed its connection (DuckDB locks the file too) and closes its copy
    of ``lock_fd`` afterwards; the child's copy keeps the lock until it is done.

    Returns:
        True when the child was started.
    """
    from ai_telemetry.detached import spawn_module

    try:
        os.set_inheritable(lock_fd, True)
    except OSError:
        return False
    return spawn_module(__name__, "--lock-fd", str(lock_fd), str(path))


def checkpoint(path: Path) -> None:
    """Checkpoint the warehouse file ``path`` (the caller holds the warehouse lock).

    Raises:
        duckdb.Error: DuckDB could not open or checkpoint it (the WAL stays as it was).
    """
    from ai_telemetry.store.warehouse import connect

    con = connect(path)
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    """The child's entry point: 0 when the WAL was moved into the file, else 1."""
    import argparse

    import duckdb

    parser = argparse.ArgumentParser(prog="python -m ai_telemetry.store.checkpoint")
    parser.add_argument("--lock-fd", type=int, required=True)
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    try:
        checkpoint(args.path)
    except duckdb.Error:
        return 1  # the WAL stays; the next command replays it and its close tries again
    finally:
        with contextlib.suppress(OSError):
            os.close(args.lock_fd)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(OSError):
        os.nice(10)  # background work: the user's next command comes first
    raise SystemExit(main())
