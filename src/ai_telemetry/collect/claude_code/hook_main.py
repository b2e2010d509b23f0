"""The hook command that ``ai-telemetry claude-code install`` writes: the client, nothing else.

Claude Code runs, for every hook event::

    /path/to/venv/bin/python -I -S /path/to/ai_telemetry/collect/claude_code/hook_main.py hook

``-I`` keeps the user's ``PYTHON*`` variables and the project directory out of ``sys.path``;
``-S`` skips ``site`` (with its ``.pth`` files, often the largest part of a bare interpreter's
start-up). This file then puts the directory holding ``ai_telemetry`` first on ``sys.path``
and runs `ai_telemetry.collect.claude_code.hook_client`, which loads ``site`` only on the rare
calls it does in-process. It is a script (compiled on every run), so it stays a few lines.
"""

import sys

sys.path.insert(0, __file__.rsplit("/", 4)[0])  # .../ai_telemetry/collect/claude_code/this.py

from ai_telemetry.collect.claude_code.hook_client import main

sys.exit(main())
