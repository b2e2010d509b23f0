"""The ``ai-telemetry`` command: a thin twin of the library.

Every command parses its options, calls one library function, and prints. Commands live in
modules per room (``cli/core.py``, ``cli/collect.py``, ...) and are imported only when run, so
``ai-telemetry hook`` (which bypasses click entirely, see ``__main__``) and ``--help`` stay fast.
Errors from the library (`AITelemetryError`) become one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from ai_telemetry.cli.output import echo
from ai_telemetry.errors import AITelemetryError

# name -> "module:attribute" (module relative to ai_telemetry.cli). A module that is not there
# yet hides its commands instead of breaking the CLI.
COMMANDS: dict[str, str] = {
    # foundation
    "init": "core:init_cmd",
    "log": "core:log_cmd",
    "tail": "log:tail_cmd",
    "validate": "log:validate_cmd",
    "doctor": "core:doctor_cmd",
    "schema": "core:schema_cmd",
    "demo": "core:demo_cmd",
    # collectors
    "hook": "claude_code:hook_cmd",
    "claude-code": "claude_code:claude_code_group",
    "import": "imports:import_group",
    "collect": "collect:collect_group",
    "git": "collect:git_group",
    "ci": "collect:ci_group",
    "learning": "collect:learning_group",
    "learnings": "collect:learnings_group",
    # analytics
    "aggregate": "analytics:aggregate_cmd",
    "top": "analytics:top_cmd",
    "trend": "analytics:trend_cmd",
    "query": "analytics:query_cmd",
    "retention": "analytics:retention_group",
    "recommend": "loop:recommend_cmd",
    "propose": "loop:propose_group",
    "store": "store:store_group",
    # reports
    "dashboard": "reports:dashboard_cmd",
    "review": "reports:review_group",
    "audit": "reports:audit_group",
    "compare": "reports:compare_group",
    "status": "reports:status_cmd",
    "projects": "reports:projects_cmd",
    "usage": "usage:usage_group",
    "statusline": "usage:statusline_cmd",
    # detection and alerting
    "spc": "detect:spc_cmd",
    "detect": "detect:detect_cmd",
    "gate": "detect:gate_cmd",
    "weekly": "detect:weekly_cmd",
    "schedule": "detect:schedule_group",
    # export
    "export": "export:export_group",
    # serve
    "mcp": "mcp:mcp_cmd",
    "serve": "serve:serve_cmd",
    "token": "serve:token_group",
    "ship": "ship:ship_cmd",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use.

    Args:
        lazy: subcommand name -> ``"module:attribute"``, module relative to ``package``.
        package: where the modules live.
    """

    def __init__(
        self, *args: Any, lazy: dict[str, str], package: str = __name__, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy
        self.package = package

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        names.update(n for n in self.lazy if self.get_command(ctx, n) is not None)
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = self.lazy.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        qualified = f"{self.package}.{module_name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name == qualified:
                return None
            raise
        command = getattr(module, attr, None)
        return command if isinstance(command, click.Command) else None

    def invoke(self, ctx: click.Context) -> Any:
        from ai_telemetry.cli.output import emit_error, json_mode

        try:
            return super().invoke(ctx)
        except AITelemetryError as exc:
            if (command := json_mode(ctx)) is not None:
                emit_error(str(exc), command=command)
            else:
                echo(f"ai-telemetry: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:
            if (command := json_mode(ctx)) is None:
                raise
            emit_error(exc.format_message(), command=command)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug of ours: one line, the traceback only on request
            if os.environ.get("AI_TELEMETRY_DEBUG"):
                raise
            from ai_telemetry.store.warehouse import disk_problem

            if (reason := disk_problem(exc)) is not None:  # not a bug: the disk is full
                where = exc.filename if isinstance(exc, OSError) and exc.filename else "a file"
                message = f"{where}: {reason}; free some space, or set AI_TELEMETRY_DIR elsewhere"
                if (command := json_mode(ctx)) is not None:
                    emit_error(message, command=command)
                else:
                    click.echo(f"ai-telemetry: error: {message}", err=True)
                ctx.exit(1)
            where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
            message = f"internal error: {type(exc).__name__}: {exc}{where}"
            message = " ".join(message.split())  # one line, whatever the exception said
            if (command := json_mode(ctx)) is not None:
                emit_error(message, command=command)
            else:
                echo(
                    f"ai-telemetry: {message} (set AI_TELEMETRY_DEBUG=1 for the traceback)",
                    err=True,
                )
            ctx.exit(70)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ai-telemetry")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Is our AI infrastructure getting better? Collect, aggregate, report and alert.

    Data lives in .claude/Telemetry/ (set AI_TELEMETRY_DIR or AI_TELEMETRY_LOG_PATH to move it).
    """
    if ctx.invoked_subcommand != "hook":  # the hook prints nothing it does not mean to
        from ai_telemetry.config import report_refusals

        report_refusals(lambda message: click.echo(f"ai-telemetry: warning: {message}", err=True))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    try:
        cli.main(args=argv, prog_name="ai-telemetry", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
