"""Fixtures for the alerting tests: a telemetry directory, alerts, loopback servers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from alert_helpers import Mailbox, Webhook

from ai_telemetry.config import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a fresh telemetry directory, untouched by the real environment."""
    return load_settings(telemetry_dir=tmp_path / "telemetry", environ={}, cwd=tmp_path)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A real HTTP server on 127.0.0.1, port 0, with a secret-looking path."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            hook.bodies.append(orjson.loads(self.rfile.read(length)))
            hook.paths.append(self.path)
            status = hook.statuses.pop(0) if hook.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/SECRETtoken123456"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 at a free port."""
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    box = Mailbox("127.0.0.1", 0)

    class Collect(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            box.messages.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
