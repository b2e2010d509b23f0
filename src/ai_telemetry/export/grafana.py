"""Grafana provisioning over the exported series: a datasource, a dashboards provider, dashboards.

``write_grafana(DIR)`` writes::

    DIR/provisioning/datasources/ai-telemetry.yaml   the Prometheus datasource (uid ai-telemetry)
    DIR/provisioning/dashboards/ai-telemetry.yaml    a file provider reading DIR/dashboards
    DIR/dashboards/ai-telemetry.json                 the dashboard

The dashboard has the seed's four views (top skills by usage, skill error rates over time,
learning velocity, test coverage trend) and agent performance, incidents, context saturation,
tokens and cost, and open alerts (Prometheus's own ``ALERTS`` series for the rules of
``export prometheus-rules``), with the template variables ``project`` and ``skill``. Every
query selects ``project=~"$project"``, which also matches series exported without a project
label (the variable's "All" is ``.*``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from ai_telemetry.errors import ExportError
from ai_telemetry.log.files import atomic_write_text

DATASOURCE_UID: Final = "ai-telemetry"
DASHBOARD_UID: Final = "ai-telemetry"
_DS: Final = {"type": "prometheus", "uid": DATASOURCE_UID}
P: Final = 'project=~"$project"'
PS: Final = f'{P}, skill_name=~"$skill"'

# (title, panel type, unit, [(expr, legend)], width)
PANELS: Final[tuple[tuple[str, str, str, tuple[tuple[str, str], ...], int], ...]] = (
    (
        "Top skills by usage (7 days)",
        "bargauge",
        "short",
        (
            (
                f"topk(10, sum by (skill_name) (increase(ai_skill_invocations_total{{{PS}}}[7d])))",
                "{{skill_name}}",
            ),
        ),
        12,
    ),
    (
        "Skill error rate",
        "timeseries",
        "percentunit",
        ((f"ai_skill_error_ratio{{{PS}}}", "{{skill_name}}"),),
        12,
    ),
    (
        "Learning velocity",
        "timeseries",
        "short",
        (
            (f"ai_learning_entries_per_week{{{P}}}", "this week"),
            (f"increase(ai_learning_entries_total{{{P}}}[7d])", "last 7 days"),
        ),
        12,
    ),
    (
        "Test coverage",
        "timeseries",
        "percentunit",
        (
            (f"ai_test_coverage_ratio{{{P}}}", "coverage"),
            (f"ai_test_coverage_delta_ratio{{{P}}}", "change this week"),
        ),
        12,
    ),
    (
        "Agent performance",
        "timeseries",
        "percentunit",
        (
            (f"ai_agent_task_completion_ratio{{{P}}}", "{{agent_name}} completed"),
            (f"ai_agent_rollback_ratio{{{P}}}", "{{agent_name}} rolled back"),
        ),
        12,
    ),
    (
        "Agent time to resolution (p95)",
        "timeseries",
        "s",
        ((f'ai_agent_time_to_resolution_seconds{{{P}, quantile="0.95"}}', "{{agent_name}}"),),
        12,
    ),
    (
        "Incidents",
        "timeseries",
        "short",
        (
            (f"sum by (severity) (ai_incidents_total{{{P}}})", "{{severity}}"),
            (f'ai_incident_mttr_seconds{{{P}, quantile="0.5"}} / 3600', "MTTR p50 (hours)"),
        ),
        12,
    ),
    (
        "Context saturation (p95)",
        "timeseries",
        "percentunit",
        ((f'ai_context_window_utilization_ratio{{{P}, quantile="0.95"}}', "p95"),),
        12,
    ),
    (
        "Tokens by model",
        "timeseries",
        "short",
        (
            (
                f"sum by (model, token_type) (increase(ai_llm_tokens_total{{{P}}}[1h]))",
                "{{model}} {{token_type}}",
            ),
        ),
        12,
    ),
    (
        "Cost by model (USD, all time)",
        "stat",
        "currencyUSD",
        ((f"sum by (model) (ai_llm_cost_usd_total{{{P}}})", "{{model}}"),),
        12,
    ),
    (
        "Open alerts",
        "table",
        "short",
        (('ALERTS{alertstate="firing", rule!=""}', "{{alertname}}"),),
        24,
    ),
)
"""Every panel: what the test runs against a real Prometheus (with the variables set to .*)."""


def _variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": dict(_DS),
        "query": {"query": query, "refId": f"{name}-variable"},
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "sort": 1,
        "current": {"text": "All", "value": "$__all"},
    }


def dashboard() -> dict[str, Any]:
    """The dashboard JSON (Grafana's dashboard model, schemaVersion 39)."""
    panels: list[dict[str, Any]] = []
    x = y = 0
    for number, (title, kind, unit, targets, width) in enumerate(PANELS, start=1):
        if x + width > 24:
            x, y = 0, y + 8
        panels.append(
            {
                "id": number,
                "type": kind,
                "title": title,
                "datasource": dict(_DS),
                "gridPos": {"h": 8, "w": width, "x": x, "y": y},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "options": {},
                "targets": [
                    {
                        "refId": chr(ord("A") + i),
                        "datasource": dict(_DS),
                        "expr": expr,
                        "legendFormat": legend,
                        "instant": kind in ("bargauge", "stat", "table"),
                        "range": kind == "timeseries",
                    }
                    for i, (expr, legend) in enumerate(targets)
                ],
            }
        )
        x += width
    return {
        "uid": DASHBOARD_UID,
        "title": "AI infrastructure",
        "description": "ai-telemetry metrics exported to Prometheus (docs/prometheus.md).",
        "tags": ["ai-telemetry"],
        "timezone": "utc",
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "1m",
        "time": {"from": "now-30d", "to": "now"},
        "templating": {
            "list": [
                _variable("project", "Project", "label_values(ai_events_total, project)"),
                _variable(
                    "skill",
                    "Skill",
                    f"label_values(ai_skill_invocations_total{{{P}}}, skill_name)",
                ),
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def datasource_yaml(prometheus_url: str) -> str:
    """The datasource provisioning file."""
    return (
        "apiVersion: 1\n"
        "datasources:\n"
        f"  - name: {json.dumps('Prometheus (ai-telemetry)')}\n"
        "    type: prometheus\n"
        f"    uid: {json.dumps(DATASOURCE_UID)}\n"
        "    access: proxy\n"
        f"    url: {json.dumps(prometheus_url)}\n"
        "    jsonData:\n"
        '      timeInterval: "15s"\n'
    )


def provider_yaml(dashboards_dir: Path) -> str:
    """The dashboards provider provisioning file (reads ``dashboards_dir``)."""
    return (
        "apiVersion: 1\n"
        "providers:\n"
        '  - name: "ai-telemetry"\n'
        '    folder: "AI Telemetry"\n'
        "    type: file\n"
        "    disableDeletion: false\n"
        "    options:\n"
        f"      path: {json.dumps(str(dashboards_dir))}\n"
    )


def _write(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text, perms=0o666)  # as `open`: the umask decides
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_grafana(output: Path, *, prometheus_url: str = "http://localhost:9090") -> list[Path]:
    """Write the provisioning files and the dashboard under ``output``; return the paths.

    Raises:
        ExportError: a file cannot be written.
    """
    root = output.resolve()
    files = {
        root / "provisioning" / "datasources" / "ai-telemetry.yaml": datasource_yaml(
            prometheus_url
        ),
        root / "provisioning" / "dashboards" / "ai-telemetry.yaml": provider_yaml(
            root / "dashboards"
        ),
        root / "dashboards" / "ai-telemetry.json": json.dumps(dashboard(), indent=2) + "\n",
    }
    for path, text in files.items():
        _write(path, text)
    return list(files)
