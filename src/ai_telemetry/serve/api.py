"""The read API: the read commands' ``--json`` documents over HTTP, for the read roles.

Each route calls the same library functions as its command (and as the MCP tools,
`ai_telemetry.serve.mcp`) and answers with the same document; nothing is computed here.

- ``GET /api/metrics?start=&end=&project=``: ``aggregate --json`` with the whole metrics.json
  as ``metrics`` (any window; default the last 7 days);
- ``GET /api/top/{skills|agents|tools|errors}?days=&limit=&project=``: ``top KIND --json``;
- ``GET /api/trend/{metric}?key=&weeks=&project=``: ``trend METRIC --json``;
- ``GET /api/projects?days=``: ``projects --json`` (the cross-project overview);
- ``GET /api/alerts?live=&weeks=&project=``: ``status --json`` (the week of metrics.json;
  ``live=true``: the last 7 days of the log; ``project``: that project's metrics, history and
  alerts).

The calls run on a worker thread, one at a time (`ServerContext.read_lock`: the warehouse is
one DuckDB file). They never touch the log's writer: ingest goes on while they run. A library
error is a 400 (404 for a window with no events) with its one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ai_telemetry.errors import AITelemetryError, LogError, NoDataError
from ai_telemetry.serve.context import RouteSpec, ServerContext
from ai_telemetry.serve.ingest import error_response, error_responses

TOP_KINDS: Final = ("skills", "agents", "tools", "errors")


class _BadQuery(Exception):
    pass


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _BadQuery(f"{name}={text!r} is not a whole number") from None
    if not low <= value <= high:
        raise _BadQuery(f"{name}={value} is out of range {low}..{high}")
    return value


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value if value else None


def _json(document: Mapping[str, Any]) -> Response:
    return Response(orjson.dumps(document, default=str), media_type="application/json")


async def _answer(ctx: ServerContext, work: Callable[[], Mapping[str, Any]]) -> Response:
    def locked() -> Mapping[str, Any]:
        with ctx.read_lock:
            return work()

    try:
        return _json(await run_in_threadpool(locked))
    except NoDataError as exc:
        return error_response(404, str(exc))
    except LogError as exc:
        return error_response(503, str(exc), retry=True)
    except AITelemetryError as exc:
        return error_response(400, str(exc))


def routes(ctx: ServerContext) -> list[RouteSpec]:
    """The four read routes."""
    settings = ctx.settings

    async def get_metrics(request: Request) -> Response:
        """Every metric of a window (aggregate --json, with metrics.json as ``metrics``)."""
        start, end, project = (
            _text(request, "start"),
            _text(request, "end"),
            _text(request, "project"),
        )

        def work() -> Mapping[str, Any]:
            from ai_telemetry.analyze.aggregate import aggregate, aggregate_document
            from ai_telemetry.analyze.window import window_from

            window = window_from(start, end, names=("start", "end"))
            doc = aggregate(window, settings=settings, project=project, progress=False)
            return aggregate_document(doc, output="", with_metrics=True)

        return await _answer(ctx, work)

    async def get_top(request: Request) -> Response:
        """The most frequent skills, agents, tools or errors of the last N days (top --json)."""
        kind = request.path_params["kind"]
        if kind not in TOP_KINDS:
            return error_response(404, f"top {kind!r}: use one of {', '.join(TOP_KINDS)}")
        project = _text(request, "project")
        try:
            days = _int(request, "days", 7, 1, 3650)
            limit = _int(request, "limit", 5, 1, 1000)
        except _BadQuery as exc:
            return error_response(400, str(exc))

        def work() -> Mapping[str, Any]:
            from ai_telemetry.analyze.top import load_top, top_document

            rows, used = load_top(kind, days=days, limit=limit, settings=settings, project=project)
            return top_document(rows, kind, days=days, limit=limit, window=used, project=project)

        return await _answer(ctx, work)

    async def get_trend(request: Request) -> Response:
        """One metric week by week (trend --json)."""
        metric = request.path_params["metric"]
        key = _text(request, "key")
        project = _text(request, "project")
        try:
            weeks = _int(request, "weeks", 12, 1, 520)
        except _BadQuery as exc:
            return error_response(400, str(exc))

        def work() -> Mapping[str, Any]:
            from ai_telemetry.analyze.history import metric_series, trend_document

            series = metric_series(metric, key=key, weeks=weeks, settings=settings, project=project)
            return trend_document(metric, series, key=key, project=project)

        return await _answer(ctx, work)

    async def get_alerts(request: Request) -> Response:
        """The open alerts with the week at a glance (status --json)."""
        live = (request.query_params.get("live") or "false").lower()
        project = _text(request, "project")
        if live not in ("true", "false", "1", "0"):
            return error_response(400, f"live={live!r}: use true or false")
        try:
            weeks = _int(request, "weeks", 12, 2, 104)
        except _BadQuery as exc:
            return error_response(400, str(exc))

        def work() -> Mapping[str, Any]:
            from ai_telemetry.report.dashboard import status_report
            from ai_telemetry.report.status import status_document

            report = status_report(
                settings,
                metrics_path=None if live in ("true", "1") else settings.metrics_path,
                now=datetime.now(UTC),
                weeks=weeks,
                project=project,
            )
            return status_document(report)

        return await _answer(ctx, work)

    async def get_projects(request: Request) -> Response:
        """The cross-project overview of the last N days (projects --json)."""
        try:
            days = _int(request, "days", 7, 1, 3650)
        except _BadQuery as exc:
            return error_response(400, str(exc))

        def work() -> Mapping[str, Any]:
            from ai_telemetry.ports import Window
            from ai_telemetry.report.projects import project_overview

            return project_overview(settings, Window.last_days(days))

        return await _answer(ctx, work)

    return [
        RouteSpec("GET", "/api/projects", get_projects),
        RouteSpec("GET", "/api/metrics", get_metrics),
        RouteSpec("GET", "/api/top/{kind}", get_top),
        RouteSpec("GET", "/api/trend/{metric}", get_trend),
        RouteSpec("GET", "/api/alerts", get_alerts),
    ]


def _param(name: str, schema: dict[str, Any], where: str = "query", doc: str = "") -> Any:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": doc,
    }


def _get(summary: str, op: str, command: str, params: list[Any]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "operationId": op,
            "parameters": params,
            "responses": {
                "200": {
                    "description": f"The `{command} --json` document (docs/schemas/)",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **error_responses(400, 401, 403, 404, 503),
            },
        }
    }


_DATE = {"type": "string", "description": "date or RFC 3339 time"}
OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/api/metrics": _get(
        "Every metric of a window",
        "getMetrics",
        "aggregate",
        [
            _param("start", _DATE, doc="window start (default: 7 days before end)"),
            _param("end", _DATE, doc="window end, exclusive (default: now)"),
            _param("project", {"type": "string"}, doc="only events of this project"),
        ],
    ),
    "/api/top/{kind}": _get(
        "The most frequent skills, agents, tools or errors",
        "getTop",
        "top",
        [
            _param("kind", {"enum": list(TOP_KINDS)}, "path"),
            _param("days", {"type": "integer", "minimum": 1, "maximum": 3650}),
            _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
            _param("project", {"type": "string"}, doc="only events of this project"),
        ],
    ),
    "/api/trend/{metric}": _get(
        "One metric week by week",
        "getTrend",
        "trend",
        [
            _param("metric", {"type": "string"}, "path", "e.g. skill_success_rate"),
            _param("key", {"type": "string"}, doc="skill, agent, tool ... of a keyed metric"),
            _param("weeks", {"type": "integer", "minimum": 1, "maximum": 520}),
            _param("project", {"type": "string"}, doc="only events of this project"),
        ],
    ),
    "/api/projects": _get(
        "The cross-project overview",
        "getProjects",
        "projects",
        [_param("days", {"type": "integer", "minimum": 1, "maximum": 3650})],
    ),
    "/api/alerts": _get(
        "The open alerts and the week at a glance",
        "getAlerts",
        "status",
        [
            _param("live", {"type": "boolean"}, doc="the last 7 days of the log"),
            _param("weeks", {"type": "integer", "minimum": 2, "maximum": 104}),
            _param("project", {"type": "string"}, doc="that project's metrics and alerts"),
        ],
    ),
}

__all__ = ["OPENAPI_PATHS", "TOP_KINDS", "routes"]
