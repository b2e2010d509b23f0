"""Hostile bodies: each gets its status code and leaves the server serving."""

from __future__ import annotations

import http.client
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from serve_test_helpers import Server, running_server, skill_event

MAX_BODY = 8192
MAX_INFLATED = 16384


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("limits") / "Telemetry"
    args = ("--max-body", str(MAX_BODY), "--max-decompressed", str(MAX_INFLATED))
    with running_server(directory, *args, "--read-timeout", "1") as running:
        yield running


def _still_serving(server: Server) -> None:
    reply = server.post_events([skill_event(0)])
    assert 1 == reply["accepted"]


def _padded(size: int) -> bytes:
    """A JSON Lines body of exactly ``size`` bytes (one event, then blank lines)."""
    line = orjson.dumps(skill_event(1)) + b"\n"
    return line + b"\n" * (size - len(line))


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _gzip_bomb(inflated: int) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1024 * 1024)
    parts = [deflater.compress(block) for _ in range(inflated // len(block))]
    parts.append(deflater.flush())
    return b"".join(parts)


def test_exactly_the_limit_is_taken_one_byte_over_is_413(server: Server) -> None:
    """A body of max-body bytes is stored; one byte more is 413."""
    token = server.tokens["collector"]
    status, _, _ = server.request("POST", "/v1/events", _padded(MAX_BODY), token=token)
    assert 202 == status
    status, _, data = server.request("POST", "/v1/events", _padded(MAX_BODY + 1), token=token)
    assert 413 == status
    assert "limit" in orjson.loads(data)["error"]
    _still_serving(server)


def test_one_byte_over_without_content_length_is_413(server: Server) -> None:
    """A chunked body (no Content-Length) is counted as it streams."""
    body = _padded(MAX_BODY + 1)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        chunks = iter([body[:4096], body[4096:]])
        conn.request(
            "POST",
            "/v1/events",
            body=chunks,
            headers={"Authorization": f"Bearer {server.tokens['collector']}"},
            encode_chunked=True,
        )
        assert 413 == conn.getresponse().status
    finally:
        conn.close()
    _still_serving(server)


def test_decompressed_limit_is_exact(server: Server) -> None:
    """gzip inflating to max-decompressed bytes is taken, one byte more is 413."""
    headers = {"Content-Encoding": "gzip"}
    token = server.tokens["collector"]
    ok = zlib.compress(_padded(MAX_INFLATED), wbits=16 + zlib.MAX_WBITS)
    over = zlib.compress(_padded(MAX_INFLATED + 1), wbits=16 + zlib.MAX_WBITS)
    assert 202 == server.request("POST", "/v1/events", ok, token=token, headers=headers)[0]
    assert 413 == server.request("POST", "/v1/events", over, token=token, headers=headers)[0]


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    """1 GiB of zeros in ~1 MB of gzip (under the default 4 MiB wire cap): 413 at once, after
    inflating no more than the 20 MiB cap; the server's memory never nears 1 GiB."""
    bomb = _gzip_bomb(1024 * 1024 * 1024)
    assert len(bomb) < 4 * 1024 * 1024
    with running_server(tmp_path / "Telemetry") as srv:
        before = _peak_rss_kib(srv.proc.pid)
        started = time.monotonic()
        status, _, _ = srv.request(
            "POST",
            "/v1/logs",
            bomb,
            token=srv.tokens["collector"],
            headers={"Content-Encoding": "gzip", "Content-Type": "application/x-protobuf"},
        )
        assert 413 == status
        assert time.monotonic() - started < 5
        assert _peak_rss_kib(srv.proc.pid) - before < 100 * 1024
        _still_serving(srv)


def test_malformed_protobuf_is_400(server: Server) -> None:
    """Bytes that are not an export request: 400 with a google.rpc.Status."""
    from google.rpc import status_pb2

    status, headers, data = server.request(
        "POST",
        "/v1/traces",
        b"\x0a\xff\xff\xff\xff\x0fgarbage",
        token=server.tokens["collector"],
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert 400 == status
    assert headers["content-type"] == "application/x-protobuf"
    assert status_pb2.Status.FromString(data).message
    _still_serving(server)


def test_broken_gzip_is_400(server: Server) -> None:
    """A body that says gzip and is not: 400."""
    status, _, _ = server.request(
        "POST",
        "/v1/events",
        b"not gzip at all",
        token=server.tokens["collector"],
        headers={"Content-Encoding": "gzip"},
    )
    assert 400 == status
    _still_serving(server)


def test_a_slow_loris_body_gets_408_and_others_are_served_meanwhile(server: Server) -> None:
    """A client that stops sending its body is answered 408 after the read timeout; other
    clients, and a client stuck in its headers, do not wait for it."""
    token = server.tokens["collector"]
    stuck_headers = socket.create_connection(("127.0.0.1", server.port))
    stuck_headers.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\n")
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.settimeout(10)
    slow.sendall(
        b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + token.encode()
        + b"\r\nContent-Length: 1000\r\n\r\n"
        + b'{"event_type":'
    )
    started = time.monotonic()
    _still_serving(server)  # served while both connections hang
    assert time.monotonic() - started < 1
    answer = slow.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")
    slow.close()
    stuck_headers.close()
    _still_serving(server)
