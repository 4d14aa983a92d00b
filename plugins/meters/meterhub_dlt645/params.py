"""Parameters a DL/T 645-2007 model lets the hub write and read back (``device.write``).

Plain ones are one data identifier each (a balance alarm level, a load limit, a voltage
limit); ``meter_time`` is the date and time DIs; ``tou`` is the meter's own time-of-use table
(yearly zones, day tables, rest days, their counts) written into the set the meter runs now;
``tou_next`` writes the other set and the time the meter switches to it (两套时区表 /
两套日时段表切换时间). Every one is read back by :func:`read_param` for confirmation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import voluptuous as vol

from hub.i18n import Text, text_of
from hub.metering.model import Capability, MeterRefused, ProtocolError, WritableParam
from hub.metering.tou import MAX_HOLIDAYS, MAX_SEGMENTS, MAX_ZONES, TouTable
from hub.util import dt as dt_util
from hub.validation import decimal, show_value

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .dis import (
    DI_DAY_SWITCH,
    DI_HOLIDAY_COUNT,
    DI_OVER_CURRENT,
    DI_OVER_CURRENT_DELAY,
    DI_RATE_COUNT,
    DI_REST_TABLE,
    DI_REST_WORD,
    DI_SEGMENT_COUNT,
    DI_TABLE_COUNT,
    DI_ZONE_COUNT,
    DI_ZONE_SWITCH,
    day_table_di,
    holiday_di,
    item,
    zone_table_di,
)
from .errors import Dlt645Error

_LOGGER = logging.getLogger(__name__)

DI_STATUS_3 = 0x04000503
CLOCK_TOLERANCE = 10.0  # seconds a clock read back may be off what was written


@dataclass(frozen=True, slots=True)
class Plain:
    """A parameter that is one DI: its point of view in the hub."""

    di: int
    description: str
    unit: str
    needs: Capability | None = None
    low: Decimal | None = None  # the smallest value the meter takes (the format bounds above)


PLAIN: dict[str, Plain] = {
    "alarm_amount_1": Plain(0x04001001, "balance alarm level 1 (报警金额1限值)", "CNY",
                            Capability.PREPAID),
    "alarm_amount_2": Plain(0x04001002, "balance alarm level 2 (报警金额2限值)", "CNY",
                            Capability.PREPAID),
    "overdraft_limit": Plain(0x04001003, "overdraft amount limit (透支金额限值)", "CNY",
                             Capability.PREPAID),
    "ct_ratio": Plain(0x04000306, "current transformer ratio kept by the meter (电流互感器变比)",
                      ""),
    "pt_ratio": Plain(0x04000307, "voltage transformer ratio kept by the meter (电压互感器变比)",
                      ""),
    "power_limit": Plain(0x04000E01, "load limit: forward active power upper limit "
                                     "(正向有功功率上限值)", "kW"),
    "voltage_upper": Plain(0x04000E03, "over-voltage threshold (电压上限值)", "V",
                           Capability.INSTANT),
    "voltage_lower": Plain(0x04000E04, "under-voltage threshold (电压下限值)", "V",
                           Capability.INSTANT),
    "over_current": Plain(DI_OVER_CURRENT, "over-current event threshold, per phase "
                                           "(过流事件电流触发下限)", "A",
                          Capability.THREE_PHASE, low=Decimal("0.1")),
    "over_current_delay": Plain(DI_OVER_CURRENT_DELAY, "over-current event judgement delay "
                                                       "(过流事件判定延时时间)", "s",
                                Capability.THREE_PHASE, low=Decimal(1)),
}


def _plain_parser(di: int, low: Decimal | None = None) -> Callable[[Any], Decimal]:
    spec = item(di)

    def parse(value: Any) -> Decimal:
        number = decimal(value)
        if low is not None and number < low:
            raise vol.Invalid(Text("dlt645.at_least", low=low, unit=spec.unit, value=number))
        try:
            spec.encode(number)
        except Dlt645Error as err:
            raise vol.Invalid(Text("dlt645.not_fit", value=number, pattern=spec.fmt.pattern,
                                   unit=spec.unit, reason=text_of(err))) from None
        return number

    return parse


def _parse_time(value: Any) -> datetime | str:
    if isinstance(value, str) and value.strip().lower() == "now":
        return "now"
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise vol.Invalid(Text("dlt645.date_time", value=show_value(value))) from None
    when = dt_util.as_local(when) if when.tzinfo else when.replace(
        tzinfo=dt_util.site_time_zone())
    if not 2000 <= when.year <= 2099:
        raise vol.Invalid(Text("dlt645.clock_year", year=when.year))
    return when


def _dump_time(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat(timespec="seconds")


def _same_time(wanted: Any, actual: Any, elapsed: float) -> bool:
    if not isinstance(actual, datetime):
        return False
    target = dt_util.now() if wanted == "now" else wanted + timedelta(seconds=elapsed)
    return abs((actual - target).total_seconds()) <= CLOCK_TOLERANCE


def _parse_tou(value: Any) -> TouTable:
    return TouTable.parse(value)


def _parse_next(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) - {"table", "switch_at"} \
            or "switch_at" not in value or "table" not in value:
        raise vol.Invalid(Text("dlt645.switch_form", value=show_value(value)))
    when = _parse_time(value["switch_at"])
    if not isinstance(when, datetime):
        raise vol.Invalid(Text("dlt645.switch_now"))
    table = _parse_tou(value["table"])
    # the holidays before the switch day stay the running set's
    table = replace(table, holidays=tuple(h for h in table.holidays if h[0] >= when.date()))
    return {"table": table, "switch_at": when.replace(second=0, microsecond=0)}


def _dump_next(value: Any) -> dict[str, Any]:
    return {"table": value["table"].as_json(), "switch_at": _dump_time(value["switch_at"])}


def _same_next(wanted: Any, actual: Any, elapsed: float) -> bool:
    return isinstance(actual, Mapping) and actual.get("table") == wanted["table"] \
        and actual.get("switch_at") == wanted["switch_at"]


def _dump_tou(value: Any) -> Any:
    return value.as_json()


def writable_params(capabilities: frozenset[Capability], version: str
                    ) -> dict[str, WritableParam]:
    """The parameters of a model with these capabilities (a 1997 model: its clock only)."""
    out: dict[str, WritableParam] = {}
    if Capability.CLOCK in capabilities:
        out["meter_time"] = WritableParam(
            "meter_time", "the meter's clock ('now': the hub's time when sent)",
            _parse_time, _dump_time, same=_same_time)
    if version != "2007":
        return out
    if Capability.TOU in capabilities:
        out["tou"] = WritableParam(
            "tou", "time-of-use table of the running set: zones, day tables, rest days",
            _parse_tou, _dump_tou)
        out["tou_next"] = WritableParam(
            "tou_next", "time-of-use table of the other set and when the meter switches to it",
            _parse_next, _dump_next, same=_same_next)
    for name, plain in PLAIN.items():
        if plain.needs is None or plain.needs in capabilities:
            out[name] = WritableParam(name, plain.description,
                                      _plain_parser(plain.di, plain.low), str, plain.unit)
    return out


# --- TOU tables <-> data identifier values ----------------------------------------------

Write = Callable[[int, Any], Awaitable[None]]  # (di, value)
Read = Callable[[int], Awaitable[Any]]  # (di) -> the decoded value


def _padded(elements: list[str], count: int) -> list[str]:
    return elements + [elements[-1]] * (count - len(elements))


def _unpadded(elements: list[str]) -> list[str]:
    out: list[str] = []
    for element in elements:
        if not out or out[-1] != element:
            out.append(element)
    return out


def _digits(text: str, what: str) -> tuple[int, int, int]:
    if len(text) != 6 or not text.isdigit():
        raise ProtocolError(Text("dlt645.not_bcd", what=what, digits=repr(text)))
    return int(text[:2]), int(text[2:4]), int(text[4:])


async def running_sets(read: Read) -> tuple[int, int]:
    """The (zone set, day-table set) the meter runs now, from status word 3 bits 5 and 0."""
    word = int(await read(DI_STATUS_3))
    return (2 if word >> 5 & 1 else 1), (2 if word & 1 else 1)


Holidays = tuple[tuple[date, int], ...]


async def read_holidays(read: Read) -> Holidays | None:
    """The meter's public-holiday list (公共假日: 04000205 entries 040300nn, YYMMDDNN); None
    when the meter keeps none (it refuses the count)."""
    try:
        count = int(await read(DI_HOLIDAY_COUNT))
    except MeterRefused:
        return None
    if count > MAX_HOLIDAYS:
        raise ProtocolError(Text("dlt645.holidays_held", count=count, limit=MAX_HOLIDAYS))
    out = []
    for n in range(1, count + 1):
        text = str(await read(holiday_di(n)))
        try:
            day = date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
            table = int(text[6:])
        except ValueError:
            raise ProtocolError(Text("dlt645.holiday_bad", n=n, text=repr(text))) from None
        out.append((day, table))
    return tuple(sorted(out))


async def write_holidays(write: Write, holidays: Holidays) -> None:
    """The entries one per identifier, then their count (so a cut-off write lists none
    half-written beyond the old count)."""
    if len(holidays) > MAX_HOLIDAYS:
        raise ProtocolError(Text("dlt645.holidays_max", count=len(holidays),
                                 limit=MAX_HOLIDAYS))
    for n, (day, table) in enumerate(holidays, start=1):
        await write(holiday_di(n), f"{day:%y%m%d}{table:02d}")
    await write(DI_HOLIDAY_COUNT, Decimal(len(holidays)))


async def pending_switch(read: Read) -> date | None:
    """The day the other set takes over, when its switch time is still ahead."""
    switch = switch_time(str(await read(DI_ZONE_SWITCH)))
    return switch.date() if switch is not None and switch > dt_util.now() else None


async def write_running(write: Write, read: Read, table: TouTable) -> None:
    """``tou``: the running set's tables, and the holiday list (entries from a pending
    switch on, which belong to the other set, kept)."""
    zone_set, day_set = await running_sets(read)
    await write_tables(write, read, table, zone_set, day_set)
    current = await read_holidays(read)
    if current is None and not table.holidays:
        return  # a meter without a holiday list, and none to write
    switch = await pending_switch(read)
    kept = () if switch is None else tuple(h for h in current or () if h[0] >= switch)
    await write_holidays(write, tuple(sorted(
        dict((*kept, *table.holidays)).items())))


async def read_running(read: Read) -> TouTable:
    """``tou`` read back: the running set, with the holidays before a pending switch."""
    table = await read_tables(read, *await running_sets(read))
    switch = await pending_switch(read)
    return replace(table, holidays=tuple(h for h in await read_holidays(read) or ()
                                         if switch is None or h[0] < switch))


async def write_tables(write: Write, read: Read, table: TouTable, zone_set: int,
                       day_set: int) -> None:
    """Counts, day tables, zone table and rest days of one set (counts only grow for the
    other set: they are shared)."""
    segments = max(len(segments) for segments in table.tables)
    rates = max(rate for segments in table.tables for _start, rate in segments)
    counts = {DI_ZONE_COUNT: len(table.zones), DI_TABLE_COUNT: len(table.tables),
              DI_SEGMENT_COUNT: segments, DI_RATE_COUNT: max(rates, 4)}
    for di, count in counts.items():
        await write(di, Decimal(count))
    for number, day in enumerate(table.tables, start=1):
        elements = [f"{start // 60:02d}{start % 60:02d}{rate:02d}" for start, rate in day]
        await write(day_table_di(day_set, number), _padded(elements, segments))
    await write(zone_table_di(zone_set), [f"{m:02d}{d:02d}{n:02d}" for m, d, n in table.zones])
    rest_word = 0x7F
    for weekday in table.rest_days if table.rest_table is not None else ():
        rest_word &= ~(1 << weekday)
    await write(DI_REST_WORD, rest_word)
    await write(DI_REST_TABLE, Decimal(table.rest_table or 1))


async def read_tables(read: Read, zone_set: int, day_set: int) -> TouTable:
    """One set's TOU table as the meter holds it (trailing repeats of padding dropped)."""
    zone_count = int(await read(DI_ZONE_COUNT))
    table_count = int(await read(DI_TABLE_COUNT))
    if not 1 <= zone_count <= MAX_ZONES or not 1 <= table_count <= 8:
        raise ProtocolError(Text("dlt645.not_tou", zones=zone_count, tables=table_count))
    raw_zones = _unpadded(list(await read(zone_table_di(zone_set)))[:zone_count])
    zones = tuple(_digits(text, Text("dlt645.zone_table")) for text in raw_zones)
    tables = []
    for number in range(1, table_count + 1):
        raw = _unpadded(list(await read(day_table_di(day_set, number)))[:MAX_SEGMENTS])
        segments = []
        for text in raw:
            hour, minute, rate = _digits(text, Text("dlt645.day_table", number=number))
            segments.append((hour * 60 + minute, rate))
        tables.append(tuple(segments))
    rest_word = int(await read(DI_REST_WORD))
    rest_days = frozenset(day for day in range(7) if not rest_word >> day & 1)
    rest_table = int(await read(DI_REST_TABLE)) if rest_days else None
    try:
        return TouTable(zones, tuple(tables), rest_table, rest_days)
    except vol.Invalid as err:
        raise ProtocolError(Text("dlt645.tou_invalid", reason=text_of(err))) from None


def switch_digits(when: datetime) -> str:
    """YYMMDDhhmm of a switch time."""
    return when.strftime("%y%m%d%H%M")


def switch_time(digits: str) -> datetime | None:
    """The switch time a meter holds (None: all zeros or not a date, i.e. none set)."""
    try:
        naive = datetime.strptime(digits, "%y%m%d%H%M")
    except ValueError:
        return None
    return naive.replace(tzinfo=dt_util.site_time_zone())


async def write_next(write: Write, read: Read, value: Mapping[str, Any]) -> None:
    """The other set's tables, the holiday list (the running set's entries before the
    switch day kept, the other set's from it on), then both switch times."""
    zone_set, day_set = await running_sets(read)
    await write_tables(write, read, value["table"], 3 - zone_set, 3 - day_set)
    switch = value["switch_at"].date()
    current = await read_holidays(read)
    if current is not None or value["table"].holidays:
        kept = tuple(h for h in current or () if h[0] < switch)
        await write_holidays(write, (*kept, *(h for h in value["table"].holidays
                                              if h[0] >= switch)))
    digits = switch_digits(value["switch_at"])
    await write(DI_ZONE_SWITCH, digits)
    await write(DI_DAY_SWITCH, digits)


async def read_next(read: Read) -> dict[str, Any]:
    """The other set's table (with the holidays from the switch day on) and the switch
    time (the zone table's)."""
    zone_set, day_set = await running_sets(read)
    table = await read_tables(read, 3 - zone_set, 3 - day_set)
    switch = switch_time(str(await read(DI_ZONE_SWITCH)))
    if switch is not None:
        table = replace(table, holidays=tuple(h for h in await read_holidays(read) or ()
                                              if h[0] >= switch.date()))
    return {"table": table, "switch_at": switch}
