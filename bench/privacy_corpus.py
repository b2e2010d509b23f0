# ruff: noqa: E501, SIM905 - a generator of long literal formats and word tables reads better flat
"""Generate the labelled privacy corpus: personal data and secrets, and legitimate telemetry values.

Seeded and reproducible; the output is committed under tests/data/privacy/ so tests never need
Faker. Regenerate with::

    .venv/bin/pip install -e '.[test]'
    .venv/bin/python bench/privacy_corpus.py          # writes tests/data/privacy/*.jsonl

Files (JSON Lines, one object per line: ``value``, ``label`` = ``pii`` or ``legit``, ``category``):

- ``pii.jsonl``: personal data and secrets in 20+ categories, in the shapes people write them.
- ``legit.jsonl``: values that real telemetry carries (skill, agent, tool and model names, paths,
  hashes, UUIDs, error types, durations, ids, versions, branches, URLs without credentials...).
- ``heldout_names.jsonl``: names from eight Latin-script locales, outside the English lists.
- ``heldout_multilingual.jsonl``: names in seven scripts (Latin with diacritics, Cyrillic, Greek,
  Arabic, Hebrew, CJK, Devanagari) from Faker locales the detector never reads.
- ``heldout_multilingual_test.jsonl``: the same under another seed, looked at only once.
- ``legit_localized.jsonl``: non-name text in those scripts (messages, Faker lorem sentences).
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Callable
from pathlib import Path

from faker import Faker

SEED = 2025
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "privacy"
ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits


def _s(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _uuid7(rng: random.Random) -> str:
    ms = rng.randint(1_700_000_000_000, 1_800_000_000_000)
    value = ms << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def _context(rng: random.Random, value: str, *, share: float = 0.3) -> str:
    """Sometimes wrap a value in the free text an error message would carry."""
    if rng.random() >= share:
        return value
    return rng.choice(
        [
            "failed for {}",
            "{} not allowed",
            "lookup error: {}",
            "user {} timed out",
            "{}",
            "retrying with {}",
        ]
    ).format(value)


# Values named in issues 12 and 20: what the guard let through or removed wrongly.
ISSUE_PII = (
    ("credit_card", "4111 1111 1111 1111"),
    ("credit_card", "5555555555554444"),
    ("credit_card", "card 6011 0009 9013 9424 declined"),
    ("credit_card", "378282246310005"),
    ("credit_card", "6250941006528599"),
    ("credit_card", "4222222222222"),
    ("credit_card", "501800000009"),
    ("credit_card", "4111-1111-1111-1111"),
    ("credit_card", "charge 3530111333300000 failed"),
    ("credit_card", "6759649826438453"),
    ("email", "zoë@exämple.de"),
    ("email", "user@例え.jp"),
    ("email", "mcp__jose.muller@example.com__send"),
    ("person_name", "Dr. 王伟"),
    ("person_name", "Dr. Zoë Müller"),
    ("person_name", "Г-н Иванов"),
    ("person_name", "السيد أحمد"),
    ("user_path", "/home/jmuller/"),
    ("user_path", "/Users/zoe/"),
    ("user_path", "C:\\Users\\JoseMuller\\"),
    ("user_path", "open /home/jmuller/src/app.py failed"),
)
ISSUE_LEGIT = (
    ("git_remote", "git@github.com:acme/app.git"),
    ("git_remote", "git@gitlab.example.com:org/sub/repo.git"),
    ("git_remote", "ssh://git@github.com/acme/app.git"),
    ("timestamp_number", "1733240000"),
    ("timestamp_number", "run 1733240000 finished"),
    ("timestamp_number", "1733240000123"),
    ("timestamp_number", "8509780671"),
    ("file_path", "/home/<user>/src/app.py"),
    ("file_path", "/Users/Shared/build.log"),
    ("file_path", "C:\\Users\\Public\\setup.log"),
)


def pii_values(fake: Faker, gb: Faker, rng: random.Random) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def add(category: str, n: int, make: Callable[[], str], share: float = 0.3) -> None:
        for _ in range(n):
            out.append((category, _context(rng, make(), share=share)))

    def email() -> str:
        first, last = fake.first_name().lower(), fake.last_name().lower()
        return rng.choice(
            [
                fake.email(),
                fake.company_email(),
                fake.free_email(),
                f"{first}.{last}@{fake.domain_name()}",
                f"{first}+{fake.word()}@gmail.com",
                f"{first[0]}{last}@{fake.domain_word()}.co.uk",
                f"{first.capitalize()}.{last.capitalize()}@Example.ORG",
                f"{first}_{last}{rng.randint(1, 99)}@mail.{fake.domain_name()}",
                f"{first} [at] {fake.domain_word()} [dot] com",
                f"<{first}.{last}@{fake.domain_name()}>",
            ]
        )

    def phone() -> str:
        d = lambda n: _s(rng, string.digits, n)  # noqa: E731
        return rng.choice(
            [
                fake.phone_number(),
                gb.phone_number(),
                f"+1 ({rng.randint(201, 989)}) {rng.randint(200, 999)}-{d(4)}",
                f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{d(4)}",
                f"+44 20 {d(4)} {d(4)}",
                f"+44 7{d(3)} {d(6)}",
                f"+49 30 {d(8)}",
                f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}",
                f"+91 {rng.randint(70000, 99999)} {d(5)}",
                f"+61 4{d(2)} {d(3)} {d(3)}",
                f"phone: {rng.randint(201, 989)}.{rng.randint(200, 999)}.{d(4)}",
                f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{d(4)}",
            ]
        )

    def address() -> str:
        return rng.choice(
            [
                fake.street_address(),
                fake.address(),
                fake.address().replace("\n", ", "),
                gb.address(),
                gb.address().replace("\n", ", "),
                f"{rng.randint(1, 9999)} {fake.street_name()}",
                f"PO Box {rng.randint(1, 99999)}",
                f"{gb.building_number()} {gb.street_name()}, {gb.city()} {gb.postcode()}",
            ]
        )

    def ssn() -> str:
        s = fake.ssn()
        return rng.choice([s, s.replace("-", " "), f"SSN: {s.replace('-', '')}", f"ssn {s}"])

    def mrn() -> str:
        n = _s(rng, string.digits, rng.randint(6, 10))
        return rng.choice(
            [
                f"MRN: {n}",
                f"MRN {n}",
                f"MRN#{n}",
                f"mrn={n}",
                f"Patient ID: {n}",
                f"patient #{n}",
                f"Medical Record Number {n}",
                f"NHS number {n[:3]} {n[3:6]} {_s(rng, string.digits, 4)}",
                f"chart no. {n}",
            ]
        )

    def dob() -> str:
        day = fake.date_of_birth(minimum_age=18, maximum_age=90)
        form = rng.choice(
            [
                day.strftime("%m/%d/%Y"),
                day.isoformat(),
                day.strftime("%d.%m.%Y"),
                day.strftime("%B %d, %Y"),
                day.strftime("%d %b %Y"),
                day.strftime("%-m/%-d/%y"),
                day.strftime("%Y%m%d"),
            ]
        )
        label = rng.choice(
            ["DOB", "DOB:", "dob=", "Date of birth:", "born", "birth date", "D.O.B."]
        )
        return f"{label} {form}" if not label.endswith("=") else f"{label}{form}"

    def schedule() -> str:
        day = fake.date_between(start_date="-1y", end_date="+1y")
        rotation = rng.choice(
            ["ICU", "cardiology", "night float", "ED", "surgery", "peds", "clinic"]
        )
        return rng.choice(
            [
                f"{rotation} rotation {day.isoformat()}",
                f"{rotation} {day.strftime('%m/%d/%Y')}",
                f"on call {day.strftime('%m/%d')} {rng.choice(['Mon', 'Tue', 'Sat'])}",
                f"PGY-{rng.randint(1, 5)} {rotation}",
                f"{day.strftime('%B %d, %Y')} {rotation} shift",
                f"block {rng.randint(1, 13)}: {rotation} {day.strftime('%d/%m/%Y')}",
                day.isoformat(),
                f"{day.strftime('%b %Y')} {rotation}",
            ]
        )

    def name() -> str:
        first, last = fake.first_name(), fake.last_name()
        return rng.choice(
            [
                f"Dr. {first} {last}",
                f"Dr {last}",
                f"{fake.prefix()} {last}",
                f"{gb.prefix()} {gb.first_name()} {gb.last_name()}",
                f"{first.lower()}.{last.lower()}",
                f"{first} {last}",
                f"{last}, {first}",
                f"Prof. {last}",
                f"{first.lower()}_{last.lower()}",
                f"assigned to {first} {last}",
            ]
        )

    def card() -> str:
        n = fake.credit_card_number()
        if len(n) == 16 and rng.random() < 0.5:
            sep = rng.choice([" ", "-"])
            n = sep.join(n[i : i + 4] for i in range(0, 16, 4))
        return n

    def pem() -> str:
        kind = rng.choice(["RSA ", "EC ", "OPENSSH ", "", "DSA ", "ENCRYPTED "])
        body = base64.b64encode(rng.randbytes(rng.randint(48, 300))).decode()
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        block = f"-----BEGIN {kind}PRIVATE KEY-----\n{lines}\n-----END {kind}PRIVATE KEY-----"
        return rng.choice([block, block.replace("\n", "\\n"), block[: rng.randint(40, 80)]])

    def jwt() -> str:
        header = _b64url(json.dumps({"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"}).encode())
        claims = {"sub": str(rng.randint(1, 10**9)), "iat": rng.randint(1.6e9, 1.8e9)}
        payload = _b64url(json.dumps(claims).encode())
        return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"

    def url_creds() -> str:
        user, pw = fake.user_name(), fake.password(length=rng.randint(8, 20), special_chars=False)
        host = fake.domain_name()
        return rng.choice(
            [
                f"https://{user}:{pw}@{host}/path",
                f"postgres://{user}:{pw}@db.{host}:5432/app",
                f"mysql://{user}:{pw}@{host}/prod",
                f"redis://:{pw}@cache.{host}:6379/0",
                f"amqp://{user}:{pw}@mq.{host}//",
                f"https://x-access-token:ghs_{_s(rng, ALNUM, 36)}@github.com/org/repo.git",
                f"ftp://{user}:{pw}@files.{host}",
                f"mongodb+srv://{user}:{pw}@cluster0.{host}/db",
            ]
        )

    def secret_kv() -> str:
        pw = fake.password(length=rng.randint(10, 24))
        pw = pw.replace(" ", "").replace(",", "").replace(";", "").replace("'", "").replace('"', "")
        key = rng.choice(
            [
                "password",
                "PASSWORD",
                "passwd",
                "api_key",
                "apiKey",
                "API_KEY",
                "secret",
                "client_secret",
                "AWS_SECRET_ACCESS_KEY",
                "access_token",
                "token",
                "auth_token",
                "DB_PASSWORD",
                "pwd",
                "private_key",
            ]
        )
        return rng.choice([f"{key}={pw}", f"{key}: {pw}", f'"{key}": "{pw}"', f"?{key}={pw}&x=1"])

    def bearer() -> str:
        token = _s(rng, ALNUM + "-._~", rng.randint(24, 60))
        basic = base64.b64encode(f"{fake.user_name()}:{fake.password()}".encode()).decode()
        return rng.choice(
            [
                f"Bearer {token}",
                f"Authorization: Bearer {token}",
                f"authorization: bearer {token}",
                f"Authorization: Basic {basic}",
                f"Token {token}",
            ]
        )

    add("email", 120, email)
    add("phone", 120, phone)
    add("address", 100, address, share=0.1)
    add("ssn", 70, ssn)
    add("mrn", 70, mrn)
    add("date_of_birth", 80, dob)
    add("schedule", 80, schedule, share=0.1)
    add("person_name", 100, name, share=0.1)
    add("credit_card", 70, card)
    add("aws_access_key", 50, lambda: rng.choice(["AKIA", "ASIA"]) + _s(rng, UPPER_NUM, 16))
    add(
        "github_token",
        60,
        lambda: rng.choice(
            [
                f"{rng.choice(['ghp', 'gho', 'ghu', 'ghs', 'ghr'])}_{_s(rng, ALNUM, 36)}",
                f"github_pat_{_s(rng, ALNUM, 22)}_{_s(rng, ALNUM, 59)}",
            ]
        ),
    )
    add(
        "slack_token",
        40,
        lambda: rng.choice(
            [
                f"xoxb-{_s(rng, string.digits, 12)}-{_s(rng, string.digits, 13)}-{_s(rng, ALNUM, 24)}",
                f"xoxp-{_s(rng, string.digits, 12)}-{_s(rng, string.digits, 12)}-"
                f"{_s(rng, string.digits, 13)}-{_s(rng, 'abcdef0123456789', 32)}",
                f"https://hooks.slack.com/services/T{_s(rng, UPPER_NUM, 8)}/B{_s(rng, UPPER_NUM, 8)}/"
                f"{_s(rng, ALNUM, 24)}",
            ]
        ),
    )
    add(
        "stripe_key",
        40,
        lambda: (
            f"{rng.choice(['sk_live', 'rk_live', 'sk_test'])}_{_s(rng, ALNUM, rng.choice([24, 99]))}"
        ),
    )
    add(
        "openai_key",
        40,
        lambda: rng.choice(
            [
                f"sk-{_s(rng, ALNUM, 20)}T3BlbkFJ{_s(rng, ALNUM, 20)}",
                f"sk-proj-{_s(rng, ALNUM + '-_', 74)}T3BlbkFJ{_s(rng, ALNUM + '-_', 74)}",
                f"sk-svcacct-{_s(rng, ALNUM + '-_', 60)}",
            ]
        ),
    )
    add(
        "anthropic_key",
        40,
        lambda: f"sk-ant-{rng.choice(['api03', 'admin01'])}-{_s(rng, ALNUM + '-_', 93)}AA",
    )
    add(
        "google_api_key",
        40,
        lambda: rng.choice(
            [f"AIza{_s(rng, ALNUM + '-_', 35)}", f"ya29.{_s(rng, ALNUM + '-_', 120)}"]
        ),
    )
    add(
        "api_token",
        30,
        lambda: rng.choice(
            [
                f"glpat-{_s(rng, ALNUM + '-_', 20)}",
                f"npm_{_s(rng, ALNUM, 36)}",
                f"hf_{_s(rng, string.ascii_letters, 34)}",
                f"SG.{_s(rng, ALNUM + '-_', 22)}.{_s(rng, ALNUM + '-_', 43)}",
                f"pypi-AgEIcHlwaS5vcmc{_s(rng, ALNUM + '-_', 60)}",
            ]
        ),
    )
    add("secret", 60, secret_kv)
    add("bearer_token", 40, bearer, share=0.0)
    add("jwt", 50, jwt)
    add("private_key", 40, pem, share=0.0)
    add("url_credentials", 50, url_creds)
    return out + list(ISSUE_PII)


WORDS = (
    "systematic debugger test writer code review refactor planner security audit acgme compliance "
    "schedule validator docs generator release manager dependency updater lint fixer perf profiler "
    "migration helper api designer incident responder db tuner cache warmer feature flag cleaner "
    "changelog writer commit summarizer pr reviewer type checker coverage booster swarm coordinator "
    "context compactor token budget memory keeper learning curator meta updater research explorer"
).split()
ERRORS = (
    "ZeroDivisionError ValueError KeyError TypeError AttributeError IndexError RuntimeError "
    "TimeoutError ConnectionRefusedError FileNotFoundError PermissionError OSError "
    "NotImplementedError AssertionError ImportError ModuleNotFoundError RecursionError "
    "MemoryError UnicodeDecodeError JSONDecodeError HTTPError ReadTimeout ValidationError "
    "IntegrityError OperationalError CalledProcessError BrokenPipeError StopIteration "
    "ToolCallLimitExceeded ContextWindowExceeded RateLimitError APIConnectionError "
    "OverloadedError AuthenticationError PermissionDeniedError NotFoundError"
).split()
TOOLS = "Read Write Edit MultiEdit Grep Glob Bash WebFetch WebSearch TodoWrite Task NotebookEdit LS".split()
MCP = {
    "github": "create_issue get_pull_request list_commits search_code merge_pull_request",
    "filesystem": "read_file write_file list_directory search_files",
    "postgres": "query list_tables describe_table",
    "scheduler": "validate_schedule check_acgme_rules export_calendar",
    "slack": "post_message list_channels",
    "sentry": "get_issue list_events",
}
MODELS = (
    "claude-sonnet-4-5-20250929 claude-opus-4-1-20250805 claude-sonnet-4-20250514 "
    "claude-3-5-haiku-20241022 claude-3-7-sonnet-20250219 claude-haiku-4-5 claude-opus-4-5 "
    "gpt-4o-2024-08-06 gpt-4o-mini o3-mini gemini-2.5-pro llama-3.1-70b-instruct"
).split()


def _mcp_name(rng: random.Random) -> str:
    server = rng.choice(list(MCP))
    return f"mcp__{server}__{rng.choice(MCP[server].split())}"


def legit_values(rng: random.Random) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def add(category: str, n: int, make: Callable[[], str]) -> None:
        for _ in range(n):
            out.append((category, make()))

    def kebab(k: int) -> str:
        return "-".join(rng.sample(WORDS, k))

    add("skill_name", 220, lambda: kebab(rng.randint(1, 3)))
    add("agent_name", 80, lambda: rng.choice(["", "agent-"]) + kebab(rng.randint(1, 2)))
    add("tool_name", 40, lambda: rng.choice(TOOLS))
    add(
        "mcp_tool",
        60,
        lambda: _mcp_name(rng),
    )
    add("model_name", 40, lambda: rng.choice(MODELS))
    add(
        "file_path",
        150,
        lambda: (
            rng.choice(["src/", "tests/", ".claude/skills/", "scheduler_mcp/", "/home/ci/app/"])
            + "/".join(rng.sample(["core", "api", "utils", "models", "v2", "handlers", "db"], 2))
            + "/"
            + rng.choice(WORDS)
            + rng.choice([".py", ".ts", ".md", ".json", ".yaml", ".py:42", "_test.go", ".rs"])
        ),
    )
    add("commit_hash", 120, lambda: _s(rng, "0123456789abcdef", rng.choice([7, 8, 12, 40])))
    add(
        "uuid",
        120,
        lambda: (
            str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if rng.random() < 0.5
            else _uuid7(rng)
        ),
    )
    add("error_type", 80, lambda: rng.choice(ERRORS))
    add(
        "duration",
        80,
        lambda: rng.choice(
            [
                f"{rng.uniform(0, 3000):.1f}",
                f"{rng.uniform(0, 60):.2f}s",
                f"{rng.randint(1, 900)}ms",
                f"{rng.randint(0, 5)}h{rng.randint(0, 59)}m{rng.randint(0, 59)}s",
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                f"PT{rng.randint(1, 59)}M",
            ]
        ),
    )
    add("learning_id", 40, lambda: f"LEARN-{rng.randint(2024, 2026)}-{rng.randint(1, 999):03d}")
    add("incident_id", 30, lambda: f"INC-{rng.randint(2024, 2026)}-{rng.randint(1, 9999):04d}")
    add(
        "version",
        80,
        lambda: rng.choice(
            [
                f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
                f"v{rng.randint(1, 5)}",
                f"v{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}-rc.{rng.randint(1, 4)}",
                f"{rng.randint(2023, 2026)}.{rng.randint(1, 12)}.{rng.randint(0, 9)}",
                f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
            ]
        ),
    )
    add(
        "branch",
        40,
        lambda: (
            rng.choice(["feature/", "fix/", "chore/", "release/", "dependabot/pip/"])
            + rng.choice(
                [
                    kebab(2),
                    f"issue-{rng.randint(1, 9999)}",
                    f"v{rng.randint(1, 4)}.{rng.randint(0, 9)}",
                ]
            )
        ),
    )
    add(
        "url",
        40,
        lambda: rng.choice(
            [
                f"https://github.com/acme/{rng.choice(WORDS)}/pull/{rng.randint(1, 5000)}",
                f"https://docs.anthropic.com/en/docs/{rng.choice(WORDS)}",
                f"http://localhost:{rng.randint(3000, 9999)}/metrics",
                f"https://api.example.com/v{rng.randint(1, 3)}/{rng.choice(WORDS)}?page={rng.randint(1, 9)}",
            ]
        ),
    )
    add(
        "api_id",
        60,
        lambda: rng.choice(
            [
                f"req_011C{_s(rng, ALNUM, 20)}",
                f"msg_01{_s(rng, ALNUM, 22)}",
                f"toolu_01{_s(rng, ALNUM, 22)}",
            ]
        ),
    )
    add(
        "misc_identifier",
        160,
        lambda: rng.choice(
            [
                f"CVE-{rng.randint(2019, 2025)}-{rng.randint(1000, 49999)}",
                f"JIRA-{rng.randint(1, 9999)}",
                f"{rng.choice(['perf', 'db', 'timezone', 'auth'])},{rng.choice(['flaky', 'ci', 'infra'])}",
                rng.choice(
                    ["timezone-handling", "off-by-one", "race-condition", "n-plus-one-query"]
                ),
                rng.choice(
                    ["prompt_input_exit", "clear", "logout", "auto", "manual", "general-purpose"]
                ),
                f"{rng.randint(1, 100)}%",
                f"{rng.randint(1, 4096)}MiB",
                rng.choice(
                    ["AI_TELEMETRY_LOG_PATH", "ai_telemetry.events.privacy", "os.path.join"]
                ),
                f"requests=={rng.randint(2, 3)}.{rng.randint(0, 32)}.{rng.randint(0, 9)}",
                f"python:3.{rng.randint(9, 13)}-slim",
                f"tests/test_{rng.choice(WORDS)}.py::test_{rng.choice(WORDS)}[case-{rng.randint(1, 9)}]",
                f"us-{rng.choice(['east', 'west'])}-{rng.randint(1, 2)}",
                f"web-{_s(rng, 'abcdef0123456789', 9)}-{_s(rng, 'abcdefghijklmnopqrstuvwxyz0123456789', 5)}",
                f"sha256:{_s(rng, '0123456789abcdef', 64)}",
                f"exit code {rng.choice([1, 2, 137, 143])}",
                f"HTTP {rng.choice([400, 401, 403, 404, 429, 500, 502, 503])}",
                f"PR #{rng.randint(1, 9999)}",
                f"build-{rng.randint(1000, 99999)}",
            ]
        ),
    )
    add(
        "error_message",
        140,
        lambda: rng.choice(
            [
                "Connection reset by peer",
                "Connection refused: localhost:{port}",
                "Max retries exceeded with url: /v1/messages",
                "Read timed out. (read timeout={n})",
                "rate limit: 429 Too Many Requests",
                "context window exceeded: {big} > 200000 tokens",
                "AssertionError: expected {n} got {m}",
                "ModuleNotFoundError: No module named '{w}'",
                "KeyError: '{w}'",
                "permission denied: /var/log/{w}.log",
                "disk quota exceeded on /dev/sda{n}",
                "process killed by SIGKILL (exit {code})",
                "port {port} already in use",
                "{n} of {m} checks passed",
                "Step {n} of {m} failed",
                "timeout after {n}s waiting for {w}",
                "Claude Code hook {w} returned {code}",
                "GitHub Actions job {w} failed",
                "Visual Studio Code extension crashed",
                "Tool call limit reached ({big} calls)",
                "token budget: {big} used",
                "p95 latency {big}ms above SLO",
                "retry {n}/{m}",
                "Sentry Issue {w}-{port}",
                "Victoria Metrics scrape failed",
                "Grace period expired for {w}",
                "Jordan normal form test failed",
            ]
        ).format(
            port=rng.randint(1024, 65535),
            n=rng.randint(1, 9),
            m=rng.randint(10, 99),
            big=rng.randint(1000, 250000),
            code=rng.choice([1, 2, 137, 143, 255]),
            w=rng.choice(WORDS),
        ),
    )
    add(
        "look_alike",
        140,
        lambda: rng.choice(
            [
                f"v{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
                f"ubuntu-{rng.choice(['20.04', '22.04', '24.04'])}",
                f"node v{rng.randint(16, 22)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                f"0x{_s(rng, '0123456789abcdef', 12)}",
                f"{rng.randint(1, 2000)} tests passed",
                f"{rng.randint(1, 90)} files changed",
                f"build #{rng.randint(1000, 99999)}",
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} UTC",
                f"TLS 1.{rng.randint(2, 3)}",
                f"ratio {rng.choice(['16:9', '4:3', '21:9'])}",
                f"{rng.uniform(0, 1):.6f}",
                f"1e-{rng.randint(3, 9)}",
                f"order #{rng.randint(100000, 999999)}",
                f"run {rng.randint(10**9, 10**10 - 1)}",
                f"job-{rng.randint(10**5, 10**7)}",
                f"{rng.choice(['x86_64', 'arm64', 'aarch64'])}-linux-gnu",
                f"pr-{rng.randint(1, 9999)}-preview",
                f"LEARN-{rng.randint(2024, 2026)}-{rng.randint(1, 999):03d}.md",
                f"sprint-{rng.randint(1, 52)}",
                f"q{rng.randint(1, 4)}-{rng.randint(2024, 2026)}",
                f"week {rng.randint(1, 52)}",
                f"{rng.randint(100, 999)} {rng.choice(['Errors', 'Warnings', 'Retries'])}",
                f"db_{rng.choice(WORDS)}_v{rng.randint(1, 9)}",
                f"api/v{rng.randint(1, 3)}/users/{{user_id}}/{rng.choice(WORDS)}",
                f"test_{rng.choice(WORDS)}_{rng.randint(1, 99)}",
                f"{rng.choice(WORDS).capitalize()} {rng.choice(['Service', 'Manager', 'Worker'])}",
            ]
        ),
    )
    return out + list(ISSUE_LEGIT)


def heldout_names() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    rng = random.Random(SEED + 1)
    for locale in ("de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "tr_TR", "nl_NL", "pt_BR"):
        fake = Faker(locale)
        fake.seed_instance(SEED)
        for _ in range(25):
            first, last = fake.first_name(), fake.last_name()
            shape = rng.choice(["{f} {l}", "{f}.{l}", "Dr. {f} {l}", "{l}, {f}"])
            value = shape.format(f=first, l=last)
            out.append((f"person_name_{locale}", value.lower() if shape == "{f}.{l}" else value))
    return out


# Held-out multilingual names: Faker locales that the detector's lists never read (it reads
# mimesis, hebrew-names and Faker's hi_IN/mr_IN only; see src/ai_telemetry/events/_world_names.py).
HELDOUT_LOCALES = {
    "latin": (
        "de_DE",
        "fr_FR",
        "es_ES",
        "pl_PL",
        "cs_CZ",
        "tr_TR",
        "hu_HU",
        "pt_BR",
        "ro_RO",
        "sk_SK",
    ),
    "cyrillic": ("ru_RU", "uk_UA", "bg_BG"),
    "greek": ("el_GR",),
    "arabic": ("ar_AA", "ar_SA"),
    "hebrew": ("he_IL",),
    "cjk": ("zh_CN", "zh_TW", "ja_JP", "ko_KR"),
    "devanagari": ("ne_NP",),
}
_FAMILY_FIRST = ("zh_CN", "zh_TW", "ja_JP", "ko_KR", "hu_HU")
_NO_SPACE = ("zh_CN", "zh_TW", "ko_KR")
_HONORIFIC = {
    "latin": ("Dr.", "Prof."), "cyrillic": ("Dr.", "д-р", "г-н"), "greek": ("Dr.", "Δρ."),
    "arabic": ("Dr.", "د."), "hebrew": ("Dr.", 'ד"ר'), "cjk": ("Dr.",), "devanagari": ("Dr.", "डॉ."),
}  # fmt: skip
_WRAP = ("{n}", "{n}", "{n}", "failed for {n}", "{n} timed out", "assigned to {n}")


def heldout_multilingual(seed: int = SEED + 2, faker_seed: int = SEED) -> list[tuple[str, str]]:
    """Per script, about 150 names in the shapes free text carries them."""
    out: list[tuple[str, str]] = []
    rng = random.Random(seed)
    for script, locales in HELDOUT_LOCALES.items():
        per_locale = max(15, 150 // len(locales))
        for locale in locales:
            fake = Faker(locale)
            fake.seed_instance(faker_seed)
            for _ in range(per_locale):
                first, last = fake.first_name(), fake.last_name()
                sep = "" if locale in _NO_SPACE else " "
                name = f"{last}{sep}{first}" if locale in _FAMILY_FIRST else f"{first} {last}"
                shape = rng.random()
                if shape < 0.15:
                    name = f"{rng.choice(_HONORIFIC[script])} {name}"
                elif shape < 0.3 and script == "latin":
                    name = f"{first}.{last}".lower()
                elif shape < 0.3 and script == "cyrillic":
                    name = f"{last} {first}"
                out.append((f"person_name_{script}_{locale}", rng.choice(_WRAP).format(n=name)))
    return out


# Localized non-name text: error and status messages a tool prints, hand-written per language,
# plus sentences of Faker's localized lorem (real words of the language).
LOCALIZED_MESSAGES = {
    "de": "Datei nicht gefunden; Verbindung abgelehnt; Zeitüberschreitung beim Lesen; Zugriff verweigert; Ungültige Eingabe; Speicher voll; Vorgang abgebrochen; Überprüfung fehlgeschlagen; Änderungen gespeichert; Größe überschritten",
    "fr": "Fichier introuvable; Connexion refusée; Délai d'attente dépassé; Accès refusé; Entrée non valide; Opération annulée; Échec de la vérification; Modifications enregistrées; Mémoire insuffisante; Erreur réseau",
    "es": "Archivo no encontrado; Conexión rechazada; Tiempo de espera agotado; Acceso denegado; Entrada no válida; Operación cancelada; Falló la verificación; Cambios guardados; Memoria insuficiente; Error de red",
    "pl": "Nie znaleziono pliku; Połączenie odrzucone; Przekroczono limit czasu; Odmowa dostępu; Nieprawidłowe dane; Operacja anulowana; Weryfikacja nie powiodła się; Zmiany zapisane; Brak pamięci; Błąd sieci",
    "tr": "Dosya bulunamadı; Bağlantı reddedildi; Zaman aşımı; Erişim engellendi; Geçersiz giriş; İşlem iptal edildi; Doğrulama başarısız; Değişiklikler kaydedildi; Yetersiz bellek; Ağ hatası",
    "cs": "Soubor nenalezen; Připojení odmítnuto; Vypršel časový limit; Přístup odepřen; Neplatný vstup; Operace zrušena; Ověření selhalo; Změny uloženy; Nedostatek paměti; Chyba sítě",
    "pt": "Arquivo não encontrado; Conexão recusada; Tempo esgotado; Acesso negado; Entrada inválida; Operação cancelada; Falha na verificação; Alterações salvas; Memória insuficiente; Erro de rede",
    "ru": "Файл не найден; Соединение отклонено; Превышено время ожидания; Доступ запрещён; Неверный ввод; Операция отменена; Проверка не пройдена; Изменения сохранены; Недостаточно памяти; Ошибка сети; Сервер Недоступен; Задача Выполнена; Неизвестная Ошибка",
    "uk": "Файл не знайдено; З'єднання відхилено; Час очікування вичерпано; Доступ заборонено; Неправильне введення; Операцію скасовано; Перевірка не пройдена; Зміни збережено; Недостатньо пам'яті; Помилка мережі",
    "el": "Το αρχείο δεν βρέθηκε; Η σύνδεση απορρίφθηκε; Λήξη χρόνου; Δεν επιτρέπεται η πρόσβαση; Μη έγκυρη είσοδος; Η λειτουργία ακυρώθηκε; Η επαλήθευση απέτυχε; Οι αλλαγές αποθηκεύτηκαν; Ανεπαρκής μνήμη; Σφάλμα δικτύου",
    "ar": "الملف غير موجود; تم رفض الاتصال; انتهت المهلة; تم رفض الوصول; إدخال غير صالح; تم إلغاء العملية; فشل التحقق; تم حفظ التغييرات; الذاكرة غير كافية; خطأ في الشبكة; الخادم غير متاح; اكتملت المهمة",
    "he": "הקובץ לא נמצא; החיבור נדחה; הזמן הקצוב הסתיים; הגישה נדחתה; קלט לא חוקי; הפעולה בוטלה; האימות נכשל; השינויים נשמרו; אין מספיק זיכרון; שגיאת רשת; השרת אינו זמין; המשימה הושלמה",
    "zh": "文件未找到; 连接被拒绝; 请求超时; 访问被拒绝; 输入无效; 操作已取消; 验证失败; 更改已保存; 内存不足; 网络错误; 服务器不可用; 任务完成; 成功; 失败; 错误; 警告; 高级设置; 王牌功能; 测试通过; 构建失败",
    "ja": "ファイルが見つかりません; 接続が拒否されました; タイムアウトしました; アクセスが拒否されました; 無効な入力です; 操作はキャンセルされました; 検証に失敗しました; 変更を保存しました; メモリ不足; ネットワークエラー; 成功; 失敗; 完了; 設定; 中止",
    "ko": "파일을 찾을 수 없습니다; 연결이 거부되었습니다; 시간 초과; 접근이 거부되었습니다; 잘못된 입력; 작업이 취소되었습니다; 검증 실패; 변경 사항이 저장되었습니다; 메모리 부족; 네트워크 오류; 성공; 실패; 완료; 설정; 이름",
    "hi": "फ़ाइल नहीं मिली; कनेक्शन अस्वीकार किया गया; समय समाप्त; पहुँच अस्वीकृत; अमान्य इनपुट; कार्य रद्द किया गया; सत्यापन विफल; परिवर्तन सहेजे गए; पर्याप्त मेमोरी नहीं; नेटवर्क त्रुटि; सर्वर उपलब्ध नहीं; कार्य पूरा हुआ",
}
# Title Case text that is not a name: HTTP reason phrases, products and services, UI labels and
# event titles, in English and a few languages that capitalise labels.
TITLE_CASE = (
    "Bad Request; Unauthorized Access; Payment Required; Not Found; Method Not Allowed; Not Acceptable; "
    "Request Timeout; Gone Away; Length Required; Precondition Failed; Payload Too Large; Too Many Requests; "
    "Internal Server Error; Bad Gateway; Service Unavailable; Gateway Timeout; Insufficient Storage; "
    "Network Authentication Required; Permission Denied; Rate Limit Exceeded; Connection Reset; "
    "Visual Studio Code; Google Chrome; Amazon Web Services; Microsoft Teams; Apache Kafka; Apache Spark; "
    "Victoria Metrics; Claude Code; Claude Desktop; Jenkins Pipeline; Sentry Alert; Grafana Cloud; Elastic Search; "
    "Azure Blob Storage; Google Cloud Run; Vercel Edge Functions; Netlify Build; Docker Desktop; Travis Build; "
    "Pull Request Opened; Pull Request Merged; Issue Closed; Review Requested; Changes Requested; Check Run Failed; "
    "Workflow Dispatch; Release Published; Branch Protection Rule; Code Owners; Merge Queue; Draft Release; "
    "Mark As Done; Grace Period Expired; Will Retry Later; Rose Pine Theme; Jack Audio Server; Max Retries Exceeded; "
    "Page Not Found; Grant Access; Chase Down Flaky Tests; Hunter Killer Test; Amber Alert Level; Crystal Reports; "
    "Summer Release Train; Autumn Cleanup; Victoria Station Build; Angel Investor Report; Dawn Patrol Job; "
    "Save Changes; Open File; New Message; Delete Branch; Rename Project; Export Report; Import Settings; "
    "Datei Öffnen; Neue Nachricht; Einstellungen Speichern; Änderungen Verwerfen; Zugriff Verweigert; "
    "Ungültige Eingabe; Größe Überschritten; Nachricht Gesendet; Bericht Exportieren; Sitzung Abgelaufen; "
    "Fichier Introuvable; Accès Refusé; Paramètres Avancés; Créer Un Compte; Mot De Passe Oublié; "
    "Configuración Avanzada; Acceso Denegado; Guardar Cambios; Inicio Rápido; Cerrar Sesión; "
    "Zapisz Zmiany; Ustawienia Zaawansowane; Odmowa Dostępu; Dosya Bulunamadı; Gelişmiş Ayarlar; "
    "Сохранить Изменения; Расширенные Настройки; Доступ Запрещён; Новое Сообщение; Отчёт Готов; "
    "Αποθήκευση Αλλαγών; Σφάλμα Διακομιστή; Νέο Μήνυμα; Πρόσβαση Απορρίφθηκε"
)
_LOREM_LOCALES = (
    "ru_RU",
    "uk_UA",
    "el_GR",
    "ar_AA",
    "he_IL",
    "zh_CN",
    "zh_TW",
    "ja_JP",
    "de_DE",
    "fr_FR",
    "pl_PL",
    "cs_CZ",
    "hy_AM",
    "fa_IR",
    "th_TH",
    "bn_BD",
)


def legit_localized() -> list[tuple[str, str]]:
    """Non-name text in the scripts the name detector reads: messages, lorem sentences, and
    English telemetry values that sit beside them."""
    out: list[tuple[str, str]] = []
    rng = random.Random(SEED + 3)
    for lang, text in LOCALIZED_MESSAGES.items():
        for message in text.split("; "):
            out.append((f"message_{lang}", message))
            out.append(
                (f"message_{lang}", f"{rng.choice(['ToolError', 'Error', 'build'])}: {message}")
            )
    for label in TITLE_CASE.split("; "):
        out.append(("title_case", label))
        out.append(("title_case", f"{label} (retry {rng.randint(1, 9)})"))
    for locale in _LOREM_LOCALES:
        fake = Faker(locale)
        fake.seed_instance(SEED)
        for _ in range(40):
            out.append((f"lorem_{locale}", fake.sentence(nb_words=rng.randint(2, 8))))
        for _ in range(20):
            out.append((f"lorem_{locale}", " ".join(fake.words(nb=2)).capitalize()))
    return out


def _write(path: Path, label: str, rows: list[tuple[str, str]]) -> None:
    seen: set[str] = set()
    with path.open("w", encoding="utf-8") as fh:
        for category, value in rows:
            if value in seen:
                continue
            seen.add(value)
            fh.write(json.dumps({"value": value, "label": label, "category": category}) + "\n")
    print(f"{path.name}: {len(seen)} values")


def main() -> None:
    rng = random.Random(SEED)
    fake, gb = Faker("en_US"), Faker("en_GB")
    fake.seed_instance(SEED)
    gb.seed_instance(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    _write(OUT / "pii.jsonl", "pii", pii_values(fake, gb, rng))
    _write(OUT / "legit.jsonl", "legit", legit_values(rng))
    _write(OUT / "heldout_names.jsonl", "pii", heldout_names())
    _write(OUT / "heldout_multilingual.jsonl", "pii", heldout_multilingual())
    # The same locales and shapes under another seed: measured once, after the rules were
    # settled on the first set (which served as the development set).
    _write(OUT / "heldout_multilingual_test.jsonl", "pii", heldout_multilingual(SEED + 7, SEED + 7))
    _write(OUT / "legit_localized.jsonl", "legit", legit_localized())


if __name__ == "__main__":
    main()
