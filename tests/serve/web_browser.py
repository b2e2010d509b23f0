"""Headless chromium over the DevTools protocol, logging in to the live dashboard.

The same driving as ``tests/report/browser.py`` (Debian's chromium, ``--remote-debugging-port``),
with a page that navigates, fills a form and follows the redirect.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Visit:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    pages: list[tuple[str, str]] = field(default_factory=list)
    """(URL, document.body.innerText) after each load."""
    cookie_readable: str = ""
    """``document.cookie`` on the dashboard: empty when the token cookie is HttpOnly."""


class _Session:
    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=60)
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

    def wait_load(self, timeout: float = 60.0) -> None:
        """Wait for the next Page.loadEventFired (consumes it)."""
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self.events):
            if event.get("method") == "Page.loadEventFired":
                self.events[i] = {"method": "consumed"}
                return
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("method") == "Page.loadEventFired":
                self.events.append({"method": "consumed"})
                return
            self.events.append(message)
        raise TimeoutError("page load")

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)[
            "result"
        ].get("value")


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


def log_in_and_look(base: str, token: str) -> Visit:
    """Open ``base``/ (redirected to the login form), submit ``token``, land on the dashboard."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    visit = Visit()
    try:
        address = _devtools_url(proc)
        browser = _Session(address)
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        port = address.split(":")[2].split("/")[0]
        page = _Session(f"ws://127.0.0.1:{port}/devtools/page/{target}")
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call("Page.navigate", url=base + "/")
        page.wait_load()
        visit.pages.append(
            (page.evaluate("location.href"), page.evaluate("document.body.innerText"))
        )
        page.evaluate(
            f"document.getElementById('token').value = {json.dumps(token)};"
            "document.querySelector('form').submit();"
        )
        page.wait_load()
        time.sleep(0.3)  # late console messages
        visit.pages.append(
            (page.evaluate("location.href"), page.evaluate("document.body.innerText"))
        )
        visit.cookie_readable = page.evaluate("document.cookie")
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
        page.ws.close()
        browser.ws.close()
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
    return visit
