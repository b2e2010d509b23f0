"""Settings precedence: argument > environment > .env > config.toml > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_telemetry.config import Settings, load_settings
from ai_telemetry.errors import ConfigError


def test_defaults_are_the_seeds_layout(tmp_path: Path) -> None:
    """Without configuration the log is .claude/Telemetry/events.jsonl under the cwd."""
    settings = load_settings(cwd=tmp_path, environ={})
    assert tmp_path / ".claude/Telemetry/events.jsonl" == settings.log_path
    assert ("buffered", "redact", True) == (
        settings.durability,
        settings.privacy_policy,
        settings.enabled,
    )


def test_precedence(tmp_path: Path) -> None:
    """Each layer overrides the ones below it."""
    directory = tmp_path / ".claude/Telemetry"
    directory.mkdir(parents=True)
    (directory / "config.toml").write_text(
        'durability = "fsync"\nproject = "from-file"\nflush_interval = 5\n'
    )
    (tmp_path / ".env").write_text(
        "AI_TELEMETRY_PROJECT=from-dotenv\nAI_TELEMETRY_DURABILITY=write\n"
    )
    env = {"AI_TELEMETRY_PROJECT": "from-env"}
    settings = load_settings(cwd=tmp_path, environ=env)
    assert ("from-env", "write", 5.0) == (
        settings.project,
        settings.durability,
        settings.flush_interval,
    )
    argued = load_settings(cwd=tmp_path, environ=env, project="from-argument")
    assert "from-argument" == argued.project


def test_config_sections_are_kept_as_extra(tmp_path: Path) -> None:
    """Tables for later stages ([rules], [notify]) are passed through untouched."""
    directory = tmp_path / "T"
    directory.mkdir()
    (directory / "config.toml").write_text("[rules.skill_error_spike]\nthreshold = 0.15\n")
    settings = load_settings(cwd=tmp_path, environ={"AI_TELEMETRY_DIR": str(directory)})
    assert {"skill_error_spike": {"threshold": 0.15}} == settings.extra["rules"]


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"AI_TELEMETRY_ENABLED": "maybe"}, "AI_TELEMETRY_ENABLED"),
        ({"AI_TELEMETRY_DURABILITY": "sometimes"}, "buffered, write or fsync"),
        ({"AI_TELEMETRY_FLUSH_INTERVAL": "0"}, "(0, 60]"),
        ({"AI_TELEMETRY_TOOL_CALL_LIMIT": "many"}, "whole number"),
    ],
)
def test_bad_values_say_what_and_how(tmp_path: Path, env: dict[str, str], words: str) -> None:
    """A malformed variable raises ConfigError naming it and the allowed values."""
    with pytest.raises(ConfigError) as caught:
        load_settings(cwd=tmp_path, environ=env)
    assert words in str(caught.value)


def test_broken_config_file_names_the_file(tmp_path: Path) -> None:
    """Invalid TOML is reported with the file's path."""
    directory = tmp_path / ".claude/Telemetry"
    directory.mkdir(parents=True)
    (directory / "config.toml").write_text("durability = \n")
    with pytest.raises(ConfigError) as caught:
        load_settings(cwd=tmp_path, environ={})
    assert "config.toml" in str(caught.value)


def test_telemetry_dir_that_is_a_file_says_so(tmp_path: Path) -> None:
    """AI_TELEMETRY_DIR naming a file gets an error about the directory, not about config.toml."""
    (tmp_path / "telemetry").write_text("not a directory")
    with pytest.raises(ConfigError) as caught:
        load_settings(cwd=tmp_path, environ={"AI_TELEMETRY_DIR": str(tmp_path / "telemetry")})
    assert f"{tmp_path / 'telemetry'} is a file, not the telemetry directory" in str(caught.value)


def test_settings_are_immutable_and_replaceable() -> None:
    """Settings cannot be changed in place; replace() gives a changed copy."""
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.durability = "write"  # type: ignore[misc]
    changed = settings.replace(durability="write")
    assert ("buffered", "write") == (settings.durability, changed.durability)
    assert changed == Settings(durability="write")


def test_repository_paths_inside_the_project_are_kept(tmp_path: Path) -> None:
    """A relative log_path in .env that stays inside the project is used, nothing refused."""
    (tmp_path / ".env").write_text("AI_TELEMETRY_LOG_PATH=logs/events.jsonl\n")
    settings = load_settings(cwd=tmp_path, environ={})
    assert (tmp_path / "logs/events.jsonl", ()) == (settings.log_path, settings.refused)


def test_repository_log_path_through_a_directory_symlink_is_refused(tmp_path: Path) -> None:
    """config.toml's log_path via a committed link to a folder outside is refused: default used."""
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    (project / ".claude/Telemetry").mkdir(parents=True)
    (project / "logs").symlink_to(outside)
    (project / ".claude/Telemetry/config.toml").write_text('log_path = "logs/events.jsonl"\n')
    settings = load_settings(cwd=project, environ={})
    assert project / ".claude/Telemetry/events.jsonl" == settings.log_path
    assert 1 == len(settings.refused)
    assert "points outside the project" in settings.refused[0]


def test_environment_and_arguments_may_point_anywhere(tmp_path: Path) -> None:
    """The user's own environment and an argument are not the repository's: never refused."""
    target = tmp_path.parent / "elsewhere" / "events.jsonl"
    from_env = load_settings(cwd=tmp_path, environ={"AI_TELEMETRY_LOG_PATH": str(target)})
    from_arg = load_settings(cwd=tmp_path, environ={}, log_path=target)
    assert (target, ()) == (from_env.log_path, from_env.refused)
    assert (target, ()) == (from_arg.log_path, from_arg.refused)


def test_refused_is_not_a_config_key(tmp_path: Path) -> None:
    """'refused' in config.toml is an unknown section value, not a setting."""
    directory = tmp_path / ".claude/Telemetry"
    directory.mkdir(parents=True)
    (directory / "config.toml").write_text('refused = "x"\n')
    settings = load_settings(cwd=tmp_path, environ={})
    assert ((), "x") == (settings.refused, settings.extra["refused"])


def test_safe_url_hides_every_password() -> None:
    """Messages name a store URL without its password, whatever the password holds."""
    from ai_telemetry.config import safe_url

    cases = {
        "postgresql://u:s3cret@db:5432/t": "postgresql://u:***@db:5432/t",
        "postgresql://u:a/b@c@db/t": "postgresql://u:***@db/t",
        "postgresql://u@db/t": "postgresql://u@db/t",
        "postgresql://db/t": "postgresql://db/t",
        "duckdb": "duckdb",
    }
    assert {url: safe_url(url) for url in cases} == cases
