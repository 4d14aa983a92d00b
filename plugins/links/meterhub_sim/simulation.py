"""The ``simulation:`` block: simulated DTUs, RS-485 buses and serial servers for real links.

    simulation:
      speed: 60                                   # simulated clocks run 60x real time
      dtus: [{link: dtu_server}]                  # every DTU the meters of that link sit behind
      serial: [{link: bus1, turnaround: 20ms}]    # a pty at the rs485 link's port path
      servers: [{link: gw1}]                      # a TCP server at a tcp_client link's address
      meters: {r101_e: {load: {daily: 1.5}, faults: {silent: true}}}

Each simulated device carries the simulators of the configured meters of its link (each
created by the meter's model), so ``meterhub run`` reads real frames over real sockets and
ptys with no hardware. Buses and servers start before the links (stage 15), DTUs right after
them (stage 25), since a DTU connects to the link.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from hub import validation as cv
from hub.metering.link_schema import bits_per_byte, short_duration
from hub.metering.registration import SecretFormat
from hub.metering.service import MeteringService
from hub.metering.sim import SimClock, SimulatedBus, SimulatedMeter

from .dtu import SimulatedDtu, SimulatedUdpDtu
from .nbiot import NBIOT_SCHEMA, NbiotSimulation
from .serial import SimulatedSerialBus
from .tcpserver import SimulatedTcpServer

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.metering.model import MeterModel

_LOGGER = logging.getLogger(__name__)

CONNECT_WAIT: Final = 3.0  # seconds the DTU stage waits for the DTUs to connect

DTU_LINK_TYPES: Final = ("tcp_dtu", "udp")
SERIAL_LINK_TYPES: Final = ("rs485", "carrier")
SERVER_LINK_TYPES: Final = ("tcp_client", "carrier")


def _meter_sim(value: Any) -> Any:
    from . import FAULTS_SCHEMA, LOAD_SCHEMA

    schema = cv.Strict({vol.Optional("load"): LOAD_SCHEMA,
                        vol.Optional("faults"): FAULTS_SCHEMA})
    return schema(value)


SIMULATION_SCHEMA = cv.Strict({
    vol.Optional("speed", default=1): vol.All(cv.decimal, vol.Range(min=0)),
    vol.Optional("dtus", default=[]): cv.ListOf(cv.Strict({
        vol.Required("link"): cv.identifier,
        vol.Optional("host", default="127.0.0.1"): cv.string,
        vol.Optional("heartbeat"): short_duration,
        vol.Optional("reconnect", default=1): short_duration,
    })),
    vol.Optional("serial", default=[]): cv.ListOf(cv.Strict({
        vol.Required("link"): cv.identifier,
        vol.Optional("turnaround", default="20ms"): short_duration,
        vol.Optional("line_rate", default=True): cv.boolean,
        vol.Optional("echo", default=False): cv.boolean,  # an infrared head's own echo
    })),
    vol.Optional("servers", default=[]): cv.ListOf(cv.Strict({
        vol.Required("link"): cv.identifier,
        vol.Optional("turnaround", default=0): short_duration,
    })),
    vol.Optional("nbiot", default=[]): cv.ListOf(NBIOT_SCHEMA),
    vol.Optional("meters", default={}): vol.Schema({cv.identifier: _meter_sim}),
})


def check_simulation(config: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """Each simulated device names a configured link of a type it can stand in for."""
    sim = config.get("simulation") or {}
    links = {link["id"]: link for link in config.get("links") or []}
    meters = {meter["id"] for meter in config.get("meters") or []}
    problems: list[tuple[list[Any], str]] = []
    for key, types in (("dtus", DTU_LINK_TYPES), ("serial", SERIAL_LINK_TYPES),
                       ("servers", SERVER_LINK_TYPES), ("nbiot", ("nbiot",))):
        for index, entry in enumerate(sim.get(key) or []):
            link = links.get(entry["link"])
            if link is None:
                problems.append((["simulation", key, index, "link"],
                                 f"unknown link '{entry['link']}'"))
            elif link["type"] not in types or (key == "serial" and "port" not in link and
                                                "serial" not in link) or (
                    key == "servers" and "host" not in link):
                problems.append((["simulation", key, index, "link"],
                                 f"link '{entry['link']}' ({link['type']}) cannot be "
                                 f"simulated as {key} (use a link of type "
                                 f"{' or '.join(types)})"))
    for meter_id in sim.get("meters") or {}:
        if meter_id not in meters:
            problems.append((["simulation", "meters", meter_id], f"unknown meter '{meter_id}'"))
    return problems


class Simulation:
    """Every simulated device of one hub, started and stopped as hub stages."""

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.config = config
        self.clock = SimClock(speed=float(config.get("speed", 1)))
        self.buses: dict[str, SimulatedSerialBus] = {}
        self.servers: dict[str, SimulatedTcpServer] = {}
        self.dtus: dict[str, SimulatedDtu | SimulatedUdpDtu] = {}
        self.simulators: dict[str, SimulatedMeter | Any] = {}
        self._links = {link["id"]: link for link in hub.config.block("links") or []}
        self._meters = [m for m in hub.config.block("meters") or [] if m.get("enabled", True)]
        self._seed = 0
        self.nbiot = NbiotSimulation(self)

    # --- building -----------------------------------------------------------------

    def _simulator(self, meter: Mapping[str, Any]) -> Any:
        from . import make_load

        models = self.hub.plugins.registries.meter_models
        model: MeterModel | None = models.get(meter["model"])
        if model is None:
            return None
        extra = (self.config.get("meters") or {}).get(meter["id"]) or {}
        self._seed += 1
        simulator = model.create_simulator(meter["address"], clock=self.clock,
                                           load=make_load(extra.get("load"), seed=self._seed))
        faults = extra.get("faults")
        if faults and isinstance(simulator, SimulatedMeter):
            simulator.faults.silent = bool(faults.get("silent"))
            simulator.faults.delay = float(Decimal(faults.get("delay", 0)))
            simulator.faults.corrupt_checksum = bool(faults.get("corrupt_checksum"))
        self.simulators[meter["id"]] = simulator
        return simulator

    def _bus(self, link_id: str, group: Callable[[Mapping[str, Any]], Any] | None = None,
             **bus_options: Any) -> dict[Any, SimulatedBus]:
        buses: dict[Any, SimulatedBus] = defaultdict(lambda: SimulatedBus(**bus_options))
        for meter in self._meters:
            if meter["link"] != link_id:
                continue
            simulator = self._simulator(meter)
            if simulator is not None:
                buses[group(meter) if group else None].add(simulator)
        return dict(buses)

    def build(self) -> None:
        """Create the devices (not started yet)."""
        for entry in self.config.get("serial") or []:
            link = self._links[entry["link"]]
            serial = link.get("serial") or link
            line_rate = entry["line_rate"]
            buses = self._bus(link["id"], baud=int(serial.get("baud", 2400)) if line_rate
                              else None, bits_per_byte=round(bits_per_byte(serial)),
                              turnaround=entry["turnaround"].total_seconds())
            bus = buses.get(None) or SimulatedBus()
            self.buses[link["id"]] = SimulatedSerialBus(bus, Path(serial["port"]),
                                                        name=link["id"], echo=entry["echo"])
        for entry in self.config.get("servers") or []:
            link = self._links[entry["link"]]
            buses = self._bus(link["id"], turnaround=entry["turnaround"].total_seconds())
            self.servers[link["id"]] = SimulatedTcpServer(
                buses.get(None) or SimulatedBus(), link["host"], int(link["port"]),
                name=link["id"])
        for entry in self.config.get("dtus") or []:
            self._build_dtus(entry)
        for entry in self.config.get("nbiot") or []:
            self.nbiot.build(entry)

    def _build_dtus(self, entry: Mapping[str, Any]) -> None:
        link = self._links[entry["link"]]
        beat = link.get("heartbeat") or {}
        heartbeat = b""
        if beat.get("hex"):
            heartbeat = bytes.fromhex(str(beat["hex"]).replace(" ", ""))
        elif beat.get("data"):
            heartbeat = str(beat["data"]).encode()
        interval = (entry.get("heartbeat") or beat.get("interval"))
        seconds = interval.total_seconds() if interval is not None else 30.0
        register = link.get("register") or {}
        mode = register.get("mode", "once")
        secret_format = SecretFormat(register.get("secret_format") or "{id},{secret}")
        secrets = {str(d["id"]): d.get("secret") for d in link.get("dtus") or []
                   if isinstance(d, Mapping)}
        buses = self._bus(link["id"], group=lambda meter: str(meter["link_options"]["dtu"]))
        host = entry["host"]
        for dtu_id, bus in buses.items():
            key = f"{link['id']}/{dtu_id}"
            secret = secrets.get(dtu_id) or register.get("secret")
            packet = dtu_id.encode() + (secret_format.tail(secret) if secret else b"")
            if link["type"] == "udp":
                self.dtus[key] = SimulatedUdpDtu(
                    host, self._port_of(link["id"]), packet, bus, mode=mode,
                    heartbeat=heartbeat, heartbeat_interval=seconds, name=key)
            else:
                self.dtus[key] = SimulatedDtu(
                    host, self._port_of(link["id"]), packet, bus, mode=mode,
                    heartbeat=heartbeat, heartbeat_interval=seconds,
                    reconnect_delay=entry["reconnect"].total_seconds(), name=key)

    def _port_of(self, link_id: str) -> Callable[[], int]:
        """The port a link listens on (the one it bound, if it was configured as 0)."""
        def port() -> int:
            live: Any = None
            if self.hub.has_component("metering"):
                service = self.hub.component("metering", MeteringService)
                live = service.links.get(link_id)
            return int(getattr(live, "bound_port", 0) or self._links[link_id]["listen"][1])
        return port

    # --- stages ---------------------------------------------------------------------

    async def start_buses(self) -> None:
        """Create the ptys and start the servers (before the links open them)."""
        for bus in self.buses.values():
            await bus.start()
        for server in self.servers.values():
            await server.start()

    async def start_dtus(self) -> None:
        """Start the DTUs and give them a moment to connect (reads may follow at once)."""
        for dtu in self.dtus.values():
            await dtu.start()
        waits = [dtu.connected.wait() for dtu in self.dtus.values()
                 if isinstance(dtu, SimulatedDtu)]
        if waits:
            try:
                async with asyncio.timeout(CONNECT_WAIT):
                    await asyncio.gather(*waits)
            except TimeoutError:
                _LOGGER.warning("Simulation: some DTUs did not connect within %g s",
                                CONNECT_WAIT)
        if self.dtus:
            _LOGGER.info("Simulation: %d DTUs started", len(self.dtus))
        await self.nbiot.start()

    async def stop_dtus(self) -> None:
        """Disconnect the DTUs."""
        await self.nbiot.stop()
        for dtu in self.dtus.values():
            await dtu.stop()

    async def stop_buses(self) -> None:
        """Remove the ptys and stop the servers."""
        for bus in self.buses.values():
            await bus.stop()
        for server in self.servers.values():
            await server.stop()
