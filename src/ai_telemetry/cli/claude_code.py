"""``ai-telemetry hook``, ``ai-telemetry claude-code install|uninstall`` and
``ai-telemetry import claude-code``.

The hook itself is dispatched by ``ai_telemetry.__main__`` without click (it runs on every
tool call); `hook_cmd` is the same function, listed here for ``--help``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ai_telemetry.cli.output import echo, emit, json_option


@click.command(
    "hook",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook_cmd(args: tuple[str, ...]) -> None:
    """Claude Code hook: reads the event JSON on stdin, writes telemetry, exits 0.

    Install it with `ai-telemetry claude-code install`. It exits 2 (blocking the tool call)
    only when the tool-call limit (AI_TELEMETRY_TOOL_CALL_LIMIT) is reached.
    """
    from ai_telemetry.collect.claude_code.hook import run_hook

    sys.exit(run_hook(list(args)))


def _target(scope_user: bool, settings: Path | None) -> Path:
    from ai_telemetry.collect.claude_code.settings_install import settings_path

    if settings is not None:
        return settings
    return settings_path(scope="user" if scope_user else "project")


_scope_options = [
    click.option(
        "--user/--project",
        "scope_user",
        default=False,
        help="Your ~/.claude/settings.json (every project), or this project's "
        ".claude/settings.json (the default).",
    ),
    click.option(
        "--settings",
        "settings_file",
        type=click.Path(path_type=Path),
        help="Another settings file, e.g. .claude/settings.local.json.",
    ),
]


F = TypeVar("F", bound=Callable[..., Any])


def _with_scope(func: F) -> F:
    for option in reversed(_scope_options):
        func = option(func)
    return func


@click.group("claude-code")
def claude_code_group() -> None:
    """Connect Claude Code: install or remove the telemetry hooks."""


@claude_code_group.command("install")
@_with_scope
@click.option(
    "--command",
    "command",
    default=None,
    help="Hook command (default: this installation's interpreter running the stand-alone "
    "hook client, by absolute path, so it runs without the virtualenv on PATH).",
)
@click.option(
    "--async",
    "background",
    is_flag=True,
    help="Run the hooks nothing waits for in the background (newer Claude Code).",
)
@click.option(
    "--statusline",
    is_flag=True,
    help="Also set Claude Code's statusLine to `ai-telemetry statusline` (cost, block, skills).",
)
@click.option(
    "--mcp",
    "with_mcp",
    is_flag=True,
    help="Also register `ai-telemetry mcp` as an MCP server: .mcp.json (project) or "
    "~/.claude.json (--user).",
)
@click.option(
    "--server",
    "server",
    default=None,
    metavar="URL",
    help="Also send the events to this ai-telemetry server (the hook daemon forwards them "
    "from a local spool; the hook never waits on the network).",
)
@click.option(
    "--token",
    "token",
    default=None,
    help="With --server: the token to send with (role collector); stored mode 0600 in "
    "~/.config/ai-telemetry/server.json, never in settings.json.",
)
@click.option(
    "--server-only",
    is_flag=True,
    help="With --server: send the events to the server instead of the project's log.",
)
@click.option(
    "--http-hooks",
    is_flag=True,
    help="With --server: write Claude Code http hooks posting to the server's "
    "/v1/hooks/claude-code instead of command hooks (no process per tool call).",
)
@click.option(
    "--token-env",
    "token_env",
    default=None,
    metavar="VAR",
    help="With --http-hooks: the environment variable holding the token; Claude Code sends "
    "'Authorization: Bearer $VAR' (allowedEnvVars), the token is never written down.",
)
def install_cmd(  # noqa: PLR0917 (click passes options positionally)
    scope_user: bool,
    settings_file: Path | None,
    command: str | None,
    background: bool,
    statusline: bool,
    with_mcp: bool,
    server: str | None,
    token: str | None,
    server_only: bool,
    http_hooks: bool,
    token_env: str | None,
) -> None:
    """Add our hooks to settings.json, keeping every existing hook (idempotent).

    Re-running it updates the command of our hooks (a moved or upgraded installation).
    """
    if server is None and (token or server_only or http_hooks or token_env):
        raise click.UsageError("--token, --server-only, --http-hooks and --token-env need --server")
    if http_hooks:
        if token or server_only:
            raise click.UsageError(
                "--http-hooks sends to the server only and takes the token from --token-env"
            )
        if not token_env:
            raise click.UsageError("--http-hooks needs --token-env VAR (the token's variable)")
        assert server is not None
        _install_http_hooks(_target(scope_user, settings_file), server, token_env, statusline)
        if with_mcp:
            _install_mcp(scope_user)
        return
    if token_env:
        raise click.UsageError("--token-env goes with --http-hooks")
    if server is not None:
        _configure_forwarding(server, token, server_only)
    from ai_telemetry.collect.claude_code.settings_install import (
        compile_client,
        default_command,
        install_hooks,
    )

    path = _target(scope_user, settings_file)
    if command is None:
        command = default_command()
        for problem in compile_client():
            echo(f"warning: cannot compile the hook client ahead: {problem}", err=True)
    if statusline:  # first: a status line of someone else's stops us before anything changed
        _install_statusline(path, command)
    report = install_hooks(path, command=command, background=background)
    if report.added:
        echo(f"Installed ai-telemetry hooks in {path} ({', '.join(report.added)}).")
    if report.updated:
        echo(f"Updated the ai-telemetry hook command in {path} ({', '.join(report.updated)}).")
    if not report.changed:
        echo(f"ai-telemetry hooks already installed in {path}; nothing changed.")
    echo(f"Hook command: {command}")
    if with_mcp:
        _install_mcp(scope_user)


def _install_http_hooks(path: Path, server: str, token_env: str, statusline: bool) -> None:
    from urllib.parse import urlsplit

    from ai_telemetry.collect.claude_code.settings_install import (
        default_command,
        install_http_hooks,
    )

    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{server!r} is not an http:// or https:// URL", param_hint="--server"
        )
    if statusline:
        _install_statusline(path, default_command())
    report = install_http_hooks(path, server=server, token_env=token_env)
    if report.removed:
        echo(f"Replaced the command hooks in {path} ({', '.join(report.removed)}).")
    if report.added or report.updated:
        echo(
            f"Installed http hooks to {server} in {path} "
            f"({', '.join(report.added + report.updated)})."
        )
    if not report.changed:
        echo(f"ai-telemetry http hooks already installed in {path}; nothing changed.")
    echo(f"Claude Code sends 'Authorization: Bearer ${token_env}': export {token_env} first.")


def _configure_forwarding(server: str, token: str | None, only: bool) -> None:
    import os
    from urllib.parse import urlsplit

    from ai_telemetry.collect.claude_code.forward import ForwardConfig, write_config

    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{server!r} is not an http:// or https:// URL", param_hint="--server"
        )
    if not token:
        raise click.UsageError(
            "--server needs --token (create one on the server: ai-telemetry token create "
            "--role collector --name NAME)"
        )
    path = write_config(os.environ, ForwardConfig(server, token, "only" if only else "both"))
    where = "instead of" if only else "as well as"
    echo(f"Hook events go to {server} {where} the project's log (token kept in {path}, 0600).")


def _install_mcp(scope_user: bool) -> None:
    from ai_telemetry.collect.claude_code.settings_install import (
        install_mcp_server,
        mcp_config_path,
    )

    path = mcp_config_path(scope="user" if scope_user else "project")
    report = install_mcp_server(path)
    if report.changed:
        verb = "Registered" if report.added else "Updated"
        echo(f"{verb} the ai-telemetry MCP server in {path}.")
    else:
        echo(f"The ai-telemetry MCP server is already registered in {path}; nothing changed.")


def _install_statusline(path: Path, hook_command: str) -> None:
    import shlex

    from ai_telemetry.collect.claude_code.settings_install import (
        default_command,
        install_statusline,
    )

    # This installation's Python, absolute like the hook's default; a `--command ... hook`
    # given by hand names the program to use instead.
    if hook_command != default_command() and hook_command.endswith(" hook"):
        command = hook_command.removesuffix(" hook") + " statusline"
    else:
        command = shlex.join([sys.executable, "-I", "-m", "ai_telemetry", "statusline"])
    if install_statusline(path, command=command).changed:
        echo(f"Set the status line in {path}: {command}.")
    else:
        echo(f"The status line in {path} already runs {command}; nothing changed.")


@claude_code_group.command("uninstall")
@_with_scope
def uninstall_cmd(scope_user: bool, settings_file: Path | None) -> None:
    """Remove our hooks from settings.json; everything else stays."""
    from ai_telemetry.collect.claude_code.settings_install import uninstall_hooks

    path = _target(scope_user, settings_file)
    report = uninstall_hooks(path)
    if report.changed:
        echo(f"Removed ai-telemetry hooks from {path} ({', '.join(report.removed)}).")
    else:
        echo(f"No ai-telemetry hooks in {path}; nothing changed.")
    from ai_telemetry.collect.claude_code.settings_install import uninstall_statusline

    if uninstall_statusline(path).changed:
        echo(f"Removed the ai-telemetry status line from {path}.")
    from ai_telemetry.collect.claude_code.settings_install import (
        mcp_config_path,
        uninstall_mcp_server,
    )

    servers = mcp_config_path(scope="user" if scope_user else "project")
    if uninstall_mcp_server(servers).changed:
        echo(f"Removed the ai-telemetry MCP server from {servers}.")
    if scope_user:
        import os

        from ai_telemetry.collect.claude_code.forward import config_path, remove_config

        if remove_config(os.environ):
            echo(f"Removed the forwarding to a server ({config_path(os.environ)}).")


@click.command("claude-code")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path),
    help="Offsets file (default: <telemetry dir>/import-state.json).",
)
@json_option
def import_claude_code_cmd(paths: tuple[Path, ...], state_path: Path | None, as_json: bool) -> None:
    """Import Claude Code transcripts (default ~/.claude/projects), only what is new.

    Writes one llm_request per API response (tokens, estimated cost), context snapshots,
    and session start/end. Running it again adds only what was appended since; unchanged
    files are skipped without being opened. A model without a price is named once.
    """
    from ai_telemetry.collect.claude_code.transcripts import import_transcripts
    from ai_telemetry.config import load_settings

    report = import_transcripts(
        list(paths) or None, settings=load_settings(), state_path=state_path
    )
    if as_json:  # the document lists them: stdout holds one document, stderr nothing
        emit(report.to_document())
        return
    for model, count in report.unpriced_models.items():
        echo(
            f"ai-telemetry: warning: {model}: no price, {count} responses stored without "
            'cost; add it to config.toml, e.g. [pricing."' + model + '"] input = 3.0 '
            "output = 15.0",
            err=True,
        )
    skipped = sum(report.skipped_types.values())
    echo(
        f"{report.files} files ({report.unchanged} unchanged), {report.lines} new lines: "
        f"{report.llm_requests} API responses, {report.events_written} events written"
        + (f", {report.rejected} rejected" if report.rejected else "")
        + (f", {skipped} records of unknown type skipped" if skipped else "")
        + (f", {report.malformed_lines} malformed lines skipped" if report.malformed_lines else "")
        + (f", {len(report.restarted)} replaced files re-read" if report.restarted else "")
        + "."
    )
