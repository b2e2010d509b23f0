"""``schedule install``: the seed's crontab line, added once; a systemd timer on request.

cron itself may not be installed where the tests run, so a stand-in ``crontab`` script (a real
process, passed with ``--crontab`` / ``crontab=``) keeps the table in a file: ``-l`` prints it
(or fails with "no crontab for user" like the real one), ``-`` replaces it from stdin.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from ai_telemetry.cli import cli
from ai_telemetry.errors import ConfigError
from ai_telemetry.schedule import install_cron, remove_cron, systemd_units

FAKE_CRONTAB = """#!/bin/sh
table="$CRONTAB_FILE"
if [ "$1" = "-l" ]; then
  if [ -f "$table" ]; then cat "$table"; exit 0; fi
  echo "no crontab for $(id -un)" >&2; exit 1
fi
if [ "$1" = "-" ]; then cat > "$table"; exit 0; fi
echo "usage: crontab [-l | -]" >&2; exit 2
"""


@pytest.fixture
def crontab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """(path of the stand-in crontab program, the file holding the table)."""
    program = tmp_path / "bin" / "crontab"
    program.parent.mkdir()
    program.write_text(FAKE_CRONTAB)
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    table = tmp_path / "crontab.txt"
    monkeypatch.setenv("CRONTAB_FILE", str(table))
    return str(program), table


def test_install_adds_the_seeds_line(crontab: tuple[str, Path], tmp_path: Path) -> None:
    """An empty crontab gets the Monday 09:00 line that cds into the repo and runs weekly."""
    program, table = crontab
    result = install_cron(tmp_path, command="ai-telemetry", crontab=program)
    assert result.changed
    assert table.read_text().splitlines() == [
        f"0 9 * * 1 cd {tmp_path.resolve()} && ai-telemetry weekly # ai-telemetry weekly"
    ]


def test_install_twice_adds_one_line(crontab: tuple[str, Path], tmp_path: Path) -> None:
    """Installing again changes nothing."""
    program, table = crontab
    install_cron(tmp_path, command="ai-telemetry", crontab=program)
    again = install_cron(tmp_path, command="/other/ai-telemetry", crontab=program)
    assert (again.changed, len(table.read_text().splitlines())) == (False, 1)


def test_install_keeps_other_lines(crontab: tuple[str, Path], tmp_path: Path) -> None:
    """Existing crontab entries stay, in order, before the new line."""
    program, table = crontab
    table.write_text("MAILTO=me@example.com\n30 2 * * * backup.sh")
    install_cron(tmp_path, command="ai-telemetry", crontab=program)
    lines = table.read_text().splitlines()
    assert lines[:2] == ["MAILTO=me@example.com", "30 2 * * * backup.sh"]
    assert lines[2].endswith("ai-telemetry weekly # ai-telemetry weekly")


def test_seed_line_written_by_hand_counts_as_installed(
    crontab: tuple[str, Path], tmp_path: Path
) -> None:
    """The seed's own line for this repo is recognised; nothing is added."""
    program, table = crontab
    table.write_text(f"0 9 * * 1 cd {tmp_path.resolve()} && ai-telemetry weekly\n")
    assert not install_cron(tmp_path, crontab=program).changed


def test_remove_takes_only_our_line(crontab: tuple[str, Path], tmp_path: Path) -> None:
    """remove deletes the weekly line and keeps the rest."""
    program, table = crontab
    table.write_text("30 2 * * * backup.sh\n")
    install_cron(tmp_path, command="ai-telemetry", crontab=program)
    assert remove_cron(tmp_path, crontab=program).changed
    assert table.read_text() == "30 2 * * * backup.sh\n"


def test_missing_crontab_says_what_to_do(tmp_path: Path) -> None:
    """No crontab program: a ConfigError suggesting cron or --systemd."""
    with pytest.raises(ConfigError, match="--systemd"):
        install_cron(tmp_path, crontab=str(tmp_path / "no-such-crontab"))


def test_systemd_timer_runs_on_mondays_at_nine(tmp_path: Path) -> None:
    """The timer has the seed's schedule; the service runs weekly in the repo."""
    units = systemd_units(tmp_path, command="/usr/local/bin/ai-telemetry")
    assert "OnCalendar=Mon *-*-* 09:00:00" in units["ai-telemetry-weekly.timer"]
    service = units["ai-telemetry-weekly.service"]
    assert f"WorkingDirectory={tmp_path.resolve()}" in service
    assert "ExecStart=/usr/local/bin/ai-telemetry weekly" in service


def test_cli_install_is_idempotent(crontab: tuple[str, Path], tmp_path: Path) -> None:
    """`schedule install` twice: "added" then "already in crontab"."""
    program, table = crontab
    args = ["schedule", "install", "--repo", str(tmp_path), "--crontab", program]
    first = CliRunner().invoke(cli, args)
    second = CliRunner().invoke(cli, args)
    assert first.stdout.startswith("added to crontab: 0 9 * * 1 cd ")
    assert second.stdout.startswith("already in crontab, unchanged")
    assert len(table.read_text().splitlines()) == 1


def test_cli_systemd_prints_units(tmp_path: Path) -> None:
    """`schedule install --systemd` prints both units and how to enable them."""
    result = CliRunner().invoke(cli, ["schedule", "install", "--systemd", "--repo", str(tmp_path)])
    assert result.exit_code == 0
    assert "OnCalendar=Mon *-*-* 09:00:00" in result.stdout
    assert "systemctl --user enable --now ai-telemetry-weekly.timer" in result.stdout
