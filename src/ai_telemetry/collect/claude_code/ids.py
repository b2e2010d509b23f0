"""Deterministic event ids, shared by the hook and the transcript importer.

An event that can be seen twice (a response re-read from a grown transcript, a session seen by
both the hook and the importer) gets an ``event_id`` derived from what identifies it, so the
warehouse's de-duplication by ``event_id`` keeps one. Only ``hashlib`` is imported: the hook
path stays cheap.
"""

from __future__ import annotations

import hashlib


def stable_event_id(*parts: str) -> str:
    """A UUID-shaped id (version 8, RFC 9562) from the SHA-256 of ``parts``.

    Args:
        *parts: what identifies the event, e.g. ``("llm_request", message_id, request_id)``.

    Returns:
        The same 36-character id for the same parts, in every process and run.
    """
    digest = hashlib.sha256("\x1f".join(("ai-telemetry/claude-code", *parts)).encode()).digest()
    value = int.from_bytes(digest[:16], "big")
    value = (value & ~(0xF << 76)) | (0x8 << 76)  # version 8: custom
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def session_event_id(session_id: str, kind: str) -> str:
    """The id of a session's ``session_start`` or ``session_end`` event (hook and import agree)."""
    return stable_event_id(kind, session_id)
