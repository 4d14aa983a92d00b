"""The ``sim`` link: simulated meters inside the hub process, still speaking real frames.

Each meter on a sim link gets its model's simulator. Requests are encoded to bytes by the
model, handed to the simulated bus as bytes, and the simulator's reply bytes go back through
the model's frame parser, exactly as over a wire. Used by the demo, tests and benchmarks.

    links:
      - {id: sim1, type: sim, speed: 60}          # simulated clocks run 60x real time
    meters:
      - {id: r101_e, model: ddsy, link: sim1, address: "202400000101",
         link_options: {load: {daily: 1.2}, faults: {silent: false}}}
      - {id: r102_e, model: ddsy, link: sim1, address: "202400000102",
         link_options: {supply_off: true}}        # starts with its relay open (a valve: closed)

The plugin also owns the ``simulation:`` block, which puts simulated devices — 4G DTUs, an
RS-485 bus on a pty, a serial server — on the other end of *real* links (``tcp_dtu``,
``udp``, ``rs485``, ``tcp_client``, ``carrier``); see :mod:`.simulation`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub import validation as cv
from hub.hookspecs import hookimpl
from hub.i18n import Text
from hub.metering.link import Link, LinkType, LinkUnavailable
from hub.metering.model import FrameParser, MeterModel, MeterRef, NoReply, Simulator
from hub.metering.sim import (
    ConstantLoad,
    DailyCurve,
    LoadProfile,
    RandomWalk,
    SimClock,
    SimulatedBus,
    SimulatedMeter,
)

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

LOAD_SCHEMA = vol.Any(
    cv.Strict({vol.Required("constant"): cv.non_negative_decimal}),
    cv.Strict({vol.Required("daily"): cv.non_negative_decimal}),
    cv.Strict({vol.Required("random_walk"): cv.Strict({
        vol.Required("start"): cv.non_negative_decimal,
        vol.Required("low"): cv.non_negative_decimal,
        vol.Required("high"): cv.non_negative_decimal,
        vol.Optional("seed", default=0): int,
    })}),
)

FAULTS_SCHEMA = cv.Strict({
    vol.Optional("silent", default=False): cv.boolean,
    vol.Optional("delay", default=0): cv.non_negative_decimal,
    vol.Optional("corrupt_checksum", default=False): cv.boolean,
})


def _start_off(simulator: Simulator) -> None:
    """Cut a simulated meter's supply before the hub first sees it."""
    if hasattr(simulator, "relay_closed"):
        simulator.relay_closed = False
    elif hasattr(simulator, "valve_open"):
        simulator.valve_open = False
    else:
        raise vol.Invalid("supply_off: this meter model has no relay or valve")


def make_load(spec: Mapping[str, Any] | None, seed: int = 0) -> LoadProfile:
    """Build a load profile from its YAML form (default: a household's daily curve)."""
    if not spec:
        return DailyCurve()
    if "constant" in spec:
        return ConstantLoad(spec["constant"])
    if "daily" in spec:
        return DailyCurve(scale=spec["daily"])
    walk = spec["random_walk"]
    return RandomWalk(walk["start"], walk["low"], walk["high"], seed=walk.get("seed", seed))


class SimTransport:
    """A transport that hands request bytes to a simulated bus and parses the reply bytes."""

    def __init__(self, link: SimLink, bus: SimulatedBus) -> None:
        self._link = link
        self._bus = bus
        self._lock = asyncio.Lock()

    async def transact(self, request: bytes, parser: FrameParser,
                       accept: Callable[[Any], bool], timeout: float) -> Any:
        async with self._lock:
            stats = self._link.stats
            stats.requests += 1
            stats.bytes_out += len(request)
            parser.reset()
            async with asyncio.timeout(timeout):
                for delay, reply in self._bus.answers(request):
                    if delay > 0:
                        await asyncio.sleep(delay)
                    stats.bytes_in += len(reply)
                    for frame in parser.feed(reply):
                        if accept(frame):
                            stats.replies += 1
                            return frame
                await asyncio.sleep(timeout)  # nobody answered: the master waits it out
            stats.timeouts += 1
            raise NoReply(Text("metering.no_reply", link=self._link.id, seconds=f"{timeout:g}"))

    async def send(self, data: bytes) -> None:
        self._link.stats.bytes_out += len(data)
        self._bus.replies(data)


class SimLink(Link):
    """Simulated meters in this process, one simulated bus for all of them."""

    type_name = "sim"

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.clock = SimClock(speed=float(config.get("speed", 1)))
        self.bus = SimulatedBus()
        self.simulators: dict[str, Simulator] = {}
        self._transport = SimTransport(self, self.bus)

    def add_meter(self, meter: MeterRef, model: MeterModel,
                  settings: Mapping[str, Any]) -> None:
        """Create the meter's simulator (its model's) and put it on the simulated bus; a device
        already on the bus at that address (a meter enabled again) is the one read."""
        for device in self.bus.meters:
            if device.address == meter.address and device.protocol == model.protocol:
                self.simulators[meter.id] = device
                return
        simulator: Simulator = model.create_simulator(
            meter.address, **{**meter.options, "clock": self.clock,
                              "load": make_load(settings.get("load"), seed=len(self.simulators))},
        )
        faults = settings.get("faults")
        if faults and isinstance(simulator, SimulatedMeter):
            simulator.faults.silent = bool(faults.get("silent"))
            simulator.faults.delay = float(Decimal(faults.get("delay", 0)))
            simulator.faults.corrupt_checksum = bool(faults.get("corrupt_checksum"))
        if settings.get("supply_off"):
            _start_off(simulator)
        self.bus.add(simulator)
        self.simulators[meter.id] = simulator

    def transport_for(self, meter: MeterRef) -> SimTransport:
        if meter.id not in self.simulators:
            raise LinkUnavailable(Text("metering.no_simulator", link=self.id, meter=meter.id))
        return self._transport


class SimLinkType(LinkType):
    """``type: sim``."""

    name = "sim"
    description = "Simulated meters in the hub process (real frames, no hardware)"
    meter_keys = {
        vol.Optional("load"): LOAD_SCHEMA,
        vol.Optional("faults"): FAULTS_SCHEMA,
        # the meter starts with its supply cut (relay open, valve closed), as found on site
        vol.Optional("supply_off", default=False): cv.boolean,
    }

    def schema(self) -> Any:
        return cv.Strict({
            vol.Required("id"): cv.identifier,
            vol.Required("type"): "sim",
            vol.Optional("speed", default=1): vol.All(cv.decimal, vol.Range(min=0)),
            vol.Optional("timeout"): cv.duration,
        })

    def create(self, hub: Hub, config: Mapping[str, Any]) -> SimLink:
        return SimLink(hub, config)


@hookimpl
def register_link_types() -> list[LinkType]:
    """The sim link type."""
    return [SimLinkType()]


@hookimpl
def config_schema(registries: Any) -> dict[str, Any]:
    """Claim the ``simulation:`` block."""
    from .simulation import SIMULATION_SCHEMA

    return {"simulation": SIMULATION_SCHEMA}


@hookimpl
def check_config(config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Simulated devices name links they can stand in for; per-meter settings name meters."""
    from .simulation import check_simulation

    return check_simulation(config)


@hookimpl
def setup(hub: Hub) -> None:
    """Build the simulated devices of the ``simulation:`` block and their start-up stages."""
    from .simulation import Simulation

    block = hub.config.block("simulation") or {}
    if not any(block.get(key) for key in ("dtus", "serial", "servers", "nbiot")):
        return
    simulation = Simulation(hub, block)
    simulation.build()
    hub.add_component("simulation", simulation)
    # a pty or server exists before the links open it; the DTUs dial links that listen,
    # before the first scheduled reads
    hub.add_stage("simulated buses", start=simulation.start_buses, stop=simulation.stop_buses,
                  before=("links",))
    hub.add_stage("simulated DTUs", start=simulation.start_dtus, stop=simulation.stop_dtus,
                  after=("links",), before=("metering",))
