"""The two spools (issue 20 §4): doctor shows both in one check, the hook's keeps no secrets."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ai_telemetry.collect.claude_code.hook_client import spool_dir, write_spool_file
from ai_telemetry.collect.claude_code.hook_spool import spool_events
from ai_telemetry.config import load_settings
from ai_telemetry.doctor import run_checks
from ai_telemetry.log.writer import spool_dir_for


def test_doctor_describes_both_spools_in_one_check(telemetry_dir: Path, tmp_path: Path) -> None:
    """A batch in events.jsonl.spool/ and a call in hook-spool/: one `spool` check names both."""
    settings = load_settings(cwd=tmp_path)
    log_spool = spool_dir_for(settings.log_path)
    log_spool.mkdir(parents=True)
    (log_spool / "00000000000000000001-1-1.jsonl").write_bytes(b'{"a":1}\n{"a":2}\n')
    assert write_spool_file(spool_dir(os.environ), "0000000000000000001-ab.req", b"frame")
    checks = [c for c in run_checks(settings, project=tmp_path, home=tmp_path) if "spool" in c.name]
    assert ["spool"] == [c.name for c in checks]
    detail, fix = checks[0].detail, checks[0].fix
    assert f"2 event(s) in 1 file(s) in {log_spool}" in detail, detail
    assert f"1 hook call(s) waiting in {spool_dir(os.environ)}" in detail, detail
    assert "next write" in fix and "hook daemon" in fix, fix


def test_hook_event_spool_keeps_only_the_variables_it_needs(tmp_path: Path) -> None:
    """An .ev file keeps AI_TELEMETRY_* and the forwarded variables, not an API key."""
    env = {
        "AI_TELEMETRY_STATE_DIR": str(tmp_path),
        "HOME": str(tmp_path),
        "CLAUDE_PROJECT_DIR": str(tmp_path),
        "ANTHROPIC_API_KEY": "sk-ant-secret",
    }
    where = spool_events(env, str(tmp_path), "0000000000000000002-cd", [{"event_type": "x"}])
    assert where is not None
    kept = json.loads((Path(where) / "0000000000000000002-cd.ev").read_bytes())
    assert {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"} == kept["env"]
