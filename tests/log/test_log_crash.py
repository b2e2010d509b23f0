"""Writers killed with SIGKILL at random moments lose no acknowledged event.

Each ``ack`` child appends events in durability mode ``write`` and prints an event's sequence
number on a pipe only after `EventLog.write_lines` returned, so every number the parent reads is
an event the writer was told is in the file. The parent kills the writers at random moments.

SIGKILL cannot interrupt a small ``write(2)`` to a local file halfway in practice, so to provoke
the fragment a writer killed mid-write would leave, ``tear`` children take the writers' lock,
append the first half of an event and are killed while holding it: exactly the state such a
crash leaves. The other writers must close the fragment off, and the reader must quarantine it
as that writer's only bad line.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import orjson
import pytest
from log_test_helpers import log_lines, start_child
from log_writer_child import make_line

from ai_telemetry.log.reader import iter_events, quarantine_bad_lines, read_log


class Acks:
    """Collects a child's acknowledged sequence numbers from its stdout, in a thread."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        self.numbers: list[int] = []
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            if line.endswith(b"\n"):  # a number cut short by the kill was never acknowledged
                self.numbers.append(int(line))

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.numbers) < count and time.monotonic() < deadline:
            time.sleep(0.005)

    def finish(self) -> list[int]:
        self.child.wait(timeout=30)
        self.thread.join(timeout=30)
        assert self.child.stdout is not None
        self.child.stdout.close()
        return self.numbers


def kill(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)


def tear_and_kill(log: Path, writer: str) -> None:
    """Start a tearing child; once it has left its half line, SIGKILL it (holding the lock)."""
    child = start_child("tear", str(log), writer, stdout=subprocess.PIPE)
    assert child.stdout is not None
    with child.stdout:
        assert child.stdout.readline() == b"torn\n"
        kill(child)


def owner_of_fragment(raw: bytes, candidates: dict[str, int]) -> str | None:
    """The writer whose line number ``candidates[writer]`` starts with ``raw``, if any."""
    for writer, seq in candidates.items():
        if make_line(writer, seq).startswith(raw):
            return writer
    return None


@pytest.mark.slow
def test_sigkilled_writers_lose_no_acknowledged_event(fresh_log: Path) -> None:
    """Every acknowledged event survives; bad lines are at most one fragment per killed writer."""
    rng = random.Random(20251226)
    fresh_log.parent.mkdir(parents=True)
    names = [f"k{i}" for i in range(8)]
    writers = {
        n: Acks(start_child("ack", str(fresh_log), n, stdout=subprocess.PIPE)) for n in names
    }
    torn: list[str] = []
    for index, acks in enumerate(writers.values()):
        acks.wait_for(rng.randint(50, 5000))
        time.sleep(rng.uniform(0, 0.05))
        kill(acks.child)
        if index % 2 == 0:  # while the others keep writing, a writer dies mid-line
            torn.append(f"t{index}")
            tear_and_kill(fresh_log, torn[-1])
    acknowledged = {name: acks.finish() for name, acks in writers.items()}
    assert all(len(acked) > 0 for acked in acknowledged.values())

    found: dict[str, set[int]] = {name: set() for name in writers}
    for event in iter_events(fresh_log):
        found[str(event["session_id"])].add(int(str(event["task_id"])))
    missing = {name: sorted(set(acked) - found[name]) for name, acked in acknowledged.items()}
    assert missing == {name: [] for name in writers}

    # A fragment may only be the start of a writer's next, unacknowledged line.
    candidates = {name: max(found[name]) + 1 for name in writers} | dict.fromkeys(torn, 0)
    owners = [owner_of_fragment(bad.raw, candidates) for bad in read_log(fresh_log).bad]
    assert None not in owners
    assert len(owners) == len(set(owners))
    assert set(torn) <= set(owners)

    quarantine_bad_lines(fresh_log, quarantine_path=fresh_log.with_name("q.jsonl"))
    after = {(str(e["session_id"]), int(str(e["task_id"]))) for e in iter_events(fresh_log)}
    assert {(n, s) for n, acked in acknowledged.items() for s in acked} <= after
    assert read_log(fresh_log).bad == []


def test_fragment_of_a_killed_writer_is_quarantined_and_never_glued(fresh_log: Path) -> None:
    """A writer killed mid-line leaves one fragment on its own line; quarantine moves just it."""
    fresh_log.parent.mkdir(parents=True)
    tear_and_kill(fresh_log, "t0")
    survivor = start_child("write", str(fresh_log), "s0", "100")
    assert survivor.wait(timeout=60) == 0
    lines = log_lines(fresh_log)
    fragment = make_line("t0", 0)[: len(make_line("t0", 0)) // 2]
    assert lines[0] == fragment + b"\n"
    assert lines[1:] == [make_line("s0", seq) for seq in range(100)]

    quarantine = fresh_log.with_name("events.quarantine.jsonl")
    report = quarantine_bad_lines(fresh_log, quarantine_path=quarantine)
    records = [orjson.loads(line) for line in log_lines(quarantine)]
    assert (report.quarantined, [r["raw"] for r in records]) == (1, [fragment.decode()])
    assert read_log(fresh_log).valid == 100


def test_torn_tail_of_a_killed_writer_is_quarantined(fresh_log: Path) -> None:
    """A fragment left at the very end (no writer came after) is quarantined under the lock."""
    start_child("write", str(fresh_log), "s0", "10").wait(timeout=60)
    tear_and_kill(fresh_log, "t0")
    report = quarantine_bad_lines(fresh_log, quarantine_path=fresh_log.with_name("q.jsonl"))
    assert (report.quarantined, report.bad[0].torn, read_log(fresh_log).bad) == (1, True, [])
