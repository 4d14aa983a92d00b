"""DL/T 645-2007 load records (负荷记录, appendix B): a block laid out by hand from the
standard's layout (A0 A0, length, time mm hh DD MM YY, six classes separated by AA, checksum,
E5) decodes to its forward active total; a bad block, a wrong checksum and an impossible time
are refused with the reason, never taken."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from meterhub_dlt645.loadrecords import (
    LoadRecord,
    decode_blocks,
    encode_block,
    parse_request,
    request_payload,
)

# 2026-11-30 00:45, class 4 only: forward active 1234.56 kWh (56 34 12 00), the rest zero
BLOCK = bytes.fromhex("A0A01B" "4500301126" "AAAAAA" "56341200" + "00" * 12 + "AAAAAA" "9FE5")


def test_a_hand_made_block_decodes_and_the_simulator_encodes_the_same() -> None:
    record = LoadRecord(datetime(2026, 11, 30, 0, 45), Decimal("1234.56"))
    assert list(decode_blocks(BLOCK)) == [record]
    assert encode_block(record) == BLOCK
    assert list(decode_blocks(BLOCK + BLOCK)) == [record, record]


def test_the_request_carries_n_then_the_time_low_byte_first() -> None:
    payload = request_payload(5, datetime(2026, 11, 30, 0, 46))
    assert payload == bytes.fromhex("05" "4600301126")
    assert parse_request(payload) == (5, datetime(2026, 11, 30, 0, 46))


def test_bad_blocks_are_refused_with_the_reason() -> None:
    bad = b"\xe0\xe0" + BLOCK[2:-2] + bytes((0x1F, 0xE5))
    wrong_sum = BLOCK[:-2] + bytes((0x00, 0xE5))
    impossible = bytearray(BLOCK)
    impossible[5] = 0x31  # 31 November
    impossible[-2] = (sum(impossible[:-2])) % 256
    assert list(decode_blocks(bad + BLOCK)) == [
        "load record marked bad by the meter (E0 E0), not taken",
        LoadRecord(datetime(2026, 11, 30, 0, 45), Decimal("1234.56"))]
    assert list(decode_blocks(wrong_sum)) == ["load record with a wrong checksum, not taken"]
    assert list(decode_blocks(bytes(impossible))) == [
        "load record: impossible record time 2611310045 (YYMMDDhhmm), not taken"]
    assert list(decode_blocks(BLOCK[:-1])) == [
        "load record at byte 0: truncated or no end code E5, rest not taken"]
