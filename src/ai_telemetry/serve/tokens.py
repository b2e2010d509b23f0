"""The team server's access tokens: ``ai-telemetry token create|list|revoke``.

A token is ``att_`` and 43 URL-safe characters (256 random bits), shown once when it is
created. Only its SHA-256 is kept, in ``serve-tokens.json`` in the telemetry directory (mode
0600, replaced atomically): with 256 bits of entropy a fast hash is enough (there is nothing to
guess from it), and the server can check a request with one hash and constant-time compares.
A revoked token stays listed (name, role, when) so its name is not reused by mistake.

The file is separate from ``config.toml`` on purpose: ``config.toml`` is edited by hand (and
may be committed with a repository), while this file is written by the commands only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

import orjson

from ai_telemetry.errors import ConfigError
from ai_telemetry.log.files import atomic_write, open_file

Role = Literal["meta_updater", "program_director", "tech_lead", "collector"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
"""The seed's Access Control (META_UPDATER read/write, Program Director read, Tech Lead
read/write, External none) plus ``collector``: write-only, for machines that only send."""

TOKENS_FILE: Final = "serve-tokens.json"
TOKEN_PREFIX: Final = "att_"  # noqa: S105 - the prefix that marks our tokens, not a secret
NAME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
"""A token's name: it becomes part of the events' ``source`` (``hook:laptop-ana``), so it
follows the event contract's name rule, at most 64 characters."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One token as stored (never the token itself).

    Attributes:
        name: who or what holds it (``laptop-ana``, ``ci``, ``meta-updater``).
        role: one of `ROLES`.
        digest: hex SHA-256 of the token.
        created_at: RFC 3339 UTC.
        revoked_at: RFC 3339 UTC, or None while the token is valid.
    """

    name: str
    role: Role
    digest: str
    created_at: str
    revoked_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "sha256": self.digest,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sent a request: the token's name and role."""

    name: str
    role: Role


def tokens_path(telemetry_dir: Path) -> Path:
    """Where the token hashes of a telemetry directory are kept."""
    return Path(telemetry_dir) / TOKENS_FILE


def digest_of(token: str) -> str:
    """Hex SHA-256 of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def read_tokens(path: Path) -> list[TokenRecord]:
    """The records in a token file (a missing file holds none).

    Raises:
        ConfigError: the file cannot be read or is not a token file (the message names it).
    """
    try:
        with open_file(path, "rb") as handle:
            data = orjson.loads(handle.read())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the token file ({exc.strerror or exc})") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc}); restore it or delete it") from None
    rows = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ConfigError(f"{path}: expected an object with a list of tokens")
    records: list[TokenRecord] = []
    for number, row in enumerate(rows, start=1):
        records.append(_record(row, f"{path}: token {number}"))
    return records


def _record(row: object, where: str) -> TokenRecord:
    if not isinstance(row, Mapping):
        raise ConfigError(f"{where} is not an object")
    name, role, digest = row.get("name"), row.get("role"), row.get("sha256")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ConfigError(f"{where}: name {name!r} is not a token name")
    if role not in ROLES:
        raise ConfigError(f"{where} ({name}): role {role!r} is not one of {', '.join(ROLES)}")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ConfigError(f"{where} ({name}): sha256 is not a hex SHA-256")
    created = row.get("created_at")
    revoked = row.get("revoked_at")
    return TokenRecord(
        name=name,
        role=role,
        digest=digest,
        created_at=str(created or ""),
        revoked_at=str(revoked) if revoked else None,
    )


def _write_tokens(path: Path, records: Iterable[TokenRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = orjson.dumps({"tokens": [r.to_json() for r in records]}, option=orjson.OPT_INDENT_2)
    try:
        atomic_write(path, body + b"\n", perms=0o600)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the token file ({exc.strerror or exc})") from None


def create_token(
    telemetry_dir: Path,
    *,
    name: str,
    role: str,
    make_secret: Callable[[], str] = lambda: secrets.token_urlsafe(32),
) -> str:
    """Create a token, store its hash, and return the token (the only time it is seen).

    Raises:
        ConfigError: a bad name or role, or a token of that name exists (revoked ones too).
    """
    if not NAME_RE.fullmatch(name):
        raise ConfigError(
            f"token name {name!r}: start with a letter, then letters, digits, '_', '.' or "
            "'-', at most 64 characters (it becomes part of the events' source)"
        )
    if role not in ROLES:
        raise ConfigError(f"role {role!r}: use one of {', '.join(ROLES)}")
    path = tokens_path(telemetry_dir)
    records = read_tokens(path)
    if any(r.name == name for r in records):
        raise ConfigError(
            f"a token named {name!r} exists already in {path}; pick another name "
            "(revoked names stay taken)"
        )
    token = TOKEN_PREFIX + make_secret()
    records.append(TokenRecord(name, role, digest_of(token), _now()))
    _write_tokens(path, records)
    return token


def revoke_token(telemetry_dir: Path, name: str) -> TokenRecord:
    """Revoke the token called ``name``; a running server refuses it from its next request.

    Raises:
        ConfigError: there is no valid token of that name.
    """
    path = tokens_path(telemetry_dir)
    records = read_tokens(path)
    for index, record in enumerate(records):
        if record.name == name and record.revoked_at is None:
            revoked = TokenRecord(
                record.name, record.role, record.digest, record.created_at, _now()
            )
            records[index] = revoked
            _write_tokens(path, records)
            return revoked
    known = ", ".join(r.name for r in records if r.revoked_at is None) or "none"
    raise ConfigError(f"no valid token named {name!r} in {path} (valid: {known})")


class TokenStore:
    """The valid tokens of a telemetry directory, re-read when the file changes.

    A ``stat`` per request notices ``token create``/``revoke`` at once, without a restart.
    """

    def __init__(self, telemetry_dir: Path) -> None:
        self.path = tokens_path(telemetry_dir)
        self._stamp: tuple[int, int, int] | None = None
        self._valid: tuple[tuple[bytes, Principal], ...] = ()
        self.refresh()

    def refresh(self) -> None:
        """Re-read the file when its size, mtime or inode changed.

        Raises:
            ConfigError: the file is broken (at start; later, the last good list is kept).
        """
        try:
            st = self.path.stat()
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp and (stamp is not None or not self._valid):
            return
        records = read_tokens(self.path)
        self._valid = tuple(
            (bytes.fromhex(r.digest), Principal(r.name, r.role))
            for r in records
            if r.revoked_at is None
        )
        self._stamp = stamp

    @property
    def count(self) -> int:
        """How many valid tokens there are."""
        return len(self._valid)

    def principal(self, token: str) -> Principal | None:
        """Who holds ``token``, or None (unknown or revoked).

        Every stored hash is compared, in constant time each, so the time taken does not tell
        which (or whether a) token matched.
        """
        with suppress(ConfigError):  # keep the last good list rather than lock everyone out
            self.refresh()
        presented = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found: Principal | None = None
        for digest, principal in self._valid:
            if hmac.compare_digest(digest, presented):
                found = principal
        return found


__all__ = [
    "ROLES",
    "TOKENS_FILE",
    "Principal",
    "Role",
    "TokenRecord",
    "TokenStore",
    "create_token",
    "digest_of",
    "read_tokens",
    "revoke_token",
    "tokens_path",
]
