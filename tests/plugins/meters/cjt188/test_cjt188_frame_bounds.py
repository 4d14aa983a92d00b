"""CJ/T 188 frames at their limits (the cases tools/mutate.py found unguarded): single-byte
meter type and control code, 255 bytes of DATA, an odd number of wake-up bytes, a wrong meter
type seen in the second byte, a cut header, and error messages naming what was found."""

from __future__ import annotations

import pytest

from meterhub_cjt188.codec import Cjt188Error, Frame, decode_frame
from meterhub_cjt188.const import MAX_DATA

ADDRESS = "00000000001234"


def _frame(data: bytes = b"\x1f\x90\x01") -> bytes:
    return Frame(0x10, ADDRESS, 0x01, data).encode()


@pytest.mark.parametrize(("meter_type", "control"), [(0, 0), (0xFF, 0xFF), (0x10, 0)])
def test_single_byte_meter_type_and_control_encode(meter_type: int, control: int) -> None:
    encoded = Frame(meter_type, ADDRESS, control).encode()
    assert (encoded[1], encoded[9]) == (meter_type, control)


@pytest.mark.parametrize(("meter_type", "control"), [(0x100, 1), (-1, 1), (0x10, 0x100),
                                                     (0x10, -1)])
def test_a_meter_type_or_control_beyond_one_byte_is_refused(meter_type: int,
                                                            control: int) -> None:
    with pytest.raises(Cjt188Error, match="single bytes"):
        Frame(meter_type, ADDRESS, control).encode()


def test_data_of_exactly_the_maximum_length_encodes() -> None:
    assert decode_frame(_frame(bytes(MAX_DATA))).data == bytes(MAX_DATA)
    with pytest.raises(Cjt188Error, match=f"exceeds {MAX_DATA}"):
        _frame(bytes(MAX_DATA + 1))


@pytest.mark.parametrize("wake", [1, 2, 3])
def test_any_number_of_wake_up_bytes_is_skipped(wake: int) -> None:
    assert decode_frame(b"\xfe" * wake + _frame()).data == b"\x1f\x90\x01"


def test_a_wrong_meter_type_is_named_from_the_second_byte() -> None:
    with pytest.raises(Cjt188Error, match="wrong meter type 05"):
        decode_frame(b"\x68\x05")


def test_a_cut_header_names_the_length_it_needs() -> None:
    whole = _frame()  # L = 3: 16 bytes
    with pytest.raises(Cjt188Error, match="L=3 needs 16 bytes, got 11"):
        decode_frame(whole[:11])
    with pytest.raises(Cjt188Error, match="too short: 10 bytes, a frame has at least 13"):
        decode_frame(whole[:10])


def test_a_missing_end_byte_is_named_as_found() -> None:
    frame = bytearray(_frame())
    frame[-1] = 0x55
    with pytest.raises(Cjt188Error, match="missing end byte 16 \\(got 55\\)"):
        decode_frame(bytes(frame))


@pytest.mark.parametrize(("extra", "text"), [(1, "1 extra byte after"),
                                             (2, "2 extra bytes after")])
def test_extra_bytes_after_the_end_are_counted(extra: int, text: str) -> None:
    with pytest.raises(Cjt188Error, match=text):
        decode_frame(_frame() + b"\x00" * extra)
