"""DL/T 645-1997: control codes, 2-byte data identifiers and frames, as pure functions.

The frame is the 2007 one (``68 A0..A5 68 C L DATA CS 16``, +0x33 on DATA, same checksum),
so :class:`~meterhub_dlt645.codec.Frame` and the stream parser serve both. What differs:
the function codes (read 01/81/C1, follow-up 02, write 04, write address 0A, change baud
0C, change password 0F), 2-byte data identifiers written DI1 DI0 (``9010``) and sent DI0
first, a 4-byte password (level + 3 bytes) and no operator code, and the ERR bits.

Sources (also named in docs/metering.md and the test vectors): the DL/T 645-1997 text as
published at renrendoc.com/p-9959533.html and a vendor copy of it
(zixin.com.cn/doc/5601037.html: control-code bits, L limits, broadcast address); the
1997 data identifier list of a vendor manual (qq94.com/fjx/R6vug1_3.html: 9010..901F,
C010 YYMMDDWW, C011 hhmmss, C030 constant, C032 meter number, change password 0F with
PA0 P00 P10 P20 + PAN P0N P1N P2N); the 1997 -> 2007 DI map of coyool/XXOO_000
``dd645_2007.c``; the 1997 codes and ERR bits 10/20/40 of WKJay/DLT645
``inc/dlt645_1997_private.h`` and its value scaling (B611 XXX V, B621 XX.XX A,
B630 XX.XXXX kW) in ``src/dlt645_1997.c``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum

from .bcd import ADDRESS_DIGITS, BYTE_BITS, DATE_WEEK, TIME, Kind, ValueFormat, number
from .codec import encode_address, encode_frame, error_reasons, reply_control
from .const import BAUD_WORD, BROADCAST
from .dis import DataItem
from .errors import Dlt645Error

_LOGGER = logging.getLogger(__name__)

VERSION = "1997"
MAX_READ_DATA = 200  # L of a read reply
MAX_WRITE_DATA = 50  # L of a write request
DI_SIZE = 2
PASSWORD_SIZE = 4  # PA P0 P1 P2


class Function1997(IntEnum):
    """Function codes (control byte D4..D0) of DL/T 645-1997."""

    READ = 0x01
    READ_FOLLOW_UP = 0x02
    REREAD = 0x03
    WRITE = 0x04
    BROADCAST_TIME = 0x08
    WRITE_ADDRESS = 0x0A
    CHANGE_BAUD = 0x0C
    CHANGE_PASSWORD = 0x0F
    DEMAND_CLEAR = 0x10


FUNCTION_NAMES_1997: dict[int, tuple[str, str]] = {
    Function1997.READ: ("read data", "读数据"),
    Function1997.READ_FOLLOW_UP: ("read follow-up data", "读后续数据"),
    Function1997.REREAD: ("re-read data", "重读数据"),
    Function1997.WRITE: ("write data", "写数据"),
    Function1997.BROADCAST_TIME: ("broadcast time sync", "广播校时"),
    Function1997.WRITE_ADDRESS: ("write device address", "写设备地址"),
    Function1997.CHANGE_BAUD: ("change baud rate", "更改通信速率"),
    Function1997.CHANGE_PASSWORD: ("change password", "修改密码"),
    Function1997.DEMAND_CLEAR: ("maximum demand clear", "最大需量清零"),
}

# Function codes only DL/T 645-1997 uses (03 is 2007's security command, 08 is shared).
ONLY_1997 = frozenset((Function1997.READ, Function1997.READ_FOLLOW_UP, Function1997.WRITE,
                       Function1997.WRITE_ADDRESS, Function1997.CHANGE_BAUD,
                       Function1997.CHANGE_PASSWORD, Function1997.DEMAND_CLEAR))

# ERR byte of a 1997 abnormal reply (C1, C4...): bit -> (en, zh).
ERROR_BITS_1997: tuple[tuple[int, str, str], ...] = (
    (0x01, "illegal data", "非法数据"),
    (0x02, "wrong data identifier", "数据标识错"),
    (0x04, "wrong password", "密码错"),
    (0x08, "reserved error bit 3", "保留错误位3"),
    (0x10, "year time-zone count exceeded", "年时区数超"),
    (0x20, "daily time-segment count exceeded", "日时段数超"),
    (0x40, "tariff count exceeded", "费率数超"),
    (0x80, "reserved error bit 7", "保留错误位7"),
)
ERR_ILLEGAL_DATA = 0x01
ERR_WRONG_DI = 0x02
ERR_PASSWORD = 0x04


def error_reasons_1997(code: int, language: str = "en") -> list[str]:
    """Readable reasons for the bits set in a 1997 ERR byte (``en`` or ``zh-CN``)."""
    return error_reasons(code, language, ERROR_BITS_1997)


# --- data identifiers ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item1997:
    """A 1997 data identifier and the 2007 one that carries the same quantity."""

    item: DataItem
    di2007: int | None  # None: no 2007 equivalent the simulator computes


ITEMS_1997: dict[int, Item1997] = {}


def _add(di: int, en: str, zh: str, fmt: ValueFormat, unit: str = "", point: str | None = None,
         di2007: int | None = None, writable: bool = False,
         block: tuple[str | None, ...] = ()) -> None:
    if di in ITEMS_1997:
        raise ValueError(  # i18n: internal (the DI table built at import: a duplicate is a bug)
            f"DI {di:04X} defined twice")
    ITEMS_1997[di] = Item1997(DataItem(di, en, zh, fmt, unit, point, count=len(block) or 1,
                                       variable=bool(block), points=block, writable=writable,
                                       width=DI_SIZE), di2007)


ENERGY = number("XXXXXX.XX")
VOLTAGE = ValueFormat(Kind.NUMBER, 2, 0, False, "XXX")  # whole volts in 2 bytes
CURRENT = number("XX.XX")
POWER = number("XX.XXXX")
REACTIVE = number("XX.XX")
POWER_FACTOR = number("X.XXX")
CONSTANT = number("XXXXXX")

_TARIFFS = ((1, "sharp", "尖", "t1"), (2, "peak", "峰", "t2"), (3, "flat", "平", "t3"),
            (4, "valley", "谷", "t4"))
for _base, _en, _zh, _prefix, _kind in (
        (0x9010, "forward active energy", "正向有功", "energy_import", 0x01),
        (0x9020, "reverse active energy", "反向有功", "energy_export", 0x02)):
    _add(_base, f"{_en}, total", f"{_zh}总电能", ENERGY, "kWh", f"{_prefix}_total",
         _kind << 16)
    for _t, _ten, _tzh, _key in _TARIFFS:
        _add(_base + _t, f"{_en}, tariff {_t} ({_ten})", f"{_zh}{_tzh}电能", ENERGY, "kWh",
             f"{_prefix}_{_key}", _kind << 16 | _t << 8)
    _add(_base + 0xF, f"{_en}, total and tariffs", f"{_zh}电能数据块", ENERGY, "kWh", None,
         _kind << 16 | 0xFF00,
         block=tuple(f"{_prefix}_{k}" for k in ("total", "t1", "t2", "t3", "t4")))
for _t, _name, _zh in ((0, "total", "总"), *((n, f"tariff {n} ({en})", zh)
                                             for n, en, zh, _k in _TARIFFS)):
    _add(0x9110 + _t, f"forward reactive energy, {_name}", f"正向无功{_zh}电能",
         number("XXXXXX.XX"), "kvarh", None, 0x00030000 | _t << 8)
    _add(0x9410 + _t, f"forward active energy, {_name}, last month",
         f"上月正向有功{_zh}电能", ENERGY, "kWh", None, 0x00010001 | _t << 8)
_PHASES = ((1, "A", "a"), (2, "B", "b"), (3, "C", "c"))
for _n, _ph, _p in _PHASES:
    _add(0xB610 + _n, f"voltage, phase {_ph}", f"{_ph}相电压", VOLTAGE, "V", f"voltage_{_p}",
         0x02010000 | _n << 8)
    _add(0xB620 + _n, f"current, phase {_ph}", f"{_ph}相电流", CURRENT, "A", f"current_{_p}",
         0x02020000 | _n << 8)
    _add(0xB630 + _n, f"active power, phase {_ph}", f"{_ph}相有功功率", POWER, "kW",
         f"power_{_p}", 0x02030000 | _n << 8)
    _add(0xB640 + _n, f"reactive power, phase {_ph}", f"{_ph}相无功功率", REACTIVE, "kvar",
         None, 0x02040000 | _n << 8)
    _add(0xB650 + _n, f"power factor, phase {_ph}", f"{_ph}相功率因数", POWER_FACTOR, "",
         f"power_factor_{_p}", 0x02060000 | _n << 8)
_add(0xB630, "active power, total", "瞬时有功功率", POWER, "kW", "power", 0x02030000)
_add(0xB640, "reactive power, total", "瞬时无功功率", REACTIVE, "kvar", None, 0x02040000)
_add(0xB650, "power factor, total", "总功率因数", POWER_FACTOR, "", "power_factor", 0x02060000)

DI_DATE = 0xC010
DI_TIME = 0xC011
DI_STATUS = 0xC020
DI_CONSTANT = 0xC030
DI_METER_NUMBER = 0xC032
_add(DI_DATE, "date and weekday", "日期及周次", DATE_WEEK, writable=True, di2007=0x04000101)
_add(DI_TIME, "time", "时间", TIME, writable=True, di2007=0x04000102)
_add(DI_STATUS, "meter run status word", "电表运行状态字", BYTE_BITS)
_add(DI_CONSTANT, "meter constant (active)", "电表常数（有功）", CONSTANT, "imp/kWh",
     writable=True)
_add(0xC031, "meter constant (reactive)", "电表常数（无功）", CONSTANT, "imp/kvarh",
     writable=True)
_add(DI_METER_NUMBER, "meter number", "表号", ADDRESS_DIGITS, writable=True, di2007=0x04000402)
_add(0xC033, "customer number", "用户号", ADDRESS_DIGITS, writable=True, di2007=0x0400040E)
_add(0xC034, "device code", "设备码", ADDRESS_DIGITS, writable=True)


def item_1997(di: int) -> DataItem:
    """The table entry of a 1997 DI; ``Dlt645Error('unknown DI 9999')`` if there is none."""
    try:
        return ITEMS_1997[di].item
    except KeyError:
        raise Dlt645Error(  # i18n: internal (1997 codec, as protocol1997.py: wire terms)
            f"unknown DL/T 645-1997 DI {di:04X}") from None


def parse_di_1997(value: object) -> int:
    """A 1997 DI as printed (``9010``, ``0xB611``) or an int; DI1 first."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF:
        return value
    if isinstance(value, str):
        text = value.strip().upper().removeprefix("0X")
        if len(text) == 4 and all(c in "0123456789ABCDEF" for c in text):
            return int(text, 16)
    raise Dlt645Error(  # i18n: internal (1997 codec, as protocol1997.py: wire terms)
        f"expected a DL/T 645-1997 DI of 4 hex digits like 9010, got {value!r}")


def di_bytes_1997(di: int) -> bytes:
    """A 1997 DI in wire order (DI0 first), before the offset."""
    return di.to_bytes(DI_SIZE, "little")


# --- requests ---------------------------------------------------------------------------


def encode_password(level: int, password: str) -> bytes:
    """PA P0 P1 P2: level, then the 6-digit password low byte first (before the offset)."""
    if not 0 <= level <= 0xFF:
        raise Dlt645Error(  # i18n: internal (bug check: the options schema checked the level)
            f"password level must be one byte, got {level}")
    if len(password) != 6 or not password.isdigit() or not password.isascii():
        raise Dlt645Error(  # i18n: internal (bug check: the options schema checked the password)
            "expected a password of 6 decimal digits")
    return bytes((level,)) + bytes.fromhex(password)[::-1]


def decode_password(raw: bytes) -> tuple[int, str]:
    """(level, password) from PA P0 P1 P2."""
    if len(raw) != PASSWORD_SIZE:
        raise Dlt645Error(  # i18n: internal (1997 codec, as protocol1997.py: wire terms)
            f"a password is {PASSWORD_SIZE} bytes, got {len(raw)}")
    return raw[0], raw[3:0:-1].hex().upper()


def read_request_1997(address: str, di: int) -> bytes:
    """01 read of one 2-byte DI."""
    return encode_frame(address, Function1997.READ, di_bytes_1997(di))


def follow_up_request_1997(address: str, di: int) -> bytes:
    """02 read of the next follow-up frame of ``di``."""
    return encode_frame(address, Function1997.READ_FOLLOW_UP, di_bytes_1997(di))


def write_request_1997(address: str, di: int, value: bytes, level: int,
                       password: str) -> bytes:
    """04 write: DI, PA P0 P1 P2, value (L at most 50)."""
    data = di_bytes_1997(di) + encode_password(level, password) + value
    if len(data) > MAX_WRITE_DATA:
        raise Dlt645Error(  # i18n: internal (1997 codec, as protocol1997.py: wire terms)
            f"a DL/T 645-1997 write carries at most {MAX_WRITE_DATA} data "
                          f"bytes, got {len(data)}")
    return encode_frame(address, Function1997.WRITE, data)


def write_address_request_1997(new_address: str, address: str = BROADCAST) -> bytes:
    """0A write of the device address: the new 6-byte address as data."""
    return encode_frame(address, Function1997.WRITE_ADDRESS, encode_address(new_address))


def change_baud_request_1997(address: str, baud: int) -> bytes:
    """0C change of the communication rate (feature word Z, one bit set)."""
    if baud not in BAUD_WORD or baud > 9600:
        raise Dlt645Error(  # i18n: internal (1997 codec, as protocol1997.py: wire terms)
            f"expected a baud rate of 600, 1200, 2400, 4800 or 9600, "
                          f"got {baud!r}")
    return encode_frame(address, Function1997.CHANGE_BAUD, bytes((BAUD_WORD[baud],)))


def change_password_request_1997(address: str, level: int, password: str, new_level: int,
                                 new_password: str) -> bytes:
    """0F change of password: PA0 P00 P10 P20 (current) + PAN P0N P1N P2N (new)."""
    return encode_frame(address, Function1997.CHANGE_PASSWORD,
                        encode_password(level, password)
                        + encode_password(new_level, new_password))


# --- replies (used by the simulator) ----------------------------------------------------


def read_reply_1997(address: str, di: int, value: bytes, *, function: int = Function1997.READ,
                    follow_up: bool = False) -> bytes:
    """81 (A1 with follow-up frames; 82/A2 for a follow-up read) reply: DI + value."""
    return encode_frame(address, reply_control(function, follow_up=follow_up),
                        di_bytes_1997(di) + value)
