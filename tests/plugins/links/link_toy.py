"""A tiny test-only meter model and simulator ("toy"): a 645-shaped frame without the offset.

Frame: ``68 A0..A5 68 C L DATA CS 16``; the address is 12 decimal digits, low byte first.
Requests: ``0x11`` read with one point byte (1 energy, 2 voltage, 3 relay); replies ``0x91``
with the point byte and 4 value bytes (big-endian hundredths). ``0x1C`` with ``1A`` trips,
``1B`` closes; the reply is ``0x9C``.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hub.hookspecs import hookimpl
from hub.metering.model import (
    Capability,
    Command,
    CommandResult,
    MeterKind,
    MeterModel,
    MeterRef,
    NoReply,
    ProtocolError,
    ReadResult,
    Simulator,
    Transport,
)
from hub.metering.sim import SimClock, SimulatedMeter

POINTS = {1: "energy_import_total", 2: "voltage", 3: "relay"}
MAX_BUFFER = 512


@dataclass(frozen=True)
class ToyFrame:
    """One parsed toy frame."""

    address: str
    control: int
    data: bytes


def encode(address: str, control: int, data: bytes = b"") -> bytes:
    """Build a toy frame."""
    addr = bytes.fromhex(address)[::-1]
    body = bytes((0x68, *addr, 0x68, control, len(data))) + data
    return body + bytes((sum(body) & 0xFF, 0x16))


class ToyParser:
    """Stream parser: hunts 68, checks the second 68, length, checksum and 16."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def reset(self) -> None:
        self.buf.clear()

    def feed(self, data: bytes) -> list[ToyFrame]:
        buf = self.buf
        buf += data
        frames: list[ToyFrame] = []
        while True:
            start = buf.find(0x68)
            if start < 0:
                buf.clear()
                break
            del buf[:start]
            if len(buf) < 10:
                break
            if buf[7] != 0x68:
                del buf[:1]
                continue
            size = 12 + buf[9]
            if len(buf) < size:
                break
            if buf[size - 2] != sum(buf[:size - 2]) & 0xFF or buf[size - 1] != 0x16:
                del buf[:1]
                continue
            frames.append(ToyFrame(bytes(buf[1:7][::-1]).hex(), buf[8],
                                   bytes(buf[10:size - 2])))
            del buf[:size]
        if len(buf) > MAX_BUFFER:
            del buf[:len(buf) - MAX_BUFFER]
        return frames


class ToySimulator(SimulatedMeter):
    """A toy meter: energy grows by 0.01 kWh per read, voltage 220, relay closed or open."""

    protocol = "toy"

    def __init__(self, address: str, clock: SimClock | None = None, **_: Any) -> None:
        super().__init__(address, clock)
        self.energy = Decimal("100.00")
        self.relay_open = False
        self.on_request: Callable[[ToyFrame], None] | None = None

    def new_parser(self) -> ToyParser:
        return ToyParser()

    def handle_frame(self, frame: Any) -> bytes | None:
        if not isinstance(frame, ToyFrame) or frame.address != self.address:
            return None
        if frame.control & 0x80:
            return None
        self.requests += 1
        if self.on_request is not None:
            self.on_request(frame)
        if frame.control == 0x11 and frame.data:
            point = frame.data[0]
            if point == 1:
                self.energy += Decimal("0.01")
                value = int(self.energy * 100)
            elif point == 2:
                value = 22000
            elif point == 3:
                value = 1 if self.relay_open else 0
            else:
                return encode(self.address, 0xD1, b"\x02")
            return encode(self.address, 0x91, bytes((point,)) + value.to_bytes(4, "big"))
        if frame.control == 0x1C and frame.data:
            self.relay_open = frame.data[0] == 0x1A
            return encode(self.address, 0x9C)
        return None


class ToyModel(MeterModel):
    """The toy meter model."""

    name = "toy"
    kind = MeterKind.ELECTRICITY
    protocol = "toy"
    capabilities = frozenset({Capability.RELAY, Capability.INSTANT})

    def validate_address(self, address: Any) -> str:
        return str(address).zfill(12)

    def points(self) -> Sequence[str]:
        return list(POINTS.values())

    async def _exchange(self, transport: Transport, meter: MeterRef, control: int,
                        data: bytes) -> ToyFrame:
        def accept(frame: Any) -> bool:
            return (isinstance(frame, ToyFrame) and frame.address == meter.address
                    and frame.control & 0x1F == control and frame.control & 0x80 != 0)

        frame: ToyFrame = await transport.transact(encode(meter.address, control, data),
                                                   ToyParser(), accept, 1.0)
        return frame

    async def read(self, transport: Transport, meter: MeterRef,
                   points: Sequence[str] | None = None) -> ReadResult:
        result = ReadResult()
        wanted = points or self.points()
        for code, key in POINTS.items():
            if key not in wanted:
                continue
            try:
                frame = await self._exchange(transport, meter, 0x11, bytes((code,)))
            except NoReply as err:
                result.errors[key] = str(err)
                continue
            result.frames += 1
            value = int.from_bytes(frame.data[1:5], "big")
            if key == "relay":
                result.status["relay"] = "open" if value else "closed"
            elif key == "voltage":
                result.values[key] = Decimal(value) / 100
            else:
                result.registers[key] = Decimal(value) / 100
        if not result.frames:
            raise NoReply("; ".join(result.errors.values()))
        return result

    async def command(self, transport: Transport, meter: MeterRef,
                      command: Command) -> CommandResult:
        codes = {Command.TRIP: 0x1A, Command.CLOSE: 0x1B}
        if command not in codes:
            raise ProtocolError(f"toy cannot {command}")
        await self._exchange(transport, meter, 0x1C, bytes((codes[command],)))
        return CommandResult(True)

    def create_simulator(self, address: str, **options: Any) -> Simulator:
        return ToySimulator(address, **options)


@hookimpl
def register_meter_models() -> list[MeterModel]:
    """The toy model."""
    return [ToyModel()]


plugin = types.SimpleNamespace(register_meter_models=register_meter_models)
