"""A simulated CJ/T 188 water meter with a valve, answering real frames.

Flow accumulates from the load profile (m³/h) on the simulator's clock while the valve is
open; the settlement-date flow is taken at 00:00 of the settlement day each month. The
valve and battery show in ST; a stuck valve (valve fault) can be injected. ``uplink()``
gives the bytes an NB-IoT meter would push.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from hub.metering.model import FrameParser
from hub.metering.points import VALVE_ABNORMAL, VALVE_CLOSED, VALVE_OPEN
from hub.metering.sim import LoadProfile, SimClock, SimulatedMeter
from hub.util.dt import site_time_zone

from .codec import Body, Cjt188Parser, Frame, encode_di
from .const import (
    BROADCAST_ADDRESS,
    C_ABNORMAL,
    C_REPLY,
    DI_ADDRESS,
    DI_CLOCK,
    DI_CURRENT,
    DI_SET_TIME,
    DI_VALVE,
    FUNC_READ_ADDRESS,
    FUNC_READ_DATA,
    FUNC_WRITE_DATA,
    PROTOCOL,
    TYPE_ANY,
    TYPE_COLD_WATER,
    VALVE_CODE_CLOSE,
    VALVE_CODE_OPEN,
    WAKE_UP,
    DiOrder,
)
from .errors import Cjt188Error
from .fields import decode_time, encode_day, encode_status, encode_time
from .payloads import encode_metering
from .tables import UNIT_M3, Quantity, Unit

_LOGGER = logging.getLogger(__name__)

_ROLLOVER: Final = Decimal(1_000_000)  # XXXXXX.XX wraps at 999999.99
_CENT: Final = Decimal("0.01")


class CjT188Simulator(SimulatedMeter):
    """A CJ/T 188 water meter at one address; ``di_order=None`` understands both orders."""

    protocol = PROTOCOL

    def __init__(self, address: str, clock: SimClock | None = None,
                 load: LoadProfile | None = None, *, meter_type: int = TYPE_COLD_WATER,
                 di_order: DiOrder | None = DiOrder.LO_FIRST,
                 flow: Decimal | str | int = 0, settlement_flow: Decimal | str | int | None = None,
                 settlement_day: int = 1, unit: Unit = UNIT_M3, valve_open: bool = True,
                 preamble: int = 2) -> None:
        super().__init__(address, clock, load)
        if unit.quantity is not Quantity.VOLUME:
            raise ValueError(f"a water meter counts volume, not {unit.symbol}")
        if not 1 <= settlement_day <= 28:
            raise ValueError(f"settlement day must be 1-28, got {settlement_day}")
        self.meter_type = meter_type
        self.di_order = di_order
        self.unit = unit
        self.settlement_day = settlement_day
        self.preamble = bytes((WAKE_UP,)) * preamble
        self.valve_open = valve_open
        self.valve_fault = False  # injected: ST shows abnormal, valve commands are refused
        self.battery_low = False  # injected: ST D2
        self.clock_offset = timedelta()  # meter clock minus simulated time (A015 sets it)
        self._total = Decimal(flow)  # m3, exact
        self._settlement = Decimal(flow if settlement_flow is None else settlement_flow)
        self._last = self.clock.now()

    # --- state ---------------------------------------------------------------------

    @property
    def valve(self) -> str:
        """The valve as ST reports it: open / closed / abnormal."""
        if self.valve_fault:
            return VALVE_ABNORMAL
        return VALVE_OPEN if self.valve_open else VALVE_CLOSED

    def total(self) -> Decimal:
        """Cumulative flow in m³ now (exact, before the register's rounding)."""
        self._advance()
        return self._total

    def settlement_flow(self) -> Decimal:
        """Flow at the last settlement date in m³."""
        self._advance()
        return self._settlement

    def meter_time(self) -> datetime:
        """The meter's own clock (naive wall-clock time)."""
        return (self.clock.now() + self.clock_offset).replace(tzinfo=None)

    def set_valve(self, open_valve: bool) -> None:
        """Open or close the valve now (flow so far is counted first)."""
        self._advance()
        self.valve_open = open_valve

    def _advance(self) -> None:
        now = self.clock.now()
        if now <= self._last:
            return
        cursor = self._last
        for boundary in self._settlements(cursor, now):
            self._total += self._used(cursor, boundary)
            self._settlement = self._total
            cursor = boundary
        self._total += self._used(cursor, now)
        self._last = now

    def _used(self, start: datetime, end: datetime) -> Decimal:
        return self.load.amount_between(start, end) if self.valve_open else Decimal(0)

    def _settlements(self, start: datetime, end: datetime) -> Iterator[datetime]:
        local = start.astimezone(site_time_zone())
        point = local.replace(day=self.settlement_day, hour=0, minute=0, second=0,
                              microsecond=0)
        while point < end:
            if point > start:
                yield point
            year, month = divmod(point.year * 12 + point.month, 12)
            point = point.replace(year=year, month=month + 1)

    def _register(self, volume_m3: Decimal) -> Decimal:
        value = (volume_m3 / self.unit.factor).quantize(_CENT, rounding=ROUND_DOWN)
        return value % _ROLLOVER

    def status_bytes(self) -> bytes:
        """ST as the meter would send it."""
        return encode_status(self.valve, self.battery_low)

    def metering_payload(self) -> bytes:
        """The 901F reply payload (after DI and SER)."""
        self._advance()
        return encode_metering(self._register(self._total), self._register(self._settlement),
                               self.meter_time(), self.status_bytes(), self.unit)

    # --- frames --------------------------------------------------------------------

    def new_parser(self) -> FrameParser:
        """A parser for the requests it hears."""
        return Cjt188Parser()

    def uplink(self) -> bytes:
        """The bytes an NB-IoT meter pushes on its schedule: an unsolicited 901F reply."""
        order = self.di_order or DiOrder.LO_FIRST
        data = encode_di(DI_CURRENT, order) + b"\x00" + self.metering_payload()
        return Frame(self.meter_type, self.address, C_REPLY | FUNC_READ_DATA, data).encode()

    def handle_frame(self, frame: Any) -> bytes | None:
        """Answer a request addressed to this meter (or a wildcard address read)."""
        if not isinstance(frame, Frame) or frame.is_reply:
            return None
        if frame.meter_type not in (self.meter_type, TYPE_ANY):
            return None
        wildcard_ok = frame.function == FUNC_READ_ADDRESS
        if frame.address != self.address and not (
                wildcard_ok and frame.address == BROADCAST_ADDRESS):
            return None
        self.requests += 1
        try:
            body = frame.body(self.di_order or DiOrder.LO_FIRST)
        except Cjt188Error:  # unknown DI: refused
            return self.preamble + self._abnormal(frame, frame.data[2] if len(frame.data) > 2
                                                  else 0)
        if self.di_order is not None and body.order is not self.di_order:
            return None  # a meter with a fixed DI order does not understand the other one
        return self.preamble + self._answer(frame, body)

    def _answer(self, frame: Frame, body: Body) -> bytes:
        assert body.di is not None and body.ser is not None and body.order is not None
        if frame.function == FUNC_READ_ADDRESS and body.di == DI_ADDRESS:
            return self._reply(frame, body, b"")
        if frame.function == FUNC_READ_DATA:
            if body.di == DI_CURRENT:
                return self._reply(frame, body, self.metering_payload())
            if body.di == DI_CLOCK:
                return self._reply(frame, body, encode_time(self.meter_time()))
            if body.di == 0x8103:
                return self._reply(frame, body, encode_day(self.settlement_day, "day"))
        if frame.function == FUNC_WRITE_DATA:
            return self._write(frame, body)
        return self._abnormal(frame, body.ser)

    def _write(self, frame: Frame, body: Body) -> bytes:
        assert body.ser is not None
        if body.di == DI_VALVE and len(body.payload) == 1:
            code = body.payload[0]
            if self.valve_fault or code not in (VALVE_CODE_OPEN, VALVE_CODE_CLOSE):
                return self._abnormal(frame, body.ser)
            self.set_valve(code == VALVE_CODE_OPEN)
            return self._reply(frame, body, self.status_bytes())
        if body.di == DI_SET_TIME:
            try:
                wanted = decode_time(body.payload, "new time")
            except Cjt188Error:
                return self._abnormal(frame, body.ser)
            self.clock_offset = wanted - self.clock.now().replace(tzinfo=None)
            return self._reply(frame, body, self.status_bytes())
        return self._abnormal(frame, body.ser)

    def _reply(self, frame: Frame, body: Body, payload: bytes) -> bytes:
        assert body.di is not None and body.order is not None and body.ser is not None
        data = encode_di(body.di, body.order) + bytes((body.ser,)) + payload
        return Frame(self.meter_type, self.address, frame.control | C_REPLY, data).encode()

    def _abnormal(self, frame: Frame, ser: int) -> bytes:
        data = bytes((ser,)) + self.status_bytes()
        control = frame.function | C_REPLY | C_ABNORMAL
        return Frame(self.meter_type, self.address, control, data).encode()
