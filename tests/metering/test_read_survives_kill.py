"""A reading that ``meter.read`` answers with is stored: a REAL hub process, SIGKILLed at once.

The hub runs as ``python -m hub run`` on a temporary data folder with one simulated DL/T 645
meter. ``POST /api/services/meter/read`` answers with a reading and its id; the process is
killed with SIGKILL right after the answer (no shutdown, no final commit), and the SQLite
file must hold that reading. Storage commits only every few seconds here, so a read that
answered before its commit would lose the reading every time, not now and then.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import aiohttp
from common import bounded, child_process, token_headers, write

from hub.storage.codec import RID_SQL

ROOT = Path(__file__).resolve().parents[2]
ATTEMPTS = 3
COMMIT_INTERVAL = 3  # seconds: far longer than a read, so an early answer always precedes it

CONFIG = f"""
site: {{name: Kill, time_zone: Asia/Shanghai}}
metering: {{retries: 0, timeout: 2, read_on_start: false}}
storage: {{commit_interval: {COMMIT_INTERVAL}}}
links:
  - {{id: sim1, type: sim}}
meters:
  - {{id: m1, model: ddsy, link: sim1, address: "202400000101",
     link_options: {{load: {{constant: 2}}}}}}
"""


async def _ready(session: aiohttp.ClientSession, log: Path, proc: Any,
                 data: Path) -> tuple[str, dict[str, str]]:
    """The hub's URL (it listens on a port of the system's choosing: a port picked here could
    be taken by someone else before the hub binds it) once the API answers (bounded by the
    caller) with the CLI token this start wrote; fail if the hub ended."""
    url = None
    while True:
        assert proc.returncode is None, "the hub exited before it served"
        if url is None:
            found = re.search(r"Dashboard on http://localhost:(\d+)/", log.read_text("utf-8"))
            if found is None:
                await asyncio.sleep(0.1)
                continue
            url = f"http://127.0.0.1:{found[1]}"
        try:
            headers = token_headers(data)
            async with session.get(f"{url}/api/services", headers=headers) as response:
                if response.status == 200:
                    return url, headers
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.1)


def _stored(db: Path, reading_id: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return list(conn.execute(f"SELECT ts, registers FROM reading WHERE {RID_SQL} = ?",
                                 (reading_id,)))
    finally:
        conn.close()


@bounded(120)
async def test_a_reading_meter_read_answered_with_survives_sigkill(tmp_path: Path) -> None:
    config = write(tmp_path / "hub.yaml", CONFIG)
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    lost: list[str] = []
    answered: list[str] = []
    stored_flags: list[object] = []
    for attempt in range(ATTEMPTS):
        log_path = tmp_path / f"hub-{attempt}.log"
        with log_path.open("wb") as log:
            async with child_process(sys.executable, "-m", "hub", "run", "-c", str(config),
                                     "--data", str(data), "--port", "0", stdout=log,
                                     stderr=log, env=env, cwd=ROOT) as proc, \
                    aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                async with asyncio.timeout(30):
                    url, headers = await _ready(session, log_path, proc, data)
                async with session.post(f"{url}/api/services/meter/read", headers=headers,
                                        params={"return_response": "1"},
                                        json={"meter_id": "m1"}) as response:
                    assert response.status == 200, await response.text()
                    answer = (await response.json())["response"]
                proc.send_signal(signal.SIGKILL)  # right after the answer: no final commit
                await proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert answer["read"] == ["m1"], answer
        reading = answer["readings"][0]
        assert reading["registers"]["energy_import_total"]
        answered.append(reading["id"])
        stored_flags.append(answer.get("stored"))
        if not _stored(data / "meterhub.db", reading["id"]):
            lost.append(reading["id"])
    assert not lost, f"{len(lost)} of {ATTEMPTS} answered readings lost after SIGKILL: {lost}"
    assert len(set(answered)) == ATTEMPTS
    assert stored_flags == [True] * ATTEMPTS  # and the answer says so
