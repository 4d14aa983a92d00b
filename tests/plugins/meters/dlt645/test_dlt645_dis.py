"""DI table and value formats: BCD scaling, the sign rule, dates, status words, round trips."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.metering.points import POINTS
from meterhub_dlt645.bcd import DateWeek, Kind, ValueFormat, decode_number, encode_number, number
from meterhub_dlt645.dis import DATA_ITEMS, DataItem, decode_value, item
from meterhub_dlt645.errors import Dlt645Error
from meterhub_dlt645.status import decode_word, encode_word3, hub_status

ALL_DIS = sorted(DATA_ITEMS)


@pytest.mark.parametrize(("di", "raw", "expected"), [
    (0x00010000, "56341200", "1234.56"),  # XXXXXX.XX kWh
    (0x02010100, "0122", "220.1"),  # XXX.X V
    (0x02020100, "235100", "5.123"),  # XXX.XXX A
    (0x02020100, "001580", "-1.500"),  # sign bit in the last byte
    (0x02030000, "001001", "1.1000"),  # XX.XXXX kW
    (0x02060000, "8509", "0.985"),  # X.XXX
    (0x02800002, "0050", "50.00"),  # XX.XX Hz
    (0x02800020, "80580000", "0.5880"),  # XXXX.XXXX CNY/kWh
    (0x00000000, "00000080", "-0.00"),  # combined energy is signed
    (0x00010000, "99999999", "999999.99"),
])
def test_formats_from_protocols_md(di: int, raw: str, expected: str) -> None:
    value = decode_value(di, bytes.fromhex(raw))
    assert isinstance(value, Decimal) and str(value) == expected
    assert item(di).encode(value) == bytes.fromhex(raw)


def test_sign_rule_matches_an_independent_example() -> None:
    # LaoYutang/go-dlt645 format_test.go: {0x12, 0x94} -> -14.12 (XX.XX, signed)
    assert decode_number(b"\x12\x94", 2, True) == Decimal("-14.12")
    # unsigned formats do not treat bit 7 as a sign: 0x94 is plain BCD 94
    assert decode_number(b"\x12\x94", 2, False) == Decimal("94.12")


@pytest.mark.parametrize(("raw", "signed"), [(b"\x1a\x00", False), (b"\x00\x8a", True),
                                             (b"\xff\xff", True)])
def test_non_bcd_nibbles_are_refused(raw: bytes, signed: bool) -> None:
    with pytest.raises(Dlt645Error, match="not BCD"):
        decode_number(raw, 1, signed)


@pytest.mark.parametrize(("value", "message"), [
    (Decimal("1.2345"), "more than 3 decimals"),
    (Decimal("800.000"), "does not fit"),
    ("abc", "expected a number"),
    (1.5, "expected an exact number"),
    (Decimal("NaN"), "finite"),
])
def test_encode_number_refuses_what_does_not_fit(value: Any, message: str) -> None:
    with pytest.raises(Dlt645Error, match=message):
        encode_number(value, 3, 3, True)


def test_unsigned_refuses_negative_values() -> None:
    with pytest.raises(Dlt645Error, match="negative"):
        item(0x00010000).encode(Decimal("-1.00"))


def test_dates_times_and_words() -> None:
    assert decode_value(0x04000101, bytes.fromhex("05140325")) == DateWeek(date(2025, 3, 14), 5)
    assert decode_value(0x04000102, bytes.fromhex("532609")) == time(9, 26, 53)
    assert item(0x04000101).encode(date(2025, 3, 16)) == bytes.fromhex("00160325")  # Sunday
    assert decode_value(0x04000503, bytes.fromhex("5002")) == 0x0250
    assert decode_value(0x04000401, bytes.fromhex("341200002420")) == "202400001234"
    for raw in ("07140325", "05320325", "05001325"):
        with pytest.raises(Dlt645Error):
            decode_value(0x04000101, bytes.fromhex(raw))
    with pytest.raises(Dlt645Error, match="not a time"):
        decode_value(0x04000102, bytes.fromhex("006009"))


def test_blocks() -> None:
    raw = bytes.fromhex("56341200" "00000100" "00000400" "00000500" "56340200")
    assert decode_value(0x0001FF00, raw) == [Decimal(v) for v in (
        "1234.56", "100.00", "400.00", "500.00", "234.56")]
    assert decode_value(0x0001FF00, raw[:8]) == [Decimal("1234.56"), Decimal("100.00")]
    with pytest.raises(Dlt645Error, match="multiple of 4"):
        decode_value(0x0001FF00, raw[:7])
    assert decode_value(0x0201FF00, bytes.fromhex("012200220222")) == [
        Decimal("220.1"), Decimal("220.0"), Decimal("220.2")]
    with pytest.raises(Dlt645Error, match="needs 6 value bytes"):
        decode_value(0x0201FF00, bytes.fromhex("0122"))


def test_unknown_di_error() -> None:
    with pytest.raises(Dlt645Error, match=r"^unknown DI 0x12345678$"):
        item(0x12345678)


def test_table_names_points_and_identifiers() -> None:
    expected = {
        0x00010000: "energy_import_total", 0x00010100: "energy_import_t1",
        0x00010400: "energy_import_t4", 0x00020000: "energy_export_total",
        0x00000000: "energy_combined_total", 0x02010100: "voltage_a",
        0x02020300: "current_c", 0x02030000: "power", 0x02030200: "power_b",
        0x02060000: "power_factor", 0x02800002: "frequency", 0x00900200: "balance",
        0x00900201: "overdraft", 0x04000503: "status_word_3",
    }
    for di, point in expected.items():
        assert item(di).point == point
    for spec in DATA_ITEMS.values():
        assert spec.name_en and spec.name_zh
        assert spec.point is None or spec.point in POINTS
        assert all(p is None or p in POINTS for p in spec.points)
    assert item(0x02800001).name_en == "neutral current"  # not the frequency (section 7)
    assert item(0x00010001).point is None  # settlement values are not live registers
    assert item(0x0001FF00).points == ("energy_import_total", "energy_import_t1",
                                       "energy_import_t2", "energy_import_t3",
                                       "energy_import_t4")
    assert item(0x00000000).fmt.signed and not item(0x00010000).fmt.signed
    assert item(0x02020100).fmt.signed and not item(0x02010100).fmt.signed


def _value_strategy(fmt: ValueFormat) -> st.SearchStrategy[Any]:
    if fmt.kind is Kind.NUMBER:
        digits = 2 * fmt.size
        top = (8 * 10 ** (digits - 1) if fmt.signed else 10 ** digits) - 1
        return st.integers(-top if fmt.signed else 0, top).map(
            lambda n: Decimal(n).scaleb(-fmt.decimals))
    if fmt.kind is Kind.DATE_WEEK:
        return st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(
            lambda d: DateWeek(d, d.isoweekday() % 7))
    if fmt.kind is Kind.TIME:
        return st.times().map(lambda t: t.replace(microsecond=0))
    if fmt.kind is Kind.DATETIME:
        return st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
            lambda t: t.replace(microsecond=0))
    if fmt.kind is Kind.BITS:
        return st.integers(0, (1 << (8 * fmt.size)) - 1)
    return st.text("0123456789", min_size=2 * fmt.size, max_size=2 * fmt.size)


@st.composite
def _item_and_value(draw: st.DrawFn) -> tuple[DataItem, Any]:
    spec = draw(st.sampled_from([DATA_ITEMS[di] for di in ALL_DIS]))
    values = _value_strategy(spec.fmt)
    if spec.count == 1:
        return spec, draw(values)
    count = draw(st.integers(1, 8)) if spec.variable else spec.count
    return spec, draw(st.lists(values, min_size=count, max_size=count))


@settings(max_examples=600, deadline=None)
@given(_item_and_value())
def test_round_trip_of_values_for_every_di(case: tuple[DataItem, Any]) -> None:
    spec, value = case
    raw = spec.encode(value)
    assert len(raw) == spec.fmt.size * (len(value) if isinstance(value, list) else 1)
    decoded = spec.decode(raw)
    assert decoded == value
    assert spec.encode(decoded) == raw


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(ALL_DIS), st.data())
def test_round_trip_of_bytes_for_every_di(di: int, data: st.DataObject) -> None:
    spec = DATA_ITEMS[di]
    raw = spec.encode(data.draw(_value_strategy(spec.fmt)) if spec.count == 1 else
                      data.draw(st.lists(_value_strategy(spec.fmt), min_size=spec.count,
                                         max_size=spec.count)))
    assert spec.encode(spec.decode(raw)) == raw


@pytest.mark.parametrize("di", ALL_DIS, ids=[f"{di:08X}" for di in ALL_DIS])
def test_every_di_decodes_its_zero_and_largest_value(di: int) -> None:
    spec = DATA_ITEMS[di]
    size = spec.fmt.size * spec.count
    if spec.fmt.kind in (Kind.NUMBER, Kind.BITS, Kind.DIGITS):
        for raw in (bytes(size), bytes([0x99] * size)):
            assert spec.encode(spec.decode(raw)) == raw


def test_status_word_3_from_the_v6_vector() -> None:
    flags = decode_word(3, 0x0250)
    assert flags["relay_open"] and flags["trip_commanded"]
    assert not flags["pre_trip_alarm"] and not flags["protected"]
    assert flags["meter_type"] == "money_prepaid"
    status = hub_status(3, 0x0250)
    assert status["relay"] == "open" and status["protect"] is False
    assert status["status_word_3"] == 0x0250
    assert hub_status(3, 0x1000)["protect"] is True  # bit 12 = 0x10 of the second byte
    assert hub_status(3, 0)["relay"] == "closed"
    word = encode_word3(relay_open=True, trip_commanded=True, meter_type="money_prepaid")
    assert word == 0x0250


def test_phase_and_battery_words() -> None:
    assert hub_status(5, 0b1000_0100) == {
        "status_word_5": 0x84, "loss_of_voltage_b": False, "under_voltage_b": False,
        "over_voltage_b": True, "loss_of_current_b": False, "over_current_b": False,
        "overload_b": False, "reverse_flow_b": False, "phase_break_b": True}
    assert hub_status(1, 0b100)["battery_low"] is True
    assert hub_status(1, 0)["battery_low"] is False
    assert decode_word(7, 0b100000)["power_down"] is True
    assert decode_word(2, 0xFFFF) == {}


def test_pattern_parsing() -> None:
    assert number("XXXXXX.XX") == ValueFormat(Kind.NUMBER, 4, 2, False)
    assert number("NNNN") == ValueFormat(Kind.NUMBER, 2, 0, False)
    with pytest.raises(ValueError):
        number("XXX")
