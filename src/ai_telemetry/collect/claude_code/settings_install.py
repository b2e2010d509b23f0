"""Install and remove our hook entries in a Claude Code ``settings.json``.

Claude Code reads hooks from ``~/.claude/settings.json`` (user), ``.claude/settings.json``
(project) and ``.claude/settings.local.json``, in this shape::

    {"hooks": {"PostToolUse": [{"matcher": "*",
                                "hooks": [{"type": "command", "command": "ai-telemetry hook"}]}]}}

`install_hooks` adds one matcher group per event we listen to, unless a group of that event
already runs our command (so running it twice changes nothing; an entry of ours with another
command, say an older path, is updated); every other key and hook is kept as it was.
`uninstall_hooks` removes only hook entries that run ``ai-telemetry hook`` (or post to an
ai-telemetry server's ``/v1/hooks/claude-code``: `install_http_hooks`). Both write
atomically (temp file, fsync, ``os.replace``).

The command written by default (`default_command`) is absolute: Claude Code runs hooks from
the shell it was started in, where a virtualenv is usually not activated, so a bare
``ai-telemetry hook`` would fail with exit 127 on every call. It runs the stand-alone client
(`ai_telemetry.collect.claude_code.hook_main`) with this installation's interpreter, and
`compile_client` writes the bytecode of the modules it loads ahead, so no hook call compiles.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ai_telemetry.errors import ConfigError

BARE_COMMAND: Final = "ai-telemetry hook"
"""The command 0.1.0 installed: it fails (exit 127) where the virtualenv is not on PATH."""
HOOK_TIMEOUT_SECONDS: Final = 10

TOOL_EVENTS: Final = ("PreToolUse", "PostToolUse", "PostToolUseFailure")
"""Events with a tool-name matcher: we match every tool."""
OTHER_EVENTS: Final = (
    "SessionStart",
    "SessionEnd",
    "UserPromptSubmit",
    "Stop",
    "SubagentStop",
    "PreCompact",
)
HOOK_EVENTS: Final = TOOL_EVENTS + OTHER_EVENTS
ASYNC_SAFE_EVENTS: Final = ("PostToolUse", "PostToolUseFailure", "Stop", "PreCompact")
"""Events whose hook may run in the background with ``--async`` (nothing waits for them)."""

_OURS = re.compile(
    r"(^|[\s/\"'])ai-telemetry[\"']?\s+hook(\s|$)|-m\s+ai_telemetry\s+hook(\s|$)"
    r"|ai_telemetry/collect/claude_code/hook_main\.py[\"']?\s+hook(\s|$)"
)
CLIENT_MODULES: Final = (
    "__init__.py",
    "collect/__init__.py",
    "collect/claude_code/__init__.py",
    "collect/claude_code/hook_client.py",
)
"""What the stand-alone client imports (paths in the package): compiled ahead."""


def hook_main_path() -> Path:
    """The stand-alone client script of this installation."""
    return Path(__file__).with_name("hook_main.py")


def default_command(python: str | None = None) -> str:
    """The hook command for this installation: absolute, runnable from any shell.

    ``<this interpreter> -I -S <package>/collect/claude_code/hook_main.py hook``: the
    interpreter path as it is (a virtualenv's ``bin/python``, never resolved: that would leave
    the virtualenv), quoted for the shell.
    """
    return shlex.join([python or sys.executable, "-I", "-S", str(hook_main_path()), "hook"])


def compile_client() -> list[str]:
    """Write the ``.pyc`` files of the modules the hook client loads, and of the package.

    A fresh editable install has none, and with ``PYTHONDONTWRITEBYTECODE=1`` Python would
    compile them again in every hook process. Returns the problems (a read-only
    ``site-packages``, ...); an uncompiled module still works, only slower.
    """
    import compileall
    import py_compile

    package = Path(__file__).resolve().parents[2]
    problems: list[str] = []
    for name in CLIENT_MODULES:
        source = package / name
        try:
            py_compile.compile(str(source), doraise=True)
        except (OSError, py_compile.PyCompileError) as exc:
            problems.append(f"{source}: {exc}")
    if not problems:  # the rest (daemon, in-process fallback), best effort
        compileall.compile_dir(str(package), quiet=2)
    return problems


def is_our_command(command: object) -> bool:
    """Whether a hook command runs ``ai-telemetry hook`` (any path, or ``-m ai_telemetry``)."""
    return isinstance(command, str) and _OURS.search(command) is not None


def settings_path(
    *, scope: str = "project", home: Path | None = None, project: Path | None = None
) -> Path:
    """The settings file of a scope: ``project`` (``.claude/settings.json``) or ``user``."""
    if scope == "user":
        return (home if home is not None else Path.home()) / ".claude" / "settings.json"
    return (project if project is not None else Path.cwd()) / ".claude" / "settings.json"


@dataclass(slots=True)
class InstallReport:
    """What an install or uninstall changed."""

    path: Path
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    changed: bool = False


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix or remove it, then run the command again"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    return data


def _hooks_table(data: dict[str, Any], path: Path) -> dict[str, Any]:
    hooks = data.get("hooks")
    if hooks is None:
        return {}
    if not isinstance(hooks, dict):
        raise ConfigError(f'{path}: "hooks" must be an object mapping event names to lists')
    return hooks


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON (2-space indent, trailing newline) atomically (`atomic_write_text`); an
    existing file keeps its mode, a new one is 0644 (less the umask).

    Raises:
        ConfigError: the directory or file cannot be written.
    """
    from ai_telemetry.log.files import atomic_write_text

    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        atomic_write_text(path, text, keep_mode=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write ({exc.strerror or exc})") from None


HTTP_HOOK_PATH: Final = "/v1/hooks/claude-code"
"""The route of ``ai-telemetry serve`` that takes Claude Code's ``http`` hooks."""


def is_our_http_hook(entry: object) -> bool:
    """Whether a hook entry is an ``http`` hook posting to an ai-telemetry server."""
    return (
        isinstance(entry, dict)
        and entry.get("type") == "http"
        and isinstance(entry.get("url"), str)
        and entry["url"].rstrip("/").endswith(HTTP_HOOK_PATH)
    )


def _is_ours(entry: object) -> bool:
    return isinstance(entry, dict) and (
        is_our_command(entry.get("command")) or is_our_http_hook(entry)
    )


def _our_entries(group: object) -> list[dict[str, Any]]:
    if not isinstance(group, dict):
        return []
    entries = group.get("hooks")
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and is_our_command(e.get("command"))]


def _drop_entries(hooks: dict[str, Any], drop: Callable[[object], bool]) -> list[str]:
    """Remove the entries ``drop(entry)`` picks from every event; the events touched."""
    touched: list[str] = []
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        removed_here = False
        for group in groups:
            entries = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(entries, list):
                kept_groups.append(group)
                continue
            kept = [e for e in entries if not drop(e)]
            if len(kept) == len(entries):
                kept_groups.append(group)
                continue
            removed_here = True
            if kept:
                kept_groups.append({**group, "hooks": kept})
        if removed_here:
            touched.append(event)
            if kept_groups:
                hooks[event] = kept_groups
            else:
                del hooks[event]
    return touched


def install_http_hooks(
    path: Path,
    *,
    server: str,
    token_env: str,
    timeout: int = HOOK_TIMEOUT_SECONDS,
) -> InstallReport:
    """Write Claude Code ``http`` hooks to a server instead of our command hooks.

    Each event gets ``{"type": "http", "url": "<server>/v1/hooks/claude-code", "headers":
    {"Authorization": "Bearer $<token_env>"}, "allowedEnvVars": [<token_env>]}``: Claude Code
    puts the variable's value into the header when it posts, so the token itself is never in
    the settings. Our command hooks are removed (one route for each event, not two).

    Raises:
        ConfigError: the settings file is malformed, or ``token_env`` is not a variable name.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token_env):
        raise ConfigError(f"--token-env {token_env!r}: not an environment variable name")
    url = server.rstrip("/") + HTTP_HOOK_PATH
    entry: dict[str, Any] = {
        "type": "http",
        "url": url,
        "headers": {"Authorization": f"Bearer ${token_env}"},
        "allowedEnvVars": [token_env],
        "timeout": timeout,
    }
    data = _load(path)
    hooks = _hooks_table(data, path)
    report = InstallReport(path=path)
    report.removed = _drop_entries(
        hooks, lambda e: isinstance(e, dict) and is_our_command(e.get("command"))
    )
    for event in HOOK_EVENTS:
        groups = hooks.get(event)
        if groups is None:
            groups = []
        if not isinstance(groups, list):
            raise ConfigError(f"{path}: hooks.{event} must be a list of matcher groups")
        ours = [
            e
            for g in groups
            if isinstance(g, dict) and isinstance(g.get("hooks"), list)
            for e in g["hooks"]
            if is_our_http_hook(e)
        ]
        if ours:
            stale = [e for e in ours if e != entry]
            for old in stale:
                old.clear()
                old.update(entry)
            if stale:
                report.updated.append(event)
            continue
        group: dict[str, Any] = {"hooks": [dict(entry)]}
        if event in TOOL_EVENTS:
            group = {"matcher": "*", **group}
        groups.append(group)
        hooks[event] = groups
        report.added.append(event)
    if report.added or report.updated or report.removed:
        data["hooks"] = hooks
        write_json_atomic(path, data)
        report.changed = True
    return report


def configured_commands(path: Path) -> list[str]:
    """Our hook commands in a settings file, each once (none when it is missing or broken)."""
    try:
        hooks = _hooks_table(_load(path), path)
    except ConfigError:
        return []
    found: dict[str, None] = {}
    for groups in hooks.values():
        for group in groups if isinstance(groups, list) else []:
            for entry in _our_entries(group):
                found[str(entry["command"])] = None
    return list(found)


def install_hooks(
    path: Path,
    *,
    command: str | None = None,
    timeout: int = HOOK_TIMEOUT_SECONDS,
    background: bool = False,
) -> InstallReport:
    """Merge our hook entries into a settings file (created when missing).

    Args:
        path: the settings.json to change.
        command: the hook command; must run ``ai-telemetry hook`` (default: `default_command`).
            Entries of ours with another command are updated to it.
        timeout: seconds Claude Code lets the hook run.
        background: mark the events nothing waits for (`ASYNC_SAFE_EVENTS`) ``"async": true``
            (Claude Code versions with background hooks; older ones may reject the key).

    Raises:
        ConfigError: the file is not a JSON object, its ``hooks`` is malformed, or
            ``command`` does not run ``ai-telemetry hook``.
    """
    if command is None:
        command = default_command()
    if not is_our_command(command):
        raise ConfigError(f"hook command {command!r} must run 'ai-telemetry hook'")
    data = _load(path)
    hooks = _hooks_table(data, path)
    report = InstallReport(path=path)
    report.removed = _drop_entries(hooks, is_our_http_hook)  # back from --http-hooks
    for event in HOOK_EVENTS:
        groups = hooks.get(event)
        if groups is None:
            groups = []
        if not isinstance(groups, list):
            raise ConfigError(f"{path}: hooks.{event} must be a list of matcher groups")
        ours = [e for g in groups for e in _our_entries(g)]
        if ours:
            stale = [e for e in ours if e.get("command") != command]
            for old in stale:
                old["command"] = command
            if stale:
                report.updated.append(event)
            continue
        entry: dict[str, Any] = {"type": "command", "command": command, "timeout": timeout}
        if background and event in ASYNC_SAFE_EVENTS:
            entry["async"] = True
        group: dict[str, Any] = {"hooks": [entry]}
        if event in TOOL_EVENTS:
            group = {"matcher": "*", **group}
        groups.append(group)
        hooks[event] = groups
        report.added.append(event)
    if report.added or report.updated or report.removed:
        data["hooks"] = hooks
        write_json_atomic(path, data)
        report.changed = True
    return report


def uninstall_hooks(path: Path) -> InstallReport:
    """Remove every hook entry that runs ``ai-telemetry hook``; keep everything else.

    Groups and event lists left empty by the removal are dropped, and so is ``hooks`` when it
    ends up empty. A missing file is left missing.

    Raises:
        ConfigError: the file is not a JSON object or its ``hooks`` is malformed.
    """
    report = InstallReport(path=path)
    if not path.exists():
        return report
    data = _load(path)
    hooks = _hooks_table(data, path)
    report.removed = _drop_entries(hooks, _is_ours)
    if report.removed:
        if hooks:
            data["hooks"] = hooks
        else:
            data.pop("hooks", None)
        write_json_atomic(path, data)
        report.changed = True
    return report


# --- the status line (beside the hooks) ----------------------------------------------------

STATUSLINE_COMMAND: Final = "ai-telemetry statusline"
_OUR_STATUSLINE = re.compile(
    r"(^|[\s/\"'])ai-telemetry[\"']?\s+statusline\s*$|-m\s+ai_telemetry\s+statusline\s*$"
)


def _is_our_statusline(entry: object) -> bool:
    command = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(command, str) and _OUR_STATUSLINE.search(command) is not None


def install_statusline(path: Path, *, command: str = STATUSLINE_COMMAND) -> InstallReport:
    """Set ``statusLine`` to run ``ai-telemetry statusline`` (idempotent; keeps other keys).

    Raises:
        ConfigError: the file is unreadable, or another status line is configured (we never
            replace someone else's; the message says what to do).
    """
    data = _load(path)
    report = InstallReport(path)
    current = data.get("statusLine")
    wanted = {"type": "command", "command": command, "padding": 0}
    if isinstance(current, dict) and current.get("command") == command:
        return report
    if current is not None and not _is_our_statusline(current):
        shown = current.get("command") if isinstance(current, dict) else current
        raise ConfigError(
            f"{path}: statusLine already runs {shown!r}; remove that statusLine entry (or "
            "call ai-telemetry statusline from your script) and run the command again"
        )
    data["statusLine"] = wanted
    write_json_atomic(path, data)
    report.added.append("statusLine")
    report.changed = True
    return report


def uninstall_statusline(path: Path) -> InstallReport:
    """Remove ``statusLine`` when it runs ``ai-telemetry statusline``; anything else stays."""
    report = InstallReport(path)
    if not path.exists():
        return report
    data = _load(path)
    if _is_our_statusline(data.get("statusLine")):
        del data["statusLine"]
        write_json_atomic(path, data)
        report.removed.append("statusLine")
        report.changed = True
    return report


# --- the MCP server (`ai-telemetry mcp`) -------------------------------------------------

MCP_SERVER_NAME: Final = "ai-telemetry"
_OUR_MCP = re.compile(r"(^|[\s/\"'])ai-telemetry[\"']?\s+mcp(\s|$)|-m\s+ai_telemetry\s+mcp(\s|$)")


def mcp_config_path(
    *, scope: str = "project", home: Path | None = None, project: Path | None = None
) -> Path:
    """Where Claude Code reads MCP servers: the project's ``.mcp.json``, or for the user
    scope ``~/.claude.json`` (its top-level ``mcpServers``, as ``claude mcp add -s user``)."""
    if scope == "user":
        return (home if home is not None else Path.home()) / ".claude.json"
    return (project if project is not None else Path.cwd()) / ".mcp.json"


def default_mcp_server(python: str | None = None) -> dict[str, Any]:
    """Our server entry: this installation's interpreter by absolute path (as the hook's
    `default_command`), so it starts without the virtualenv on PATH."""
    return {
        "type": "stdio",
        "command": python or sys.executable,
        "args": ["-I", "-m", "ai_telemetry", "mcp"],
        "env": {},
    }


def _is_our_mcp_server(entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    args = entry.get("args")
    words = [entry.get("command"), *(args if isinstance(args, list) else [])]
    line = " ".join(str(w) for w in words if w is not None)
    return _OUR_MCP.search(line) is not None


def _servers_table(data: dict[str, Any], path: Path) -> dict[str, Any]:
    servers = data.get("mcpServers")
    if servers is None:
        return {}
    if not isinstance(servers, dict):
        raise ConfigError(f'{path}: "mcpServers" must be an object mapping names to servers')
    return servers


def install_mcp_server(path: Path, *, server: dict[str, Any] | None = None) -> InstallReport:
    """Add (or update) ``mcpServers["ai-telemetry"]``; every other server and key stays.

    Raises:
        ConfigError: the file is not a JSON object, ``mcpServers`` is malformed, or a server
            named ai-telemetry that is not ours is there (never replaced).
    """
    wanted = server if server is not None else default_mcp_server()
    data = _load(path)
    servers = _servers_table(data, path)
    report = InstallReport(path)
    current = servers.get(MCP_SERVER_NAME)
    if current == wanted:
        return report
    if current is not None and not _is_our_mcp_server(current):
        raise ConfigError(
            f"{path}: mcpServers.{MCP_SERVER_NAME} already runs something else; rename or "
            "remove that entry and run the command again"
        )
    (report.updated if current is not None else report.added).append(MCP_SERVER_NAME)
    servers[MCP_SERVER_NAME] = wanted
    data["mcpServers"] = servers
    write_json_atomic(path, data)
    report.changed = True
    return report


def uninstall_mcp_server(path: Path) -> InstallReport:
    """Remove our ``mcpServers`` entry (only when it runs ``ai-telemetry mcp``); a table left
    empty goes too, so a file we added to is as it was before."""
    report = InstallReport(path)
    if not path.exists():
        return report
    data = _load(path)
    servers = _servers_table(data, path)
    if _is_our_mcp_server(servers.get(MCP_SERVER_NAME)):
        del servers[MCP_SERVER_NAME]
        if servers:
            data["mcpServers"] = servers
        else:
            data.pop("mcpServers", None)
        write_json_atomic(path, data)
        report.removed.append(MCP_SERVER_NAME)
        report.changed = True
    return report
