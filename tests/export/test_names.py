"""The Prometheus names of the catalogue: conventions, completeness, and the docs table."""

from __future__ import annotations

import re
from pathlib import Path

from export_helpers import FROZEN

from ai_telemetry.config import Settings
from ai_telemetry.export.names import SERIES, markdown_table, render_page
from ai_telemetry.export.prometheus import read_documents

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_LABELS = {
    "skill_name",
    "agent_name",
    "tool_name",
    "model",
    "severity",
    "source",
    "project",
    "outcome",
    "token_type",
    "quantile",
}


def test_the_seeds_series_is_kept_exactly() -> None:
    """ai_skill_invocations_total{skill_name,outcome} is a counter with exactly those labels."""
    (series,) = [s for s in SERIES if s.name == "ai_skill_invocations_total"]
    assert ("counter", ("skill_name", "outcome")) == (series.kind, series.labels)


def test_names_follow_prometheus_conventions() -> None:
    """Prefix ai_, snake case, _total only and always on counters, no unit-less fractions."""
    for s in SERIES:
        assert re.fullmatch(r"ai_[a-z0-9_]+", s.name), s.name
        assert s.name.endswith("_total") == (s.kind == "counter"), s.name
        assert not s.name.endswith(("_percent", "_minutes", "_days", "_rate")), s.name
        if "ratio" in s.name or (s.metric.endswith("_rate") and s.kind == "gauge"):
            assert "ratio" in s.name or "per_" in s.name, s.name


def test_labels_are_bounded_dimensions() -> None:
    """Only the documented labels, never an id."""
    for s in SERIES:
        assert set(s.labels) <= ALLOWED_LABELS, s.name
        assert not any(label.endswith("_id") for label in s.labels)


def test_names_are_unique() -> None:
    """No two families share a name."""
    names = [s.name for s in SERIES]
    assert len(names) == len(set(names))


def test_every_catalogue_metric_has_a_series(frozen_log: Settings) -> None:
    """Every metric of a real metrics.json document is mapped (METRICS.md's whole catalogue)."""
    (docs,) = read_documents(frozen_log, now=FROZEN)
    mapped = {s.metric for s in SERIES} | {m for s in SERIES for m in s.covers}
    assert set(docs.week["metrics"]) <= mapped
    assert set(docs.all_time["metrics"]) <= mapped


def test_docs_table_is_generated_from_the_mapping() -> None:
    """docs/prometheus.md's table is up to date (python -m ai_telemetry.export.names)."""
    page = (ROOT / "docs" / "prometheus.md").read_text(encoding="utf-8")
    assert render_page(page) == page
    assert markdown_table() in page
    for s in SERIES:
        assert f"`{s.name}`" in page
