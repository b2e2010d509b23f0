"""One typed settings object.

Precedence, highest first: explicit argument > environment > ``.env`` in the working directory >
``config.toml`` in the telemetry directory > default. The environment variables are the seed's
(``AI_TELEMETRY_ENABLED``, ``AI_TELEMETRY_LOG_PATH``, ``AI_TELEMETRY_ALERT_EMAIL``) and ours
(see ``ENV_VARS``). The config file holds the same keys in lower case without the prefix,
plus sections for later features (``[rules]``, ``[notify]``, ``[models]``...), kept in ``extra``.

A cloned repository controls ``.env`` and, when the telemetry directory is inside the project,
``config.toml``: a ``log_path`` or ``telemetry_dir`` from those that resolves outside the
project (``~/.bashrc``, ``../../elsewhere``, through a committed directory symlink) is refused:
the default is used instead and `Settings.refused` says so in one line (the CLI prints it,
``doctor`` shows it). The user's own environment and explicit arguments may point anywhere.
A telemetry directory that the repository chose (the default, or ``.env``) and that resolves
outside the project (``.claude/Telemetry`` committed as a symlink) is a `ConfigError`.
Both files are read only when they are regular files of at most `SETTINGS_FILE_MAX` bytes
(`read_settings_text`): a FIFO or ``/dev/zero`` there is a one-line `ConfigError`, never a hang.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ai_telemetry.errors import ConfigError

# The Claude Code hook loads settings on every tool call: no `typing`/`dataclasses` at run time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Final, Literal

    Durability = Literal["buffered", "write", "fsync"]
    PrivacyPolicy = Literal["redact", "reject"]

DEFAULT_DIR: Final = Path(".claude/Telemetry")
CONFIG_FILE_NAME: Final = "config.toml"

ENV_VARS: Final[dict[str, str]] = {
    "AI_TELEMETRY_ENABLED": "enabled",
    "AI_TELEMETRY_DIR": "telemetry_dir",
    "AI_TELEMETRY_LOG_PATH": "log_path",
    "AI_TELEMETRY_ALERT_EMAIL": "alert_email",
    "AI_TELEMETRY_DURABILITY": "durability",
    "AI_TELEMETRY_PRIVACY": "privacy_policy",
    "AI_TELEMETRY_FLUSH_INTERVAL": "flush_interval",
    "AI_TELEMETRY_PROJECT": "project",
    "AI_TELEMETRY_TOOL_CALL_LIMIT": "tool_call_limit",
    "AI_TELEMETRY_SLACK_WEBHOOK": "slack_webhook",
}
"""Environment variable -> setting name. Every one is documented in docs/configuration.md."""


class Settings:
    """Resolved settings (immutable). Build with `load_settings` to get the precedence;
    derive a variant with ``settings.replace(durability="write")``."""

    __slots__ = (
        "alert_email",
        "durability",
        "enabled",
        "extra",
        "flush_interval",
        "log_path",
        "privacy_policy",
        "project",
        "refused",
        "slack_webhook",
        "telemetry_dir",
        "tool_call_limit",
    )
    enabled: bool
    telemetry_dir: Path
    log_path: Path
    alert_email: str | None
    durability: Durability
    privacy_policy: PrivacyPolicy
    flush_interval: float
    project: str | None
    tool_call_limit: int | None
    slack_webhook: str | None
    refused: tuple[str, ...]
    extra: Mapping[str, Any]

    def __init__(
        self,
        *,
        enabled: bool = True,
        telemetry_dir: Path = DEFAULT_DIR,
        log_path: Path = DEFAULT_DIR / "events.jsonl",
        alert_email: str | None = None,
        durability: Durability = "buffered",
        privacy_policy: PrivacyPolicy = "redact",
        flush_interval: float = 1.0,
        project: str | None = None,
        tool_call_limit: int | None = None,
        slack_webhook: str | None = None,
        refused: tuple[str, ...] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        values = {
            "enabled": enabled,
            "telemetry_dir": telemetry_dir,
            "log_path": log_path,
            "alert_email": alert_email,
            "durability": durability,
            "privacy_policy": privacy_policy,
            "flush_interval": flush_interval,
            "project": project,
            "tool_call_limit": tool_call_limit,
            "slack_webhook": slack_webhook,
            "refused": refused,
            "extra": {} if extra is None else extra,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Settings are immutable; use settings.replace({name}=...)")

    def as_dict(self) -> dict[str, Any]:
        """Every setting by name."""
        return {name: getattr(self, name) for name in self.__slots__}

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (values as typed, not coerced)."""
        return Settings(**{**self.as_dict(), **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(v for k, v in self.as_dict().items() if k != "extra"))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items() if k != "extra")
        return f"Settings({shown})"

    @property
    def quarantine_path(self) -> Path:
        """Where the reader moves lines it cannot accept."""
        return self.log_path.with_name(self.log_path.stem + ".quarantine.jsonl")

    @property
    def dashboards_dir(self) -> Path:
        return self.telemetry_dir / "dashboards"

    @property
    def archives_dir(self) -> Path:
        return self.telemetry_dir / "archives"

    @property
    def alerts_log(self) -> Path:
        return self.telemetry_dir / "alerts.log"

    @property
    def metrics_path(self) -> Path:
        return self.telemetry_dir / "metrics.json"

    @property
    def config_path(self) -> Path:
        return self.telemetry_dir / CONFIG_FILE_NAME


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _coerce(name: str, value: Any, origin: str) -> Any:
    """Turn a raw setting (string from env, or TOML value) into its typed form."""
    where = f"{origin}: {name}"
    if name == "enabled":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{where} = {value!r} is not a boolean; use true or false")
    if name in ("telemetry_dir", "log_path"):
        return Path(str(value)).expanduser()
    if name == "durability":
        if value not in ("buffered", "write", "fsync"):
            raise ConfigError(f"{where} = {value!r}; use buffered, write or fsync")
        return value
    if name == "privacy_policy":
        if value not in ("redact", "reject"):
            raise ConfigError(f"{where} = {value!r}; use redact or reject")
        return value
    if name == "flush_interval":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} = {value!r} is not a number of seconds") from None
        if not 0 < number <= 60:
            raise ConfigError(f"{where} = {value!r}; use a number of seconds in (0, 60]")
        return number
    if name == "tool_call_limit":
        if value in (None, "", 0, "0"):
            return None
        try:
            limit = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} = {value!r} is not a whole number") from None
        if limit < 1:
            raise ConfigError(f"{where} = {value!r}; use a positive whole number, or 0 for off")
        return limit
    return None if value in (None, "") else str(value)


_SETTING_NAMES: Final = frozenset(Settings.__slots__) - {"extra", "refused"}


def _read_env(environ: Mapping[str, str | None], origin: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for var, name in ENV_VARS.items():
        value = environ.get(var)
        if value is not None:
            out[name] = _coerce(name, value, f"{origin} {var}")
    return out


SETTINGS_FILE_MAX: Final = 1 << 20
"""Bytes a ``config.toml`` or ``.env`` may hold (1 MiB): both are read on every hook call."""

_KINDS: Final = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def read_settings_text(path: Path, *, skip_directory: bool = False) -> str | None:
    """The text of a settings file (``config.toml``, ``.env``); None when there is none.

    Only a regular file is read, at most `SETTINGS_FILE_MAX` bytes: the file is opened
    non-blocking and checked with ``fstat`` before any read, so a FIFO, ``/dev/zero`` (or a
    symlink to either) or a huge file costs one ``open`` instead of blocking or bloating every
    hook and CLI call. A symlink to a regular file is followed: this is a read, and a user's
    dotfiles often link these files.

    Args:
        path: the file.
        skip_directory: a directory there is not ours (a virtualenv named ``.env``): None.

    Raises:
        ConfigError: not a regular file, too large, unreadable or not UTF-8 (one line, naming
            the file). `NotADirectoryError` when a parent is a file (the caller says which).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError) as exc:
        if isinstance(exc, NotADirectoryError) and not skip_directory:
            raise
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode) and skip_directory:
            return None
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a plain file")
            raise ConfigError(
                f"{path} is {kind}, not a regular file; settings are read only from a plain "
                "file (anything else could block or flood every call): remove it or replace "
                "it with a file"
            )
        chunks: list[bytes] = []
        left = SETTINGS_FILE_MAX + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 16))):
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file ({exc.strerror})") from None
    finally:
        os.close(fd)
    if left <= 0:
        raise ConfigError(
            f"{path} is larger than {SETTINGS_FILE_MAX // (1 << 20)} MiB; a settings file "
            "holds a few settings: trim it"
        )
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
        ) from None


def read_config_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read ``config.toml``: (settings, extra sections). A missing file is empty.

    Raises:
        ConfigError: the file is not a regular file (`read_settings_text`), not valid TOML,
            or a setting has a wrong value.
    """
    try:
        text = read_settings_text(path)
    except NotADirectoryError:
        raise ConfigError(
            f"{path.parent} is a file, not the telemetry directory; point AI_TELEMETRY_DIR "
            "at a directory"
        ) from None
    if text is None:
        return {}, {}
    import tomllib  # only when there is a file: the hook runs without one

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    settings: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SETTING_NAMES:
            settings[key] = _coerce(key, value, str(path))
        else:
            extra[key] = value
    return settings, extra


_notify: Callable[[str], None] | None = None
_told: set[str] = set()


def report_refusals(notify: Callable[[str], None] | None) -> None:
    """Have `load_settings` pass each refused path's message to ``notify`` once per process
    (the CLI prints them on stderr; the hook and the SDK stay quiet and leave it to doctor)."""
    global _notify  # noqa: PLW0603 - one switch for the process, set by the CLI
    _notify = notify


def _inside(path: Path, base: Path) -> bool:
    """Does ``path`` resolve (following symlinks) to a place inside the project ``base``?

    The hook calls this on every tool call, so the common case (a path under ``base`` with no
    ``..`` and no symlink on the way down) costs a few ``lstat`` calls, not a ``realpath``.
    """
    text, root = os.fspath(path), os.fspath(base).rstrip(os.sep) or os.sep
    prefix = root if root.endswith(os.sep) else root + os.sep
    if text.startswith(prefix):
        parts = text[len(prefix) :].split(os.sep)  # noqa: PTH206 (hot path: no pathlib)
        if ".." not in parts:
            current = root
            for part in parts:
                if not part or part == ".":
                    continue
                current = os.path.join(current, part)  # noqa: PTH118
                try:
                    if stat.S_ISLNK(os.lstat(current).st_mode):
                        break
                except OSError:  # missing: nothing below can be a link yet
                    return True
            else:
                return True
    try:
        real, project = os.path.realpath(text), os.path.realpath(root)
    except (OSError, RuntimeError):  # a symlink loop: not a place anywhere
        return False
    return real == project or real.startswith(project.rstrip(os.sep) + os.sep)


def _refusal(name: str, value: Path, origin: str, project: Path) -> str:
    return (
        f"ignored {name} = {str(value)!r} from {origin}: it points outside the project "
        f"({project.resolve()}), and a repository's files may not redirect writes; set "
        f"AI_TELEMETRY_{name.upper()} in your own environment to use it"
    )


def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Resolve settings: argument > environment > .env > config.toml > default.

    Args:
        environ: environment to read (default ``os.environ``); tests pass their own.
        cwd: directory holding ``.env`` and against which relative paths resolve (default: cwd).
        **overrides: settings given as arguments; ``None`` means "not given".

    Raises:
        ConfigError: a value is malformed; the message names the variable or file.
    """
    base = Path.cwd() if cwd is None else cwd
    env = _read_env(os.environ if environ is None else environ, "environment")
    dotenv: dict[str, Any] = {}
    dotenv_path = base / ".env"
    dotenv_text = read_settings_text(dotenv_path, skip_directory=True)
    if dotenv_text is not None:
        from io import StringIO

        from dotenv import dotenv_values

        dotenv = _read_env(dotenv_values(stream=StringIO(dotenv_text)), str(dotenv_path))
    given = {k: _coerce(k, v, "argument") for k, v in overrides.items() if v is not None}
    unknown = set(given) - _SETTING_NAMES
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    trusted = {**env, **given}  # the user's own choices; .env came with the repository
    refused: list[str] = []
    for name in ("telemetry_dir", "log_path"):
        if name in dotenv and name not in trusted and not _inside(base / dotenv[name], base):
            refused.append(_refusal(name, dotenv.pop(name), str(dotenv_path), base))
    upper = {**dotenv, **trusted}

    telemetry_dir = upper.get("telemetry_dir")
    if telemetry_dir is None and "log_path" in upper:
        telemetry_dir = Path(upper["log_path"]).parent
    repo_chose_dir = "telemetry_dir" not in trusted and "log_path" not in trusted
    telemetry_dir = base / (telemetry_dir if telemetry_dir is not None else DEFAULT_DIR)
    dir_inside = _inside(telemetry_dir, base)
    if repo_chose_dir and not dir_inside:
        raise ConfigError(
            f"{telemetry_dir} resolves to {telemetry_dir.resolve()}, outside the project "
            f"({base.resolve()}): a directory symlink in the repository may not redirect writes; "
            "remove the link, or set AI_TELEMETRY_DIR in your own environment"
        )
    config_path = telemetry_dir / CONFIG_FILE_NAME
    file_settings, extra = read_config_file(config_path)
    if dir_inside and "log_path" in file_settings and "log_path" not in trusted:
        value = file_settings["log_path"]
        if not _inside(base / value, base):  # the repository's config.toml: same rule
            refused.append(
                _refusal("log_path", file_settings.pop("log_path"), str(config_path), base)
            )
    merged = {**file_settings, **upper, "telemetry_dir": telemetry_dir}
    if not merged.get("project"):  # neither AI_TELEMETRY_PROJECT nor the config: the git repo
        from ai_telemetry.projectname import default_project

        merged["project"] = default_project(base.absolute())
    log_path = merged.get("log_path")
    merged["log_path"] = base / log_path if log_path is not None else telemetry_dir / "events.jsonl"
    if refused and _notify is not None:
        for message in refused:
            if message not in _told:
                _told.add(message)
                _notify(message)
    return Settings(extra=extra, refused=tuple(refused), **merged)


def pushgateway(settings: Settings) -> tuple[str | None, str]:
    """``[export.pushgateway]`` of ``config.toml``: (url or None, job, default ai_infrastructure).

    ``ai-telemetry weekly`` pushes the metrics there when the url is set (docs/prometheus.md).

    Raises:
        ConfigError: the section is not a table, or the url is not an http(s) URL.
    """
    where = f"{settings.config_path}: [export.pushgateway]"
    export = settings.extra.get("export", {})
    table = export.get("pushgateway", {}) if isinstance(export, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f'{where} must be a table, e.g. url = "http://pushgateway:9091"')
    url, job = table.get("url"), table.get("job", "ai_infrastructure")
    if not isinstance(job, str) or not job:
        raise ConfigError(f"{where} job = {job!r} must be a non-empty string")
    if url is None or url == "":
        return None, job
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(
            f'{where} url = {url!r} is not an http(s) URL; write url = "http://pushgateway:9091"'
        )
    return url, job


def safe_url(url: str) -> str:
    """The URL without its password, for messages (``user:secret@host`` -> ``user:***@host``;
    the last ``@`` ends the credentials, so a password holding ``@`` or ``/`` is hidden too)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user, colon, _ = creds.partition(":")
    return f"{scheme}://{user}:***@{host}" if colon else url
