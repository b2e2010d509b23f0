"""``ai-telemetry serve`` (the team server) and ``ai-telemetry token create|list|revoke``."""

from __future__ import annotations

from pathlib import Path

import click

from ai_telemetry.cli.output import echo, echo_line
from ai_telemetry.cli.store import store_option

_DIR = click.option(
    "--dir", "directory", type=click.Path(path_type=Path), help="Telemetry directory."
)


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; anything but loopback needs a token (ai-telemetry token create).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True)
@_DIR
@click.option(
    "--max-body",
    type=click.IntRange(1024),
    default=4 * 1024 * 1024,
    show_default=True,
    help="Bytes a request body may have on the wire (compressed or not); over it: 413.",
)
@click.option(
    "--max-decompressed",
    type=click.IntRange(1024),
    default=20 * 1024 * 1024,
    show_default=True,
    help="Bytes a gzip body may inflate to; over it: 413 (checked while inflating).",
)
@click.option(
    "--read-timeout",
    type=click.FloatRange(0.1),
    default=30.0,
    show_default=True,
    help="Seconds a request body may take to arrive (a slow client gets 408).",
)
@click.option(
    "--behind-tls", is_flag=True, help="A TLS reverse proxy is in front (Secure cookies)."
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="The repository whose .claude/History the learnings routes share.",
)
@store_option
def serve_cmd(  # noqa: PLR0917 (click passes options positionally)
    host: str,
    port: int,
    directory: Path | None,
    max_body: int,
    max_decompressed: int,
    read_timeout: float,
    behind_tls: bool,
    repo: Path,
) -> None:
    """Run the team server: event ingest, OTLP/HTTP receiver and read API (docs/serve.md).

    With --store postgresql://... (or AI_TELEMETRY_STORE) every acknowledged event also goes
    on to that store, and the read API reads it. Stops on SIGTERM or Ctrl-C after the requests
    in flight are answered.
    """
    import os

    from ai_telemetry.config import load_settings, safe_url
    from ai_telemetry.serve.app import run_server
    from ai_telemetry.serve.body import BodyLimits
    from ai_telemetry.serve.context import ServeOptions
    from ai_telemetry.store.postgres import is_postgres_url
    from ai_telemetry.stores import STORE_ENV, store_url

    settings = load_settings(telemetry_dir=directory)
    url = store_url(settings)
    central = url if is_postgres_url(url) else None
    if central is not None:
        os.environ[STORE_ENV] = central  # the read routes' threads read the same store
    options = ServeOptions(
        host=host,
        port=port,
        limits=BodyLimits(
            max_bytes=max_body, max_decompressed=max_decompressed, read_timeout=read_timeout
        ),
        behind_tls=behind_tls,
        repo=repo.resolve(),
        store=central,
    )
    onward = f", fed into {safe_url(central)}" if central else ""
    echo_line(
        f"ai-telemetry serve: http://{host}:{port} over {settings.log_path}{onward}", err=True
    )
    run_server(settings, options)


@click.group("token")
def token_group() -> None:
    """Access tokens of the team server (only their hashes are stored)."""


@token_group.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["meta_updater", "program_director", "tech_lead", "collector"]),
    help="meta_updater, tech_lead: read and write; program_director: read; collector: send.",
)
@click.option("--name", required=True, help="Who holds it (laptop-ana, ci); shown in sources.")
@_DIR
def token_create_cmd(role: str, name: str, directory: Path | None) -> None:
    """Create a token and print it once (store it now: it cannot be shown again)."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.serve.tokens import create_token, tokens_path

    settings = load_settings(telemetry_dir=directory)
    token = create_token(settings.telemetry_dir, name=name, role=role)
    echo(token)
    echo_line(
        f"token {name!r} ({role}) created; only its hash is kept in "
        f"{tokens_path(settings.telemetry_dir)}: copy the token now",
        err=True,
    )


@token_group.command("list")
@_DIR
def token_list_cmd(directory: Path | None) -> None:
    """List the tokens: name, role, created, revoked (never the tokens)."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.serve.tokens import read_tokens, tokens_path

    settings = load_settings(telemetry_dir=directory)
    records = read_tokens(tokens_path(settings.telemetry_dir))
    if not records:
        echo("no tokens; create one with: ai-telemetry token create --role ROLE --name NAME")
        return
    for r in records:
        state = f"revoked {r.revoked_at}" if r.revoked_at else "valid"
        echo(f"{r.name}\t{r.role}\tcreated {r.created_at}\t{state}")


@token_group.command("revoke")
@click.argument("name")
@_DIR
def token_revoke_cmd(name: str, directory: Path | None) -> None:
    """Revoke a token; a running server refuses it from its next request."""
    from ai_telemetry.config import load_settings
    from ai_telemetry.serve.tokens import revoke_token

    settings = load_settings(telemetry_dir=directory)
    record = revoke_token(settings.telemetry_dir, name)
    echo(f"token {record.name!r} ({record.role}) revoked at {record.revoked_at}")
