"""The live web dashboard: ``GET /`` for the read roles, and its login page.

- ``GET /?week=2026-W49&project=NAME``: the HTML dashboard of `ai_telemetry.report.html` (the
  same page as ``ai-telemetry dashboard --format html``: the week's panels and the trend charts)
  for an ISO week (default: the current one), of every project or of one (its metrics, history
  and alerts), with a week and project picker above it and, on the every-project page, the
  cross-project overview (`ai_telemetry.report.projects`: per project skill runs and success,
  agent completion, cost, open alerts; each name links to that project's page). It is rendered
  from the warehouse on request and cached per week and project until new events arrive (the
  cache key is
  `ai_telemetry.store.layout.inputs_fingerprint`: the log's and the archives' identity, size
  and time), so reloading costs nothing while nothing changed (``X-Dashboard-Cache: hit``).
- ``GET /login``: a form for the token; ``POST /login`` checks it (a read role only: a
  ``collector`` token cannot read; a refused token gets the form again, saying why) and
  keeps it in the `COOKIE_NAME` cookie, ``HttpOnly``,
  ``SameSite=Strict``, ``Secure`` when ``serve --behind-tls``; ``POST /logout`` drops it.
  The dashboard's route takes the cookie (`ai_telemetry.serve.auth.bearer_token`); no write
  route does, so the cookie cannot be used to send events.

Every page carries a Content-Security-Policy that loads nothing (no script at all), and
``Cache-Control: no-store``: the numbers are the team's.
"""

from __future__ import annotations

import html
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ai_telemetry.errors import AITelemetryError, NoDataError
from ai_telemetry.events.schema import TIMESTAMP_MAX, TIMESTAMP_MIN
from ai_telemetry.serve.auth import COOKIE_NAME, READ
from ai_telemetry.serve.context import RouteSpec, ServerContext

if TYPE_CHECKING:
    from ai_telemetry.documents.types import ProjectsDocument

META_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'"
)
"""The policy of the pages' ``<meta>`` (a browser ignores ``frame-ancestors`` there)."""
CSP: Final = META_CSP + "; frame-ancestors 'none'"
"""The ``Content-Security-Policy`` header of every page."""
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
CACHE_WEEKS: Final = 16
"""Rendered weeks kept in memory."""
PICKER_WEEKS: Final = 12
"""Weeks offered by the picker (the current one and those before it)."""
LOGIN_BODY_MAX: Final = 4096
COOKIE_DAYS: Final = 30


def week_label(day: date) -> str:
    """``2026-W49`` for any day of that ISO week."""
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


_FIRST_YEAR: Final = int(TIMESTAMP_MIN[:4])
_END_YEAR: Final = int(TIMESTAMP_MAX[:4])


def parse_week(text: str | None, *, today: date) -> tuple[int, int]:
    """(ISO year, ISO week) of ``2026-W49`` (default: the week of ``today``).

    Raises:
        ValueError: not of that form, no such week, or a year no event can have (the
            contract's timestamps are from 1970 to 2199; the page's links and trend reach
            weeks around the one asked for, which year 1 or 9999 would not have).
    """
    if not text:
        iso = today.isocalendar()
        return iso.year, iso.week
    year, sep, week = text.upper().partition("-W")
    if not sep or not year.isdigit() or not week.isdigit():
        raise ValueError(f"week={text!r}: write it as 2026-W49")
    if not _FIRST_YEAR <= int(year) < _END_YEAR:
        raise ValueError(f"week={text!r}: the year must be {_FIRST_YEAR} to {_END_YEAR - 1}")
    date.fromisocalendar(int(year), int(week), 1)  # raises for week 54, ...
    return int(year), int(week)


class DashboardCache:
    """Rendered pages by week, dropped when the telemetry inputs change (new events)."""

    def __init__(self, size: int = CACHE_WEEKS) -> None:
        self.size = size
        self._pages: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.renders = 0
        """Pages rendered (not served from the cache), for tests and status."""

    def get(self, week: str, fingerprint: str) -> str | None:
        with self._lock:
            found = self._pages.get(week)
            if found is None or found[0] != fingerprint:
                return None
            self._pages.move_to_end(week)
            return found[1]

    def put(self, week: str, fingerprint: str, page: str) -> None:
        with self._lock:
            self.renders += 1
            self._pages[week] = (fingerprint, page)
            self._pages.move_to_end(week)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def _window(year: int, week: int, now: datetime) -> Any:
    from ai_telemetry.analyze.window import Window

    window = Window.iso_week(year, week)
    if window.end > now > window.start:
        window = Window(window.start, now)  # the week so far
    return window


def render_week(
    ctx: ServerContext, year: int, week: int, *, now: datetime, project: str | None = None
) -> str:
    """The dashboard page of one ISO week, of every project or of ``project`` (what `GET /`
    serves, before the picker)."""
    from ai_telemetry.analyze.aggregate import aggregate
    from ai_telemetry.report.dashboard import report_for
    from ai_telemetry.report.html import render_html

    window = _window(year, week, now)
    doc = aggregate(window, settings=ctx.settings, project=project, progress=False, now=now)
    if project is not None and not doc["events"]["total"]:
        raise NoDataError(f"no events of project {project!r} in this week")
    # the page carries its own overview, with links to each project's page (`with_picker`)
    report = report_for(doc, settings=ctx.settings, history=True, projects=False)
    return render_html(report)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def overview_html(doc: ProjectsDocument, week: str) -> str:
    """The cross-project overview as an HTML table (every text escaped); "" without projects."""
    from urllib.parse import urlencode

    if not doc["projects"]:
        return ""
    rows = []
    for r in doc["projects"]:
        link = "/?" + urlencode({"week": week, "project": r["project"]})
        alerts = str(r["open_alerts"]) + (
            f" ({r['critical_alerts']} critical)" if r["critical_alerts"] else ""
        )
        cells = [
            f'<a href="{html.escape(link)}">{html.escape(r["project"])}</a>',
            f"{r['skill_invocations']:,}",
            _pct(r["skill_success_rate"]),
            f"{r['agent_tasks']:,}",
            _pct(r["agent_completion_rate"]),
            f"${r['llm_cost_usd']:,.2f}",
            alerts,
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    heads = [
        "Project",
        "Skill runs",
        "Skill success",
        "Agent tasks",
        "Agent completion",
        "LLM cost",
        "Open alerts",
    ]
    head = "".join(f'<th scope="col">{h}</th>' for h in heads)
    return (
        '<section class="ai-telemetry-projects" aria-labelledby="projects-title">'
        '<h2 id="projects-title">Projects this week</h2>'
        "<p>Each project's own numbers; open a project for its dashboard, history and "
        "alerts.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p>{doc['events_without_project']:,} events without a project; "
        f"{doc['open_alerts']} open alerts in all.</p></section>"
    )


def _picker(
    chosen: str,
    *,
    today: date,
    project: str | None = None,
    projects: Sequence[str] = (),
) -> str:
    options = []
    for back in range(PICKER_WEEKS):
        label = week_label(today - timedelta(weeks=back))
        selected = " selected" if label == chosen else ""
        options.append(f'<option value="{label}"{selected}>{label}</option>')
    if chosen not in {week_label(today - timedelta(weeks=b)) for b in range(PICKER_WEEKS)}:
        options.append(
            f'<option value="{html.escape(chosen)}" selected>{html.escape(chosen)}</option>'
        )
    names = sorted({*projects, *([project] if project else [])})
    choices = ['<option value="">All projects</option>'] + [
        f'<option value="{html.escape(n)}"{" selected" * (n == project)}>{html.escape(n)}</option>'
        for n in names
    ]
    scope = (
        f' <label for="project">Project </label><select id="project" name="project">'
        f"{''.join(choices)}</select>"
        if names
        else ""
    )
    return (
        '<nav class="ai-telemetry-live" aria-label="Week">'
        '<form method="get" action="/"><label for="week">Week </label>'
        f'<select id="week" name="week">{"".join(options)}</select>{scope} '
        '<button type="submit">Show</button></form> '
        '<form method="post" action="/logout"><button type="submit">Log out</button></form>'
        "</nav>"
    )


def with_picker(
    page: str,
    chosen: str,
    *,
    today: date,
    project: str | None = None,
    overview: ProjectsDocument | None = None,
) -> str:
    """The dashboard page with the week and project picker (and log out) at the top of its
    body, then, on the every-project page, the cross-project overview."""
    names = [r["project"] for r in overview["projects"]] if overview is not None else []
    nav = _picker(chosen, today=today, project=project, projects=names)
    if overview is not None and project is None:
        nav += overview_html(overview, chosen)
    head, sep, rest = page.partition("<body>")
    if not sep:
        return nav + page
    return head + sep + "\n" + nav + rest


def _page(title: str, body: str, *, status: int = 200) -> Response:
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{META_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;"
        "padding:0 1rem}input{width:100%;padding:.4rem;margin:.5rem 0}"
        ".error{color:#a40000}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=HEADERS)


def _error(message: str, status: int) -> Response:
    return _page("ai-telemetry", f'<p class="error">{html.escape(message)}</p>', status=status)


def login_page(message: str = "", *, status: int = 200) -> Response:
    """The login form (``message``: why the last try failed)."""
    error = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return _page(
        "ai-telemetry: log in",
        "<h1>ai-telemetry</h1>"
        "<p>Paste a token of a read role (meta_updater, program_director, tech_lead).</p>"
        f"{error}"
        '<form method="post" action="/login">'
        '<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" '
        "required>"
        '<button type="submit">Log in</button></form>',
        status=status,
    )


def routes(ctx: ServerContext) -> list[RouteSpec]:
    """``GET /``, ``GET /login``, ``POST /login``, ``POST /logout``."""
    cache = DashboardCache()

    async def dashboard(request: Request) -> Response:
        """The HTML dashboard of a week (default: the current one), with a week picker."""
        now = datetime.now(UTC)
        today = now.date()
        try:
            year, week = parse_week(request.query_params.get("week"), today=today)
        except ValueError as exc:
            return _page(
                "ai-telemetry", f"<p class='error'>{html.escape(str(exc))}</p>", status=400
            )
        label = f"{year}-W{week:02d}"
        project = (request.query_params.get("project") or "").strip() or None
        key = label if project is None else f"{label}|{project}"

        def work() -> tuple[int, str, str]:
            from ai_telemetry.report.projects import project_overview
            from ai_telemetry.store.layout import inputs_fingerprint

            with ctx.read_lock:
                fingerprint = str(inputs_fingerprint(ctx.settings))
                cached = cache.get(key, fingerprint)
                if cached is not None:
                    return 200, cached, "hit"
                try:
                    page = render_week(ctx, year, week, now=now, project=project)
                except NoDataError:
                    return 404, "", "miss"
                overview = project_overview(ctx.settings, _window(year, week, now))
                page = with_picker(page, label, today=today, project=project, overview=overview)
                cache.put(key, fingerprint, page)
                return 200, page, "miss"

        try:
            status, page, hit = await run_in_threadpool(work)
        except AITelemetryError as exc:
            return _page(
                "ai-telemetry", f"<p class='error'>{html.escape(str(exc))}</p>", status=503
            )
        if status == 404:
            nav = _picker(label, today=today, project=project)
            whose = f" of project {html.escape(project)}" if project else ""
            return _page(
                f"ai-telemetry: {label}",
                f"{nav}<h1>{label}</h1><p>No events{whose} in this week yet.</p>",
                status=404,
            )
        return HTMLResponse(page, headers={**HEADERS, "X-Dashboard-Cache": hit})

    async def login_form(request: Request) -> Response:
        """The login form."""
        return login_page()

    async def login(request: Request) -> Response:
        """Check the token of the form; keep it in an HttpOnly, SameSite=Strict cookie."""
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > LOGIN_BODY_MAX:
                return login_page("That is not a token.")
        token = (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
        principal = ctx.tokens.principal(token) if token else None
        if principal is None:
            return login_page("Unknown or revoked token.")
        if principal.role not in READ:
            return login_page(
                f"A {principal.role} token cannot read the dashboard; use a read role.",
            )
        response = RedirectResponse("/", status_code=303, headers=HEADERS)
        response.set_cookie(
            COOKIE_NAME,
            token,
            max_age=COOKIE_DAYS * 86400,
            path="/",
            httponly=True,
            samesite="strict",
            secure=ctx.options.behind_tls,
        )
        return response

    async def logout(request: Request) -> Response:
        """Forget the token (the cookie is deleted)."""
        response = login_page("Logged out.")
        response.delete_cookie(
            COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=ctx.options.behind_tls
        )
        return response

    return [
        RouteSpec("GET", "/", dashboard),
        RouteSpec("GET", "/login", login_form),
        RouteSpec("POST", "/login", login),
        RouteSpec("POST", "/logout", logout),
    ]


_HTML = {"text/html": {"schema": {"type": "string"}}}
OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/": {
        "get": {
            "summary": "The HTML dashboard of an ISO week, with a week picker",
            "operationId": "getDashboard",
            "parameters": [
                {
                    "name": "week",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[0-9]{4}-[Ww][0-9]{1,2}$"},
                    "description": "ISO week, e.g. 2026-W49 (default: the current one)",
                },
                {
                    "name": "project",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "only this project (default: every project, with the "
                    "cross-project overview)",
                },
            ],
            "responses": {
                "200": {"description": "The dashboard", "content": _HTML},
                "400": {"description": "Not a week", "content": _HTML},
                "401": {"description": "No token (log in at /login)"},
                "403": {"description": "The token's role may not read"},
                "404": {"description": "No events in that week", "content": _HTML},
            },
        }
    },
    "/login": {
        "get": {
            "summary": "The login form",
            "operationId": "getLogin",
            "responses": {"200": {"description": "The form", "content": _HTML}},
        },
        "post": {
            "summary": "Log in with a token of a read role (sets an HttpOnly cookie)",
            "operationId": "postLogin",
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {"token": {"type": "string"}},
                            "required": ["token"],
                        }
                    }
                },
            },
            "responses": {
                "303": {"description": "Logged in: to /"},
                "200": {
                    "description": "Unknown or revoked token, or not a read role: the form "
                    "again, saying which",
                    "content": _HTML,
                },
            },
        },
    },
    "/logout": {
        "post": {
            "summary": "Log out (the cookie is deleted)",
            "operationId": "postLogout",
            "responses": {"200": {"description": "Logged out: the login form", "content": _HTML}},
        }
    },
}

__all__ = [
    "OPENAPI_PATHS",
    "DashboardCache",
    "overview_html",
    "parse_week",
    "routes",
    "with_picker",
]
