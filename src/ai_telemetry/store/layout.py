"""The seed's telemetry directory layout (``ai-telemetry init``)."""

from __future__ import annotations

from pathlib import Path

from ai_telemetry.config import Settings
from ai_telemetry.errors import ConfigError

CONFIG_TEMPLATE = """\
# ai-telemetry settings for this project. Environment variables (AI_TELEMETRY_*) and .env
# override these; see docs/configuration.md for every key.

# durability = "buffered"      # buffered | write | fsync
# privacy_policy = "redact"    # redact | reject
# project = "my-project"
# alert_email = "tech-lead@example.com"
# tool_call_limit = 50          # Claude Code hook kill switch; off when unset
"""


def init_layout(settings: Settings) -> list[Path]:
    """Create the seed's layout; return what was created (nothing twice).

    ``events.jsonl``, ``dashboards/``, ``alerts.log``, ``archives/`` and a commented
    ``config.toml`` in the telemetry directory.

    Raises:
        ConfigError: the directory cannot be created (the message says which and why).
    """
    created: list[Path] = []
    directories = (settings.telemetry_dir, settings.dashboards_dir, settings.archives_dir)
    files = (
        (settings.log_path, ""),
        (settings.alerts_log, ""),
        (settings.config_path, CONFIG_TEMPLATE),
    )
    try:
        for directory in directories:
            if not directory.is_dir():
                directory.mkdir(parents=True)
                created.append(directory)
        for path, text in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with path.open("x", encoding="utf-8") as handle:
                    handle.write(text)
            except FileExistsError:
                continue
            created.append(path)
    except OSError as exc:
        raise ConfigError(f"cannot create {exc.filename}: {exc.strerror}") from None
    return created
