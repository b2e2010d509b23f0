"""Usage accounting: tokens and cost per day, week, month, session and 5-hour block.

This module is the one place the usage numbers are computed: `usage_document` and
`blocks_document` build the documents that ``ai-telemetry usage ...`` prints (as text and with
``--json``), that the statusline reads, and that the server will serve.

Rules:

- **One response, one count.** ``llm_request`` events are de-duplicated by request id (else
  message id, else event id), keeping the copy with the most tokens: the transcript import,
  the hook and OTLP may all have seen the same response.
- **Buckets follow the time zone** (``--timezone``, default UTC as the seed says): a day is a
  local calendar day, a week starts on Monday (ISO), a month is a calendar month. ``--since``
  and ``--until`` are local days, both included.
- **Cache writes apart.** ``cache_creation_1h_input_tokens`` of an event are 1-hour writes; the
  rest of ``cache_creation_input_tokens`` are 5-minute writes.
- **Blocks** are Claude's 5-hour usage windows, as ccusage computes them: a block starts at the
  hour (UTC) of its first response and lasts 5 hours; a response after the block's end, or more
  than 5 hours after the previous response, starts a new block. The *active* block is the one
  whose end is still ahead and whose last response is less than 5 hours ago; its burn rate is
  its tokens (cost) per hour between its first and last response, and its projection adds that
  rate times the minutes left.
- **Skills.** ``--breakdown skill`` puts, beside each skill's cost, its finished runs and success
  rate in the same bucket (runs paired as in METRICS.md, by the bucket of their start).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Final, cast

from ai_telemetry.errors import AnalyticsError

if TYPE_CHECKING:
    from ai_telemetry.documents.types import (
        UsageBlock,
        UsageBlocksDocument,
        UsageBreakdownRow,
        UsageDocument,
        UsageRow,
        UsageTokens,
    )
    from ai_telemetry.ports import Store

REPORTS: Final = ("daily", "weekly", "monthly", "session")
BREAKDOWNS: Final = ("model", "project", "skill", "agent")
BLOCK: Final = timedelta(hours=5)
NONE_NAME: Final = "(none)"


@dataclass(frozen=True, slots=True)
class Response:
    """One API response, counted once."""

    ts: datetime
    model: str
    project: str | None
    skill: str | None
    agent: str | None
    session_id: str | None
    input: int
    output: int
    write_5m: int
    write_1h: int
    read: int
    cost: float | None


@dataclass(slots=True)
class Tally:
    """Running sums of some responses."""

    requests: int = 0
    input: int = 0
    output: int = 0
    write_5m: int = 0
    write_1h: int = 0
    read: int = 0
    cost: float = 0.0
    unpriced: int = 0
    models: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, r: Response) -> None:
        self.requests += 1
        self.input += r.input
        self.output += r.output
        self.write_5m += r.write_5m
        self.write_1h += r.write_1h
        self.read += r.read
        if r.cost is None:
            self.unpriced += 1
        else:
            self.cost += r.cost
        self.models.add(r.model)
        self.first = r.ts if self.first is None else min(self.first, r.ts)
        self.last = r.ts if self.last is None else max(self.last, r.ts)

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.write_5m + self.write_1h + self.read

    def doc(self) -> UsageTokens:
        return {
            "requests": self.requests,
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_creation_5m_tokens": self.write_5m,
            "cache_creation_1h_tokens": self.write_1h,
            "cache_read_tokens": self.read,
            "total_tokens": self.tokens,
            "cost_usd": round(self.cost, 6),
            "unpriced_requests": self.unpriced,
        }


# --- options -------------------------------------------------------------------------------


def parse_timezone(name: str) -> tzinfo:
    """An IANA zone (``Europe/Berlin``) or ``UTC``.

    Raises:
        AnalyticsError: the zone is unknown.
    """
    if name.upper() in ("UTC", "Z"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AnalyticsError(
            f"--timezone {name!r}: unknown time zone; give an IANA name such as UTC, "
            "Europe/Berlin or America/New_York"
        ) from None


def parse_day(text: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` or ``YYYYMMDD`` (ccusage's form).

    Raises:
        AnalyticsError: not a date.
    """
    if text is None:
        return None
    raw = text.strip()
    if len(raw) == 8 and raw.isdigit():
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise AnalyticsError(
            f"{option} {text!r}: give a day, e.g. 2026-03-01 or 20260301"
        ) from None


def utc_range(since: date | None, until: date | None, zone: tzinfo) -> tuple[datetime, datetime]:
    """``[since 00:00, until+1 00:00)`` local, as naive UTC for the warehouse."""
    lo = datetime(1970, 1, 1)
    hi = datetime(9999, 1, 1)
    if since is not None:
        lo = datetime(since.year, since.month, since.day, tzinfo=zone).astimezone(UTC)
        lo = lo.replace(tzinfo=None)
    if until is not None:
        nxt = until + timedelta(days=1)
        hi = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)
        hi = hi.replace(tzinfo=None)
    if lo >= hi:
        raise AnalyticsError("--since is after --until; give --since on or before --until")
    return lo, hi


# --- reading -------------------------------------------------------------------------------


def load_responses(
    store: Store,
    lo: datetime,
    hi: datetime,
    *,
    session_id: str | None = None,
    project: str | None = None,
) -> list[Response]:
    """The responses of ``[lo, hi)`` (naive UTC), each once, oldest first (of one session, of
    one project)."""
    out = []
    for row in store.llm_responses(lo, hi, session_id=session_id, project=project):
        ts, model, project, skill, agent, session, i, o, cc, c1h, cr, cost = row
        write_1h = min(int(c1h), int(cc))
        out.append(
            Response(
                ts.replace(tzinfo=UTC),
                str(model),
                project,
                skill,
                agent,
                session,
                int(i),
                int(o),
                int(cc) - write_1h,
                write_1h,
                int(cr),
                None if cost is None else float(cost),
            )
        )
    return out


def load_skill_runs(
    store: Store, lo: datetime, hi: datetime, *, project: str | None = None
) -> list[tuple[str, datetime, str]]:
    """Finished skill runs (skill, start in UTC, outcome) whose start is in ``[lo, hi)``."""
    runs = store.skill_runs(lo, hi, project=project)
    return [(n, ts.replace(tzinfo=UTC), o) for n, ts, o in runs]


# --- buckets -------------------------------------------------------------------------------


def bucket_function(report: str, zone: tzinfo) -> Callable[[Response], str]:
    """Response -> its row key for ``report`` (daily, weekly, monthly, session)."""

    def local(ts: datetime) -> date:
        return ts.astimezone(zone).date()

    if report == "daily":
        return lambda r: local(r.ts).isoformat()
    if report == "weekly":
        return lambda r: (local(r.ts) - timedelta(days=local(r.ts).weekday())).isoformat()
    if report == "monthly":
        return lambda r: f"{local(r.ts):%Y-%m}"
    if report == "session":
        return lambda r: r.session_id or NONE_NAME
    raise AnalyticsError(f"usage {report!r}: choose one of {', '.join(REPORTS)}")


def _attribute(r: Response, breakdown: str) -> str:
    value: str | None = getattr(r, breakdown)
    return value or NONE_NAME


def _utc(ts: datetime | None) -> str:
    from ai_telemetry.documents import utc_text

    return utc_text(ts) or ""


def _breakdown_rows(
    responses: Iterable[Response],
    breakdown: str,
    runs: Sequence[tuple[str, str]] = (),
) -> list[UsageBreakdownRow]:
    """Per name of ``breakdown``, most cost first; ``runs`` = (skill, outcome) of the bucket."""
    tallies: dict[str, Tally] = {}
    for r in responses:
        tallies.setdefault(_attribute(r, breakdown), Tally()).add(r)
    if breakdown == "skill":  # a skill that ran without attributed usage still shows its rate
        for skill, _ in runs:
            tallies.setdefault(skill, Tally())
    out: list[UsageBreakdownRow] = []
    for name, t in sorted(tallies.items(), key=lambda kv: (-kv[1].cost, -kv[1].tokens, kv[0])):
        row = cast("UsageBreakdownRow", {"name": name, **t.doc()})
        if breakdown == "skill":
            outcomes = [o for s, o in runs if s == name]
            row["skill_runs"] = len(outcomes)
            row["skill_success_rate"] = (
                outcomes.count("success") / len(outcomes) if outcomes else None
            )
        out.append(row)
    return out


def _unpriced(responses: Iterable[Response]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in responses:
        if r.cost is None:
            out[r.model] = out.get(r.model, 0) + 1
    return dict(sorted(out.items()))


def usage_document(
    store: Store,
    report: str,
    *,
    since: date | None = None,
    until: date | None = None,
    timezone: str = "UTC",
    breakdown: str | None = None,
    project: str | None = None,
) -> UsageDocument:
    """The ``usage daily|weekly|monthly|session`` document (of ``project`` only, when given).

    Raises:
        AnalyticsError: unknown report, breakdown or time zone, or since after until.
    """
    from ai_telemetry.documents import header

    zone = parse_timezone(timezone)
    if breakdown is not None and breakdown not in BREAKDOWNS:
        raise AnalyticsError(f"--breakdown {breakdown!r}: choose one of {', '.join(BREAKDOWNS)}")
    key_of = bucket_function(report, zone)
    lo, hi = utc_range(since, until, zone)
    responses = load_responses(store, lo, hi, project=project)
    groups: dict[str, list[Response]] = {}
    for r in responses:
        groups.setdefault(key_of(r), []).append(r)
    runs_by_key: dict[str, list[tuple[str, str]]] = {}
    if breakdown == "skill":
        for skill, ts, outcome in load_skill_runs(store, lo, hi, project=project):
            probe = Response(ts, "", None, skill, None, None, 0, 0, 0, 0, 0, None)
            if report == "session":
                continue  # runs have sessions, but the bucket of a run is its time here
            runs_by_key.setdefault(key_of(probe), []).append((skill, outcome))
    rows: list[UsageRow] = []
    for key, members in sorted(groups.items(), key=lambda kv: (kv[1][0].ts, kv[0])):
        tally = Tally()
        for r in members:
            tally.add(r)
        row = cast(
            "UsageRow",
            {
                "key": key,
                **tally.doc(),
                "models": sorted(tally.models),
                "first": _utc(tally.first),
                "last": _utc(tally.last),
            },
        )
        if report == "session":
            projects = [r.project for r in members if r.project]
            row["project"] = projects[0] if projects else None
        if breakdown is not None:
            row["breakdown"] = _breakdown_rows(members, breakdown, runs_by_key.get(key, []))
        rows.append(row)
    total = Tally()
    for r in responses:
        total.add(r)
    return {
        **header(f"usage {report}"),
        "report": report,
        "project": project,
        "timezone": timezone if zone is not UTC else "UTC",
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "breakdown": breakdown,
        "rows": rows,
        "totals": total.doc(),
        "unpriced_models": _unpriced(responses),
    }


# --- blocks --------------------------------------------------------------------------------


def split_blocks(responses: Sequence[Response]) -> list[tuple[datetime, list[Response]]]:
    """(block start, its responses) in order; see the module docstring for the rule."""
    blocks: list[tuple[datetime, list[Response]]] = []
    for r in responses:
        if blocks:
            start, members = blocks[-1]
            if r.ts < start + BLOCK and r.ts - members[-1].ts < BLOCK:
                members.append(r)
                continue
        blocks.append((r.ts.replace(minute=0, second=0, microsecond=0), [r]))
    return blocks


def _block_doc(
    start: datetime,
    members: list[Response],
    now: datetime,
    breakdown: str | None,
) -> UsageBlock:
    tally = Tally()
    for r in members:
        tally.add(r)
    end = start + BLOCK
    assert tally.first is not None and tally.last is not None
    active = tally.first <= now < end and now - tally.last < BLOCK
    doc = cast(
        "UsageBlock",
        {
            "start": _utc(start),
            "end": _utc(end),
            "first": _utc(tally.first),
            "last": _utc(tally.last),
            "active": active,
            "models": sorted(tally.models),
            **tally.doc(),
        },
    )
    if active:
        remaining = (end - now).total_seconds() / 60
        hours = (tally.last - tally.first).total_seconds() / 3600
        doc["remaining_minutes"] = round(remaining, 1)
        if hours > 0:
            token_rate = tally.tokens / hours
            cost_rate = tally.cost / hours
            doc["burn_tokens_per_hour"] = round(token_rate, 1)
            doc["burn_cost_per_hour"] = round(cost_rate, 6)
            doc["projected_tokens"] = round(tally.tokens + token_rate * remaining / 60)
            doc["projected_cost_usd"] = round(tally.cost + cost_rate * remaining / 60, 6)
        else:  # one instant: no rate yet
            doc["burn_tokens_per_hour"] = None
            doc["burn_cost_per_hour"] = None
            doc["projected_tokens"] = None
            doc["projected_cost_usd"] = None
    if breakdown is not None:
        doc["breakdown"] = _breakdown_rows(members, breakdown)
    return doc


def blocks_document(
    store: Store,
    *,
    since: date | None = None,
    until: date | None = None,
    timezone: str = "UTC",
    breakdown: str | None = None,
    now: datetime | None = None,
    project: str | None = None,
) -> UsageBlocksDocument:
    """The ``usage blocks`` document (``now`` decides the active block; default: the clock; of
    ``project`` only, when given).

    Raises:
        AnalyticsError: unknown breakdown or time zone, or since after until.
    """
    from ai_telemetry.documents import header

    zone = parse_timezone(timezone)
    if breakdown is not None and breakdown not in BREAKDOWNS:
        raise AnalyticsError(f"--breakdown {breakdown!r}: choose one of {', '.join(BREAKDOWNS)}")
    moment = now or datetime.now(UTC)
    lo, hi = utc_range(since, until, zone)
    responses = load_responses(store, lo, hi, project=project)
    blocks = [_block_doc(s, m, moment, breakdown) for s, m in split_blocks(responses)]
    total = Tally()
    for r in responses:
        total.add(r)
    active = [b for b in blocks if b["active"]]
    return {
        **header("usage blocks"),
        "project": project,
        "timezone": timezone if zone is not UTC else "UTC",
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "breakdown": breakdown,
        "blocks": blocks,
        "active": active[-1] if active else None,
        "totals": total.doc(),
        "unpriced_models": _unpriced(responses),
    }


def week_skill_success_rate(store: Store, now: datetime) -> float | None:
    """Of skill runs started in the 7 days before ``now``, the share that succeeded."""
    end = now.astimezone(UTC).replace(tzinfo=None)
    runs = load_skill_runs(store, end - timedelta(days=7), end)
    return sum(o == "success" for _, _, o in runs) / len(runs) if runs else None
