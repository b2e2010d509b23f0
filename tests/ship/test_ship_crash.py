"""100,000 events shipped while the shipper and the server are SIGKILLed at random moments.

Both are the real processes (``ai-telemetry ship --follow`` and ``ai-telemetry serve``),
restarted after each kill; events keep being appended to the local log meanwhile. In the end
the server's log holds exactly the local log's event ids: none missing, none twice.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from ship_helpers import CLI, Server, create_token, env_for, free_port, log_ids, write_events

from ai_telemetry.ship.shipper import checkpoint_path

TOTAL = 100_000
FIRST = 60_000
KILLS = 10


class Shipper:
    def __init__(self, local: Path, url: str, token: str) -> None:
        self.local, self.url, self.token = local, url, token
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.local / "ship.err").open("ab") as err:
            self.proc = self._spawn(err)

    def _spawn(self, err: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*CLI, "ship", "--to", self.url, "--follow", "--batch-lines", "700"],
            env=env_for(self.local, AI_TELEMETRY_SHIP_TOKEN=self.token),
            cwd=self.local,
            stdout=subprocess.DEVNULL,
            stderr=err,  # type: ignore[arg-type]
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> str:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=60)
        return (self.local / "ship.err").read_text()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_nothing_lost_nothing_doubled_across_kills(tmp_path: Path) -> None:
    """Random SIGKILLs of either side: the server ends with each local event exactly once."""
    rng = random.Random(20261203)
    server_dir, local = tmp_path / "server", tmp_path / "local"
    server_dir.mkdir()
    local.mkdir()
    token = create_token(server_dir)
    log = local / "events.jsonl"
    ids = write_events(log, FIRST)
    server = Server(server_dir, free_port())
    server.start()
    shipper = Shipper(local, server.url, token)
    shipper.start()

    def append_more() -> None:
        for _ in range((TOTAL - FIRST) // 2000):
            ids.extend(write_events(log, 2000, hour=11))
            time.sleep(0.1)

    appender = threading.Thread(target=append_more)
    appender.start()
    kills = {"server": 0, "shipper": 0}
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 1.2))
            victim = rng.choice(["server", "shipper"])
            kills[victim] += 1
            if victim == "server":
                server.kill()
                time.sleep(rng.uniform(0.0, 0.5))
                server.start(wait=False)
            else:
                shipper.kill()
                shipper.start()
        appender.join()
        server.wait_ready()
        point_file = checkpoint_path(local, server.url)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if point_file.exists():
                offset = json.loads(point_file.read_text())["log"]["offset"]
                if offset == log.stat().st_size:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the shipper did not catch up in 120 s")
        err = shipper.stop()
        assert "Traceback" not in err
    finally:
        server.stop()
        if shipper.proc is not None and shipper.proc.poll() is None:
            shipper.kill()
    assert kills["server"] and kills["shipper"], kills
    assert TOTAL == len(ids) == len(set(ids))
    stored = log_ids(server_dir / "events.jsonl")
    assert set(ids) == set(stored)
    assert [] == [i for i, n in stored.items() if n > 1]
