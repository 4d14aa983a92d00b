"""Register values: byte/word orders, exact Decimal conversion, float shortest text."""

from __future__ import annotations

import struct
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub_modbus.errors import ModbusError
from meterhub_modbus.regmap import RegisterPoint
from meterhub_modbus.values import (
    ByteOrder,
    DataType,
    decode_value,
    encode_value,
    float_to_decimal,
    integer_range,
)

INTEGER_TYPES = [t for t in DataType if not t.is_float]


@pytest.mark.parametrize(("order", "registers"), [
    (ByteOrder.ABCD, [0x1122, 0x3344]),
    (ByteOrder.CDAB, [0x3344, 0x1122]),
    (ByteOrder.BADC, [0x2211, 0x4433]),
    (ByteOrder.DCBA, [0x4433, 0x2211]),
])
def test_32_bit_orders(order: ByteOrder, registers: list[int]) -> None:
    """The same value 0x11223344 as each byte/word order puts it on the wire."""
    assert decode_value(registers, DataType.UINT32, order) == Decimal(0x11223344)
    assert encode_value(Decimal(0x11223344), DataType.UINT32, order) == registers


@pytest.mark.parametrize(("order", "registers"), [
    (ByteOrder.ABCD, [0x1122, 0x3344, 0x5566, 0x7788]),
    (ByteOrder.CDAB, [0x7788, 0x5566, 0x3344, 0x1122]),
    (ByteOrder.BADC, [0x2211, 0x4433, 0x6655, 0x8877]),
    (ByteOrder.DCBA, [0x8877, 0x6655, 0x4433, 0x2211]),
])
def test_64_bit_orders(order: ByteOrder, registers: list[int]) -> None:
    """64-bit values follow the same rule: words reversed, bytes swapped."""
    assert decode_value(registers, DataType.UINT64, order) == Decimal(0x1122334455667788)


def test_16_bit_values_know_only_the_byte_swap() -> None:
    """int16 and uint16: BADC/DCBA swap the two bytes, CDAB changes nothing."""
    assert decode_value([0x1234], DataType.UINT16, ByteOrder.CDAB) == Decimal(0x1234)
    assert decode_value([0x3412], DataType.UINT16, ByteOrder.BADC) == Decimal(0x1234)
    assert decode_value([0xFFFE], DataType.INT16, ByteOrder.ABCD) == Decimal(-2)


def test_float_word_swap() -> None:
    """230.0 V word-swapped (CDAB) as some meters send it."""
    assert decode_value([0x0000, 0x4366], DataType.FLOAT32, ByteOrder.CDAB) == Decimal("230")


@pytest.mark.parametrize(("value", "text"), [
    (0.1, "0.1"), (230.2, "230.2"), (49.98, "49.98"), (1e-05, "0.00001"),
    (3.0e38, "300000000000000000000000000000000000000"), (-0.0, "0"), (-1.5, "-1.5"),
])
def test_float32_shortest_text(value: float, text: str) -> None:
    """A float32 becomes the shortest decimal that reads back as the same float32."""
    raw = struct.pack(">f", value)
    assert str(float_to_decimal(raw)) == text


def test_float64_shortest_text() -> None:
    """A float64 becomes its repr as a Decimal."""
    assert float_to_decimal(struct.pack(">d", 0.1)) == Decimal("0.1")


@pytest.mark.parametrize("raw", ["7FC00000", "7F800000", "FF800000"])
def test_nan_and_infinity_are_errors(raw: str) -> None:
    """A meter's NaN or infinity is not a reading."""
    with pytest.raises(ModbusError):
        float_to_decimal(bytes.fromhex(raw))


def test_wrong_register_count_is_an_error() -> None:
    """A float32 needs two registers."""
    with pytest.raises(ModbusError, match="2 register"):
        decode_value([1], DataType.FLOAT32, ByteOrder.ABCD)


def test_integer_out_of_range() -> None:
    """Too large for the type: an error, or saturated with clamp."""
    with pytest.raises(ModbusError, match="does not fit uint16"):
        encode_value(Decimal(70000), DataType.UINT16, ByteOrder.ABCD)
    assert encode_value(Decimal(70000), DataType.UINT16, ByteOrder.ABCD, clamp=True) == [0xFFFF]
    assert encode_value(Decimal(-5), DataType.UINT32, ByteOrder.ABCD, clamp=True) == [0, 0]


def test_scaled_integers_are_exact() -> None:
    """raw × scale in Decimal, then the unit to the hub's: no binary float anywhere."""
    energy = RegisterPoint("energy_import_total", 3, 0, DataType.UINT32,
                           scale=Decimal("0.01"), unit="kWh")
    assert energy.decode([0x0001, 0xE240]) == Decimal("1234.56")
    power = RegisterPoint("power", 3, 0, DataType.INT16, unit="W", factor=Decimal("0.001"))
    assert power.decode([0xFB64]) == Decimal("-1.180")
    assert power.encode(Decimal("-1.18")) == [0xFB64]
    watt_hours = RegisterPoint("energy_import_total", 4, 0, DataType.FLOAT32, unit="Wh",
                               factor=Decimal("0.001"))
    assert watt_hours.decode(encode_value(Decimal(1500), DataType.FLOAT32,
                                          ByteOrder.ABCD)) == Decimal("1.5")


@settings(deadline=None)
@given(st.integers(0, 0xFFFFFFFF), st.sampled_from(list(ByteOrder)))
def test_float32_round_trips_through_decimal(bits: int, order: ByteOrder) -> None:
    """Every finite float32: decode to Decimal and encode again gives the same registers."""
    value = struct.unpack(">f", bits.to_bytes(4, "big"))[0]
    wire = encode_value(Decimal(bits), DataType.UINT32, order)
    if value != value or value in (float("inf"), float("-inf")):
        with pytest.raises(ModbusError):
            decode_value(wire, DataType.FLOAT32, order)
        return
    decoded = decode_value(wire, DataType.FLOAT32, order)
    again = encode_value(decoded, DataType.FLOAT32, order)
    if value == 0:  # -0.0 reads as 0
        assert decode_value(again, DataType.FLOAT32, order) == 0
        return
    assert again == wire
    assert struct.pack(">f", float(decoded)) == bits.to_bytes(4, "big")


@settings(deadline=None)
@given(st.sampled_from(INTEGER_TYPES), st.sampled_from(list(ByteOrder)), st.data())
def test_integers_round_trip(data_type: DataType, order: ByteOrder, data: st.DataObject) -> None:
    """Any integer in range survives encode/decode in every order."""
    low, high = integer_range(data_type)
    value = Decimal(data.draw(st.integers(low, high)))
    registers = encode_value(value, data_type, order)
    assert len(registers) == data_type.registers
    assert all(0 <= r <= 0xFFFF for r in registers)
    assert decode_value(registers, data_type, order) == value
