"""A full or read-only disk (issue 20 §7): one clear line, a non-zero exit, no half-built
warehouse left behind, and ``doctor`` telling free space and read-only mounts right."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_telemetry.doctor import human_bytes

CLI = str(Path(sys.executable).with_name("ai-telemetry"))


def _events(count: int, *, start: int = 0) -> bytes:
    lines = [
        json.dumps(
            {
                "timestamp": f"2025-12-{1 + n % 28:02d}T10:00:00Z",
                "event_type": "skill_execution",
                "skill": f"skill-{n % 7}",
                "outcome": "success",
                "duration_seconds": 1.5,
                "event_id": f"e{n:06d}",
            }
        )
        for n in range(start, start + count)
    ]
    return ("\n".join(lines) + "\n").encode()


def _run(*args: str, telemetry: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        cwd=telemetry.parent,
        env={**os.environ, "AI_TELEMETRY_DIR": str(telemetry)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _fill(directory: Path) -> Path:
    """Write a filler file until the disk is full; return it."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert errno.ENOSPC == exc.errno
    return filler


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode not in (0, 70), (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert 1 == len(lines), proc.stderr
    assert lines[0].startswith("ai-telemetry: error: "), lines[0]
    assert "internal error" not in lines[0] and "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def full_telemetry(small_disk: Path) -> Path:
    """A telemetry directory on the 2 MB disk whose 620 kB log needs a larger warehouse."""
    telemetry = small_disk / "Telemetry"
    telemetry.mkdir()
    (telemetry / "events.jsonl").write_bytes(_events(4000))
    return telemetry


@pytest.mark.parametrize("command", [["status"], ["aggregate"], ["query", "SELECT 1"]])
def test_warehouse_command_on_a_full_disk_is_one_line(
    full_telemetry: Path, command: list[str]
) -> None:
    """status, aggregate, query: 'no space left on device' in one line, exit 1, and no
    warehouse.duckdb (nor its WAL) left half-written."""
    proc = _run(*command, telemetry=full_telemetry)
    line = _one_error_line(proc)
    assert "no space left on device" in line
    assert 1 == proc.returncode
    left = sorted(p.name for p in full_telemetry.iterdir() if p.name.startswith("warehouse"))
    assert [n for n in left if not n.endswith(".lock")] == []


def test_log_on_a_full_disk_is_one_line_and_leaves_no_fragment(small_disk: Path) -> None:
    """ai-telemetry log on a full disk: one line naming the log, exit 1, the log unchanged."""
    telemetry = small_disk / "Telemetry"
    telemetry.mkdir()
    log = telemetry / "events.jsonl"
    data = _events(10)
    pad = 8192 - len(data) - len(b'{"pad":""}\n')  # end on a page boundary: no slack left
    log.write_bytes(data + b'{"pad":"' + b"x" * pad + b'"}\n')
    before = log.read_bytes()
    assert 8192 == len(before)
    _fill(small_disk)
    proc = _run(
        "log", "skill_execution", "-f", "skill=x", "-f", "outcome=success", telemetry=telemetry
    )
    line = _one_error_line(proc)
    assert f"{log}: cannot append (No space left on device)" in line
    assert before == log.read_bytes()


def test_existing_warehouse_survives_a_full_disk(small_disk: Path) -> None:
    """A warehouse built earlier is left as it was when the disk fills during an update, and
    the next run after space is freed brings it up to date."""
    telemetry = small_disk / "Telemetry"
    telemetry.mkdir()
    log = telemetry / "events.jsonl"
    log.write_bytes(_events(50))
    # an empty warehouse takes about 2.9 MB: grow the disk to build one first
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    assert 0 == _run("status", telemetry=telemetry).returncode
    count = "SELECT count(*) AS n FROM events"
    assert [{"n": 50}] == json.loads(
        _run("query", count, "--format", "json", telemetry=telemetry).stdout
    )
    with log.open("ab") as fh:
        fh.write(_events(3000, start=50))
    filler = _fill(small_disk)
    line = _one_error_line(_run("status", telemetry=telemetry))
    assert "no space left on device" in line and "the warehouse is as it was" in line
    filler.unlink()
    log.write_bytes(_events(100))  # smaller again, so the rebuild fits in 2 MB
    proc = _run("query", count, "--format", "json", telemetry=telemetry)
    assert [{"n": 100}] == json.loads(proc.stdout), proc.stderr


def test_doctor_tells_free_space_from_statvfs(small_disk: Path) -> None:
    """doctor shows what statvfs f_bavail says (2.1 MB on an empty 2 MB disk), and fails a
    nearly full disk."""
    telemetry = small_disk / "Telemetry"
    telemetry.mkdir()
    st = os.statvfs(telemetry)
    proc = _run("doctor", telemetry=telemetry)
    expected = f"{human_bytes(st.f_bavail * st.f_frsize)} free of {human_bytes(2 * 1024**2)}"
    disk = [line for line in proc.stdout.splitlines() if " disk: " in line]
    assert 1 == len(disk), proc.stdout
    assert disk[0].startswith("fail  disk: ") and expected in disk[0], disk[0]
    assert "2.1 MB free" in disk[0]


def test_doctor_says_when_the_mount_is_read_only(small_disk: Path) -> None:
    """On a read-only mount doctor fails the disk check and says read-only, in one line."""
    telemetry = small_disk / "Telemetry"
    telemetry.mkdir()
    (telemetry / "events.jsonl").write_bytes(_events(5))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    proc = _run("doctor", telemetry=telemetry)
    disk = [line for line in proc.stdout.splitlines() if " disk: " in line]
    assert 1 == len(disk), proc.stdout
    assert "on a read-only mount" in disk[0] and disk[0].startswith("fail"), disk[0]
    assert 1 == proc.returncode
    status = _run("status", telemetry=telemetry)
    assert "read-only file system" in _one_error_line(status).lower()
