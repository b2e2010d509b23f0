"""``ai-telemetry import otlp``: files into the log, once, through the privacy guard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

from ai_telemetry.collect.otlp.importer import STATE_FILE, import_otlp_file
from ai_telemetry.config import Settings, load_settings
from ai_telemetry.errors import CollectorError

DATA = Path(__file__).parent.parent / "data" / "otlp"
CLI = Path(sys.executable).with_name("ai-telemetry")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh telemetry directory."""
    return load_settings(environ={}, cwd=tmp_path, telemetry_dir=tmp_path / "telemetry")


def _logged(settings: Settings) -> list[dict[str, Any]]:
    if not settings.log_path.exists():
        return []
    return [orjson.loads(x) for x in settings.log_path.read_bytes().splitlines() if x.strip()]


def test_jsonl_file_is_imported_through_the_sink(settings: Settings) -> None:
    """Both requests of the collector-style JSON Lines file land in the log, source otlp."""
    report = import_otlp_file(DATA / "claude_code_logs.jsonl", settings=settings)
    logged = _logged(settings)
    assert (report.requests, report.result.records, report.written, len(logged)) == (2, 10, 8, 8)
    assert {e["source"] for e in logged} == {"otlp"}
    assert sum(e.get("output_tokens", 0) for e in logged) == 385 + 96


def test_the_same_file_twice_adds_nothing(settings: Settings) -> None:
    """A second import of the same content is skipped from the state file."""
    import_otlp_file(DATA / "claude_code_logs.jsonl", settings=settings)
    before = settings.log_path.read_bytes()
    again = import_otlp_file(DATA / "claude_code_logs.jsonl", settings=settings)
    assert (again.already_imported, settings.log_path.read_bytes()) == (True, before)
    assert (settings.telemetry_dir / STATE_FILE).is_file()


def test_forced_or_grown_files_add_only_new_records(settings: Settings, tmp_path: Path) -> None:
    """A file that grew (or --force) appends only records whose event ids are not logged yet."""
    lines = (DATA / "claude_code_logs.jsonl").read_bytes().splitlines(keepends=True)
    growing = tmp_path / "collector-out.jsonl"
    growing.write_bytes(lines[0])
    first = import_otlp_file(growing, settings=settings)
    growing.write_bytes(lines[0] + lines[1])
    second = import_otlp_file(growing, settings=settings)
    forced = import_otlp_file(growing, settings=settings, force=True)
    assert (first.written, second.written, second.duplicates) == (3, 5, 3)
    assert (forced.written, forced.duplicates, len(_logged(settings))) == (0, 8, 8)


def test_personal_data_never_reaches_the_disk(settings: Settings) -> None:
    """No prompt, command, e-mail or account id is anywhere in the log or the state file."""
    import_otlp_file(DATA / "claude_code_logs.jsonl", settings=settings)
    on_disk = settings.log_path.read_bytes() + (settings.telemetry_dir / STATE_FILE).read_bytes()
    for secret in (b"please fix", b"pytest tests/", b"dev@example.com", b"0f3c1b7e-8d2a"):
        assert secret not in on_disk


def test_protobuf_file_kind_and_format_are_detected(settings: Settings, tmp_path: Path) -> None:
    """A .pb file with no kind in its name is read as protobuf and recognised as logs."""
    request = orjson.loads((DATA / "claude_code_logs.jsonl").read_bytes().splitlines()[1])
    message = json_format.ParseDict(request, logs_service_pb2.ExportLogsServiceRequest())
    path = tmp_path / "export.pb"
    path.write_bytes(message.SerializeToString())
    report = import_otlp_file(path, settings=settings)
    assert (report.result.kind, report.written) == ("logs", 5)


def test_mixed_kinds_in_one_jsonl_file(settings: Settings, tmp_path: Path) -> None:
    """Each line is detected on its own: logs, metrics and the public trace example."""
    path = tmp_path / "all.jsonl"
    parts = [
        (DATA / "claude_code_logs.jsonl").read_bytes().splitlines()[0],
        orjson.dumps(orjson.loads((DATA / "claude_code_metrics.json").read_bytes())),
        orjson.dumps(orjson.loads((DATA / "trace.json").read_bytes())),
    ]
    path.write_bytes(b"\n".join(parts) + b"\n")
    report = import_otlp_file(path, settings=settings)
    types = sorted(e["event_type"] for e in _logged(settings))
    assert types == ["llm_request", "session_start", "tool_call", "tool_call"]
    assert report.result.skipped["span:other"] == 1


def test_a_broken_line_names_file_and_line_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    """A JSON Lines file with a bad second line is refused whole, with its line number."""
    path = tmp_path / "broken.jsonl"
    good = (DATA / "claude_code_logs.jsonl").read_bytes().splitlines()[0]
    path.write_bytes(good + b"\n{not json\n")
    with pytest.raises(CollectorError, match=r"broken\.jsonl, line 2: not valid OTLP/JSON"):
        import_otlp_file(path, settings=settings)
    assert _logged(settings) == []


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AI_TELEMETRY_DIR": str(tmp_path / "telemetry")}
    env.pop("AI_TELEMETRY_LOG_PATH", None)
    return subprocess.run(
        [str(CLI), "import", "otlp", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def test_cli_imports_then_says_already_imported(tmp_path: Path) -> None:
    """The real command prints what it wrote and skipped, then nothing new the second time."""
    path = str(DATA / "claude_code_logs.jsonl")
    first = _cli(tmp_path, path)
    second = _cli(tmp_path, path)
    assert first.returncode == 0, first.stderr
    assert "8 events written from 10 records in 2 request(s)" in first.stdout
    assert "log:user_prompt x1" in first.stdout
    assert (second.returncode, "already imported" in second.stdout) == (0, True)


def test_cli_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    """A missing file gives a one-line error naming it and a non-zero exit."""
    result = _cli(tmp_path, str(tmp_path / "missing.json"))
    assert result.returncode != 0
    assert "missing.json" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_what_the_hook_recorded_is_not_imported_again(tmp_path: Path) -> None:
    """The real hook records a tool call of a session; importing that session's OTLP export
    then leaves out its tool calls (they would count twice) and keeps the rest."""
    import io
    import json

    from ai_telemetry.collect.claude_code.hook import run_hook

    payloads = json.loads((DATA.parent / "claude_code" / "hook_payloads.json").read_text())
    session = "996a6297-0787-454a-94b8-96191aa0a22c"  # the session of the OTLP sample
    call = {**payloads["PostToolUse"], "session_id": session}
    status = run_hook(
        [],
        stdin=io.BytesIO(json.dumps(call).encode()),
        stderr=io.StringIO(),
        environ={"CLAUDE_PROJECT_DIR": str(tmp_path), "AI_TELEMETRY_RAISE": "1"},
        clock=lambda: 1_767_225_600.0,
    )
    settings = load_settings(
        environ={}, cwd=tmp_path, telemetry_dir=tmp_path / ".claude" / "Telemetry"
    )
    report = import_otlp_file(DATA / "claude_code_logs.jsonl", settings=settings)
    imported = sorted(e["event_type"] for e in _logged(settings) if e["source"] == "otlp")
    assert (status, report.covered_by_hook, report.written) == (0, 4, 4)
    assert ["llm_error", "llm_request", "llm_request", "skill_execution"] == imported
