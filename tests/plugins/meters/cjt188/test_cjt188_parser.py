"""The CJ/T 188 stream parser: split, merged, preamble, garbage, false starts, bounds."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.metering.model import FrameParser
from meterhub_cjt188.codec import Cjt188Parser, Frame, decode_frame
from meterhub_cjt188.const import MAX_FRAME

C1_READ = bytes.fromhex("68103412000000000001031F90007116")
C1_REPLY = bytes.fromhex("68103412000000000081161F9000452301002C000001002C532609140325200000A416")
C2_REPLY = bytes.fromhex("681034120000000000840517A00101000016")
C4_REPLY = bytes.fromhex("681034120000000000C1030000008216")
C5_READ = bytes.fromhex("68AAAAAAAAAAAAAAAA03030A81004916")
ALL = [C1_READ, C1_REPLY, C2_REPLY, C4_REPLY, C5_READ]


def frames_of(*wires: bytes) -> list[Frame]:
    return [decode_frame(wire) for wire in wires]


def test_is_a_frame_parser() -> None:
    assert isinstance(Cjt188Parser(), FrameParser)


def test_byte_by_byte() -> None:
    parser = Cjt188Parser()
    out: list[Frame] = []
    for index, byte in enumerate(C1_REPLY):
        got = parser.feed(bytes((byte,)))
        if index < len(C1_REPLY) - 1:
            assert got == []
        out += got
    assert out == frames_of(C1_REPLY)
    assert parser.buffered == 0


def test_merged_frames_in_one_chunk() -> None:
    assert Cjt188Parser().feed(b"".join(ALL)) == frames_of(*ALL)


def test_split_anywhere() -> None:
    stream = b"".join(ALL)
    for cut in range(1, len(stream)):
        parser = Cjt188Parser()
        assert parser.feed(stream[:cut]) + parser.feed(stream[cut:]) == frames_of(*ALL)


def test_preamble_and_garbage_are_skipped() -> None:
    parser = Cjt188Parser()
    stream = b"\x00\x12garbage" + b"\xfe" * 4 + C1_REPLY + b"\xff\x16\x68" + b"\xfe\xfe" + C2_REPLY
    assert parser.feed(stream) == frames_of(C1_REPLY, C2_REPLY)
    assert parser.discarded == len(stream) - len(C1_REPLY) - len(C2_REPLY)


def test_false_start_with_long_length_does_not_hold_back_a_real_frame() -> None:
    # 68, a valid type, 7 address bytes, a control code and L=200: looks like a frame start
    false_start = bytes((0x68, 0x10, 1, 2, 3, 4, 5, 6, 7, 0x81, 200))
    parser = Cjt188Parser()
    assert parser.feed(false_start + C1_REPLY) == frames_of(C1_REPLY)
    assert parser.buffered == 0
    # the same when the real frame arrives in pieces after the false start
    parser = Cjt188Parser()
    assert parser.feed(false_start + C1_REPLY[:10]) == []
    assert parser.feed(C1_REPLY[10:]) == frames_of(C1_REPLY)


def test_false_start_inside_garbage_overlapping_the_real_frame() -> None:
    # a 68 whose L makes it end inside the real frame: rejected at its end, frame found
    false_start = bytes((0x68, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x81, 5))
    parser = Cjt188Parser()
    assert parser.feed(false_start + C2_REPLY) == frames_of(C2_REPLY)
    assert parser.rejected >= 1


def test_bad_checksum_frame_is_dropped_and_the_next_one_found() -> None:
    bad = bytearray(C1_REPLY)
    bad[-2] ^= 0x01
    parser = Cjt188Parser()
    assert parser.feed(bytes(bad) + C2_REPLY) == frames_of(C2_REPLY)
    assert "bad checksum" in parser.last_error


def test_a_68_inside_the_data_is_not_a_start() -> None:
    frame = Frame(0x10, "00000000006868", 0x81, bytes.fromhex("1F9000") + b"\x68" * 19)
    wire = frame.encode()
    assert Cjt188Parser().feed(wire + wire) == [frame, frame]


def test_reset_forgets_a_partial_frame() -> None:
    parser = Cjt188Parser()
    parser.feed(C1_REPLY[:20])
    assert parser.buffered == 20
    parser.reset()
    assert parser.buffered == 0
    assert parser.feed(C1_REPLY[20:]) == []


def test_buffer_stays_bounded_on_endless_garbage() -> None:
    rng = random.Random(188)
    parser = Cjt188Parser()
    for _ in range(400):
        chunk = bytes(rng.choice((0x68, 0x10, 0xFE, 0xFF, 0xC8, rng.randrange(256)))
                      for _ in range(rng.randrange(1, 600)))
        parser.feed(chunk)
        assert parser.buffered <= MAX_FRAME
    parser.feed(b"\x00" * 300 + C1_REPLY)
    assert parser.buffered == 0


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


garbage_no_start = st.binary(max_size=40).map(lambda b: b.replace(b"\x68", b"\x69"))
false_starts = st.builds(
    lambda t, addr, c, length: bytes((0x68, t)) + addr + bytes((c, length)),
    st.sampled_from([0x10, 0x20, 0x30, 0x40, 0xAA]), st.binary(min_size=7, max_size=7),
    st.integers(0, 255), st.integers(0, 255))
garbage = st.one_of(garbage_no_start, false_starts, st.binary(max_size=30))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(picks=st.lists(st.sampled_from(ALL), min_size=1, max_size=6),
       junk=st.lists(garbage, min_size=7, max_size=7),
       preambles=st.lists(st.integers(0, 4), min_size=6, max_size=6),
       cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_frames_survive_interleaved_garbage(picks: list[bytes], junk: list[bytes],
                                            preambles: list[int], cuts: list[int]) -> None:
    stream = b""
    for index, wire in enumerate(picks):
        stream += junk[index] + b"\xfe" * preambles[index] + wire
    stream += junk[-1].replace(b"\x68", b"\x69")  # trailing garbage cannot start a frame
    parser = Cjt188Parser()
    out: list[Frame] = []
    for chunk in _chunks(stream, cuts):
        out += parser.feed(chunk)
        assert parser.buffered <= MAX_FRAME
    assert out == frames_of(*picks)
