"""``ai-telemetry ship`` against a real ``ai-telemetry serve``: resume, rotation, archives."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from ship_helpers import CLI, Server, create_token, env_for, free_port, log_ids, write_events

from ai_telemetry.ship.shipper import checkpoint_path


@pytest.fixture
def server(tmp_path: Path):
    directory = tmp_path / "server"
    directory.mkdir()
    srv = Server(directory, free_port())
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def local(tmp_path: Path) -> Path:
    directory = tmp_path / "local"
    directory.mkdir()
    return directory


def ship(local: Path, server: Server, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "ship", "--to", server.url, *extra],
        env=env_for(local, AI_TELEMETRY_SHIP_TOKEN=token),
        cwd=local,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ship_sends_the_log_once_and_then_nothing(server: Server, local: Path) -> None:
    """A second run sends nothing: the checkpoint is at the end of the log."""
    token = create_token(server.directory)
    ids = write_events(local / "events.jsonl", 1200)
    first = ship(local, server, token, "--batch-lines", "500")
    assert 0 == first.returncode, first.stderr
    assert "1200 accepted" in first.stdout
    second = ship(local, server, token)
    assert "Shipped 0 lines" in second.stdout
    assert dict.fromkeys(ids, 1) == dict(log_ids(server.directory / "events.jsonl"))
    point = json.loads(checkpoint_path(local, server.url).read_text())
    assert (local / "events.jsonl").stat().st_size == point["log"]["offset"]


def test_a_replaced_log_is_sent_again_from_its_start(server: Server, local: Path) -> None:
    """Another inode (retention's swap, a rotation): sent from byte 0, the server drops dups."""
    token = create_token(server.directory)
    log = local / "events.jsonl"
    old = write_events(log, 300)
    assert 0 == ship(local, server, token).returncode
    kept = log.read_bytes().splitlines(keepends=True)[100:]
    replacement = local / "events.jsonl.new"
    replacement.write_bytes(b"".join(kept))
    replacement.replace(log)
    new = write_events(log, 50)
    result = ship(local, server, token)
    assert 0 == result.returncode, result.stderr
    assert "another file" in result.stderr
    assert "50 accepted, 200 duplicate" in result.stdout
    assert dict.fromkeys(old + new, 1) == dict(log_ids(server.directory / "events.jsonl"))


def test_a_truncated_log_is_noticed(server: Server, local: Path) -> None:
    """Same inode, shorter than the offset: the new lines are sent, none lost."""
    token = create_token(server.directory)
    log = local / "events.jsonl"
    old = write_events(log, 200)
    assert 0 == ship(local, server, token).returncode
    os.truncate(log, 0)
    new = write_events(log, 20)
    result = ship(local, server, token)
    assert "shorter" in result.stderr
    assert "20 accepted" in result.stdout
    assert dict.fromkeys(old + new, 1) == dict(log_ids(server.directory / "events.jsonl"))


def test_archives_are_sent_the_first_time(server: Server, local: Path) -> None:
    """Events retention moved to Parquet reach the server too, once."""
    token = create_token(server.directory)
    log = local / "events.jsonl"
    archived = write_events(log, 40, day="2020-01-06")
    recent = write_events(log, 10, day="2026-12-01")
    applied = subprocess.run(
        [*CLI, "retention", "apply"],
        env=env_for(local),
        cwd=local,
        capture_output=True,
        text=True,
        check=False,
    )
    assert 0 == applied.returncode, applied.stderr
    assert 10 == len(log.read_bytes().splitlines())
    first = ship(local, server, token)
    assert 0 == first.returncode, first.stderr
    assert "1 archive parts" in first.stdout
    again = ship(local, server, token)
    assert "Shipped 0 lines" in again.stdout
    assert dict.fromkeys(archived + recent, 1) == dict(log_ids(server.directory / "events.jsonl"))


def test_a_wrong_token_is_one_line_and_exit_1(server: Server, local: Path) -> None:
    """401 is not retried: one line saying what to check."""
    create_token(server.directory)
    write_events(local / "events.jsonl", 5)
    result = ship(local, server, "att_wrong")
    assert 1 == result.returncode
    assert "HTTP 401" in result.stderr
    assert "Traceback" not in result.stderr


def test_compact_empties_an_acknowledged_spool_and_goes_on(server: Server, local: Path) -> None:
    """The forwarder's mode: once all is acknowledged the log is emptied; new lines after
    that are sent without restarting from a changed identity."""
    from ai_telemetry.ship.sender import Sender
    from ai_telemetry.ship.shipper import Shipper

    token = create_token(server.directory)
    log = local / "events.jsonl"
    first = write_events(log, 30)
    point = local / "ship" / "spool.json"
    with Shipper(Sender(server.url, token), log_path=log, checkpoint=point, compact=True) as s:
        s.run()
    assert 0 == log.stat().st_size
    second = write_events(log, 5)
    with Shipper(Sender(server.url, token), log_path=log, checkpoint=point, compact=True) as s:
        report = s.run()
    assert ([], 5) == (report.restarted, report.accepted)
    assert dict.fromkeys(first + second, 1) == dict(log_ids(server.directory / "events.jsonl"))


def test_sigterm_stops_a_follower_that_is_backing_off(local: Path, tmp_path: Path) -> None:
    """No server: the follower retries; SIGTERM ends it within seconds, checkpoint intact."""
    import signal
    import time

    write_events(local / "events.jsonl", 10)
    down = Server(tmp_path / "nowhere", free_port())
    proc = subprocess.Popen(
        [*CLI, "ship", "--to", down.url, "--follow"],
        env=env_for(local, AI_TELEMETRY_SHIP_TOKEN="att_x"),
        cwd=local,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(8)  # several retries: the backoff has grown past a second
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert 0 == proc.wait(timeout=30)
    assert time.monotonic() - start < 3
    assert (
        not checkpoint_path(local, down.url).exists()
        or 0 == json.loads(checkpoint_path(local, down.url).read_text())["log"]["offset"]
    )
