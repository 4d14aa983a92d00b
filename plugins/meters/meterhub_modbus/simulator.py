"""A simulated Modbus RTU meter answering real frames from its register map.

Energy accumulates from the load profile by the simulator's own clock while the relay is
closed; voltage, current and power follow the load (P = U·I·PF). Every value is written
into registers as the map says (type, byte order, scale, unit), so a reader sees exactly
what a meter with that map would send. Unknown registers get "illegal data address", a
write the map does not allow "illegal function" or "illegal data value".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

from hub.metering.model import MeterKind
from hub.metering.sim import LoadProfile, SimClock, SimulatedMeter

from .const import (
    BIT_READS,
    BROADCAST,
    ILLEGAL_ADDRESS,
    ILLEGAL_FUNCTION,
    ILLEGAL_VALUE,
    PROTOCOL,
    REGISTER_READS,
    WRITE_COIL,
    WRITE_REGISTER,
    WRITE_REGISTERS,
)
from .frames import RtuFrame, RtuParser, exception_reply, read_reply, write_reply
from .regmap import RegisterMap, RegisterPoint

_LOGGER = logging.getLogger(__name__)

NOMINAL_VOLTAGE: Final = Decimal("230.0")
CONDITIONS: Final[dict[str, tuple[Decimal, Decimal]]] = {
    # name: (voltage V, extra load kW)
    "normal": (NOMINAL_VOLTAGE, Decimal(0)),
    "over_voltage": (Decimal("264.5"), Decimal(0)),  # +15 %
    "under_voltage": (Decimal("184.0"), Decimal(0)),  # -20 %
    "over_current": (NOMINAL_VOLTAGE, Decimal("15")),  # ≈ 69 A more at 230 V, PF 0.95
}
_MILLI: Final = Decimal("0.001")
SIMULATOR_KEYS: Final = frozenset({"energy_import", "energy_export", "power_factor",
                                   "frequency"})


class ModbusSimulator(SimulatedMeter):
    """A Modbus RTU meter at one slave id, its registers computed from its state."""

    protocol = PROTOCOL

    def __init__(self, regmap: RegisterMap, address: str, clock: SimClock | None = None,
                 load: LoadProfile | None = None, *,
                 energy_import: Decimal | str | int = 0,
                 energy_export: Decimal | str | int = 0,
                 power_factor: Decimal | str = "0.95",
                 frequency: Decimal | str = "50.00") -> None:
        super().__init__(address, clock, load)
        self.slave = int(address)
        self.map = regmap
        self.energy_import = Decimal(energy_import)
        self.energy_export = Decimal(energy_export)
        self.power_factor = Decimal(power_factor)
        self.frequency = Decimal(frequency)
        self.voltage = NOMINAL_VOLTAGE
        self.extra_load = Decimal(0)
        self.relay_closed = True
        self.reply_slave: int | None = None  # fault: answer as another slave id
        self._last = self.clock.now()
        self._covered: dict[int, set[int]] = {}
        for point in regmap.points:
            self._covered.setdefault(point.function, set()).update(
                range(point.address, point.end))
        relay = regmap.relay
        if relay is not None and not relay.coil:
            self._covered.setdefault(relay.read_function, set()).add(relay.read_address)

    # --- state --------------------------------------------------------------------------

    def new_parser(self) -> RtuParser:
        """A parser for the requests a master sends."""
        return RtuParser(requests=True)

    def corrupt(self, reply: bytes) -> bytes:
        """The reply with a wrong CRC (RTU's CRC is the last two bytes)."""
        data = bytearray(reply)
        data[-1] ^= 0xFF
        return bytes(data)

    def advance(self) -> None:
        """Accumulate energy up to the simulated now (nothing flows while tripped)."""
        now = self.clock.now()
        if now > self._last and self.relay_closed:
            self.energy_import += self.load.amount_between(self._last, now)
            self.energy_import += self.extra_load * Decimal(
                (now - self._last).total_seconds()) / Decimal(3600)
        self._last = max(self._last, now)

    def set_relay(self, closed: bool) -> None:
        """Close or open (trip) the relay; energy up to now is counted first."""
        self.advance()
        self.relay_closed = closed

    def inject(self, condition: str) -> None:
        """Switch to a grid condition: normal, over_voltage, under_voltage, over_current."""
        if condition not in CONDITIONS:
            raise ValueError(f"unknown condition {condition!r} "
                             f"(known: {', '.join(CONDITIONS)})")
        self.advance()
        self.voltage, self.extra_load = CONDITIONS[condition]

    def power(self) -> Decimal:
        """The active power now in kW (0 while tripped)."""
        if not self.relay_closed:
            return Decimal(0)
        return self.load.rate_at(self.clock.now()) + self.extra_load

    def quantities(self) -> dict[str, Decimal]:
        """Every quantity the simulator knows, in the hub's units."""
        self.advance()
        power = self.power()
        current = Decimal(0)
        if power and self.voltage and self.power_factor:
            current = (power * 1000 / (self.voltage * self.power_factor)).quantize(_MILLI)
        values = {
            "energy_import_total": self.energy_import,
            "energy_export_total": self.energy_export,
            "energy_combined_total": self.energy_import + self.energy_export,
            "voltage": self.voltage, "current": current, "power": power,
            "power_factor": self.power_factor, "frequency": self.frequency,
        }
        for phase in "abc":
            values[f"voltage_{phase}"] = self.voltage
            values[f"current_{phase}"] = (current / 3).quantize(_MILLI)
            values[f"power_{phase}"] = (power / 3).quantize(_MILLI)
            values[f"power_factor_{phase}"] = self.power_factor
        if self.map.kind is MeterKind.WATER:  # a water meter: the load flows in m³ (m³/h)
            values["water_total"] = self.energy_import
            values["flow_rate"] = power
        return values

    # --- frames -------------------------------------------------------------------------

    def handle_frame(self, frame: Any) -> bytes | None:
        """Answer a request addressed to this slave (broadcast writes: apply, no answer)."""
        if not isinstance(frame, RtuFrame) or frame.is_exception:
            return None
        if frame.slave not in (self.slave, BROADCAST):
            return None
        self.requests += 1
        slave = self.reply_slave if self.reply_slave is not None else self.slave
        reply = self._answer(frame, slave)
        return None if frame.slave == BROADCAST else reply

    def _answer(self, frame: RtuFrame, slave: int) -> bytes:
        function, pdu = frame.function, frame.pdu
        if pdu is None:
            return exception_reply(slave, function, ILLEGAL_VALUE)
        if function in REGISTER_READS:
            registers = self._read(function, int(pdu.address), int(pdu.count))
            if registers is None:
                return exception_reply(slave, function, ILLEGAL_ADDRESS)
            return read_reply(slave, function, registers)
        if function in BIT_READS:
            bits = self._read_bits(function, int(pdu.address), int(pdu.count))
            if bits is None:
                return exception_reply(slave, function, ILLEGAL_ADDRESS)
            return read_reply(slave, function, bits)
        if function in (WRITE_COIL, WRITE_REGISTER, WRITE_REGISTERS):
            values = [int(bool(b)) for b in pdu.bits[:1]] if function == WRITE_COIL \
                else [int(v) for v in pdu.registers]
            code = self._write(function, int(pdu.address), values)
            if code:
                return exception_reply(slave, function, code)
            return write_reply(slave, function, int(pdu.address), values)
        return exception_reply(slave, function, ILLEGAL_FUNCTION)

    def _read(self, function: int, address: int, count: int) -> list[int] | None:
        covered = self._covered.get(function, set())
        last = address + count - 1
        if address not in covered or last not in covered:
            return None
        registers = [0] * count
        quantities = self.quantities()
        for point in self.map.points:
            if point.function == function and point.address <= last \
                    and point.end > address:
                self._put(registers, address, point,
                          point.encode(quantities.get(point.point, Decimal(0))))
        relay = self.map.relay
        if relay is not None and not relay.coil and relay.read_function == function \
                and address <= relay.read_address <= last:
            registers[relay.read_address - address] = \
                relay.closed if self.relay_closed else relay.open
        return registers

    @staticmethod
    def _put(registers: list[int], start: int, point: RegisterPoint,
             words: Sequence[int]) -> None:
        for index, word in enumerate(words):
            slot = point.address + index - start
            if 0 <= slot < len(registers):
                registers[slot] = word

    def _read_bits(self, function: int, address: int, count: int) -> list[bool] | None:
        relay = self.map.relay
        if relay is None or not relay.coil or relay.read_function != function \
                or not address <= relay.read_address < address + count:
            return None
        bits = [False] * count
        state = relay.closed if self.relay_closed else relay.open
        bits[relay.read_address - address] = bool(state)
        return bits

    def _write(self, function: int, address: int, values: list[int]) -> int:
        relay = self.map.relay
        if relay is None or address != relay.address or relay.coil != (function == WRITE_COIL):
            return ILLEGAL_ADDRESS
        if function != relay.write_function:
            return ILLEGAL_FUNCTION  # e.g. a DDS238-2 takes its relay only by FC 10
        if not values or values[0] not in (relay.closed, relay.open) or len(values) != 1:
            return ILLEGAL_VALUE
        self.set_relay(values[0] == relay.closed)
        _LOGGER.debug("Simulated Modbus meter %s: relay %s", self.address,
                      "closed" if self.relay_closed else "open")
        return 0
