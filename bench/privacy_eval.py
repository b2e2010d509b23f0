"""Measure the privacy guard: recall per category, false positives, and cost per event.

Run from the repository root::

    .venv/bin/python bench/privacy_eval.py            # prints Markdown tables for docs/privacy.md

Reads the committed corpus in tests/data/privacy/ (regenerate it with bench/privacy_corpus.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import timeit
from collections import Counter, defaultdict
from pathlib import Path

from ai_telemetry.events.privacy import PrivacyGuard, detect

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "privacy"
SECRETS = {
    "private_key", "jwt", "url_credentials", "aws_access_key", "github_token", "slack_token",
    "stripe_key", "anthropic_key", "openai_key", "google_api_key", "api_token", "secret",
    "bearer_token",
}  # fmt: skip
STRUCTURED = {"email", "phone", "ssn", "mrn", "credit_card", "date_of_birth"}


def load(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def recall_table(rows: list[dict[str, str]]) -> tuple[str, dict[str, tuple[int, int]]]:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        per[row["category"]][0] += 1
        per[row["category"]][1] += detect(row["value"]) is not None
    lines = ["| category | group | values | detected | recall |", "|---|---|---:|---:|---:|"]
    for cat in sorted(per, key=lambda c: (c not in SECRETS, c not in STRUCTURED, c)):
        n, hit = per[cat]
        group = "secret" if cat in SECRETS else "structured" if cat in STRUCTURED else "other"
        lines.append(f"| {cat} | {group} | {n} | {hit} | {hit / n:.3f} |")
    groups: dict[str, tuple[int, int]] = {}
    for name, cats in (("secrets", SECRETS), ("structured", STRUCTURED), ("all", set(per))):
        n = sum(per[c][0] for c in cats if c in per)
        hit = sum(per[c][1] for c in cats if c in per)
        groups[name] = (n, hit)
        if n:
            lines.append(f"| **{name}** | | {n} | {hit} | **{hit / n:.3f}** |")
    return "\n".join(lines), groups


def false_positive_table(rows: list[dict[str, str]]) -> str:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    flagged: Counter[str] = Counter()
    for row in rows:
        found = detect(row["value"])
        per[row["category"]][0] += 1
        if found:
            per[row["category"]][1] += 1
            flagged[found] += 1
    lines = ["| category | values | flagged |", "|---|---:|---:|"]
    for cat in sorted(per):
        lines.append(f"| {cat} | {per[cat][0]} | {per[cat][1]} |")
    n, fp = sum(v[0] for v in per.values()), sum(v[1] for v in per.values())
    lines.append(f"| **all** | {n} | {fp} (**{fp / n:.2%}**) |")
    if flagged:
        lines.append(f"\nFlagged as: {dict(flagged)}")
    return "\n".join(lines)


def script_table(rows: list[dict[str, str]]) -> str:
    """Recall per script (and locale) of the multilingual held-out names."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    locales: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        _, _, script, locale = row["category"].split("_", 3)
        locales[script].add(locale)
        per[script][1] += 1
        per[script][0] += detect(row["value"]) is not None
    lines = [
        "| script | locales (Faker) | values | detected | recall |",
        "|---|---|---:|---:|---:|",
    ]
    for script, (hit, total) in per.items():
        names = ", ".join(sorted(locales[script]))
        lines.append(f"| {script} | {names} | {total} | {hit} | {hit / total:.3f} |")
    hit = sum(h for h, _ in per.values())
    total = sum(t for _, t in per.values())
    lines.append(f"| **all** | | {total} | {hit} | **{hit / total:.3f}** |")
    return "\n".join(lines)


def localized_table(rows: list[dict[str, str]]) -> str:
    """Legitimate values lost (flagged) among localized non-name text, by kind."""
    per: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    for row in rows:
        kind = row["category"].split("_", 1)[0]
        per[kind] += 1
        flagged[kind] += detect(row["value"]) is not None
    lines = ["| kind | values | flagged |", "|---|---:|---:|"]
    for kind, n in per.items():
        lines.append(f"| {kind} | {n} | {flagged[kind]} |")
    total, bad = sum(per.values()), sum(flagged.values())
    lines.append(f"| **all** | {total} | {bad} (**{bad / total:.2%}**) |")
    return "\n".join(lines)


def _subprocess_ms(code: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return float(out.strip().splitlines()[-1])


def name_list_timings() -> str:
    """Loading the multilingual name lists, in fresh processes: built, then from the cache."""
    code = (
        "import time; t = time.perf_counter();"
        "from ai_telemetry.events import _world_names as w; w.load('latin');"
        "print((time.perf_counter() - t) * 1000)"
    )
    first = (
        "import time; from ai_telemetry.events.privacy import detect;"
        "t = time.perf_counter(); detect('failed for Freia M\u00fcller');"
        "print((time.perf_counter() - t) * 1000)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        built = _subprocess_ms(code, env)
        cached = min(_subprocess_ms(code, env) for _ in range(5))
        first_name = min(_subprocess_ms(first, env) for _ in range(5))
    return "\n".join(
        [
            "| measurement | value |",
            "|---|---:|",
            f"| name lists built from the packages' data (first process) | {built:.0f} ms |",
            f"| Latin name lists read from the cache file (later processes) | {cached:.0f} ms |",
            f"| first name check in a fresh process (cache file present) | {first_name:.0f} ms |",
        ]
    )


def timings() -> str:
    event = {
        "timestamp": "2025-12-15T15:15:00Z",
        "event_type": "skill_execution",
        "event_id": "0193a6f4-8c2e-7b41-9d3a-5f6e7a8b9c0d",
        "session_id": "5b1f3c2e-9a7d-4e6f-8b0c-1d2e3f4a5b6c",
        "source": "sdk",
        "project": "residency-scheduler",
        "skill": "systematic-debugger",
        "outcome": "success",
        "duration_seconds": 2700,
        "context_tokens": 18900,
    }
    guard = PrivacyGuard()
    n = 20000
    warm = min(timeit.repeat(lambda: guard.scrub(event), number=n, repeat=5)) / n * 1e6

    def cold() -> None:
        PrivacyGuard().scrub(event)

    cold_us = min(timeit.repeat(cold, number=2000, repeat=5)) / 2000 * 1e6
    text_event = {**event, "outcome": "error", "error_type": "TimeoutError: tool Read timed out"}

    def cold_text() -> None:
        PrivacyGuard().scrub(text_event)

    cold_text_us = min(timeit.repeat(cold_text, number=2000, repeat=5)) / 2000 * 1e6
    values = [r["value"] for r in load("legit.jsonl")]
    per_value = min(timeit.repeat(lambda: [detect(v) for v in values], number=5, repeat=3))
    per_value_us = per_value / 5 / len(values) * 1e6
    # Measure as an installed package runs: with cached bytecode (the second of two runs).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    argv = [sys.executable, "-X", "importtime", "-c", "import ai_telemetry.events.privacy"]
    with tempfile.TemporaryDirectory() as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        for _ in range(2):
            imp = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stderr
    own = next(line for line in imp.splitlines() if line.endswith("ai_telemetry.events.privacy"))
    self_us = int(own.split("|")[0].split(":")[1])
    total_us = int(own.split("|")[1])
    return "\n".join(
        [
            "| measurement | value |",
            "|---|---:|",
            f"| scrub, typical 10-field event, values seen before (cache warm) | {warm:.1f} µs |",
            f"| scrub, same event, fresh guard (every value scanned) | {cold_us:.1f} µs |",
            f"| scrub, with a free-text error_type, fresh guard | {cold_text_us:.1f} µs |",
            f"| detect, one legitimate value, no cache (corpus mean) | {per_value_us:.1f} µs |",
            f"| import `ai_telemetry.events.privacy`, module itself | {self_us / 1000:.2f} ms |",
            f"| import, including schema, errors and the package | {total_us / 1000:.1f} ms |",
        ]
    )


def main() -> None:
    table, _ = recall_table(load("pii.jsonl"))
    print("## Recall (personal data and secrets)\n")
    print(table)
    print("\n## False positives (legitimate telemetry values)\n")
    print(false_positive_table(load("legit.jsonl")))
    held, _ = recall_table(load("heldout_names.jsonl"))
    print("\n## Held-out names (locales outside the first-name list)\n")
    print(held)
    if (DATA / "heldout_multilingual.jsonl").exists():
        print("\n## Held-out multilingual names (Faker locales the detector never reads)\n")
        print(script_table(load("heldout_multilingual.jsonl")))
        print("\n## Localized legitimate text\n")
        print(localized_table(load("legit_localized.jsonl")))
    print("\n## Cost\n")
    print(timings())
    if (DATA / "heldout_multilingual.jsonl").exists():
        print()
        print(name_list_timings())
    missed = [r for r in load("pii.jsonl") if detect(r["value"]) is None]
    if "-v" in sys.argv:
        for r in missed:
            print("MISSED", r["category"], repr(r["value"]))
        for r in load("legit.jsonl"):
            found = detect(r["value"])
            if found:
                print("FP", r["category"], found, repr(r["value"]))


if __name__ == "__main__":
    main()
