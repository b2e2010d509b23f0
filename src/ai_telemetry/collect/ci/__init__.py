"""CI report collector: coverage, JUnit, ruff, type and doc coverage, security scans.

`collect_ci` reads every report it is given first, and only when all of them are good writes
one batch: a broken or wrong file raises `ReportFormatError` naming it, and nothing is written.

Events (METRICS.md):

| option | events |
|---|---|
| ``--coverage`` | ``test_coverage`` (``coverage_percent``, ``delta_percent`` vs previous) |
| ``--junit`` | ``test_run`` (counts, outcome, duration, coverage) and ``ci_build`` |
| ``--ruff`` | ``lint_report`` (``lint_errors``, ``tool``) |
| ``--types`` / ``--docs`` | ``type_coverage`` / ``doc_coverage`` |
| ``--security`` | ``security_scan`` (``open_findings``, ``resolved_findings``, ``tool``) |

Idempotence: each event's id derives from the build id (``--build-id``, else the CI's own run
id from the environment) and the report's content, so collecting the same reports of the same
build twice adds nothing, while the next build (or a changed report) adds new events.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ai_telemetry.collect.idempotent import (
    collector_lock,
    drop_logged,
    read_logged_events,
    stable_event_id,
)
from ai_telemetry.config import Settings
from ai_telemetry.errors import EventValidationError, ReportFormatError
from ai_telemetry.events.schema import parse_timestamp, utc_now

BUILD_ID_VARIABLES: Final = (
    ("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"),  # GitHub Actions
    ("CI_PIPELINE_ID", "CI_JOB_ID"),  # GitLab CI
    ("BUILD_TAG", ""),  # Jenkins
    ("CIRCLE_WORKFLOW_ID", "CIRCLE_BUILD_NUM"),  # CircleCI
    ("BUILDKITE_BUILD_ID", "BUILDKITE_JOB_ID"),  # Buildkite
)
"""Environment variables that identify a CI build, first match wins (id, then attempt/job)."""


@dataclass(frozen=True, slots=True)
class CICollection:
    """What one `collect_ci` call did."""

    events: list[dict[str, Any]]
    """Every event the reports yield (written now or earlier)."""
    written: int
    already_logged: int
    summary: list[str] = field(default_factory=list)
    """One human line per report, e.g. ``coverage: 87.3% (+0.4)``."""


def build_id_from_env(environ: Mapping[str, str]) -> str:
    """The CI build's id from its environment variables, or "" outside CI."""
    for main, extra in BUILD_ID_VARIABLES:
        value = environ.get(main)
        if value:
            more = environ.get(extra) if extra else None
            return f"{main}={value}" + (f"/{more}" if more else "")
    return ""


def _digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def _latest(events: Iterable[dict[str, Any]], project: str | None) -> dict[str, Any] | None:
    """The latest event by timestamp (later in the file wins ties), of this project."""
    best: dict[str, Any] | None = None
    best_key: Any = None
    for index, event in enumerate(events):
        if event.get("project") != project:
            continue
        try:
            moment = parse_timestamp(event.get("timestamp"))
        except EventValidationError:
            continue
        key = (moment, index)
        if best_key is None or key > best_key:
            best, best_key = event, key
    return best


def _previous_number(
    settings: Settings, event_type: str, name: str, *, exclude: str, where: Mapping[str, Any]
) -> float | None:
    candidates = (
        e
        for e in read_logged_events(settings.log_path, [event_type])
        if e.get("event_id") != exclude and all(e.get(k) == v for k, v in where.items())
    )
    latest = _latest(candidates, settings.project)
    value = latest.get(name) if latest is not None else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def collect_ci(
    *,
    settings: Settings,
    coverage: Path | None = None,
    junit: Path | None = None,
    ruff: Path | None = None,
    types: Path | None = None,
    docs: Path | None = None,
    security: Path | None = None,
    build_id: str | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], str] = utc_now,
) -> CICollection:
    """Parse the given reports, then write their events in one batch.

    Args:
        settings: where the log is (and the project, for the coverage delta).
        coverage: Cobertura XML or coverage.py JSON.
        junit: JUnit XML.
        ruff: ruff's JSON output.
        types: a Python file or folder to measure type-hint coverage on.
        docs: a Python file or folder to measure docstring coverage on.
        security: bandit or pip-audit JSON.
        build_id: this build's id; default from ``environ`` (see `BUILD_ID_VARIABLES`).
        environ: environment to read the build id from (default ``os.environ``).
        clock: returns the events' timestamp (RFC 3339 UTC).

    Raises:
        ReportFormatError: a report is broken or of the wrong kind; nothing was written.
        LogError: the log cannot be written.
    """
    from ai_telemetry.collect.ci.coverage_report import parse_coverage
    from ai_telemetry.collect.ci.junit import parse_junit
    from ai_telemetry.collect.ci.lint import parse_ruff
    from ai_telemetry.collect.ci.pyast import measure_source
    from ai_telemetry.collect.ci.security import parse_security

    # 1. Read everything; any error leaves the log untouched.
    cov = parse_coverage(coverage) if coverage else None
    tests = parse_junit(junit) if junit else None
    lint = parse_ruff(ruff) if ruff else None
    sec = parse_security(security) if security else None
    measured: dict[str, Any] = {}
    for option, root in (("types", types), ("docs", docs)):
        if root is None:
            continue
        typed, documented = measure_source(root)
        result = typed if option == "types" else documented
        if result.total == 0:
            what = "functions" if option == "types" else "public functions"
            raise ReportFormatError(
                f"{root}: no {what} found in {result.files} Python file(s); "
                f"point --{option} at your source folder"
            )
        measured[option] = result

    # 2. Build the events.
    build = (
        build_id
        if build_id is not None
        else build_id_from_env(os.environ if environ is None else environ)
    )
    now = clock()
    events: list[dict[str, Any]] = []
    summary: list[str] = []

    def add(kind: str, digest: str, **fields: Any) -> dict[str, Any]:
        event = {
            "timestamp": now,
            "event_type": kind,
            "event_id": stable_event_id("ci", kind, build, digest),
            "source": "ci",
            **{k: v for k, v in fields.items() if v is not None},
        }
        events.append(event)
        return event

    with collector_lock(settings.telemetry_dir):
        if cov is not None:
            event = add("test_coverage", _digest(cov.digest_source), coverage_percent=cov.percent)
            previous = _previous_number(
                settings, "test_coverage", "coverage_percent", exclude=event["event_id"], where={}
            )
            line = f"coverage: {cov.percent:g}% ({cov.kind})"
            if previous is not None:
                event["delta_percent"] = round(cov.percent - previous, 2)
                line += f", {event['delta_percent']:+g} points"
            summary.append(line)
        if tests is not None:
            digest = _digest(tests.digest_source)
            run = add(
                "test_run",
                digest,
                outcome=tests.outcome,
                passed_count=tests.passed,
                failed_count=tests.failed_count,
                skipped_count=tests.skipped,
                duration_seconds=tests.duration_seconds,
            )
            if cov is not None:
                run["coverage_percent"] = cov.percent
            add("ci_build", digest, outcome=tests.outcome, failed_tests=tests.failed_count)
            summary.append(
                f"tests: {tests.outcome}: {tests.passed} passed, {tests.failed} failed, "
                f"{tests.errors} errors, {tests.skipped} skipped"
            )
        if lint is not None:
            add("lint_report", _digest(lint.digest_source), lint_errors=lint.errors, tool=lint.tool)
            summary.append(f"lint: {lint.errors} {lint.tool} diagnostics")
        if "types" in measured:
            t = measured["types"]
            add("type_coverage", _digest(t.digest + "types"), type_coverage_percent=t.percent)
            summary.append(f"type hints: {t.percent:g}% ({t.covered}/{t.total} functions)")
        if "docs" in measured:
            d = measured["docs"]
            add("doc_coverage", _digest(d.digest + "docs"), doc_coverage_percent=d.percent)
            summary.append(f"docstrings: {d.percent:g}% ({d.covered}/{d.total} public functions)")
        if sec is not None:
            event = add(
                "security_scan",
                _digest(sec.digest_source),
                open_findings=sec.open_findings,
                tool=sec.tool,
            )
            before = _previous_number(
                settings,
                "security_scan",
                "open_findings",
                exclude=event["event_id"],
                where={"tool": sec.tool},
            )
            if before is not None:
                event["resolved_findings"] = max(0, int(before) - sec.open_findings)
            summary.append(f"security: {sec.open_findings} open findings ({sec.tool})")

        # 3. One batch, without what an earlier run already wrote.
        from ai_telemetry.log.sink import append_events

        fresh = drop_logged(events, settings.log_path)
        report = append_events(fresh, settings=settings, source="ci") if fresh else None
    written = report.written if report is not None else 0
    if report is not None and report.rejected:
        index, reason = report.rejected[0]
        raise ReportFormatError(
            f"{len(report.rejected)} CI event(s) rejected, e.g. {fresh[index]['event_type']}: "
            f"{reason}"
        )
    return CICollection(events, written, len(events) - len(fresh), summary)
