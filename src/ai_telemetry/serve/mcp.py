"""The MCP server: the numbers of the read commands as tools, for META_UPDATER and other agents.

``ai-telemetry mcp`` serves these tools over stdio (or streamable HTTP on loopback). Each one
calls the same library function as its CLI command and answers with the same document that
command's ``--json`` prints (a `TypedDict` of `ai_telemetry.documents.types`), declared as the
tool's output schema (the very schema of docs/schemas/, `ai_telemetry.documents.jsonschema`):

- ``get_metrics``: ``aggregate --start --end --project`` (plus ``metrics``, the whole file)
- ``top``: ``top KIND --days --limit --project``
- ``trend``: ``trend METRIC --key --weeks --project``
- ``open_alerts``: ``status --metrics <telemetry>/metrics.json --project`` (``live``:
  ``status``)
- ``skill_audit``: ``audit skills --quarter``; ``learning_review``: ``review learnings --month``
- ``compare_skill``: ``compare skill NAME --versions | --before-after | --commit``
- ``recommend_skill``: ``recommend --paths DIR... --kind KIND``
- ``propose_fix``: ``propose fix ALERT_ID``
- ``propose_skill``: ``propose skills --quarter`` (the drafts in the document; no file written)
- ``log_learning`` (write, off unless enabled): ``learning new``, a `LearningEntryDoc`

The table with every argument is in docs/mcp.md.

A library error becomes an MCP tool error (``isError``, one line), never a crash. The server is
a thin adapter (STYLE.md): it parses arguments, calls the library, wraps the document. Calls
run one at a time on a worker thread: the warehouse is one DuckDB file per telemetry folder.
A ``get_metrics`` that `aggregate`'s cache answers (nothing changed since) is answered on the
event loop instead: the hop to a worker thread and back cost more than the answer.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

# This module is imported by `ai-telemetry mcp` only (cli/mcp.py), so mcp loads there and
# nowhere else; the tools' annotations are read at registration, so these are real imports.
from mcp.types import CallToolResult
from pydantic import Field

from ai_telemetry.errors import AITelemetryError, ConfigError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ai_telemetry.config import Settings

SERVER_NAME: Final = "ai-telemetry"
LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
METRICS_URI: Final = "telemetry://metrics.json"
DASHBOARD_URI: Final = "telemetry://dashboard/latest.md"

READ_TOOLS: Final[Mapping[str, str]] = {
    "get_metrics": "aggregate",
    "top": "top",
    "trend": "trend",
    "open_alerts": "status",
    "skill_audit": "audit skills",
    "learning_review": "review learnings",
    "compare_skill": "compare skill",
    "recommend_skill": "recommend",
    "propose_fix": "propose fix",
    "propose_skill": "propose skills",
}
"""Tool -> the command whose ``--json`` document it answers with."""
WRITE_TOOLS: Final = ("log_learning",)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """What ``ai-telemetry mcp`` was started with.

    Args:
        settings: the telemetry folder (`ai_telemetry.config.load_settings`, as the CLI).
        repo: the repository (skills, git history) for audits and comparisons.
        history_dir: the folder of LEARN-*.md entries (default ``repo/.claude/History``).
        enable_write: register ``log_learning``.
    """

    settings: Settings
    repo: Path
    history_dir: Path
    enable_write: bool = False


def write_enabled(settings: Settings, *, flag: bool) -> bool:
    """``--enable-write``, else ``[mcp] enable_write`` of config.toml (default off).

    Raises:
        ConfigError: ``[mcp]`` is not a table or ``enable_write`` not a boolean.
    """
    if flag:
        return True
    table = settings.extra.get("mcp", {})
    where = f"{settings.config_path}: [mcp]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table, e.g. enable_write = true")
    value = table.get("enable_write", False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where} enable_write = {value!r} must be true or false")
    return value


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) of ``--http``, on loopback only.

    Raises:
        ConfigError: not HOST:PORT, a bad port, or a host that is not loopback (the team
            server's tokens, issue 15, are needed before this may listen on a network).
    """
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"--http {text!r}: write HOST:PORT, e.g. 127.0.0.1:8765")
    if host not in LOOPBACK_NAMES:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConfigError(
                f"--http {text!r}: {host} is not a loopback address; the MCP server listens "
                "on 127.0.0.1 or ::1 only until the team server's access tokens (issue 15) "
                "can guard it"
            )
    return host, int(port_text)


# --- the tools: parse, call the library, wrap the document ----------------------------------


def _result(document: Mapping[str, Any]) -> CallToolResult:
    import orjson
    from mcp.types import TextContent

    # structured for programs, the same JSON as text for clients that show only text (compact:
    # an agent reads it, and a big metrics.json costs milliseconds to indent)
    text = orjson.dumps(document, default=str).decode()
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=dict(document)
    )


def _window_arg(window: str) -> Any:
    from ai_telemetry.analyze.window import parse_window

    return parse_window(window)


_AS_OF = Field(description="The report's clock (date or RFC 3339), default now: --as-of.")


def _clock(as_of: str | None) -> datetime | None:
    from ai_telemetry.analyze.window import parse_moment

    return parse_moment(as_of, option="as_of") if as_of else None


class Tools:
    """The tool functions over one `ServerOptions` (each returns one document)."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self._lock = threading.Lock()

    def _call(self, work: Callable[[], Mapping[str, Any]]) -> CallToolResult:
        from mcp.server.mcpserver.exceptions import ToolError

        try:
            with self._lock:
                return _result(work())
        except AITelemetryError as exc:
            raise ToolError(str(exc)) from None

    async def _answer(
        self,
        fast: Callable[[], Mapping[str, Any] | None],
        work: Callable[[], Mapping[str, Any]],
    ) -> CallToolResult:
        """``fast()`` on the event loop when it can answer (a cache hit: no thread hop), else
        ``work`` on a worker thread, as every other tool."""
        import anyio
        from mcp.server.mcpserver.exceptions import ToolError

        if self._lock.acquire(blocking=False):  # another call is running: take the thread path
            try:
                document = fast()
            except AITelemetryError as exc:
                raise ToolError(str(exc)) from None
            finally:
                self._lock.release()
            if document is not None:
                return _result(document)
        return await anyio.to_thread.run_sync(self._call, work)

    async def get_metrics(
        self,
        window: Annotated[
            str,
            Field(description="7d (the last N days) or START/END, e.g. 2025-12-01/2025-12-08"),
        ] = "7d",
        project: Annotated[str | None, Field(description="Only events of this project.")] = None,
    ) -> CallToolResult:
        """Every metric of a window: the aggregate document with the whole metrics.json."""
        from ai_telemetry.analyze.aggregate import aggregate, aggregate_document, cached_aggregate

        settings = self.options.settings

        def fast() -> Mapping[str, Any] | None:
            doc = cached_aggregate(_window_arg(window), settings=settings, project=project)
            return None if doc is None else aggregate_document(doc, output="", with_metrics=True)

        def work() -> Mapping[str, Any]:
            doc = aggregate(_window_arg(window), settings=settings, project=project)
            return aggregate_document(doc, output="", with_metrics=True)

        return await self._answer(fast, work)

    def top(
        self,
        kind: Annotated[Literal["skills", "agents", "tools", "errors"], Field()] = "skills",
        days: Annotated[int, Field(ge=1, le=3650)] = 7,
        limit: Annotated[int, Field(ge=1, le=1000)] = 5,
        project: Annotated[str | None, Field(description="Only events of this project.")] = None,
    ) -> CallToolResult:
        """The most frequent skills, agents, tools or errors of the last N days."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.analyze.top import load_top, top_document

            settings = self.options.settings
            rows, used = load_top(kind, days=days, limit=limit, settings=settings, project=project)
            return top_document(rows, kind, days=days, limit=limit, window=used, project=project)

        return self._call(work)

    def trend(
        self,
        metric: Annotated[str, Field(description="e.g. skill_success_rate (docs/metrics.md)")],
        key: Annotated[
            str | None, Field(description="Skill, agent, tool, ... of a keyed metric.")
        ] = None,
        weeks: Annotated[int, Field(ge=1, le=520)] = 12,
        project: Annotated[str | None, Field(description="Only events of this project.")] = None,
    ) -> CallToolResult:
        """One metric week by week (complete ISO weeks, oldest first)."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.analyze.history import metric_series, trend_document

            series = metric_series(
                metric, key=key, weeks=weeks, settings=self.options.settings, project=project
            )
            return trend_document(metric, series, key=key, project=project)

        return self._call(work)

    def open_alerts(
        self,
        live: Annotated[
            bool,
            Field(
                description="false: the week of metrics.json, which the weekly job judged "
                "(status --metrics); true: the last 7 days of the log (status)."
            ),
        ] = False,
        weeks: Annotated[int, Field(ge=2, le=104)] = 12,
        project: Annotated[
            str | None, Field(description="Only this project's metrics, history and alerts.")
        ] = None,
    ) -> CallToolResult:
        """The open alerts (most severe first) with the week at a glance: status --json."""

        def work() -> Mapping[str, Any]:
            from datetime import UTC

            from ai_telemetry.report.dashboard import status_report
            from ai_telemetry.report.status import status_document

            settings = self.options.settings
            report = status_report(
                settings,
                metrics_path=None if live else settings.metrics_path,
                now=datetime.now(UTC),
                weeks=weeks,
                project=project,
            )
            return status_document(report)

        return self._call(work)

    def skill_audit(
        self,
        quarter: Annotated[str, Field(description="YYYY-QN, e.g. 2025-Q4")],
        as_of: Annotated[str | None, _AS_OF] = None,
        project: Annotated[str | None, Field(description="Only events of this project.")] = None,
    ) -> CallToolResult:
        """The quarterly skill audit: usage, success, learnings, staleness, decisions."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.report.audit import load_audit

            audit = load_audit(
                quarter,
                settings=self.options.settings,
                repo=self.options.repo,
                history_dir=self.options.history_dir,
                now=_clock(as_of),
                project=project,
            )
            return audit.to_document()

        return self._call(work)

    def learning_review(
        self,
        month: Annotated[str, Field(description="YYYY-MM")],
        as_of: Annotated[str | None, _AS_OF] = None,
        project: Annotated[str | None, Field(description="Only events of this project.")] = None,
    ) -> CallToolResult:
        """The monthly learning review: themes, skills to fix, incidents, the prompt."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.report.review import load_review

            review = load_review(
                month,
                settings=self.options.settings,
                history_dir=self.options.history_dir,
                now=_clock(as_of),
                project=project,
            )
            return review.to_document()

        return self._call(work)

    def compare_skill(
        self,
        name: Annotated[str, Field(description="The skill.")],
        versions: Annotated[
            list[str] | None,
            Field(min_length=2, max_length=2, description="Two skill_versions: [A, B]."),
        ] = None,
        date: Annotated[
            str | None, Field(description="Compare runs before and after this moment.")
        ] = None,
        commit: Annotated[
            str | None, Field(description="Compare runs before and after this commit.")
        ] = None,
        project: Annotated[str | None, Field(description="Only events of this project.")] = None,
    ) -> CallToolResult:
        """Is the new version better? Success (exact test) and duration (rank test)."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.analyze.window import parse_moment
            from ai_telemetry.errors import AnalyticsError
            from ai_telemetry.report.compare import load_comparison

            chosen = (("versions", versions), ("date", date), ("commit", commit))
            given = [n for n, v in chosen if v]
            if len(given) > 1:
                raise AnalyticsError(f"{' and '.join(given)} exclude each other; give one")
            result = load_comparison(
                name,
                settings=self.options.settings,
                versions=(versions[0], versions[1]) if versions else None,
                before_after=parse_moment(date, option="date") if date else None,
                commit=commit,
                repo=self.options.repo,
                project=project,
            )
            return result.to_document()

        return self._call(work)

    def recommend_skill(
        self,
        paths: Annotated[
            list[str],
            Field(min_length=1, max_length=64, description="Folders the task touches: src/api"),
        ],
        kind: Annotated[
            str | None, Field(description="Kind of task: debug, test, review, migrate, ...")
        ] = None,
        depth: Annotated[int, Field(ge=1, le=8)] = 2,
        min_runs: Annotated[int, Field(ge=1, le=10000)] = 3,
        project: Annotated[str | None, Field(description="Only events of this project.")] = None,
    ) -> CallToolResult:
        """Which skill has done best on past tasks touching these folders (with evidence)."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.analyze.recommend import RecommendOptions, recommend

            result = recommend(
                paths,
                settings=self.options.settings,
                kind=kind,
                options=RecommendOptions(depth=depth, min_runs=min_runs),
                project=project,
            )
            return result.to_document()

        return self._call(work)

    def propose_fix(
        self,
        alert_id: Annotated[
            str, Field(min_length=1, description="An open alert's id (rule|metric|key) or part")
        ],
        weeks: Annotated[int, Field(ge=3, le=520)] = 12,
        as_of: Annotated[str | None, _AS_OF] = None,
    ) -> CallToolResult:
        """Evidence, a META_UPDATER task text and a PR-body draft for an open alert."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.report.propose_fix import load_fix_proposal

            proposal = load_fix_proposal(
                alert_id,
                settings=self.options.settings,
                repo=self.options.repo,
                history_dir=self.options.history_dir,
                now=_clock(as_of),
                weeks=weeks,
            )
            return proposal.to_document()

        return self._call(work)

    def propose_skill(
        self,
        quarter: Annotated[str, Field(description="YYYY-QN, e.g. 2025-Q4")],
        as_of: Annotated[str | None, _AS_OF] = None,
        project: Annotated[str | None, Field(description="Only events of this project.")] = None,
    ) -> CallToolResult:
        """Drafted SKILL.md files for the audit's Create New rows (drafts; nothing installed)."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.report.propose_skill import propose_skills

            proposals = propose_skills(
                quarter,
                settings=self.options.settings,
                repo=self.options.repo,
                history_dir=self.options.history_dir,
                now=_clock(as_of),
                project=project,
            )
            return proposals.to_document()

        return self._call(work)

    def log_learning(
        self,
        title: Annotated[str, Field(min_length=1, max_length=200)],
        severity: Annotated[Literal["info", "warning", "critical"], Field()] = "info",
        source: Annotated[
            Literal["incident", "observation", "experiment", "user_feedback", "code_review"],
            Field(),
        ] = "observation",
        skill: Annotated[str | None, Field(description="Skill the learning is about.")] = None,
        type: Annotated[str, Field(description="pattern, bug, process, ...")] = "pattern",
    ) -> CallToolResult:
        """Write a new learning entry (LEARN-YYYY-NNN, next free id) from the template."""

        def work() -> Mapping[str, Any]:
            from ai_telemetry.collect.learnings import create_learning

            entry = create_learning(
                self.options.history_dir,
                severity=severity,
                source=source,
                skill=skill,
                learning_type=type,
                title=title,
            )
            return {
                "id": entry.id,
                "path": str(entry.path),
                "title": entry.title,
                "redacted": list(entry.redacted),
            }

        return self._call(work)


def build_server(options: ServerOptions) -> MCPServer:
    """The MCP server with every tool and resource over ``options``."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.tools import Tool
    from mcp.types import ToolAnnotations

    from ai_telemetry.documents.jsonschema import schema_for, schema_of
    from ai_telemetry.documents.types import LearningEntryDoc

    tools = Tools(options)
    registered: list[Tool] = []
    for name, command in READ_TOOLS.items():
        tool = Tool.from_function(
            getattr(tools, name),
            name=name,
            annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
        )
        tool.fn_metadata.output_schema = schema_for(command)  # docs/schemas/<command>.json
        registered.append(tool)
    if options.enable_write:
        tool = Tool.from_function(
            tools.log_learning,
            name="log_learning",
            annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False),
        )
        tool.fn_metadata.output_schema = schema_of(LearningEntryDoc)
        registered.append(tool)
    server = MCPServer(
        SERVER_NAME,
        instructions="AI infrastructure telemetry: skill, agent and tool metrics, trends, "
        "alerts, audits and reviews. Each tool answers with the document of the matching "
        "ai-telemetry command's --json (docs/mcp.md).",
        tools=registered,
    )
    settings = options.settings

    @server.resource(METRICS_URI, name="metrics.json", mime_type="application/json")
    def metrics_json() -> str:
        """The latest metrics.json (what `ai-telemetry aggregate` or `weekly` wrote)."""
        return _read_text(settings.metrics_path, "run ai-telemetry aggregate first")

    @server.resource(DASHBOARD_URI, name="weekly dashboard", mime_type="text/markdown")
    def latest_dashboard() -> str:
        """The latest weekly dashboard, Markdown (dashboards/weekly-*.md)."""
        found = latest_dashboard_path(settings)
        if found is None:
            return _read_text(
                settings.dashboards_dir / "weekly-*.md", "run ai-telemetry weekly first"
            )
        return _read_text(found, "run ai-telemetry weekly first")

    del metrics_json, latest_dashboard  # registered; the names are not used
    return server


def latest_dashboard_path(settings: Settings) -> Path | None:
    """The newest ``dashboards/weekly-<date>.md`` (by its date), or None."""
    found = sorted(settings.dashboards_dir.glob("weekly-*.md"))
    return found[-1] if found else None


def _read_text(path: Path, hint: str) -> str:
    from mcp.server.mcpserver.exceptions import ResourceError

    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResourceError(f"{path}: cannot read ({exc.strerror or exc}); {hint}") from None


def serve(options: ServerOptions, *, http: tuple[str, int] | None = None) -> None:
    """Run the server until the client goes away (stdio) or the process is stopped (HTTP)."""
    server = build_server(options)
    if http is None:
        import anyio

        from ai_telemetry.serve.mcp_stdio import serve_stdio

        anyio.run(serve_stdio, server)
    else:
        host, port = http
        server.run("streamable-http", host=host, port=port)


__all__ = [
    "READ_TOOLS",
    "WRITE_TOOLS",
    "ServerOptions",
    "Tools",
    "build_server",
    "latest_dashboard_path",
    "parse_address",
    "serve",
    "write_enabled",
]
