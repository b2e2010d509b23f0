"""A writer process for the log's concurrency and crash tests (run with ``python FILE ...``).

Modes:
  write LOG WRITER COUNT [fsync|sink]  append COUNT events, one per call, then exit 0
  ack LOG WRITER                       append events forever; after each call returns, print
                                       its sequence number on stdout (the acknowledgement)
  tear LOG WRITER                      under the writers' lock, append the first half of an
                                       event (what a writer killed inside write(2) would
                                       leave), print "torn", and wait to be killed
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import orjson

from ai_telemetry.log.writer import EventLog, writers_lock

TIMESTAMP = "2025-12-26T10:30:00Z"


def make_event(writer: str, seq: int) -> dict[str, object]:
    """The deterministic event number ``seq`` of ``writer``."""
    return {
        "timestamp": TIMESTAMP,
        "event_type": "tool_call",
        "event_id": f"{writer}-{seq:07d}",
        "session_id": writer,
        "task_id": str(seq),
        "tool": "Read",
        "outcome": "success",
        "duration_seconds": 0.25,
    }


def make_line(writer: str, seq: int) -> bytes:
    """The event as the writer puts it in the log."""
    return orjson.dumps(make_event(writer, seq), option=orjson.OPT_APPEND_NEWLINE)


def main(argv: list[str]) -> int:
    mode, log_path, writer = argv[0], Path(argv[1]), argv[2]
    if mode == "write":
        count = int(argv[3])
        option = argv[4] if len(argv) > 4 else "write"
        if option == "sink":
            from ai_telemetry.config import load_settings
            from ai_telemetry.log.sink import LogSink

            sink = LogSink(load_settings(log_path=log_path, durability="write"))
            for seq in range(count):
                sink.write([make_event(writer, seq)])
            sink.close()
            return 0
        log = EventLog(log_path, fsync=option == "fsync")
        for seq in range(count):
            log.write_lines(make_line(writer, seq))
        log.close()
        return 0
    if mode == "ack":
        log = EventLog(log_path)
        seq = 0
        while True:
            log.write_lines(make_line(writer, seq))
            os.write(1, b"%d\n" % seq)
            seq += 1
    if mode == "tear":
        line = make_line(writer, 0)
        with writers_lock(log_path):
            fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(fd, line[: len(line) // 2])
            os.write(1, b"torn\n")
            time.sleep(3600)
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
