"""The collector: golden exposition, promtool, cardinality, the cache, textfile, the CLI."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from export_helpers import FROZEN, need_binary, sample_events, week_start_of, write_events
from prometheus_client.parser import text_string_to_metric_families

from ai_telemetry.config import Settings
from ai_telemetry.errors import AnalyticsError, ConfigError
from ai_telemetry.export.names import series_budget
from ai_telemetry.export.prometheus import (
    CACHE_NAME,
    TelemetryCollector,
    exposition,
    parse_listen,
    read_documents,
    write_textfile,
)

GOLDEN = Path(__file__).parent / "golden" / "exposition.prom"


def collector(settings: Settings, **kw: object) -> TelemetryCollector:
    return TelemetryCollector(settings, clock=lambda: FROZEN, **kw)  # type: ignore[arg-type]


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[s.name, tuple(sorted(s.labels.items()))] = s.value
    return out


def one(
    got: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return got[name, tuple(sorted(labels.items()))]


def test_exposition_matches_the_golden_file(frozen_log: Settings) -> None:
    """The exposition of the sample log at the frozen clock (UPDATE_GOLDEN=1 rewrites it)."""
    body = exposition(collector(frozen_log, by_project=True)).decode()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(body, encoding="utf-8")
    assert GOLDEN.read_text(encoding="utf-8") == body


def test_promtool_check_metrics_is_clean(frozen_log: Settings) -> None:
    """promtool's linter has nothing to say about our exposition."""
    promtool = need_binary("promtool")
    for by_project in (False, True):
        body = exposition(collector(frozen_log, by_project=by_project))
        done = subprocess.run(
            [promtool, "check", "metrics"], input=body, capture_output=True, check=False
        )
        assert (0, b"") == (done.returncode, done.stdout + done.stderr)


def test_values_are_the_documents_values(frozen_log: Settings) -> None:
    """Counters read the all-time document, gauges and quantiles this week's, units converted."""
    (docs,) = read_documents(frozen_log, now=FROZEN)
    got = samples(exposition(collector(frozen_log)))
    week, whole = docs.week["metrics"], docs.all_time["metrics"]
    skill = "systematic-debugger"
    assert (
        week["skill_success_rate"][skill] == got["ai_skill_success_ratio", (("skill_name", skill),)]
    )
    for outcome, n in whole["skill_outcome_total"][skill].items():
        key = (("outcome", outcome), ("skill_name", skill))
        assert n == got["ai_skill_invocations_total", key]
    assert 8 == sum(whole["skill_outcome_total"][skill].values())  # both weeks
    assert 4 == sum(week["skill_outcome_total"][skill].values())
    p95 = week["skill_duration_seconds"][skill]["p95"]
    assert p95 == one(got, "ai_skill_duration_seconds", quantile="0.95", skill_name=skill)
    assert week["test_coverage_percent"] / 100 == got["ai_test_coverage_ratio", ()]
    assert (
        week["session_length_minutes"]["p50"] * 60
        == got["ai_session_length_seconds", (("quantile", "0.5"),)]
    )
    tokens = whole["llm_tokens_total"]["claude-sonnet-4"]["cache_read"]
    assert (
        tokens
        == got["ai_llm_tokens_total", (("model", "claude-sonnet-4"), ("token_type", "cache_read"))]
    )
    assert 2 == got["ai_incident_root_cause_repeats", ()]
    assert docs.all_time["events"]["total"] == got["ai_events_total", ()]


def test_by_project_labels_every_series(frozen_log: Settings) -> None:
    """--by-project: every sample has a project label, and the counters add up to the whole."""
    whole = samples(exposition(collector(frozen_log)))
    split = samples(exposition(collector(frozen_log, by_project=True)))
    shared = "ai_incident_root_cause_repeats"  # all projects, never labelled
    assert all(
        dict(labels).get("project") in ("alpha", "beta") for name, labels in split if name != shared
    )
    assert whole[shared, ()] == split[shared, ()]
    total = sum(v for (name, _), v in split.items() if name == "ai_events_total")
    assert whole["ai_events_total", ()] == total


def test_cardinality_of_a_thousand_skills_stays_in_budget(settings: Settings) -> None:
    """1,000 skills x 4 outcomes: the exposition stays under the documented series budget."""
    start = week_start_of(FROZEN)
    events = []
    for i in range(1000):
        for j, outcome in enumerate(("success", "error", "rollback", "handoff")):
            events.append(
                {
                    "timestamp": (start + timedelta(seconds=i * 4 + j)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "event_type": "skill_execution",
                    "event_id": f"card-{i}-{j}",
                    "skill": f"skill-{i:04d}",
                    "outcome": outcome,
                    "duration_seconds": 1.0 + j,
                    "context_tokens": 100 * j,
                }
            )
    write_events(settings, events)
    body = exposition(collector(settings))
    got = samples(body)
    budget = series_budget(skills=1000)
    lint = subprocess.run(
        [need_binary("promtool"), "check", "metrics"], input=body, capture_output=True, check=False
    )
    assert (0, b"") == (lint.returncode, lint.stdout + lint.stderr)
    assert len(got) <= budget
    invocations = [k for k in got if k[0] == "ai_skill_invocations_total"]
    assert 5000 == len(invocations)  # 4 outcomes + unfinished per skill, nothing else
    assert len(got) > 15_000  # the budget is not slack: most of it is used


def test_a_scrape_with_nothing_new_is_a_cached_read(frozen_log: Settings) -> None:
    """The second collect reads neither the warehouse nor disk; an append is seen next time."""
    c = collector(frozen_log)
    first = exposition(c)
    assert (0, 1) == (c.hits, c.misses)
    assert first == exposition(c)
    assert (1, 1) == (c.hits, c.misses)
    write_events(frozen_log, [sample_events(week_start_of(FROZEN))[0] | {"event_id": "new-1"}])
    third = exposition(c)
    assert (1, 2) == (c.hits, c.misses)
    assert first != third


def test_a_new_process_reads_the_disk_cache(frozen_log: Settings) -> None:
    """A one-shot run after another one with nothing new skips the warehouse."""
    body = exposition(collector(frozen_log))
    assert (frozen_log.telemetry_dir / CACHE_NAME).is_file()
    again = collector(frozen_log)
    assert body == exposition(again)
    assert (1, 0) == (again.hits, again.misses)


def test_a_server_keeps_the_last_good_numbers(
    frozen_log: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the warehouse fails after a good scrape, the last numbers are served and said."""
    import ai_telemetry.export.prometheus as prom

    c = collector(frozen_log, disk_cache=False)
    good = exposition(c)
    write_events(frozen_log, [sample_events(week_start_of(FROZEN))[0] | {"event_id": "new-2"}])

    def broken(*_a: object, **_k: object) -> None:
        raise AnalyticsError("warehouse.duckdb: a metric query failed (disk I/O error)")

    monkeypatch.setattr(prom, "read_documents", broken)
    assert good == exposition(c)
    assert "disk I/O error" in capsys.readouterr().err
    with pytest.raises(AnalyticsError):
        exposition(collector(frozen_log, disk_cache=False))  # nothing good yet: raised


def test_textfile_is_written_atomically(frozen_log: Settings, tmp_path: Path) -> None:
    """The file holds the exposition; no temp file is left behind."""
    target = tmp_path / "textfile" / "ai.prom"
    n = write_textfile(collector(frozen_log), target)
    assert exposition(collector(frozen_log)) == target.read_bytes()
    assert n == len(samples(target.read_bytes()))
    assert ["ai.prom"] == sorted(p.name for p in target.parent.iterdir())


def test_listen_addresses() -> None:
    """HOST:PORT parses; anything else is a one-line error."""
    assert ("127.0.0.1", 9464) == parse_listen("127.0.0.1:9464")
    assert ("127.0.0.1", 9464) == parse_listen(":9464")
    assert ("::1", 0) == parse_listen("[::1]:0")
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_listen("9464x")


def test_cli_textfile_and_stdout(frozen_log: Settings, tmp_path: Path) -> None:
    """`export prometheus --textfile` writes, `export prometheus` prints, the same series."""
    env = {**os.environ, "AI_TELEMETRY_DIR": str(frozen_log.telemetry_dir)}
    target = tmp_path / "ai.prom"
    run = [sys.executable, "-m", "ai_telemetry", "export", "prometheus"]
    done = subprocess.run(
        [*run, "--textfile", str(target)], env=env, capture_output=True, check=False
    )
    assert 0 == done.returncode, done.stderr
    assert b"samples to" in done.stdout
    printed = subprocess.run(run, env=env, capture_output=True, check=True).stdout
    assert samples(printed).keys() == samples(target.read_bytes()).keys()
    both = subprocess.run(
        [*run, "--textfile", str(target), "--listen", ":0"],
        env=env,
        capture_output=True,
        check=False,
    )
    assert 2 == both.returncode
    assert b"one of --listen" in both.stderr


def test_cli_errors_are_one_line(frozen_log: Settings) -> None:
    """A busy --listen port and an unreachable --push URL: one line each, non-zero exit."""
    import socket

    from export_helpers import free_port

    env = {**os.environ, "AI_TELEMETRY_DIR": str(frozen_log.telemetry_dir)}
    run = [sys.executable, "-m", "ai_telemetry", "export", "prometheus"]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*run, "--listen", f"127.0.0.1:{port}"], env=env, capture_output=True, check=False
        )
    assert 2 == done.returncode
    assert [f"ai-telemetry: error: --listen 127.0.0.1:{port}: cannot listen"] == [
        line.split(" (")[0] for line in done.stderr.decode().splitlines()
    ]
    url = f"http://127.0.0.1:{free_port()}"
    pushed = subprocess.run([*run, "--push", url], env=env, capture_output=True, check=False)
    assert 1 == pushed.returncode
    assert b"Traceback" not in pushed.stderr
    assert pushed.stderr.decode().startswith("ai-telemetry: error: 3 of 3 groups were not pushed")
    assert pushed.stdout.count(b"FAILED") == 3


def test_wsgi_app_serves_the_exposition(frozen_log: Settings) -> None:
    """What a server mounts at /metrics answers with the same exposition."""
    from ai_telemetry.export.prometheus import wsgi_app

    c = collector(frozen_log)
    status: list[str] = []
    body = b"".join(
        wsgi_app(c)(
            {"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": ""},
            lambda s, _h: status.append(s),
        )
    )
    assert ["200 OK"] == status
    assert exposition(c) == body


def _close(a: Any, b: Any) -> bool:
    """Equal, numbers up to float rounding (the unit conversion divides back), dicts deeply."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def _project(series: Any, value: Any) -> Any:
    """The part of a catalogue value that ``series`` exposes, in the catalogue's own shape."""
    if value is None:
        return None
    if series.reduce == "max":
        return max(value.values())
    keys = [d for d, _ in series.split]

    def inner(v: Any) -> Any:
        if series.pick is not None:
            v = v.get(series.pick)
        if series.split_label is not None:
            return {k: v[k] for k in keys if v.get(k) is not None} or None
        return v

    if series.key_label is None:
        return inner(value)
    out = {k: inner(v) for k, v in value.items()}
    return {k: v for k, v in out.items() if v is not None} or None


def test_every_series_reads_back_as_its_catalogue_metric(frozen_log: Settings) -> None:
    """Parsing the exposition back gives each catalogue metric's value (all 50-odd series)."""
    from ai_telemetry.export.names import SERIES

    (docs,) = read_documents(frozen_log, now=FROZEN)
    families = {
        f.name: f
        for f in text_string_to_metric_families(exposition(collector(frozen_log)).decode())
    }
    for series in SERIES:
        family = families[series.name.removesuffix("_total")]
        inverse = {label: key for key, label in series.split}
        rebuilt: Any = None
        for s in family.samples:
            v = s.value / series.scale
            key = s.labels.get(series.key_label) if series.key_label else None
            if series.split_label is not None:
                v = {inverse[s.labels[series.split_label]]: v}
            if key is None:
                rebuilt = v if not isinstance(v, dict) else {**(rebuilt or {}), **v}
            else:
                rebuilt = rebuilt or {}
                rebuilt[key] = {**rebuilt.get(key, {}), **v} if isinstance(v, dict) else v
        doc = docs.all_time if series.source == "all_time" else docs.week
        source = docs.shared if series.metric == "incident_root_cause_total" else doc["metrics"]
        expected = _project(series, (source or {}).get(series.metric))
        assert _close(expected, rebuilt), (series.name, expected, rebuilt)
        assert expected is not None, f"{series.name}: the sample log should cover it"
