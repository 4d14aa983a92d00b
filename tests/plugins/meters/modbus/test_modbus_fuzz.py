"""Bad input: the parser, codec and simulator never raise anything but the plugin's error.

Hypothesis plus a long seeded run of random and mutated frames: the stream parser never
raises, always finds a real frame hidden in garbage, and keeps its buffer bounded.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from modbus_support import EXAMPLE_MAP, frozen_clock

from hub.metering.model import ProtocolError
from hub.metering.sim import ConstantLoad
from hub.util.jsonutil import dumps
from meterhub_modbus.const import MAX_FRAME, PARSER_BUFFER
from meterhub_modbus.errors import ModbusError
from meterhub_modbus.frames import Request, RtuFrame, RtuParser, crc, crc_ok, read_reply
from meterhub_modbus.model import shipped_models
from meterhub_modbus.tool import ModbusRtuCodec

CODEC = ModbusRtuCodec()
MODELS = {model.name: model for model in shipped_models()}
READ = Request(1, 4, 0x0000, 2)
REPLY = bytes.fromhex("010404436600000E1F")

requests = st.builds(
    Request,
    slave=st.integers(1, 247),
    function=st.sampled_from([1, 2, 3, 4]),
    address=st.integers(0, 0xFFFF),
    count=st.integers(1, 100),
)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _feed(parser: RtuParser, data: bytes, cuts: list[int]) -> list[RtuFrame]:
    frames: list[RtuFrame] = []
    for chunk in _chunks(data, cuts):
        found = parser.feed(chunk)
        assert parser.pending <= PARSER_BUFFER
        frames.extend(found)
    return frames


@settings(deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 700), max_size=8),
       st.sampled_from(["requests", "reply", "generic"]))
def test_parser_takes_any_bytes(data: bytes, cuts: list[int], mode: str) -> None:
    """Random bytes in random chunks: no exception, only CRC-valid frames come out."""
    parser = RtuParser(requests=mode == "requests", expect=READ if mode == "reply" else None)
    for frame in _feed(parser, data, cuts):
        assert isinstance(frame, RtuFrame) and crc_ok(frame.raw)
        assert 4 <= len(frame.raw) <= MAX_FRAME + 4


@settings(deadline=None)
@given(st.binary(max_size=80), st.binary(max_size=80), st.lists(st.integers(0, 200),
                                                                max_size=6))
def test_reply_is_found_in_garbage(before: bytes, after: bytes, cuts: list[int]) -> None:
    """The expected reply surrounded by garbage, split anywhere, is found and accepted."""
    frames = _feed(RtuParser(expect=READ), before + REPLY + after, cuts)
    assert any(f.raw == REPLY and READ.accept(f) for f in frames)


@settings(deadline=None)
@given(st.lists(requests, min_size=1, max_size=6), st.lists(st.integers(0, 200), max_size=6))
def test_merged_and_split_requests(batch: list[Request], cuts: list[int]) -> None:
    """Several requests back to back, cut anywhere: each is parsed once, in order."""
    stream = b"".join(request.encode() for request in batch)
    frames = _feed(RtuParser(requests=True), stream, cuts)
    assert [(f.slave, f.function, f.pdu.address, f.pdu.count) for f in frames if f.pdu] == [
        (r.slave, r.function, r.address, r.count) for r in batch]


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_codec_decode_raises_only_its_error(data: bytes) -> None:
    """The frame tool's decode gives a JSON-able dict or a ModbusError, nothing else."""
    try:
        decoded = CODEC.decode(data)
    except ModbusError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert dumps(decoded)


@settings(deadline=None)
@given(st.binary(min_size=2, max_size=260))
def test_codec_decodes_any_crc_valid_frame_or_says_why(body: bytes) -> None:
    """Even with a right CRC, nonsense gives a one-line ModbusError, never a crash."""
    try:
        CODEC.decode(body + crc(body))
    except ModbusError as err:
        assert "\n" not in str(err)


@settings(deadline=None)
@given(st.sampled_from(["read", "write", "coil", "trip", "close", "bogus"]),
       st.text(max_size=6),
       st.dictionaries(st.sampled_from(["register", "count", "function", "value", "values",
                                        "coil", "state", "map", "x"]),
                       st.text(max_size=8), max_size=4))
def test_codec_encode_raises_only_its_error(action: str, address: str,
                                            params: dict[str, str]) -> None:
    """Any arguments: a frame with a right CRC, or a ModbusError naming the problem."""
    try:
        frame = CODEC.encode(action, address, **params)
    except ModbusError:
        return
    assert crc_ok(frame)


def _mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(5)
        if kind == 0 and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:
            del data[rng.randrange(len(data)):]
        elif kind == 2:
            data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
        elif kind == 3:
            data += data[: rng.randrange(len(data) + 1)]
        else:
            data[rng.randrange(len(data) + 1):] = rng.randbytes(rng.randrange(12))
    return bytes(data)


def test_long_seeded_run_of_mutated_frames() -> None:
    """Thousands of mutated frames through decode, the parsers, the model checks and the
    simulator: only ProtocolError subclasses escape, and parsers stay bounded."""
    rng = random.Random(20240601)
    simulator = MODELS["modbus"].create_simulator(
        "1", clock=frozen_clock(), load=ConstantLoad("1"), options={"map": str(EXAMPLE_MAP)})
    seeds = [REPLY, bytes.fromhex("018402C2C1"), bytes.fromhex("0110001A0001020000A46A"),
             bytes.fromhex("0110001A0001200E"), READ.encode(), Request(1, 3, 0, 18).encode(),
             read_reply(1, 3, list(range(18))), Request(1, 5, 0x1A, values=(1,)).encode()]
    request_parser, reply_parser = RtuParser(requests=True), RtuParser(expect=READ)
    for _ in range(20000):
        data = _mutate(rng, rng.choice(seeds))
        try:
            CODEC.decode(data)
        except ModbusError:
            pass
        for frame in request_parser.feed(data):
            reply = simulator.handle_frame(frame)
            assert reply is None or crc_ok(reply)
        for frame in reply_parser.feed(data):
            if READ.accept(frame):
                try:
                    READ.registers(frame)
                except ProtocolError:
                    pass
        assert request_parser.pending <= PARSER_BUFFER
        assert reply_parser.pending <= PARSER_BUFFER


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255))
def test_buffer_stays_bounded_on_endless_headers(slave: int, function: int) -> None:
    """25 kB of frame headers that never complete: the buffer stays small."""
    for parser in (RtuParser(), RtuParser(requests=True), RtuParser(expect=READ)):
        for _ in range(100):
            parser.feed(bytes([slave, function, 0xFA]) * 84)
            assert parser.pending <= 2 * MAX_FRAME + 16


def test_parser_counts_garbage() -> None:
    """Bytes skipped before a frame are counted (for the link's statistics)."""
    parser = RtuParser(expect=READ)
    assert parser.feed(b"\xff\xfe\x00\x11" + REPLY) != []
    assert parser.garbage_bytes == 4
    assert Decimal(parser.pending) == 0
