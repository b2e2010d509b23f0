"""Import Claude Code transcripts (``~/.claude/projects/**/*.jsonl``) as telemetry events.

Per API response one ``llm_request`` (model, the four token counts, message and request ids,
estimated cost) and one ``context_snapshot`` (trigger ``turn``: input + cache write + cache
read against the model's window); per session ``session_start`` and ``session_end``.

Rules, written down because the numbers depend on them:

- **One response, one event.** Claude Code writes one line per content block of a response,
  and while streaming the copies' ``usage`` can grow. Lines are keyed by ``message.id`` plus
  ``requestId`` (message id alone when the request id is missing); each token field is the
  largest value seen among the copies; they are never summed. The event's ``event_id`` is
  derived from the key, so a response read again (a grown file, a resumed session copying old
  lines, a replaced file read from 0) carries the same id. It is re-emitted only when its usage
  grew, so among events with one id the **last written is the largest**: the warehouse keeps
  the last line per ``event_id``.
- **Incremental, linear in files.** Per file the byte offset of the last complete line is
  kept in ``import-state.json``, with the file's inode, size, modification time and a hash of
  its head. A file whose inode, size and mtime are unchanged is skipped without being opened;
  a file that shrank or changed identity is read again from 0 (ids make that harmless). The
  state is written once per run (atomically, after the events are in the log), so a re-import
  with nothing new costs one ``stat`` per file.
- **Subagents.** Files under ``<session>/subagents/agent-<id>.jsonl``, Claude Code 2.0's
  top-level ``agent-<id>.jsonl`` (sidechain) files and inline lines with ``isSidechain: true``
  are attributed (``agent``) to the agent type: from the parent's ``Agent``/``Task`` tool
  result (``agentId`` -> ``agentType`` or the call's ``subagent_type``), else ``subagent``.
  Their events carry ``task_id`` = the agent id when known. A sidechain file adds API usage to
  its session, never its ``session_start`` or ``session_end``.
- **Progress lines.** Claude Code 2.1 also nests subagent responses in ``type: "progress"``
  lines (``data.message.message.usage``). When the subagent's own file is missing they are
  the only record of that usage: they are read like assistant lines, under the same message
  id + request id key (so the same event id). When the file is there, it counts them (with
  their final usage) and the progress copies are skipped. Either way a response counts once.
- **Prices.** A model without a price (see `ai_telemetry.collect.claude_code.pricing`) is
  stored without ``cost_usd`` and reported in ``unpriced_models``, once per model per run.
- **Project.** Events carry ``project``: the name of the git repository holding the
  transcript's ``cwd``, else the folder's name.
- **Skills.** After a ``Skill`` tool call, main-chain responses are attributed to that skill
  until the next prompt typed by the user.
- **Sessions.** ``session_start`` at the first timestamp of a main transcript,
  ``session_end`` at its last with the length; both have per-session ids shared with the hook,
  and ``session_end`` moves forward as the file grows.
- Unknown record types, malformed lines and unknown fields are skipped and counted.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson

from ai_telemetry.collect.claude_code.ids import session_event_id, stable_event_id
from ai_telemetry.collect.claude_code.pricing import context_window
from ai_telemetry.config import Settings
from ai_telemetry.errors import CollectorError
from ai_telemetry.events.schema import parse_timestamp
from ai_telemetry.projectname import project_of

if TYPE_CHECKING:
    from ai_telemetry.documents.types import ImportClaudeCodeDocument

DEFAULT_ROOT: Final = Path("~/.claude/projects")
STATE_FILE: Final = "import-state.json"
KNOWN_TYPES: Final = frozenset(
    {
        "user",
        "assistant",
        "system",
        "summary",
        "file-history-snapshot",
        "queue-operation",
        "progress",
        "attachment",
        "custom-title",
        "tag",
        "last-prompt",
        "agent-name",
    }
)
"""Record types Claude Code writes; only ``user`` and ``assistant`` carry what we need."""
AGENT_TOOLS: Final = frozenset({"Agent", "Task"})
TOKEN_FIELDS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
_HEAD_BYTES: Final = 4096
_RECENT_KEYS: Final = 32
_BATCH_EVENTS: Final = 5000
_AGENT_FILE: Final = re.compile(r"agent-[0-9a-f]{6,40}")
_CANONICAL_TS: Final = re.compile(
    r"20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?Z"
)


@dataclass(slots=True)
class ImportReport:
    """What one import did."""

    files: int = 0
    lines: int = 0
    llm_requests: int = 0
    events_written: int = 0
    rejected: int = 0
    malformed_lines: int = 0
    skipped_types: Counter[str] = field(default_factory=Counter)
    restarted: list[str] = field(default_factory=list)
    opened: int = 0
    """Files opened and read (the others were unchanged: skipped on their stat alone)."""
    unchanged: int = 0
    unpriced_models: dict[str, int] = field(default_factory=dict)
    """Model -> responses stored without a cost because the price table has no price."""

    def to_document(self) -> ImportClaudeCodeDocument:
        """The ``import claude-code --json`` document."""
        from ai_telemetry.documents import header

        return {
            **header("import claude-code"),
            "files": self.files,
            "opened": self.opened,
            "unchanged": self.unchanged,
            "lines": self.lines,
            "llm_requests": self.llm_requests,
            "events_written": self.events_written,
            "rejected": self.rejected,
            "malformed_lines": self.malformed_lines,
            "skipped_types": dict(sorted(self.skipped_types.items())),
            "restarted": list(self.restarted),
            "unpriced_models": dict(self.unpriced_models),
        }


@dataclass(slots=True)
class _Response:
    """One API response, merged over its copies."""

    key: tuple[str, str]
    timestamp: str
    model: str
    usage: list[int]
    cache_1h: int
    session_id: str | None
    agent: str | None
    agent_id: str | None
    skill: str | None
    project: str | None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _timestamp(value: object) -> str | None:
    ts = _str(value)
    if ts is None:
        return None
    if _CANONICAL_TS.fullmatch(ts):  # what Claude Code writes: no need for the full parser
        return ts
    try:
        parse_timestamp(ts)
    except Exception:
        return None
    return ts


def discover(paths: Iterable[Path]) -> list[Path]:
    """Transcript files under ``paths`` (files as given, folders searched for ``*.jsonl``).

    Main transcripts come before subagent files, so agent types are known when needed.

    Raises:
        CollectorError: a path does not exist.
    """
    found: set[Path] = set()
    for given in paths:
        path = given.expanduser()
        if path.is_file():
            found.add(path.resolve())
        elif path.is_dir():
            root = path.resolve()
            for folder, _dirs, names in os.walk(root):
                found.update(Path(folder, n) for n in names if n.endswith(".jsonl"))
        else:
            raise CollectorError(
                f"{path}: no such file or folder; give a Claude Code transcript (.jsonl) or a "
                "folder of them, e.g. ~/.claude/projects"
            )
    return sorted(found, key=lambda p: (is_sidechain_file(p), str(p)))


def is_sidechain_file(path: Path) -> bool:
    """A subagent's transcript: ``subagents/agent-*.jsonl``, or ``agent-<hex id>.jsonl`` beside
    the main transcripts (Claude Code 2.0's sidechain files)."""
    return path.parent.name == "subagents" or _AGENT_FILE.fullmatch(path.stem) is not None


def _has_agent_file(path: Path, agent_id: str) -> bool:
    """Whether the subagent's own transcript is there (2.1's ``subagents/`` or 2.0's form)."""
    name = f"agent-{agent_id}.jsonl"
    return (path.parent / path.stem / "subagents" / name).is_file() or (
        path.parent / name
    ).is_file()


class TranscriptImporter:
    """Reads transcripts incrementally and writes their events through a `LogSink`.

    Args:
        settings: where the log and the import state live; ``[models]`` in config.toml may set
            context windows per model.
        state_path: the offsets file (default ``<telemetry dir>/import-state.json``).
    """

    def __init__(self, settings: Settings, *, state_path: Path | None = None) -> None:
        from ai_telemetry.collect.claude_code.pricing import PriceTable

        self.settings = settings
        self.state_path = state_path or settings.telemetry_dir / STATE_FILE
        extra = settings.extra or {}
        models = extra.get("models")
        self.model_overrides: Mapping[str, Any] = models if isinstance(models, Mapping) else {}
        self.prices = PriceTable.from_config(extra.get("pricing"))
        self.state = self._load_state()
        self._projects: dict[str, str | None] = {}
        self._unpriced: dict[str, int] = {}
        self._agent_files: dict[tuple[Path, str], bool] = {}

    def _load_state(self) -> dict[str, Any]:
        try:
            data = orjson.loads(self.state_path.read_bytes())
        except FileNotFoundError:
            data = {}
        except (OSError, orjson.JSONDecodeError) as exc:
            raise CollectorError(
                f"{self.state_path}: unreadable import state ({exc}); delete it to re-import "
                "everything (event ids make that safe)"
            ) from None
        if not isinstance(data, dict):
            data = {}
        data.setdefault("version", 1)
        if not isinstance(data.get("files"), dict):
            data["files"] = {}
        if not isinstance(data.get("agents"), dict):
            data["agents"] = {}
        return data

    def run(self, paths: Iterable[Path]) -> ImportReport:
        """Import new lines of every transcript under ``paths``.

        Events are written in batches; the state is written once, after the last batch is in
        the log (a run that dies before that is re-read next time, and ids make that harmless).

        Raises:
            CollectorError: a path does not exist, or the state file is unreadable.
            LogError: the log cannot be written.
        """
        from ai_telemetry.log.sink import LogSink

        report = ImportReport()
        sink = LogSink(self.settings, source="import")
        pending: list[dict[str, Any]] = []
        changed = False

        def flush() -> None:
            if pending:
                written = sink.write(pending)
                report.events_written += written.written
                report.rejected += len(written.rejected)
                pending.clear()

        try:
            for path in discover(paths):
                report.files += 1
                events = self._read_file(path, report)
                if events is None:
                    report.unchanged += 1
                    continue
                changed = True
                pending.extend(events)
                if len(pending) >= _BATCH_EVENTS:
                    flush()
            flush()
        finally:
            sink.close()
        if changed:
            write_state(self.state_path, self.state)
        report.unpriced_models = dict(sorted(self._unpriced.items()))
        return report

    # --- one file ---------------------------------------------------------------------------

    def _read_file(self, path: Path, report: ImportReport) -> list[dict[str, Any]] | None:
        """New events of one file, or None when its stat says nothing changed (not opened)."""
        key = str(path)
        files: dict[str, Any] = self.state["files"]
        entry = files.get(key)
        prev: dict[str, Any] = entry if isinstance(entry, dict) else {}
        try:
            st = path.stat()
        except FileNotFoundError:
            return None  # gone since it was listed (Claude Code removes old transcripts)
        except OSError as exc:
            raise CollectorError(f"{path}: cannot read ({exc.strerror or exc})") from None
        if (
            prev
            and prev.get("ino") == st.st_ino
            and prev.get("size") == st.st_size
            and prev.get("mtime_ns") == st.st_mtime_ns
        ):
            return None
        report.opened += 1
        try:
            with path.open("rb") as fh:
                st = os.fstat(fh.fileno())
                entry = prev
                prev_offset = int(prev.get("offset", 0))
                head_len = int(prev.get("head_len", 0))
                same = (
                    prev.get("ino") == st.st_ino
                    and st.st_size >= prev_offset
                    and hashlib.sha256(fh.read(head_len)).hexdigest() == prev.get("head")
                )
                if not same:
                    if prev_offset:
                        report.restarted.append(key)
                    entry = {"offset": 0}
                offset = int(entry.get("offset", 0))
                fh.seek(offset)
                data = fh.read()
                end = data.rfind(b"\n") + 1
                head_len = min(offset + end, _HEAD_BYTES)
                fh.seek(0)
                head = hashlib.sha256(fh.read(head_len)).hexdigest()
        except OSError as exc:
            raise CollectorError(f"{path}: cannot read ({exc.strerror or exc})") from None
        chunk = data[:end]
        # size and mtime as read: a line being written now (after the last newline) changes
        # neither once it is done, so the stat check above sees the file as changed again.
        entry.update(
            ino=st.st_ino,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            head=head,
            head_len=head_len,
            offset=offset + end,
        )
        files[key] = entry
        if not chunk:
            return []
        return self._parse(path, chunk, entry, report)

    def _has_agent_file(self, path: Path, agent_id: str) -> bool:
        key = (path, agent_id)
        found = self._agent_files.get(key)
        if found is None:
            found = self._agent_files[key] = _has_agent_file(path, agent_id)
        return found

    def _project(self, cwd: str | None) -> str | None:
        if cwd is None:
            return None
        if cwd not in self._projects:
            self._projects[cwd] = project_of(cwd)
        return self._projects[cwd]

    def _parse(
        self, path: Path, chunk: bytes, entry: dict[str, Any], report: ImportReport
    ) -> list[dict[str, Any]]:
        sidechain_file = is_sidechain_file(path)
        file_agent_id = path.stem[6:] if sidechain_file and path.stem.startswith("agent-") else None
        agents: dict[str, Any] = self.state["agents"]
        open_tasks: dict[str, str] = entry.setdefault("open", {})
        responses: dict[tuple[str, str], _Response] = {}
        first_ts: str | None = None
        last_ts: str | None = None
        session_id: str | None = entry.get("session")
        project: str | None = entry.get("project")
        for line in chunk.splitlines():
            if not line.strip():
                continue
            report.lines += 1
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                report.malformed_lines += 1
                continue
            if not isinstance(record, dict):
                report.malformed_lines += 1
                continue
            rtype = record.get("type")
            if rtype not in KNOWN_TYPES:
                report.skipped_types[str(rtype)] += 1
                continue
            ts = _timestamp(record.get("timestamp"))
            if ts is not None and rtype in ("user", "assistant"):
                first_ts = first_ts or ts
                last_ts = ts
            session_id = _str(record.get("sessionId")) or session_id
            cwd = _str(record.get("cwd"))
            if cwd is not None and project is None:
                project = self._project(cwd)
            sidechain = sidechain_file or record.get("isSidechain") is True
            if rtype == "progress":
                self._progress(
                    record,
                    responses,
                    open_tasks,
                    agents,
                    path,
                    session_id=session_id,
                    project=project,
                )
                continue
            message = record.get("message")
            if not isinstance(message, dict):
                continue
            agent_id = _str(record.get("agentId")) or file_agent_id
            if rtype == "user":
                self._user(record, message, open_tasks, agents, entry=entry, sidechain=sidechain)
                continue
            if rtype != "assistant":
                continue
            skill = None if sidechain else _str(entry.get("skill"))
            self._tool_uses(message, open_tasks, entry, sidechain)
            agent = self._agent_name(agent_id, path, open_tasks, agents) if sidechain else None
            self._add_response(
                responses,
                message,
                request_id=_str(record.get("requestId")),
                ts=ts,
                session_id=session_id,
                agent=agent,
                agent_id=agent_id if sidechain else None,
                skill=skill,
                project=project,
            )
        if session_id:
            entry["session"] = session_id
        if project:
            entry["project"] = project
        events = self._response_events(responses, entry, report)
        if not sidechain_file and session_id and first_ts and last_ts:
            events.extend(self._session_events(session_id, first_ts, last_ts, entry, project))
        return events

    def _add_response(
        self,
        responses: dict[tuple[str, str], _Response],
        message: Mapping[str, Any],
        *,
        request_id: str | None,
        ts: str | None,
        session_id: str | None,
        agent: str | None,
        agent_id: str | None,
        skill: str | None,
        project: str | None,
    ) -> None:
        """Merge one copy of a response into ``responses`` (largest usage, latest position)."""
        usage = message.get("usage")
        msg_id = _str(message.get("id"))
        model = _str(message.get("model"))
        if (
            not isinstance(usage, dict)
            or msg_id is None
            or model is None
            or model == "<synthetic>"
            or ts is None
        ):
            return
        rkey = (msg_id, request_id or "")
        counts = [_int(usage.get(f)) for f in TOKEN_FIELDS]
        detail = usage.get("cache_creation")
        cache_1h = _int(detail.get("ephemeral_1h_input_tokens")) if isinstance(detail, dict) else 0
        found = responses.pop(rkey, None)  # popped and put back: dicts keep the latest position
        if found is None:
            found = _Response(
                rkey, ts, model, counts, cache_1h, session_id, agent, agent_id, skill, project
            )
        else:
            found.usage = [max(a, b) for a, b in zip(found.usage, counts, strict=True)]
            found.cache_1h = max(found.cache_1h, cache_1h)
        responses[rkey] = found

    def _progress(
        self,
        record: Mapping[str, Any],
        responses: dict[tuple[str, str], _Response],
        open_tasks: dict[str, str],
        agents: Mapping[str, Any],
        path: Path,
        *,
        session_id: str | None,
        project: str | None,
    ) -> None:
        """A subagent response nested in a ``progress`` line (``data.message.message``)."""
        data = record.get("data")
        if not isinstance(data, dict) or data.get("type") != "agent_progress":
            return
        inner = data.get("message")
        if not isinstance(inner, dict) or inner.get("type") != "assistant":
            return
        message = inner.get("message")
        if not isinstance(message, dict):
            return
        agent_id = _str(data.get("agentId")) or _str(inner.get("agentId"))
        if agent_id and self._has_agent_file(path, agent_id):
            return  # that file holds the same responses, with their final usage
        parent_tool = _str(record.get("parentToolUseID"))
        agent = agents.get(agent_id) if agent_id else None
        if not isinstance(agent, str):
            agent = open_tasks.get(parent_tool) if parent_tool else None
        if agent is None:
            beside = path.parent / path.stem / "subagents" / "progress.jsonl"  # where meta.json is
            agent = self._agent_name(agent_id, beside, open_tasks, agents)
        self._add_response(
            responses,
            message,
            request_id=_str(inner.get("requestId")) or _str(record.get("requestId")),
            ts=_timestamp(inner.get("timestamp")) or _timestamp(record.get("timestamp")),
            session_id=_str(inner.get("sessionId")) or session_id,
            agent=agent,
            agent_id=agent_id,
            skill=None,
            project=project,
        )

    def _user(
        self,
        record: dict[str, Any],
        message: dict[str, Any],
        open_tasks: dict[str, str],
        agents: dict[str, Any],
        *,
        entry: dict[str, Any],
        sidechain: bool,
    ) -> None:
        content = message.get("content")
        results = (
            [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if isinstance(content, list)
            else []
        )
        result = record.get("toolUseResult")
        for block in results:
            tool_use_id = _str(block.get("tool_use_id"))
            subagent_type = open_tasks.pop(tool_use_id, None) if tool_use_id else None
            if isinstance(result, dict):
                agent_id = _str(result.get("agentId"))
                agent_type = _str(result.get("agentType")) or subagent_type
                if agent_id and agent_type:
                    agents[agent_id] = agent_type
        if not results and not sidechain and record.get("isMeta") is not True:
            entry.pop("skill", None)  # a prompt typed by the user ends the skill's turn

    def _tool_uses(
        self,
        message: dict[str, Any],
        open_tasks: dict[str, str],
        entry: dict[str, Any],
        sidechain: bool,
    ) -> None:
        content = message.get("content")
        if not isinstance(content, list):
            return
        for block in content:
            if not isinstance(block, dict) or block.get("type") != "tool_use":
                continue
            name = block.get("name")
            raw_input = block.get("input")
            tool_input: dict[str, Any] = raw_input if isinstance(raw_input, dict) else {}
            if name in AGENT_TOOLS:
                tool_use_id = _str(block.get("id"))
                if tool_use_id:
                    open_tasks[tool_use_id] = (
                        _str(tool_input.get("subagent_type")) or "general-purpose"
                    )
            elif name == "Skill" and not sidechain:
                skill = _str(tool_input.get("skill")) or _str(tool_input.get("command"))
                if skill and len(skill) <= 200:
                    entry["skill"] = skill

    def _agent_name(
        self,
        agent_id: str | None,
        path: Path,
        open_tasks: dict[str, str],
        agents: Mapping[str, Any],
    ) -> str:
        if agent_id:
            known = agents.get(agent_id)
            if isinstance(known, str):
                return known
            meta = path.with_name(f"agent-{agent_id}.meta.json")
            try:
                data = orjson.loads(meta.read_bytes())
                if isinstance(data, dict) and _str(data.get("agentType")):
                    return str(data["agentType"])
            except (OSError, orjson.JSONDecodeError):
                pass
        kinds = set(open_tasks.values())
        if len(kinds) == 1:  # the inline form: the one Task/Agent call still open
            return kinds.pop()
        return "subagent"

    def _response_events(
        self,
        responses: dict[tuple[str, str], _Response],
        entry: dict[str, Any],
        report: ImportReport,
    ) -> list[dict[str, Any]]:
        recent = entry.get("recent")
        recent = recent if isinstance(recent, dict) else {}
        events: list[dict[str, Any]] = []
        for rkey, resp in responses.items():
            label = f"{rkey[0]}|{rkey[1]}"
            before = recent.get(label)
            if (
                isinstance(before, list)
                and len(before) == 4
                and all(n >= b for n, b in zip(before, resp.usage, strict=True))
            ):
                continue  # emitted already with at least this usage
            recent.pop(label, None)
            recent[label] = resp.usage
            report.llm_requests += 1
            events.extend(self._events_of(resp))
        entry["recent"] = dict(list(recent.items())[-_RECENT_KEYS:])
        return events

    def _events_of(self, resp: _Response) -> list[dict[str, Any]]:
        inp, out, write, read = resp.usage
        usage = {
            "input_tokens": inp,
            "output_tokens": out,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_1h_input_tokens": resp.cache_1h},
        }
        common: dict[str, Any] = {"timestamp": resp.timestamp}
        if resp.project:
            common["project"] = resp.project
        if resp.session_id:
            common["session_id"] = resp.session_id
        if resp.agent_id:
            common["task_id"] = resp.agent_id
        request: dict[str, Any] = {
            **common,
            "event_type": "llm_request",
            "event_id": stable_event_id("llm_request", *resp.key),
            "model": resp.model,
            "input_tokens": inp,
            "output_tokens": out,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "message_id": resp.key[0],
        }
        if resp.key[1]:
            request["request_id"] = resp.key[1]
        if resp.cache_1h:
            request["cache_creation_1h_input_tokens"] = min(resp.cache_1h, write)
        cost = self.prices.cost(resp.model, usage)
        if cost is None:
            self._unpriced[resp.model] = self._unpriced.get(resp.model, 0) + 1
        for name, value in (
            ("agent", resp.agent),
            ("skill", resp.skill),
            ("cost_usd", cost),
        ):
            if value is not None:
                request[name] = value
        context = inp + write + read
        snapshot = {
            **common,
            "event_type": "context_snapshot",
            "event_id": stable_event_id("context_snapshot", *resp.key),
            "trigger": "turn",
            "model": resp.model,
            "context_tokens": context,
            "context_window": context_window(
                resp.model, used_tokens=context, overrides=self.model_overrides
            ),
        }
        return [request, snapshot]

    def _session_events(
        self,
        session_id: str,
        first_ts: str,
        last_ts: str,
        entry: dict[str, Any],
        project: str | None,
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        where = {"project": project} if project else {}
        start = _str(entry.get("first_ts"))
        if start is None:
            start = entry["first_ts"] = first_ts
            events.append(
                {
                    "event_type": "session_start",
                    "timestamp": start,
                    "session_id": session_id,
                    "event_id": session_event_id(session_id, "session_start"),
                    **where,
                }
            )
        duration = (parse_timestamp(last_ts) - parse_timestamp(start)).total_seconds()
        events.append(
            {
                "event_type": "session_end",
                "timestamp": last_ts,
                "session_id": session_id,
                "event_id": session_event_id(session_id, "session_end"),
                "duration_seconds": round(max(duration, 0.0), 3),
                **where,
            }
        )
        return events


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    """Publish the import state atomically (`ai_telemetry.log.files.atomic_write`), mode 0600.

    Raises:
        CollectorError: the file cannot be written.
    """
    from ai_telemetry.log.files import atomic_write

    try:
        atomic_write(path, orjson.dumps(state) + b"\n", perms=0o600)  # as `mkstemp` made it
    except OSError as exc:
        raise CollectorError(
            f"{path}: cannot write the import state ({exc.strerror or exc})"
        ) from None


def import_transcripts(
    paths: Iterable[Path] | None = None, *, settings: Settings, state_path: Path | None = None
) -> ImportReport:
    """Import Claude Code transcripts incrementally (default root ``~/.claude/projects``).

    Raises:
        CollectorError: a path does not exist, or the state file is unreadable.
        LogError: the log cannot be written.
    """
    chosen = list(paths) if paths else [DEFAULT_ROOT.expanduser()]
    return TranscriptImporter(settings, state_path=state_path).run(chosen)
