"""Shared learnings through the server (issue 19 §3): one project's server exports its lessons,
another's imports them, with the privacy guard, de-duplication and the role table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
from serve_test_helpers import running_server

from ai_telemetry.collect.learnings import create_learning, scan_entries


def _lessons(repo: Path) -> Path:
    folder = repo / ".claude" / "History"
    first = create_learning(folder, title="Rotation dates drift at DST", today=date(2025, 12, 1))
    first.path.write_text(
        first.path.read_text("utf-8") + "\nAsk jane.doe@example.com before changing it.\n", "utf-8"
    )
    create_learning(folder, title="Follow-up to LEARN-2025-001", today=date(2025, 12, 2))
    return folder


def test_one_server_exports_another_imports(tmp_path: Path) -> None:
    """GET on alpha's server, POST to beta's: beta gets both lessons, scrubbed, once."""
    alpha_repo, beta_repo = tmp_path / "alpha", tmp_path / "beta"
    _lessons(alpha_repo)
    (beta_repo / ".claude" / "History").mkdir(parents=True)
    with (
        running_server(tmp_path / "a" / "Telemetry", "--repo", str(alpha_repo)) as alpha,
        running_server(tmp_path / "b" / "Telemetry", "--repo", str(beta_repo)) as beta,
    ):
        status, _, bundle = alpha.request(
            "GET", "/api/learnings?project=alpha", token=alpha.tokens["program_director"]
        )
        assert 200 == status, bundle
        assert 2 == len(orjson.loads(bundle)["entries"])
        assert b"jane.doe@example.com" not in bundle

        refused, _, _ = beta.request(
            "POST", "/api/learnings", bundle, token=beta.tokens["program_director"]
        )
        assert 403 == refused  # a read role may not write

        status, _, answer = beta.request(
            "POST", "/api/learnings", bundle, token=beta.tokens["tech_lead"]
        )
        assert 200 == status, answer
        first = orjson.loads(answer)
        assert 2 == len(first["written"])
        status, _, again = beta.request(
            "POST", "/api/learnings", bundle, token=beta.tokens["tech_lead"]
        )
        assert 200 == status
        assert ([], 2) == (orjson.loads(again)["written"], len(orjson.loads(again)["duplicates"]))

        bad, _, message = beta.request(
            "POST", "/api/learnings", b"not a bundle", token=beta.tokens["tech_lead"]
        )
        assert 400 == bad
        assert b"error" in message

    imported = [
        e for e in scan_entries(beta_repo / ".claude" / "History") if not isinstance(e, str)
    ]
    assert 2 == len(imported)
    texts = "".join(p.read_text("utf-8") for p in (beta_repo / ".claude" / "History").glob("*.md"))
    assert "origin: alpha/LEARN-2025-001" in texts
    assert "jane.doe@example.com" not in texts
