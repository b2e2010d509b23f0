"""The HTML dashboard: self-contained, accessible charts, and a real headless browser visit."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from browser import open_page
from report_fixtures import DemoWeek

from ai_telemetry.report.html import render_html
from ai_telemetry.report.weekly import build_report

ALERT = {
    "severity": "critical",
    "metric": "incident_repeat_rate",
    "key": None,
    "value": 1.0,
    "threshold": 0.05,
    "analysis": "3 of 3 incidents share root cause timezone-handling",
    "action": "META_UPDATER priority update",
    "opened": "2025-12-29T09:00:00Z",
}


@pytest.fixture(scope="module")
def page(demo_week: DemoWeek, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo week's HTML dashboard on disk."""
    report = build_report(demo_week.document, history=demo_week.history, alerts=[ALERT])
    path = tmp_path_factory.mktemp("html") / "weekly-2025-12-29.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def visit(page: Path) -> object:
    """One visit of the page by headless chromium (console, network, screenshot, PDF)."""
    return open_page(page, width=1280, height=2400, pdf=True)


def test_page_references_nothing_outside(page: Path) -> None:
    """No src/href to another origin, no script element, no @import or url() in the page."""
    html = page.read_text(encoding="utf-8")
    assert re.findall(r"<script\b", html) == []
    assert re.findall(r"(?:src|href)=\"(?!#)[^\"]*\"", html) == []
    assert "@import" not in html
    assert "url(" not in html
    assert "default-src 'none'" in html


def test_six_charts_with_text_alternatives(page: Path) -> None:
    """Each chart is an SVG with role=img, a title and desc it points at, and a data table."""
    html = page.read_text(encoding="utf-8")
    svgs = re.findall(r"<svg\b[^>]*>", html)
    assert len(svgs) == 6
    for tag in svgs:
        chart_id = re.search(r'id="(chart-[a-z-]+)"', tag).group(1)  # type: ignore[union-attr]
        assert 'role="img"' in tag
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in tag
        assert f'<title id="{chart_id}-title">' in html
        assert f'<desc id="{chart_id}-desc">' in html
    assert html.count("<details>") == 6


def test_rendering_is_deterministic(demo_week: DemoWeek, page: Path) -> None:
    """The same data gives the same bytes (no random ids, no render date)."""
    report = build_report(demo_week.document, history=demo_week.history, alerts=[ALERT])
    assert render_html(report) == page.read_text(encoding="utf-8")


def test_browser_sees_no_console_errors(visit: object) -> None:
    """Chromium reports no console error, no exception and no error log entry."""
    assert (visit.console_errors, visit.exceptions, visit.log_errors) == ([], [], [])  # type: ignore[attr-defined]


def test_browser_makes_no_network_request(visit: object, page: Path) -> None:
    """The only request the page causes is the page itself."""
    assert visit.requests == [page.resolve().as_uri()]  # type: ignore[attr-defined]


def test_browser_shows_alert_and_numbers(visit: object) -> None:
    """The rendered text holds the open alert and key numbers."""
    text = visit.text  # type: ignore[attr-defined]
    assert "incident_repeat_rate" in text
    assert "100.0%" in text
    assert "Top skills by usage (this week)" in text


def test_screenshot_shows_charts(visit: object) -> None:
    """The screenshot is a full-size PNG with many colours (charts were drawn)."""
    from PIL import Image

    image = Image.open(io.BytesIO(visit.screenshot)).convert("RGB")  # type: ignore[attr-defined]
    assert image.size == (1280, 2400)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None
    assert len(colours) > 500
    # the palette's blue (bars of the top-skills chart) covers a visible area
    blueish = sum(n for n, (r, g, b) in colours if b > 150 and r < 120 and g < 170)
    assert blueish > 5000


def test_page_prints(visit: object) -> None:
    """Printing to PDF works and yields several pages."""
    pdf = visit.pdf  # type: ignore[attr-defined]
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type/Page") >= 2


def test_harness_catches_errors_and_requests(tmp_path: Path) -> None:
    """Control: a page with a console error and an outside request is caught by the harness."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
        '<script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    seen = open_page(bad, width=400, height=300)
    assert any("boom" in e for e in seen.console_errors)
    assert "http://127.0.0.1:9/x.png" in seen.requests
