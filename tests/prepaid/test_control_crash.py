"""Crash safety of control: a REAL hub process killed with SIGKILL, restarted on its database.

The simulated meter runs in its own process behind a TCP serial server, so it outlives the
hub, as a real meter does, and counts every relay frame it receives.

(a) killed between "command sent" and "confirmed" (the meter holds the trip in its pre-trip
    delay): after the restart the command is re-checked by READING the relay, confirmed once
    the relay opened, and the trip frame is never sent a second time;
(b) killed while a delayed trip is pending: after the restart it fires once, at its time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from common import TZ, child_process, db_rows

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ENV = {**os.environ,
       "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(HERE)])}

CONFIG = """
site: {{name: Crash, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{retries: 0, timeout: 1, read_on_start: false}}
storage: {{commit_interval: 0.05}}
control: {{retries: 2, retry_delay: 0.3, confirm_delay: 0.1, recheck_delay: 0.25,
          rechecks: 40}}
links:
  - {{id: gw, type: tcp_client, host: 127.0.0.1, port: {port}, timeout: 1s, gap: 0}}
meters:
  - {{id: r101_e, model: ddsy, link: gw, address: "202400000101", account: r101}}
accounts:
  - {{id: r101, trip_policy: {policy}}}
"""


class Proc:
    """A child process whose stdout lines are read with bounded waits."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name
        self.lines: list[str] = []

    async def expect(self, match: Callable[[str], bool], timeout: float = 15,
                     start: int = 0) -> str:
        """Read lines until one (from line ``start`` on) matches; fail if the process ends
        or time runs out."""
        for line in self.lines[start:]:
            if match(line):
                return line
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stdout.readline()
                assert raw, f"{self.name} ended early; output: {self.lines}"
                line = raw.decode().strip()
                self.lines.append(line)
                if match(line):
                    return line

    def count(self, text: str) -> int:
        """Lines seen so far that equal ``text``."""
        return sum(1 for line in self.lines if line == text)

    async def drain(self, seconds: float) -> None:
        """Collect output for a while (to see that nothing more happens)."""
        assert self.proc.stdout is not None
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                async with asyncio.timeout(left):
                    raw = await self.proc.stdout.readline()
            except TimeoutError:
                return
            if not raw:
                return
            self.lines.append(raw.decode().strip())

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        async with asyncio.timeout(10):
            await self.proc.wait()


@asynccontextmanager
async def _spawn(name: str, *args: str, stdin: bool = False,
                 log: Path | None = None) -> AsyncIterator[Proc]:
    """A Python child process; SIGKILLed and reaped on the way out, whatever happened."""
    with contextlib.ExitStack() as files:
        err = files.enter_context(log.open("ab")) if log is not None else (
            asyncio.subprocess.DEVNULL)
        async with child_process(sys.executable, *args, stdout=asyncio.subprocess.PIPE,
                                 stderr=err, stdin=asyncio.subprocess.PIPE if stdin else None,
                                 env=ENV, cwd=ROOT) as proc:
            yield Proc(proc, name)


@asynccontextmanager
async def meter_server(trip_delay: float) -> AsyncIterator[tuple[Proc, int]]:
    """The simulated meter process; yields it and its port."""
    async with _spawn("meter", str(HERE / "control_meter_server.py"), "202400000101",
                      str(trip_delay), stdin=True) as meter:
        try:
            port = int((await meter.expect(lambda line: line.startswith("PORT "))).split()[1])
            yield meter, port
        finally:
            if meter.proc.stdin is not None:
                meter.proc.stdin.close()


@asynccontextmanager
async def hub_process(tmp_path: Path, *balances: str) -> AsyncIterator[Proc]:
    """A hub process on tmp_path's hub.yaml and data dir, ready; killed on the way out."""
    async with _spawn("hub", str(HERE / "control_crash_hub.py"), str(tmp_path / "hub.yaml"),
                      str(tmp_path / "data"), *balances, log=tmp_path / "hub.log") as hub:
        await hub.expect(lambda line: line == "READY" or line.startswith("PROBLEMS"), 30)
        assert "READY" in hub.lines, hub.lines
        yield hub


async def stop(hub: Proc) -> None:
    """SIGTERM and wait for a clean stop."""
    hub.proc.send_signal(signal.SIGTERM)
    await hub.expect(lambda line: line == "STOPPED", 20)
    async with asyncio.timeout(10):
        await hub.proc.wait()


def rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    return db_rows(tmp_path / "data", sql)


async def meter_state(meter: Proc) -> str:
    assert meter.proc.stdin is not None
    seen = len(meter.lines)
    meter.proc.stdin.write(b"state\n")
    await meter.proc.stdin.drain()
    return await meter.expect(lambda line: line.startswith("STATE "), start=seen)


async def test_killed_between_sent_and_confirmed_is_rechecked_not_resent(
        tmp_path: Path) -> None:
    async with asyncio.timeout(50), meter_server(trip_delay=3.0) as (meter, port):
        (tmp_path / "hub.yaml").write_text(CONFIG.format(port=port,
                                                         policy="{mode: immediate}"))
        async with hub_process(tmp_path, "r101=10", "--then", "r101=-1") as first:
            await meter.expect(lambda line: line == "RELAY 1A")  # the trip reached the meter
            await first.kill()  # ...and the hub dies before it could confirm it
        sent = rows(tmp_path, "SELECT command_id, state, attempts FROM command "
                              "WHERE command = 'trip'")
        assert len(sent) == 1 and sent[0][1] == "sent" and sent[0][2] == 1
        command_id = str(sent[0][0])
        assert "commanded=1" in await meter_state(meter)  # it holds the trip (pre-trip delay)

        async with hub_process(tmp_path, "r101=-1") as second:
            confirmed = await second.expect(lambda line: line.startswith(
                "EVENT command_confirmed"), 20)
            assert command_id in confirmed
            await second.drain(0.5)
            await stop(second)
        assert "relay=open" in await meter_state(meter)  # (reads the meter's output so far)
        assert meter.count("RELAY 1A") == 1  # re-checked by reading: never sent again
        assert not [line for line in second.lines if line.startswith("EVENT command_sent")]
        final = rows(tmp_path, "SELECT state, attempts FROM command WHERE command = 'trip'")
        assert final == [("confirmed", 1)]
        detail = rows(tmp_path, "SELECT detail FROM command_transition WHERE to_state = "
                                f"'confirmed' AND command_id = '{command_id}'")
        assert '"recovered":true' in str(detail[0][0]).replace(" ", "")


async def test_killed_while_a_delayed_trip_is_pending_fires_once_at_its_time(
        tmp_path: Path) -> None:
    due = (datetime.now(TZ) + timedelta(seconds=8)).replace(microsecond=0)
    policy = f'{{mode: delayed, at: "{due:%H:%M:%S}", warn_before: 0}}'
    async with asyncio.timeout(50), meter_server(trip_delay=0) as (meter, port):
        (tmp_path / "hub.yaml").write_text(CONFIG.format(port=port, policy=policy))
        async with hub_process(tmp_path, "r101=10", "--then", "r101=-1") as first:
            scheduled = await first.expect(lambda line: line.startswith("EVENT trip_scheduled"))
            assert due.isoformat() in scheduled
            await first.kill()
        assert rows(tmp_path, "SELECT state FROM trip_schedule") == [("pending",)]
        assert datetime.now(TZ) < due - timedelta(seconds=1), "the kill came too late"

        async with hub_process(tmp_path, "r101=-1") as second:
            assert not [line for line in second.lines
                        if line.startswith("EVENT command_queued")]
            confirmed = await second.expect(lambda line: line.startswith(
                "EVENT command_confirmed"), 20)
            assert datetime.now(TZ) >= due  # not before its time
            await second.drain(1.0)
            await stop(second)
        assert "relay=open" in await meter_state(meter)  # (reads the meter's output so far)
        assert meter.count("RELAY 1A") == 1
        assert sum(1 for line in second.lines if line.startswith("EVENT command_queued")) == 1
        trips = rows(tmp_path, "SELECT command_id, state FROM command WHERE command = 'trip'")
        assert len(trips) == 1 and str(trips[0][0]) in confirmed
        schedule = rows(tmp_path, "SELECT state, due_ts FROM trip_schedule ORDER BY due_ts")
        assert [state for state, _ in schedule] == ["fired", "pending"]  # tomorrow's check
        assert int(str(schedule[1][1])) - int(str(schedule[0][1])) == 86_400_000
