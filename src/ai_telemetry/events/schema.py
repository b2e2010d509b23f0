"""The event contract of METRICS.md as data: event types, their fields, and validation.

The table below is the single source for validation, the privacy guard's allowlist
(`PrivacyGuard` keeps only fields named here), the JSON Schema printed by
`ai-telemetry schema`, and `docs/events.md`.
"""

from __future__ import annotations

import math
import os
import re
import time
from datetime import UTC, datetime

from ai_telemetry.errors import EventValidationError

# This module is on the Claude Code hook's path, which runs on every tool call: it avoids
# `typing` and `dataclasses` at run time (their imports cost more than the hook's own work).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping
    from typing import Any, Final, Literal

    Kind = Literal[
        "text", "name", "id", "enum", "number", "integer", "timestamp", "hash", "boolean"
    ]
"""How a field is checked (``Kind``).

- ``text``: short free text (error types, root causes): 1 to `MAX_TEXT_CHARS` characters, no
  control character; the privacy detectors scan it.
- ``name``: an identifier such as a skill, agent, tool or model name: `NAME_PATTERN` (or the
  field's own ``pattern``); scanned as well.
- ``id``: an opaque id (event, session, task, learning, incident, request): 1 to `MAX_ID_CHARS`
  characters, no control character; scanned as well.
- ``enum``: one of ``choices``.
- ``number`` / ``integer``: a JSON number between the field's ``minimum`` and ``maximum``
  (booleans are not numbers; NaN and infinities are not JSON).
- ``timestamp``: RFC 3339 with an offset (`TIMESTAMP_PATTERN`), normalised to UTC ``...Z``,
  from `TIMESTAMP_MIN` up to `TIMESTAMP_MAX` and at most `max_future_skew` ahead of now.
- ``hash``: a hexadecimal commit hash (7 to 64 digits).
- ``boolean``: true or false.

An ``id``, ``text`` or ``hash`` given as a JSON number or boolean is taken as its JSON text
(``"session_id": 42`` is ``"42"``), which is how the warehouse's typed reader sees it too; a
``name`` must be a JSON string (a number or ``true`` cannot match its pattern).
"""

# --- limits (the contract's bounds, as data: the validator, the fast reader and the
# warehouse's SQL filter are all generated from them) -------------------------------------

_LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NAME_FIRST_CHARS: Final = _LETTERS + "_"
NAME_CHARS: Final = _LETTERS + "0123456789_.:-"
MODEL_CHARS: Final = NAME_CHARS + "/@+"
NAME_PATTERN: Final = r"[A-Za-z_][A-Za-z0-9_.:-]{0,127}"
"""Skill, agent, tool and other names: a letter or ``_``, then letters, digits and ``_.:-``;
at most 128 characters. Fits ``acgme-compliance``, ``META_UPDATER``, plugin skills
``plugin:skill`` and MCP tools ``mcp__server__tool``. The first character is not a digit so
that a JSON number given as a name can never pass for one (the warehouse reads names typed)."""
MODEL_PATTERN: Final = r"[A-Za-z_][A-Za-z0-9_.:/@+-]{0,127}"
"""Model and project names may also hold ``/``, ``@`` and ``+`` (``openai/gpt-4o``,
``claude-3-5-sonnet@20240620``, ``org/repo``)."""
REDACTED_PATTERN: Final = r"\[REDACTED:[a-z_]{1,40}\]"
"""The privacy guard's marker (``[REDACTED:email]``): accepted in every name, id and text."""
PATTERN_CHARS: Final = {
    NAME_PATTERN: (NAME_FIRST_CHARS, NAME_CHARS),
    MODEL_PATTERN: (NAME_FIRST_CHARS, MODEL_CHARS),
}
"""Each name pattern as (first characters, all characters): the warehouse checks names with
these sets instead of a regular expression (no regex to compile per query)."""
REDACTED_CHARS: Final = "abcdefghijklmnopqrstuvwxyz_"
RESERVED_NAMES: Final = ("true", "false")
"""Names that are refused although they match the pattern: the JSON booleans' text."""
MAX_NAME_CHARS: Final = 128
MAX_ID_CHARS: Final = 256
MAX_TEXT_CHARS: Final = 1024
CONTROL_CHARS: Final = "[\\x00-\\x1f\\x7f-\\x9f]"
"""C0 controls, DEL and C1 controls (newline, ESC, BEL, CSI ...): refused in every string."""
MAX_LINE_BYTES: Final = 65536
"""Longest line of events.jsonl (without its newline). The writer refuses a longer event, the
reader and the warehouse count a longer line as bad. A valid event within the other limits is
at most about 20 KB."""
TIMESTAMP_PATTERN: Final = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
"""RFC 3339 with ``T``, seconds and an offset (``Z`` or ``+HH:MM``), at most nanoseconds."""
TIMESTAMP_MIN: Final = "1970-01-01T00:00:00Z"
TIMESTAMP_MAX: Final = "2200-01-01T00:00:00Z"
"""The contract's time range, ``[TIMESTAMP_MIN, TIMESTAMP_MAX)`` in UTC: the Unix epoch (no
negative Unix times, which UUIDv7 ids and ``gmtime`` cannot take) up to a date that Python's
``datetime``, DuckDB ``TIMESTAMP``, Parquet (int64 microseconds) and PostgreSQL all hold."""
DEFAULT_MAX_FUTURE_SKEW: Final = 3600.0
"""Seconds a timestamp may be ahead of now (``AI_TELEMETRY_MAX_FUTURE_SKEW``): one hour covers
clock drift between machines (seconds with NTP, minutes without), while a writer that labels
local time as UTC, or a date typed wrong, is refused with a message instead of sitting in the
future of every report."""
COUNT_MAX: Final = 1_000_000_000
"""Upper bound of counts and token numbers (a billion)."""
DURATION_MAX: Final = 30 * 86400.0
"""Upper bound of durations in seconds (30 days)."""


def _read_skew() -> float:
    raw = os.environ.get("AI_TELEMETRY_MAX_FUTURE_SKEW")
    if not raw:
        return DEFAULT_MAX_FUTURE_SKEW
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_MAX_FUTURE_SKEW
    return value if math.isfinite(value) and value >= 0 else DEFAULT_MAX_FUTURE_SKEW


max_future_skew: float = _read_skew()
"""Seconds a timestamp may be ahead of now; read from ``AI_TELEMETRY_MAX_FUTURE_SKEW`` once.
Tests and tools may assign it."""

OUTCOMES: Final = ("started", "success", "error", "rollback", "handoff")
TERMINAL_OUTCOMES: Final = ("success", "error", "rollback", "handoff")
SEVERITIES: Final = ("critical", "warning", "info")
LEARNING_SOURCES: Final = ("incident", "observation", "experiment", "user_feedback", "code_review")
PASS_FAIL: Final = ("passed", "failed")


class Field:
    """One field of an event type (immutable by convention).

    Attributes:
        name: the JSON key.
        kind: how it is checked (see ``Kind``).
        doc: one line for docs/events.md and the JSON Schema.
        choices: the allowed values of an ``enum``.
        signed: for ``number``: negative values are allowed too (a change such as
            ``delta_percent``); the default minimum becomes ``-maximum``.
        minimum: for ``number`` / ``integer``: smallest value (default 0).
        maximum: for ``number`` / ``integer``: largest value (default `COUNT_MAX`).
        pattern: for ``name``: the regular expression the whole value must match (default
            `NAME_PATTERN`).
        max_length: for strings: most characters (default by kind).
    """

    __slots__ = (
        "choices",
        "doc",
        "kind",
        "max_length",
        "maximum",
        "minimum",
        "name",
        "pattern",
        "signed",
    )

    def __init__(
        self,
        name: str,
        kind: Kind,
        doc: str,
        choices: tuple[str, ...] = (),
        signed: bool = False,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        pattern: str | None = None,
        max_length: int | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.doc = doc
        self.choices = choices
        self.signed = signed
        top = COUNT_MAX if maximum is None else maximum
        self.maximum = float(top)
        self.minimum = float(minimum if minimum is not None else (-top if signed else 0))
        self.pattern = pattern if pattern is not None else (NAME_PATTERN if kind == "name" else "")
        default_length = {"name": MAX_NAME_CHARS, "id": MAX_ID_CHARS, "text": MAX_TEXT_CHARS}
        self.max_length = max_length if max_length is not None else default_length.get(kind, 0)

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.kind!r})"


class EventType:
    """One event type: its name, what it records, and its fields beyond the common ones."""

    __slots__ = ("doc", "fields", "name", "required")

    def __init__(
        self, name: str, doc: str, fields: tuple[Field, ...], required: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.doc = doc
        self.fields = fields
        self.required = required

    def __repr__(self) -> str:
        return f"EventType({self.name!r})"


COMMON_FIELDS: Final[tuple[Field, ...]] = (
    Field(
        "timestamp", "timestamp", "When it happened: RFC 3339 in UTC, e.g. 2025-12-26T10:30:00Z."
    ),
    Field(
        "event_type", "name", "One of the event types below; unknown types are kept and reported."
    ),
    Field("event_id", "id", "Unique, sortable id (UUIDv7); assigned by the writer when missing."),
    Field("source", "name", "Where it came from: sdk, cli, hook, git, ci, otlp, import, demo, ..."),
    Field("project", "name", "Project name, for cross-project aggregation.", pattern=MODEL_PATTERN),
    Field("session_id", "id", "Opaque id grouping the events of one agent session."),
    Field("task_id", "id", "Opaque id grouping the events of one agent task."),
    Field(
        "redacted",
        "integer",
        "How many values the privacy guard removed from this event.",
        maximum=1_000_000,
    ),
)

_outcome = Field("outcome", "enum", "started, then one terminal outcome.", OUTCOMES)
_duration = Field("duration_seconds", "number", "Wall time in seconds.", maximum=DURATION_MAX)
_tokens = Field("context_tokens", "integer", "Context window size in tokens during execution.")
_learning_id = Field("id", "id", "Learning id, LEARN-YYYY-NNN.")
_severity = Field("severity", "enum", "critical, warning or info.", SEVERITIES)


def _f(name: str, kind: Kind, doc: str, *choices: str) -> Field:
    return Field(name, kind, doc, tuple(choices))


def _percent(name: str, doc: str) -> Field:
    return Field(name, "number", doc, maximum=100)


EVENT_TYPES: Final[dict[str, EventType]] = {
    t.name: t
    for t in (
        EventType(
            "skill_execution",
            "A skill ran: a `started` event, then one terminal outcome with its duration.",
            (
                _f("skill", "name", "Skill name, e.g. systematic-debugger."),
                _outcome,
                _duration,
                _tokens,
                _f("skill_version", "text", "Version of the skill (for A/B comparison)."),
                _f("error_type", "text", "Exception class or error kind, without details."),
                _f(
                    "folders",
                    "text",
                    "Folders the task touched, comma-separated top-level prefixes of the file "
                    "paths (src/api,tests), never file names or contents; for recommendations.",
                ),
                _f(
                    "task_kind",
                    "name",
                    "What kind of task the skill served (debug, test, review, migrate, ...).",
                ),
            ),
            required=("skill", "outcome"),
        ),
        EventType(
            "agent_task",
            "An agent (subagent) task: `started`, then a terminal outcome.",
            (
                _f("agent", "name", "Agent name."),
                _f("agent_type", "name", "Agent type (Claude Code's subagent_type)."),
                _outcome,
                _duration,
                _f("tool_calls", "integer", "Tool invocations made by the task."),
                _f("total_tokens", "integer", "Tokens the task used, when reported."),
                _f("error_type", "text", "Exception class or error kind, without details."),
            ),
            required=("agent", "outcome"),
        ),
        EventType(
            "tool_call",
            "One tool invocation (Read, Grep, an MCP tool, ...).",
            (
                _f("tool", "name", "Tool name; MCP tools are named mcp__<server>__<tool>."),
                _f("outcome", "enum", "success or error.", "success", "error"),
                _duration,
                _f("mcp_server", "name", "MCP server, for MCP tools."),
                _f("error_type", "text", "Exception class or error kind, without details."),
            ),
            required=("tool",),
        ),
        EventType(
            "tool_call_limit_reached",
            "A session or task hit the tool-call limit (the kill switch).",
            (
                _f("limit", "integer", "The configured limit."),
                _f("tool_calls", "integer", "Tool calls made when the limit was hit."),
            ),
        ),
        EventType(
            "skill_load",
            "A skill's prompt was loaded.",
            (_f("skill", "name", "Skill name."), _duration),
            required=("skill",),
        ),
        EventType("session_start", "An agent session began.", ()),
        EventType(
            "session_end",
            "An agent session ended.",
            (_duration, _f("reason", "text", "Why it ended, as the agent reports it.")),
        ),
        EventType(
            "context_snapshot",
            "The context window's fill at one moment (e.g. before compaction).",
            (
                _tokens,
                _f("context_window", "integer", "Size of the model's context window in tokens."),
                Field("model", "name", "Model name.", pattern=MODEL_PATTERN),
                _f("trigger", "text", "What took the snapshot: turn, compact (manual or auto)."),
            ),
        ),
        EventType(
            "llm_request",
            "One model API response with its token usage and estimated cost.",
            (
                Field("model", "name", "Model name.", pattern=MODEL_PATTERN),
                _f("input_tokens", "integer", "Input tokens."),
                _f("output_tokens", "integer", "Output tokens."),
                _f("cache_creation_input_tokens", "integer", "Tokens written to the prompt cache."),
                _f("cache_read_input_tokens", "integer", "Tokens read from the prompt cache."),
                _f(
                    "cache_creation_1h_input_tokens",
                    "integer",
                    "Of cache_creation_input_tokens, those written with the 1-hour lifetime.",
                ),
                _f("request_id", "id", "API request id."),
                _f("message_id", "id", "API message id."),
                _f("agent", "name", "Agent the request is attributed to."),
                _f("skill", "name", "Skill the request is attributed to."),
                Field("cost_usd", "number", "Estimated cost in US dollars.", maximum=100_000),
                Field(
                    "duration_seconds",
                    "number",
                    "Request latency in seconds.",
                    maximum=DURATION_MAX,
                ),
            ),
        ),
        EventType(
            "llm_error",
            "A model API request that failed (Claude Code's api_error); never the error message.",
            (
                Field("model", "name", "Model name.", pattern=MODEL_PATTERN),
                Field(
                    "status_code",
                    "integer",
                    "HTTP status code, when the failure had one.",
                    maximum=999,
                ),
                _f("attempt", "integer", "Attempts made, the first one included."),
                _f("request_id", "id", "API request id, when the API returned one."),
                _f("error_type", "text", "Error kind, without details."),
                Field(
                    "duration_seconds",
                    "number",
                    "Request latency in seconds.",
                    maximum=DURATION_MAX,
                ),
            ),
        ),
        EventType(
            "learning_created",
            "A learning entry was written (.claude/History/LEARN-*.md).",
            (
                _learning_id,
                _f("learning_id", "id", "Accepted as a synonym of id."),
                _severity,
                _f("source", "enum", "What the learning came from.", *LEARNING_SOURCES),
                _f("skill", "name", "Skill the learning is about."),
                _f("learning_type", "text", "Type from the entry's front matter."),
                _f("tags", "text", "Comma-separated tags from the entry's front matter."),
            ),
        ),
        EventType(
            "learning_implemented",
            "A learning was turned into a code change.",
            (
                _learning_id,
                _f("learning_id", "id", "Accepted as a synonym of id."),
                _f("pr", "integer", "Pull request number."),
                _f("commit_hash", "hash", "Commit that implemented it."),
            ),
        ),
        EventType(
            "test_run",
            "A test suite ran.",
            (
                _f("outcome", "enum", "passed or failed.", *PASS_FAIL),
                _f("failed_count", "integer", "Failed tests (errors included)."),
                _f("passed_count", "integer", "Passed tests."),
                _f("skipped_count", "integer", "Skipped tests."),
                _percent("coverage_percent", "Line coverage in percent."),
                _duration,
            ),
        ),
        EventType(
            "test_coverage",
            "Test coverage was measured.",
            (
                _percent("coverage_percent", "Line coverage in percent."),
                Field(
                    "delta_percent",
                    "number",
                    "Change from the previous measurement, points (negative when it fell).",
                    signed=True,
                    maximum=100,
                ),
            ),
            required=("coverage_percent",),
        ),
        EventType(
            "lint_report",
            "A linter ran.",
            (_f("lint_errors", "integer", "Lint errors found."), _f("tool", "name", "Linter.")),
            required=("lint_errors",),
        ),
        EventType(
            "type_coverage",
            "Share of functions with type hints.",
            (_percent("type_coverage_percent", "Percent of functions fully annotated."),),
            required=("type_coverage_percent",),
        ),
        EventType(
            "doc_coverage",
            "Share of public functions with docstrings.",
            (_percent("doc_coverage_percent", "Percent of public functions documented."),),
            required=("doc_coverage_percent",),
        ),
        EventType(
            "security_scan",
            "A security scanner ran.",
            (
                _f("open_findings", "integer", "Open findings."),
                _f("resolved_findings", "integer", "Findings resolved since the last scan."),
                _f("tool", "name", "Scanner."),
            ),
            required=("open_findings",),
        ),
        EventType(
            "ci_build",
            "A CI build finished.",
            (
                _f("outcome", "enum", "passed or failed.", *PASS_FAIL),
                _f("failed_tests", "integer", "Failed tests in the build."),
                _duration,
            ),
            required=("outcome",),
        ),
        EventType(
            "incident_opened",
            "An incident was opened.",
            (
                _f("incident_id", "id", "Incident id."),
                _severity,
                _f("root_cause", "text", "Root-cause category, e.g. timezone-handling."),
                _f("learning_id", "id", "Related learning, if any."),
            ),
            required=("incident_id",),
        ),
        EventType(
            "incident_resolved",
            "An incident was resolved.",
            (
                _f("incident_id", "id", "Incident id."),
                _severity,
                _f("root_cause", "text", "Root-cause category."),
                _duration,
            ),
            required=("incident_id",),
        ),
        EventType(
            "commit",
            "A commit, with the skill named by its [skill:name] tag or whose SKILL.md it changed.",
            (
                _f("commit_hash", "hash", "Commit hash."),
                _f("skill", "name", "Skill from the [skill:name] tag, or whose SKILL.md changed."),
                _f(
                    "skill_version",
                    "text",
                    "The skill's SKILL.md after this commit (git blob id, 12 hex digits).",
                ),
                _f(
                    "previous_skill_version",
                    "text",
                    "The skill's SKILL.md before this commit (absent: the commit added it).",
                ),
            ),
            required=("commit_hash",),
        ),
    )
}

_COMMON_BY_NAME: Final = {f.name: f for f in COMMON_FIELDS}
FIELDS_BY_TYPE: Final[dict[str, dict[str, Field]]] = {
    name: {**_COMMON_BY_NAME, **{f.name: f for f in t.fields}} for name, t in EVENT_TYPES.items()
}
"""Every allowed field per event type, common ones included (the privacy allowlist)."""


def fields_for(event_type: str) -> dict[str, Field]:
    """Allowed fields of an event type; an unknown type gets the common fields only."""
    return FIELDS_BY_TYPE.get(event_type, _COMMON_BY_NAME)


# --- ids and time -------------------------------------------------------------------------

_CANONICAL_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z").fullmatch
is_canonical_timestamp = _CANONICAL_TS
"""True-ish when a string is already in the stored form ``YYYY-MM-DDTHH:MM:SS[.f]Z``."""


def new_event_id(unix_ms: int | None = None, *, rand: int | None = None) -> str:
    """A UUIDv7 (RFC 9562) string: 48-bit Unix milliseconds, then 74 random bits; sortable by time.

    The standard library has ``uuid.uuid7`` only from Python 3.14; this is the same layout.

    Args:
        unix_ms: the time part (default: now).
        rand: the 74 random bits (default: from the OS); the demo passes seeded ones.
    """
    ms = time.time_ns() // 1_000_000 if unix_ms is None else unix_ms
    if rand is None:
        rand = int.from_bytes(os.urandom(10)) >> 6
    value = (ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | (rand >> 62) << 64
    value |= 0b10 << 62 | (rand & 0x3FFFFFFFFFFFFFFF)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a trailing Z; microseconds only when there are any."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat() + "Z"


_second_cache: list[Any] = [-1, ""]


def timestamp_from_unix(seconds: float) -> str:
    """RFC 3339 UTC timestamp (microseconds, trailing Z) for a Unix time in seconds.

    The date-and-time part is cached per second: the SDK formats one timestamp per event.
    """
    whole = int(seconds)
    micros = round((seconds - whole) * 1_000_000)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    cache = _second_cache
    if cache[0] != whole:
        cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        cache[0] = whole
    return f"{cache[1]}.{micros:06d}Z"


def utc_now() -> str:
    """Now, as an RFC 3339 UTC timestamp."""
    return timestamp_from_unix(time.time())


def parse_timestamp(value: object) -> datetime:
    """Parse an RFC 3339 timestamp with an offset into an aware UTC datetime.

    Lenient about the form (collectors hand it what their sources write); `normalize_timestamp`
    is the contract's strict check.

    Raises:
        EventValidationError: not a string, not RFC 3339, without an offset, or out of range.
    """
    example = "write it as 2025-12-26T10:30:00Z"
    if isinstance(value, str) and _CANONICAL_TS(value):
        try:  # already UTC with Z: only the calendar needs checking
            return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
        except ValueError:
            pass
    if not isinstance(value, str):
        raise EventValidationError(
            "timestamp", f"must be a string, got {type(value).__name__}", example
        )
    text = value.strip()
    if len(text) < 10 or text[4:5] != "-" or text[7:8] != "-":
        raise EventValidationError("timestamp", f"{text!r} is not an RFC 3339 timestamp", example)
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EventValidationError(
            "timestamp", f"{value!r} is not an RFC 3339 timestamp", example
        ) from None
    if moment.tzinfo is None:
        raise EventValidationError("timestamp", f"{value!r} has no UTC offset", example)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise EventValidationError("timestamp", f"{value!r} is out of range", _RANGE_FIX) from None


_TIMESTAMP_FULL = re.compile(TIMESTAMP_PATTERN).fullmatch
_RANGE_FIX = f"the contract's range is {TIMESTAMP_MIN} up to {TIMESTAMP_MAX}"
_future_cache: list[Any] = [-1, ""]


def future_limit(now: float | None = None) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC): the latest second a timestamp may name right now.

    That is now plus `max_future_skew`, cut to the second (the warehouse compares the same).
    """
    limit = int((time.time() if now is None else now) + max_future_skew)
    cache = _future_cache
    if cache[0] != limit:
        cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(min(limit, 7258118399)))
        cache[0] = limit
    text: str = cache[1]
    return text


def check_timestamp_range(stamp: str, field: str = "timestamp") -> None:
    """Refuse a canonical UTC timestamp outside the contract's range or too far ahead of now.

    Raises:
        EventValidationError: before `TIMESTAMP_MIN`, from `TIMESTAMP_MAX` on, or more than
            `max_future_skew` seconds ahead of the clock.
    """
    second = stamp[:19]
    if second < TIMESTAMP_MIN[:19] or second >= TIMESTAMP_MAX[:19]:
        raise EventValidationError(field, f"{stamp!r} is out of range", _RANGE_FIX)
    if second > future_limit():
        raise EventValidationError(
            field,
            f"{stamp!r} is more than {max_future_skew:g} s ahead of now",
            "check the writer's clock and time zone (AI_TELEMETRY_MAX_FUTURE_SKEW sets the margin)",
        )


def normalize_timestamp(value: object, field: str = "timestamp") -> str:
    """An RFC 3339 timestamp with an offset (`TIMESTAMP_PATTERN`), rewritten in UTC with a Z.

    A timestamp already in that form is returned as written (after checking its calendar).

    Raises:
        EventValidationError: not a string, not of the pattern, not a real time, or outside
            the contract's range (`check_timestamp_range`).
    """
    if isinstance(value, str) and _CANONICAL_TS(value):
        try:  # already UTC with Z (what every collector writes): check the calendar only
            datetime.fromisoformat(value[:-1])
        except ValueError:
            pass
        else:
            check_timestamp_range(value, field)
            return value
    if isinstance(value, str) and not _TIMESTAMP_FULL(value):
        if len(value) >= 19 and value[10:11] in ("T", "t", " ") and value[-1:] not in "Zz":
            tail = value[19:]
            if "+" not in tail and "-" not in tail:
                raise EventValidationError(
                    field, f"{value!r} has no UTC offset", "write it as 2025-12-26T10:30:00Z"
                )
        raise EventValidationError(
            field,
            f"{value!r} is not an RFC 3339 timestamp",
            "write it as 2025-12-26T10:30:00Z or 2025-12-26T11:30:00+01:00",
        )
    stamp = format_timestamp(parse_timestamp(value))
    check_timestamp_range(stamp, field)
    return stamp


_fractions_kept: list[tuple[frozenset[int], frozenset[int]]] = []
_good_seconds: dict[str, bool] = {}
"""``YYYY-MM-DDTHH:MM:SS`` -> whether it is a real time within the range (not the future check,
which depends on the clock); bounded."""


def _good_second(second: str) -> bool:
    """Whether ``YYYY-MM-DDTHH:MM:SS`` is a real time within the range (`_real_second`),
    remembered in `_good_seconds`."""
    good = _good_seconds.get(second)
    if good is None:
        good = _real_second(second)
        if len(_good_seconds) >= 4096:
            _good_seconds.clear()
        _good_seconds[second] = good
    return good


def _probe_fractions() -> tuple[frozenset[int], frozenset[int]]:
    """Which fraction lengths `normalize_timestamp` keeps as written: (non-zero, all-zero).

    Asked of `normalize_timestamp` once, on first use, rather than written down, so the two
    cannot drift.
    """
    if not _fractions_kept:
        kept: tuple[set[int], set[int]] = (set(), set())
        for digits in range(1, 10):
            for zero, sample in enumerate(("1" * digits, "0" * digits)):
                stamp = f"2025-12-26T10:30:00.{sample}Z"
                try:
                    if normalize_timestamp(stamp) == stamp:
                        kept[zero].add(digits)
                except EventValidationError:
                    pass
        _fractions_kept.append((frozenset(kept[0]), frozenset(kept[1])))
    return _fractions_kept[0]


def canonical_timestamp(value: str) -> bool:
    """True when `normalize_timestamp` returns ``value`` unchanged (``YYYY-MM-DDTHH:MM:SS[.f]Z``,
    a real time, in range, not too far ahead): the fast paths' yes/no form of it. The
    calendar and range of each second are judged once (by `datetime.fromisoformat` and the
    range bounds, as `normalize_timestamp` does) and remembered; the clock is asked every time.
    """
    size = len(value)
    if size > 20:
        fraction = value[20:-1]
        if value[19] != "." or not fraction.isdigit() or not fraction.isascii():
            return False
        nonzero, zero = _fractions_kept[0] if _fractions_kept else _probe_fractions()
        kept = zero if fraction.count("0") == len(fraction) else nonzero
        if len(fraction) not in kept:
            return False
    elif size != 20:
        return False
    if value[-1] != "Z":
        return False
    second = value[:19]
    return _good_second(second) and second <= future_limit()


_CANONICAL_LINE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z"
_canonical_lines: list[Callable[[str], object]] = []
"""`_CANONICAL_LINE` one a line, ASCII digits only; compiled on first use (the hook never
needs it)."""


def canonical_timestamps(values: Collection[str]) -> bool:
    """True when `canonical_timestamp` is true of every one of ``values`` (a column of a batch:
    the shape checked in one call, each second and each length once, the clock once).

    A value holding a newline cannot pass as two: each line is at least 20 characters, so such
    a value is longer than any kept length and is judged on its own.
    """
    if not _canonical_lines:
        _canonical_lines.append(
            re.compile(f"(?:{_CANONICAL_LINE}\n)*{_CANONICAL_LINE}", re.ASCII).fullmatch
        )
    if not values or not _canonical_lines[0]("\n".join(values)):
        return False
    nonzero, zero = _fractions_kept[0] if _fractions_kept else _probe_fractions()
    for size in {len(value) for value in values}:
        if size != 20 and (size - 21 not in nonzero or size - 21 not in zero):
            return all(canonical_timestamp(value) for value in values)
    seconds = {value[:19] for value in values}
    if not all(map(_good_second, seconds)):
        return False
    return max(seconds) <= future_limit()


def _real_second(second: str) -> bool:
    if (
        second[10] != "T"
        or second[4] != "-"
        or second[7] != "-"
        or second[13] != ":"
        or second[16] != ":"
        or not second.isascii()
        or not _CANONICAL_TS(second + "Z")
    ):
        return False
    if second < TIMESTAMP_MIN[:19] or second >= TIMESTAMP_MAX[:19]:
        return False
    try:
        datetime.fromisoformat(second)
    except ValueError:
        return False
    return True


# --- validation ---------------------------------------------------------------------------

_CONTROL = re.compile(CONTROL_CHARS).search
_REDACTED = re.compile(REDACTED_PATTERN).fullmatch
_PATTERNS: dict[str, Any] = {}


def _pattern(pattern: str) -> Any:
    try:
        return _PATTERNS[pattern]
    except KeyError:
        compiled = _PATTERNS[pattern] = re.compile(pattern).fullmatch
        return compiled


def _as_text(field: Field, value: object) -> str:
    """An id, text or hash value as a string: a JSON number or boolean as its JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        import orjson

        return orjson.dumps(value).decode()
    raise EventValidationError(field.name, f"must be a string, got {type(value).__name__}")


def check_string(field: Field, value: str) -> None:
    """Refuse a string value the field cannot hold (see the kinds above).

    Raises:
        EventValidationError: empty, too long, a control character, not of the pattern.
    """
    name = field.name
    if not value:
        raise EventValidationError(name, "must not be empty")
    if value[0] == "[" and _REDACTED(value):
        return
    if len(value) > field.max_length:
        raise EventValidationError(
            name, f"is {len(value)} characters long, more than the {field.max_length} allowed"
        )
    if field.kind == "name":
        if not _pattern(field.pattern)(value) or value in RESERVED_NAMES:
            shown = value if len(value) <= 40 else value[:40] + "..."
            allowed = "_.:-/@+" if field.pattern == MODEL_PATTERN else "_.:-"
            raise EventValidationError(
                name,
                f"{shown!r} is not a valid name",
                f"use a letter or _ then letters, digits and {allowed} (see docs/events.md)",
            )
        return
    bad = _CONTROL(value)
    if bad is not None:
        raise EventValidationError(
            name,
            f"holds the control character U+{ord(bad.group()):04X} at {bad.start()}",
            "remove control characters (newlines, escapes) from the value",
        )
    if value[0] in "[{":
        raise EventValidationError(
            name, "must not start with [ or { (it would be read as nested JSON)"
        )


def string_predicate(field: Field) -> Callable[[str], bool]:
    """A fast yes/no form of `check_string` for one field (the reader's fast path)."""
    reserved = RESERVED_NAMES
    redacted = _REDACTED
    limit = field.max_length
    if field.kind == "name":
        match = _pattern(field.pattern)

        def name_ok(value: str) -> bool:
            return (match(value) is not None and value not in reserved) or redacted(
                value
            ) is not None

        return name_ok
    control = _CONTROL

    def text_ok(value: str) -> bool:
        if not value:
            return False
        if value[0] in "[{":
            return redacted(value) is not None
        return len(value) <= limit and control(value) is None

    return text_ok


def _bound(value: float) -> str:
    return f"{int(value):,}" if value.is_integer() else f"{value:g}"


def _check_value(field: Field, value: object) -> object:
    """Check one value against its field; return it (normalised where that applies)."""
    name = field.name
    kind = field.kind
    if kind == "timestamp":
        return normalize_timestamp(value, name)
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EventValidationError(
                name, f"must be a number, got {type(value).__name__} {value!r}", "write e.g. 12.5"
            )
        if not math.isfinite(value):
            raise EventValidationError(name, f"must be finite, got {value!r}")
        if value < field.minimum:
            if field.minimum == 0:
                raise EventValidationError(name, f"must not be negative, got {value!r}")
            raise EventValidationError(
                name, f"must be at least {_bound(field.minimum)}, got {value!r}"
            )
        if value > field.maximum:
            raise EventValidationError(
                name, f"must be at most {_bound(field.maximum)}, got {value!r}"
            )
        if kind == "integer" and not float(value).is_integer():
            raise EventValidationError(name, f"must be a whole number, got {value!r}")
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise EventValidationError(name, f"must be true or false, got {value!r}")
        return value
    if kind in ("id", "text", "hash"):
        value = _as_text(field, value)
    elif not isinstance(value, str):
        raise EventValidationError(name, f"must be a string, got {type(value).__name__}")
    if kind == "enum":
        if value not in field.choices:
            raise EventValidationError(
                name, f"{value!r} is not allowed", "use one of " + ", ".join(field.choices)
            )
        return value
    if kind == "hash":
        if not 7 <= len(value) <= 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
            raise EventValidationError(name, f"{value!r} is not a hexadecimal commit hash")
        return value.lower()
    check_string(field, value)
    return value


check_value = _check_value
"""`_check_value` for the log sink's fast path (one field's check and normal form)."""


class Checked:
    """A validated event, and what validation noticed without refusing it."""

    __slots__ = ("event", "unknown_type")

    def __init__(self, event: dict[str, Any], unknown_type: bool = False) -> None:
        self.event = event
        self.unknown_type = unknown_type

    def __repr__(self) -> str:
        return f"Checked({self.event!r}, unknown_type={self.unknown_type})"


def validate_event(raw: Mapping[str, Any], *, assign_id: bool = True) -> Checked:
    """Check an event against the contract and return its normalised form.

    Normalises the timestamp to UTC ``Z``, assigns an ``event_id`` when missing (``assign_id``),
    turns ``learning_id`` into ``id`` for learning events, and keeps unknown event types (flagged
    in the result so callers can report them). Fields outside the contract are left for the
    privacy guard, which drops them; run the guard first.

    Raises:
        EventValidationError: naming the field, the value, why, and how to fix it.
    """
    if not isinstance(raw, dict):
        raise EventValidationError("", f"an event must be a JSON object, got {type(raw).__name__}")
    event_type = raw.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise EventValidationError(
            "event_type", "is missing", 'add e.g. "event_type": "skill_execution"'
        )
    if "timestamp" not in raw:
        raise EventValidationError(
            "timestamp", "is missing", 'add e.g. "timestamp": "2025-12-26T10:30:00Z"'
        )
    spec = EVENT_TYPES.get(event_type)
    allowed = fields_for(event_type)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        field = allowed.get(key)
        if value is None:
            continue
        out[key] = _check_value(field, value) if field is not None else value
    if spec is not None:
        if event_type.startswith("learning_") and "id" not in out and "learning_id" in out:
            out["id"] = out.pop("learning_id")
        for name in spec.required:
            if name not in out:
                raise EventValidationError(
                    name, f"is required for {event_type}", f'add "{name}" to the event'
                )
        if event_type.startswith("learning_") and "id" not in out:
            raise EventValidationError(
                "id", f"is required for {event_type}", 'add "id": "LEARN-2025-001"'
            )
    if assign_id and "event_id" not in out:
        out["event_id"] = new_event_id()
    return Checked(out, unknown_type=spec is None)
