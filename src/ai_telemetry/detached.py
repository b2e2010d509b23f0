"""Start one of this package's modules as a detached background process.

The hook daemon, the background warehouse build and the background checkpoint all start the
same way: ``python -P -m MODULE ARGS`` in a session of its own (a terminal's Ctrl-C does not
reach it), stdin, stdout and stderr on ``/dev/null``, and file descriptors marked inheritable
(a lock handed over) passed on. ``-P``: the caller's working directory (a project) must not
shadow the package's modules. Standard library only: the hook client imports it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping


def spawn_module(module: str, *args: str, env: Mapping[str, str] | None = None) -> bool:
    """Start ``python -P -m module args...`` detached; True when it started (never raises)."""
    try:
        os.posix_spawn(
            sys.executable,
            [sys.executable, "-P", "-m", module, *args],
            os.environ if env is None else env,
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
        )
    except (OSError, TypeError, ValueError):  # no interpreter to start (an embedded Python)
        return False
    return True
