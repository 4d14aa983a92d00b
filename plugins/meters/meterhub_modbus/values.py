"""Register values: data types, byte/word orders, exact conversion to and from Decimal.

A value of 2 or 4 registers travels as bytes named A (most significant) to D (least):
``ABCD`` is big-endian with the high word first (Eastron, Chint), ``CDAB`` swaps the
words, ``BADC`` swaps the bytes in each word, ``DCBA`` is fully little-endian. 16-bit
values only know the byte swap (``BADC``/``DCBA``). 64-bit values extend the same rule.

Floats become Decimal through their *shortest* decimal text that reads back as the same
float: float32 ``0x43663333`` is 230.1999969… exactly but reads as ``Decimal("230.2")``,
the number the meter meant (its neighbour ``0x43663334`` reads ``230.20001``). Integers
are exact; a scale factor is applied in Decimal.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Final

from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .errors import ModbusError


class DataType(StrEnum):
    """How the registers of one value are to be read."""

    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"

    @property
    def registers(self) -> int:
        """How many 16-bit registers a value of this type takes."""
        return _REGISTERS[self]

    @property
    def is_float(self) -> bool:
        """Whether the type is an IEEE-754 float."""
        return self in (DataType.FLOAT32, DataType.FLOAT64)

    @property
    def signed(self) -> bool:
        """Whether an integer type is signed."""
        return self.value.startswith("int")


class ByteOrder(StrEnum):
    """Where bytes A (most significant) .. D (least) sit on the wire."""

    ABCD = "ABCD"
    CDAB = "CDAB"
    BADC = "BADC"
    DCBA = "DCBA"

    @property
    def word_swap(self) -> bool:
        """Low word first."""
        return self in (ByteOrder.CDAB, ByteOrder.DCBA)

    @property
    def byte_swap(self) -> bool:
        """Low byte first within each word."""
        return self in (ByteOrder.BADC, ByteOrder.DCBA)


_REGISTERS: Final = {
    DataType.INT16: 1, DataType.UINT16: 1, DataType.INT32: 2, DataType.UINT32: 2,
    DataType.INT64: 4, DataType.UINT64: 4, DataType.FLOAT32: 2, DataType.FLOAT64: 4,
}
_FLOAT_FORMAT: Final = {DataType.FLOAT32: ">f", DataType.FLOAT64: ">d"}


def reorder(data: bytes, order: ByteOrder) -> bytes:
    """Convert between wire order and big-endian ABCD (the same swap both ways)."""
    words = [data[i:i + 2] for i in range(0, len(data), 2)]
    if order.byte_swap:
        words = [word[::-1] for word in words]
    if order.word_swap:
        words.reverse()
    return b"".join(words)


def registers_to_bytes(registers: Sequence[int]) -> bytes:
    """Registers as the bytes they were sent as."""
    return b"".join((register & 0xFFFF).to_bytes(2, "big") for register in registers)


def bytes_to_registers(data: bytes) -> list[int]:
    """Bytes (an even number) as 16-bit registers."""
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def _plain(number: Decimal) -> Decimal:
    if number == 0:
        return Decimal(0)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return Decimal(int(number))  # 3E+2 -> 300 (exact at any size)
    return number


def float_to_decimal(raw: bytes) -> Decimal:
    """A big-endian float32/float64 as the shortest Decimal that reads back as it."""
    if len(raw) == 4:
        value = struct.unpack(">f", raw)[0]
    elif len(raw) == 8:
        value = struct.unpack(">d", raw)[0]
    else:
        raise ModbusError(  # i18n: internal (bug check: callers pass 4 or 8 bytes)
            f"a float has 4 or 8 bytes, got {len(raw)}")
    if math.isnan(value):
        raise ModbusError(Text("modbus.nan", raw=raw.hex().upper()))
    if math.isinf(value):
        raise ModbusError(Text("modbus.infinite", raw=raw.hex().upper()))
    if len(raw) == 8:
        return _plain(Decimal(repr(value)))
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.pack(">f", float(text)) == raw:
            return _plain(Decimal(text))
    return _plain(Decimal(repr(value)))  # pragma: no cover - 9 digits always round-trip


def decode_value(registers: Sequence[int], data_type: DataType, order: ByteOrder) -> Decimal:
    """The value held by ``registers`` (exactly ``data_type.registers`` of them)."""
    if len(registers) != data_type.registers:
        raise ModbusError(  # i18n: internal (bug check: the map slices each type's count)
            f"{data_type} takes {data_type.registers} register(s), "
                          f"got {len(registers)}")
    raw = reorder(registers_to_bytes(registers), order)
    if data_type.is_float:
        return float_to_decimal(raw)
    return Decimal(int.from_bytes(raw, "big", signed=data_type.signed))


def integer_range(data_type: DataType) -> tuple[int, int]:
    """The smallest and largest value of an integer type."""
    bits = data_type.registers * 16
    if data_type.signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def encode_value(value: Decimal, data_type: DataType, order: ByteOrder, *,
                 clamp: bool = False) -> list[int]:
    """The registers holding ``value``; integers round half-even.

    Out of range raises ModbusError, or with ``clamp`` saturates (as a meter display does).
    """
    if data_type.is_float:
        number = float(value)
        if data_type is DataType.FLOAT32 and abs(number) > 3.4028234663852886e38:
            if not clamp:
                raise ModbusError(Text("modbus.float32", value=value))
            number = math.copysign(3.4028234663852886e38, number)
        raw = struct.pack(_FLOAT_FORMAT[data_type], number)
    else:
        whole = int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        low, high = integer_range(data_type)
        if not low <= whole <= high:
            if not clamp:
                raise ModbusError(Text("modbus.int_range", value=value, type=data_type, low=low,
                                          high=high))
            whole = min(max(whole, low), high)
        raw = whole.to_bytes(data_type.registers * 2, "big", signed=data_type.signed)
    return bytes_to_registers(reorder(raw, order))
