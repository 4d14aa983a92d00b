"""Benchmark of the DL/T 645 codec: energy-read reply decodes/s and request encodes/s.

Run with ``.venv/bin/python bench/codec.py``; the last line is the metric:
``METRIC dlt645_decodes_per_s <value> decodes/s``, the median of the timed batches (the best
batch is printed beside it).
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from meterhub_dlt645.codec import Dlt645Parser, decode_frame, read_request
from meterhub_dlt645.dis import decode_value

_LOGGER = logging.getLogger(__name__)

ADDRESS = "202400001234"
DI = 0x00010000
# V1-style reply of meter 202400001234: forward active total 1234.56 kWh
REPLY = bytes.fromhex("6834120000242068910833333433896745332816")
EXPECTED = Decimal("1234.56")


def decode_energy(frame_bytes: bytes = REPLY) -> Decimal:
    """Decode a reply frame and its value, as the model does for each read."""
    frame = decode_frame(frame_bytes)
    data = frame.data
    value = decode_value(int.from_bytes(data[:4], "little"), data[4:])
    assert isinstance(value, Decimal)
    return value


def encode_energy() -> bytes:
    """Build the read request of the forward active total."""
    return read_request(ADDRESS, DI)


def rate(func: Callable[[], object], seconds: float = 2.0) -> tuple[float, float, int]:
    """Calls per second of ``func`` over about ``seconds``: (median, best) of the batches, and
    the number of calls."""
    batch = 20_000
    rates: list[float] = []
    total = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(batch):
            func()
        elapsed = time.perf_counter() - start
        total += batch
        rates.append(batch / elapsed)
    return statistics.median(rates), max(rates), total


def stream_rate(seconds: float = 1.0) -> float:
    """Frames/s through the streaming parser (64 replies per chunk, decoded values)."""
    chunk = REPLY * 64
    parser = Dlt645Parser()
    frames = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for frame in parser.feed(chunk):
            decode_value(int.from_bytes(frame.data[:4], "little"), frame.data[4:])
            frames += 1
    return frames / (time.perf_counter() - start)


def main() -> None:
    """Run the benchmark and print its figures."""
    value = decode_energy()
    if value != EXPECTED:
        raise SystemExit(f"decode gave {value}, expected {EXPECTED}")
    if decode_frame(encode_energy()).di != DI:
        raise SystemExit("encode/decode round trip failed")
    decodes, best_dec, n_dec = rate(decode_energy)
    encodes, best_enc, n_enc = rate(encode_energy)
    streamed = stream_rate()
    print(f"reply decode + value (00010000 -> {value} kWh): {decodes:,.0f} decodes/s "
          f"(median of batches; best {best_dec:,.0f}; {n_dec:,} runs)")
    print(f"request encode (read 00010000 of {ADDRESS}): {encodes:,.0f} encodes/s "
          f"(median; best {best_enc:,.0f}; {n_enc:,} runs)")
    print(f"stream parser, 64 replies per chunk, values decoded: {streamed:,.0f} frames/s")
    print(f"METRIC dlt645_decodes_per_s {decodes:.0f} decodes/s")


if __name__ == "__main__":
    main()
