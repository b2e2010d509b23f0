"""A headless chromium driven over the DevTools protocol, for the HTML dashboard test.

`open_page` opens a page in headless chromium (`tests/devtools.py`), waits for it to load and
returns a `PageVisit`: console errors, uncaught exceptions, log errors, every network request
the page made, and a screenshot.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from pathlib import Path

from devtools import chromium_page, record_problems


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


def open_page(path: Path, *, width: int = 1280, height: int = 2400, pdf: bool = False) -> PageVisit:
    """Load ``path`` in headless chromium and report what happened."""
    visit = PageVisit()
    with chromium_page(width=width, height=height) as page:
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
        visit.text = page.evaluate("document.body.innerText")
        shot = page.call("Page.captureScreenshot", format="png")
        visit.screenshot = base64.b64decode(shot["data"])
        if pdf:
            visit.pdf = base64.b64decode(page.call("Page.printToPDF")["data"])
        record_problems(page, visit)
    return visit
