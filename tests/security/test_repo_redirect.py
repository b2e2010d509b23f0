"""A cloned repository cannot redirect writes (issue 20 §1).

Each test makes a real upstream repository with ``git``, clones it, and drives the CLI, the
SDK and the Claude Code hook as separate processes in the clone; the user's ``~/.bashrc`` (in
a fake home) must come out byte for byte as it went in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("ai-telemetry"))
BASHRC = b"# the user's shell setup\nexport PATH=$HOME/bin:$PATH\n"
SDK_SCRIPT = (
    "import ai_telemetry\n"
    "ai_telemetry.log_session_end('test-writer', 'success', 1.5)\n"
    "print(ai_telemetry.get_client().settings.log_path)\n"
)
HOOK_PAYLOAD = {
    "session_id": "sess-clone",
    "hook_event_name": "PostToolUse",
    "tool_name": "Bash",
    "tool_use_id": "toolu_1",
    "tool_input": {"command": "ls"},
    "tool_response": {"type": "text"},
}


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=30,
    )


class Clone:
    """A fake home with a .bashrc, and a clone of a repository carrying the given files."""

    def __init__(self, root: Path, files: dict[str, str], links: dict[str, str]) -> None:
        self.home = root / "home"
        self.home.mkdir()
        self.bashrc = self.home / ".bashrc"
        self.bashrc.write_bytes(BASHRC)
        upstream = root / "upstream"
        upstream.mkdir()
        _git("init", "-q", cwd=upstream)
        (upstream / "README.md").write_text("a project\n")
        for rel, text in files.items():
            path = upstream / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace("{HOME}", str(self.home)))
        for rel, target in links.items():
            path = upstream / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(target.replace("{HOME}", str(self.home)))
        _git("add", "-A", cwd=upstream)
        _git("commit", "-q", "-m", "innocent", cwd=upstream)
        self.dir = root / "clone"
        _git("clone", "-q", str(upstream), str(self.dir), cwd=root)
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AI_TELEMETRY_", "CLAUDE_"))
        }
        self.env.update(
            HOME=str(self.home),
            AI_TELEMETRY_STATE_DIR=os.environ["AI_TELEMETRY_STATE_DIR"],
            AI_TELEMETRY_HOOK_DAEMON="0",
        )

    def run(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            cwd=self.dir,
            env=self.env,
            input=stdin.decode(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(CLI, *args)

    def sdk(self) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-c", SDK_SCRIPT)

    def hook(self) -> tuple[subprocess.CompletedProcess[str], float]:
        began = time.monotonic()
        proc = subprocess.run(
            [CLI, "hook"],
            cwd=self.dir,
            env={**self.env, "CLAUDE_PROJECT_DIR": str(self.dir)},
            input=json.dumps(HOOK_PAYLOAD),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return proc, time.monotonic() - began

    def log_cmd(self) -> subprocess.CompletedProcess[str]:
        return self.cli("log", "skill_execution", "-f", "skill=t", "-f", "outcome=success")

    def own_log(self) -> list[dict[str, object]]:
        path = self.dir / ".claude/Telemetry/events.jsonl"
        if path.is_symlink() or not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


def test_committed_symlink_log_is_never_followed(tmp_path: Path) -> None:
    """events.jsonl -> ~/.bashrc: the CLI fails in one line, SDK and hook swallow it, doctor
    names the link, and .bashrc is untouched."""
    clone = Clone(tmp_path, {}, {".claude/Telemetry/events.jsonl": "{HOME}/.bashrc"})
    assert (clone.dir / ".claude/Telemetry/events.jsonl").is_symlink()

    cli = clone.log_cmd()
    sdk = clone.sdk()
    hook, took = clone.hook()
    doctor = clone.cli("doctor")

    assert BASHRC == clone.bashrc.read_bytes()
    assert (1, 1) == (cli.returncode, len(cli.stderr.splitlines())), cli.stderr
    assert "is a symbolic link" in cli.stderr
    assert (0, "") == (sdk.returncode, sdk.stderr)
    assert (0, "", "") == (hook.returncode, hook.stdout, hook.stderr)
    assert took < 1.0
    assert 1 == doctor.returncode
    assert "is a symbolic link to" in doctor.stdout, doctor.stdout


def test_committed_spool_and_lock_symlinks_are_never_followed(tmp_path: Path) -> None:
    """The lock file as a link: the write is refused in one line, the target untouched."""
    clone = Clone(tmp_path, {}, {".claude/Telemetry/events.jsonl.lock": "{HOME}/.bashrc"})
    cli = clone.log_cmd()
    assert BASHRC == clone.bashrc.read_bytes()
    assert (1, 1) == (cli.returncode, len(cli.stderr.splitlines())), cli.stderr
    assert "symbolic link" in cli.stderr


@pytest.mark.parametrize(
    "files",
    [
        {".claude/Telemetry/config.toml": 'log_path = "{HOME}/.bashrc"\n'},
        {".env": "AI_TELEMETRY_LOG_PATH={HOME}/.bashrc\n"},
        {".env": "AI_TELEMETRY_LOG_PATH=../home/.bashrc\n"},
        {".env": "AI_TELEMETRY_DIR={HOME}\n"},
    ],
    ids=["config.toml", ".env absolute", ".env relative", ".env dir"],
)
def test_repository_log_path_outside_the_project_is_refused(
    tmp_path: Path, files: dict[str, str]
) -> None:
    """log_path from the repository's config.toml or .env pointing at ~/.bashrc is ignored
    (the project's own log is used), said in one line by the CLI and shown by doctor."""
    clone = Clone(tmp_path, files, {})

    cli = clone.log_cmd()
    sdk = clone.sdk()
    hook, took = clone.hook()
    doctor = clone.cli("doctor")

    assert BASHRC == clone.bashrc.read_bytes()
    assert not (clone.home / "events.jsonl").exists()
    warning = [line for line in cli.stderr.splitlines() if "warning" in line]
    assert 0 == cli.returncode, cli.stderr
    assert 1 == len(warning), cli.stderr
    assert "points outside the project" in warning[0]
    assert (0, "") == (sdk.returncode, sdk.stderr)
    assert str(clone.dir / ".claude/Telemetry/events.jsonl") == sdk.stdout.strip()
    assert (0, "", "") == (hook.returncode, hook.stdout, hook.stderr)
    assert took < 1.0
    assert ["cli", "sdk", "hook"] == [e.get("source") for e in clone.own_log()]
    assert "warn  repository paths: ignored" in doctor.stdout, doctor.stdout


def test_committed_symlinked_telemetry_folder_is_refused(tmp_path: Path) -> None:
    """.claude/Telemetry -> ~ : a one-line config error, nothing written in the home."""
    clone = Clone(tmp_path, {}, {".claude/Telemetry": "{HOME}"})
    cli = clone.log_cmd()
    hook, _took = clone.hook()
    sdk = clone.sdk()
    assert (2, 1) == (cli.returncode, len(cli.stderr.splitlines())), cli.stderr
    assert "outside the project" in cli.stderr
    assert (0, 0) == (hook.returncode, sdk.returncode)
    assert BASHRC == clone.bashrc.read_bytes()
    assert [".bashrc"] == sorted(p.name for p in clone.home.iterdir())  # no hook-status.json
    status = Path(os.environ["AI_TELEMETRY_STATE_DIR"]) / "sdk-status.jsonl"
    problems = [json.loads(line) for line in status.read_text().splitlines()]
    hook_errors = [p["message"] for p in problems if p["kind"] == "hook_error"]
    assert 1 == len(hook_errors), problems
    assert "ConfigError" in hook_errors[0] and "outside the project" in hook_errors[0]


def test_users_own_environment_may_point_outside(tmp_path: Path) -> None:
    """AI_TELEMETRY_LOG_PATH exported by the user (not the repository) is honoured."""
    clone = Clone(tmp_path, {}, {})
    elsewhere = tmp_path / "mine" / "events.jsonl"
    clone.env["AI_TELEMETRY_LOG_PATH"] = str(elsewhere)
    cli = clone.log_cmd()
    warnings = [line for line in cli.stderr.splitlines() if "warning" in line]
    assert (0, []) == (cli.returncode, warnings)
    assert 1 == len(elsewhere.read_text().splitlines())


@pytest.mark.parametrize(
    "planted",
    [
        "warehouse.duckdb.wal",
        "warehouse.duckdb",
        "metrics.json.tmp",
        "alerts.log",
        "git-hook-errors.log",
    ],
)
def test_other_telemetry_files_planted_as_symlinks_are_not_written_through(
    tmp_path: Path, planted: str
) -> None:
    """A committed link in place of the warehouse, its WAL, a temp file or alerts.log: the
    analytics and alert commands leave ~/.bashrc alone and fail, if at all, in one line."""
    events = "".join(
        json.dumps(
            {
                "timestamp": f"2025-12-{day:02d}T10:00:00Z",
                "event_type": "skill_execution",
                "skill": "s",
                "outcome": "success" if day % 3 else "error",
                "duration_seconds": 2.0,
            }
        )
        + "\n"
        for day in range(1, 28)
    )
    clone = Clone(
        tmp_path,
        {".claude/Telemetry/events.jsonl": events},
        {f".claude/Telemetry/{planted}": "{HOME}/.bashrc"},
    )
    for command in (["status"], ["aggregate"], ["detect"], ["query", "SELECT 1"]):
        proc = clone.cli(*command)
        assert len(proc.stderr.strip().splitlines()) <= 1, (command, proc.stderr)
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    time.sleep(1.5)  # a background warehouse build started by aggregate
    assert BASHRC == clone.bashrc.read_bytes()
    assert (clone.dir / f".claude/Telemetry/{planted}").is_symlink()


def test_committed_hook_state_directory_link_creates_nothing_in_home(tmp_path: Path) -> None:
    """.claude/Telemetry/hook-state -> ~ : the hook still writes its event, and no session
    state or cache file appears in the home (the directory link is refused)."""
    clone = Clone(tmp_path, {}, {".claude/Telemetry/hook-state": "{HOME}"})
    hook, took = clone.hook()
    assert (0, "", "") == (hook.returncode, hook.stdout, hook.stderr)
    assert took < 1.0, took
    assert [".bashrc"] == sorted(p.name for p in clone.home.iterdir())
    assert ["Bash"] == [e.get("tool") for e in clone.own_log()]


def test_committed_log_spool_directory_link_is_neither_written_nor_replayed(
    tmp_path: Path,
) -> None:
    """.claude/Telemetry/events.jsonl.spool -> ~/data: the next write does not append the
    user's *.jsonl files found there to the log, nor delete them; a held lock spools nothing
    there either (one-line error)."""
    clone = Clone(tmp_path, {}, {".claude/Telemetry/events.jsonl.spool": "{HOME}/data"})
    data = clone.home / "data"
    data.mkdir()
    (data / "notes.jsonl").write_text('{"mine": true}\n')
    assert 0 == clone.log_cmd().returncode
    assert [{"mine": True}] == [
        json.loads(x) for x in (data / "notes.jsonl").read_text().splitlines()
    ]
    assert all("mine" not in e for e in clone.own_log())
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom ai_telemetry.log.writer import writers_lock\n"
            "with writers_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n",
            str(clone.dir / ".claude/Telemetry/events.jsonl"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert "held" == holder.stdout.readline().strip()
        cli = clone.log_cmd()
    finally:
        holder.terminate()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    assert (1, 1) == (cli.returncode, len(cli.stderr.splitlines())), cli.stderr
    assert "symbolic link" in cli.stderr
    assert ["notes.jsonl"] == sorted(p.name for p in data.iterdir())
