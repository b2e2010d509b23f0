"""Fix proposals (issue 19 §5, the seed's "self-healing"): for an open alert, the evidence and a
ready task text for META_UPDATER, plus a pull-request body draft. Nothing is changed: the
proposal is text for an agent or a person to act on.

The evidence, all from the telemetry and the repository:

- the alert as the weekly job opened it (the alert state);
- the metric's weekly series (`ai_telemetry.analyze.history.metric_series`) and its control
  limits: centre and sigma of an individuals chart (moving range) over the weeks before the
  last, with the limits at centre +- 3 sigma;
- learnings whose ``skill`` is the alert's key or whose text or tags mention it, and incidents
  with that root cause or tied to one of those learnings;
- the errors naming the key (as skill, agent or tool) in the last 28 days, by ``error_type``;
- the skill's files under ``.claude/skills/<key>/`` and when each last changed in git.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ai_telemetry.errors import AnalyticsError

if TYPE_CHECKING:
    from ai_telemetry.documents.types import FixIncidentDoc, FixLearningDoc, ProposeFixDocument
    from ai_telemetry.ports import Store

SKILLS_DIR: Final = Path(".claude/skills")
ERROR_DAYS: Final = 28
MAX_FILES: Final = 50


@dataclass(frozen=True, slots=True)
class Limits:
    """An individuals chart's centre line and 3-sigma limits."""

    center: float
    lower: float
    upper: float
    points: int


@dataclass(slots=True)
class FixProposal:
    """Everything ``propose fix`` prints."""

    alert: dict[str, Any]
    subject: str
    """``skill``, ``agent``, ``root cause`` or ``metric``: what the key names."""
    generated_at: datetime
    series: list[tuple[date, float | None]]
    limits: Limits | None
    learnings: list[FixLearningDoc]
    incidents: list[FixIncidentDoc]
    errors: list[tuple[str, int]]
    files: list[tuple[str, datetime | None]]
    notes: list[str] = field(default_factory=list)
    task: str = ""
    pr_body: str = ""

    def to_document(self) -> ProposeFixDocument:
        """The ``propose fix --json`` document (docs/schemas/propose-fix.json)."""
        from ai_telemetry.documents import finite, header, utc_text

        a = self.alert
        return {
            **header("propose fix"),
            "generated_at": str(utc_text(self.generated_at)),
            "alert": {
                "id": str(a.get("id")),
                "rule": str(a.get("rule")),
                "title": str(a.get("title") or a.get("rule")),
                "severity": str(a.get("severity")),
                "metric": str(a.get("metric")),
                "key": a.get("key"),
                "current": str(a.get("current") or ""),
                "threshold_text": str(a.get("threshold_text") or ""),
                "analysis": str(a.get("analysis") or ""),
                "action": str(a.get("action") or ""),
                "opened": str(a.get("opened") or ""),
            },
            "subject": self.subject,
            "series": [{"week": w.isoformat(), "value": finite(v)} for w, v in self.series],
            "limits": None
            if self.limits is None
            else {
                "center": self.limits.center,
                "lower": self.limits.lower,
                "upper": self.limits.upper,
                "points": self.limits.points,
            },
            "learnings": list(self.learnings),
            "incidents": list(self.incidents),
            "errors": [{"error_type": k, "count": n} for k, n in self.errors],
            "files": [{"path": p, "last_change": utc_text(t)} for p, t in self.files],
            "notes": list(self.notes),
            "task": self.task,
            "pr_body": self.pr_body,
        }


def find_alert(alerts: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """The open alert ``wanted`` names: its id (``rule|metric|key``), else the only one whose id
    contains it.

    Raises:
        AnalyticsError: none or several match (the message lists the open ids).
    """
    for alert in alerts:
        if alert.get("id") == wanted:
            return alert
    found = [a for a in alerts if wanted.lower() in str(a.get("id", "")).lower()]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(str(a.get("id")) for a in (found or alerts)) or "none"
    what = "matches several open alerts" if found else "is not an open alert"
    raise AnalyticsError(f"alert {wanted!r} {what}; open: {listed} (ai-telemetry status)")


def control_limits(series: list[tuple[date, float | None]]) -> Limits | None:
    """Individuals-chart limits from the weeks before the last (None: fewer than 3 points, or
    no variation)."""
    from ai_telemetry.analyze.spc.baseline import estimate_baseline

    values = [v for _, v in series[:-1] if v is not None and math.isfinite(v)]
    if len(values) < 3:
        return None
    try:
        base = estimate_baseline(values, method="moving-range")
    except AnalyticsError:
        return None
    return Limits(
        round(base.center, 6),
        round(base.center - 3 * base.sigma, 6),
        round(base.center + 3 * base.sigma, 6),
        len(values),
    )


def _subject(metric: str, key: str | None, repo: Path) -> str:
    if key is None:
        return "metric"
    if metric.startswith("skill_") or (repo / SKILLS_DIR / key).is_dir():
        return "skill"
    if metric.startswith("agent_"):
        return "agent"
    if metric.startswith("incident_"):
        return "root cause"
    if metric.startswith("tool_"):
        return "tool"
    return "key"


def _skill_files(repo: Path, key: str, before: datetime) -> list[tuple[str, datetime | None]]:
    from ai_telemetry.report import gitlog

    folder = repo / SKILLS_DIR / key
    if not folder.is_dir():
        return []
    in_git = gitlog.is_repository(repo)
    out: list[tuple[str, datetime | None]] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file())[:MAX_FILES]:
        relative = path.relative_to(repo).as_posix()
        out.append(
            (relative, gitlog.last_change(repo, relative, before=before) if in_git else None)
        )
    return out


def build_fix_proposal(
    alert: dict[str, Any],
    *,
    wh: Store,
    series: list[tuple[date, float | None]],
    repo: Path,
    history_dir: Path,
    now: datetime,
) -> FixProposal:
    """The proposal for ``alert`` from an open, ingested warehouse and the metric's series."""
    from ai_telemetry.report import sources
    from ai_telemetry.report.themes import read_learning_texts

    metric = str(alert.get("metric") or "")
    key = alert.get("key") or None
    project = alert.get("project") or None  # a project's alert: that project's evidence
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    subject = _subject(metric, key, repo)
    learnings: list[FixLearningDoc] = []
    incidents: list[FixIncidentDoc] = []
    errors: list[tuple[str, int]] = []
    files: list[tuple[str, datetime | None]] = []
    notes: list[str] = []
    if key:
        texts = read_learning_texts(history_dir)
        history = sources.load_learnings(
            wh, until=naive_now, as_of=naive_now, texts=texts, project=project
        )
        about = [lrn for lrn in history if lrn.skill == key or lrn.mentions(key)]
        learnings = [
            {
                "id": lrn.id,
                "title": lrn.title,
                "severity": lrn.severity,
                "created": lrn.created.date().isoformat(),
                "open": lrn.is_open,
            }
            for lrn in about
        ]
        linked = {lrn.id for lrn in about}
        incidents = [
            {
                "id": i.id,
                "opened": i.opened.date().isoformat(),
                "severity": i.severity or "unknown",
                "root_cause": i.root_cause,
            }
            for i in sources.load_incidents(wh, until=naive_now, project=project)
            if i.root_cause == key or (i.learning_id and i.learning_id in linked)
        ]
        errors = wh.errors_by_type(
            key, since=naive_now - timedelta(days=ERROR_DAYS), until=naive_now, project=project
        )
        files = _skill_files(repo, key, now)
        if subject == "skill" and not files:
            notes.append(f"no files under {SKILLS_DIR.as_posix()}/{key} in {repo}")
    limits = control_limits(series)
    if limits is None:
        notes.append("too few weeks (or no variation) for control limits")
    proposal = FixProposal(
        alert=alert,
        subject=subject,
        generated_at=now,
        series=series,
        limits=limits,
        learnings=learnings,
        incidents=incidents,
        errors=errors,
        files=files,
        notes=notes,
    )
    proposal.task = render_task(proposal)
    proposal.pr_body = render_pr_body(proposal)
    return proposal


def _show(value: float | None, metric: str) -> str:
    from ai_telemetry.alert.model import show_value

    return show_value(value, metric)


def render_task(p: FixProposal) -> str:
    """The task text for META_UPDATER: what is wrong, the evidence, what to do, what not to."""
    from ai_telemetry.report.escape import markdown_inline as md_text
    from ai_telemetry.report.escape import terminal as plain

    a = p.alert
    metric = str(a.get("metric"))
    key = a.get("key")
    target = f"the {p.subject} {md_text(str(key))}" if key else f"the metric {md_text(metric)}"
    lines = [
        f"Task for META_UPDATER: fix {target} ({a.get('severity')} alert {plain(a.get('id'))})",
        "",
        f"The weekly telemetry job opened this alert on {a.get('opened') or 'an unknown date'}: "
        f"{md_text(str(a.get('analysis') or a.get('title')))}",
        f"Current value {md_text(str(a.get('current')))} against "
        f"{md_text(str(a.get('threshold_text')))}.",
    ]
    if p.limits is not None:
        lines.append(
            f"Its control limits over the {p.limits.points} weeks before: "
            f"{_show(p.limits.lower, metric)} to {_show(p.limits.upper, metric)} "
            f"(centre {_show(p.limits.center, metric)})."
        )
    lines += ["", "Evidence:"]
    if p.errors:
        shown = ", ".join(f"{md_text(k)} x{n}" for k, n in p.errors[:5])
        lines.append(f"- errors in the last {ERROR_DAYS} days by type: {shown}")
    if p.learnings:
        open_ids = [lrn["id"] for lrn in p.learnings if lrn["open"]]
        lines.append(
            f"- {len(p.learnings)} learning(s) name it, {len(open_ids)} still open"
            + (f": {', '.join(open_ids[:8])}" if open_ids else "")
        )
    if p.incidents:
        lines.append(
            f"- {len(p.incidents)} incident(s): " + ", ".join(i["id"] for i in p.incidents[:8])
        )
    if p.files:
        newest = max((t for _, t in p.files if t is not None), default=None)
        when = f", last changed {newest:%Y-%m-%d}" if newest else ""
        lines.append(f"- the skill's files: {len(p.files)}{when}")
    if len(lines) and lines[-1] == "Evidence:":
        lines.append("- nothing beyond the metric itself")
    lines += [
        "",
        "Do:",
        "1. Read the open learnings and incidents above; find the cause they share.",
        "2. Change the skill (or agent prompt, or code) to remove that cause; keep it small.",
        "3. Add a test or a check that fails on the old behaviour.",
        "4. Open a pull request with the body drafted below; name the learning ids it implements.",
        "",
        "Do not: silence the alert, change its thresholds, or edit telemetry data.",
        f"Done when: the next weekly job closes the alert ({plain(a.get('id'))}).",
    ]
    return "\n".join(lines) + "\n"


def render_pr_body(p: FixProposal) -> str:
    """A pull-request body draft: summary, evidence table, the learnings it implements."""
    from ai_telemetry.report.escape import markdown_inline as md_text
    from ai_telemetry.report.escape import terminal as plain

    a = p.alert
    metric = str(a.get("metric"))
    key = a.get("key")
    lines = [
        f"## Fix: {md_text(str(a.get('title') or a.get('rule')))}"
        + (f" ({md_text(str(key))})" if key else ""),
        "",
        f"Closes the {a.get('severity')} telemetry alert `{plain(a.get('id'))}`: "
        f"{md_text(str(a.get('current')))} against {md_text(str(a.get('threshold_text')))}.",
        "",
        "### Evidence",
        "",
        "| week | value |",
        "|---|---|",
    ]
    lines += [f"| {w.isoformat()} | {_show(v, metric)} |" for w, v in p.series[-8:]]
    if p.limits is not None:
        lines += [
            "",
            f"Control limits (individuals chart, {p.limits.points} weeks): "
            f"{_show(p.limits.lower, metric)} to {_show(p.limits.upper, metric)}.",
        ]
    if p.errors:
        lines += ["", f"Errors in the last {ERROR_DAYS} days: "]
        lines[-1] += ", ".join(f"{md_text(k)} x{n}" for k, n in p.errors[:5]) + "."
    implemented = [lrn["id"] for lrn in p.learnings if lrn["open"]]
    lines += [
        "",
        "### Changes",
        "",
        "- [ ] (describe the change)",
        "- [ ] a test that fails before the change",
        "",
        "### Learnings",
        "",
        (f"Implements {', '.join(implemented)}." if implemented else "No open learning names it."),
        "",
        "_Drafted by `ai-telemetry propose fix` from the telemetry; edit before opening._",
    ]
    return "\n".join(lines) + "\n"


def render_fix_markdown(p: FixProposal) -> str:
    """The whole proposal as one Markdown document (what ``propose fix`` prints)."""
    first, _, rest = p.task.partition("\n")
    return "\n".join([f"# {first}", rest, "---", "", p.pr_body])


def load_fix_proposal(
    alert_id: str,
    *,
    settings: Any,
    repo: Path,
    history_dir: Path,
    now: datetime | None = None,
    weeks: int = 12,
) -> FixProposal:
    """Find the open alert, read its metric's series and the evidence, draft the texts.

    Raises:
        AnalyticsError: no such open alert, or the warehouse cannot be read.
        AlertError: the alert state cannot be read.
    """
    from ai_telemetry.alert.store import open_alerts
    from ai_telemetry.analyze.history import metric_series
    from ai_telemetry.stores import open_ingested

    clock = (now or datetime.now(UTC)).astimezone(UTC)
    alert = find_alert(open_alerts(settings), alert_id)
    metric = str(alert.get("metric") or "")
    key = alert.get("key") or None
    notes: list[str] = []
    try:
        series = metric_series(
            metric,
            key=key,
            weeks=weeks,
            settings=settings,
            now=clock,
            project=alert.get("project") or None,
        )
    except AnalyticsError as exc:
        series = []
        notes.append(f"no weekly series: {exc}")
    with open_ingested(settings) as wh:
        proposal = build_fix_proposal(
            alert, wh=wh, series=series, repo=repo, history_dir=history_dir, now=clock
        )
    proposal.notes[:0] = notes
    return proposal


def write_fix_proposals(
    alerts: list[Any],
    *,
    settings: Any,
    repo: Path,
    history_dir: Path,
    now: datetime,
) -> list[Path]:
    """Write ``dashboards/fix-<date>-<alert>.md`` (`render_fix_markdown`) for each alert.

    Raises:
        AnalyticsError: an alert is not open, or the warehouse cannot be read.
        ReportError: a file cannot be written.
    """
    import re

    from ai_telemetry.report.markdown import write_text_atomic

    written: list[Path] = []
    for alert in alerts:
        proposal = load_fix_proposal(
            alert.id, settings=settings, repo=repo, history_dir=history_dir, now=now
        )
        slug = re.sub(r"[^a-z0-9]+", "-", alert.id.lower()).strip("-")[:80]
        path = settings.dashboards_dir / f"fix-{now:%Y-%m-%d}-{slug}.md"
        write_text_atomic(render_fix_markdown(proposal), path)
        written.append(path)
    return written


__all__ = [
    "FixProposal",
    "Limits",
    "build_fix_proposal",
    "control_limits",
    "find_alert",
    "load_fix_proposal",
    "render_fix_markdown",
    "render_pr_body",
    "render_task",
    "write_fix_proposals",
]
