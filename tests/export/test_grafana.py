"""Grafana provisioning: Grafana's schema types accept the dashboard, every panel's query
returns series from a real Prometheus that scraped the exporter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import yaml
from export_helpers import Prometheus, http_get, wait_until
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.cog.runtime import panelcfg_config
from grafana_foundation_sdk.models import prometheus as prometheus_model
from grafana_foundation_sdk.models.dashboard import Dashboard

from ai_telemetry.export.grafana import DATASOURCE_UID, PANELS, dashboard, write_grafana

SEED_VIEWS = ("Top skills by usage", "Skill error rate", "Learning velocity", "Test coverage")
MORE_VIEWS = (
    "Agent performance",
    "Incidents",
    "Context saturation",
    "Tokens",
    "Cost",
    "Open alerts",
)


def leaves(obj: Any, path: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        return {
            k: v for key, value in obj.items() for k, v in leaves(value, f"{path}.{key}").items()
        }
    if isinstance(obj, list):
        return {
            k: v for i, value in enumerate(obj) for k, v in leaves(value, f"{path}[{i}]").items()
        }
    return {path: obj}


def test_dashboard_parses_as_grafanas_dashboard_model() -> None:
    """Every field survives grafana-foundation-sdk's round trip; queries and panels are known."""
    register_default_plugins()
    ours = dashboard()
    model = Dashboard.from_json(ours)
    back = json.loads(json.dumps(model, cls=JSONEncoder))
    theirs = leaves(back)
    lost = {path: v for path, v in leaves(ours).items() if theirs.get(path, object()) != v}
    assert {} == lost
    assert model.panels is not None
    for panel in model.panels:
        assert panelcfg_config(panel.type_val) is not None, panel.type_val
        for target in panel.targets or []:
            assert isinstance(target, prometheus_model.Dataquery)


def test_dashboard_has_the_views_and_variables() -> None:
    """The seed's four views, the five more, and the project and skill variables."""
    titles = [title for title, *_ in PANELS]
    for view in (*SEED_VIEWS, *MORE_VIEWS):
        assert any(t.startswith(view) for t in titles), view
    variables = {v["name"] for v in dashboard()["templating"]["list"]}
    assert {"project", "skill"} == variables


def test_cli_writes_provisioning_files(tmp_path: Path, telemetry_dir: Path) -> None:
    """Datasource and provider YAML point at the datasource uid and the dashboards folder."""
    out = tmp_path / "grafana"
    env = {**os.environ, "AI_TELEMETRY_DIR": str(telemetry_dir)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ai_telemetry",
            "export",
            "grafana",
            "--output",
            str(out),
            "--prometheus-url",
            "http://prom:9090",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    source = yaml.safe_load((out / "provisioning/datasources/ai-telemetry.yaml").read_text())
    (ds,) = source["datasources"]
    assert ("prometheus", DATASOURCE_UID, "http://prom:9090") == (ds["type"], ds["uid"], ds["url"])
    provider = yaml.safe_load((out / "provisioning/dashboards/ai-telemetry.yaml").read_text())
    folder = Path(provider["providers"][0]["options"]["path"])
    board = json.loads((folder / "ai-telemetry.json").read_text())
    assert board == dashboard()
    assert {DATASOURCE_UID} == {p["datasource"]["uid"] for p in board["panels"]}


def test_every_panel_query_returns_series(prometheus: Prometheus, tmp_path: Path) -> None:
    """Each panel's PromQL (variables at All, .*) returns series from the real Prometheus."""
    write_grafana(tmp_path / "g")  # what Grafana would read
    board = json.loads((tmp_path / "g" / "dashboards" / "ai-telemetry.json").read_text())
    for panel in board["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$project", ".*").replace("$skill", ".*")
            got = wait_until(
                f"series for {panel['title']}: {expr}", lambda e=expr: prometheus.query(e)
            )
            assert got
    for variable in board["templating"]["list"]:
        query = variable["query"]["query"].replace("$project", ".*")
        metric, label = query.removeprefix("label_values(").removesuffix(")").rsplit(", ", 1)
        q = urllib.parse.urlencode({"match[]": metric})
        values = json.loads(http_get(f"{prometheus.url}/api/v1/label/{label}/values?{q}"))["data"]
        assert values, query
    projects = json.loads(
        http_get(f"{prometheus.url}/api/v1/label/project/values?match[]=ai_events_total")
    )["data"]
    assert ["alpha", "beta"] == projects
