"""Reading report files: every failure becomes a `ReportFormatError` naming the file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ai_telemetry.errors import ReportFormatError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


def read_bytes(path: Path, what: str) -> bytes:
    """The file's bytes.

    Raises:
        ReportFormatError: the file cannot be read.
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReportFormatError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None


def load_json(path: Path, data: bytes, what: str, hint: str) -> Any:
    """Parse JSON, or say which file is broken and how to produce a good one.

    Raises:
        ReportFormatError: not JSON.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ReportFormatError(f"{path}: not a {what}: not valid JSON ({exc}); {hint}") from None


def load_xml(path: Path, data: bytes, what: str, hint: str) -> Element:
    """Parse XML safely (no entity expansion, no external entities).

    Raises:
        ReportFormatError: not well-formed XML, or it uses entities we refuse to expand.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data)
    except ParseError as exc:
        raise ReportFormatError(
            f"{path}: not a {what}: not well-formed XML ({exc}); {hint}"
        ) from None
    except DefusedXmlException as exc:
        raise ReportFormatError(f"{path}: refused to parse the {what}: {exc}") from None


def local_name(tag: str) -> str:
    """An element's tag without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def number(path: Path, value: str | None, name: str) -> float | None:
    """An XML attribute as a number (None when absent).

    Raises:
        ReportFormatError: present but not a finite number.
    """
    if value is None or value.strip() == "":
        return None
    try:
        result = float(value)
    except ValueError:
        raise ReportFormatError(f"{path}: attribute {name}={value!r} is not a number") from None
    if not math.isfinite(result):
        raise ReportFormatError(f"{path}: attribute {name}={value!r} is not a finite number")
    return result
