"""Claude Code: the ``ai-telemetry hook`` command, settings.json install, transcript import.

Modules are imported one by one (never from here), so the hook loads only what it needs.
"""
