"""The project an event carries when none is configured: the git repository's name."""

from __future__ import annotations

from pathlib import Path

from ai_telemetry import projectname
from ai_telemetry.config import load_settings
from ai_telemetry.events.schema import MODEL_PATTERN


def test_pattern_is_the_event_contracts() -> None:
    assert projectname._VALID.pattern == MODEL_PATTERN


def test_git_repository_names_the_project(tmp_path: Path) -> None:
    repo = tmp_path / "billing-api"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    assert load_settings(environ={}, cwd=repo / "src").project == "billing-api"


def test_environment_and_config_win_over_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "billing-api"
    (repo / ".git").mkdir(parents=True)
    env = {"AI_TELEMETRY_PROJECT": "billing"}
    assert load_settings(environ=env, cwd=repo).project == "billing"


def test_no_repository_or_a_name_events_refuse_leaves_it_unset(tmp_path: Path) -> None:
    assert load_settings(environ={}, cwd=tmp_path).project is None or (
        projectname.repository_name(tmp_path) is not None
    )
    odd = tmp_path / "2024 plans"
    (odd / ".git").mkdir(parents=True)
    assert load_settings(environ={}, cwd=odd).project is None
