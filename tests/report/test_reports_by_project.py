"""``--project`` on ``review learnings``, ``audit skills``, ``compare skill`` and ``propose
skills`` (issue 16 §5): each reads only that project's learnings, incidents and runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from project_events import run_cli as _run
from project_events import write_log

AS_OF = "2026-12-01T00:00:00Z"


def _events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for project, n, skill, outcome, day in (
        ("alpha", 6, "tdd", "success", 3),
        ("alpha", 6, "tdd", "error", 20),
        ("beta", 4, "review", "error", 5),
    ):
        out += [
            {
                "timestamp": f"2026-11-{day:02d}T10:{i:02d}:00Z",
                "event_type": "skill_execution",
                "skill": skill,
                "outcome": outcome,
                "duration_seconds": 5.0,
                "project": project,
            }
            for i in range(n)
        ]
    for project, lid, day in (("alpha", "LEARN-2026-101", 4), ("beta", "LEARN-2026-102", 6)):
        out.append(
            {
                "timestamp": f"2026-11-{day:02d}T12:00:00Z",
                "event_type": "learning_created",
                "learning_id": lid,
                "severity": "critical",
                "source": "incident",
                "tags": "flaky",
                "project": project,
            }
        )
    for project, iid in (("alpha", "INC-1"), ("beta", "INC-2")):
        out.append(
            {
                "timestamp": "2026-11-07T12:00:00Z",
                "event_type": "incident_opened",
                "incident_id": iid,
                "severity": "warning",
                "root_cause": "flaky",
                "project": project,
            }
        )
    return sorted(out, key=lambda e: e["timestamp"])


def test_reviews_and_audits_of_one_project(tmp_path: Path, telemetry_dir: Path) -> None:
    write_log(telemetry_dir / "events.jsonl", _events())
    month = ("review", "learnings", "--month", "2026-11", "--as-of", AS_OF, "--json")
    alpha = _run(*month, "--project", "alpha", cwd=tmp_path)
    everyone = _run(*month, cwd=tmp_path)
    assert (alpha["project"], everyone["project"]) == ("alpha", None)
    assert [lrn["id"] for lrn in alpha["learnings"]] == ["LEARN-2026-101"]
    assert [lrn["id"] for lrn in everyone["learnings"]] == ["LEARN-2026-101", "LEARN-2026-102"]
    assert [i["id"] for i in alpha["incidents"]] == ["INC-1"]

    quarter = ("audit", "skills", "--quarter", "2026-Q4", "--as-of", AS_OF, "--json")
    beta = _run(*quarter, "--project", "beta", cwd=tmp_path)
    assert beta["project"] == "beta"
    assert {s["skill"]: s["runs"] for s in beta["skills"]} == {"review": 4}
    assert {s["skill"] for s in _run(*quarter, cwd=tmp_path)["skills"]} == {"review", "tdd"}

    compare = ("compare", "skill", "tdd", "--before-after", "2026-11-10", "--json")
    doc = _run(*compare, "--project", "alpha", cwd=tmp_path)
    assert (doc["project"], doc["a"]["runs"], doc["b"]["runs"]) == ("alpha", 6, 6)
    failed = _run(*compare, "--project", "beta", cwd=tmp_path, code=1)
    assert "no finished runs of skill 'tdd'" in failed["error"]

    drafts = _run("propose", "skills", "--quarter", "2026-Q4", "--as-of", AS_OF, "--project",
                  "beta", "--json", cwd=tmp_path)  # fmt: skip
    assert drafts["project"] == "beta"
