"""Privacy guard: what may enter the log, applied before anything is written.

Two nets, in this order:

1. **Allowlist.** Only the fields of the event's type (``schema.fields_for``) are kept; any other
   key is dropped and counted, whatever the policy (fail closed). Containers (lists, dicts) are
   dropped from every field: a nested dict could hide an e-mail in an error message.
2. **Detectors.** String values are scanned for personal data and secrets: e-mail addresses,
   phone numbers, postal addresses, SSN and MRN-like numbers, dates (birth dates and schedule
   assignments), people's names in any script (titles, name lists from `_world_names`), provider
   API keys and tokens, JWTs, private keys, credentials in URLs and ``key=value`` pairs, card
   numbers of every ISO/IEC 7812 length, and home directories that name their user (rewritten
   to ``/home/<user>/``, not removed). Every pattern is bounded, so a long value costs linear
   time; one longer than `SCAN_LIMIT`, or one a detector fails on, is replaced by a marker
   (fail closed), and free text in ``error_type`` is reduced to its error type.

Policy ``redact`` puts a marker such as ``"[REDACTED:email]"`` in place of a value and adds the
number of removed values to the event's ``redacted`` field; policy ``reject`` raises
`PrivacyViolation` naming the field and the category. The removed value itself is never kept:
not in the marker, not in the exception, not in any log.

Import is cheap: patterns compile on first use (`_Detectors`), the multilingual name lists load
per script only for a value that could be a name, and a guard remembers values it has already
found clean, so the skill, tool and project names that repeat on every event cost a set lookup.
`DETECTOR_VERSION` keys any saved list of clean values.
"""

from __future__ import annotations

import re

from ai_telemetry.errors import PrivacyViolation
from ai_telemetry.events.schema import fields_for, is_canonical_timestamp

TYPE_CHECKING = False  # `typing` stays out of the hook's import path
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping
    from typing import Any, Final, Literal

# --- categories ---------------------------------------------------------------------------

CATEGORIES: Final[dict[str, str]] = {
    "private_key": "a private key",
    "jwt": "a JSON Web Token",
    "url_credentials": "a URL with credentials",
    "aws_access_key": "an AWS access key",
    "github_token": "a GitHub token",
    "slack_token": "a Slack token or webhook",
    "stripe_key": "a Stripe key",
    "anthropic_key": "an Anthropic API key",
    "openai_key": "an OpenAI API key",
    "google_api_key": "a Google API key or OAuth token",
    "api_token": "an API token",
    "secret": "a password, key or token assignment",
    "bearer_token": "a bearer or basic authorization credential",
    "email": "an e-mail address",
    "credit_card": "a payment card number",
    "ssn": "a social security number",
    "mrn": "a medical record or patient number",
    "phone": "a phone number",
    "date_of_birth": "a date of birth",
    "schedule": "a schedule assignment (a date or rotation)",
    "address": "a postal address",
    "person_name": "a person's name",
    "ip_address": "an IP address",
    "user_path": "a home directory that names its user",
    "oversize": "a value too long to scan",
    "unscanned": "a value the detectors could not scan",
}
"""Every category the detectors report, with the phrase used in messages."""

SCANNED_KINDS: Final = frozenset({"text", "name", "id"})
"""Field kinds whose string values are always scanned."""

_SCALARS: Final = (str, int, float, bool)
DETECTOR_VERSION: Final = "4"  # 4: the shipped names-dataset selection
"""Bumped whenever a detector changes what it finds: a saved list of clean values
(`PrivacyGuard.known_clean`) is only reused under the same `DETECTOR_VERSION`."""

SCAN_LIMIT: Final = 262_144
"""Longest value scanned (characters). A longer one cannot be shown safe in bounded time and is
dropped from the event (fail closed; the event is still written)."""

REWRITTEN: Final = frozenset({"user_path"})
"""Categories repaired in place (under both policies) rather than replaced by a marker."""
DROPPED: Final = frozenset({"oversize", "unscanned"})
"""Categories whose value is replaced by a marker under both policies (fail closed: nothing was
shown safe, yet the event is still written, with its field reduced to the marker)."""

_LOWER_UUID: Final = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch
"""A lower-case UUID, the shape of nearly every ``event_id`` (each one new, so never in the
clean cache): `_Detectors.detect` finds nothing in one, whatever its digits. It holds no
provider prefix (`_token_hint` needs ``A``, ``_``, ``sk-``, ``xox``, ...), no ``@``, ``=``,
``:``, space, ``.`` or ``_``; its digits are skipped as a hex id (`hex_id`), and it is ASCII;
and `rewrite_home` leaves it alone. So the guard answers "clean" without the scan, exactly what
the scan answers (``tests/events/test_privacy_uuid_shortcut.py`` holds a new detector to it)."""
_lower_uuids: list[Any] = []


def lower_uuids(values: Collection[str]) -> bool:
    """True when every value is a lower-case UUID (`_LOWER_UUID`): a column of ids in one call
    (the pattern compiled on first use, off the hook's path). The length rules out a value
    holding a newline passing as two lines."""
    if not _lower_uuids:
        uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        _lower_uuids.append(re.compile(f"(?:{uuid}\n)*{uuid}").fullmatch)
    joined = "\n".join(values)
    return len(joined) == 37 * len(values) - 1 and _lower_uuids[0](joined) is not None


_CACHE_LIMIT: Final = 4096
_CACHE_MAX_LEN: Final = 160


def marker(category: str) -> str:
    """The value written in place of a removed one, e.g. ``[REDACTED:email]``."""
    return f"[REDACTED:{category}]"


class Finding:
    """One value the guard would remove: which field, and what it looked like (never the value).

    A plain slotted class rather than a dataclass: building a dataclass costs about a millisecond
    at import, and this module sits on the Claude Code hook's start-up path.
    """

    __slots__ = ("category", "field")

    def __init__(self, field: str, category: str) -> None:
        self.field = field
        self.category = category

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return (self.field, self.category) == (other.field, other.category)

    def __hash__(self) -> int:
        return hash((self.field, self.category))

    def __repr__(self) -> str:
        return f"Finding(field={self.field!r}, category={self.category!r})"

    def describe(self) -> str:
        """One line for messages, e.g. ``skill: looks like an e-mail address``."""
        return f"{self.field}: looks like {CATEGORIES.get(self.category, self.category)}"


# --- detectors ----------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d\d"
# USPS street suffixes (Publication 28, C1) and common UK ones, with the usual abbreviations.
_STREET_SUFFIX = (
    r"(?:(?:Alley|Avenue|Boulevard|Branch|Bridge|Brook|Burg|Bypass|Camp|Canyon|Cape|Causeway"
    r"|Center|Circle|Cliff|Close|Club|Common|Corner|Course|Court|Cove|Creek|Crescent|Crest"
    r"|Crossing|Crossroad|Curve|Dale|Dam|Divide|Drive|Estate|Expressway|Extension|Fall|Ferry"
    r"|Field|Flat|Ford|Forest|Forge|Fork|Fort|Freeway|Garden|Gateway|Glen|Green|Grove|Harbor"
    r"|Haven|Height|Highway|Hill|Hollow|Inlet|Island|Isle|Junction|Key|Knoll|Lake|Land|Landing"
    r"|Lane|Light|Loaf|Lock|Lodge|Loop|Mall|Manor|Meadow|Mews|Mill|Mission|Motorway|Mount"
    r"|Mountain|Neck|Orchard|Oval|Overpass|Park|Parkway|Pass|Passage|Path|Pike|Pine|Place"
    r"|Plain|Plaza|Point|Port|Prairie|Radial|Ramp|Ranch|Rapid|Rest|Ridge|River|Road|Route|Row"
    r"|Rue|Run|Shoal|Shore|Skyway|Spring|Spur|Square|Station|Stravenue|Stream|Street|Summit"
    r"|Terrace|Throughway|Trace|Track|Trafficway|Trail|Tunnel|Turnpike|Underpass|Union|Valley"
    r"|Via|Viaduct|View|Village|Ville|Vista|Walk|Wall|Way|Well|Yard)s?"
    r"|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Pkwy|Hwy|Cir|Sq|Trl|Cres|Expy|Fwy|Mt|Ft)\.?)"
)
_NAME_STOP_LAST_TEXT = (  # second halves of dotted words that are not surnames
    "py js ts md json yaml yml toml txt log csv cfg ini sh rs go rb java html css lock env "
    "config test tests spec main init utils core api cli sdk app id ids name path dir file data "
    "jsonl tmp bak old new dev prod local example com org net io ai co uk de fr us edu gov "
    "error errors info debug run get set add update delete create list value values type types "
    "events event skill skills agent agents tool tools start end done ready status"
)
_NAME_STOP_LAST: Final = frozenset(_NAME_STOP_LAST_TEXT.split())


class _Detectors:
    """Compiled patterns, built once on first use so importing the guard stays cheap."""

    def __init__(self) -> None:
        c = re.compile
        self.pem = c(r"PRIVATE KEY(?: BLOCK)?-----|-----BEGIN [A-Z0-9 ]*PRIVATE")
        self.jwt = c(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
        self.tokens = c(
            r"(?P<aws_access_key>(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA"
            r"|ANVA|APKA|ASCA)[A-Z0-9]{16}(?![A-Z0-9]))"
            r"|(?P<github_token>(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,251}"
            r"|github_pat_[A-Za-z0-9_]{22,255}))"
            r"|(?P<slack_token>xox[abposrec]-[A-Za-z0-9-]{10,}"
            r"|hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]{16,})"
            r"|(?P<stripe_key>(?<![A-Za-z0-9])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"
            r"|whsec_[A-Za-z0-9]{24,})"
            r"|(?P<anthropic_key>sk-ant-[A-Za-z0-9_-]{20,})"
            r"|(?P<openai_key>(?<![A-Za-z0-9])sk-(?:proj-|svcacct-|admin-)?"
            r"(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{20,})"
            r"|(?P<google_api_key>AIza[0-9A-Za-z_-]{35}|ya29\.[0-9A-Za-z_-]{20,})"
            r"|(?P<api_token>glpat-[0-9A-Za-z_-]{20,}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z]{30,}"
            r"|SG\.[\w-]{16,}\.[\w-]{16,}|dop_v1_[a-f0-9]{64}|shpat_[a-fA-F0-9]{32}"
            r"|pypi-[A-Za-z0-9_-]{50,})"
        )
        self.url_creds = c(r"[A-Za-z][A-Za-z0-9+.-]*://(?:[^\s/?#@:]*:[^\s/?#@]+|[^\s/?#@:]{20,})@")
        # Bounded runs ({1,64}: RFC 5321's local-part limit) keep the scan linear on a long
        # value; domains may be internationalised (``zoë@exämple.de``, ``user@例え.jp``), and an
        # address glued to ``_`` (``mcp__jose.muller@example.com__send``) still counts.
        self.email = c(
            r"[\w.+%'!#$&*=?^`{|}~/-]{1,64}@(?:[^\W_]|-){1,63}(?:\.(?:[^\W_]|-){1,63}){0,125}"
            r"\.(?:[^\W\d_]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,59})(?![^\W_]|-)"
            r"|(?i:[\w.+-]{1,64}\s{0,3}[\[(]\s{0,3}at\s{0,3}[\])]\s{0,3}[\w-]{1,63}\s{0,3}"
            r"[\[(]\s{0,3}dot\s{0,3}[\])]\s{0,3}[a-z]{2,})"
        )
        self.secret = c(
            r"(?i)(?<![a-z])(?:api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret(?:[_-]?key)?"
            r"|client[_-]?secret|auth[_-]?token|access[_-]?token|refresh[_-]?token|token"
            r"|passw(?:or)?d|pwd|pass|passphrase|private[_-]?key|credentials?|key|auth|sig"
            r"|signature)[\"']?\s*[=:]\s*[\"']?(?!\[REDACTED)[^\s\"',;]{6,}"
        )
        self.bearer = c(
            r"(?i)\b(?:bearer|token)\s+[A-Za-z0-9._~+/-]{16,}=*|\bbasic\s+[A-Za-z0-9+/]{12,}={0,2}"
        )
        self.card = c(r"(?<![\w.-])\d(?:[ -]?\d){11,18}(?![\w-])")
        self.ssn = c(
            r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])"
            r"|(?i:\b(?:ssn|ss#|social security(?: number| no\.?)?)\s*[:#=]?\s*\d{3}[- ]?\d{2}"
            r"[- ]?\d{4}\b)"
        )
        self.mrn = c(
            r"(?i)\b(?:mrn|mr#|medical record(?: number| no\.?| #)?|patient(?: ?id| no\.?"
            r"| number| #)?|chart(?: no\.?| #| number)|nhs(?: number| no\.?)?|encounter(?: id)?"
            r"|member(?: id| no\.?)|insurance(?: id| no\.?)?)"
            r"\s*[:#=]?\s*[A-Z]{0,3}-?\d(?:[ -]?\d){4,}"
        )
        ext = r"(?:\s*(?:x|ext\.?|#)\s*\d{1,6})?(?![\w-])"
        self.phone = c(
            rf"(?<![\w.+/-])\+\d[\d ().-]{{6,20}}\d{ext}"
            rf"|(?<![\w.+/-])(?:(?:\+|00)?1[ .-]?|001-)?"
            rf"(?:\(\d{{3}}\)\s?|\d{{3}}[ .-])\d{{3}}[ .-]\d{{4}}{ext}"
            rf"|(?<![\w.+/-])0\d{{2,4}}[ -]\d{{3,4}}[ -]?\d{{3,4}}{ext}"
            rf"|(?<![\w.+/-])\(0\d{{1,5}}\)\s?\d{{3,8}}(?:[ -]\d{{3,4}})?{ext}"
            rf"|(?<![\w.+/-])0\d(?:[ .-]\d\d){{4}}{ext}"
            rf"|(?<![\w.+/-])0\d{{9,10}}{ext}"
            r"|(?i:\b(?:tel|phone|mobile|cell|fax|ph)\b\.?(?: ?no\.?| number| #)?[\s:=#]+"
            r"\+?\d[\d ().-]{5,}\d)"
        )
        self.date = c(
            rf"(?<![\w.-]){_YEAR}([-/]){_MON}\1{_DAY}(?!\d)"
            rf"|(?<![\w.-]){_DAY}([-/.]){_DAY}\2{_YEAR}(?![\w])"
            rf"|(?<![\w./-]){_DAY}/{_DAY}/\d\d(?![\w/])"
            rf"|(?i:\b{_MONTH}\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}\b"
            rf"|\b{_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?,?\s+{_YEAR}\b"
            rf"|\b{_MONTH}\.?\s+{_YEAR}\b)"
        )
        self.dob_word = c(r"(?i)\b(?:dob|d\.o\.b|date of birth|birth ?date|born|birthday|b\.d\.)")
        self.dob_compact = c(r"(?i)\b(?:dob|d\.o\.b\.?|date of birth|born)\s*[:=]?\s*\d{6,8}\b")
        self.schedule = c(
            r"(?i)\bPGY-?[1-8]\b"
            rf"|\b(?:rotation|night[- ]float|on[- ]call|call schedule|shift|clinic|ward)\b.*"
            rf"(?:\b\d{{1,2}}/\d{{1,2}}\b|\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|\b{_MONTH}\b)"
        )
        self.address = c(
            r"\b\d{1,6}[A-Z]?\s+(?:[NSEW]\.?\s+)?(?:(?:[A-Z][\w'.-]*|\d+(?:st|nd|rd|th))\s+){1,4}"
            rf"{_STREET_SUFFIX}\b"
            r"|\b\d{1,6}\s+(?:[a-z]+\s+){1,3}(?:street|avenue|road|boulevard|lane|drive)\b"
            r"|(?i:\bP\.?\s?O\.?\s*Box\s+\d+)"
            r"|\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s+\d[A-Z]{2}\b"
            r"|,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
            r"|(?:^|\n|,\s?)\d{4,5}\s+[A-Z][^\W\d_]{2,}"
            r"|[A-Z][\w-]*(?:stra(?:ss|ß)e|str\.|weg|allee|platz|gasse|ring|damm)\s+\d{1,4}[a-z]?\b"
            r"|(?i:\b\d{1,4}(?:\s?bis|\s?ter)?,?\s+(?:rue|avenue|boulevard|bd|place|chemin|all[ée]e"
            r"|impasse|quai|route|cours)\s+\w)"
            r"|(?i:\b(?:apt|apartment|flat)\.?\s*#?\s*\d+[A-Z]?\b)"
            r"|\b(?:PSC|Unit|CMR)\s+\d{3,5},?\s+Box\s+\d{3,5}|\b[AFD]PO\s+A[AEP]\s+\d{5}\b"
        )
        self.honorific = c(
            r"\b(?:Dr|Mr|Mrs|Ms|Mx|Prof|Miss|Mister|Madam|Sr|Herr|Frau|Mme|Mlle|Rev|Nurse|Doctor"
            r"|Professor|Dame|Sir|Lady|Lord)\.?\s+[A-Z][^\W\d_]+"
            r"|(?i:\b(?:dr|mr|mrs|ms|prof)\.\s?[a-z]{2,})"
        )
        self.dotted = c(r"(?i)(?<![\w.])([a-z]{3,15})[._]([a-z]{2,20})(?![\w])")
        self.pair = c(
            r"\b([A-Z][a-z]{2,15})\s+(?:[A-Z]\.\s+)?([A-Z][^\W\d_]+(?:[-'][A-Z][a-z]+)?)\b"
        )
        self.last_first = c(r"\b([A-Z][^\W\d_]+),\s+([A-Z][a-z]{2,15})\b")
        self.hex_id = c(
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
            r"|(?=[0-9]*[a-f])[0-9a-f]{7,64}"
        )
        self.upper = c(r"[A-Z]")
        # "any of these words is in the text": one search, the answer of any(w in t ...)
        self.mrn_hint, self.dob_hint, self.schedule_hint = (
            c("|".join(map(re.escape, words)))
            for words in (_MRN_WORDS, _DOB_WORDS, _SCHEDULE_WORDS)
        )
        self.number_start = c(r"(?:^|[^\w.-])[\d(+]")
        self._names: tuple[frozenset[str], frozenset[str], frozenset[str]] | None = None
        self._world: dict[str, _WorldLists] = {}
        self.word = c(_WORD)
        self.title_extra = c(_TITLE_EXTRA)
        self.surname_end = c(_SURNAME_END)
        self.greek_surname = c(r"(?:ης|ής|ος|ός|ας|άς|ου|ού)$")
        self.ascii_pair = c(r"[A-Z][A-Za-z'-]{0,39}\.?(?: {1,2}|, )[A-Z]")
        self.ascii_dotted = c(r"(?<![A-Za-z])([A-Za-z]{2,20})\.([A-Za-z]{2,20})(?![A-Za-z])")
        self.ip = c(
            r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])"
            r"|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])"
        )

    def detect(self, s: str, *, ip: bool = False) -> str | None:
        """Category of the first finding in ``s``, or None. Cheap gates skip most regexes."""
        n = len(s)
        if n < 4:  # too short for anything but a CJK name ("王伟")
            return "person_name" if n >= 2 and not s.isascii() and self._world_name(s) else None
        if "KEY" in s and self.pem.search(s):
            return "private_key"
        if "eyJ" in s and self.jwt.search(s):
            return "jwt"
        if n >= 15 and _token_hint(s):
            m = self.tokens.search(s)
            if m:
                return m.lastgroup
        at = "@" in s
        if at and "://" in s and self.url_creds.search(s):
            return "url_credentials"
        if ("=" in s or ":" in s) and self.secret.search(s):
            return "secret"
        space = " " in s
        if space and self.bearer.search(s):
            return "bearer_token"
        if (at or "[" in s or "(" in s) and self._email(s):
            return "email"
        digits = _digit_count(s)
        if digits and not (digits >= 4 and self.hex_id.fullmatch(s)):
            found = self._numeric(s, digits, space=space)
            if found:
                return found
        if ip and (digits or ":" in s) and self.ip.search(s):
            return "ip_address"
        if (space or "." in s or "_" in s) and self._name(s, space=space):
            return "person_name"
        # The multilingual rules: for ASCII only a capitalised pair or a ``word.word`` can be a
        # name there, so ``req_1b3d...`` and ``mcp__github__create_issue`` skip them.
        if ((space and self.upper.search(s)) or "." in s or not s.isascii()) and self._world_name(
            s
        ):
            return "person_name"
        return None

    def _email(self, s: str) -> bool:
        for m in self.email.finditer(s):
            start, end = m.span()
            at = s.find("@", start, end)
            if at < 0:  # the obfuscated "jane [at] example [dot] com" form
                return True
            user = s[start:at].lstrip("/")
            # ``git@github.com:org/repo.git`` and ``ssh://git@host/repo`` name a service
            # account and a repository, not a person: an SSH remote or URL keeps its address
            # when the user part is a plain dotless word.
            if "." not in user and (
                (end + 1 < len(s) and s[end] == ":" and not s[end + 1].isspace())
                or s[: at - len(user)].endswith("://")
            ):
                continue
            return True
        return False

    def _numeric(self, s: str, digits: int, *, space: bool) -> str | None:
        # Card, SSN, phone and numeric-date patterns all begin where a number starts after
        # something other than a word character, '.' or '-'. In "claude-sonnet-4-5-20250929"
        # no number does, so those patterns cannot match and are skipped.
        led = space or self.number_start.search(s) is not None
        if led and digits >= 12:
            for m in self.card.finditer(s):
                if _luhn(m.group()):
                    return "credit_card"
        if led and digits >= 9 and self.ssn.search(s):
            return "ssn"
        low = s.lower()
        if digits >= 5 and self.mrn_hint.search(low) and self.mrn.search(s):
            return "mrn"
        if (led and digits >= 4 and self.date.search(s)) or (
            digits >= 6 and self.dob_hint.search(low) and self.dob_compact.search(s)
        ):
            return "date_of_birth" if self.dob_word.search(s) else "schedule"
        if led and digits >= 7 and self.phone.search(s):
            return "phone"
        if self.schedule_hint.search(low) and self.schedule.search(s):
            return "schedule"
        if space and self.address.search(s):
            return "address"
        return None

    def _name(self, s: str, *, space: bool) -> bool:
        if self.upper.search(s):
            if self.honorific.search(s):
                return True
            if space:
                for m in self.pair.finditer(s):
                    if self._is_name(m.group(1), m.group(2)):
                        return True
                if "," in s:
                    for m in self.last_first.finditer(s):
                        if self._is_name(m.group(2), m.group(1)):
                            return True
        elif space and ". " in s and self.honorific.search(s):
            return True
        if "." in s or "_" in s:
            for m in self.dotted.finditer(s):
                if self._is_name(m.group(1), m.group(2), dotted=True):
                    return True
        return False

    def _world_lists(self, script: str) -> _WorldLists:
        """One script's lists (`_world_names.SCRIPTS`), loaded on first use and merged with the
        built-in English ones for Latin."""
        lists = self._world.get(script)
        if lists is None:
            from ai_telemetry.events import _names, _world_names

            first, last, titles, common, english = _world_names.load(script)
            if script == "latin":
                first = first | _names.FIRST_NAMES
                last = last | _names.SURNAMES
                # English first names that are also words (max, grace, will) count as words
                english = english | _NAME_STOP_LAST | _TECH_WORDS | _names.AMBIGUOUS_FIRST_NAMES
                common = common | english
            given = frozenset(c for name in first if _is_cjk(name[0]) for c in name)
            titles = (titles - _NOT_TITLES) | _TITLES
            lists = (first, last, titles, given, common, english)
            self._world[script] = lists
        return lists

    def _world_name(self, s: str) -> bool:
        """Names in any script, from the multilingual lists (`_world_names`): a title before a
        name-like word (``Dr. 王伟``, ``Г-н Иванов``, ``السيد أحمد``), a CJK name with a title
        after it (``王先生``, ``田中さん``, ``김민준 씨``), two adjacent words that are a first
        name and a surname in either order (``Freia Müller``, ``Иванов Иван``, ``יוגב יעקבי``),
        ``first.last``, ``Last, First``, and an unspaced CJK surname + given name (``王伟``)."""
        if s.isascii():
            # Most telemetry values are ASCII identifiers: only a pair of capitalised words (a
            # title included) or a ``first.last`` pair can be a name here, and the big lists
            # stay unloaded (a process that never meets such a value never pays for them).
            if not self._ascii_may_be_name(s):
                return False
        elif self.title_extra.search(s):
            return True
        from ai_telemetry.events._world_names import script_of

        tokens = [(m.start(), m.end(), m.group()) for m in self.word.finditer(s)]
        count = len(tokens)
        # Words per script (one pass): a run of many uncased words is prose, not a message
        # naming someone, and there one listed half is no evidence (`_loose_pair`).
        per_script: dict[str, int] = {}
        for _, _, word in tokens:
            group = script_of(word[0])
            per_script[group] = per_script.get(group, 0) + 1
        for i, (_, end, word) in enumerate(tokens):
            lead = word[0]
            script = script_of(lead)
            first, last, titles, han, common, english = self._world_lists(script)
            low = word.lower()
            if script == "indic" and "\u200d" in low:
                low = low.replace("\u200d", "")  # a joiner only shapes the glyphs (श्‍रेष्‍ठ)
            if script == "cjk" and _cjk_name(word, first, last, han):
                return True
            if i + 1 == count:
                break
            start2, _, word2 = tokens[i + 1]
            gap = s[end:start2]
            low2 = word2.lower()
            if "\u200d" in low2 and script == "indic":
                low2 = low2.replace("\u200d", "")
            lead2 = word2[0]
            if (
                low in titles
                and not lead2.islower()
                and (gap in (". ", ".") or (gap == " " and len(low) > 2))
            ):
                return True
            if script_of(lead2) != script:
                continue  # a name's two halves are written in one script
            cased = lead.isupper() or lead.islower()
            if gap in (" ", "  "):
                if _is_cjk(lead) and low2 in _CJK_SUFFIX_TITLES and _has_surname(word, last):
                    return True
                if cased and not (lead.isupper() and lead2.isupper()):
                    continue
                if ((low in first and low2 in last) or (low in last and low2 in first)) and not (
                    word.isascii() and (low in english or low2 in english)
                ):
                    return True
                if self._loose_pair(
                    word, word2, low, low2, cased=cased, script=script,
                    prose=per_script[script] > _PROSE_WORDS,
                ):  # fmt: skip
                    return True
            elif gap == "." or (gap == "_" and not (word + word2).isascii()):
                if low2 in _NAME_STOP_LAST or low in _NAME_STOP_LAST:
                    continue
                if low in first and low2 in last:
                    return True
                # ASCII identifiers (``max_retries``) need both halves listed; a half with
                # diacritics (``bruno.łasak``) is no identifier, so one listed half is enough.
                if (
                    not (low + low2).isascii()
                    and (low in first or low2 in last)
                    and low not in common
                    and low2 not in common
                ):
                    return True
            elif (
                gap == ", "
                and cased
                and lead.isupper()
                and lead2.isupper()
                and low in last
                and low2 in first
            ):
                return True
        return False

    def _ascii_may_be_name(self, s: str) -> bool:
        if self.ascii_pair.search(s):
            return True
        if "." not in s:
            return False
        for m in self.ascii_dotted.finditer(s):
            if (
                m.group(1).lower() not in _NAME_STOP_LAST
                and m.group(2).lower() not in _NAME_STOP_LAST
            ):
                return True
        return False  # a title before a name: "Herr Müller" is a capitalised pair

    def _loose_pair(
        self,
        word: str,
        word2: str,
        low: str,
        low2: str,
        *,
        cased: bool,
        script: str,
        prose: bool = False,
    ) -> bool:
        """Two adjacent words of which at most one is listed: a name by the script's rules.
        In uncased scripts, not inside prose (more than `_PROSE_WORDS` words of the script)."""
        first, last, _, _, common, english = self._world_lists(script)
        lead, lead2 = word[0], word2[0]
        if cased:
            if word.isascii() and word2.isascii() and (low in english or low2 in english):
                return False  # English names have their own rule (`_name`)
            # One listed half in its usual place, the other an unlisted capitalised word that
            # is no common word ("Trude Gerlach"); or a surname by its ending ("Федосий
            # Сергеев", "Carolina Dumitrescu"); Greek prose does not capitalise a second word.
            if (low in first and low2 not in common) or (low2 in last and low not in common):
                return True
            if low2 in first and low not in common and low not in last:
                return True  # "Непорожній Руслан": surname first, as Slavic and Hungarian do
            if low in common or low2 in common:
                return False
            return bool(
                self.surname_end.search(word2)
                or self.surname_end.search(word)
                # Greek: a second capitalised word in a masculine nominative or a genitive
                or (_is_greek(lead) and _is_greek(lead2) and self.greek_surname.search(word2))
            )
        if prose:
            return False
        if _is_arabic(lead):
            # "X آل Y", "X بن Y", "عبد العزيز ...", a listed first name before "ال..."
            return (
                low2 in _ARABIC_NASAB
                or (low.startswith("عبد") and (len(low) > 3 or low2[:2] == "ال"))
                or (low in first and low2 not in common)
                or (low2 in last and low not in common)
            )
        if _is_devanagari(lead):
            return low in first or low in last or low2 in first or low2 in last
        return (
            _is_cjk(lead) and _is_cjk(lead2) and word in last and len(word) >= 2 and len(word2) <= 3
        )

    def _is_name(self, first: str, last: str, *, dotted: bool = False) -> bool:
        if self._names is None:
            from ai_telemetry.events import _names

            self._names = (_names.FIRST_NAMES, _names.AMBIGUOUS_FIRST_NAMES, _names.SURNAMES)
        first_names, ambiguous, surnames = self._names
        first, last = first.lower(), last.lower()
        if first in first_names:
            return not dotted or last not in _NAME_STOP_LAST
        return first in ambiguous and last in surnames


# More words than this of one uncased script (Arabic, Devanagari, ...) in a value make it prose:
# one listed half of a pair is not taken for a name there (both halves listed still are).
_PROSE_WORDS: Final = 4

# A word in any script: letters, then letters, combining marks (Devanagari and other Indic vowel
# signs, Hebrew and Arabic points, Latin diacritics), joiners, apostrophes and hyphens. Bounded,
# so a long value is scanned in linear time.
_WORD: Final = (
    r"[^\W\d_](?:[^\W\d_]|[\u0300-\u036f\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    r"\u0900-\u0963\u0971-\u0dff\u200c\u200d'\u2019-]){0,39}"
)
# Titles whose spelling the word pattern splits (quote marks in Hebrew abbreviations) or that
# end in a dot in scripts without case: a title followed by a word in the same script.
_TITLE_EXTRA: Final = (
    r"(?:ד[\"\u05f4]ר|פרופ['\u05f3]|גב['\u05f3]|עו[\"\u05f4]ד|מר|גברת|הרב)\s{1,2}[\u05d0-\u05ea]"
    r"|(?<![\w\u0900-\u097f])(?:डॉ|डा|प्रो|श्रीमती|सुश्री|श्री|कुमारी)\.?\s{1,2}[\u0905-\u0939]"
    r"|(?<!\w)(?:د|أ|م)\.\s{0,2}[\u0621-\u064a]"
    r"|(?<!\w)(?:[гГ]-(?:н|жа|ца)|[дД]-р)\.?\s{1,2}[А-ЯЁІЇЄҐ]"
)
_TITLES_TEXT = (
    "dr mr mrs ms mx prof miss mister madam mme mlle herr frau rev dame sir lady lord doctor "
    "professor sra sr señor señora dott sig sigra pani pan mevr dhr hr fr herra rouva neiti "
    "frk fru signora signore signorina bayan beyefendi pane prl proua madame "
    "господин госпожа доктор профессор проф гражданин пан пані "
    "κ κος κα κυρία κύριος δρ καθ δρα "
    "السيد السيدة الدكتور الدكتورة الأستاذ الأستاذة الاستاذ الاستاذة الشيخ المهندس "
    "श्री श्रीमती सुश्री डॉ डॉक्टर"
)
_TITLES: Final = frozenset(_TITLES_TEXT.split())
"""Titles before a name, in addition to the locales' own from `_world_names`."""
# Surname endings that are rare in other words: Russian/Ukrainian/Bulgarian (-ов, -ева, -ский,
# -енко, -чук, patronymics -ович, -овна), Greek (-ίδης, -άκης, -όπουλος, -ίδου), Polish, Czech,
# Slovak, Hungarian-free. Matched at the end of a capitalised word only.
_SURNAME_END: Final = (
    r"(?:\w{4}(?:[ое]в|ёв|[иы]н)|\w{3}(?:[ое]ва|ёва|[иы]на)|ск(?:ий|ая|и|а)|цк(?:ий|ая|и|а)|енко"
    r"|[чщ]ук|юк|[ое]вич|[ое]вна|ична|евски|евска)$"
    r"|(?:ίδης|ιάδης|άδης|άκης|όπουλος|οπούλου|ίδου|ιάδου|άδου|άκη|ίδη|άδη|ογλου|έλλης|ούδης"
    r"|ίτης|άκος|άτος|αίος|ίου|ίκας|ούλης|ούλη)$"
    r"|(?:ski|ska|cki|cka|dzki|dzka|wicz|czyk|czak|ová|ský|ská|ný|ná|ík|ák|ek|escu|eanu|ović|ić)$"
)
_TECH_WORDS_TEXT = (
    "code metrics error errors service manager worker server client hook hooks request requests "
    "many too failed timeout build deploy release merge branch commit review test tests suite "
    "pipeline agent agents skill skills tool tools model models cloud studio desktop engine "
    "platform cluster queue cache store storage index search router gateway proxy bridge"
)
_TECH_WORDS: Final = frozenset(_TECH_WORDS_TEXT.split())
_NOT_TITLES: Final = frozenset({"master", "don", "bay", "d", "g", "m", "pr"})
"""Locale titles that are also everyday words or single letters: not enough before a word."""
_CJK_SUFFIX_TITLES: Final = (
    "先生", "女士", "小姐", "老师", "医生", "博士", "教授", "さん", "さま", "様", "氏", "くん",
    "ちゃん", "君", "선생님", "씨", "님", "박사", "교수",
)  # fmt: skip


_WorldLists = tuple[
    frozenset[str], frozenset[str], frozenset[str], frozenset[str], frozenset[str], frozenset[str]
]


_ARABIC_NASAB: Final = frozenset({"آل", "بن", "بنو", "أبو", "أبا", "ابن", "بنت", "عبد"})
"""Words that join the parts of an Arabic name (family, son of, father of)."""
_HANGUL_ENDINGS: Final = frozenset("을를이가은는의에다요서고도로와과니며면게지")


def _is_greek(c: str) -> bool:
    return "\u0370" <= c <= "\u03ff" or "\u1f00" <= c <= "\u1fff"


def _is_arabic(c: str) -> bool:
    return "\u0600" <= c <= "\u06ff"


def _is_devanagari(c: str) -> bool:
    return "\u0900" <= c <= "\u097f"


def _is_cjk(c: str) -> bool:
    o = ord(c)
    return 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF


def _has_surname(word: str, last: frozenset[str]) -> bool:
    return word[:1] in last or word[:2] in last or word[:3] in last or word in last


def _cjk_name(word: str, first: frozenset[str], last: frozenset[str], han: frozenset[str]) -> bool:
    n = len(word)
    for suffix in _CJK_SUFFIX_TITLES:
        if n > len(suffix) and word.endswith(suffix):
            return _has_surname(word[: n - len(suffix)], last) or word[: n - len(suffix)] in first
    if not 2 <= n <= 6:
        return False
    for k in (1, 2, 3):
        if k < n and word[:k] in last:
            given = word[k:]
            # (a one-syllable Korean given name is rare, and 설정, 변경 are words)
            if given in first and (len(given) > 1 or not 0xAC00 <= ord(given) <= 0xD7AF):
                return True
            # Chinese given names of one or two characters, each seen in a listed given name.
            if k == 1 and n == 3 and all(0x4E00 <= ord(c) <= 0x9FFF and c in han for c in given):
                return True
    # Korean: three syllables, a one-syllable surname and two seen in listed given names; a
    # word ending in a particle or verb ending (파일을, 연결이) is no name.
    return (
        n == 3
        and 0xAC00 <= ord(word[0]) <= 0xD7AF
        and word[0] in last
        and word[2] not in _HANGUL_ENDINGS
        and all(0xAC00 <= ord(c) <= 0xD7AF and c in han for c in word[1:])
    )


def _token_hint(s: str) -> bool:
    """True when ``s`` holds a provider token's prefix (substring tests are cheaper than regex)."""
    return (
        "A" in s
        or "xox" in s
        or "sk-" in s
        or "SG." in s
        or "ya29." in s
        or "glpat-" in s
        or "pypi-" in s
        or "hooks.slack" in s
        or (
            "_" in s
            and (
                "gh" in s
                or "k_" in s
                or "github_pat_" in s
                or "npm_" in s
                or "hf_" in s
                or "whsec_" in s
                or "dop_v1_" in s
                or "shpat_" in s
            )
        )
    )


def _digit_count(s: str) -> int:
    """The ASCII digits in ``s`` (what the numeric rules count). On the UTF-8 bytes: no other
    character's encoding holds an ASCII byte, and bytes.translate is five times cheaper than
    str.translate with a table (``surrogatepass``: a lone surrogate is 3 bytes, no digit)."""
    b = s.encode("utf-8", "surrogatepass")
    return len(b) - len(b.translate(None, b"0123456789"))


_MRN_WORDS: Final = ("mr", "record", "patient", "chart", "nhs", "encounter", "member", "insurance")
_DOB_WORDS: Final = ("dob", "d.o.b", "birth", "born")
_SCHEDULE_WORDS: Final = ("pgy", "rotation", "float", "call", "shift", "clinic", "ward")


def _luhn(candidate: str) -> bool:
    """A payment card number (ISO/IEC 7812: 12 to 19 digits, Luhn check digit).

    Any leading digit and length counts, with one exception: a bare run of 13, 16 or 19 digits
    starting with ``1`` is a Unix time in milli-, micro- or nanoseconds (2001-2033), not a card
    (cards with MII 1, UATP, have 15 digits).
    """
    digits = [ord(c) - 48 for c in candidate if "0" <= c <= "9"]
    n = len(digits)
    if not 12 <= n <= 19 or not any(digits):
        return False
    if n in (13, 16, 19) and digits[0] == 1 and candidate.isdigit():
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        doubled = d * 2 if i % 2 else d
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


_detectors: _Detectors | None = None


def _get_detectors() -> _Detectors:
    global _detectors  # noqa: PLW0603 - one lazily built, immutable table per process
    if _detectors is None:
        _detectors = _Detectors()
    return _detectors


def detect(value: str, *, ip: bool = False) -> str | None:
    """Category of the first personal or secret datum found in a free-text value, or None.

    Args:
        value: the string to scan.
        ip: also report IPv4/IPv6 addresses (off by default: version strings look alike).

    Returns:
        A key of `CATEGORIES` such as ``"email"`` or ``"github_token"``, or None when clean.
    """
    rewritten = rewrite_home(value)
    found = _get_detectors().detect(rewritten, ip=ip)
    return "user_path" if found is None and rewritten != value else found


# Home directories: the path is kept, the user name in it is not (``/home/<user>/src``).
_HOME: Final = (
    r"(?:(?<![\w.-])|(?<=~))(?P<root>/home/|/Users/|/var/home/|/c/Users/"
    r"|[A-Za-z]:[\\/]{1,2}(?:Users|Documents and Settings)[\\/]{1,2})"
    r"(?P<user>[^/\\\s:*?\"<>|]{1,64})"
)
_NOT_A_USER: Final = frozenset(
    {"<user>", "shared", "public", "default", "default user", "all users", "guest"}
    # service accounts of CI runners, images and containers, not people
    | {"ci", "runner", "runneradmin", "build", "builder", "jenkins", "ubuntu", "ec2-user", "admin",
       "root", "git", "vagrant", "circleci", "node", "app", "docker", "travis", "gitlab-runner",
       "buildkite-agent", "vscode", "codespace", "user", "debian", "centos", "fedora"}
)  # fmt: skip
_home_re: re.Pattern[str] | None = None


def rewrite_home(value: str) -> str:
    """``value`` with the user name of each home directory replaced by ``<user>``."""
    if "home/" not in value and "Users" not in value and "Documents and" not in value:
        return value
    global _home_re  # noqa: PLW0603 - compiled on first use, like the detectors
    if _home_re is None:
        _home_re = re.compile(_HOME)

    def repl(m: re.Match[str]) -> str:
        user = m.group("user")
        return m.group(0) if user.lower() in _NOT_A_USER else m.group("root") + "<user>"

    return _home_re.sub(repl, value)


_ERROR_TYPE: Final = (
    r"[A-Za-z_][\w.]{0,126}(?:Error|Exception|Warning|Exit|Interrupt|Timeout|Failure|Fault)"
    r"(?=$|[\s:(\[,])"
)
_error_type_re: re.Pattern[str] | None = None


def _error_type_of(value: str) -> str | None:
    global _error_type_re  # noqa: PLW0603 - compiled on first use, like the detectors
    if _error_type_re is None:
        _error_type_re = re.compile(_ERROR_TYPE)
    m = _error_type_re.match(value.lstrip())
    return m.group() if m else None


# --- the guard ----------------------------------------------------------------------------


_TIMESTAMP: Final = (
    r"\d{4}-\d\d-\d\d(?:[Tt ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?)?(?:[Zz]|[+-]\d\d:?\d\d)?"
)
_timestamp_re: re.Pattern[str] | None = None


def _valid_timestamp_shape(value: str) -> bool:
    # A value shaped like a timestamp is left to validation (which may quote it in an error);
    # anything else in the timestamp field is scanned like text, so nothing personal is quoted.
    if is_canonical_timestamp(value):  # the common case, without compiling a pattern
        return True
    global _timestamp_re  # noqa: PLW0603 - compiled on first use, like the detectors
    if _timestamp_re is None:
        _timestamp_re = re.compile(_TIMESTAMP)
    return _timestamp_re.fullmatch(value) is not None


class PrivacyGuard:
    """Scrubs an event before it is written: allowlist first, then the value detectors.

    Args:
        policy: ``"redact"`` replaces a finding with a marker and counts it in ``redacted``;
            ``"reject"`` raises `PrivacyViolation` instead. Unknown keys and containers are
            dropped and counted under both policies.
        detect_ip: also treat IP addresses as personal data.
        known_clean: values an earlier process found clean (see `known_clean`).
        cache_limit: how many clean (and, apart, dirty) values to remember; a bulk reader
            of the log (`validate`, the warehouse) passes a larger one.
    """

    def __init__(
        self,
        *,
        policy: Literal["redact", "reject"] = "redact",
        detect_ip: bool = False,
        known_clean: Iterable[str] = (),
        cache_limit: int = _CACHE_LIMIT,
    ) -> None:
        if policy not in ("redact", "reject"):
            raise ValueError(f"privacy policy must be 'redact' or 'reject', got {policy!r}")
        self.policy = policy
        self.detect_ip = detect_ip
        self._reject = policy == "reject"
        self._clean: set[str] = {v for v in known_clean if len(v) <= _CACHE_MAX_LEN}
        self._dirty: dict[str, tuple[str, str]] = {}
        self._cache_limit = cache_limit

    @property
    def known_clean(self) -> frozenset[str]:
        """Values this guard has scanned and found clean (bounded). A short-lived process (the
        Claude Code hook) saves them and passes them back as ``known_clean`` next time, so it
        compiles the detectors only when it meets a value it has not seen before."""
        return frozenset(self._clean)

    def _verdict(self, value: str) -> tuple[str, str] | None:
        """None when ``value`` is clean, else (category, the value with home paths rewritten)."""
        if value in self._clean:
            return None
        cached = self._dirty.get(value)
        if cached is not None:
            return cached
        if len(value) == 36 and _LOWER_UUID(value):
            return None  # see _LOWER_UUID: no detector can fire on it
        if len(value) > SCAN_LIMIT:
            return ("oversize", value)
        try:
            rewritten = rewrite_home(value)
            found = _get_detectors().detect(rewritten, ip=self.detect_ip)
        except Exception:  # a detector that fails must not let the value through
            return ("unscanned", value)
        if found is None:
            if rewritten == value:
                if len(value) <= _CACHE_MAX_LEN:
                    if len(self._clean) >= self._cache_limit:
                        self._clean.clear()
                    self._clean.add(value)
                return None
            found = "user_path"
        verdict = (found, rewritten)
        if len(value) <= _CACHE_MAX_LEN:
            if len(self._dirty) >= self._cache_limit:
                self._dirty.clear()
            self._dirty[value] = verdict
        return verdict

    def _category(self, value: str) -> str | None:
        verdict = self._verdict(value)
        return None if verdict is None else verdict[0]

    def clean_value(self, value: str, *, field: str = "") -> tuple[str, str | None]:
        """What to store in place of one string value, for the log's readers (`validate`, the
        warehouse ingest), always under the ``redact`` rules.

        Returns:
            ``(value, None)`` when clean, else ``(replacement, category)``.
        """
        verdict = self._verdict(value)
        if verdict is None:
            return value, None
        category, rewritten = verdict
        return _replacement(category, rewritten, field), category

    def findings(self, event: Mapping[str, Any]) -> list[Finding]:
        """What `scrub` would remove for a finding, field by field (unknown keys excluded)."""
        allowed = fields_for(_event_type(event))
        out: list[Finding] = []
        for key, value in event.items():
            spec = allowed.get(key)
            if spec is None or not isinstance(value, str) or not self._needs_scan(spec, value):
                continue
            category = self._category(value)
            if category is not None:
                out.append(Finding(key, category))
        return out

    def keeps(self, spec: Any, value: str) -> bool:
        """True when `scrub` keeps the string ``value`` of a field of ``spec`` as it is (no scan
        needed, or scanned clean): the per-value half of `scrub`, for a caller that memoises it
        (`LogSink`'s fast path)."""
        return not self._needs_scan(spec, value) or self._verdict(value) is None

    @staticmethod
    def _needs_scan(spec: Any, value: str) -> bool:
        kind = spec.kind
        if kind in SCANNED_KINDS:
            return True
        if kind == "timestamp":
            return not _valid_timestamp_shape(value)
        if kind == "enum":
            return value not in spec.choices
        if kind == "hash":
            return not all(c in "0123456789abcdefABCDEF" for c in value)
        return True

    def redact_values(self, event: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """The detectors alone, for an event already stored (`validate`): every string value
        that needs a scan is cleaned as `scrub` would under ``redact``; keys are kept (an event
        of a type this version does not know keeps its fields). Returns the copy and the number
        of values changed (added to its ``redacted``)."""
        clean = self._clean
        allowed: Mapping[str, Any] | None = None
        out: dict[str, Any] | None = None
        changed = 0
        for key, value in event.items():
            # The event id is the event's identity (rewriting it would break de-duplication);
            # a value already judged clean costs one set lookup.
            if value.__class__ is not str or value in clean or key == "event_id":
                continue
            if key == "timestamp" and is_canonical_timestamp(value):
                continue
            if allowed is None:
                allowed = fields_for(_event_type(event))
            spec = allowed.get(key)
            if spec is not None and not self._needs_scan(spec, value):
                continue
            verdict = self._verdict(value)
            if verdict is not None:
                if out is None:
                    out = dict(event)
                out[key] = _replacement(verdict[0], verdict[1], key)
                changed += 1
        if out is None:
            return dict(event), 0
        prior = out.get("redacted")
        base = prior if isinstance(prior, int) and not isinstance(prior, bool) and prior > 0 else 0
        out["redacted"] = base + changed
        return out, changed

    def scrub(self, event: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """Return a clean copy of ``event`` and the number of values removed from it.

        The input is never modified. Unknown keys and non-scalar values are dropped; under policy
        ``redact`` a detected value becomes ``[REDACTED:<category>]``. When anything was removed,
        the copy's ``redacted`` field is increased by that number.

        Raises:
            PrivacyViolation: policy ``reject`` and an allowed field holds personal data or a
                secret. The message names the field and the category, never the value.
        """
        allowed = fields_for(_event_type(event))
        out: dict[str, Any] = {}
        removed = 0
        for key, value in event.items():
            spec = allowed.get(key)
            if spec is None or not (value is None or isinstance(value, _SCALARS)):
                removed += 1
                continue
            if isinstance(value, str) and self._needs_scan(spec, value):
                verdict = self._verdict(value)
                if verdict is not None:
                    category, rewritten = verdict
                    if self._reject and category not in REWRITTEN and category not in DROPPED:
                        finding = Finding(key, category)
                        raise PrivacyViolation(
                            f"{finding.describe()}; the event was not written and the value was "
                            "not recorded; remove it at the source, or set "
                            "AI_TELEMETRY_PRIVACY=redact to write a marker instead"
                        )
                    removed += 1
                    out[key] = _replacement(category, rewritten, key)
                    continue
            out[key] = value
        if removed:
            prior = out.get("redacted")
            base = (
                prior if isinstance(prior, int) and not isinstance(prior, bool) and prior > 0 else 0
            )
            out["redacted"] = base + removed
        return out, removed


def _replacement(category: str, rewritten: str, field: str) -> str:
    """What a finding leaves in its field: the repaired value, the error type, or a marker."""
    if category in REWRITTEN:
        return rewritten
    if field == "error_type":
        # Free text that cannot be made safe is reduced to its error type, when it has one
        # ("KeyError: 'jane@example.com'" -> "KeyError"); the type itself must be clean.
        error_type = _error_type_of(rewritten)
        if error_type is not None and _get_detectors().detect(error_type) is None:
            return error_type
    return marker(category)


def _event_type(event: Mapping[str, Any]) -> str:
    event_type = event.get("event_type")
    return event_type if isinstance(event_type, str) else ""
