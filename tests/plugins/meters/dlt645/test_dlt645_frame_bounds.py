"""DL/T 645 frames at their limits (the cases tools/mutate.py found unguarded): a one-byte
control code, 255 bytes of data, wake-up bytes before a cut frame, and error messages that
name the byte actually found."""

from __future__ import annotations

import pytest

from meterhub_dlt645.codec import Dlt645Error, decode_frame, encode_frame
from meterhub_dlt645.const import MAX_DATA

ADDRESS = "000000000001"


def test_a_control_code_must_fit_one_byte() -> None:
    assert decode_frame(encode_frame(ADDRESS, 0xFF)).control == 0xFF
    for control in (0x100, -1):
        with pytest.raises(Dlt645Error, match="is not one byte"):
            encode_frame(ADDRESS, control)


def test_data_of_exactly_the_maximum_length_makes_a_frame() -> None:
    frame = decode_frame(encode_frame(ADDRESS, 0x91, bytes(range(MAX_DATA))))
    assert frame.data == bytes(range(MAX_DATA))
    with pytest.raises(Dlt645Error, match=f"exceeds {MAX_DATA}"):
        encode_frame(ADDRESS, 0x91, bytes(MAX_DATA + 1))


def test_a_cut_frame_after_wake_up_bytes_is_too_short() -> None:
    whole = encode_frame(ADDRESS, 0x11, b"\x00\x00\x01\x00")
    for cut in (6, 10):  # wake-up bytes do not count towards the 12 bytes of a frame
        with pytest.raises(Dlt645Error, match=r"^frame too short$"):
            decode_frame(b"\xfe" * 4 + whole[:cut])


def test_a_missing_second_start_byte_is_named_as_found() -> None:
    frame = bytearray(encode_frame(ADDRESS, 0x11, b"\x00\x00\x01\x00"))
    frame[7] = 0x55
    with pytest.raises(Dlt645Error, match="second start byte 0x68 \\(got 0x55\\)"):
        decode_frame(bytes(frame))
    with pytest.raises(Dlt645Error, match="second start byte 0x68 \\(got 0x55\\)"):
        decode_frame(b"\xfe\xfe" + bytes(frame))
