"""Headless chromium over the DevTools protocol, shared by the browser tests.

`chromium_page` starts Debian's chromium on a free DevTools port with a fresh profile, opens one
page with the Page, Runtime, Log and Network domains enabled, and yields its `Session`;
`record_problems` sorts the page's events into console errors, uncaught exceptions, log errors
and network requests. ``tests/report/browser.py`` (the HTML dashboard file) and
``tests/serve/web_browser.py`` (the live dashboard's login) drive pages with them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)


class Session:
    """One DevTools websocket: calls, and the events that arrived meanwhile."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=timeout)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        """The first event ``method`` not yet consumed (consumes it)."""
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                self.events[i] = {"method": "consumed"}
                return event
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("method") == method:
                self.events.append({"method": "consumed"})
                return message
            self.events.append(message)
        raise TimeoutError(method)

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)[
            "result"
        ].get("value")

    def close(self) -> None:
        self.ws.close()


def _devtools_url(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"DevTools listening on (ws://\S+)", line)
        if match:
            return match.group(1)
        if not line and proc.poll() is not None:
            break
    raise RuntimeError("chromium did not print its DevTools address")


@contextmanager
def chromium_page(*, width: int, height: int, timeout: float = 30.0) -> Iterator[Session]:
    """A blank page in a fresh headless chromium, stopped (and its profile removed) after."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        address = _devtools_url(proc)
        browser = Session(address, timeout=timeout)
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        port = address.split(":")[2].split("/")[0]
        page = Session(f"ws://127.0.0.1:{port}/devtools/page/{target}", timeout=timeout)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        try:
            yield page
        finally:
            page.close()
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(profile, ignore_errors=True)


class Problems(Protocol):
    console_errors: list[str]
    exceptions: list[str]
    log_errors: list[str]
    requests: list[str]


def record_problems(page: Session, visit: Problems) -> None:
    """Sort the page's events into ``visit``'s console errors, exceptions, log errors and
    network requests."""
    for event in page.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            visit.console_errors.append(json.dumps(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            visit.exceptions.append(json.dumps(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            visit.log_errors.append(params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            visit.requests.append(params["request"]["url"])
