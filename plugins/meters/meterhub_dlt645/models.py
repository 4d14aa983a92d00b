"""Table-driven DL/T 645-2007 meter models: points and capabilities are data.

A model is a :class:`Dlt645Model` built from a point table (hub point key -> DI). ``ddsy``
is the single-phase prepaid meter (relay, prepaid registers, TOU registers), ``dtsy`` the
three-phase one with per-phase values. A community model is the same: a :data:`PointTable`
and a ``Dlt645Model(...)`` (vendor DIs added first with
:func:`~meterhub_dlt645.dis.add_data_item`).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import voluptuous as vol

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
from hub.metering.points import POINTS, PointType
from hub.util import dt as dt_util
from hub.validation import decimal, one_of, positive_int, show_value

from .bcd import DateWeek
from .codec import (
    Credentials,
    Dlt645Parser,
    Frame,
    di_bytes,
    follow_up_request,
    read_request,
    relay_request,
    time_sync_request,
    write_request,
)
from .const import BROADCAST, PROTOCOL, Function, RelayAction
from .dis import DI_DATE, DI_TIME, STATUS_WORD_DIS, item
from .errors import Dlt645Error
from .simulator import Dlt645Simulator
from .status import hub_status

_LOGGER = logging.getLogger(__name__)

# A model's points: hub point key -> the DI it is read from (written DI3..DI0, 0x00010000).
PointTable = Mapping[str, int]

MAX_FOLLOW_UPS = 16
MAX_SILENT = 2  # consecutive unanswered points after which a read gives up
METER_TIME = "meter_time"

COMMAND_ACTIONS: dict[Command, RelayAction] = {
    Command.TRIP: RelayAction.TRIP,
    Command.ALARM_ON: RelayAction.ALARM_ON,
    Command.ALARM_OFF: RelayAction.ALARM_OFF,
    Command.PROTECT_ON: RelayAction.PROTECT_ON,
    Command.PROTECT_OFF: RelayAction.PROTECT_OFF,
}


# --- option validators ------------------------------------------------------------------


def _digits_text(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, Mapping | list):
        raise vol.Invalid(f"expected digits, got {show_value(value)}")
    if isinstance(value, Decimal) and value == value.to_integral_value() and value >= 0:
        return str(int(value))
    return str(value).strip()


def password_level(value: Any) -> str:
    """Password level (PA) as 2 hex digits, e.g. 02, 04 (98 = ESAM, not plaintext)."""
    text = _digits_text(value).upper().removeprefix("0X").zfill(2)
    if len(text) != 2 or any(c not in "0123456789ABCDEF" for c in text):
        raise vol.Invalid(f"expected a password level of 2 hex digits like 02, "
                          f"got {show_value(value)}")
    return text


def password(value: Any) -> str:
    """A 6-digit meter password (shorter numbers are left-padded with zeros)."""
    text = _digits_text(value).zfill(6)
    if len(text) != 6 or not (text.isdigit() and text.isascii()):
        raise vol.Invalid("expected a password of 6 decimal digits")  # never echo a password
    return text


def operator_code(value: Any) -> str:
    """A 4-byte operator code as 8 hex digits (left-padded with zeros)."""
    text = _digits_text(value).upper().zfill(8)
    if len(text) != 8 or any(c not in "0123456789ABCDEF" for c in text):
        raise vol.Invalid(f"expected an operator code of up to 8 hex digits, "
                          f"got {show_value(value)}")
    return text


def seconds(value: Any) -> float:
    """A positive timeout in seconds."""
    number = decimal(value)
    if number <= 0:
        raise vol.Invalid(f"expected a number of seconds above 0, got {show_value(value)}")
    return float(number)


OPTIONS_SCHEMA: dict[Any, Any] = {
    vol.Optional("password_level", default="02"): password_level,
    vol.Optional("password", default="000000"): password,
    vol.Optional("operator", default="00000000"): operator_code,
    vol.Optional("close_mode", default="direct"): one_of("direct", "allowed"),
    vol.Optional("relay_validity", default=10): positive_int,  # minutes
    vol.Optional("validity_clock", default="meter"): one_of("meter", "hub"),
    vol.Optional("timeout", default=3): seconds,
}


_MODEL_OPTION_KEYS = frozenset(str(getattr(key, "schema", key)) for key in OPTIONS_SCHEMA)
_SIMULATOR_KEYS = frozenset(inspect.signature(Dlt645Simulator).parameters) - {"address"}


# --- reply filters ----------------------------------------------------------------------


def reply_filter(address: str, function: int, di: int | None = None,
                 seq: int | None = None) -> Callable[[Any], bool]:
    """Accept only a reply from ``address`` to ``function`` (and echoing ``di``)."""
    normal, follow, error = function | 0x80, function | 0xA0, function | 0xC0
    di_raw = di_bytes(di) if di is not None else b""
    min_len = 4 + (1 if seq is not None else 0)

    def accept(frame: Any) -> bool:
        if not isinstance(frame, Frame) or frame.address != address:
            return False
        control = frame.control
        if control == error:
            return len(frame.data) >= 1
        if control != normal and (control != follow or di is None):
            return False
        if di is None:
            return True
        data = frame.data
        if len(data) < min_len or data[:4] != di_raw:
            return False
        return seq is None or data[-1] == seq & 0xFF

    return accept


def refusal(frame: Frame, what: str) -> MeterRefused:
    """A MeterRefused naming the decoded ERR reasons."""
    reasons = frame.error_reasons
    code = frame.error_code
    word = f"ERR {code:02X}" if code is not None else None
    return MeterRefused(f"meter {frame.address} refused {what}: {'; '.join(reasons)}"
                        + (f" ({word})" if word else ""), reasons, word)


# --- the model --------------------------------------------------------------------------


class Dlt645Model(MeterModel):
    """A DL/T 645-2007 meter model defined by its point table.

    ``default_points`` (default: every point) are what a scheduled read fetches;
    ``simulator_defaults`` are keyword arguments of its simulator (``three_phase``,
    ``price``, ``balance``...).
    """

    kind = MeterKind.ELECTRICITY
    protocol = PROTOCOL
    options_schema = OPTIONS_SCHEMA

    def __init__(self, name: str, description: str, capabilities: frozenset[Capability],
                 point_table: PointTable, default_points: Sequence[str] | None = None,
                 simulator_defaults: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.description = description
        self.capabilities = capabilities
        self.point_table = dict(point_table)
        if default_points is None:
            default_points = self.points()
        self._default_points = list(default_points)
        self.simulator_defaults = dict(simulator_defaults or {})
        for key, di in self.point_table.items():
            if key not in POINTS:
                raise ValueError(f"model {name}: {key!r} is not a hub point")
            item(di)  # unknown DI -> error at import time
        unknown = set(default_points) - set(self.points())
        if unknown:
            raise ValueError(f"model {name}: default points {sorted(unknown)} are not points")

    # --- description

    def points(self) -> Sequence[str]:
        """Every point key this model can read."""
        keys = list(self.point_table)
        if Capability.CLOCK in self.capabilities:
            keys.append(METER_TIME)
        return keys

    def default_points(self) -> Sequence[str]:
        """The points of a scheduled read."""
        return list(self._default_points)

    def validate_address(self, address: Any) -> str:
        """1..12 decimal digits, left-padded to 12; the broadcast address is refused."""
        if isinstance(address, bool) or address is None or isinstance(address, Mapping | list):
            raise vol.Invalid(f"expected up to 12 decimal digits, got {show_value(address)}")
        if isinstance(address, int):
            text = str(address)
        elif isinstance(address, Decimal) and address == address.to_integral_value():
            text = str(int(address))
        else:
            text = str(address).strip()
        if not (text.isdigit() and text.isascii() and 1 <= len(text) <= 12):
            raise vol.Invalid(f"expected up to 12 decimal digits, got {show_value(address)}")
        text = text.zfill(12)
        if text == BROADCAST:
            raise vol.Invalid("999999999999 is the broadcast address, not a meter's")
        return text

    def _options(self, meter: MeterRef) -> dict[str, Any]:
        return dict(self.options(meter.options))

    @staticmethod
    def _credentials(options: Mapping[str, Any]) -> Credentials:
        return Credentials.parse(options["password_level"], options["password"],
                                 options["operator"])

    # --- exchanges

    async def _exchange(self, transport: Transport, request: bytes,
                        accept: Callable[[Any], bool], timeout: float) -> Frame:
        frame = await transport.transact(request, Dlt645Parser(), accept, timeout)
        if not isinstance(frame, Frame):
            raise Dlt645Error(f"transport returned {type(frame).__name__}, not a frame")
        return frame

    async def read_di(self, transport: Transport, address: str, di: int,
                      timeout: float) -> tuple[bytes, int]:
        """Read one DI's value bytes (following follow-up frames); returns (value, frames)."""
        frame = await self._exchange(transport, read_request(address, di),
                                     reply_filter(address, Function.READ, di), timeout)
        if frame.is_error:
            raise refusal(frame, f"DI {di:08X}")
        value = frame.data[4:]
        frames = 1
        seq = 0
        while frame.has_follow_up:
            seq += 1
            if seq > MAX_FOLLOW_UPS:
                raise Dlt645Error(f"DI {di:08X}: more than {MAX_FOLLOW_UPS} follow-up frames")
            frame = await self._exchange(
                transport, follow_up_request(address, di, seq),
                reply_filter(address, Function.READ_FOLLOW_UP, di, seq), timeout)
            frames += 1
            if frame.is_error:
                raise refusal(frame, f"follow-up {seq} of DI {di:08X}")
            value += frame.data[4:-1]
        return value, frames

    async def _read_value(self, transport: Transport, address: str, di: int,
                          timeout: float) -> tuple[Any, int]:
        raw, frames = await self.read_di(transport, address, di, timeout)
        return item(di).decode(raw), frames

    async def _clock(self, transport: Transport, address: str,
                     timeout: float) -> tuple[datetime, int]:
        """Read date and time; a time just after midnight re-reads the date."""
        day, frames = await self._read_value(transport, address, DI_DATE, timeout)
        clock, more = await self._read_value(transport, address, DI_TIME, timeout)
        frames += more
        if clock < time(0, 1):
            day, more = await self._read_value(transport, address, DI_DATE, timeout)
            frames += more
        if not isinstance(day, DateWeek) or not isinstance(clock, time):
            raise Dlt645Error("date or time DI decoded to an unexpected value")
        local = datetime.combine(day.date, clock).replace(tzinfo=dt_util.site_time_zone())
        return local, frames

    # --- reading

    def _plan(self, wanted: Sequence[str], result: ReadResult) -> dict[int, list[str]]:
        plan: dict[int, list[str]] = {}
        for key in wanted:
            if key == METER_TIME and Capability.CLOCK in self.capabilities:
                continue
            di = self.point_table.get(key)
            if di is None:
                result.errors[key] = f"not a point of model {self.name}"
                continue
            plan.setdefault(di, []).append(key)
        return plan

    def _apply(self, di: int, keys: Sequence[str], value: Any, result: ReadResult) -> None:
        if di in STATUS_WORD_DIS:
            result.status.update(hub_status(STATUS_WORD_DIS.index(di) + 1, value))
            return
        for key in keys:
            if isinstance(value, list):
                raise Dlt645Error(f"point {key} maps to the block DI {di:08X}")
            if POINTS[key].type is PointType.REGISTER:
                result.registers[key] = value
            elif POINTS[key].type is PointType.STATUS:
                result.status[key] = value
            else:  # instantaneous values and amounts kept by the meter
                result.values[key] = value

    async def read(self, transport: Transport, meter: MeterRef,
                   points: Sequence[str] | None = None) -> ReadResult:
        """Read points with one 0x11 exchange per DI; a refused point is an error entry."""
        options = self._options(meter)
        timeout = options["timeout"]
        address = self.validate_address(meter.address)
        wanted = list(points) if points is not None else self.default_points()
        result = ReadResult()
        plan = self._plan(wanted, result)
        steps: list[tuple[int | None, list[str]]] = list(plan.items())
        if METER_TIME in wanted and Capability.CLOCK in self.capabilities:
            steps.append((None, [METER_TIME]))
        answered = False
        silent = 0
        for index, (di, keys) in enumerate(steps):
            try:
                if di is None:
                    result.meter_time, frames = await self._clock(transport, address, timeout)
                    result.frames += frames
                else:
                    raw, frames = await self.read_di(transport, address, di, timeout)
                    result.frames += frames
                    self._apply(di, keys, item(di).decode(raw), result)
                answered = True
                silent = 0
            except NoReply as err:
                result.frames += 1
                if not answered:
                    raise
                silent += 1
                for key in keys:
                    result.errors[key] = f"no reply: {err}"
                if silent >= MAX_SILENT:
                    for _di, later in steps[index + 1:]:
                        for key in later:
                            result.errors[key] = "not read: the meter stopped answering"
                    break
            except MeterRefused as err:
                result.frames += 1
                answered = True
                silent = 0
                for key in keys:
                    result.errors[key] = f"meter refused: {err.summary}"
            except ProtocolError as err:
                answered = True
                silent = 0
                for key in keys:
                    result.errors[key] = f"bad reply: {err}"
        return result

    async def read_clock(self, transport: Transport, meter: MeterRef) -> datetime:
        """The meter clock (date 04000101 + time 04000102), site-local and aware."""
        options = self._options(meter)
        when, _frames = await self._clock(transport, self.validate_address(meter.address),
                                          options["timeout"])
        return when

    # --- control

    def _action(self, command: Command, options: Mapping[str, Any]) -> RelayAction:
        if Capability.RELAY not in self.capabilities:
            raise ProtocolError(f"model {self.name} has no relay")
        if command is Command.CLOSE:
            return (RelayAction.CLOSE if options["close_mode"] == "direct"
                    else RelayAction.CLOSE_ALLOWED)
        try:
            return COMMAND_ACTIONS[command]
        except KeyError:
            raise ProtocolError(f"model {self.name} does not support {command}") from None

    async def _validity_base(self, transport: Transport, address: str,
                             options: Mapping[str, Any]) -> datetime:
        if options["validity_clock"] == "meter" and Capability.CLOCK in self.capabilities:
            try:
                when, _frames = await self._clock(transport, address, options["timeout"])
                return when
            except (MeterRefused, Dlt645Error) as err:
                _LOGGER.warning("Meter %s: clock unreadable (%s); validity from hub time",
                                address, err)
        return dt_util.now()

    async def command(self, transport: Transport, meter: MeterRef,
                      command: Command) -> CommandResult:
        """Relay / alarm / protect control (0x1C); confirm by reading status word 3 back."""
        options = self._options(meter)
        action = self._action(Command(command), options)
        address = self.validate_address(meter.address)
        base = await self._validity_base(transport, address, options)
        valid_until = (base + timedelta(minutes=options["relay_validity"])).replace(
            microsecond=0)
        request = relay_request(address, action, valid_until, self._credentials(options))
        _LOGGER.debug("Meter %s: %s (N1 %02X), valid until %s", address, command, action,
                      valid_until)
        frame = await self._exchange(transport, request,
                                     reply_filter(address, Function.RELAY_CONTROL),
                                     options["timeout"])
        if frame.is_error:
            raise refusal(frame, str(command))
        return CommandResult(True, f"{command} accepted (N1 {action:02X}, valid until "
                                   f"{valid_until:%Y-%m-%d %H:%M:%S})")

    async def write(self, transport: Transport, meter: MeterRef, di: int, value: Any) -> None:
        """Write one parameter (0x14) with the meter's password; MeterRefused if refused."""
        options = self._options(meter)
        address = self.validate_address(meter.address)
        spec = item(di)
        request = write_request(address, di, spec.encode(value), self._credentials(options))
        frame = await self._exchange(transport, request, reply_filter(address, Function.WRITE),
                                     options["timeout"])
        if frame.is_error:
            raise refusal(frame, f"write of DI {di:08X}")

    async def sync_time(self, transport: Transport, meter: MeterRef | None,
                        now: datetime) -> None:
        """Broadcast 0x08 to every meter (``meter`` None), else write date and time."""
        local = dt_util.as_local(now) if now.tzinfo else now
        if meter is None:
            await transport.send(time_sync_request(local))
            return
        await self.write(transport, meter, DI_DATE, local.date())
        await self.write(transport, meter, DI_TIME, local.time())

    def create_simulator(self, address: str, **options: Any) -> Dlt645Simulator:
        """A simulated meter at ``address``; the meter's own model options may be mixed in.

        A configured ``password_level``/``password`` becomes the simulated meter's password,
        so a simulated meter accepts exactly what its configuration sends.
        """
        settings = dict(self.simulator_defaults)
        model_options = {k: options.pop(k) for k in list(options) if k in _MODEL_OPTION_KEYS}
        if "password" in model_options or "password_level" in model_options:
            checked = self.options(model_options)
            settings["passwords"] = {int(checked["password_level"], 16): checked["password"]}
        unknown = sorted(set(options) - _SIMULATOR_KEYS)
        if unknown:
            raise ValueError(f"unknown simulator option {unknown[0]!r} for model {self.name}")
        settings.update(options)
        return Dlt645Simulator(self.validate_address(address), **settings)


# --- the models -------------------------------------------------------------------------

_ENERGY_POINTS: dict[str, int] = {
    "energy_import_total": 0x00010000,
    "energy_import_t1": 0x00010100,
    "energy_import_t2": 0x00010200,
    "energy_import_t3": 0x00010300,
    "energy_import_t4": 0x00010400,
    "energy_export_total": 0x00020000,
    "energy_combined_total": 0x00000000,
}
_STATUS_POINTS: dict[str, int] = {
    "relay": 0x04000503,
    "protect": 0x04000503,
    "status_word_3": 0x04000503,
    "battery_low": 0x04000501,
    "status_word_1": 0x04000501,
}
_PREPAID_POINTS: dict[str, int] = {"balance": 0x00900200, "overdraft": 0x00900201}

DDSY_POINTS: dict[str, int] = {
    **_ENERGY_POINTS,
    "voltage": 0x02010100,
    "current": 0x02020100,
    "power": 0x02030000,
    "power_factor": 0x02060000,
    "frequency": 0x02800002,
    **_PREPAID_POINTS,
    **_STATUS_POINTS,
    "status_word_4": 0x04000504,
}

DTSY_POINTS: dict[str, int] = {
    **_ENERGY_POINTS,
    **{f"voltage_{p}": 0x02010000 | n << 8 for n, p in enumerate("abc", start=1)},
    **{f"current_{p}": 0x02020000 | n << 8 for n, p in enumerate("abc", start=1)},
    "power": 0x02030000,
    **{f"power_{p}": 0x02030000 | n << 8 for n, p in enumerate("abc", start=1)},
    "power_factor": 0x02060000,
    **{f"power_factor_{p}": 0x02060000 | n << 8 for n, p in enumerate("abc", start=1)},
    "frequency": 0x02800002,
    **_PREPAID_POINTS,
    **_STATUS_POINTS,
    **{f"status_word_{n}": 0x04000500 + n for n in (4, 5, 6, 7)},
}

_PREPAID_CAPS = frozenset({Capability.RELAY, Capability.PREPAID, Capability.TOU,
                           Capability.CLOCK, Capability.INSTANT})

DDSY = Dlt645Model(
    "ddsy",
    "Single-phase prepaid meter, DL/T 645-2007 (DDSY): relay, prepaid and TOU registers",
    _PREPAID_CAPS,
    DDSY_POINTS,
    ("energy_import_total", "energy_import_t1", "energy_import_t2", "energy_import_t3",
     "energy_import_t4", "voltage", "current", "power", "balance", "relay"),
    {"three_phase": False, "price": Decimal("0.60"), "balance": Decimal("100.00")},
)

DTSY = Dlt645Model(
    "dtsy",
    "Three-phase prepaid meter, DL/T 645-2007 (DTSY): per-phase values, relay, TOU",
    _PREPAID_CAPS | {Capability.THREE_PHASE},
    DTSY_POINTS,
    ("energy_import_total", "energy_import_t1", "energy_import_t2", "energy_import_t3",
     "energy_import_t4", "voltage_a", "voltage_b", "voltage_c", "current_a", "current_b",
     "current_c", "power", "balance", "relay"),
    {"three_phase": True, "price": Decimal("0.60"), "balance": Decimal("500.00")},
)

MODELS: tuple[Dlt645Model, ...] = (DDSY, DTSY)
