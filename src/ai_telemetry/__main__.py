"""Entry point of the ``ai-telemetry`` command.

``ai-telemetry hook`` runs on every Claude Code tool call, so it skips click and the rest of
the CLI: only the hook module is imported.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Dispatch: the hook fast path, else the click CLI."""
    argv = sys.argv[1:]
    if argv[:1] == ["hook"]:
        try:
            from ai_telemetry.collect.claude_code.hook import run_hook
        except ImportError:  # hook module not built yet: never break Claude Code
            return 0
        return run_hook(argv[1:])
    from ai_telemetry.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
