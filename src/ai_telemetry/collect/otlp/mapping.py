"""OTLP records -> our events: Claude Code's telemetry and OpenTelemetry GenAI spans.

What maps (docs/collect/otlp.md has the full table and the reasons):

- logs, Claude Code events (body ``claude_code.<name>``, attribute ``event.name``):
  ``tool_result`` -> ``tool_call``; ``api_request`` -> ``llm_request``; ``api_error`` ->
  ``llm_error``; ``skill_activated`` -> ``skill_execution`` (``started``). ``user_prompt`` and
  everything else are skipped and counted: prompts are never stored.
- metrics: ``claude_code.session.count`` -> one ``session_start`` per session. Token and cost
  metrics are sums per model that duplicate the ``api_request`` events, so they are skipped.
- traces (in ``spans``), GenAI semantic conventions (``gen_ai.operation.name``): ``invoke_agent`` ->
  ``agent_task``, ``execute_tool`` -> ``tool_call``, model calls (``chat``, ``text_completion``,
  ``generate_content``, ...) -> ``llm_request``.

Only named fields are copied; every other attribute (``user.email``, ``prompt``,
``tool_input``, ...) is counted by key and dropped, and the `LogSink` privacy guard runs on top.
Each event's ``event_id`` is derived from the record's identity, so a record seen twice (the
same file imported again, or the same export retried) yields the same id.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from ai_telemetry.collect.idempotent import NAMESPACE
from ai_telemetry.collect.otlp.decode import (
    Kind,
    any_value,
    as_float,
    as_int,
    attributes,
    items,
    normalize_id,
    proto_any,
    proto_attributes,
    proto_id,
)
from ai_telemetry.collect.otlp.decode import (
    field as get,
)
from ai_telemetry.errors import EventValidationError
from ai_telemetry.events.schema import format_timestamp, parse_timestamp

SOURCE: Final = "otlp"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# Attributes that group events: copied to the common fields, never counted as dropped.
_SESSION_KEYS: Final = ("session.id", "gen_ai.conversation.id")
_CONTEXT_KEYS: Final = frozenset(
    {"event.name", "event.timestamp", "event.sequence", "service.name", *_SESSION_KEYS}
)


@dataclass(slots=True)
class OtlpResult:
    """What one OTLP payload turned into.

    Attributes:
        kind: logs, metrics or traces.
        events: the mapped events, ready for `LogSink.write` (source ``otlp``).
        records: log records, metric data points and spans read.
        skipped: records that map to nothing, by ``"<signal>:<name>"`` (never values).
        dropped_attributes: attribute keys present on mapped records but not kept, with counts.
    """

    kind: Kind
    events: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    dropped_attributes: Counter[str] = field(default_factory=Counter)

    def merge(self, other: OtlpResult) -> None:
        """Add another result's events and counts to this one."""
        self.events.extend(other.events)
        self.records += other.records
        self.skipped.update(other.skipped)
        self.dropped_attributes.update(other.dropped_attributes)


# --- helpers ---------------------------------------------------------------------------------


_second: list[Any] = [None, ""]


def _timestamp(nanos: int | None) -> str | None:
    """``format_timestamp`` of a Unix time in nanoseconds, the date and time cached per second
    (a batch's records share their seconds)."""
    if not nanos or nanos <= 0:
        return None
    second, micros = divmod(nanos // 1000, 1_000_000)
    cache = _second
    if cache[0] != second:
        cache[1] = (_EPOCH + timedelta(seconds=second)).replace(tzinfo=None).isoformat()
        cache[0] = second
    prefix: str = cache[1]
    return f"{prefix}.{micros:06d}Z" if micros else prefix + "Z"


def _iso(value: object) -> str | None:
    try:
        return format_timestamp(parse_timestamp(value))
    except EventValidationError:
        return None


def _text(value: object) -> str | None:
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
    return None


def _seconds(ms: object) -> float | None:
    number = as_float(ms)
    return None if number is None or number < 0 else number / 1000.0


def _count(value: object) -> int | None:
    number = as_int(value)
    if number is None:
        real = as_float(value)
        number = int(real) if real is not None and real.is_integer() else None
    return None if number is None or number < 0 else number


_NAMESPACE_BYTES: Final = NAMESPACE.bytes
_SORT_KEYS: Final = orjson.OPT_SORT_KEYS


def _identity(*parts: object) -> str:
    """``stable_event_id("otlp", <each part as sorted-key JSON>)``, with uuid5 computed
    in place (the same bytes, without the `uuid.UUID` object per record)."""
    dumps = orjson.dumps
    return _uuid5("\x1f".join((SOURCE, *(dumps(p, option=_SORT_KEYS).decode() for p in parts))))


def _uuid5(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, name))``: the first 16 bytes of the SHA-1, with the version
    nibble set to 5 and the variant bits to RFC 4122's ``10``, in hex."""
    x = hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


_VARIANT: Final = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}
"""A hex digit with its top two bits replaced by ``10``."""


_LOG_HEADS: dict[str, str] = {}


def _json_text(value: str | None) -> str:
    return "null" if value is None else orjson.dumps(value).decode()


def _log_identity(
    name: str, nanos: int | None, trace: str | None, span: str | None, pieces: Mapping[str, str]
) -> str:
    """``_identity("log", name, nanos, trace, span, sorted((k, repr(v)) for k, v in attrs))``
    from each attribute's JSON piece ``["key","repr(value)"]`` (the JSON of a list is its items'
    JSON joined by commas; keys are unique, so sorting the pairs is sorting the keys)."""
    head = _LOG_HEADS.get(name)
    if head is None:
        head = _LOG_HEADS[name] = "\x1f".join((SOURCE, '"log"', orjson.dumps(name).decode()))
    attrs = ",".join([pieces[k] for k in sorted(pieces)])
    moment = "null" if nanos is None else str(nanos)
    text = f"{head}\x1f{moment}\x1f{_json_text(trace)}\x1f{_json_text(span)}\x1f[{attrs}]"
    return _uuid5(text)


def _session(attrs: Mapping[str, Any]) -> str | None:
    for key in _SESSION_KEYS:
        value = _text(attrs.get(key))
        if value:
            return value
    return None


def _mcp_split(tool: str) -> tuple[str, str] | None:
    """``mcp__<server>__<tool>`` -> (server, tool)."""
    if tool.startswith("mcp__"):
        server, sep, name = tool[5:].partition("__")
        if sep and server and name:
            return server, name
    return None


_KEEP: dict[tuple[str, ...], frozenset[str]] = {}
"""The attribute keys a mapper reads, with the context keys, per mapper (a handful)."""


class _Builder:
    """Collects events and counts for one payload."""

    def __init__(self, kind: Kind) -> None:
        self.result = OtlpResult(kind)

    def skip(self, signal: str, name: str) -> None:
        self.result.skipped[f"{signal}:{name}"] += 1

    def emit(
        self,
        event_type: str,
        timestamp: str,
        identity: str,
        attrs: Mapping[str, Any],
        *,
        used: Iterable[str],
        fields: Mapping[str, Any],
    ) -> None:
        event: dict[str, Any] = {
            "event_type": event_type,
            "timestamp": timestamp,
            "event_id": identity,
            "source": SOURCE,
        }
        session = _session(attrs)
        if session:
            event["session_id"] = session
        event.update({k: v for k, v in fields.items() if v is not None})
        self.result.events.append(event)
        keep = _KEEP.get(used) if used.__class__ is tuple else None
        if keep is None:
            keep = _CONTEXT_KEYS.union(used)
            if used.__class__ is tuple:
                _KEEP[used] = keep
        dropped = [k for k in attrs if k not in keep]
        if dropped:
            self.result.dropped_attributes.update(dropped)


# --- logs: Claude Code events ----------------------------------------------------------------


def _event_name(record_name: object, attrs: Mapping[str, Any], body: object) -> str | None:
    for candidate in (record_name, attrs.get("event.name"), body):
        if isinstance(candidate, str) and candidate:
            return candidate.removeprefix("claude_code.")
    return None


def _tool_params(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The MCP names in Claude Code's ``tool_parameters`` JSON (nothing else is read)."""
    raw = attrs.get("tool_parameters")
    if isinstance(raw, Mapping):
        params: Any = raw
    elif isinstance(raw, str) and raw.startswith("{"):
        try:
            params = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
    else:
        return {}
    if not isinstance(params, Mapping):
        return {}
    return {
        k: params[k] for k in ("mcp_server_name", "mcp_tool_name") if isinstance(params.get(k), str)
    }


def _map_tool_result(attrs: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    tool = _text(attrs.get("tool_name")) or _text(attrs.get("name"))
    if not tool:
        return None
    server = None
    params = _tool_params(attrs)
    if params.get("mcp_server_name") and params.get("mcp_tool_name"):
        server = params["mcp_server_name"]
        tool = f"mcp__{server}__{params['mcp_tool_name']}"
    elif (split := _mcp_split(tool)) is not None:
        server = split[0]
    success = _bool(attrs.get("success"))
    fields = {
        "tool": tool,
        "outcome": None if success is None else ("success" if success else "error"),
        "duration_seconds": _seconds(attrs.get("duration_ms")),
        "mcp_server": server,
        "error_type": _text(attrs.get("error_type")) if success is False else None,
    }
    used = ("tool_name", "name", "success", "duration_ms", "error_type", "tool_parameters")
    return fields, used


def _map_api_request(attrs: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    cost = as_float(attrs.get("cost_usd"))
    if cost is None and (micros := as_float(attrs.get("cost_usd_micros"))) is not None:
        cost = micros / 1_000_000
    fields = {
        "model": _text(attrs.get("model")),
        "input_tokens": _count(attrs.get("input_tokens")),
        "output_tokens": _count(attrs.get("output_tokens")),
        "cache_read_input_tokens": _count(attrs.get("cache_read_tokens")),
        "cache_creation_input_tokens": _count(attrs.get("cache_creation_tokens")),
        "cost_usd": cost if cost is None or cost >= 0 else None,
        "duration_seconds": _seconds(attrs.get("duration_ms")),
        "request_id": _text(attrs.get("request_id")),
        "agent": _text(attrs.get("agent.name")),
        "skill": _text(attrs.get("skill.name")),
    }
    used = (
        "model", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
        "cost_usd", "cost_usd_micros", "duration_ms", "request_id", "agent.name", "skill.name",
    )  # fmt: skip
    return fields, used


def _map_api_error(attrs: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    status = _count(attrs.get("status_code"))
    fields = {
        "model": _text(attrs.get("model")),
        "status_code": status,
        "attempt": _count(attrs.get("attempt")),
        "request_id": _text(attrs.get("request_id")),
        "error_type": f"http_{status}" if status else "connection",
        "duration_seconds": _seconds(attrs.get("duration_ms")),
    }
    return fields, ("model", "status_code", "attempt", "request_id", "duration_ms")


def _map_skill(attrs: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    skill = _text(attrs.get("skill.name"))
    if not skill:
        return None
    return {"skill": skill, "outcome": "started"}, ("skill.name",)


_LOG_MAPPERS: Final = {
    "tool_result": ("tool_call", _map_tool_result),
    "api_request": ("llm_request", _map_api_request),
    "api_error": ("llm_error", _map_api_error),
    "skill_activated": ("skill_execution", _map_skill),
}


def map_logs(payload: Mapping[str, Any]) -> OtlpResult:
    """Map an ``ExportLogsServiceRequest`` (OTLP/JSON dict shape) to events."""
    out = _Builder("logs")
    for resource_logs in items(payload, "resourceLogs"):
        resource = attributes(get(get(resource_logs, "resource") or {}, "attributes"))
        for scope_logs in items(resource_logs, "scopeLogs"):
            for record in items(scope_logs, "logRecords"):
                out.result.records += 1
                attrs = {**resource, **attributes(get(record, "attributes"))}
                _map_log_record(
                    out,
                    attrs,
                    _event_name(get(record, "eventName"), attrs, any_value(get(record, "body"))),
                    record,
                    nanos_of=_json_nanos,
                    ids_of=_json_ids,
                )
    return out.result


def map_logs_message(message: Any) -> OtlpResult:
    """Map an ``ExportLogsServiceRequest`` protobuf message to events, reading the messages
    directly: the same result as ``map_logs(message_to_dict(message))`` (the OTLP/HTTP
    receiver's hot path; ``tests/collect/test_otlp_proto_logs.py`` holds the two together)."""
    out = _Builder("logs")
    for resource_logs in message.resource_logs:
        resource = proto_attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                out.result.records += 1
                attrs = {**resource, **proto_attributes(record.attributes)}
                body = proto_any(record.body) if record.HasField("body") else None
                _map_log_record(
                    out,
                    attrs,
                    _event_name(getattr(record, "event_name", None), attrs, body),
                    record,
                    nanos_of=_proto_nanos,
                    ids_of=_proto_ids,
                )
    return out.result


def _json_nanos(record: Mapping[str, Any]) -> int | None:
    return as_int(get(record, "timeUnixNano")) or as_int(get(record, "observedTimeUnixNano"))


def _json_ids(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    return (
        normalize_id(get(record, "traceId"), length=16),
        normalize_id(get(record, "spanId"), length=8),
    )


def _proto_nanos(record: Any) -> int | None:
    nanos: int = record.time_unix_nano or record.observed_time_unix_nano
    return nanos or None


def _proto_ids(record: Any) -> tuple[str | None, str | None]:
    return proto_id(record.trace_id, length=16), proto_id(record.span_id, length=8)


def _map_log_record(
    out: _Builder,
    attrs: dict[str, Any],
    event_name: str | None,
    record: Any,
    *,
    nanos_of: Callable[[Any], int | None],
    ids_of: Callable[[Any], tuple[str | None, str | None]],
) -> None:
    """One log record, whichever encoding it came in (the record's time and ids are read only
    for a record that maps). `ai_telemetry.collect.otlp.proto_logs` has the same steps written
    out in its loop: change both."""
    name = event_name or "unnamed"
    mapper = _LOG_MAPPERS.get(name)
    if mapper is None:
        out.skip("log", name if name in _KNOWN_SKIPPED else "other")
        return
    event_type, fn = mapper
    mapped = fn(attrs)
    nanos = nanos_of(record)
    timestamp = _timestamp(nanos) or _iso(attrs.get("event.timestamp"))
    if mapped is None or timestamp is None:
        out.skip("log", f"{name} (incomplete)")
        return
    fields, used = mapped
    trace, span = ids_of(record)
    identity = _identity(
        "log", name, nanos, trace, span, sorted((k, repr(v)) for k, v in attrs.items())
    )
    out.emit(event_type, timestamp, identity, attrs, used=used, fields=fields)


_KNOWN_SKIPPED: Final = frozenset(
    {
        "user_prompt", "tool_decision", "assistant_response", "api_refusal", "api_request_body",
        "api_response_body", "permission_mode_changed", "auth", "mcp_server_connection",
        "internal_error", "plugin_installed", "plugin_loaded", "at_mention", "hook_registered",
    }
)  # fmt: skip
"""Claude Code events we know and deliberately do not store (named in the skip counts)."""


# --- metrics ---------------------------------------------------------------------------------

_DUPLICATE_METRICS: Final = frozenset({"claude_code.token.usage", "claude_code.cost.usage"})


def map_metrics(payload: Mapping[str, Any]) -> OtlpResult:
    """Map an ``ExportMetricsServiceRequest``: ``claude_code.session.count`` -> ``session_start``.

    A session's counter is exported again at every interval (cumulative temporality), so the
    event id depends on the session alone: every export of one session is the same event.
    """
    out = _Builder("metrics")
    for resource_metrics in items(payload, "resourceMetrics"):
        resource = attributes(get(get(resource_metrics, "resource") or {}, "attributes"))
        for scope_metrics in items(resource_metrics, "scopeMetrics"):
            for metric in items(scope_metrics, "metrics"):
                name = _text(get(metric, "name")) or "unnamed"
                data = None
                for shape in ("sum", "gauge", "histogram", "exponentialHistogram", "summary"):
                    data = get(metric, shape)
                    if data is not None:
                        break
                points = list(items(data, "dataPoints")) if isinstance(data, Mapping) else []
                out.result.records += len(points)
                if name != "claude_code.session.count":
                    reason = (
                        f"{name} (duplicates api_request)" if name in _DUPLICATE_METRICS else name
                    )
                    out.result.skipped[f"metric:{reason}"] += len(points)
                    continue
                for point in points:
                    attrs = {**resource, **attributes(get(point, "attributes"))}
                    value = as_float(get(point, "asInt")) or as_float(get(point, "asDouble"))
                    session = _session(attrs)
                    nanos = as_int(get(point, "startTimeUnixNano")) or as_int(
                        get(point, "timeUnixNano")
                    )
                    timestamp = _timestamp(nanos)
                    if not value or session is None or timestamp is None:
                        out.skip("metric", f"{name} (no session.id)")
                        continue
                    identity = _identity("session_start", session)
                    out.emit(
                        "session_start", timestamp, identity, attrs, used=("start_type",), fields={}
                    )
    return out.result
