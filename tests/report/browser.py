"""A headless chromium driven over the DevTools protocol, for the HTML dashboard test.

`open_page` starts Debian's chromium on a free port, opens a page, waits for it to load and
returns a `PageVisit`: console errors, uncaught exceptions, log errors, every network request
the page made, and a screenshot.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
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
class PageVisit:
    """What happened while a page loaded."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    pdf: bytes = b""
    text: str = ""


class _Session:
    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=30)
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
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

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


def open_page(path: Path, *, width: int = 1280, height: int = 2400, pdf: bool = False) -> PageVisit:
    """Load ``path`` in headless chromium and report what happened."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    visit = PageVisit()
    try:
        address = _devtools_url(proc)
        browser = _Session(address)
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        port = address.split(":")[2].split("/")[0]
        page = _Session(f"ws://127.0.0.1:{port}/devtools/page/{target}")
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        page.call("Page.navigate", url=path.resolve().as_uri())
        page.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # late console messages
        visit.text = page.call(
            "Runtime.evaluate", expression="document.body.innerText", returnByValue=True
        )["result"]["value"]
        shot = page.call("Page.captureScreenshot", format="png")
        visit.screenshot = base64.b64decode(shot["data"])
        if pdf:
            visit.pdf = base64.b64decode(page.call("Page.printToPDF")["data"])
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
    return visit
