"""CJ/T 188 codec: frame checks with one-line reasons, fields, DI order, round trips."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.metering.model import ProtocolError
from meterhub_cjt188.codec import (
    Cjt188Error,
    Frame,
    checksum,
    decode_di,
    decode_frame,
    encode_di,
    normalize_address,
    read_request,
    time_request,
    valve_request,
)
from meterhub_cjt188.const import DiOrder, parse_di_order
from meterhub_cjt188.fields import (
    bcd_to_int,
    decode_flow,
    decode_status,
    decode_time,
    encode_flow,
    encode_status,
    encode_time,
    int_to_bcd,
)
from meterhub_cjt188.payloads import decode_metering, encode_metering
from meterhub_cjt188.protocol import Cjt188Codec
from meterhub_cjt188.tables import DIS, UNITS, di_info

C1_READ = bytes.fromhex("68103412000000000001031F90007116")
C1_REPLY = bytes.fromhex("68103412000000000081161F9000452301002C000001002C532609140325200000A416")

FUNCTIONS = (0x01, 0x03, 0x04, 0x09, 0x15, 0x16)
CONTROLS = tuple(f | bits for f in FUNCTIONS for bits in (0x00, 0x80, 0xC0, 0xA0))
METER_TYPES = (0x10, 0x11, 0x12, 0x13, 0x19, 0x20, 0x21, 0x22, 0x30, 0x40, 0x49, 0xAA)

addresses = st.text(alphabet="0123456789ABCDEF", min_size=14, max_size=14)
orders = st.sampled_from(list(DiOrder))
table_dis = st.sampled_from(sorted(DIS))


# --- frame checks --------------------------------------------------------------------


def test_error_type_is_a_protocol_error() -> None:
    assert issubclass(Cjt188Error, ProtocolError)


def test_checksum_excludes_preamble_and_trailer() -> None:
    assert checksum(C1_READ[:-2]) == 0x71
    assert decode_frame(b"\xfe\xfe" + C1_READ) == decode_frame(C1_READ)


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "too short: 0 bytes and no frame"),
    (b"\xfe\xfe", "too short: 2 bytes and no frame"),
    (C1_READ[:5], "too short: 5 bytes, a frame has at least 13"),
    (C1_READ[:-1], "too short: L=3 needs 16 bytes, got 15"),
    (C1_REPLY[:20], "too short: L=22 needs 35 bytes, got 20"),
    (C1_READ[:-2] + b"\x72\x16", "bad checksum: expected 71, got 72"),
    (C1_READ[:-1] + b"\x00", "missing end byte 16 (got 00)"),
    (b"\x12" + C1_READ, "missing start byte 68 (got 12 at offset 0)"),
    (b"\x68\x55" + C1_READ[2:], "wrong meter type 55"),
    (C1_READ + b"\x00", "1 extra byte after the end byte 16"),
    (C1_READ + C1_READ, "16 extra bytes after the end byte 16"),
])
def test_decode_frame_reasons(data: bytes, reason: str) -> None:
    with pytest.raises(Cjt188Error) as err:
        decode_frame(data)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_frame_properties() -> None:
    reply = decode_frame(C1_REPLY)
    assert (reply.meter_type, reply.address, reply.control) == (0x10, "00000000001234", 0x81)
    assert reply.is_reply and not reply.is_abnormal and not reply.follow_up
    assert reply.function == 0x01 and reply.direction == "reply"
    body = reply.body()
    assert (body.di, body.order, body.ser) == (0x901F, DiOrder.LO_FIRST, 0)
    error = decode_frame(bytes.fromhex("681034120000000000C1030000008216"))
    assert error.is_abnormal
    body = error.body()
    assert (body.di, body.ser, body.payload) == (None, 0, b"\x00\x00")


def test_body_of_a_short_normal_frame_is_an_error() -> None:
    frame = Frame(0x10, "00000000001234", 0x01, b"\x1f\x90")
    with pytest.raises(Cjt188Error, match="too short for DI and SER: L=2"):
        frame.body()


def test_unknown_di() -> None:
    with pytest.raises(Cjt188Error, match=r"unknown DI 34 12 \(neither 1234 nor 3412"):
        decode_di(b"\x34\x12")
    frame = Frame(0x10, "00000000001234", 0x01, b"\x34\x12\x00")
    with pytest.raises(Cjt188Error, match="unknown DI"):
        frame.body()
    out = Cjt188Codec().decode(frame.encode())
    assert out["errors"] and "unknown DI 34 12" in out["errors"][0]


def test_abnormal_reply_with_di_echo() -> None:
    frame = Frame(0x10, "00000000001234", 0xC4, bytes.fromhex("17A0050300"))
    body = frame.body()
    assert (body.di, body.ser, body.payload) == (0xA017, 5, b"\x03\x00")
    out = Cjt188Codec().decode(frame.encode())
    assert out["status"]["valve"] == "abnormal"
    assert out["errors"][0].startswith("the meter refused the write data request")


# --- addresses, DI order ---------------------------------------------------------------


@pytest.mark.parametrize(("given_", "expected"), [
    ("1234", "00000000001234"), (1234, "00000000001234"), ("00000000001234", "00000000001234"),
    ("7833 0011 2233 44", "78330011223344"), ("abc", "00000000000ABC"),
])
def test_normalize_address(given_: object, expected: str) -> None:
    assert normalize_address(given_) == expected


@pytest.mark.parametrize("bad", ["", "xyz", "123456789012345", "12-34", None, True, 1.5])
def test_normalize_address_rejects(bad: object) -> None:
    with pytest.raises(Cjt188Error, match="expected up to 14 hex digits, got"):
        normalize_address(bad)


def test_address_goes_low_byte_first() -> None:
    frame = Frame(0x10, "78330011223344", 0x01, b"\x1f\x90\x00").encode()
    assert frame[2:9] == bytes.fromhex("44332211003378")


def test_di_orders_on_the_wire() -> None:
    assert encode_di(0x901F, DiOrder.LO_FIRST) == b"\x1f\x90"
    assert encode_di(0x901F, DiOrder.HI_FIRST) == b"\x90\x1f"
    assert decode_di(b"\x1f\x90") == (0x901F, DiOrder.LO_FIRST)
    assert decode_di(b"\x90\x1f") == (0x901F, DiOrder.HI_FIRST)
    assert decode_di(b"\xa0\x17", DiOrder.HI_FIRST) == (0xA017, DiOrder.HI_FIRST)


@pytest.mark.parametrize(("text", "order"), [
    ("1F90", DiOrder.LO_FIRST), ("lo_first", DiOrder.LO_FIRST), ("1f 90", DiOrder.LO_FIRST),
    ("901F", DiOrder.HI_FIRST), ("hi_first", DiOrder.HI_FIRST), ("HI-FIRST", DiOrder.HI_FIRST),
    ("sideways", None), (12, None),
])
def test_parse_di_order(text: object, order: DiOrder | None) -> None:
    assert parse_di_order(text) is order


def test_no_table_di_reads_as_another_known_di_reversed() -> None:
    for di in DIS:
        swapped = (di & 0xFF) << 8 | di >> 8
        assert swapped == di or di_info(swapped) is None, f"{di:04X} is ambiguous"


def test_2018_record_ranges_are_known() -> None:
    info = di_info(0xD305)
    assert info is not None and "timed-freeze" in info.name


# --- fields ----------------------------------------------------------------------------


def test_bcd() -> None:
    assert bcd_to_int(bytes.fromhex("45230100"), "x") == 12345
    assert int_to_bcd(12345, 4, "x") == bytes.fromhex("45230100")
    with pytest.raises(Cjt188Error, match="flow is not BCD: FF FF FF FF"):
        bcd_to_int(b"\xff" * 4, "flow")
    with pytest.raises(Cjt188Error, match="does not fit"):
        int_to_bcd(100, 1, "x")


def test_flow_is_exact_decimal() -> None:
    value = decode_flow(bytes.fromhex("45230100"), "flow")
    assert value == Decimal("123.45") and str(value) == "123.45"
    assert str(decode_flow(bytes.fromhex("00000100"), "flow")) == "100.00"
    assert encode_flow(Decimal("999999.99"), "f") == bytes.fromhex("99999999")
    for bad in (Decimal("1.234"), Decimal("1000000"), Decimal("-1"), 1.5, "x"):
        with pytest.raises(Cjt188Error):
            encode_flow(bad, "flow")


def test_time_fields_go_seconds_first() -> None:
    raw = bytes.fromhex("53260914032520")
    assert decode_time(raw) == datetime(2025, 3, 14, 9, 26, 53)
    assert encode_time(datetime(2025, 3, 14, 9, 26, 53)) == raw
    assert encode_time(datetime(2015, 5, 11, 22, 1, 31)) == bytes.fromhex("31012211051520")
    with pytest.raises(Cjt188Error, match="meter time is not a valid date and time"):
        decode_time(bytes(7))


@pytest.mark.parametrize(("st0", "valve", "battery"), [
    (0x00, "open", False), (0x01, "closed", False), (0x03, "abnormal", False),
    (0x02, "abnormal", False), (0x04, "open", True), (0x05, "closed", True),
    (0xF8, "open", False),
])
def test_status_bits_count_from_the_lsb(st0: int, valve: str, battery: bool) -> None:
    status = decode_status(bytes((st0, 0x12)))
    assert (status.valve, status.battery_low) == (valve, battery)
    assert status.vendor_bits == st0 >> 3 and status.vendor_byte == 0x12
    assert status.word == st0 | 0x12 << 8


def test_encode_status() -> None:
    assert encode_status("closed") == b"\x01\x00"
    assert encode_status("abnormal", True) == b"\x07\x00"
    with pytest.raises(Cjt188Error, match="unknown valve state"):
        encode_status("ajar")


def test_metering_in_litres_and_partial_replies() -> None:
    payload = bytes.fromhex("67452301" "29" "00000100" "29" "53260914032520" "0500")
    metering = decode_metering(payload)
    assert metering.flow is not None and metering.flow.volume_m3() == Decimal("12.3456700")
    assert metering.flow.volume_m3() == Decimal("12.34567")
    assert metering.status is not None and metering.status.battery_low
    short = decode_metering(bytes.fromhex("452301002C00"))  # an L=9 reply
    assert short.flow is not None and short.flow.value == Decimal("123.45")
    assert set(short.errors) == {"settlement_flow", "meter_time", "status"}
    bad = decode_metering(bytes.fromhex("FFFFFFFF2C000001002C53260914032520" "0000"))
    assert "flow" in bad.errors and bad.settlement_flow is not None


def test_kwh_is_not_a_volume() -> None:
    metering = decode_metering(bytes.fromhex("4523010005"))
    assert metering.flow is not None
    with pytest.raises(Cjt188Error, match="unit kWh is not a volume"):
        metering.flow.volume_m3()


def test_unit_scaling_is_exact() -> None:
    assert UNITS[0x29].to_base(Decimal("1")) == Decimal("0.001")
    assert UNITS[0x0A].to_base(Decimal("1.5")) == Decimal("150000")
    assert UNITS[0x32].symbol == "L/h" and UNITS[0x35].base == "m3/h"


def test_request_builders_reject_bad_arguments() -> None:
    with pytest.raises(Cjt188Error, match="SER must be 0-255"):
        read_request("1234", ser=256)
    with pytest.raises(Cjt188Error, match="wrong meter type"):
        read_request("1234", meter_type=0x55)
    assert valve_request("1234", True, ser=5).hex().upper() == "681034120000000000040417A00555D716"
    frame = decode_frame(time_request("1234", datetime(2025, 3, 14, 9, 26, 53)))
    assert frame.body().payload == bytes.fromhex("53260914032520")


def test_codec_encode_time_sync_and_preamble() -> None:
    codec = Cjt188Codec()
    frame = codec.encode("time-sync", "1234", time="2025-03-14T09:26:53", preamble="2")
    assert frame[:2] == b"\xfe\xfe"
    assert decode_frame(frame).body().payload == bytes.fromhex("53260914032520")
    aware = codec.encode("time-sync", "1234", time="2025-03-14T01:26:53+00:00")
    assert decode_frame(aware).body().payload == bytes.fromhex("53260914032520")
    with pytest.raises(Cjt188Error, match="unknown parameter 'password'"):
        codec.encode("read", "1234", password="1")
    with pytest.raises(Cjt188Error, match="needs --param time"):
        codec.encode("time-sync", "1234")
    wildcard = codec.encode("read-address", "broadcast")
    assert wildcard.hex().upper() == "68AAAAAAAAAAAAAAAA03030A81004916"


# --- round trips (hypothesis) ------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(meter_type=st.sampled_from(METER_TYPES), address=addresses,
       control=st.sampled_from(CONTROLS), di=table_dis, order=orders,
       ser=st.integers(0, 255), payload=st.binary(max_size=40))
def test_round_trip_every_di_control_and_order(meter_type: int, address: str, control: int,
                                               di: int, order: DiOrder, ser: int,
                                               payload: bytes) -> None:
    data = encode_di(di, order) + bytes((ser,)) + payload
    frame = Frame(meter_type, address, control, data)
    wire = frame.encode()
    assert len(wire) == 13 + len(data)
    assert decode_frame(wire) == frame
    if not frame.is_abnormal:
        for prefer in DiOrder:  # both orders are accepted, whichever is preferred
            body = frame.body(prefer)
            assert (body.di, body.order, body.ser, body.payload) == (di, order, ser, payload)


@settings(max_examples=200, deadline=None)
@given(di=st.integers(0, 0xFFFF), order=orders)
def test_round_trip_any_di_in_its_own_order(di: int, order: DiOrder) -> None:
    raw = encode_di(di, order)
    if di_info(di) is not None:
        assert decode_di(raw, order) == (di, order)
    else:
        swapped = (di & 0xFF) << 8 | di >> 8
        if di_info(swapped) is None:
            with pytest.raises(Cjt188Error, match="unknown DI"):
                decode_di(raw, order)


@settings(max_examples=200, deadline=None)
@given(flow=st.integers(0, 99_999_999), settle=st.integers(0, 99_999_999),
       when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
       valve=st.sampled_from(["open", "closed", "abnormal"]), battery=st.booleans(),
       unit=st.sampled_from([0x29, 0x2C]))
def test_round_trip_metering(flow: int, settle: int, when: datetime, valve: str,
                             battery: bool, unit: int) -> None:
    when = when.replace(microsecond=0)
    flow_value, settle_value = Decimal(flow).scaleb(-2), Decimal(settle).scaleb(-2)
    payload = encode_metering(flow_value, settle_value, when, encode_status(valve, battery),
                              UNITS[unit])
    assert len(payload) == 19
    metering = decode_metering(payload)
    assert metering.errors == {}
    assert metering.flow is not None and metering.settlement_flow is not None
    assert metering.flow.value == flow_value and metering.flow.unit_code == unit
    assert metering.settlement_flow.value == settle_value
    assert metering.meter_time == when
    assert metering.status is not None
    assert (metering.status.valve, metering.status.battery_low) == (valve, battery)


@settings(max_examples=100, deadline=None)
@given(address=addresses, ser=st.integers(0, 255), order=orders,
       action=st.sampled_from(["read", "read-address", "valve-open", "valve-close"]))
def test_codec_encode_decode_round_trip(address: str, ser: int, order: DiOrder,
                                        action: str) -> None:
    codec = Cjt188Codec()
    wire = codec.encode(action, address, ser=ser, di_order=order.value)
    out = codec.decode(wire)
    assert out["address"] == address and out["ser"] == ser and out["di_order"] == order.value
    assert out["direction"] == "request" and out["errors"] == []
    expected_di = {"read": "901F", "read-address": "810A"}.get(action, "A017")
    assert out["di"] == expected_di
    if action.startswith("valve-"):
        assert out["values"]["valve_action"] == action.removeprefix("valve-")
