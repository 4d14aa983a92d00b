"""A simulated RS-485 bus on a pseudo-terminal, at line rate.

The hub opens the pty's slave side as if it were ``/dev/ttyUSB0`` (through a stable symlink,
like ``/dev/serial/by-id/...``); the simulated meters sit on the master side. Each byte takes
its real time on the wire: a request is heard only after its last bit has arrived, the
addressed meter answers after its turnaround, and the reply arrives when its last bit would.
:meth:`SimulatedSerialBus.unplug` and :meth:`replug` imitate a USB adapter pulled out and
plugged back in.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import termios
import tty
from dataclasses import dataclass
from pathlib import Path

from hub.metering.sim import Faults, SimulatedBus, SimulatedMeter

_LOGGER = logging.getLogger(__name__)

READ_SIZE = 4096


@dataclass
class WireCounters:
    """What crossed the simulated wire (for utilisation figures)."""

    requests: int = 0
    replies: int = 0
    bytes_in: int = 0  # request bytes (hub to meters)
    bytes_out: int = 0  # reply bytes (meters to hub)
    busy: float = 0.0  # seconds the wire carried bits


class SimulatedSerialBus:
    """Serves a :class:`~hub.metering.sim.SimulatedBus` on a pty; ``path`` links to the slave."""

    def __init__(self, bus: SimulatedBus, path: str | Path, *, name: str = "",
                 echo: bool = False) -> None:
        self.bus = bus
        # an optical (infrared) head hears its own light: every request comes back first
        self.echo = echo
        self.path = Path(path)
        self.name = name or self.path.name
        self.counters = WireCounters()
        self._master: int | None = None
        self._slave: int | None = None
        self._pending = bytearray()
        self._heard_at = 0.0  # when the last request bit has arrived
        self._wire_free = 0.0
        self._process_handle: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.TimerHandle] = set()

    @property
    def plugged(self) -> bool:
        """Whether the pty exists."""
        return self._master is not None

    @property
    def device(self) -> str | None:
        """The slave device (``/dev/pts/N``) now behind :attr:`path`."""
        return os.ttyname(self._slave) if self._slave is not None else None

    async def start(self) -> None:
        """Create the pty and the symlink, and start answering."""
        self.replug()

    async def stop(self) -> None:
        """Remove the pty and the symlink."""
        self.unplug()

    def replug(self) -> None:
        """Create a new pty pair (a new ``/dev/pts/N``) and point :attr:`path` at it."""
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)  # no echo, no line editing: bytes pass as they are
        os.set_blocking(master, False)
        self._master, self._slave = master, slave  # our slave fd keeps the master readable
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.path)
        asyncio.get_running_loop().add_reader(master, self._readable)
        _LOGGER.info("Simulated bus %s: %d meters on %s (%s)", self.name, len(self.bus.meters),
                     self.path, os.ttyname(slave))

    def unplug(self) -> None:
        """Close the pty (the hub's reads fail) and remove the symlink."""
        master, slave = self._master, self._slave
        if master is None:
            return
        self._master = self._slave = None
        asyncio.get_running_loop().remove_reader(master)
        for handle in (*self._writes, self._process_handle):
            if handle is not None:
                handle.cancel()
        self._writes.clear()
        self._process_handle = None
        self._pending.clear()
        with contextlib.suppress(FileNotFoundError):
            if self.path.is_symlink():
                self.path.unlink()
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)  # type: ignore[arg-type]

    # --- the wire -----------------------------------------------------------------

    def _readable(self) -> None:
        master = self._master
        if master is None:
            return
        try:
            data = os.read(master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as err:
            if err.errno != errno.EIO:
                _LOGGER.warning("Simulated bus %s: read failed: %s", self.name, err)
            return
        if not data:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.counters.bytes_in += len(data)
        on_wire = self.bus.wire_time(len(data))
        self.counters.busy += on_wire
        # the hub's UART sends the bytes one after another, after anything still on the wire
        self._heard_at = max(self._heard_at, self._wire_free, now) + on_wire
        self._wire_free = self._heard_at
        self._pending += data
        if self.echo:
            self._writes.add(loop.call_at(self._heard_at, self._write, data))
        if self._process_handle is not None:
            self._process_handle.cancel()
        self._process_handle = loop.call_at(self._heard_at, self._process)

    def _process(self) -> None:
        self._process_handle = None
        data = bytes(self._pending)
        self._pending.clear()
        loop = asyncio.get_running_loop()
        for meter, _frame, reply in self.bus.replies(data):
            self.counters.requests += 1
            faults: Faults | None = getattr(meter, "faults", None)
            if reply is None or (faults is not None and faults.silent):
                continue
            if faults is not None and faults.corrupt_checksum and isinstance(
                    meter, SimulatedMeter):
                reply = meter.corrupt(reply)
            start = max(loop.time(), self._wire_free) + self.bus.turnaround
            start += float(faults.delay) if faults is not None else 0.0
            on_wire = self.bus.wire_time(len(reply))
            self._wire_free = start + on_wire
            self.counters.busy += on_wire
            handle = loop.call_at(self._wire_free, self._write, reply)
            self._writes.add(handle)

    def _write(self, reply: bytes) -> None:
        self._writes = {h for h in self._writes if not h.cancelled() and h.when() >
                        asyncio.get_running_loop().time()}
        master = self._master
        if master is None:
            return
        try:
            os.write(master, reply)
        except OSError as err:  # the hub closed its side and the tty buffer is full
            _LOGGER.debug("Simulated bus %s: reply dropped: %s", self.name, err)
            return
        self.counters.replies += 1
        self.counters.bytes_out += len(reply)
