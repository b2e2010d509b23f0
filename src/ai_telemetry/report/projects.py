"""The cross-project overview (issue 16 §5): per project, over one window, skill usage and
success, agent completion, cost and the open alerts that concern it.

One place computes it; ``ai-telemetry projects --json``, ``GET /api/projects`` and the web
dashboard's overview serve this document. The projects are those with events in the window
(the catalogue's ``events.by_project``); each row is the project's own catalogue, summed:

- skill invocations (every skill's executions) and their success rate (successes over the
  executions that finished: success, error, rollback, handoff);
- agent task completion (the same over agent tasks);
- LLM cost in US dollars (every model);
- open alerts: the project's own (``detect --project``), and the whole store's alerts that
  name one of the skills or agents the project ran in the window; whole-store alerts about no
  skill or agent are counted once, team-wide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ai_telemetry.ports import TERMINAL_OUTCOMES as FINISHED

if TYPE_CHECKING:
    from ai_telemetry.config import Settings
    from ai_telemetry.documents.types import ProjectRowDoc, ProjectsDocument
    from ai_telemetry.ports import Window


def _sum(metrics: Mapping[str, Any], name: str) -> float:
    values = metrics.get(name)
    if isinstance(values, Mapping):
        return float(sum(v for v in values.values() if isinstance(v, int | float)))
    return float(values) if isinstance(values, int | float) else 0.0


def _rate(metrics: Mapping[str, Any], name: str) -> tuple[float | None, set[str]]:
    """Successes over finished runs, over every key of ``{key: {outcome: n}}``; the keys."""
    table = metrics.get(name)
    table = table if isinstance(table, Mapping) else {}
    done = success = 0.0
    for outcomes in table.values():
        if isinstance(outcomes, Mapping):
            done += sum(float(outcomes.get(o) or 0) for o in FINISHED)
            success += float(outcomes.get("success") or 0)
    return (round(success / done, 6) if done else None), {str(k) for k in table}


def project_row(
    name: str, body: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]
) -> ProjectRowDoc:
    """One project's row from its catalogue and the open alerts."""
    metrics = body["metrics"]
    skill_rate, skills = _rate(metrics, "skill_outcome_total")
    agent_rate, agents = _rate(metrics, "agent_outcome_total")
    ran = skills | agents
    concerned = [
        a
        for a in alerts
        if a.get("project") == name or (not a.get("project") and a.get("key") in ran)
    ]
    return {
        "project": name,
        "events": int(body["events"]["total"]),
        "skill_invocations": int(_sum(metrics, "skill_invocation_total")),
        "skill_success_rate": skill_rate,
        "agent_tasks": int(_sum(metrics, "agent_invocation_total")),
        "agent_completion_rate": agent_rate,
        "llm_cost_usd": round(_sum(metrics, "llm_cost_usd"), 6),
        "open_alerts": len(concerned),
        "critical_alerts": sum(1 for a in concerned if a.get("severity") == "critical"),
    }


def project_overview(
    settings: Settings, window: Window, *, alerts: Sequence[Mapping[str, Any]] | None = None
) -> ProjectsDocument:
    """The overview document of ``window`` (ingests what is new first); ``alerts``: the open
    alerts when the caller has read them already (default: read here).

    Raises:
        AnalyticsError: the store cannot be read. AlertError: alerts.log cannot be read.
    """
    from ai_telemetry.alert.store import open_alerts
    from ai_telemetry.documents import header, utc_text
    from ai_telemetry.stores import open_ingested

    if alerts is None:
        alerts = open_alerts(settings)
    with open_ingested(settings, progress=False) as store:
        whole = store.catalogue(window)
        names = sorted(whole["events"].get("by_project") or {})
        rows = [project_row(n, store.catalogue(window, project=n), alerts) for n in names]
    unattributed = int(whole["events"]["total"]) - sum(r["events"] for r in rows)
    return {
        **header("projects"),
        "window": {"start": str(utc_text(window.start)), "end": str(utc_text(window.end))},
        "projects": rows,
        "events_without_project": unattributed,
        "team_wide_alerts": sum(1 for a in alerts if a.get("key") is None and not a.get("project")),
        "open_alerts": len(alerts),
    }


def render_projects(doc: ProjectsDocument) -> str:
    """The overview as a text table."""
    from ai_telemetry.report.escape import terminal

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    window = doc["window"]
    lines = [f"Projects, {window['start']} to {window['end']}:"]
    if not doc["projects"]:
        lines.append("(no events with a project in this window)")
    for r in doc["projects"]:
        lines.append(
            f"{terminal(r['project'])}: {r['skill_invocations']} skill runs "
            f"({pct(r['skill_success_rate'])} success), {r['agent_tasks']} agent tasks "
            f"({pct(r['agent_completion_rate'])} completed), ${r['llm_cost_usd']:.2f}, "
            f"{r['open_alerts']} open alert{'s' * (r['open_alerts'] != 1)}"
        )
    lines.append(
        f"{doc['open_alerts']} open alerts in all ({doc['team_wide_alerts']} team-wide); "
        f"{doc['events_without_project']} events without a project"
    )
    return "\n".join(lines)
