"""DL/T 645-2007 data identifiers as data: DI -> name (en/zh), format, unit, hub point.

Like dsmr_parser's telegram specifications, a meter generation is a table, not code:
``DATA_ITEMS[0x00010000]`` is forward active energy, total, ``XXXXXX.XX`` kWh, point
``energy_import_total``. DIs are ints written DI3..DI0 as printed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .bcd import (
    ADDRESS_DIGITS,
    BYTE_BITS,
    DATE_WEEK,
    HOLIDAY,
    SWITCH_TIME,
    TIME,
    TOU_SEGMENT,
    TOU_ZONE,
    WORD,
    ValueFormat,
    number,
)
from .errors import Dlt645Error

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DataItem:
    """One data identifier: what it is, how its value is laid out, which point it feeds."""

    di: int
    name_en: str
    name_zh: str
    fmt: ValueFormat
    unit: str = ""
    point: str | None = None  # hub point key for a plain meter (models may map differently)
    count: int = 1  # elements of a block (FF) identifier
    variable: bool = False  # block length depends on the meter (number of tariffs)
    points: tuple[str | None, ...] = ()  # point of each block element
    writable: bool = False
    width: int = 4  # bytes of the DI: 4 in DL/T 645-2007, 2 in DL/T 645-1997

    @property
    def di_text(self) -> str:
        """The DI as printed: ``00010000`` (2007) or ``9010`` (1997)."""
        return f"{self.di:0{2 * self.width}X}"

    @property
    def is_block(self) -> bool:
        """Several values of one format (an FF identifier)."""
        return self.count > 1

    @property
    def size(self) -> int:
        """Bytes of the value (nominal, for variable blocks)."""
        return self.fmt.size * self.count

    def decode(self, raw: bytes) -> Any:
        """Decode the value bytes (after the DI): one value, or a list for a block."""
        fmt = self.fmt
        if self.count == 1:
            if len(raw) != fmt.size:
                raise Dlt645Error(f"DI {self.di_text} needs {fmt.size} value bytes, "
                                  f"got {len(raw)}")
            return fmt.decode(raw)
        step = fmt.size
        if self.variable:
            if not raw or len(raw) % step:
                raise Dlt645Error(f"DI {self.di_text} needs a multiple of {step} value bytes, "
                                  f"got {len(raw)}")
        elif len(raw) != step * self.count:
            raise Dlt645Error(f"DI {self.di_text} needs {step * self.count} value bytes, "
                              f"got {len(raw)}")
        return [fmt.decode(raw[k:k + step]) for k in range(0, len(raw), step)]

    def encode(self, value: Any) -> bytes:
        """Encode one value, or a list of values for a block."""
        if self.count == 1:
            return self.fmt.encode(value)
        if not isinstance(value, list | tuple):
            raise Dlt645Error(f"DI {self.di_text} is a block: expected a list of values")
        if (len(value) != self.count) if not self.variable else not value:
            raise Dlt645Error(f"DI {self.di_text} holds {self.count} values, got {len(value)}")
        return b"".join(self.fmt.encode(v) for v in value)

    def render(self, value: Any) -> Any:
        """Exact text for a decoded value (a list of texts for a block)."""
        if isinstance(value, list):
            return [self.fmt.render(v) for v in value]
        return self.fmt.render(value)


DATA_ITEMS: dict[int, DataItem] = {}


def _add(item: DataItem) -> None:
    if item.di in DATA_ITEMS:
        raise ValueError(f"DI {item.di:08X} defined twice")
    DATA_ITEMS[item.di] = item


def add_data_item(data_item: DataItem) -> DataItem:
    """Add a vendor-specific data identifier to the table, before a model's point table
    names it; adding the same item again is harmless, another item for a taken DI is a
    ValueError."""
    if DATA_ITEMS.get(data_item.di) == data_item:
        return data_item
    _add(data_item)
    return data_item


def item(di: int) -> DataItem:
    """The table entry of a DI; ``Dlt645Error('unknown DI 0x...')`` if there is none."""
    try:
        return DATA_ITEMS[di]
    except KeyError:
        raise Dlt645Error(f"unknown DI 0x{di:08X}") from None


def decode_value(di: int, raw: bytes) -> Any:
    """Decode the value bytes of a DI."""
    return item(di).decode(raw)


def items() -> Iterator[DataItem]:
    """Every known DI."""
    return iter(DATA_ITEMS.values())


# --- energy (00...) ---------------------------------------------------------------------

_key: str | None
_prefix: str | None

ENERGY = number("XXXXXX.XX")
ENERGY_SIGNED = number("XXXXXX.XX", signed=True)
_TARIFFS = ((1, "sharp", "尖", "t1"), (2, "peak", "峰", "t2"), (3, "flat", "平", "t3"),
            (4, "valley", "谷", "t4"))
_ENERGY_KINDS: tuple[tuple[int, str, str, str, bool, str | None], ...] = (
    (0x00, "combined active energy", "组合有功", "kWh", True, "energy_combined"),
    (0x01, "forward active energy", "正向有功", "kWh", False, "energy_import"),
    (0x02, "reverse active energy", "反向有功", "kWh", False, "energy_export"),
    (0x03, "combined reactive energy 1", "组合无功1", "kvarh", True, None),
    (0x04, "combined reactive energy 2", "组合无功2", "kvarh", True, None),
)


def _settlement(n: int) -> tuple[str, str]:
    if n == 0:
        return "", ""
    return f", settlement {n} back", f"（上{n}结算日）"


for _kind, _en, _zh, _unit, _signed, _prefix in _ENERGY_KINDS:
    _fmt = ENERGY_SIGNED if _signed else ENERGY
    for _back in range(13):
        _when_en, _when_zh = _settlement(_back)
        _live = _back == 0 and _prefix is not None
        _add(DataItem((_kind << 16) | _back, f"{_en}, total{_when_en}", f"{_zh}总电能{_when_zh}",
                      _fmt, _unit, f"{_prefix}_total" if _live else None))
        for _t, _ten, _tzh, _key in _TARIFFS:
            _add(DataItem((_kind << 16) | (_t << 8) | _back,
                          f"{_en}, tariff {_t} ({_ten}){_when_en}",
                          f"{_zh}{_tzh}电能{_when_zh}", _fmt, _unit,
                          f"{_prefix}_{_key}" if _live else None))
        _add(DataItem((_kind << 16) | 0xFF00 | _back, f"{_en}, total and tariffs{_when_en}",
                      f"{_zh}电能数据块{_when_zh}", _fmt, _unit, None, count=5, variable=True,
                      points=tuple(f"{_prefix}_{k}" for k in ("total", "t1", "t2", "t3", "t4"))
                      if _live else ()))

# --- instantaneous (02...) --------------------------------------------------------------

_PHASES = ((1, "A", "a"), (2, "B", "b"), (3, "C", "c"))
VOLTAGE = number("XXX.X")
CURRENT = number("XXX.XXX", signed=True)
POWER = number("XX.XXXX", signed=True)
APPARENT = number("XX.XXXX")
POWER_FACTOR = number("X.XXX", signed=True)
ANGLE = number("XXX.X")

_INSTANT: tuple[tuple[int, str, str, ValueFormat, str, str | None, bool], ...] = (
    (0x01, "voltage", "电压", VOLTAGE, "V", "voltage", False),
    (0x02, "current", "电流", CURRENT, "A", "current", False),
    (0x03, "active power", "有功功率", POWER, "kW", "power", True),
    (0x04, "reactive power", "无功功率", POWER, "kvar", None, True),
    (0x05, "apparent power", "视在功率", APPARENT, "kVA", None, True),
    (0x06, "power factor", "功率因数", POWER_FACTOR, "", "power_factor", True),
    (0x07, "phase angle", "相角", ANGLE, "°", None, False),
)
for _code, _en, _zh, _fmt, _unit, _key, _total in _INSTANT:
    _base = 0x02000000 | (_code << 16)
    if _total:
        _add(DataItem(_base, f"{_en}, total", f"总{_zh}", _fmt, _unit, _key))
    for _n, _ph, _p in _PHASES:
        _add(DataItem(_base | (_n << 8), f"{_en}, phase {_ph}", f"{_ph}相{_zh}", _fmt, _unit,
                      f"{_key}_{_p}" if _key else None))
    _block_points: tuple[str | None, ...] = (
        ((_key,) if _total else ()) + tuple(f"{_key}_{p}" for _n, _ph, p in _PHASES)
        if _key else ())
    _add(DataItem(_base | 0xFF00, f"{_en} block" + (" (total, A, B, C)" if _total else
                                                     " (A, B, C)"),
                  f"{_zh}数据块", _fmt, _unit, None, count=4 if _total else 3,
                  points=_block_points))

_MISC: tuple[tuple[int, str, str, ValueFormat, str, str | None], ...] = (
    (0x02800001, "neutral current", "零线电流", CURRENT, "A", None),
    (0x02800002, "grid frequency", "电网频率", number("XX.XX"), "Hz", "frequency"),
    (0x02800003, "one-minute average active power", "一分钟有功总平均功率", POWER, "kW", None),
    (0x02800004, "current active demand", "当前有功需量", POWER, "kW", None),
    (0x02800007, "meter internal temperature", "表内温度", number("XXX.X", signed=True), "°C",
     None),
    (0x02800008, "clock battery voltage", "时钟电池电压", number("XX.XX"), "V",
     "battery_voltage"),
    (0x0280000A, "internal battery working time", "内部电池工作时间", number("XXXXXXXX"), "min",
     None),
    (0x02800020, "current electricity price", "当前电价", number("XXXX.XXXX"), "CNY/kWh", None),
    (0x02800021, "current tariff price", "当前费率电价", number("XXXX.XXXX"), "CNY/kWh", None),
    (0x02800022, "current step price", "当前阶梯电价", number("XXXX.XXXX"), "CNY/kWh", None),
)
for _di, _en, _zh, _fmt, _unit, _key in _MISC:
    _add(DataItem(_di, _en, _zh, _fmt, _unit, _key))

# --- parameters (04...) -----------------------------------------------------------------

DI_DATE = 0x04000101
DI_TIME = 0x04000102
DI_STATUS_BLOCK = 0x040005FF
STATUS_WORD_DIS = tuple(0x04000500 + n for n in range(1, 8))
MONEY = number("XXXXXX.XX")
PRICE = number("XXXX.XXXX")

_add(DataItem(DI_DATE, "date and weekday", "日期及星期", DATE_WEEK, writable=True))
_add(DataItem(DI_TIME, "time", "时间", TIME, writable=True))
_add(DataItem(0x04000401, "communication address", "通信地址", ADDRESS_DIGITS, writable=True))
_add(DataItem(0x04000402, "meter number", "表号", ADDRESS_DIGITS, writable=True))
_add(DataItem(0x0400040E, "customer number", "客户编号", ADDRESS_DIGITS, writable=True))
for _n, _di in enumerate(STATUS_WORD_DIS, start=1):
    _add(DataItem(_di, f"run status word {_n}", f"电表运行状态字{_n}", WORD,
                  point=f"status_word_{_n}"))
_add(DataItem(DI_STATUS_BLOCK, "run status words 1..7", "电表运行状态字数据块", WORD, count=7,
              points=tuple(f"status_word_{n}" for n in range(1, 8))))
_add(DataItem(0x04000703, "RS-485 port 1 baud feature word", "第一路485通信速率特征字",
              BYTE_BITS, writable=True))
for _di, _en, _zh, _fmt, _unit in (
    (0x04000F01, "alarm energy 1 limit", "报警电量1限值", ENERGY, "kWh"),
    (0x04000F02, "alarm energy 2 limit", "报警电量2限值", ENERGY, "kWh"),
    (0x04000F04, "overdraft energy limit", "透支电量限值", ENERGY, "kWh"),
    (0x04001001, "alarm amount 1 limit", "报警金额1限值", MONEY, "CNY"),
    (0x04001002, "alarm amount 2 limit", "报警金额2限值", MONEY, "CNY"),
    (0x04001003, "overdraft amount limit", "透支金额限值", MONEY, "CNY"),
    (0x04001004, "hoarding (maximum balance) limit", "囤积金额限值", MONEY, "CNY"),
    (0x04001005, "close-allowed amount limit", "合闸允许金额限值", MONEY, "CNY"),
    *((0x04050100 + _t, f"tariff price {_t} ({_ten})", f"费率电价{_t}（{_tzh}）", PRICE,
       "CNY/kWh") for _t, _ten, _tzh, _key in _TARIFFS),
):
    _add(DataItem(_di, _en, _zh, _fmt, _unit, writable=True))

# Time-of-use tables (DL/T 645-2007 appendix A, 0400 01xx..0402 00xx): two sets of yearly
# zones (MMDDNN: start month-day, day table number) and of day tables (hhmmNN: start time,
# rate), the time each set takes over from the other, the counts, and rest days.
DI_ZONE_SWITCH = 0x04000106
DI_DAY_SWITCH = 0x04000107
DI_ZONE_COUNT = 0x04000201
DI_TABLE_COUNT = 0x04000202
DI_SEGMENT_COUNT = 0x04000203
DI_RATE_COUNT = 0x04000204
DI_REST_WORD = 0x04000801
DI_REST_TABLE = 0x04000802
DI_HOLIDAY_COUNT = 0x04000205
DI_OVER_CURRENT = 0x04090801
DI_OVER_CURRENT_DELAY = 0x04090802
TOU_ELEMENTS = 14
HOLIDAYS = 254  # n <= 254 public holidays (公共假日数)


def zone_table_di(tou_set: int) -> int:
    """The zone table (时区表) of set 1 or 2: 04010000, 04020000."""
    return 0x04000000 | tou_set << 16


def day_table_di(tou_set: int, table: int) -> int:
    """Day table 1..8 (日时段表) of set 1 or 2: 04010001..04010008, 04020001..."""
    return 0x04000000 | tou_set << 16 | table


def holiday_di(n: int) -> int:
    """Public holiday n (1..254) with its day table (公共假日): 04030001..040300FE."""
    return 0x04030000 | n


for _di, _en, _zh, _fmt, _unit in (
    (DI_ZONE_SWITCH, "switch time of the two zone-table sets", "两套时区表切换时间", SWITCH_TIME,
     ""),
    (DI_DAY_SWITCH, "switch time of the two day-table sets", "两套日时段表切换时间", SWITCH_TIME,
     ""),
    (DI_ZONE_COUNT, "yearly zones (p <= 14)", "年时区数", number("NN"), ""),
    (DI_TABLE_COUNT, "day tables (q <= 8)", "日时段表数", number("NN"), ""),
    (DI_SEGMENT_COUNT, "day segments (m <= 14)", "日时段数", number("NN"), ""),
    (DI_RATE_COUNT, "rates (k <= 63)", "费率数", number("NN"), ""),
    (DI_HOLIDAY_COUNT, "public holidays (n <= 254)", "公共假日数", number("NNNN"), ""),
    (DI_REST_WORD, "rest-day word (bit 0 Sunday .. bit 6 Saturday, 0 = rest)", "周休日特征字",
     BYTE_BITS, ""),
    (DI_REST_TABLE, "day table of rest days", "周休日采用的日时段表号", number("NN"), ""),
    (0x04000306, "current transformer ratio", "电流互感器变比", number("XXXXXX"), ""),
    (0x04000307, "voltage transformer ratio", "电压互感器变比", number("XXXXXX"), ""),
    (0x04000E01, "forward active power upper limit", "正向有功功率上限值", number("XX.XXXX"),
     "kW"),
    (0x04000E02, "reverse active power upper limit", "反向有功功率上限值", number("XX.XXXX"),
     "kW"),
    (0x04000E03, "voltage upper limit", "电压上限值", number("XXX.X"), "V"),
    (0x04000E04, "voltage lower limit", "电压下限值", number("XXX.X"), "V"),
    # event judgement thresholds (事件判定参数, 0409xxxx): as in public State Grid smart-meter
    # firmware parameter tables (2 bytes NNN.N A, 1 byte NN s)
    (DI_OVER_CURRENT, "over-current event: current trigger lower limit", "过流事件电流触发下限",
     number("XXX.X"), "A"),
    (DI_OVER_CURRENT_DELAY, "over-current event: judgement delay", "过流事件判定延时时间",
     number("NN"), "s"),
):
    _add(DataItem(_di, _en, _zh, _fmt, _unit, writable=True))
for _n in range(1, HOLIDAYS + 1):
    _add(DataItem(holiday_di(_n), f"public holiday {_n}: date and day table",
                  f"第{_n}公共假日日期及日时段表号", HOLIDAY, writable=True))
for _set, _en_set, _zh_set in ((1, "first", "第一套"), (2, "second", "第二套")):
    _add(DataItem(zone_table_di(_set), f"{_en_set} set: yearly zone table",
                  f"{_zh_set}时区表数据", TOU_ZONE, count=TOU_ELEMENTS, variable=True,
                  writable=True))
    for _table in range(1, 9):
        _add(DataItem(day_table_di(_set, _table), f"{_en_set} set: day table {_table}",
                      f"{_zh_set}第{_table}日时段表数据", TOU_SEGMENT, count=TOU_ELEMENTS,
                      variable=True, writable=True))

# --- prepaid balances (0090..., 033...) -------------------------------------------------

DI_BALANCE = 0x00900200
DI_OVERDRAFT = 0x00900201

_PREPAID: tuple[tuple[int, str, str, ValueFormat, str, str | None], ...] = (
    (0x00900100, "remaining energy", "剩余电量", ENERGY, "kWh", None),
    (0x00900101, "overdraft energy", "透支电量", ENERGY, "kWh", None),
    (DI_BALANCE, "remaining amount", "剩余金额", MONEY, "CNY", "balance"),
    (DI_OVERDRAFT, "overdraft amount", "透支金额", MONEY, "CNY", "overdraft"),
    (0x03330201, "purchase count after the last purchase", "上1次购电后总购电次数",
     number("NNNN"), "", None),
    (0x03330601, "accumulated purchase amount after the last purchase",
     "上1次购电后累计购电金额", MONEY, "CNY", None),
    (0x03320601, "accumulated purchased energy after the last purchase",
     "上1次购电后累计购电量", ENERGY, "kWh", None),
)
for _di, _en, _zh, _fmt, _unit, _key in _PREPAID:
    _add(DataItem(_di, _en, _zh, _fmt, _unit, _key))

# --- daily frozen data (0506...): the time of each of the last 62 daily freezes and the
# forward active energy (total, T1..T4) frozen then; n = 1 is the newest

DAILY_FROZEN_RECORDS = 62


def frozen_time_di(n: int) -> int:
    """上n次日冻结时间 (YYMMDDhhmm): 05060001..0506003E."""
    return 0x05060000 | n


def frozen_energy_di(n: int) -> int:
    """上n次日冻结正向有功电能数据 (total, T1..T4): 05060101..0506013E."""
    return 0x05060100 | n


for _n in range(1, DAILY_FROZEN_RECORDS + 1):
    _add(DataItem(frozen_time_di(_n), f"daily freeze {_n} back: time",
                  f"上{_n}次日冻结时间", SWITCH_TIME))
    _add(DataItem(frozen_energy_di(_n), f"daily freeze {_n} back: forward active energy "
                                        f"(total, T1..T4)", f"上{_n}次日冻结正向有功电能数据",
                  ENERGY, "kWh", count=5, variable=True))
