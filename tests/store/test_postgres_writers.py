"""Many writers on one PostgreSQL store: the same batches from several processes, each event once.

(The end-to-end version, two ``serve`` processes on different ports, belongs with serve.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from ai_telemetry.config import Settings
from ai_telemetry.store.postgres import PostgresStore

WRITER = """
import sys
from pathlib import Path
from ai_telemetry.config import load_settings
from ai_telemetry.store.postgres import PostgresStore
url, *batches = sys.argv[1:]
with PostgresStore(url, settings=load_settings()) as store:
    for batch in batches:
        store.ingest_jsonl(Path(batch))
"""


def test_three_writers_store_each_event_once(
    postgres_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Three processes send overlapping batches in different orders, at once: no event twice,
    none missing, no deadlock."""
    with PostgresStore(postgres_url, settings=settings, check=False) as store:
        store.migrate()
    batches = []
    for b in range(12):
        path = tmp_path / f"batch{b}.jsonl"
        lines = []
        for n in range(b * 150, b * 150 + 300):  # each batch overlaps the next by half
            month = 1 + n % 3  # three months: partitions made while others write
            event = {
                "timestamp": f"2025-{month:02d}-10T10:00:{n % 60:02d}Z",
                "event_type": "tool_call",
                "event_id": f"e{n:05d}",
                "tool": "Read",
            }
            lines.append(orjson.dumps(event) + b"\n")
        path.write_bytes(b"".join(lines))
        batches.append(str(path))
    orders = [batches, batches[::-1], batches[1::2] + batches[::2]]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, postgres_url, *order], stderr=subprocess.PIPE
        )
        for order in orders
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert 0 == proc.returncode, err.decode()
    expected = 11 * 150 + 300
    with PostgresStore(postgres_url, settings=settings) as store, store.connection() as con:
        rows = con.execute("SELECT count(*), count(DISTINCT event_id) FROM event_rows").fetchone()
        ids = con.execute("SELECT count(*) FROM event_ids").fetchone()
    assert (expected, expected) == rows
    assert (expected,) == ids
