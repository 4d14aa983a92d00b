"""Fuzzing: random and mutated frames; only the codec's own error may escape, nothing hangs."""

from __future__ import annotations

import random
import time
from decimal import Decimal

from dlt645_support import METER, VECTORS
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.metering.sim import SimClock
from meterhub_dlt645.codec import Dlt645Parser, Frame, decode_frame, encode_frame, read_request
from meterhub_dlt645.const import MAX_FRAME, Function
from meterhub_dlt645.dis import DATA_ITEMS
from meterhub_dlt645.errors import Dlt645Error
from meterhub_dlt645.models import reply_filter
from meterhub_dlt645.protocol import CODEC
from meterhub_dlt645.simulator import Dlt645Simulator

SEEDS = [bytes.fromhex(v["hex"]) for v in VECTORS]
MUTATIONS = 20_000


def _fix_checksum(raw: bytearray) -> None:
    """Make a mutated frame pass framing again (L, CS, 16), so the field decoders see it."""
    start = 0
    while start < len(raw) and raw[start] == 0xFE:
        start += 1
    length = len(raw) - start - 12
    if not 0 <= length <= 255 or raw[start] != 0x68 or raw[start + 7] != 0x68:
        return
    raw[start + 9] = length
    raw[-2] = sum(raw[start:-2]) & 0xFF
    raw[-1] = 0x16


def _mutate(rng: random.Random, seed: bytes) -> bytes:
    raw = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(raw) + 1)
        if op == 0 and raw:
            raw[pos % len(raw)] ^= 1 << rng.randrange(8)
        elif op == 1 and raw:
            raw[pos % len(raw)] = rng.randrange(256)
        elif op == 2:
            raw.insert(pos, rng.randrange(256))
        elif op == 3 and raw:
            del raw[pos % len(raw)]
        elif op == 4:
            del raw[pos:]
        elif op == 5:
            raw[pos:pos] = raw[rng.randrange(len(raw) + 1):][:rng.randint(1, 16)]
        else:  # change L and the data length together
            raw[9:10] = bytes([rng.randrange(64)]) if len(raw) > 9 else b""
    if rng.random() < 0.6:
        _fix_checksum(raw)
    return bytes(raw)


def _exercise(raw: bytes, sim: Dlt645Simulator, parser: Dlt645Parser) -> int:
    """Decode through every path; return 1 if the frame decoded. Only Dlt645Error may escape."""
    for frame in parser.feed(raw):
        reply = sim.handle_frame(frame)
        if reply is not None:
            decode_frame(reply)  # the simulator only ever answers valid frames
        for function in (Function.READ, Function.RELAY_CONTROL):
            reply_filter(METER, function, frame.di)(frame)
    assert parser.buffered <= MAX_FRAME
    try:
        decoded = CODEC.decode(raw)
    except Dlt645Error as err:
        assert str(err) and "\n" not in str(err)
        return 0
    assert decoded["address"] == decode_frame(raw).address
    return 1


def test_twenty_thousand_mutated_frames() -> None:
    rng = random.Random(0x645)
    sim = Dlt645Simulator(METER, clock=SimClock(speed=0), price=Decimal("0.60"),
                          balance=Decimal(50))
    parser = Dlt645Parser()
    started = time.monotonic()
    valid = 0
    extra = [encode_frame(METER, code, rng.randbytes(rng.randrange(20)))
             for code in (0x11, 0x12, 0x13, 0x14, 0x16, 0x17, 0x1C, 0x08)]
    seeds = SEEDS + extra + [read_request(METER, di) for di in DATA_ITEMS]
    for _ in range(MUTATIONS):
        valid += _exercise(_mutate(rng, rng.choice(seeds)), sim, parser)
    assert valid > MUTATIONS // 5  # the checksum fixing makes many reach the decoders
    assert time.monotonic() - started < 40


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_escape_the_codec_error(raw: bytes) -> None:
    try:
        frame = decode_frame(raw)
    except Dlt645Error:
        return
    assert isinstance(frame, Frame)
    CODEC.decode(raw)


@settings(max_examples=300, deadline=None)
@given(address=st.text("0123456789", min_size=12, max_size=12), control=st.integers(0, 255),
       data=st.binary(max_size=40))
def test_any_well_framed_frame_decodes_or_names_its_problem(address: str, control: int,
                                                            data: bytes) -> None:
    raw = encode_frame(address, control, data)
    decoded = CODEC.decode(raw)  # framing is valid: only field problems can remain
    assert decoded["control"] == f"{control:02X}" and decoded["length"] == len(data)
    sim = Dlt645Simulator(address, clock=SimClock(speed=0))
    reply = sim.handle_frame(decode_frame(raw))
    assert reply is None or decode_frame(reply).address == address


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_parser_on_random_chunks_is_bounded(chunks: list[bytes]) -> None:
    parser = Dlt645Parser()
    for chunk in chunks:
        for frame in parser.feed(chunk):
            assert decode_frame(frame.encode()) == frame
        assert parser.buffered <= MAX_FRAME
