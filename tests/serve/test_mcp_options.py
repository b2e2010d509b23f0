"""The MCP server's options: --http on loopback only, [mcp] enable_write, the window argument."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from ai_telemetry.analyze.window import parse_window
from ai_telemetry.cli import cli
from ai_telemetry.config import load_settings
from ai_telemetry.errors import AnalyticsError, ConfigError
from ai_telemetry.serve.mcp import parse_address, write_enabled


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8765", ("127.0.0.1", 8765)),
        ("localhost:0", ("localhost", 0)),
        ("[::1]:9000", ("::1", 9000)),
        ("127.1.2.3:80", ("127.1.2.3", 80)),
    ],
)
def test_loopback_addresses_are_accepted(text: str, expected: tuple[str, int]) -> None:
    """Every loopback form parses to (host, port)."""
    assert expected == parse_address(text)


@pytest.mark.parametrize("text", ["0.0.0.0:8765", "10.0.0.5:80", "example.com:80", "[::]:80"])
def test_other_hosts_are_refused_naming_the_tokens(text: str) -> None:
    """Not loopback: refused until the team server's tokens exist."""
    with pytest.raises(ConfigError, match=r"not a loopback address.*issue 15"):
        parse_address(text)


@pytest.mark.parametrize("text", ["8765", "127.0.0.1", "127.0.0.1:http", ":80", "h:70000"])
def test_malformed_addresses_show_the_form(text: str) -> None:
    """Not HOST:PORT: the message shows an example."""
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_address(text)


def _settings(tmp_path: Path, toml: str) -> object:
    (tmp_path / "config.toml").write_text(toml)
    return load_settings(telemetry_dir=tmp_path)


def test_write_is_off_by_default_and_on_by_flag_or_config(tmp_path: Path) -> None:
    """No [mcp]: off; the flag turns it on; enable_write = true too."""
    off = load_settings(telemetry_dir=tmp_path)
    assert (False, True) == (write_enabled(off, flag=False), write_enabled(off, flag=True))
    on = _settings(tmp_path, "[mcp]\nenable_write = true\n")
    assert write_enabled(on, flag=False)  # type: ignore[arg-type]


def test_a_non_boolean_enable_write_is_a_config_error(tmp_path: Path) -> None:
    """enable_write = "yes": one line naming the file, the section and the value."""
    settings = _settings(tmp_path, '[mcp]\nenable_write = "yes"\n')
    with pytest.raises(ConfigError, match=r"config\.toml: \[mcp\] enable_write = 'yes'"):
        write_enabled(settings, flag=False)  # type: ignore[arg-type]


def test_window_forms() -> None:
    """7d is the 7 days ending now; START/END is that interval."""
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    last = parse_window("7d", now=now)
    assert (datetime(2026, 11, 26, 12, tzinfo=UTC), now) == (last.start, last.end)
    span = parse_window("2026-11-01/2026-11-08")
    assert (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)) == (
        span.start,
        span.end,
    )


@pytest.mark.parametrize("text", ["yesterday", "0d", "2026-11-01", "2026-11-08/2026-11-01"])
def test_bad_windows_are_analytics_errors(text: str) -> None:
    """Neither form, an empty span, or an end before the start: a clear error."""
    with pytest.raises(AnalyticsError):
        parse_window(text)


def test_learning_new_warns_when_the_guard_replaced_the_title(tmp_path: Path) -> None:
    """learning new goes through the same guard: marker in the file, a warning on stderr."""
    result = CliRunner().invoke(
        cli,
        ["learning", "new", "--dir", str(tmp_path), "--title", "token ghp_" + "a1B2" * 9],
        env={"AI_TELEMETRY_DIR": str(tmp_path / "t")},
    )
    assert 0 == result.exit_code, result.output
    assert "privacy guard replaced --title" in result.stderr
    written = next(tmp_path.glob("LEARN-*.md")).read_text()
    assert "ghp_" not in written and "[REDACTED:" in written
