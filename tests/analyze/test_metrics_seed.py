"""The seed's "Example Telemetry Session" gives the seed's "Generated Metrics"."""

from __future__ import annotations

from pathlib import Path

import orjson
from metrics_test_helpers import document, ev, make_settings, write_jsonl

from ai_telemetry.config import Settings

SEED_SESSION = b"""\
{"timestamp":"2025-12-15T14:30:00Z","event_type":"skill_execution","skill":"systematic-debugger","outcome":"started","context_tokens":12500}
{"timestamp":"2025-12-15T14:35:00Z","event_type":"tool_call","tool":"Read","outcome":"success","duration_seconds":0.3}
{"timestamp":"2025-12-15T14:37:00Z","event_type":"tool_call","tool":"Grep","outcome":"success","duration_seconds":1.2}
{"timestamp":"2025-12-15T14:42:00Z","event_type":"learning_created","id":"LEARN-2025-001","severity":"critical","source":"incident"}
{"timestamp":"2025-12-15T14:50:00Z","event_type":"test_run","outcome":"failed","failed_count":3}
{"timestamp":"2025-12-15T15:10:00Z","event_type":"test_run","outcome":"passed","coverage_percent":87.3}
{"timestamp":"2025-12-15T15:15:00Z","event_type":"skill_execution","skill":"systematic-debugger","outcome":"success","duration_seconds":2700,"context_tokens":18900}
{"timestamp":"2025-12-15T15:20:00Z","event_type":"commit","skill":"systematic-debugger","commit_hash":"d0efcc5a"}
"""

SEED_GENERATED = {
    "skill_metrics": {
        "systematic-debugger": {
            "invocations": 1,
            "success_rate": 1.0,
            "avg_duration_seconds": 2700,
            "avg_context_tokens": 15700,
        }
    },
    "learning_metrics": {
        "total_entries": 1,
        "severity_breakdown": {"critical": 1},
        "source_breakdown": {"incident": 1},
    },
    "test_metrics": {"coverage_percent": 87.3, "delta_percent": 0.4},
}


def _seed_log(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path)
    settings.log_path.parent.mkdir(parents=True)
    settings.log_path.write_bytes(SEED_SESSION)
    return settings


def test_seed_session_with_ci_coverage_delta_gives_seed_numbers(tmp_path: Path) -> None:
    """The session plus the CI's coverage event (delta 0.4, as in the seed) gives the seed JSON."""
    settings = _seed_log(tmp_path)
    write_jsonl(
        settings,
        [ev("2025-12-15T15:10:00Z", "test_coverage", coverage_percent=87.3, delta_percent=0.4)],
    )
    doc = document(settings, "2025-12-15", "2025-12-22")
    actual = {k: doc[k] for k in SEED_GENERATED}
    assert orjson.loads(orjson.dumps(actual)) == SEED_GENERATED


def test_seed_session_alone_gives_seed_skill_and_learning_numbers(tmp_path: Path) -> None:
    """The session as written gives the seed's skill, learning and coverage numbers."""
    settings = _seed_log(tmp_path)
    doc = document(settings, "2025-12-15", "2025-12-22")
    assert SEED_GENERATED["skill_metrics"] == doc["skill_metrics"]
    assert SEED_GENERATED["learning_metrics"] == doc["learning_metrics"]
    assert doc["test_metrics"]["coverage_percent"] == 87.3


def test_seed_session_delta_without_any_earlier_coverage_is_null(tmp_path: Path) -> None:
    """With no earlier measurement and no delta_percent, the delta is null, not invented."""
    settings = _seed_log(tmp_path)
    doc = document(settings, "2025-12-15", "2025-12-22")
    assert doc["test_metrics"]["delta_percent"] is None


def test_seed_session_delta_from_previous_week_coverage(tmp_path: Path) -> None:
    """An earlier coverage of 86.9 makes the delta 87.3 - 86.9 = 0.4."""
    settings = _seed_log(tmp_path)
    write_jsonl(settings, [ev("2025-12-08T09:00:00Z", "test_coverage", coverage_percent=86.9)])
    doc = document(settings, "2025-12-15", "2025-12-22")
    assert doc["test_metrics"]["delta_percent"] == 0.4


def test_metrics_json_is_versioned_with_window(tmp_path: Path) -> None:
    """The document carries schema_version and the UTC window."""
    settings = _seed_log(tmp_path)
    doc = document(settings, "2025-12-15", "2025-12-22")
    assert (
        doc["schema_version"],
        doc["window"],
    ) == ("1.0", {"start": "2025-12-15T00:00:00Z", "end": "2025-12-22T00:00:00Z"})
