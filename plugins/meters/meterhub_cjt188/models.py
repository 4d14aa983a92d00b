"""CJ/T 188 water meter models: ``nb_water`` (NB-IoT, sleepy) and ``cjt188_water`` (wired).

Both read DI 901F (cumulative flow, settlement-date flow, meter time, ST) and drive the
valve with a write of DI A017. A reply is taken only if it comes from the addressed meter,
echoes the request's DI (in either byte order) and SER, and carries a reply control code
for the request's function; anything else on the wire is skipped.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text
from hub.metering.model import (
    Capability,
    Command,
    CommandResult,
    MeterKind,
    MeterModel,
    MeterRef,
    MeterRefused,
    ProtocolError,
    ReadResult,
    Transport,
)
from hub.util.dt import site_time_zone

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .codec import (
    Cjt188Parser,
    Frame,
    decode_frame,
    normalize_address,
    read_address_request,
    read_request,
    time_request,
    valve_request,
)
from .const import (
    BROADCAST_ADDRESS,
    C_ABNORMAL,
    C_FOLLOW_UP,
    C_REPLY,
    DI_CURRENT,
    FUNC_READ_DATA,
    FUNC_WRITE_DATA,
    PROTOCOL,
    TYPE_ANY,
    TYPE_COLD_WATER,
    DiOrder,
    parse_di_order,
)
from .errors import Cjt188Error
from .fields import MeterStatus
from .payloads import Metering, decode_metering, decode_write_status, refusal_reasons
from .simulator import CjT188Simulator
from .tables import FUNCTIONS, meter_family, meter_type_name

_LOGGER = logging.getLogger(__name__)

POINTS: Final = ("water_total", "water_settlement", "valve", "battery_low", "meter_time")
_FIELD_OF_POINT: Final = {"water_total": "flow", "water_settlement": "settlement_flow",
                          "valve": "status", "battery_low": "status",
                          "meter_time": "meter_time"}


# --- options ---------------------------------------------------------------------------


def di_order_option(value: Any) -> str:
    """``1F90`` (DI low byte first, the default) or ``901F``; lo_first/hi_first accepted."""
    order = parse_di_order(value)
    if order is None:
        raise vol.Invalid(Text("cjt188.di_order", value=cv.show_value(value)))
    return order.option


def water_meter_type_option(value: Any) -> int:
    """A water meter type byte 10-19 (hex text like "10" or a number)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip().lower().removeprefix("0x"), 16)
        except ValueError:
            number = None
    if number is None or not 0 <= number <= 0xFF or meter_family(number) != "water":
        raise vol.Invalid(Text("cjt188.meter_type", value=cv.show_value(value)))
    return number


def _timeout_option(value: Any) -> Decimal:
    number = cv.decimal(value)
    if number <= 0:
        raise vol.Invalid(Text("cjt188.seconds", value=cv.show_value(value)))
    return number


def _options_schema(timeout: str) -> dict[Any, Any]:
    return {
        vol.Optional("di_order", default=DiOrder.LO_FIRST.option): di_order_option,
        vol.Optional("meter_type", default=TYPE_COLD_WATER): water_meter_type_option,
        vol.Optional("timeout", default=Decimal(timeout)): _timeout_option,
        vol.Optional("check_ser", default=True): cv.boolean,
    }


@dataclass(frozen=True, slots=True)
class _Settings:
    address: str
    order: DiOrder
    meter_type: int
    timeout: float
    check_ser: bool


# --- reply matching ----------------------------------------------------------------------


def reply_matcher(request: Frame, *, order: DiOrder, check_ser: bool = True,
                  any_address: bool = False) -> Callable[[Any], bool]:
    """An ``accept`` for Transport.transact: True only for this request's own reply."""
    body = request.body(order)
    normal = request.function | C_REPLY
    abnormal = normal | C_ABNORMAL

    def accept(frame: Any) -> bool:
        reason = _mismatch(frame)
        if reason:
            _LOGGER.debug("cjt188: reply rejected (%s): %r", reason, frame)
        return not reason

    def _mismatch(frame: Any) -> str:
        if not isinstance(frame, Frame):
            return "not a CJ/T 188 frame"
        if (frame.control & ~C_FOLLOW_UP) not in (normal, abnormal):
            return f"control {frame.control:02X} does not answer {request.control:02X}"
        if not any_address and frame.address != request.address:
            return f"from address {frame.address}, not {request.address}"
        if request.meter_type != TYPE_ANY and frame.meter_type != request.meter_type:
            return f"meter type {frame.meter_type:02X}, not {request.meter_type:02X}"
        try:
            got = frame.body(order)
        except Cjt188Error as err:
            return str(err)
        if check_ser and got.ser != body.ser:
            return f"SER {got.ser}, not {body.ser}"
        if got.di is None and frame.is_abnormal:
            return ""
        if got.di != body.di:
            return f"DI {got.di or 0:04X}, not {body.di or 0:04X}"
        return ""

    return accept


# --- the models -------------------------------------------------------------------------


class Cjt188WaterModel(MeterModel):
    """A CJ/T 188 cold water meter with a valve on RS-485 or M-Bus."""

    name = "cjt188_water"
    kind = MeterKind.WATER
    protocol = PROTOCOL
    capabilities = frozenset({Capability.VALVE, Capability.CLOCK})
    description = "CJ/T 188 water meter with valve, wired (RS-485 / M-Bus, 2400 8E1)"
    options_schema: Mapping[Any, Any] = _options_schema("3")

    def __init__(self) -> None:
        self._sers = itertools.count()

    def _next_ser(self) -> int:
        return next(self._sers) & 0xFF

    def validate_address(self, address: Any) -> str:
        """14 hex digits (BCD on most meters), shorter numbers left-padded with 0."""
        if isinstance(address, int) and not isinstance(address, bool):
            # YAML reads an unquoted 00000000001234 as the octal number 668: never guess
            raise vol.Invalid(Text("cjt188.address_number", address=address))
        try:
            normal = normalize_address(address)
        except Cjt188Error:
            raise vol.Invalid(Text("cjt188.address", value=cv.show_value(address))) from None
        if normal == BROADCAST_ADDRESS:
            raise vol.Invalid(Text("cjt188.wildcard", address=normal))
        return normal

    def points(self) -> Sequence[str]:
        """Every point a 901F read gives."""
        return POINTS

    def _settings(self, meter: MeterRef) -> _Settings:
        options = self.options(meter.options)
        order = parse_di_order(options["di_order"]) or DiOrder.LO_FIRST
        return _Settings(normalize_address(meter.address), order, options["meter_type"],
                         float(options["timeout"]), options["check_ser"])

    async def _exchange(self, transport: Transport, request: bytes, settings: _Settings,
                        *, any_address: bool = False) -> Frame:
        frame_sent = decode_frame(request)
        accept = reply_matcher(frame_sent, order=settings.order,
                               check_ser=settings.check_ser, any_address=any_address)
        reply = await transport.transact(request, Cjt188Parser(), accept, settings.timeout)
        if not isinstance(reply, Frame):  # a transport must return what the parser made
            raise Cjt188Error(  # i18n: internal (bug check: a transport gave no frame)
                f"transport returned {type(reply).__name__}, not a frame")
        return reply

    async def _read_metering(self, transport: Transport, meter: MeterRef) -> Frame:
        settings = self._settings(meter)
        request = read_request(settings.address, DI_CURRENT, ser=self._next_ser(),
                               order=settings.order, meter_type=settings.meter_type)
        return await self._exchange(transport, request, settings)

    async def read(self, transport: Transport, meter: MeterRef,
                   points: Sequence[str] | None = None) -> ReadResult:
        """Read 901F once and map it to the asked points; a refusal fills ``errors``."""
        wanted = list(points) if points is not None else list(self.default_points())
        result = ReadResult()
        for point in wanted:
            if point not in POINTS:
                result.errors[point] = f"model {self.name} has no point {point!r}"
        ours = [point for point in wanted if point in POINTS]
        if not ours:
            return result
        frame = await self._read_metering(transport, meter)
        result.frames = 1
        body = frame.body(self._settings(meter).order)
        if frame.is_abnormal:
            reason = "; ".join(refusal_reasons(FUNCTIONS[frame.function], frame.control,
                                               body.ser, body.payload))
            result.errors.update(dict.fromkeys(ours, reason))
            return result
        result.merge(metering_result(decode_metering(body.payload), ours))
        return result

    async def command(self, transport: Transport, meter: MeterRef,
                      command: Command) -> CommandResult:
        """valve_open / valve_close: write A017 (55 / 99); acceptance is not confirmation."""
        if command not in (Command.VALVE_OPEN, Command.VALVE_CLOSE):
            raise ProtocolError(Text("cjt188.unsupported", model=self.name, command=command))
        settings = self._settings(meter)
        opening = command is Command.VALVE_OPEN
        request = valve_request(settings.address, opening, ser=self._next_ser(),
                                order=settings.order, meter_type=settings.meter_type)
        reply = await self._exchange(transport, request, settings)
        body = reply.body(settings.order)
        if reply.is_abnormal:
            return CommandResult(False, "; ".join(refusal_reasons(
                "valve control", reply.control, body.ser, body.payload)))
        action = "open" if opening else "close"
        status = _write_status(body.payload)
        detail = f"meter accepted valve {action}"
        if status is not None:
            detail += f"; ST {status.raw.hex(' ').upper()} reports the valve {status.valve}"
        return CommandResult(True, detail)

    async def read_clock(self, transport: Transport, meter: MeterRef) -> datetime:
        """The meter clock from its 901F reply, in the site's time zone."""
        frame = await self._read_metering(transport, meter)
        body = frame.body()
        if frame.is_abnormal:
            reasons = refusal_reasons("read data", frame.control, body.ser, body.payload)
            raise MeterRefused(reasons[0], reasons)
        metering = decode_metering(body.payload)
        if metering.meter_time is None:
            raise Cjt188Error(metering.errors.get("meter_time", "no meter time in the reply"))
        return metering.meter_time.replace(tzinfo=site_time_zone())

    async def sync_time(self, transport: Transport, meter: MeterRef | None,
                        now: datetime) -> None:
        """Set one meter's clock (write A015); CJ/T 188 has no broadcast time sync."""
        if meter is None:
            raise ProtocolError(Text("cjt188.no_broadcast_time"))
        settings = self._settings(meter)
        local = now.astimezone(site_time_zone()) if now.tzinfo else now
        request = time_request(settings.address, local, ser=self._next_ser(),
                               order=settings.order, meter_type=settings.meter_type)
        reply = await self._exchange(transport, request, settings)
        if reply.is_abnormal:
            body = reply.body(settings.order)
            reasons = refusal_reasons("write data", reply.control, body.ser, body.payload)
            raise MeterRefused(reasons[0], reasons)

    async def read_address(self, transport: Transport, *, meter_type: int = TYPE_ANY,
                           order: DiOrder = DiOrder.LO_FIRST, timeout: float = 3.0) -> str:
        """Ask the only meter on a bus for its address (wildcard read, control 03)."""
        request = read_address_request(ser=self._next_ser(), order=order,
                                       meter_type=meter_type)
        settings = _Settings(BROADCAST_ADDRESS, order, meter_type, timeout, True)
        reply = await self._exchange(transport, request, settings, any_address=True)
        if reply.is_abnormal:
            body = reply.body(order)
            reasons = refusal_reasons("read address", reply.control, body.ser, body.payload)
            raise MeterRefused(reasons[0], reasons)
        return reply.address

    def decode_uplink(self, data: bytes, meter: MeterRef) -> ReadResult:
        """Decode what a sleeping meter pushed (e.g. a CTWing APPdata, base64-decoded).

        ``data`` holds one CJ/T 188 frame from ``meter`` (FE wake-up bytes allowed): an
        unsolicited 901F reply (C=81) gives every point; a write reply (C=84) with ST gives
        the valve and battery state; an abnormal frame raises MeterRefused, anything else
        Cjt188Error. The NB-IoT link calls it with each push; the result has ``frames`` 0.
        """
        frames = Cjt188Parser().feed(data)
        if not frames:
            raise Cjt188Error(Text("cjt188.no_frame", size=len(data)))
        frame = frames[0]
        settings = self._settings(meter)
        if frame.address != settings.address:
            raise Cjt188Error(Text("cjt188.other_meter", address=frame.address,
                                   expected=settings.address))
        if frame.meter_type != settings.meter_type:
            raise Cjt188Error(Text("cjt188.wrong_type", found=f"{frame.meter_type:02X}",
                                   name=meter_type_name(frame.meter_type),
                                   expected=f"{settings.meter_type:02X}"))
        body = frame.body(settings.order)
        if frame.is_abnormal:
            reasons = refusal_reasons(FUNCTIONS.get(frame.function, "unknown"),
                                      frame.control, body.ser, body.payload)
            raise MeterRefused(reasons[0], reasons)
        if frame.control == C_REPLY | FUNC_READ_DATA and body.di == DI_CURRENT:
            return metering_result(decode_metering(body.payload), self.default_points())
        if frame.control == C_REPLY | FUNC_WRITE_DATA:
            status = _write_status(body.payload)
            if status is not None:
                result = ReadResult()
                result.status.update(_status_points(status, ("valve", "battery_low")))
                return result
        raise Cjt188Error(Text("cjt188.not_report", control=f"{frame.control:02X}",
                               di=f"{body.di or 0:04X}"))

    def create_simulator(self, address: str, **options: Any) -> CjT188Simulator:
        """A simulated meter: the meter's options (di_order, meter_type) plus the simulator's
        own (clock, load, flow, settlement_flow, unit, preamble...)."""
        for link_only in ("timeout", "check_ser"):  # options that mean nothing to a meter
            options.pop(link_only, None)
        if options.get("di_order") is not None:
            order = parse_di_order(options["di_order"])
            if order is None:
                raise vol.Invalid(Text("cjt188.di_order", value=cv.show_value(options["di_order"])))
            options["di_order"] = order
        if "meter_type" in options:
            options["meter_type"] = water_meter_type_option(options["meter_type"])
        return CjT188Simulator(self.validate_address(address), **options)


def _write_status(payload: bytes) -> MeterStatus | None:
    try:
        return decode_write_status(payload)
    except Cjt188Error:
        return None


def _status_points(status: MeterStatus, wanted: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"status_word": status.word}
    if "valve" in wanted:
        out["valve"] = status.valve
    if "battery_low" in wanted:
        out["battery_low"] = status.battery_low
    return out


def metering_result(metering: Metering, wanted: Sequence[str]) -> ReadResult:
    """A decoded 901F payload as a ReadResult in the hub's points (flows in m3)."""
    result = ReadResult()
    for point in wanted:
        field = _FIELD_OF_POINT.get(point)
        if field is not None and field in metering.errors:
            result.errors[point] = metering.errors[field]
    for point, amount in (("water_total", metering.flow),
                          ("water_settlement", metering.settlement_flow)):
        if point in wanted and amount is not None:
            try:
                result.registers[point] = amount.volume_m3()
            except Cjt188Error as err:
                result.errors[point] = str(err)
    if metering.status is not None and ("valve" in wanted or "battery_low" in wanted):
        result.status.update(_status_points(metering.status, wanted))
    if "meter_time" in wanted and metering.meter_time is not None:
        result.meter_time = metering.meter_time.replace(tzinfo=site_time_zone())
    return result


class NbWaterModel(Cjt188WaterModel):
    """An NB-IoT cold water meter (DN15-DN50) with valve, reporting CJ/T 188 frames."""

    name = "nb_water"
    capabilities = frozenset({Capability.VALVE, Capability.CLOCK, Capability.SLEEPY})
    description = ("NB-IoT cold water meter DN15-DN50 with valve; pushes 901F reports "
                   "(decode_uplink), commands wait for its next wake-up")
    # A request reaches a sleeping meter only when it next reports: links that hold
    # requests until then need a longer timeout.
    options_schema: Mapping[Any, Any] = _options_schema("60")

