"""DL/T 645 framing: addresses, offset, checksum, control codes, command layouts, errors."""

from __future__ import annotations

from datetime import datetime

import pytest
from dlt645_support import METER
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.metering.model import ProtocolError
from meterhub_dlt645.codec import (
    Credentials,
    Frame,
    add_offset,
    address_kind,
    address_matches,
    change_baud_request,
    checksum,
    control_meaning,
    decode_address,
    decode_frame,
    encode_address,
    encode_frame,
    error_reasons,
    follow_up_reply,
    freeze_request,
    parse_di,
    parse_freeze,
    parse_relay,
    parse_time_sync,
    parse_write,
    read_reply,
    relay_request,
    remove_offset,
    time_sync_request,
    write_request,
)
from meterhub_dlt645.const import ERROR_BITS, FUNCTION_NAMES, RelayAction
from meterhub_dlt645.errors import Dlt645Error

V1_REPLY = bytes.fromhex("6801000000000068910833333433896745339F16")


def test_error_type_is_the_hub_protocol_error() -> None:
    assert issubclass(Dlt645Error, ProtocolError)


@pytest.mark.parametrize(("printed", "wire"), [
    ("202400001234", "341200002420"),
    ("000000000001", "010000000000"),
    ("1", "010000000000"),  # shorter numbers are left-padded
    ("999999999999", "999999999999"),
    ("AAAAAAAAAAAA", "AAAAAAAAAAAA"),
    ("aaaaaa001234", "341200AAAAAA"),
])
def test_address_nameplate_order_goes_low_byte_first(printed: str, wire: str) -> None:
    assert encode_address(printed).hex().upper() == wire
    assert decode_address(bytes.fromhex(wire)) == printed.upper().zfill(12)


@pytest.mark.parametrize("bad", ["12AB", "1234567890123", "", "20240000123A", "A2024000012A",
                                 "１２３"])
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(Dlt645Error, match="expected an address of 12 decimal digits"):
        encode_address(bad)


def test_address_kinds_and_wildcard_matching() -> None:
    assert address_kind("999999999999") == "broadcast"
    assert address_kind("AAAAAAAAAAAA") == "wildcard"
    assert address_kind("202400001234") == "meter"
    assert address_kind("2024000012F4") == "invalid"
    assert address_matches("AAAAAAAAAAAA", "202400001234")
    assert address_matches("AAAAAAAA1234", "202400001234")
    assert not address_matches("AAAAAAAA1235", "202400001234")
    assert not address_matches("202400001235", "202400001234")


def test_offset_and_checksum() -> None:
    assert add_offset(bytes([0x00, 0xCD, 0xFF])) == bytes([0x33, 0x00, 0x32])
    assert remove_offset(bytes([0x33, 0x00, 0x32])) == bytes([0x00, 0xCD, 0xFF])
    # the byte-by-byte sum of V1's reply in PROTOCOLS.md: 0x39F -> 9F
    assert checksum(V1_REPLY[:-2]) == 0x9F


def test_decode_v1_reply() -> None:
    frame = decode_frame(V1_REPLY)
    assert frame == Frame("000000000001", 0x91, bytes.fromhex("0000010056341200"))
    assert frame.direction == "reply" and frame.di == 0x00010000
    assert not frame.is_error and not frame.has_follow_up and frame.error_code is None


@pytest.mark.parametrize(("data", "message"), [
    (b"", "frame too short"),
    (V1_REPLY[:11], "frame too short"),
    (b"\xfe\xfe" + V1_REPLY[:-3], "frame too short: L=8 needs 20 bytes, got 17"),
    (V1_REPLY[:-1] + b"\x17", "missing end byte 0x16"),
    (V1_REPLY[:-2] + b"\xa0\x16", "bad checksum: expected 0x9F, got 0xA0"),
    (b"\x67" + V1_REPLY[1:], "missing start byte 0x68"),
    (V1_REPLY[:7] + b"\x69" + V1_REPLY[8:], "missing second start byte 0x68"),
    (V1_REPLY + b"\x00", "1 unexpected bytes after the end byte"),
])
def test_decode_errors_say_why_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(Dlt645Error) as err:
        decode_frame(data)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("function", sorted(FUNCTION_NAMES))
def test_control_code_flags_of_every_function(function: int) -> None:
    request = Frame("202400001234", function)
    normal = Frame("202400001234", function | 0x80)
    follow = Frame("202400001234", function | 0xA0)
    abnormal = Frame("202400001234", function | 0xC0, b"\x04")
    assert [f.direction for f in (request, normal, follow, abnormal)] == [
        "request", "reply", "reply", "reply"]
    assert [f.is_error for f in (request, normal, follow, abnormal)] == [
        False, False, False, True]
    assert [f.has_follow_up for f in (request, normal, follow, abnormal)] == [
        False, False, True, False]
    assert {f.function for f in (request, normal, follow, abnormal)} == {function}
    assert abnormal.error_reasons == ["password wrong / not authorised"]
    assert control_meaning(function | 0xC0).endswith(": abnormal reply")
    assert control_meaning(function | 0xA0).endswith(": normal reply, follow-up frames")
    assert control_meaning(function, "zh-CN").endswith(": 请求")


def test_control_meanings_name_the_function() -> None:
    assert control_meaning(0x11) == "read data: request"
    assert control_meaning(0x91) == "read data: normal reply"
    assert control_meaning(0x1C, "zh-CN") == "跳合闸、报警、保电: 请求"
    assert control_meaning(0x1A).startswith("meter clear")
    assert control_meaning(0x1E) == "unknown function 1E: request"


def test_error_word_reasons_in_english_and_chinese() -> None:
    assert error_reasons(0x02) == ["no requested data"]
    assert error_reasons(0x04, "zh-CN") == ["密码错/未授权"]
    assert error_reasons(0x05) == ["other error", "password wrong / not authorised"]
    assert len(error_reasons(0xFF)) == 8 == len(ERROR_BITS)
    assert error_reasons(0x00) == ["error word 00 (no reason given)"]


def test_parse_di_accepts_printed_forms_only() -> None:
    assert parse_di("0001ff00") == parse_di("0x0001FF00") == 0x0001FF00
    for bad in ("0001FF0", "GGGGGGGG", 2**32, True, None):
        with pytest.raises(Dlt645Error, match="expected a DI of 8 hex digits"):
            parse_di(bad)


def test_time_sync_is_seconds_first() -> None:
    frame = decode_frame(time_sync_request(datetime(2025, 3, 14, 9, 26, 53)))
    assert frame.address == "999999999999" and frame.control == 0x08
    assert frame.data == bytes.fromhex("532609140325")
    assert parse_time_sync(frame) == datetime(2025, 3, 14, 9, 26, 53)


def test_freeze_is_minutes_first() -> None:
    frame = decode_frame(freeze_request("202400001234", "12310830"))
    assert frame.control == 0x16 and frame.data == bytes.fromhex("30083112")
    assert parse_freeze(frame) == "12310830"
    with pytest.raises(Dlt645Error, match="MMDDhhmm"):
        freeze_request("202400001234", "1231083")


def test_change_baud_uses_the_one_hot_word() -> None:
    assert decode_frame(change_baud_request("202400001234", 9600)).data == b"\x20"
    assert decode_frame(change_baud_request("202400001234", 600)).data == b"\x02"
    with pytest.raises(Dlt645Error, match="baud rate"):
        change_baud_request("202400001234", 1000)


def test_relay_layout_is_sixteen_bytes() -> None:
    creds = Credentials.parse("02", "123456", "00000001")
    raw = relay_request("202400001234", RelayAction.PROTECT_ON, datetime(2030, 1, 2, 3, 4, 5),
                        creds)
    frame = decode_frame(raw)
    assert frame.data == bytes.fromhex("02563412" "01000000" "3A00" "050403020130")
    command = parse_relay(frame)
    assert command.credentials == creds and command.action_name == "protect_on"
    assert command.valid_until == datetime(2030, 1, 2, 3, 4, 5)
    assert parse_relay(Frame("202400001234", 0x1C, bytes(10) + b"\x99" * 6)).valid_until is None


def test_write_layout_and_credentials() -> None:
    creds = Credentials.parse(4, 123, "ab")
    assert (creds.level, creds.password, creds.operator) == (4, "000123", "000000AB")
    frame = decode_frame(write_request("202400001234", 0x04001001, b"\x00\x10\x00\x00", creds))
    command = parse_write(frame)
    assert command.di == 0x04001001 and command.credentials == creds
    assert command.value == b"\x00\x10\x00\x00"
    for bad in ({"level": "123"}, {"password": "12345X"}, {"operator": "123456789"}):
        with pytest.raises(Dlt645Error):
            Credentials.parse(**bad)


def test_follow_up_reply_carries_seq_last() -> None:
    frame = decode_frame(follow_up_reply("202400001234", 0x00010000, b"\x12", 3,
                                         follow_up=True))
    assert frame.control == 0xB2 and frame.has_follow_up
    assert frame.data == bytes.fromhex("00000100" "12" "03")
    assert decode_frame(read_reply("202400001234", 1, b"", follow_up=True)).control == 0xB1


def test_encode_refuses_oversized_data() -> None:
    with pytest.raises(Dlt645Error, match="exceeds 255"):
        encode_frame("202400001234", 0x11, bytes(256))


_ADDRESSES = st.text("0123456789", min_size=12, max_size=12)


@settings(max_examples=300, deadline=None)
@given(address=_ADDRESSES, control=st.integers(0, 255), data=st.binary(max_size=255),
       wake=st.integers(0, 4))
def test_round_trip_every_control_code(address: str, control: int, data: bytes,
                                       wake: int) -> None:
    raw = encode_frame(address, control, data, preamble=b"\xfe" * wake)
    assert len(raw) == wake + 12 + len(data)
    assert raw[wake + 8] == control and raw[wake + 9] == len(data)
    assert decode_frame(raw) == Frame(address, control, data)


@pytest.mark.parametrize(("at", "reason"), [
    ("30010712", "month 30 is out of range (01-12, or 99 = every)"),
    ("00010712", "month 00 is out of range (01-12, or 99 = every)"),
    ("12320712", "day 32 is out of range (01-31, or 99 = every)"),
    ("12000712", "day 00 is out of range (01-31, or 99 = every)"),
    ("12312412", "hour 24 is out of range (00-23, or 99 = every)"),
    ("12310860", "minute 60 is out of range (00-59)"),
    ("99999960", "minute 60 is out of range (00-59)"),
    ("12310899", "minute 99 is out of range (00-59)"),
    ("12990830", "day 99 (every) may only follow fields that are 99 too"),
    ("99319930", "hour 99 (every) may only follow fields that are 99 too"),
])
def test_freeze_times_are_range_checked(at: str, reason: str) -> None:
    with pytest.raises(Dlt645Error) as err:
        freeze_request(METER, at)
    assert str(err.value) == f"freeze time {at}: {reason}"
    with pytest.raises(Dlt645Error, match=reason.split(" (")[0]):
        parse_freeze(decode_frame(encode_frame(METER, 0x16, bytes.fromhex(at)[::-1])))


@pytest.mark.parametrize("at", ["01010000", "12312359", "99312359", "99992359", "99999959",
                                "99999999", "02290000"])
def test_valid_freeze_times_encode_minutes_first(at: str) -> None:
    frame = decode_frame(freeze_request(METER, at))
    assert frame.data == bytes.fromhex(at)[::-1] and parse_freeze(frame) == at
