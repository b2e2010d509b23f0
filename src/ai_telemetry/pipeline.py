"""End-to-end runs: the weekly job (the seed's ``aggregate_metrics.sh``) and the demo.

`run_weekly` runs, in order: collect learnings, aggregate (metrics.json and the weekly history),
detect (alerts.log), dashboard, notify (the escalation ladder and the retry queue), push (to a
Pushgateway, when ``[export.pushgateway] url`` is set), retention.
Detect runs before the dashboard so the dashboard shows the alerts opened this week. Each step's
failure is recorded and the later steps still run where they can (detect needs aggregate's
metrics.json; the rest are independent).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import orjson

from ai_telemetry.config import Settings, load_settings
from ai_telemetry.errors import AITelemetryError, ConfigError

if TYPE_CHECKING:
    from ai_telemetry.alert.model import Alert
    from ai_telemetry.alert.notify import Notifier

LEARNINGS_DIR: Final = Path(".claude/History")
StepStatus = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of the weekly job: its name, how it went, and a one-line detail."""

    name: str
    status: StepStatus
    detail: str
    seconds: float = 0.0


@dataclass(slots=True)
class WeeklyRun:
    """What `run_weekly` did."""

    steps: list[StepResult] = field(default_factory=list)
    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    open_total: int = 0

    @property
    def ok(self) -> bool:
        """No step failed."""
        return all(step.status != "failed" for step in self.steps)

    def summary(self) -> list[str]:
        """The summary printed at the end: one line per step, then the alerts."""
        lines = ["weekly summary:"]
        for step in self.steps:
            mark = {"ok": "ok     ", "failed": "FAILED ", "skipped": "skipped"}[step.status]
            lines.append(f"  {mark} {step.name:<9} {step.detail}")
        if self.opened:
            lines.append(f"new alerts ({len(self.opened)}):")
            lines.extend(
                f"  {a.severity.upper():<8} {a.title}: {a.subject} = {a.current}"
                for a in self.opened
            )
        lines.append(
            f"open alerts: {self.open_total}; resolved this run: {len(self.resolved)}; "
            + ("all steps succeeded" if self.ok else "some steps FAILED (exit code 1)")
        )
        return lines


def _step(run: WeeklyRun, name: str, action: Callable[[], tuple[StepStatus, str]]) -> StepStatus:
    started = time.perf_counter()
    try:
        status, detail = action()
    except AITelemetryError as exc:
        status, detail = "failed", str(exc)
    except Exception as exc:
        status, detail = "failed", f"internal error: {type(exc).__name__}: {exc}"
    run.steps.append(StepResult(name, status, detail, time.perf_counter() - started))
    return status


def run_weekly(
    settings: Settings,
    *,
    now: datetime | None = None,
    learnings_dir: Path | None = LEARNINGS_DIR,
    threshold: float | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    retention: bool = True,
    project: str | None = None,
) -> WeeklyRun:
    """Run the weekly pipeline once.

    Args:
        settings: the telemetry directory and channels.
        now: the clock (the demo passes the end of its data).
        learnings_dir: where LEARN-*.md entries are; ``None`` skips that step.
        threshold: the z-score threshold (default: ``[detect] threshold``, else 2.0).
        notifiers: channel -> notifier (default: from settings; ``{}`` sends nothing).
        sleep: the wait between notification retries.
        retention: run the retention step.
        project: the job of one project: its metrics (``metrics-<project>.json``), history,
            alerts and dashboard (``weekly-<date>-<project>.md``); the push and retention
            steps, which are the whole store's, are skipped.

    Returns:
        Every step's result; ``run.ok`` is False when a step failed.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    run = WeeklyRun()
    document: dict[str, Any] = {}

    def collect() -> tuple[StepStatus, str]:
        if learnings_dir is None:
            return "skipped", "no learnings folder given"
        if not learnings_dir.is_dir():
            return "skipped", f"{learnings_dir} does not exist"
        from ai_telemetry.collect.learnings import collect_learnings

        got = collect_learnings(learnings_dir, settings=settings)
        status: StepStatus = "failed" if got.problems else "ok"
        detail = f"{got.entries} entries, {got.written} new events"
        if got.problems:
            detail += f"; {len(got.problems)} skipped, first: {got.problems[0]}"
        return status, detail

    def aggregate() -> tuple[StepStatus, str]:
        from ai_telemetry.alert.detect import options_from_settings
        from ai_telemetry.analyze.history import record_weeks
        from ai_telemetry.analyze.metrics import (
            default_window,
            metrics_document,
            metrics_path_for,
            write_metrics_json,
        )
        from ai_telemetry.stores import open_ingested

        weeks = options_from_settings(settings).baseline_weeks + 1
        with open_ingested(settings, progress=False) as store:
            record_weeks(store, weeks, now=moment, refresh=False, progress=False, project=project)
            doc = metrics_document(
                store, default_window(moment), project=project, allow_empty=True, now=moment
            )
        target = metrics_path_for(settings, project)
        write_metrics_json(doc, target)
        document.update(doc)
        window = doc["window"]
        return "ok", (
            f"{doc['events']['total']:,} events {window['start']} to {window['end']} -> {target}"
        )

    def detect() -> tuple[StepStatus, str]:
        if not document:
            return "skipped", "no metrics (aggregate failed)"
        from ai_telemetry.alert.detect import detect_from_document, options_from_settings
        from ai_telemetry.alert.store import open_alerts, record_alerts

        options = options_from_settings(settings, threshold=threshold)
        found = detect_from_document(document, settings=settings, options=options)
        changes = record_alerts(
            settings,
            found.alerts,
            now=moment,
            metrics=document,
            unchecked=found.unchecked,
            project=project,
        )
        run.opened, run.resolved = changes.opened, changes.resolved
        run.open_total = len(open_alerts(settings, project=project))
        note = f"; {found.notes[0]}" if found.notes else ""
        return "ok", (
            f"{len(found.alerts)} conditions hold: {len(changes.opened)} opened, "
            f"{len(changes.still_open)} still open, {len(changes.resolved)} resolved "
            f"({found.history_weeks} weeks of history) -> {settings.alerts_log}{note}"
        )

    def dashboard() -> tuple[StepStatus, str]:
        if not document:
            return "skipped", "no metrics (aggregate failed)"
        return _dashboard(settings, document)

    def notify() -> tuple[StepStatus, str]:
        from ai_telemetry.alert.escalation import escalate

        report = escalate(
            run.opened, settings=settings, notifiers=notifiers, sleep=sleep, now=moment
        )
        return ("failed" if report.failed else "ok"), report.summary()

    def push() -> tuple[StepStatus, str]:
        if project is not None:
            return "skipped", "the whole store's step (run weekly without --project)"
        from ai_telemetry.config import pushgateway

        url, job = pushgateway(settings)
        if url is None:
            return "skipped", "no [export.pushgateway] url in config.toml"
        from ai_telemetry.export.prometheus import push as push_metrics

        results = push_metrics(settings, url, job=job, now=moment, sleep=sleep)
        failed = [r for r in results if r.error]
        if failed:
            return "failed", (
                f"{len(failed)} of {len(results)} groups not pushed, first: {failed[0].error}"
            )
        return "ok", f"{len(results)} groups pushed to {url} (job {job})"

    def retain() -> tuple[StepStatus, str]:
        if not retention:
            return "skipped", "turned off"
        if project is not None:
            return "skipped", "the whole store's step (run weekly without --project)"
        from ai_telemetry.store.retention import apply_retention

        done = apply_retention(settings, now=moment)
        return "ok", (
            f"{done.archived:,} events older than {done.cutoff} archived, "
            f"{done.metrics_pruned} old history rows pruned"
        )

    def proposals() -> tuple[StepStatus, str]:
        from ai_telemetry.report.propose_fix import write_fix_proposals

        if not fix_proposals_enabled(settings):
            return "skipped", "[propose] fixes = false"
        repo = _repo_of(learnings_dir)
        history = learnings_dir if learnings_dir is not None else repo / LEARNINGS_DIR
        written = write_fix_proposals(
            [a for a in run.opened if a.severity == "critical"],
            settings=settings,
            repo=repo,
            history_dir=history,
            now=moment,
        )
        return "ok", f"{len(written)} fix proposal(s) for new critical alerts" + (
            f" -> {', '.join(str(p) for p in written)}" if written else ""
        )

    _step(run, "collect", collect)
    _step(run, "aggregate", aggregate)
    _step(run, "detect", detect)
    _step(run, "dashboard", dashboard)
    if "propose" in settings.extra:  # a bad [propose] table fails this step, not the job
        _step(run, "proposals", proposals)
    _step(run, "notify", notify)
    _step(run, "push", push)
    _step(run, "retention", retain)
    return run


def fix_proposals_enabled(settings: Settings) -> bool:
    """``[propose] fixes = true`` in config.toml: ``weekly`` writes a fix proposal
    (docs/proposals.md) next to the dashboard for every critical alert it opened.

    Raises:
        ConfigError: ``[propose]`` is not a table or ``fixes`` not a boolean.
    """
    table = settings.extra.get("propose", {})
    where = f"{settings.config_path}: [propose]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table, e.g. fixes = true")
    value = table.get("fixes", False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where} fixes = {value!r} must be true or false")
    return value


def _repo_of(learnings_dir: Path | None) -> Path:
    """The repository of ``REPO/.claude/History`` (the usual layout), else the current folder."""
    if learnings_dir is not None:
        resolved = learnings_dir.resolve()
        if resolved.parent.name == ".claude":
            return resolved.parent.parent
    return Path.cwd()


def _dashboard(settings: Settings, document: Mapping[str, Any]) -> tuple[StepStatus, str]:
    """Write the weekly Markdown dashboard of ``document`` (of its project, when it has one)."""
    from ai_telemetry.analyze.metrics import document_project
    from ai_telemetry.analyze.window import parse_moment
    from ai_telemetry.report import dashboard, markdown

    end = parse_moment(str(document["window"]["end"]))
    report = dashboard.report_for(document, settings=settings)
    path = markdown.default_dashboard_path(
        settings.dashboards_dir, end, project=document_project(document)
    )
    markdown.write_text_atomic(markdown.render_markdown(report), path)
    return "ok", str(path)


def run_demo(
    directory: Path, *, weeks: int = 12, seed: int = 42, end: str | None = None
) -> Iterator[str]:
    """Write the demo data set into its own telemetry directory, then run the pipeline on it.

    Yields the lines of a human-readable summary as each step finishes. The directory is
    emptied first: it only ever holds demo data. The weekly job runs with the clock at the end
    of the data and with no notifier (the demo never sends e-mail or Slack messages).
    """
    from ai_telemetry.demo import generate, week_start
    from ai_telemetry.log.sink import append_events
    from ai_telemetry.store.layout import init_layout

    end_at = None
    if end is not None:
        try:
            end_at = datetime.fromisoformat(end).replace(tzinfo=UTC)
        except ValueError:
            raise ConfigError(f"--end {end!r} is not a date; write YYYY-MM-DD") from None
    marker = directory / ".ai-telemetry-demo"
    if directory.exists() and any(directory.iterdir()) and not marker.exists():
        raise ConfigError(f"{directory} exists and is not a demo directory; choose another --dir")
    shutil.rmtree(directory, ignore_errors=True)
    settings = load_settings(telemetry_dir=directory, durability="write", project=None)
    init_layout(settings)
    marker.write_text("demo data written by `ai-telemetry demo`; safe to delete\n")
    data = generate(weeks=weeks, seed=seed, end=end_at)
    report = append_events(data.events, settings=settings, source="demo")
    (directory / "demo-anomalies.json").write_bytes(
        orjson.dumps(data.anomalies, option=orjson.OPT_INDENT_2)
    )
    counts = Counter(event["event_type"] for event in data.events)
    first, last = data.events[0]["timestamp"][:10], data.events[-1]["timestamp"][:10]
    yield f"wrote {report.written:,} demo events ({first} to {last}) to {settings.log_path}"
    yield "  " + ", ".join(f"{name} {n:,}" for name, n in counts.most_common())
    yield f"injected anomalies ({directory / 'demo-anomalies.json'}):"
    for anomaly in data.anomalies:
        yield f"  {anomaly.week_start}  {anomaly.kind}: {anomaly.detail}"
    clock = week_start(end_at or datetime.now(UTC))
    yield f"running the weekly pipeline as of {clock:%Y-%m-%d %H:%M}Z (no notifications)..."
    # No notifiers, whatever the environment configures: nothing leaves the machine.
    run = run_weekly(settings, now=clock, learnings_dir=None, notifiers={})
    yield from run.summary()
    yield f"alerts: {settings.alerts_log}"
    if settings.metrics_path.exists():
        from ai_telemetry.report.dashboard import make_dashboard

        page = make_dashboard(settings.metrics_path, fmt="html", settings=settings)
        yield f"HTML dashboard (open it in a browser): {page}"
        yield f"next: AI_TELEMETRY_DIR={directory} ai-telemetry status"
