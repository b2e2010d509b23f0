"""The reviews, the audit, the comparison and the proposals' evidence read through the `Store`
protocol (issue 14 §2): the same review world (demo telemetry, learnings, incidents, a real git
repository) on the DuckDB warehouse and on a real PostgreSQL gives the same documents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from review_helpers import NOW, shared_world

from ai_telemetry.config import Settings
from ai_telemetry.ports import Store
from ai_telemetry.report.audit import build_audit
from ai_telemetry.report.compare import compare_skill
from ai_telemetry.report.propose_skill import build_proposals
from ai_telemetry.report.review import build_review
from ai_telemetry.store.postgres import PostgresStore
from ai_telemetry.stores import open_ingested


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    return shared_world(tmp_path_factory.getbasetemp())


def _documents(store: Store, settings: Settings, repo: Path) -> dict[str, Any]:
    history = repo / ".claude/History"
    naive = NOW.replace(tzinfo=None)
    review = build_review(store, "2025-12", history_dir=history, now=NOW)
    audit = build_audit(store, "2025-Q4", repo=repo, history_dir=history, now=NOW)
    top = store.top("skills", _quarter(), limit=1)[0].name
    comparison = compare_skill(store, top, before_after=NOW - timedelta(days=30))
    drafts = build_proposals(audit, wh=store, history_dir=history)
    return {
        "review": review.to_document(),
        "audit": audit.to_document(),
        "compare": comparison.to_document(),
        "drafts": [(d.name, d.evidence, d.text) for d in drafts],
        "errors": store.errors_by_type(top, since=naive - timedelta(days=90), until=naive),
        "seen": sorted(store.skills_seen(before=naive)),
        "incidents": store.incidents(until=naive),
        "learnings": store.learnings(until=naive, as_of=naive),
    }


def _quarter() -> Any:
    from ai_telemetry.ports import Window

    return Window(NOW - timedelta(days=92), NOW)


def test_the_same_documents_on_duckdb_and_postgresql(
    world: tuple[Settings, Path], postgres_url: str
) -> None:
    settings, repo = world
    with open_ingested(settings) as duck:
        expected = _documents(duck, settings, repo)
    with PostgresStore(postgres_url, settings=settings, check=False) as pg:
        pg.migrate()
    with PostgresStore(postgres_url, settings=settings) as pg:
        assert pg.load_warehouse().sent > 0
        actual = _documents(pg, settings, repo)
    assert expected["learnings"] and expected["incidents"] and expected["errors"]
    assert expected["review"]["learnings"] and expected["audit"]["skills"]
    for name in expected:
        assert actual[name] == expected[name], name
