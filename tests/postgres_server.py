"""A real, throwaway PostgreSQL server for the tests (no mocks of the database).

`start_postgres` runs ``initdb`` and ``pg_ctl`` from Debian's PostgreSQL 15 or later
(``/usr/lib/postgresql/<n>/bin``; ``.ci/run`` installs the ``postgresql`` package when it is
missing). ``initdb`` refuses to run as root, so as root the server runs as the ``postgres``
user, with its data directory in a temporary folder that user owns. It listens on 127.0.0.1 at
a free port, trusts loopback connections, and has ``fsync`` off (a test server: speed over
durability). Failing to start raises with the server's own log, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MIN_VERSION = 15


@dataclass(frozen=True)
class PostgresServer:
    """A running server: its URL (database ``postgres``, user ``postgres``) and where it lives."""

    url: str
    port: int
    bindir: Path
    root: Path
    run_as: str | None

    def createdb(self, name: str) -> str:
        """Create a database and return its URL."""
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def psql(self, database: str, sql: str) -> str:
        """Run SQL with psql (as a client: any user may)."""
        proc = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            raise RuntimeError(f"psql failed: {proc.stderr.strip()}")
        return proc.stdout


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<n>/bin`` with n >= 15 that has initdb."""
    found = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        with contextlib.suppress(ValueError):
            found.append((int(candidate.parent.parent.name), candidate.parent))
    found = [f for f in found if f[0] >= MIN_VERSION]
    if not found:
        raise RuntimeError(
            "no PostgreSQL >= 15 server binaries in /usr/lib/postgresql/*/bin; install Debian's "
            "`postgresql` package (.ci/run does)"
        )
    return max(found)[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(argv: list[str], run_as: str | None) -> subprocess.CompletedProcess[str]:
    if run_as is not None:
        argv = ["runuser", "-u", run_as, "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


def start_postgres() -> PostgresServer:
    """initdb + pg_ctl start; raises RuntimeError (with the server log) when it cannot."""
    bindir = find_bindir()
    run_as = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="ai-telemetry-pg-"))
    if run_as is not None:
        user = pwd.getpwnam(run_as)
        os.chown(root, user.pw_uid, user.pw_gid)
    data, log = root / "data", root / "server.log"
    init = _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        run_as,
    )
    if init.returncode:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    port = _free_port()
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60 "
        "-c shared_buffers=64MB"
    )
    start = _run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        run_as,
    )
    if start.returncode:
        text = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {start.stderr.strip()}\n{text[-2000:]}")
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    return PostgresServer(url=url, port=port, bindir=bindir, root=root, run_as=run_as)


def stop_postgres(server: PostgresServer) -> None:
    """Stop the server (fast shutdown) and remove its folder."""
    _run(
        [
            str(server.bindir / "pg_ctl"),
            "-D",
            str(server.root / "data"),
            "-m",
            "fast",
            "-w",
            "stop",
        ],
        server.run_as,
    )
    shutil.rmtree(server.root, ignore_errors=True)
