"""Shared set-up of the device tests: a hub with DL/T 645 meters on a pty and a TOU tariff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import collect, wait_for

from hub.core import Event, Hub
from hub.devices import DeviceService
from hub.events.devices import EVENT_DEVICE_COMMAND

# Guangdong-style commercial TOU with a summer zone and a weekend schedule (prices only
# matter to billing; the schedule is what the meters get).
TARIFFS = """
tariffs:
  - id: gd_tou
    type: tou
    prices: {sharp: 1.38125, peak: 1.105, flat: 0.65, valley: 0.247}
    schedules:
      normal:
        - {start: "00:00", band: valley}
        - {start: "08:00", band: flat}
        - {start: "10:00", band: peak}
        - {start: "12:00", band: flat}
        - {start: "14:00", band: peak}
        - {start: "19:00", band: flat}
      summer:
        - {start: "00:00", band: valley}
        - {start: "08:00", band: flat}
        - {start: "10:00", band: peak}
        - {start: "11:00", band: sharp}
        - {start: "12:00", band: flat}
        - {start: "14:00", band: peak}
        - {start: "15:00", band: sharp}
        - {start: "17:00", band: peak}
        - {start: "19:00", band: flat}
      weekend: [{start: "00:00", band: valley}, {start: "08:00", band: flat}]
    zones:
      - {start: "01-01", schedule: normal}
      - {start: "07-01", schedule: summer}
      - {start: "10-01", schedule: normal}
    weekend_schedule: weekend
"""


def pty_config(tmp_path: Path, *, retries: int = 1, extra: str = "") -> str:
    """Two ddsy meters on an rs485 link whose other end is a simulated bus on a pty."""
    return f"""
site: {{name: Test, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{retries: 0, timeout: 1.5, read_on_start: false}}
devices: {{retries: {retries}, retry_delay: 0.2, confirm_delay: 0.05}}
links:
  - {{id: bus1, type: rs485, port: {tmp_path / "bus1"}, baud: 9600, parity: E}}
meters:
  - {{id: a101, model: ddsy, link: bus1, address: "202400000101", tariff: gd_tou,
     tags: {{building: A}}}}
  - {{id: a102, model: ddsy, link: bus1, address: "202400000102", tariff: gd_tou,
     tags: {{building: A}}}}
{extra}
simulation:
  speed: 0
  serial: [{{link: bus1, turnaround: 5ms}}]
{TARIFFS}
"""


def devices(hub: Hub) -> DeviceService:
    """The device service of a hub."""
    return hub.component("devices", DeviceService)


def simulator(hub: Hub, meter_id: str) -> Any:
    """The simulated meter behind a meter id (pty bus or sim link)."""
    if hub.has_component("simulation"):
        sims = hub.component("simulation", object).simulators  # type: ignore[attr-defined]
        if meter_id in sims:
            return sims[meter_id]
    from hub.metering.service import MeteringService

    link = hub.component("metering", MeteringService).meters[meter_id].link
    return link.simulators[meter_id]  # type: ignore[attr-defined]


async def ended(events: list[Event], command_id: str, timeout: float = 60.0) -> Event:
    """The event that ended a device command (confirmed, failed or cancelled)."""

    def final() -> Event | None:
        for event in events:
            if event.data.get("command_id") == command_id and event.data["state"] in (
                    "confirmed", "failed", "cancelled"):
                return event
        return None

    await wait_for(lambda: final() is not None, timeout=timeout)
    found = final()
    assert found is not None
    return found


def command_events(hub: Hub) -> list[Event]:
    """Collected ``device_command`` events."""
    return collect(hub, EVENT_DEVICE_COMMAND)
