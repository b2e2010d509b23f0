"""Headless chromium logging in to the live dashboard (``tests/devtools.py`` drives it): a page
that navigates, fills a form and follows the redirect."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from devtools import chromium_page, record_problems


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


def log_in_and_look(base: str, token: str) -> Visit:
    """Open ``base``/ (redirected to the login form), submit ``token``, land on the dashboard."""
    visit = Visit()
    with chromium_page(width=1280, height=2000, timeout=60) as page:
        page.call("Page.navigate", url=base + "/")
        page.wait_for("Page.loadEventFired", timeout=60)
        visit.pages.append(
            (page.evaluate("location.href"), page.evaluate("document.body.innerText"))
        )
        page.evaluate(
            f"document.getElementById('token').value = {json.dumps(token)};"
            "document.querySelector('form').submit();"
        )
        page.wait_for("Page.loadEventFired", timeout=60)
        time.sleep(0.3)  # late console messages
        visit.pages.append(
            (page.evaluate("location.href"), page.evaluate("document.body.innerText"))
        )
        visit.cookie_readable = page.evaluate("document.cookie")
        record_problems(page, visit)
    return visit
