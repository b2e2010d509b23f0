"""Entry point of the ``ai-telemetry`` command.

``ai-telemetry hook`` runs on every Claude Code tool call, so it skips click and the rest of
the CLI: it loads only the tiny hook client, which hands the event to the warm hook daemon
(see `ai_telemetry.collect.claude_code.hook_client`; no ``socket``, ``pathlib``, ``re`` or
``json`` on that path) and falls back to the in-process hook when the daemon does not answer.
``ai-telemetry statusline`` (Claude Code's status line, run on every refresh) skips click too.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Dispatch: the hook fast path, else the click CLI."""
    argv = sys.argv[1:]
    if argv[:1] == ["hook"]:
        try:
            from ai_telemetry.collect.claude_code.hook_client import run_client
        except ImportError:  # a broken install: never break Claude Code
            return 0
        return run_client(argv[1:])
    if argv == ["statusline"]:  # Claude Code's statusLine: on every refresh, same budget
        try:
            from ai_telemetry.collect.claude_code.statusline import main_fast
        except ImportError:
            return 0
        return main_fast()
    from ai_telemetry.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
