"""Shared parts of meter simulators: simulated time, load profiles, faults, a simulated bus.

Every meter model ships a simulator that answers real frames. The pieces here are common to
all of them: a clock that may run faster than real time, loads that accumulate energy or
water (constant, a daily curve, a random walk), injected faults (slow, silent, corrupted
checksum), and a bus that serves many simulators on one byte stream the way an RS485 bus
does: every meter hears every frame and only the addressed one answers.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..util.dt import site_time_zone
from .model import FrameParser, Simulator

__all__ = [
    "ConstantLoad",
    "DailyCurve",
    "Faults",
    "LoadProfile",
    "RandomWalk",
    "SimClock",
    "SimulatedBus",
    "SimulatedMeter",
]

_LOGGER = logging.getLogger(__name__)

HOUR = Decimal(3600)


class SimClock:
    """Simulated time: ``start`` plus real elapsed time times ``speed``.

    ``speed`` 0 freezes time (tests then move it with :meth:`advance`); 60 runs an hour a
    minute. The clock is in the site's time zone, like a meter's own clock.
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        self.speed = speed
        self._start = (start or datetime.now(UTC)).astimezone(site_time_zone())
        self._t0 = time.monotonic()
        self._offset = timedelta()

    def now(self) -> datetime:
        """The simulated current time (aware, site time zone)."""
        elapsed = (time.monotonic() - self._t0) * self.speed
        return self._start + self._offset + timedelta(seconds=elapsed)

    def advance(self, delta: timedelta | float) -> None:
        """Jump forward (or set back, for clock-drift tests)."""
        self._offset += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)


class LoadProfile(abc.ABC):
    """A load in kW (electricity) or m³/h (water) over time; integrates to kWh or m³."""

    @abc.abstractmethod
    def rate_at(self, when: datetime) -> Decimal:
        """The load at one instant."""

    def breakpoints(self, start: datetime, end: datetime) -> Iterable[datetime]:
        """Instants in (start, end) where the rate may change (it is constant between)."""
        return ()

    def amount_between(self, start: datetime, end: datetime) -> Decimal:
        """The energy (kWh) or volume (m³) used from ``start`` to ``end``."""
        if end <= start:
            return Decimal(0)
        total = Decimal(0)
        cursor = start
        for point in (*self.breakpoints(start, end), end):
            if point <= cursor:
                continue
            seconds = Decimal((point - cursor).total_seconds())
            total += self.rate_at(cursor) * seconds / HOUR
            cursor = point
        return total


class ConstantLoad(LoadProfile):
    """The same load all the time."""

    def __init__(self, rate: Decimal | str | int) -> None:
        self.rate = Decimal(rate)

    def rate_at(self, when: datetime) -> Decimal:
        return self.rate


class DailyCurve(LoadProfile):
    """24 hourly loads (local time), repeated every day: a household's day."""

    RESIDENTIAL: tuple[str, ...] = (
        "0.15", "0.12", "0.10", "0.10", "0.10", "0.12", "0.35", "0.80", "0.60", "0.30",
        "0.25", "0.40", "0.55", "0.35", "0.25", "0.25", "0.35", "0.70", "1.20", "1.50",
        "1.40", "1.10", "0.60", "0.25",
    )

    def __init__(self, hourly: Sequence[Decimal | str | int] = RESIDENTIAL,
                 scale: Decimal | str | int = 1) -> None:
        if len(hourly) != 24:
            raise ValueError(f"a daily curve needs 24 hourly values, got {len(hourly)}")
        factor = Decimal(scale)
        self.hourly = [Decimal(v) * factor for v in hourly]

    def rate_at(self, when: datetime) -> Decimal:
        return self.hourly[when.astimezone(site_time_zone()).hour]

    def breakpoints(self, start: datetime, end: datetime) -> Iterable[datetime]:
        local = start.astimezone(site_time_zone())
        hour = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        while hour < end:
            yield hour
            hour += timedelta(hours=1)


class RandomWalk(LoadProfile):
    """A load that wanders within [low, high], changing every ``step`` seconds.

    Deterministic for a seed: asking for the same instant always gives the same load, and
    integrating in one piece or many gives the same total.
    """

    def __init__(self, start_rate: Decimal | str, low: Decimal | str, high: Decimal | str,
                 *, step: int = 60, jitter: Decimal | str = "0.05", seed: int = 0,
                 epoch: datetime | None = None) -> None:
        self.low, self.high = Decimal(low), Decimal(high)
        self.step = step
        self.jitter = Decimal(jitter)
        self._rng = random.Random(seed)
        self._epoch = epoch or datetime(2020, 1, 1, tzinfo=UTC)
        self._values = [min(max(Decimal(start_rate), self.low), self.high)]

    def _index(self, when: datetime) -> int:
        return max(0, int((when - self._epoch).total_seconds()) // self.step)

    def rate_at(self, when: datetime) -> Decimal:
        index = self._index(when)
        while len(self._values) <= index:
            delta = Decimal(self._rng.randint(-100, 100)) / 100 * self.jitter
            value = min(max(self._values[-1] + delta, self.low), self.high)
            self._values.append(value.quantize(Decimal("0.0001")))
        return self._values[index]

    def breakpoints(self, start: datetime, end: datetime) -> Iterable[datetime]:
        index = self._index(start) + 1
        while True:
            point = self._epoch + timedelta(seconds=index * self.step)
            if point >= end:
                return
            yield point
            index += 1


@dataclass
class Faults:
    """Misbehaviour a test or the demo can switch on for one simulated meter."""

    silent: bool = False  # never answers
    delay: float = 0.0  # seconds before answering
    corrupt_checksum: bool = False  # answers with a wrong checksum


class SimulatedMeter(Simulator):
    """Base of the simulators: an address, a clock, a load and switchable faults."""

    def __init__(self, address: str, clock: SimClock | None = None,
                 load: LoadProfile | None = None) -> None:
        self.address = address
        self.clock = clock or SimClock()
        self.load = load or ConstantLoad("0.5")
        self.faults = Faults()
        self.requests = 0

    def corrupt(self, reply: bytes) -> bytes:
        """Return the reply with a wrong checksum (default: CS before a final end byte)."""
        data = bytearray(reply)
        data[-2] = (data[-2] + 1) % 256
        return bytes(data)


class SimulatedBus:
    """Serves simulated meters on one byte stream, like meters sharing an RS485 bus.

    Requests are parsed once per protocol and offered to every meter of that protocol; the
    addressed meter answers. With ``baud`` set, each exchange also takes its time on the
    wire (11 bits per byte for 8E1/8N2, 10 for 8N1) plus the meter's ``turnaround``.
    """

    def __init__(self, meters: Iterable[Simulator] = (), *, baud: int | None = None,
                 bits_per_byte: int = 11, turnaround: float = 0.0) -> None:
        self.meters: list[Simulator] = []
        self._parsers: dict[str, FrameParser] = {}
        self.baud = baud
        self.bits_per_byte = bits_per_byte
        self.turnaround = turnaround
        self._index: dict[tuple[str, Any], Simulator] = {}
        self._index_size = -1
        for meter in meters:
            self.add(meter)

    def add(self, meter: Simulator) -> None:
        """Put a meter on the bus."""
        self.meters.append(meter)
        if meter.protocol not in self._parsers:
            self._parsers[meter.protocol] = meter.new_parser()

    def wire_time(self, nbytes: int) -> float:
        """Seconds ``nbytes`` take on the wire at the bus speed (0 without a baud rate)."""
        return nbytes * self.bits_per_byte / self.baud if self.baud else 0.0

    def replies(self, data: bytes) -> list[tuple[Simulator, Any, bytes | None]]:
        """Feed request bytes; return (meter, request frame, reply) for each answer due.

        A frame addressed to one known meter goes to that meter only (a meter ignores
        frames for other addresses anyway); wildcard and broadcast frames go to all.
        """
        out: list[tuple[Simulator, Any, bytes | None]] = []
        index = self._address_index()
        for protocol, parser in self._parsers.items():
            for frame in parser.feed(data):
                target = index.get((protocol, getattr(frame, "address", None)))
                meters = (target,) if target is not None else [
                    m for m in self.meters if m.protocol == protocol]
                for meter in meters:
                    try:
                        reply = meter.handle_frame(frame)
                    except Exception:
                        _LOGGER.exception("Simulated meter %s failed on %r", meter.address,
                                          frame)
                        continue
                    if reply is not None:
                        out.append((meter, frame, reply))
        return out

    def _address_index(self) -> dict[tuple[str, Any], Simulator]:
        if self._index_size != len(self.meters):
            self._index = {}
            for meter in self.meters:
                self._index.setdefault((meter.protocol, meter.address), meter)
            self._index_size = len(self.meters)
        return self._index

    def answers(self, data: bytes) -> list[tuple[float, bytes]]:
        """(delay, reply bytes) for each answer due to ``data``, with each meter's faults
        applied: silent meters say nothing, slow ones wait, corrupt ones spoil the checksum.
        The delay includes the turnaround and the reply's time on the wire."""
        out: list[tuple[float, bytes]] = []
        for meter, _frame, reply in self.replies(data):
            faults: Faults | None = getattr(meter, "faults", None)
            if reply is None or (faults is not None and faults.silent):
                continue
            if faults is not None and faults.corrupt_checksum and isinstance(
                    meter, SimulatedMeter):
                reply = meter.corrupt(reply)
            delay = self.turnaround + (float(faults.delay) if faults is not None else 0.0)
            out.append((delay + self.wire_time(len(reply)), reply))
        return out

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer requests arriving on ``reader`` until it closes."""
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    return
                for delay, reply in self.answers(data):
                    if delay > 0:
                        await asyncio.sleep(delay)
                    writer.write(reply)
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
