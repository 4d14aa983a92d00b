"""DL/T 645-2007 load records (负荷记录, appendix B): the meter's own interval data.

A read of ``06000001`` (给定时间记录块, the record blocks from a given time on) carries, after
the DI, the number of blocks wanted and the time (on the wire ``NN mm hh DD MM YY``: low
byte first, as every DL/T 645 value). Each block the meter answers is::

    A0 A0            start code (E0 E0: the meter marks the block bad)
    L                bytes that follow up to the checksum (hex)
    mm hh DD MM YY   the record time
    class 1 AA class 2 AA class 3 AA class 4 AA class 5 AA class 6 AA
    CS               sum of the bytes from the first A0 to the last AA, modulo 256
    E5               end code

The classes are voltage/current/frequency (17 bytes), active/reactive power (24), power
factors (8), **total energies** (16: forward active, reverse active, combined reactive 1
and 2, each XXXXXX.XX), four-quadrant reactive energies (16) and demand (6); a class the
meter does not record is empty (its separator alone). The layout is the one public
concentrator code and meter firmware transcribe from the standard's appendix B; BCD bytes
never hold ``AA``, which is why it can separate the classes. MeterHub takes class 4's
forward active total (``energy_import_total``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .bcd import bcd_byte, byte_bcd, decode_number, encode_number
from .errors import Dlt645Error

DI_LOAD_RECORDS = 0x06000001  # 给定时间记录块: N blocks from a given time on
START, BAD, SEPARATOR, END = b"\xa0\xa0", b"\xe0\xe0", 0xAA, 0xE5
CLASSES = 6
ENERGY_CLASS = 3  # class 4 (0-based): total energies
MAX_BLOCKS = 5  # blocks asked for in one read (5 x 32 bytes fit one 200-byte reply)


@dataclass(frozen=True, slots=True)
class LoadRecord:
    """One load record: its time (naive, meter-local) and forward active energy total."""

    time: datetime
    energy_import_total: Decimal


def _time_bytes(when: datetime) -> bytes:
    return bytes(bcd_byte(v) for v in (when.minute, when.hour, when.day, when.month,
                                       when.year - 2000))


def _time_of(raw: bytes) -> datetime:
    minute, hour, day, month, year = (byte_bcd(b) for b in raw)
    try:
        return datetime(2000 + year, month, day, hour, minute)
    except ValueError:
        raise Dlt645Error(f"impossible record time {raw[::-1].hex()} (YYMMDDhhmm)") from None


def request_payload(blocks: int, start: datetime) -> bytes:
    """What follows the DI in a read of ``06000001``: N, then the time (low byte first)."""
    if not 1 <= blocks <= 99:
        raise Dlt645Error(f"a load-record read asks for 1..99 blocks, got {blocks}")
    return bytes((bcd_byte(blocks),)) + _time_bytes(start)


def parse_request(extra: bytes) -> tuple[int, datetime]:
    """The number of blocks and the time a read of ``06000001`` asks for."""
    if len(extra) != 6:
        raise Dlt645Error(f"a load-record read carries N and a time (6 bytes), got "
                          f"{len(extra)}")
    return byte_bcd(extra[0]), _time_of(extra[1:])


def encode_block(record: LoadRecord) -> bytes:
    """One block holding class 4 (the energies) only, as a meter recording energy sends it."""
    energies = encode_number(record.energy_import_total, 4, 2, False) + bytes(12)
    classes = [b""] * CLASSES
    classes[ENERGY_CLASS] = energies
    body = _time_bytes(record.time) + b"".join(c + bytes((SEPARATOR,)) for c in classes)
    head = START + bytes((len(body),)) + body
    return head + bytes((sum(head) % 256, END))


def decode_blocks(raw: bytes) -> Iterator[LoadRecord | str]:
    """The records of a reply, oldest first; a block that cannot be taken gives its reason."""
    offset = 0
    while offset < len(raw):
        start = raw[offset:offset + 2]
        if start not in (START, BAD) or offset + 3 > len(raw):
            yield f"load record at byte {offset}: no start code A0 A0, rest not taken"
            return
        length = raw[offset + 2]
        end = offset + 3 + length
        if end + 2 > len(raw) or raw[end + 1] != END:
            yield f"load record at byte {offset}: truncated or no end code E5, rest not taken"
            return
        block, body = raw[offset:end], raw[offset + 3:end]
        offset = end + 2
        if start == BAD:
            yield "load record marked bad by the meter (E0 E0), not taken"
            continue
        if sum(block) % 256 != raw[end]:
            yield "load record with a wrong checksum, not taken"
            continue
        try:
            yield _record(body)
        except Dlt645Error as err:
            yield f"load record: {err}, not taken"


def _record(body: bytes) -> LoadRecord:
    when = _time_of(body[:5])
    classes: Sequence[bytes] = body[5:].split(bytes((SEPARATOR,)))
    energies = classes[ENERGY_CLASS] if len(classes) > ENERGY_CLASS else b""
    if len(energies) != 16:
        raise Dlt645Error(f"record {when:%Y-%m-%d %H:%M} has no total energies (class 4 "
                          f"holds {len(energies)} bytes, not 16)")
    return LoadRecord(when, decode_number(energies[:4], 2, False))
