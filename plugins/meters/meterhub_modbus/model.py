"""Modbus RTU meter models driven by a register map: ``sdm120``, ``ddsu666`` and ``modbus``.

The shipped models carry their map; a ``modbus`` meter brings its own in its options
(``map: maps/dds238.yaml``, ``map: !include ...`` or inline ``registers: [...]``). The
slave id is the meter's address (1-247). A reply counts only if it comes from that slave
with the request's function (or its exception) and the size the request calls for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Joined, Text
from hub.metering.model import (
    Capability,
    Command,
    CommandResult,
    MeterKind,
    MeterModel,
    MeterRef,
    MeterRefused,
    NoReply,
    ProtocolError,
    ReadResult,
    Transport,
)
from hub.metering.points import POINTS, RELAY_CLOSED, RELAY_OPEN, PointType

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import PROTOCOL, WRITE_COIL
from .errors import ModbusError
from .frames import Request, RtuFrame, RtuParser
from .maps import shipped_map
from .options import LIMIT_KEYS, slave_id, user_map_options
from .regmap import RELAY_POINT, RegisterMap, RegisterPoint, compile_map
from .simulator import SIMULATOR_KEYS, ModbusSimulator

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Settings:
    slave: int
    map: RegisterMap
    timeout: float


async def exchange(transport: Transport, request: Request, timeout: float) -> RtuFrame:
    """Send one request; return its reply (an exception reply included) or raise NoReply."""
    frame = await transport.transact(request.encode(), RtuParser(expect=request),
                                     request.accept, timeout)
    if not isinstance(frame, RtuFrame):  # a transport returns what the parser made
        raise ModbusError(  # i18n: internal (bug check: a transport gave no frame)
            f"transport returned {type(frame).__name__}, not an RTU frame")
    return frame


def _place(result: ReadResult, point: str, value: Decimal) -> None:
    info = POINTS.get(point)
    if info is not None and info.type is PointType.REGISTER:
        result.registers[point] = value
    else:
        result.values[point] = value


class ModbusMeterModel(MeterModel):
    """A Modbus RTU meter whose points come from a register map."""

    kind = MeterKind.ELECTRICITY
    protocol = PROTOCOL

    def __init__(self, name: str, regmap: RegisterMap | None, description: str = "") -> None:
        self.name = name
        self._map = regmap
        self.kind = regmap.kind if regmap else MeterKind.ELECTRICITY
        self.description = description or (regmap.description if regmap else "")
        caps = {Capability.INSTANT}
        if regmap is None or regmap.relay is not None:
            caps.add(Capability.RELAY)
        self.capabilities = frozenset(caps)
        self.options_schema = LIMIT_KEYS
        self._cache: dict[str, tuple[Mapping[str, Any], _Settings]] = {}

    # --- configuration ------------------------------------------------------------------

    def validate_address(self, address: Any) -> str:
        """The slave id 1..247."""
        return slave_id(address)

    def kind_of(self, meter: MeterRef) -> MeterKind:
        """What the meter's map says it measures (``kind:``, electricity by default)."""
        return self._settings(meter).map.kind

    def points(self) -> Sequence[str]:
        """Every point of the shipped map (a ``modbus`` meter's come from its own map)."""
        return self._map.point_keys() if self._map else []

    def options(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        """Validate options: limits for a shipped model, the register map for ``modbus``."""
        if self._map is not None:
            return dict(cv.Strict(dict(LIMIT_KEYS))(dict(raw)))
        return user_map_options(raw)

    def register_map(self, meter: MeterRef) -> RegisterMap:
        """The register map a meter is read with."""
        return self._settings(meter).map

    def _settings(self, meter: MeterRef) -> _Settings:
        cached = self._cache.get(meter.id)
        if cached is not None and cached[0] is meter.options:
            return cached[1]
        try:
            options = self.options(meter.options)
            slave = int(slave_id(meter.address))
        except vol.Invalid as err:
            lines = cv.humanize_invalid(err, dict(meter.options), "options")
            raise ModbusError(Text("modbus.meter_options", meter=meter.id,
                                   problems=Joined(lines))) from None
        regmap = self._map or compile_map(
            {key: value for key, value in options.items() if key not in ("timeout", "source")},
            self.name)
        regmap = regmap.with_limits(options.get("max_gap"), options.get("max_span"))
        settings = _Settings(slave, regmap, float(options["timeout"]))
        self._cache[meter.id] = (meter.options, settings)
        return settings

    # --- reading --------------------------------------------------------------------------

    async def read(self, transport: Transport, meter: MeterRef,
                   points: Sequence[str] | None = None) -> ReadResult:
        """Read points (default: every point of the map) in as few requests as possible."""
        settings = self._settings(meter)
        regmap = settings.map
        wanted = list(points) if points is not None else regmap.point_keys()
        by_key = {p.point: p for p in regmap.points}
        result = ReadResult()
        selected: list[RegisterPoint] = []
        coil_relay = False
        for key in dict.fromkeys(wanted):
            if key == RELAY_POINT and regmap.relay is not None:
                status_point = regmap.relay.status_point()
                if status_point is None:
                    coil_relay = True
                else:
                    selected.append(status_point)
            elif key in by_key:
                selected.append(by_key[key])
            else:
                result.errors[key] = f"the {regmap.name} register map has no point {key!r}"
        jobs: list[tuple[Request, tuple[RegisterPoint, ...]]] = [
            (Request(settings.slave, block.function, block.address, block.count), block.points)
            for block in regmap.plan(selected)
        ]
        if coil_relay and regmap.relay is not None:
            jobs.append((Request(settings.slave, regmap.relay.read_function,
                                 regmap.relay.read_address, 1), ()))
        for index, (request, members) in enumerate(jobs):
            try:
                frame = await exchange(transport, request, settings.timeout)
            except NoReply as err:
                if not result.frames:
                    raise
                for _request, left in jobs[index:]:
                    keys = [p.point for p in left] or [RELAY_POINT]
                    result.errors.update(dict.fromkeys(keys, f"no reply: {err}"))
                break
            result.frames += 1
            self._decode(request, members, frame, settings, result)
        return result

    def _decode(self, request: Request, members: tuple[RegisterPoint, ...], frame: RtuFrame,
                settings: _Settings, result: ReadResult) -> None:
        relay = settings.map.relay
        keys = [p.point for p in members] or [RELAY_POINT]
        try:
            if not members:
                bits = request.bits(frame)
                state = relay.state(int(bits[0])) if relay and bits else None
                if state is None:
                    result.errors[RELAY_POINT] = "the relay coil reads neither open nor closed"
                else:
                    result.status[RELAY_POINT] = state
                return
            registers = request.registers(frame)
        except (MeterRefused, ModbusError) as err:
            result.errors.update(dict.fromkeys(keys, str(err)))
            return
        for point in members:
            offset = point.address - request.address
            words = registers[offset:offset + point.count]
            if point.point == RELAY_POINT and relay is not None:
                state = relay.state(words[0])
                if state is None:
                    result.errors[RELAY_POINT] = (
                        f"relay register 0x{point.address:04X} holds {words[0]}, expected "
                        f"{relay.closed} (closed) or {relay.open} (open)")
                else:
                    result.status[RELAY_POINT] = state
                continue
            try:
                _place(result, point.point, point.decode(words))
            except ModbusError as err:
                result.errors[point.point] = str(err)

    # --- relay ----------------------------------------------------------------------------

    async def command(self, transport: Transport, meter: MeterRef,
                      command: Command) -> CommandResult:
        """trip / close the relay the map defines; acceptance only (read ``relay`` back)."""
        settings = self._settings(meter)
        relay = settings.map.relay
        if command not in (Command.TRIP, Command.CLOSE):
            raise ProtocolError(Text("modbus.unsupported", model=self.name, command=command))
        if relay is None:
            raise ProtocolError(Text("modbus.no_relay", map=settings.map.name))
        value = relay.open if command is Command.TRIP else relay.closed
        if relay.write_function == WRITE_COIL:
            request = Request(settings.slave, WRITE_COIL, relay.address, values=(value,))
        else:
            request = Request(settings.slave, relay.write_function, relay.address,
                              values=(value,))
        frame = await exchange(transport, request, settings.timeout)
        state = RELAY_OPEN if command is Command.TRIP else RELAY_CLOSED
        if frame.is_exception:
            return CommandResult(False, str(request.refusal(frame)))
        return CommandResult(True, f"meter accepted relay {state} "
                                   f"(wrote {value} to 0x{relay.address:04X})")

    # --- simulator ------------------------------------------------------------------------

    def create_simulator(self, address: str, **options: Any) -> ModbusSimulator:
        """A simulated meter at ``address`` answering from this model's register map.

        ``options``: ``clock``, ``load``, the simulator's own settings (``energy_import``,
        ``energy_export``, ``power_factor``, ``frequency``) and the meter's options, spread
        (``map=...``, as the sim link passes them) or as ``options={...}``; a ``modbus``
        meter's simulator takes its register map from them.
        """
        clock = options.pop("clock", None)
        load = options.pop("load", None)
        meter_options = {**dict(options.pop("options", None) or {}), **{
            key: options.pop(key) for key in list(options) if key not in SIMULATOR_KEYS}}
        regmap = self._map
        if regmap is None and not meter_options:
            # Without the meter's options there is no map: the simulator then refuses
            # every read (illegal data address) instead of the hub failing to start.
            _LOGGER.error("Simulated modbus meter %s has no register map: pass the meter's "
                          "options to create_simulator(..., map=...)", address)
            regmap = RegisterMap(name="empty", points=())
        elif regmap is None:
            regmap = self._settings(MeterRef(f"sim:{address}", address, meter_options)).map
        return ModbusSimulator(regmap, slave_id(address), clock, load, **options)


def shipped_models() -> list[ModbusMeterModel]:
    """The models this plugin registers."""
    return [
        ModbusMeterModel("sdm120", shipped_map("sdm120")),
        ModbusMeterModel("ddsu666", shipped_map("ddsu666")),
        ModbusMeterModel("modbus", None, "Modbus RTU meter read with a register map from its "
                                         "options (map: file.yaml, or inline registers)"),
    ]
