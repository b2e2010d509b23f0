"""``ai-telemetry mcp``: the MCP server (`ai_telemetry.serve.mcp`) over stdio or HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from ai_telemetry.cli.options import history_option, repo_option


@click.command("mcp")
@click.option(
    "--http",
    "address",
    metavar="HOST:PORT",
    help="Serve streamable HTTP here (loopback only, e.g. 127.0.0.1:8765) instead of stdio.",
)
@click.option(
    "--enable-write",
    is_flag=True,
    help="Offer the log_learning tool (also [mcp] enable_write = true in config.toml).",
)
@repo_option
@history_option
def mcp_cmd(address: str | None, enable_write: bool, repo: Path, history_dir: Path | None) -> None:
    """Serve the metrics to AI agents over MCP (stdio; --http for streamable HTTP).

    Tools: get_metrics, top, trend, open_alerts, skill_audit, learning_review, compare_skill,
    recommend_skill, propose_fix, propose_skill, and log_learning when writing is enabled;
    resources: metrics.json and the latest weekly dashboard (docs/mcp.md). Register it with
    `ai-telemetry claude-code install --mcp`.
    """
    from ai_telemetry.config import load_settings
    from ai_telemetry.serve.mcp import ServerOptions, parse_address, serve, write_enabled

    http = parse_address(address) if address is not None else None
    settings = load_settings()
    options = ServerOptions(
        settings=settings,
        repo=repo.resolve(),
        history_dir=(history_dir or repo / ".claude" / "History").resolve(),
        enable_write=write_enabled(settings, flag=enable_write),
    )
    serve(options, http=http)
