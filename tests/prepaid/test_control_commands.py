"""The command state machine over the sim link: confirm, supersede, re-check, retry, fail."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import collect, types, wait_for
from control_support import config, control_of, running_hub, simulator, storage_of

from hub.core import Context, Hub
from hub.metering.model import Command
from hub.metering.service import MeteringService
from meterhub_dlt645.codec import parse_relay
from meterhub_dlt645.const import Function

ACCOUNTS = """
accounts:
  - {id: r101}
  - {id: r102}
  - {id: r103}
"""

NB_METERS = """
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101", account: r101,
     link_options: {load: {constant: 1.2}}}
  - {id: r102_e, model: ddsy, link: sim1, address: "202400000102", account: r102}
  - {id: r103_e, model: ddsy, link: sim1, address: "202400000103", account: r103}
  - {id: nb_w, model: nb_water, link: sim1, address: "00000000000777", account: r101}
"""


def relay_frames(hub: Hub, meter_id: str) -> list[int]:
    """Record the N1 action of every relay control frame the simulated meter receives."""
    sim = simulator(hub, meter_id)
    seen: list[int] = []
    original: Callable[[Any], bytes] = sim._handlers[Function.RELAY_CONTROL]

    def counting(frame: Any) -> bytes:
        seen.append(int(parse_relay(frame).action))
        return original(frame)

    sim._handlers[Function.RELAY_CONTROL] = counting
    return seen


async def submit(hub: Hub, meter_id: str, command: Command) -> str:
    command_id, new = await control_of(hub).commands.submit(
        meter_id, command, context=Context(origin="test"), reason="test")
    assert new
    return command_id


async def row_state(hub: Hub, command_id: str) -> str:
    await storage_of(hub).flush()
    record = await storage_of(hub).command(command_id)
    assert record is not None
    return record.state


async def wait_state(hub: Hub, command_id: str, *states: str, timeout: float = 8) -> str:
    async with asyncio.timeout(timeout):
        while True:
            state = await row_state(hub, command_id)
            if state in states:
                return state
            await asyncio.sleep(0.03)


async def energy(hub: Hub, meter_id: str) -> Any:
    reading = await hub.component("metering", MeteringService).read(meter_id)
    return reading.registers["energy_import_total"]


async def test_trip_is_queued_sent_confirmed_and_the_energy_stops(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS)) as (hub, _ledger):
        events = collect(hub, "command_queued", "command_sent", "command_confirmed",
                         "relay_changed", "command_failed")
        frames = relay_frames(hub, "r101_e")
        first = await energy(hub, "r101_e")
        await asyncio.sleep(0.2)
        assert await energy(hub, "r101_e") > first  # the load runs before the trip
        command_id = await submit(hub, "r101_e", Command.TRIP)
        assert await wait_state(hub, command_id, "confirmed", "failed") == "confirmed"
        await wait_for(lambda: "command_confirmed" in types(events))
        assert types(events) == ["command_queued", "command_sent", "relay_changed",
                                 "command_confirmed"]
        assert events[2].data["new"] == "open" and events[2].data["command_id"] == command_id
        assert all(e.context.parent_id == events[0].context.parent_id for e in events)
        assert frames == [0x1A]
        stopped = await energy(hub, "r101_e")
        await asyncio.sleep(0.3)
        assert await energy(hub, "r101_e") == stopped  # the relay is open: no energy
        record = await storage_of(hub).command(command_id)
        assert record is not None and record.attempts == 1
        assert [t["to"] for t in record.transitions] == ["queued", "sent", "sent", "confirmed"]


async def test_the_same_command_twice_is_one_command(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS)) as (hub, _ledger):
        simulator(hub, "r102_e").trip_delay = 10**6  # holds the trip: stays outstanding
        queue = control_of(hub).commands
        first, new = await queue.submit("r102_e", Command.TRIP, context=Context())
        again, new_again = await queue.submit("r102_e", Command.TRIP, context=Context())
        assert new and not new_again and again == first
        assert len(await storage_of(hub).commands(meter_id="r102_e")) == 1


async def test_a_close_supersedes_a_trip_the_meter_still_holds(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS)) as (hub, _ledger):
        sim = simulator(hub, "r102_e")
        sim.trip_delay = 10**6  # pre-trip delay: accepted, never moves by itself
        frames = relay_frames(hub, "r102_e")
        events = collect(hub, "command_superseded", "command_confirmed")
        trip_id = await submit(hub, "r102_e", Command.TRIP)
        await wait_for(lambda: frames == [0x1A])
        close_id = await submit(hub, "r102_e", Command.CLOSE)
        assert await wait_state(hub, close_id, "confirmed", "failed") == "confirmed"
        assert await row_state(hub, trip_id) == "superseded"
        await wait_for(lambda: "command_confirmed" in types(events))
        assert frames == [0x1A, 0x1C]
        assert sim.relay_closed and not sim.trip_commanded
        assert types(events) == ["command_superseded", "command_confirmed"]
        assert events[0].data["command_id"] == trip_id and events[0].data["by"] == close_id
        outstanding = await storage_of(hub).commands(meter_id="r102_e",
                                                     states=("queued", "sent"))
        assert outstanding == []


async def test_accepted_but_not_moved_is_rechecked_not_resent(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS)) as (hub, _ledger):
        sim = simulator(hub, "r103_e")
        sim.trip_delay = 0.2 * 3600  # 0.2 s real at the sim link's 3600x
        frames = relay_frames(hub, "r103_e")
        command_id = await submit(hub, "r103_e", Command.TRIP)
        assert await wait_state(hub, command_id, "confirmed", "failed") == "confirmed"
        assert frames == [0x1A]  # re-checked by reading until it moved: sent once
        record = await storage_of(hub).command(command_id)
        assert record is not None and record.attempts == 1


async def test_a_meter_that_never_moves_is_resent_then_fails(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS)) as (hub, _ledger):
        simulator(hub, "r103_e").trip_delay = 10**7
        frames = relay_frames(hub, "r103_e")
        failed = collect(hub, "command_failed")
        command_id = await submit(hub, "r103_e", Command.TRIP)
        assert await wait_state(hub, command_id, "confirmed", "failed", timeout=15) == "failed"
        settings = control_of(hub).settings
        assert frames == [0x1A] * (settings.retries + 1)
        await wait_for(lambda: failed)
        assert len(failed) == 1 and "pre-trip alarm" in failed[0].data["error"]
        record = await storage_of(hub).command(command_id)
        assert record is not None and record.attempts == settings.retries + 1
        assert record.error is not None and "after 3 attempts" in record.error


async def test_no_reply_is_retried_after_reading_and_confirmed(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS)) as (hub, _ledger):
        sim = simulator(hub, "r101_e")
        sim.faults.silent = True
        retries = collect(hub, "command_queued")
        command_id = await submit(hub, "r101_e", Command.TRIP)
        await wait_for(lambda: any("retry" in e.data for e in retries))
        sim.faults.silent = False
        assert await wait_state(hub, command_id, "confirmed", "failed") == "confirmed"
        record = await storage_of(hub).command(command_id)
        assert record is not None and record.attempts == 2
        assert "no reply" in (record.error or "")
        assert not sim.relay_closed


async def test_a_refusing_meter_fails_after_the_retries(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS)) as (hub, _ledger):
        sim = simulator(hub, "r102_e")
        sim.protected = True  # meter-side 保电: refuses trips
        command_id = await submit(hub, "r102_e", Command.TRIP)
        assert await wait_state(hub, command_id, "confirmed", "failed", timeout=15) == "failed"
        record = await storage_of(hub).command(command_id)
        assert record is not None and record.error == (
            "meter refused: other error (ERR 01) (after 3 attempts)")
        assert sim.relay_closed


async def test_a_sleepy_meter_waits_for_its_uplink_then_confirms_from_the_next(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS, meters=NB_METERS)) as (hub, _ledger):
        service = hub.component("metering", MeteringService)
        meter = service.meters["nb_w"]
        sim = simulator(hub, "nb_w")

        def uplink() -> None:
            result = meter.model.decode_uplink(sim.uplink(), meter.ref)
            assert meter.link.on_uplink is not None
            meter.link.on_uplink("nb_w", result, {})

        command_id = await submit(hub, "nb_w", Command.VALVE_CLOSE)
        await asyncio.sleep(0.3)
        assert await row_state(hub, command_id) == "queued"  # nothing sent while it sleeps
        assert sim.valve_open
        uplink()  # the meter wakes: the command goes out in its window
        assert await wait_state(hub, command_id, "sent") == "sent"
        await wait_for(lambda: not sim.valve_open)
        uplink()  # the next report shows the valve closed
        assert await wait_state(hub, command_id, "confirmed") == "confirmed"


async def test_a_sleepy_meter_command_expires(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS, meters=NB_METERS)) as (hub, _ledger):
        queue = control_of(hub).commands
        queue.settings = dataclasses.replace(queue.settings, sleepy_expiry=0.3)
        failed = collect(hub, "command_failed")
        command_id = await submit(hub, "nb_w", Command.VALVE_CLOSE)
        assert await wait_state(hub, command_id, "failed") == "failed"
        await wait_for(lambda: failed)
        assert failed[0].data["expired"] is True and "expired" in failed[0].data["error"]


async def test_a_restart_resumes_queued_and_rechecks_sent_commands(tmp_path: Path) -> None:
    text = config(ACCOUNTS)
    async with running_hub(tmp_path, text) as (hub, _ledger):
        simulator(hub, "r101_e").faults.silent = True
        simulator(hub, "r102_e").trip_delay = 10**7
        queue = control_of(hub).commands
        queue.settings = dataclasses.replace(queue.settings, retry_delay=60.0)
        queued_id = await submit(hub, "r101_e", Command.TRIP)
        sent_id = await submit(hub, "r102_e", Command.TRIP)
        await wait_state(hub, queued_id, "queued")
        await wait_for(lambda: queue.outstanding("r101_e") is not None
                       and queue.outstanding("r101_e").attempts == 1)  # type: ignore[union-attr]
        await wait_for(lambda: simulator(hub, "r102_e").trip_commanded)
        assert await row_state(hub, sent_id) == "sent"
    async with running_hub(tmp_path, text) as (hub, _ledger):
        # a new process: fresh simulators (r102's meter forgot the trip it held)
        frames = relay_frames(hub, "r102_e")
        assert await wait_state(hub, queued_id, "confirmed", "failed") == "confirmed"
        assert await wait_state(hub, sent_id, "confirmed", "failed") == "confirmed"
        assert frames == [0x1A]  # read first (not taken), then sent once
        record = await storage_of(hub).command(sent_id)
        assert record is not None
        assert any("did not take" in str(t["detail"].get("reason")) for t in record.transitions)
        assert not simulator(hub, "r101_e").relay_closed
