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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import voluptuous as vol

from hub.i18n import Text
from hub.metering.model import (
    Capability,
    Command,
    CommandResult,
    FrozenDays,
    MeterEventRecord,
    MeterEvents,
    MeterKind,
    MeterModel,
    MeterRef,
    MeterRefused,
    NoReply,
    ProtocolError,
    ReadResult,
    Transport,
    WritableParam,
)
from hub.metering.points import POINTS, PointType
from hub.util import dt as dt_util
from hub.validation import decimal, one_of, positive_int, show_value

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .bcd import DateWeek
from .codec import (
    Credentials,
    Dlt645Parser,
    Frame,
    read_request,
    relay_request,
    time_sync_request,
)
from .const import BROADCAST, PROTOCOL, Function, RelayAction
from .dialect import AUTO, DIALECTS, V1997, V2007, VERSIONS, Dialect, WrongVersion
from .dis import (
    DAILY_FROZEN_RECORDS,
    STATUS_WORD_DIS,
    frozen_energy_di,
    frozen_time_di,
)
from .errors import Dlt645Error
from .loadrecords import DI_LOAD_RECORDS, MAX_BLOCKS, decode_blocks, request_payload
from .params import PLAIN, read_next, read_running, write_next, write_running
from .params import writable_params as _writable_params
from .records import KINDS, MAX_RECORDS, decode_record
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
        raise vol.Invalid(Text("dlt645.digits", value=show_value(value)))
    if isinstance(value, Decimal) and value == value.to_integral_value() and value >= 0:
        return str(int(value))
    return str(value).strip()


def password_level(value: Any) -> str:
    """Password level (PA) as 2 hex digits, e.g. 02, 04 (98 = ESAM, not plaintext)."""
    text = _digits_text(value).upper().removeprefix("0X").zfill(2)
    if len(text) != 2 or any(c not in "0123456789ABCDEF" for c in text):
        raise vol.Invalid(Text("dlt645.password_level", value=show_value(value)))
    return text


def password(value: Any) -> str:
    """A 6-digit meter password (shorter numbers are left-padded with zeros)."""
    text = _digits_text(value).zfill(6)
    if len(text) != 6 or not (text.isdigit() and text.isascii()):
        raise vol.Invalid(Text("dlt645.password"))  # never echo a password
    return text


def operator_code(value: Any) -> str:
    """A 4-byte operator code as 8 hex digits (left-padded with zeros)."""
    text = _digits_text(value).upper().zfill(8)
    if len(text) != 8 or any(c not in "0123456789ABCDEF" for c in text):
        raise vol.Invalid(Text("dlt645.operator_code", value=show_value(value)))
    return text


def seconds(value: Any) -> float:
    """A positive timeout in seconds."""
    number = decimal(value)
    if number <= 0:
        raise vol.Invalid(Text("dlt645.seconds", value=show_value(value)))
    return float(number)


def protocol_version(value: Any) -> str:
    """``2007``, ``1997`` or ``auto`` (YAML may give the year as a number)."""
    text = str(value).strip().lower() if isinstance(value, str | int) else ""
    if text not in (*VERSIONS, AUTO) or isinstance(value, bool):
        raise vol.Invalid(Text("dlt645.protocol", value=show_value(value)))
    return text


OPTIONS_SCHEMA: dict[Any, Any] = {
    vol.Optional("password_level", default="02"): password_level,
    vol.Optional("password", default="000000"): password,
    vol.Optional("operator", default="00000000"): operator_code,
    vol.Optional("close_mode", default="direct"): one_of("direct", "allowed"),
    vol.Optional("relay_validity", default=10): positive_int,  # minutes
    vol.Optional("validity_clock", default="meter"): one_of("meter", "hub"),
    vol.Optional("timeout", default=3): seconds,
    vol.Optional("protocol"): protocol_version,  # default: the model's own version
}


_MODEL_OPTION_KEYS = frozenset(str(getattr(key, "schema", key)) for key in OPTIONS_SCHEMA)
_SIMULATOR_KEYS = frozenset(inspect.signature(Dlt645Simulator).parameters) - {"address"}


# --- reply filters ----------------------------------------------------------------------


def reply_filter(address: str, function: int, di: int | None = None,
                 seq: int | None = None) -> Callable[[Any], bool]:
    """Accept a DL/T 645-2007 reply from ``address`` to ``function`` (echoing ``di``), or a
    1997 reply (refused as the wrong version)."""
    return DIALECTS[V2007].reply_filter(address, function, di, seq)


def refusal(frame: Frame, what: str) -> MeterRefused:
    """A MeterRefused naming the decoded DL/T 645-2007 ERR reasons."""
    return DIALECTS[V2007].refusal(frame, what)


# --- the model --------------------------------------------------------------------------


class Dlt645Model(MeterModel):
    """A DL/T 645 meter model defined by its point tables (one per protocol version).

    ``point_table`` is the table of the model's own ``version`` (2007 or 1997);
    ``other_tables`` map the other version to its table, so a meter set to that version
    (option ``protocol``), or found speaking it (``protocol: auto``), reads the same points.
    ``default_points`` (default: every point) are what a scheduled read fetches;
    ``simulator_defaults`` are keyword arguments of its simulator (``three_phase``,
    ``price``, ``balance``...).
    """

    kind = MeterKind.ELECTRICITY
    protocol = PROTOCOL
    options_schema = OPTIONS_SCHEMA

    def __init__(self, name: str, description: str, capabilities: frozenset[Capability],
                 point_table: PointTable, default_points: Sequence[str] | None = None,
                 simulator_defaults: Mapping[str, Any] | None = None, *,
                 version: str = V2007,
                 other_tables: Mapping[str, PointTable] | None = None) -> None:
        if version not in VERSIONS:
            raise ValueError(  # i18n: internal (a model table's bug, found at import)
                f"model {name}: version must be one of {VERSIONS}, got {version!r}")
        self.name = name
        self.description = description
        self.capabilities = capabilities
        self.version = version
        self.point_table = dict(point_table)
        self.tables: dict[str, dict[str, int]] = {
            **{v: dict(t) for v, t in (other_tables or {}).items()}, version: self.point_table}
        if default_points is None:
            default_points = self.points()
        self._default_points = list(default_points)
        self.simulator_defaults = dict(simulator_defaults or {})
        self._detected: dict[tuple[str, str], Dialect] = {}
        for table_version, table in self.tables.items():
            dialect = DIALECTS[table_version]
            for key, di in table.items():
                if key not in POINTS:
                    raise ValueError(  # i18n: internal (a model table's bug, found at import)
                        f"model {name}: {key!r} is not a hub point")
                dialect.item(di)  # unknown DI -> error at import time
        unknown = set(default_points) - set(self.points())
        if unknown:
            raise ValueError(  # i18n: internal (a model table's bug, found at import)
                f"model {name}: default points {sorted(unknown)} are not points")

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
            raise vol.Invalid(Text("dlt645.address", value=show_value(address)))
        if isinstance(address, int):
            text = str(address)
        elif isinstance(address, Decimal) and address == address.to_integral_value():
            text = str(int(address))
        else:
            text = str(address).strip()
        if not (text.isdigit() and text.isascii() and 1 <= len(text) <= 12):
            raise vol.Invalid(Text("dlt645.address", value=show_value(address)))
        text = text.zfill(12)
        if text == BROADCAST:
            raise vol.Invalid(Text("dlt645.broadcast"))
        return text

    def _options(self, meter: MeterRef) -> dict[str, Any]:
        return dict(self.options(meter.options))

    @staticmethod
    def _credentials(options: Mapping[str, Any]) -> Credentials:
        return Credentials.parse(options["password_level"], options["password"],
                                 options["operator"])

    # --- protocol version

    async def dialect_for(self, transport: Transport, meter: MeterRef,
                          options: Mapping[str, Any] | None = None) -> Dialect:
        """The version a meter speaks: its ``protocol`` option, else the model's own; with
        ``auto`` the one found by :meth:`detect`, remembered for this meter (id, address)."""
        options = options if options is not None else self._options(meter)
        setting = options.get("protocol") or self.version
        if setting != AUTO:
            return DIALECTS[setting]
        address = self.validate_address(meter.address)
        known = self._detected.get((meter.id, address))
        if known is not None:
            return known
        found = await self.detect(transport, address, options["timeout"])
        self._detected[(meter.id, address)] = found
        _LOGGER.info("Meter %s (%s): protocol auto-detected: %s (it answered a read of %s)",
                     meter.id, address, found.name, found.di_text(found.probe_di))
        return found

    def forget_version(self, meter: MeterRef) -> None:
        """Forget an auto-detected version: the next exchange probes again."""
        self._detected.pop((meter.id, self.validate_address(meter.address)), None)

    async def detect(self, transport: Transport, address: str, timeout: float) -> Dialect:
        """Probe: a 2007 read of 00010000, then a 1997 read of 9010; the first answered wins
        (a refusal counts: the meter understood the function code)."""
        for version in (V2007, V1997):
            dialect = DIALECTS[version]
            probe = dialect.read_request(address, dialect.probe_di)
            try:
                await self._exchange(transport, probe, _answer_to(address, dialect.read),
                                     timeout)
            except NoReply:
                _LOGGER.debug("Meter %s: no answer to a %s read", address, dialect.name)
                continue
            return dialect
        raise NoReply(Text("dlt645.auto_no_reply", address=address))

    def _table(self, dialect: Dialect) -> dict[str, int]:
        table = self.tables.get(dialect.version)
        if table is None:
            raise ProtocolError(Text("dlt645.no_table", model=self.name, dialect=dialect.name))
        return table

    # --- exchanges

    async def _exchange(self, transport: Transport, request: bytes,
                        accept: Callable[[Any], bool], timeout: float) -> Frame:
        frame = await transport.transact(request, Dlt645Parser(), accept, timeout)
        if not isinstance(frame, Frame):
            raise Dlt645Error(  # i18n: internal (bug check: a transport gave no frame)
                f"transport returned {type(frame).__name__}, not a frame")
        return frame

    async def read_di(self, transport: Transport, address: str, di: int,
                      timeout: float, dialect: Dialect = DIALECTS[V2007]) -> tuple[bytes, int]:
        """Read one DI's value bytes (following follow-up frames); returns (value, frames)."""
        what = f"DI {dialect.di_text(di)}"
        frame = dialect.check(await self._exchange(
            transport, dialect.read_request(address, di),
            dialect.reply_filter(address, dialect.read, di), timeout), what)
        value = dialect.value(frame)
        frames = 1
        seq = 0
        while frame.has_follow_up:
            seq += 1
            if seq > MAX_FOLLOW_UPS:
                raise Dlt645Error(Text("dlt645.follow_ups", di=dialect.di_text(di),
                                       limit=MAX_FOLLOW_UPS))
            frame = dialect.check(await self._exchange(
                transport, dialect.follow_up_request(address, di, seq),
                dialect.reply_filter(address, dialect.follow_up, di, seq), timeout),
                f"follow-up {seq} of DI {dialect.di_text(di)}")
            frames += 1
            value += dialect.value(frame)
        return value, frames

    async def _read_value(self, transport: Transport, address: str, di: int,
                          timeout: float, dialect: Dialect) -> tuple[Any, int]:
        raw, frames = await self.read_di(transport, address, di, timeout, dialect)
        return dialect.item(di).decode(raw), frames

    async def _clock(self, transport: Transport, address: str, timeout: float,
                     dialect: Dialect = DIALECTS[V2007]) -> tuple[datetime, int]:
        """Read date and time; a time just after midnight re-reads the date."""
        day, frames = await self._read_value(transport, address, dialect.date_di, timeout,
                                             dialect)
        clock, more = await self._read_value(transport, address, dialect.time_di, timeout,
                                             dialect)
        frames += more
        if clock < time(0, 1):
            day, more = await self._read_value(transport, address, dialect.date_di, timeout,
                                               dialect)
            frames += more
        if not isinstance(day, DateWeek) or not isinstance(clock, time):
            raise Dlt645Error(  # i18n: internal (bug check of the DI table's formats)
                "date or time DI decoded to an unexpected value")
        local = datetime.combine(day.date, clock).replace(tzinfo=dt_util.site_time_zone())
        return local, frames

    # --- reading

    def _plan(self, wanted: Sequence[str], table: Mapping[str, int], dialect: Dialect,
              result: ReadResult) -> dict[int, list[str]]:
        plan: dict[int, list[str]] = {}
        for key in wanted:
            if key == METER_TIME and Capability.CLOCK in self.capabilities:
                continue
            di = table.get(key)
            if di is None:
                where = "" if dialect.version == self.version else f" over {dialect.name}"
                result.errors[key] = f"not a point of model {self.name}{where}"
                continue
            plan.setdefault(di, []).append(key)
        return plan

    def _apply(self, di: int, keys: Sequence[str], value: Any, result: ReadResult,
               dialect: Dialect) -> None:
        if dialect.version == V2007 and di in STATUS_WORD_DIS:
            result.status.update(hub_status(STATUS_WORD_DIS.index(di) + 1, value))
            return
        for key in keys:
            if isinstance(value, list):
                raise Dlt645Error(  # i18n: internal (a model table's bug, found at import)
                    f"point {key} maps to the block DI {dialect.di_text(di)}")
            if POINTS[key].type is PointType.REGISTER:
                result.registers[key] = value
            elif POINTS[key].type is PointType.STATUS:
                result.status[key] = value
            else:  # instantaneous values and amounts kept by the meter
                result.values[key] = value

    async def read(self, transport: Transport, meter: MeterRef,
                   points: Sequence[str] | None = None) -> ReadResult:
        """Read points with one read exchange per DI; a refused point is an error entry.

        With ``protocol: auto`` a reply in the other version than the remembered one (the
        meter was replaced) forgets it and reads again after a new probe, once; a meter that
        does not answer at all is probed again on its next read.
        """
        options = self._options(meter)
        auto = (options.get("protocol") or self.version) == AUTO
        try:
            return await self._read(transport, meter, points, options)
        except WrongVersion as err:
            if not auto:
                raise
            _LOGGER.warning("Meter %s: %s; probing its protocol again", meter.id, err)
            self.forget_version(meter)
            return await self._read(transport, meter, points, options)
        except NoReply:
            if auto:  # silent in its remembered version: perhaps replaced by the other one
                self.forget_version(meter)
            raise

    async def _read(self, transport: Transport, meter: MeterRef,
                    points: Sequence[str] | None, options: Mapping[str, Any]) -> ReadResult:
        timeout = options["timeout"]
        address = self.validate_address(meter.address)
        dialect = await self.dialect_for(transport, meter, options)
        table = self._table(dialect)
        if points is not None:
            wanted = list(points)
        else:  # a scheduled read of a meter set to the other version reads what it has
            wanted = [k for k in self.default_points() if k in table or k == METER_TIME]
        result = ReadResult()
        plan = self._plan(wanted, table, dialect, result)
        steps: list[tuple[int | None, list[str]]] = list(plan.items())
        if METER_TIME in wanted and Capability.CLOCK in self.capabilities:
            steps.append((None, [METER_TIME]))
        answered = False
        silent = 0
        for index, (di, keys) in enumerate(steps):
            try:
                if di is None:
                    result.meter_time, frames = await self._clock(transport, address, timeout,
                                                                  dialect)
                    result.frames += frames
                else:
                    raw, frames = await self.read_di(transport, address, di, timeout, dialect)
                    result.frames += frames
                    self._apply(di, keys, dialect.item(di).decode(raw), result, dialect)
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
            except WrongVersion:
                raise
            except ProtocolError as err:
                answered = True
                silent = 0
                for key in keys:
                    result.errors[key] = f"bad reply: {err}"
        return result

    async def read_clock(self, transport: Transport, meter: MeterRef) -> datetime:
        """The meter clock (2007: 04000101 + 04000102; 1997: C010 + C011), site-local."""
        options = self._options(meter)
        dialect = await self.dialect_for(transport, meter, options)
        when, _frames = await self._clock(transport, self.validate_address(meter.address),
                                          options["timeout"], dialect)
        return when

    # --- control

    def _action(self, command: Command, options: Mapping[str, Any]) -> RelayAction:
        if Capability.RELAY not in self.capabilities:
            raise ProtocolError(Text("dlt645.no_relay", model=self.name))
        if command is Command.CLOSE:
            return (RelayAction.CLOSE if options["close_mode"] == "direct"
                    else RelayAction.CLOSE_ALLOWED)
        try:
            return COMMAND_ACTIONS[command]
        except KeyError:
            raise ProtocolError(Text("dlt645.unsupported", model=self.name,
                                     command=command)) from None

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
        dialect = await self.dialect_for(transport, meter, options)
        if dialect.version != V2007:
            raise ProtocolError(Text("dlt645.no_remote_relay", meter=meter.id,
                                     dialect=dialect.name, command=command))
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
        """Write one parameter (2007: 0x14, 1997: 0x04) with the meter's password; a DI of
        the meter's version. MeterRefused if refused."""
        options = self._options(meter)
        address = self.validate_address(meter.address)
        dialect = await self.dialect_for(transport, meter, options)
        spec = dialect.item(di)
        request = dialect.write_request(address, di, spec.encode(value),
                                        self._credentials(options))
        frame = await self._exchange(transport, request,
                                     dialect.reply_filter(address, dialect.write),
                                     options["timeout"])
        dialect.check(frame, f"write of DI {dialect.di_text(di)}")

    # --- the meter's own history

    async def read_daily_frozen(self, transport: Transport, meter: MeterRef,
                                after: datetime) -> FrozenDays:
        """Daily freezes newer than ``after``: 上n次日冻结时间 (0506000n) and forward
        active energy (0506010n), n = 1 (newest) back to the first at or before ``after``,
        at most 62. A record with an impossible date is refused, not taken."""
        options = self._options(meter)
        dialect = await self.dialect_for(transport, meter, options)
        if dialect.version != V2007:
            raise ProtocolError(Text("dlt645.no_frozen", meter=meter.id, dialect=dialect.name))
        address = self.validate_address(meter.address)
        found = FrozenDays()
        zone = dt_util.site_time_zone()
        for n in range(1, DAILY_FROZEN_RECORDS + 1):
            try:
                digits, _frames = await self._read_value(transport, address, frozen_time_di(n),
                                                         options["timeout"], dialect)
            except MeterRefused:
                break  # no such record (ERR 02): the meter keeps fewer
            try:
                when = datetime.strptime(str(digits), "%y%m%d%H%M").replace(tzinfo=zone)
            except ValueError:
                found.refused.append(Text("dlt645.freeze_date", n=n, digits=str(digits)))
                continue
            if when <= after:
                break
            values, _frames = await self._read_value(transport, address, frozen_energy_di(n),
                                                     options["timeout"], dialect)
            keys = ("energy_import_total", "energy_import_t1", "energy_import_t2",
                    "energy_import_t3", "energy_import_t4")
            found.records.insert(0, ReadResult(registers=dict(zip(keys, values, strict=False)),
                                               meter_time=when))
        return found

    async def read_load_records(self, transport: Transport, meter: MeterRef,
                                after: datetime, before: datetime) -> FrozenDays:
        """Load records (负荷记录, 06000001: N blocks from a given time on) strictly between
        ``after`` and ``before``, asked for a few blocks at a time from just after
        ``after``; a block the meter marks bad or that does not decode is refused."""
        options = self._options(meter)
        dialect = await self.dialect_for(transport, meter, options)
        if dialect.version != V2007:
            raise ProtocolError(Text("dlt645.no_load_records", meter=meter.id,
                                     dialect=dialect.name))
        address = self.validate_address(meter.address)
        zone = dt_util.site_time_zone()
        found = FrozenDays()
        cursor = dt_util.as_local(after).replace(tzinfo=None, second=0, microsecond=0) \
            + timedelta(minutes=1)
        end = dt_util.as_local(before).replace(tzinfo=None)
        while cursor < end:
            request = read_request(address, DI_LOAD_RECORDS,
                                   request_payload(MAX_BLOCKS, cursor))
            try:
                frame = dialect.check(await self._exchange(
                    transport, request, dialect.reply_filter(address, dialect.read,
                                                             DI_LOAD_RECORDS),
                    options["timeout"]), "load records")
            except MeterRefused:
                break  # no record from that time on (ERR 02)
            latest = cursor
            for item in decode_blocks(dialect.value(frame)):
                if isinstance(item, str):
                    found.refused.append(item)
                    continue
                latest = max(latest, item.time)
                when = item.time.replace(tzinfo=zone)
                if after < when < before:
                    found.records.append(ReadResult(
                        registers={"energy_import_total": item.energy_import_total},
                        meter_time=when))
            if latest <= cursor:
                break  # nothing newer came back
            cursor = latest + timedelta(minutes=1)
        return found

    async def read_events(self, transport: Transport, meter: MeterRef,
                          known: Mapping[str, int]) -> MeterEvents:
        """Counts of each event kind (power down, programming, clock change, cover and
        terminal cover opened, relay trip and close) and the records added since ``known``;
        a kind the meter does not keep (ERR 02) is named in ``errors``."""
        options = self._options(meter)
        dialect = await self.dialect_for(transport, meter, options)
        if dialect.version != V2007:
            raise ProtocolError(Text("dlt645.no_events", meter=meter.id, dialect=dialect.name))
        address = self.validate_address(meter.address)
        found = MeterEvents()
        for kind in KINDS:
            try:
                count, _frames = await self._read_value(transport, address, kind.count_di,
                                                        options["timeout"], dialect)
            except MeterRefused as err:
                found.errors[kind.kind] = f"not kept by this meter ({err.summary})"
                continue
            count = int(count)
            found.counts[kind.kind] = count
            before = known.get(kind.kind)
            new = count - before if before is not None and before <= count else count
            for n in range(min(new, MAX_RECORDS), 0, -1):
                try:
                    raw, _frames = await self.read_di(transport, address, kind.record_di(n),
                                                      options["timeout"], dialect)
                    record = decode_record(kind, raw)
                except (MeterRefused, Dlt645Error) as err:
                    found.errors[f"{kind.kind}:{n}"] = f"record {n} back: {err}"
                    continue
                zone = dt_util.site_time_zone()
                found.records.append(MeterEventRecord(
                    kind.kind, record.started.replace(tzinfo=zone),
                    record.ended.replace(tzinfo=zone) if record.ended else None,
                    count - n + 1, kind.tamper, record.operator, record.detail))
        return found

    # --- parameters (device.write)

    def writable(self) -> Mapping[str, WritableParam]:
        """Clock, TOU tables, balance alarm levels, load and voltage limits (2007 models;
        a 1997 model: its clock)."""
        cached = self.__dict__.get("_writable")
        if cached is None:
            cached = self.__dict__["_writable"] = _writable_params(self.capabilities,
                                                                   self.version)
        return dict(cached)

    def _reader(self, transport: Transport, meter: MeterRef, options: Mapping[str, Any],
                dialect: Dialect) -> Callable[[int], Awaitable[Any]]:
        """Read one DI's decoded value from the meter."""
        address = self.validate_address(meter.address)

        async def read(di: int) -> Any:
            value, _frames = await self._read_value(transport, address, di,
                                                    options["timeout"], dialect)
            return value

        return read

    def _check_level(self, options: Mapping[str, Any]) -> None:
        level = options["password_level"]
        if level in ("98", "99"):
            raise ProtocolError(Text("dlt645.esam", level=level))
        if not level.isdigit() or int(level) > 9:
            raise ProtocolError(Text("dlt645.level_range", level=level))

    async def write_param(self, transport: Transport, meter: MeterRef, name: str,
                          value: Any) -> None:
        """Write a declared parameter with the meter's password level, password and
        operator code; MeterRefused carries the meter's reason in words."""
        if name not in self.writable():
            raise ProtocolError(Text("dlt645.no_param", model=self.name, name=repr(name)))
        options = self._options(meter)
        self._check_level(options)
        dialect = await self.dialect_for(transport, meter, options)
        if name == METER_TIME:
            when = dt_util.now() if value == "now" else value
            await self.sync_time(transport, meter, when)
            return
        if dialect.version != V2007:
            raise ProtocolError(Text("dlt645.write_2007", meter=meter.id,
                                     dialect=dialect.name, name=name))

        async def write(di: int, data: Any) -> None:
            await self.write(transport, meter, di, data)

        read = self._reader(transport, meter, options, dialect)
        if name == "tou":
            await write_running(write, read, value)
        elif name == "tou_next":
            await write_next(write, read, value)
        else:
            await write(PLAIN[name].di, value)

    async def read_param(self, transport: Transport, meter: MeterRef, name: str) -> Any:
        """Read a declared parameter back (typed as its ``parse`` gives it)."""
        if name not in self.writable():
            raise ProtocolError(Text("dlt645.no_param", model=self.name, name=repr(name)))
        if name == METER_TIME:
            return await self.read_clock(transport, meter)
        options = self._options(meter)
        read = self._reader(transport, meter, options,
                            await self.dialect_for(transport, meter, options))
        if name == "tou":
            return await read_running(read)
        if name == "tou_next":
            return await read_next(read)
        return await read(PLAIN[name].di)

    async def sync_time(self, transport: Transport, meter: MeterRef | None,
                        now: datetime) -> None:
        """Broadcast 0x08 to every meter (``meter`` None), else write date and time."""
        local = dt_util.as_local(now) if now.tzinfo else now
        if meter is None:
            await transport.send(time_sync_request(local))
            return
        dialect = await self.dialect_for(transport, meter)
        await self.write(transport, meter, dialect.date_di, local.date())
        await self.write(transport, meter, dialect.time_di, local.time())

    def create_simulator(self, address: str, **options: Any) -> Dlt645Simulator:
        """A simulated meter at ``address``; the meter's own model options may be mixed in.

        A configured ``password_level``/``password`` becomes the simulated meter's password,
        so a simulated meter accepts exactly what its configuration sends; ``protocol``
        1997 or 2007 makes a meter of that version (``auto``: the model's own version).
        """
        settings = dict(self.simulator_defaults)
        model_options = {k: options.pop(k) for k in list(options) if k in _MODEL_OPTION_KEYS}
        checked = self.options(model_options)
        if "password" in model_options or "password_level" in model_options:
            settings["passwords"] = {int(checked["password_level"], 16): checked["password"]}
        chosen = checked.get("protocol") or self.version
        settings["version"] = self.version if chosen == AUTO else chosen
        unknown = sorted(set(options) - _SIMULATOR_KEYS)
        if unknown:
            raise ValueError(Text("dlt645.sim_option", option=repr(unknown[0]), model=self.name))
        settings.update(options)
        return Dlt645Simulator(self.validate_address(address), **settings)


def _answer_to(address: str, function: int) -> Callable[[Any], bool]:
    """Any reply from ``address`` to ``function`` (normal, follow-up or refusal)."""

    def accept(frame: Any) -> bool:
        return (isinstance(frame, Frame) and frame.address == address and frame.is_reply
                and frame.function == function)

    return accept


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

# DL/T 645-1997 identifiers of the same points (9010 forward active total XXXXXX.XX kWh,
# 9011..9014 T1..T4, 9020 reverse, B611.. voltage XXX V, B621.. current XX.XX A, B630..
# power XX.XXXX kW, B650.. power factor X.XXX): a 1997 meter reads into the same registers.
_ENERGY_POINTS_1997: dict[str, int] = {
    "energy_import_total": 0x9010,
    "energy_import_t1": 0x9011,
    "energy_import_t2": 0x9012,
    "energy_import_t3": 0x9013,
    "energy_import_t4": 0x9014,
    "energy_export_total": 0x9020,
}

DDSY_1997_POINTS: dict[str, int] = {
    **_ENERGY_POINTS_1997,
    "voltage": 0xB611,
    "current": 0xB621,
    "power": 0xB630,
    "power_factor": 0xB650,
}

DTSY_1997_POINTS: dict[str, int] = {
    **_ENERGY_POINTS_1997,
    **{f"voltage_{p}": 0xB610 + n for n, p in enumerate("abc", start=1)},
    **{f"current_{p}": 0xB620 + n for n, p in enumerate("abc", start=1)},
    "power": 0xB630,
    **{f"power_{p}": 0xB630 + n for n, p in enumerate("abc", start=1)},
    "power_factor": 0xB650,
    **{f"power_factor_{p}": 0xB650 + n for n, p in enumerate("abc", start=1)},
}

_PREPAID_CAPS = frozenset({Capability.RELAY, Capability.PREPAID, Capability.TOU,
                           Capability.CLOCK, Capability.INSTANT, Capability.DAILY_FROZEN,
                           Capability.EVENTS})
_METERING_CAPS = frozenset({Capability.TOU, Capability.CLOCK, Capability.INSTANT})
_TOU_DEFAULTS = ("energy_import_total", "energy_import_t1", "energy_import_t2",
                 "energy_import_t3", "energy_import_t4")

DDSY = Dlt645Model(
    "ddsy",
    "Single-phase prepaid meter, DL/T 645-2007 (DDSY): relay, prepaid and TOU registers",
    _PREPAID_CAPS,
    DDSY_POINTS,
    ("energy_import_total", "energy_import_t1", "energy_import_t2", "energy_import_t3",
     "energy_import_t4", "voltage", "current", "power", "balance", "relay"),
    {"three_phase": False, "price": Decimal("0.60"), "balance": Decimal("100.00")},
    other_tables={V1997: DDSY_1997_POINTS},
)

DTSY = Dlt645Model(
    "dtsy",
    "Three-phase prepaid meter, DL/T 645-2007 (DTSY): per-phase values, relay, TOU",
    _PREPAID_CAPS | {Capability.THREE_PHASE, Capability.LOAD_PROFILE},
    DTSY_POINTS,
    ("energy_import_total", "energy_import_t1", "energy_import_t2", "energy_import_t3",
     "energy_import_t4", "voltage_a", "voltage_b", "voltage_c", "current_a", "current_b",
     "current_c", "power", "balance", "relay"),
    {"three_phase": True, "price": Decimal("0.60"), "balance": Decimal("500.00"),
     "load_interval": 15},
    other_tables={V1997: DTSY_1997_POINTS},
)

DDSY1997 = Dlt645Model(
    "ddsy1997",
    "Single-phase meter, DL/T 645-1997: energy with TOU registers, clock, instant values",
    _METERING_CAPS,
    DDSY_1997_POINTS,
    (*_TOU_DEFAULTS, "voltage", "current", "power"),
    {"three_phase": False, "price": None},
    version=V1997,
    other_tables={V2007: DDSY_POINTS},
)

DTSY1997 = Dlt645Model(
    "dtsy1997",
    "Three-phase meter, DL/T 645-1997: energy with TOU registers, per-phase values, clock",
    _METERING_CAPS | {Capability.THREE_PHASE},
    DTSY_1997_POINTS,
    (*_TOU_DEFAULTS, "voltage_a", "voltage_b", "voltage_c", "current_a", "current_b",
     "current_c", "power"),
    {"three_phase": True, "price": None},
    version=V1997,
    other_tables={V2007: DTSY_POINTS},
)

MODELS: tuple[Dlt645Model, ...] = (DDSY, DTSY, DDSY1997, DTSY1997)
