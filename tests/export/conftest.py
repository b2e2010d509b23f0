"""Fixtures of the export tests: a small event set, real Prometheus and Pushgateway processes.

The servers are Debian's ``prometheus`` and ``prometheus-pushgateway`` (``.ci/run`` installs
them). A missing binary fails the test that needs it, loudly: it is never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from export_helpers import (
    FROZEN,
    Prometheus,
    Pushgateway,
    free_port,
    http_get,
    need_binary,
    sample_events,
    stop,
    wait_until,
    week_start_of,
    write_events,
)

from ai_telemetry.config import Settings, load_settings


@pytest.fixture
def settings(telemetry_dir: Path, tmp_path: Path) -> Settings:
    """Settings over a fresh telemetry directory (AI_TELEMETRY_DIR is set for subprocesses)."""
    return load_settings(environ={}, cwd=tmp_path, telemetry_dir=telemetry_dir)


@pytest.fixture
def frozen_log(settings: Settings) -> Settings:
    """The sample events around the frozen clock's week."""
    write_events(settings, sample_events(week_start_of(FROZEN)))
    return settings


@pytest.fixture
def live_log(settings: Settings) -> Settings:
    """The sample events around the real current week (for the servers, which run on the
    real clock)."""
    write_events(settings, sample_events(week_start_of(datetime.now(UTC))))
    return settings


@dataclass
class Exporter:
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def exporter(live_log: Settings, telemetry_dir: Path) -> Iterator[Exporter]:
    """``ai-telemetry export prometheus --listen 127.0.0.1:0 --by-project`` as a process."""
    env = {**os.environ, "AI_TELEMETRY_DIR": str(telemetry_dir)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ai_telemetry",
            "export",
            "prometheus",
            "--listen",
            "127.0.0.1:0",
            "--by-project",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline().decode()
        assert "serving http://" in line, line
        url = line.split()[1]
        wait_until("the exporter", lambda: b"ai_events_total" in http_get(url), process=None)
        yield Exporter(url, process)
    finally:
        stop(process)


@pytest.fixture
def prometheus(exporter: Exporter, tmp_path: Path, settings: Settings) -> Iterator[Prometheus]:
    """A real Prometheus on a free loopback port scraping the exporter every second, with the
    rules of ``export prometheus-rules`` loaded; killed after the test."""
    binary = need_binary("prometheus")
    from ai_telemetry.analyze.rules import rules_from_settings
    from ai_telemetry.export.rules import write_rules

    rules = tmp_path / "rules.yml"
    write_rules(rules_from_settings(settings), rules)
    target = urllib.parse.urlparse(exporter.url).netloc
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {json.dumps(str(rules))}\n"
        "scrape_configs:\n  - job_name: ai_telemetry\n"
        f"    static_configs:\n      - targets: [{json.dumps(target)}]\n",
        encoding="utf-8",
    )
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until("prometheus readiness", lambda: http_get(f"{url}/-/ready"), process=process)
        server = Prometheus(url, rules)
        # two scrapes, so increase() over a range has two samples
        wait_until(
            "two scrapes of the exporter",
            lambda: server.query("count_over_time(ai_events_total[1m]) >= 2"),
            process=process,
        )
        yield server
    finally:
        stop(process)


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[Pushgateway]:
    """A real Pushgateway on a free loopback port; killed after the test."""
    binary = need_binary("prometheus-pushgateway")
    port = free_port()
    log = (tmp_path / "pushgateway.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--web.listen-address=127.0.0.1:{port}",
            f"--persistence.file={tmp_path / 'pushgateway.data'}",  # Debian's default is shared
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until("pushgateway readiness", lambda: http_get(f"{url}/-/ready"), process=process)
        yield Pushgateway(url)
    finally:
        stop(process)
