"""Test-wide isolation: no test reads the developer's settings or writes their state."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop AI_TELEMETRY_* from the environment and keep SDK status files in a temp dir."""
    for name in list(os.environ):
        if name.startswith("AI_TELEMETRY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AI_TELEMETRY_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    # `ai-telemetry hook` subprocesses run in-process: no test leaves a hook daemon behind
    # (tests/collect/claude_code/test_hook_daemon.py turns it back on in its own env).
    monkeypatch.setenv("AI_TELEMETRY_HOOK_DAEMON", "0")


@pytest.fixture
def telemetry_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh telemetry directory, also set as AI_TELEMETRY_DIR for subprocesses."""
    directory = tmp_path / "Telemetry"
    monkeypatch.setenv("AI_TELEMETRY_DIR", str(directory))
    return directory


@pytest.fixture
def sdk_client(telemetry_dir: Path) -> Iterator[object]:
    """The process-wide SDK client pointed at a fresh log, durability write, errors re-raised."""
    import ai_telemetry

    client = ai_telemetry.configure(
        telemetry_dir=telemetry_dir, durability="write", raise_errors=True
    )
    yield client
    ai_telemetry.configure(telemetry_dir=telemetry_dir, enabled=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted at ``tmp_path/small`` (the tests run as root), unmounted after.

    Fails loudly, never skips, when it cannot be mounted: the full-disk tests must run.
    """
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"cannot mount a 2 MB tmpfs at {mount} (the full-disk tests need root): "
            f"{proc.stderr.strip() or proc.returncode}"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A real PostgreSQL (15+) on loopback for the whole session (tests/postgres_server.py).

    Fails loudly, never skips, when it cannot start: the PostgreSQL store's tests must run.
    """
    from postgres_server import start_postgres, stop_postgres

    try:
        server = start_postgres()
    except RuntimeError as exc:
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}")
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture
def postgres_url(postgres_server: object, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the session's server; its postgresql:// URL."""
    import re
    import uuid

    from postgres_server import PostgresServer

    assert isinstance(postgres_server, PostgresServer)
    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    return postgres_server.createdb(f"t_{name}_{uuid.uuid4().hex[:8]}")
