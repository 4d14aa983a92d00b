"""Fuzzing: random and mutated frames never raise anything but the codec's own error,
never hang, and never grow the parser's buffer beyond one frame."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.metering.model import MeterRef, MeterRefused
from hub.util.jsonutil import dumps
from meterhub_cjt188.codec import Cjt188Error, Cjt188Parser, Frame, decode_frame, encode_di
from meterhub_cjt188.const import MAX_FRAME, DiOrder
from meterhub_cjt188.models import NbWaterModel
from meterhub_cjt188.protocol import Cjt188Codec
from meterhub_cjt188.tables import DIS

SEEDS = bytes.fromhex("68103412000000000081161F9000452301002C000001002C532609140325200000A416")
TYPES = (0x10, 0x11, 0x20, 0x30, 0x40, 0xAA, 0x55)
CONTROLS = (0x01, 0x03, 0x04, 0x81, 0x83, 0x84, 0xC1, 0xC3, 0xC4, 0x09, 0x95, 0xFF)
CODEC = Cjt188Codec()
MODEL = NbWaterModel()
METER = MeterRef("w1", "00000000001234")


def _random_frame(rng: random.Random) -> bytes:
    di = rng.choice(sorted(DIS)) if rng.random() < 0.9 else rng.randrange(0x10000)
    data = encode_di(di, rng.choice(list(DiOrder))) + bytes((rng.randrange(256),))
    if rng.random() < 0.5:
        data += bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 2, 5, 7, 19, 40))))
    else:
        data = data[:rng.randrange(len(data) + 1)]
    address = "".join(rng.choice("0123456789ABCDEF") for _ in range(14))
    meter_type = rng.choice(TYPES[:-1])
    return Frame(meter_type, address, rng.choice(CONTROLS), data).encode()


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        kind = rng.randrange(6)
        where = rng.randrange(len(out) + 1)
        if kind == 0 and out:  # flip a bit
            at = rng.randrange(len(out))
            out[at] ^= 1 << rng.randrange(8)
        elif kind == 1:  # insert bytes
            out[where:where] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5)))
        elif kind == 2 and out:  # delete bytes
            del out[where:where + rng.randrange(1, 5)]
        elif kind == 3:  # truncate
            del out[where:]
        elif kind == 4 and len(out) > 10:  # new length byte, checksum fixed up or not
            out[10] = rng.randrange(256)
        elif kind == 5:  # preamble or trailer
            out = bytearray(b"\xfe" * rng.randrange(5)) + out + bytearray(
                rng.randrange(256) for _ in range(rng.randrange(3)))
    if rng.random() < 0.3 and len(out) >= 13 and out[0] == 0x68:  # valid CS, odd content
        out[-2] = sum(out[:-2]) & 0xFF
    return bytes(out)


def _only_codec_errors(call: Callable[[], object]) -> object:
    try:
        return call()
    except Cjt188Error:
        return None


def _decodes(data: bytes) -> bool:
    try:
        decode_frame(data)
    except Cjt188Error:
        return False
    return True


def _exercise(data: bytes, parser: Cjt188Parser, rng: random.Random) -> None:
    frame = _only_codec_errors(lambda: decode_frame(data))
    decoded = _only_codec_errors(lambda: CODEC.decode(data))
    assert (frame is None) == (decoded is None)
    if isinstance(decoded, dict):
        json.loads(dumps(decoded))
    try:
        MODEL.decode_uplink(data, METER)
    except (Cjt188Error, MeterRefused):
        pass
    start = 0
    while start < len(data):
        end = start + rng.randrange(1, 64)
        for got in parser.feed(data[start:end]):
            assert isinstance(got, Frame)
        assert parser.buffered <= MAX_FRAME
        start = end


def test_seeded_random_and_mutated_frames() -> None:
    rng = random.Random(20250314)
    parser = Cjt188Parser()
    started = time.monotonic()
    decoded = 0
    for index in range(20_000):
        base = SEEDS if index % 4 == 0 else _random_frame(rng)
        data = base if index % 10 == 0 else _mutate(rng, base)
        if index % 97 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
        _exercise(data, parser, rng)
        decoded += _decodes(data)
    assert time.monotonic() - started < 45
    assert 2_000 < decoded < 20_000  # both valid and invalid frames were exercised


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    _exercise(data, Cjt188Parser(), random.Random(len(data)))


@settings(max_examples=300, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, 34), st.integers(0, 255)), max_size=4),
       fix_checksum=st.booleans())
def test_mutated_reply(flips: list[tuple[int, int]], fix_checksum: bool) -> None:
    data = bytearray(SEEDS)
    for at, value in flips:
        data[at] = value
    if fix_checksum:
        data[-2] = sum(data[:-2]) & 0xFF
    _exercise(bytes(data), Cjt188Parser(), random.Random(0))
