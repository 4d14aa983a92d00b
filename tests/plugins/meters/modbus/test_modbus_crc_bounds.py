"""The CRC check of a Modbus RTU frame at its shortest (the case tools/mutate.py found
unguarded): a frame of exactly the minimum length with the right CRC is whole."""

from __future__ import annotations

from meterhub_modbus.frames import MIN_FRAME, crc, crc_ok


def test_the_shortest_frame_with_its_crc_is_ok() -> None:
    body = bytes([0x01, 0x83, 0x02][: MIN_FRAME - 2])
    frame = body + crc(body)
    assert len(frame) == MIN_FRAME and crc_ok(frame)
    assert not crc_ok(frame[:-1] + bytes([frame[-1] ^ 0x01]))  # one bit off
    assert not crc_ok(frame[1:])  # shorter than any frame
