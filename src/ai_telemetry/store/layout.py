"""The seed's telemetry directory layout (``ai-telemetry init``)."""

from __future__ import annotations

import os
from pathlib import Path

from ai_telemetry.config import Settings
from ai_telemetry.errors import ConfigError
from ai_telemetry.log.files import open_file

SECRET_FILE_MODE = 0o600
"""``config.toml`` is created readable by its owner only (``doctor`` warns when it is not)."""

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
        (settings.log_path, "", 0o644),
        (settings.alerts_log, "", 0o644),
        # may come to hold the SMTP password, the Slack webhook, token hashes: owner only
        (settings.config_path, CONFIG_TEMPLATE, SECRET_FILE_MODE),
    )
    try:
        for directory in directories:
            if not directory.is_dir():
                directory.mkdir(parents=True)
                created.append(directory)
        for path, text, mode in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with open_file(path, "x", perms=mode, encoding="utf-8") as handle:
                    os.fchmod(handle.fileno(), mode)  # not narrowed by the umask either way
                    handle.write(text)
            except FileExistsError:
                continue
            created.append(path)
    except OSError as exc:
        raise ConfigError(f"cannot create {exc.filename}: {exc.strerror}") from None
    return created


def inputs_fingerprint(settings: Settings) -> dict[str, list[int] | None]:
    """Inode, size and mtime of what a metrics document is computed from: the log, the
    archive manifest and ``config.toml`` (its ``[models]`` context windows change a metric).

    ``aggregate`` and the Prometheus exporter key their caches by it (None: the file is not
    there). Cheap, and importing it does not load the analytics stack.
    """
    from ai_telemetry.store.retention import manifest_path

    out: dict[str, list[int] | None] = {}
    inputs = (
        ("log", settings.log_path),
        ("manifest", manifest_path(settings)),
        ("config", settings.config_path),
    )
    for name, path in inputs:
        try:
            st = path.stat()
        except OSError:
            out[name] = None
        else:
            out[name] = [st.st_ino, st.st_size, st.st_mtime_ns]
    return out
