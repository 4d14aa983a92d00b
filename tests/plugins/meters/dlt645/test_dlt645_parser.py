"""The streaming parser: split, merged, garbage, preamble, false starts, bounded buffer."""

from __future__ import annotations

import random

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hub.metering.model import FrameParser
from meterhub_dlt645.codec import Dlt645Parser, Frame, decode_frame, encode_frame
from meterhub_dlt645.const import MAX_FRAME

V1_REPLY = bytes.fromhex("6801000000000068910833333433896745339F16")
V4_REPLY = bytes.fromhex("68341200002420689107333336353343346D16")
V8_OK = bytes.fromhex("68341200002420689C00F616")
FRAMES = [V1_REPLY, V4_REPLY, V8_OK]
DECODED = [decode_frame(f) for f in FRAMES]


def test_is_a_frame_parser() -> None:
    assert isinstance(Dlt645Parser(), FrameParser)


def test_byte_by_byte() -> None:
    parser = Dlt645Parser()
    out: list[Frame] = []
    stream = b"".join(FRAMES)
    for index in range(len(stream)):
        got = parser.feed(stream[index:index + 1])
        out += got
        if index + 1 == len(FRAMES[0]):
            assert got == [DECODED[0]]  # a frame is given out as soon as its 16 arrives
    assert out == DECODED
    assert parser.buffered == 0


def test_merged_frames_with_preambles_and_garbage() -> None:
    stream = (b"\x00\x13garbage" + b"\xfe" * 4 + V1_REPLY + b"\xfe\xfe" + V4_REPLY + V8_OK
              + b"\x16\x68")
    parser = Dlt645Parser()
    assert parser.feed(stream) == DECODED
    assert parser.buffered == 1  # the trailing 68 may start a frame
    assert parser.dropped == len(b"\x00\x13garbage") + 4 + 2 + 1


def test_false_start_in_garbage_does_not_swallow_the_next_frame() -> None:
    # 68 .. 68 with L=200 looks like the header of a long frame; the real reply follows
    false_header = b"\x68\x01\x02\x03\x04\x05\x06\x68\x91\xc8"
    parser = Dlt645Parser()
    assert parser.feed(false_header + V4_REPLY) == [DECODED[1]]
    assert parser.buffered == 0
    # and when the real frame arrives in pieces after the false header
    parser.reset()
    assert parser.feed(false_header + V4_REPLY[:7]) == []
    assert parser.feed(V4_REPLY[7:]) == [DECODED[1]]


def test_bad_frame_then_good_frame() -> None:
    corrupt = V1_REPLY[:-2] + bytes([(V1_REPLY[-2] + 1) % 256]) + V1_REPLY[-1:]
    truncated = V4_REPLY[:12]
    parser = Dlt645Parser()
    assert parser.feed(corrupt + truncated + V8_OK) == [DECODED[2]]
    assert parser.feed(V1_REPLY) == [DECODED[0]]


def test_frames_split_across_chunks_at_every_point() -> None:
    stream = b"\xfe\xfe" + b"\xfe".join(FRAMES)
    for cut in range(1, len(stream)):
        parser = Dlt645Parser()
        assert parser.feed(stream[:cut]) + parser.feed(stream[cut:]) == DECODED, cut


def test_buffer_stays_bounded() -> None:
    rng = random.Random(645)
    parser = Dlt645Parser()
    for _ in range(200):
        parser.feed(bytes(rng.randrange(256) for _ in range(512)))
        assert parser.buffered <= MAX_FRAME
    parser.reset()
    parser.feed(b"\x68" + bytes(6) + b"\x68\x91\xff" + bytes(200))  # waits for L=255
    assert 0 < parser.buffered <= MAX_FRAME
    parser.feed(bytes(100))
    assert parser.buffered <= MAX_FRAME
    parser.reset()
    assert parser.buffered == 0


def test_max_data_limits_accepted_length() -> None:
    long_frame = encode_frame("202400001234", 0x91, bytes(100))
    assert Dlt645Parser(max_data=99).feed(long_frame) == []
    assert Dlt645Parser(max_data=100).feed(long_frame) == [decode_frame(long_frame)]


_FRAME = st.builds(
    lambda address, control, data, wake: encode_frame(address, control, data,
                                                      preamble=b"\xfe" * wake),
    st.text("0123456789", min_size=12, max_size=12), st.integers(0, 255),
    st.binary(max_size=64), st.integers(0, 4))


@settings(max_examples=300, deadline=None)
@given(frames=st.lists(_FRAME, min_size=1, max_size=5),
       garbage=st.lists(st.binary(max_size=40), min_size=6, max_size=6),
       cuts=st.lists(st.integers(0, 600), max_size=8))
def test_garbage_between_valid_frames_yields_exactly_those_frames(
        frames: list[bytes], garbage: list[bytes], cuts: list[int]) -> None:
    assume(all(Dlt645Parser().feed(g) == [] for g in garbage))  # garbage holds no frame
    stream = garbage[0]
    for index, frame in enumerate(frames):
        stream += frame + garbage[index + 1]
    parser = Dlt645Parser()
    out: list[Frame] = []
    previous = 0
    for cut in [*sorted(c for c in cuts if c < len(stream)), len(stream)]:
        out += parser.feed(stream[previous:cut])
        previous = cut
        assert parser.buffered <= MAX_FRAME
    assert out == [decode_frame(f) for f in frames]
