"""The 202 body of ``POST /v1/events`` (built in one pass) is the counts and one result per
event, each with what its outcome holds."""

from __future__ import annotations

import random

from ai_telemetry.serve.ingest import _result_json, batch_document
from ai_telemetry.serve.writer import BatchResult, Outcome, Status


def test_batch_document_counts_and_lists_every_outcome() -> None:
    rng = random.Random(1)
    statuses: list[Status] = ["accepted", "duplicate", "rejected", "covered_by_hook"]
    outcomes = [
        Outcome(rng.choice(statuses), rng.choice([None, f"id-{n}"]), rng.choice([None, "why"]))
        for n in range(500)
    ]
    result = BatchResult(outcomes)
    assert batch_document(result) == {
        "accepted": result.count("accepted"),
        "duplicates": result.count("duplicate"),
        "rejected": result.count("rejected"),
        "results": [_result_json(i, o) for i, o in enumerate(outcomes)],
    }
    assert batch_document(BatchResult()) == {
        "accepted": 0,
        "duplicates": 0,
        "rejected": 0,
        "results": [],
    }
