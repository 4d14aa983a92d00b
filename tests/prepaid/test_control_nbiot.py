"""The seam to the NB-IoT link: a sleeping water meter's valve command goes through the
link's own durable downlink queue and is confirmed by the meter's next report."""

from __future__ import annotations

import asyncio
from pathlib import Path

from common import collect, wait_for
from control_support import control_of, running_hub, storage_of

from hub.core import Hub
from meterhub_cjt188.simulator import CjT188Simulator
from meterhub_sim.simulation import Simulation

TEXT = """
site: {name: NB, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: nb1, type: nbiot, udp: "127.0.0.1:0", udp_window: 1s, expiry_check: 100ms}
meters:
  - {id: w2, model: nb_water, link: nb1, address: "00000000001235", account: a1}
accounts:
  - {id: a1}
simulation:
  speed: 1
  nbiot: [{link: nb1, period: 1h, first: 1h, window: 500ms}]
"""


def device(hub: Hub) -> tuple[object, CjT188Simulator]:
    simulated = hub.component("simulation", Simulation).nbiot.meters["w2"]  # type: ignore[union-attr]
    assert isinstance(simulated.simulator, CjT188Simulator)
    return simulated, simulated.simulator


async def test_a_valve_close_waits_in_the_link_queue_and_confirms_on_a_later_report(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as (hub, _fake):
        events = collect(hub, "command_sent", "command_confirmed", "nbiot_command")
        simulated, meter = device(hub)
        result = await hub.services.call("meter", "valve", {"meter_id": "w2", "state": "close"},
                                         return_response=True)
        command_id = result["queued"][0]
        queue = control_of(hub).commands
        await wait_for(lambda: getattr(queue.outstanding("w2"), "link_command", None))
        await asyncio.sleep(0.2)
        assert meter.valve_open  # asleep: nothing reached it
        await asyncio.wait_for(simulated.report(), 10)  # type: ignore[attr-defined]
        await wait_for(lambda: not meter.valve_open)  # taken in the receive window
        await wait_for(lambda: "command_sent" in [e.event_type for e in events])
        assert "command_confirmed" not in [e.event_type for e in events]
        await asyncio.wait_for(simulated.report(), 10)  # type: ignore[attr-defined]
        await wait_for(lambda: "command_confirmed" in [e.event_type for e in events])
        await storage_of(hub).flush()
        record = await storage_of(hub).command(command_id)
        assert record is not None and record.state == "confirmed"
        assert record.params["link_command"].startswith("nb-")
