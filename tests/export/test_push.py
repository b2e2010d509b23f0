"""Pushing to a real Pushgateway: one group per project, from the CLI and from ``weekly``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from export_helpers import FROZEN, Pushgateway, free_port
from prometheus_client.parser import text_string_to_metric_families

from ai_telemetry.config import Settings, load_settings, pushgateway
from ai_telemetry.errors import ConfigError
from ai_telemetry.export.prometheus import push
from ai_telemetry.pipeline import run_weekly


def pushed(gateway: Pushgateway, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out = {}
    for family in text_string_to_metric_families(gateway.metrics()):
        for s in family.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


def configure(settings: Settings, tmp_path: Path, body: str) -> Settings:
    settings.config_path.write_text(body, encoding="utf-8")
    return load_settings(environ={}, cwd=tmp_path, telemetry_dir=settings.telemetry_dir)


def test_push_groups_by_project(frozen_log: Settings, pushgateway: Pushgateway) -> None:
    """Each project is its own group {job, project}; the seed's series arrives as it is named."""
    results = push(frozen_log, pushgateway.url, now=FROZEN)
    assert [{"project": "alpha"}, {"project": "beta"}, {}] == [r.grouping_key for r in results]
    assert all(r.error is None and r.attempts == 1 for r in results)
    got = pushed(pushgateway, "ai_skill_invocations_total")
    key = (
        ("instance", ""),
        ("job", "ai_infrastructure"),
        ("outcome", "error"),
        ("project", "beta"),
        ("skill_name", "code-review"),
    )
    assert 2.0 == got[key]
    repeats = pushed(pushgateway, "ai_incident_root_cause_repeats")
    assert {(("instance", ""), ("job", "ai_infrastructure")): 2.0} == repeats


def test_cli_push_with_a_job(frozen_log: Settings, pushgateway: Pushgateway) -> None:
    """`export prometheus --push URL --job NAME` pushes under that job and says what it did."""
    env = {**os.environ, "AI_TELEMETRY_DIR": str(frozen_log.telemetry_dir)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ai_telemetry",
            "export",
            "prometheus",
            "--push",
            pushgateway.url,
            "--job",
            "nightly",
        ],
        env=env,
        capture_output=True,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    assert b"pushed project=alpha" in done.stdout
    jobs = {dict(k)["job"] for k in pushed(pushgateway, "ai_events_total")}
    assert {"nightly"} == jobs


def test_a_failed_push_is_retried_and_reported(frozen_log: Settings) -> None:
    """Nobody listening: three attempts per group with backoff, errors returned, not raised."""
    waits: list[float] = []
    url = f"http://127.0.0.1:{free_port()}"
    results = push(frozen_log, url, now=FROZEN, sleep=waits.append)
    assert 3 == len(results)
    assert all(r.attempts == 3 and r.error and url in r.error for r in results)
    assert [1.0, 2.0] * 3 == waits


def test_weekly_pushes_when_configured(
    frozen_log: Settings, pushgateway: Pushgateway, tmp_path: Path
) -> None:
    """[export.pushgateway] url: the weekly run's push step sends the series."""
    settings = configure(frozen_log, tmp_path, f'[export.pushgateway]\nurl = "{pushgateway.url}"\n')
    run = run_weekly(settings, now=FROZEN, learnings_dir=None, notifiers={}, retention=False)
    (step,) = [s for s in run.steps if s.name == "push"]
    assert ("ok", True) == (step.status, "3 groups pushed" in step.detail)
    assert pushed(pushgateway, "ai_skill_invocations_total")


def test_weekly_survives_an_unreachable_pushgateway(frozen_log: Settings, tmp_path: Path) -> None:
    """The push step fails with the reason; the other steps still ran and nothing raised."""
    url = f"http://127.0.0.1:{free_port()}"
    settings = configure(frozen_log, tmp_path, f'[export.pushgateway]\nurl = "{url}"\n')
    run = run_weekly(
        settings,
        now=FROZEN,
        learnings_dir=None,
        notifiers={},
        retention=False,
        sleep=lambda _s: None,
    )
    status = {s.name: s.status for s in run.steps}
    assert "failed" == status["push"]
    assert "ok" == status["aggregate"] == status["detect"]
    (step,) = [s for s in run.steps if s.name == "push"]
    assert url in step.detail
    assert not run.ok


def test_weekly_skips_the_push_without_a_url(frozen_log: Settings) -> None:
    """No [export.pushgateway]: the step is skipped and says why."""
    run = run_weekly(frozen_log, now=FROZEN, learnings_dir=None, notifiers={}, retention=False)
    (step,) = [s for s in run.steps if s.name == "push"]
    assert "skipped" == step.status


def test_a_bad_pushgateway_url_is_a_config_error(frozen_log: Settings, tmp_path: Path) -> None:
    """url must be http(s); the message names the file and the section."""
    settings = configure(frozen_log, tmp_path, '[export.pushgateway]\nurl = "pushgateway:9091"\n')
    with pytest.raises(ConfigError, match=r"\[export.pushgateway\] url = 'pushgateway:9091'"):
        pushgateway(settings)
