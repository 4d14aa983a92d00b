"""The contract between meter models, links and the rest of the hub.

A *meter model* (``ddsy``, ``dtsy``, ``nb_water``, ``sdm120``...) knows one protocol's bytes:
it encodes requests, decodes replies and declares, as data, which points it can read and
which capabilities it has. It never does I/O: it talks through a :class:`Transport` that a
*link* plugin (serial bus, DTU connection, simulator) provides. Every model ships a
:class:`Simulator` that answers the same frames, so demos and tests need no hardware.

Readings use one vocabulary of point keys whatever the protocol (see :mod:`.points`), so
storage, billing and prepaid never see a data identifier or a register address.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import voluptuous as vol

from ..i18n import Joined, Text, text_of
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = [
    "Capability",
    "Command",
    "CommandResult",
    "FrameParser",
    "FrozenDays",
    "MeterEventRecord",
    "MeterEvents",
    "MeterKind",
    "MeterModel",
    "MeterRef",
    "MeterRefused",
    "NoReply",
    "ProtocolCodec",
    "ProtocolError",
    "ReadResult",
    "Simulator",
    "Transport",
    "WritableParam",
]


class MeterKind(StrEnum):
    """What a meter measures."""

    ELECTRICITY = "electricity"
    WATER = "water"


class Capability(StrEnum):
    """What a meter model can do beyond reading its main register."""

    RELAY = "relay"  # can trip / close a load relay
    VALVE = "valve"  # can open / close a water valve
    TOU = "tou"  # keeps time-of-use tariff registers (T1..T4 = sharp/peak/flat/valley)
    THREE_PHASE = "three_phase"
    PREPAID = "prepaid"  # keeps its own remaining-amount / overdraft registers
    CLOCK = "clock"  # has a readable and settable clock
    INSTANT = "instant"  # reports instantaneous values (voltage, current, power...)
    SLEEPY = "sleepy"  # NB-IoT style: reports on its own schedule, commands wait for it
    DAILY_FROZEN = "daily_frozen"  # keeps daily frozen registers (日冻结) to fill gaps from
    EVENTS = "events"  # keeps event records (cover opened, power down, programming...)
    LOAD_PROFILE = "load_profile"  # keeps interval load records (负荷记录) to fill gaps from


class Command(StrEnum):
    """Remote control commands a model may support."""

    TRIP = "trip"
    CLOSE = "close"  # close directly (or "close allowed", per model option)
    ALARM_ON = "alarm_on"
    ALARM_OFF = "alarm_off"
    PROTECT_ON = "protect_on"  # meter-side 保电: refuses trips until released
    PROTECT_OFF = "protect_off"
    VALVE_OPEN = "valve_open"
    VALVE_CLOSE = "valve_close"


class ProtocolError(Exception):
    """A frame could not be encoded or decoded; the message says exactly why."""


class MeterRefused(ProtocolError):
    """The meter answered with an abnormal (error) reply; ``reasons`` are readable, ``code``
    is the protocol's error word as printed (``ERR 01``), if it has one."""

    def __init__(self, message: str, reasons: Sequence[str] = (), code: str | None = None
                 ) -> None:
        super().__init__(message)
        self.reasons = list(reasons)
        self.code = code

    @property
    def summary(self) -> str:
        """Each reason once, then the error word: ``other error (ERR 01)``; else the message."""
        if not self.reasons:
            return text_of(self)
        reasons = Joined(dict.fromkeys(self.reasons))
        return Text("metering.refused_code", reasons=reasons, code=self.code) if self.code \
            else reasons


class NoReply(Exception):
    """No acceptable reply arrived within the timeout."""


@runtime_checkable
class FrameParser(Protocol):
    """Finds whole frames in a byte stream (garbage, wake-up bytes, split and merged frames).

    ``feed`` returns the frames completed by ``data`` in order; its buffer stays bounded.
    """

    def feed(self, data: bytes) -> list[Any]:
        """Add bytes; return every frame now complete."""
        ...

    def reset(self) -> None:
        """Forget any partial frame."""
        ...


class Transport(Protocol):
    """What a meter model sees of a link: one request, one matching reply, or none."""

    async def transact(
        self,
        request: bytes,
        parser: FrameParser,
        accept: Callable[[Any], bool],
        timeout: float,
    ) -> Any:
        """Send ``request``; return the first parsed frame that ``accept`` takes.

        Frames that do not match (another meter's reply, a stale answer) are skipped.
        Raises :class:`NoReply` after ``timeout`` seconds. Requests on one bus or one DTU
        are serialised by the link; callers never interleave.
        """
        ...

    async def send(self, data: bytes) -> None:
        """Send bytes that get no reply (broadcast time sync, broadcast freeze)."""
        ...


@dataclass(frozen=True, slots=True)
class MeterRef:
    """The parts of a meter's configuration a model needs to talk to it."""

    id: str
    address: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ReadResult:
    """What one read of a meter produced, in the hub's point vocabulary.

    ``registers`` are cumulative counters (kWh, m³), ``values`` instantaneous quantities,
    ``status`` decoded state (``relay``: open/closed, ``valve``: open/closed/abnormal,
    ``battery_low``...) and raw status words, ``meter_time`` the meter's own clock.
    ``errors`` maps a point that could not be read to the reason (a partial read).
    """

    registers: dict[str, Decimal] = field(default_factory=dict)
    values: dict[str, Decimal] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    meter_time: datetime | None = None
    errors: dict[str, str] = field(default_factory=dict)
    frames: int = 0  # request/reply exchanges it took

    def merge(self, other: ReadResult) -> None:
        """Add another partial result to this one."""
        self.registers.update(other.registers)
        self.values.update(other.values)
        self.status.update(other.status)
        self.meter_time = other.meter_time or self.meter_time
        self.errors.update(other.errors)
        self.frames += other.frames


@dataclass(slots=True)
class FrozenDays:
    """Daily frozen records read from a meter's memory: each a result whose ``meter_time``
    is the freeze time (site-local, aware), oldest first; ``refused`` names the records not
    taken and why (an impossible date, a record that does not decode)."""

    records: list[ReadResult] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MeterEventRecord:
    """One record of a meter's own event log, with the meter's timestamps (site-local)."""

    kind: str  # cover_open, terminal_cover_open, power_down, programming, clock_change...
    started: datetime
    ended: datetime | None = None
    count: int = 0  # the meter's count of such events up to this one
    tamper: bool = False
    operator: str | None = None
    detail: Mapping[str, Any] | None = None


@dataclass(slots=True)
class MeterEvents:
    """What a read of a meter's event log found: its counts per kind, the records newer than
    the counts the hub knew (oldest first) and the kinds it could not read, with why."""

    counts: dict[str, int] = field(default_factory=dict)
    records: list[MeterEventRecord] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The meter's answer to a command: accepted or not (acceptance is not confirmation)."""

    accepted: bool
    detail: str = ""


def _equal(wanted: Any, actual: Any, elapsed: float) -> bool:
    return bool(wanted == actual)


@dataclass(frozen=True, slots=True)
class WritableParam:
    """A parameter a model lets the hub write (``device.write``) and read back.

    ``parse`` turns the JSON value a service call gives into the typed value the model
    writes (raising ``vol.Invalid`` or ``ValueError`` naming what is wrong); ``dump`` turns
    it back into JSON (stored with the durable command); ``same(wanted, read_back,
    elapsed_seconds)`` says whether what the meter reads back is what was written
    (a clock has moved on by ``elapsed_seconds`` since).
    """

    name: str
    description: str
    parse: Callable[[Any], Any]
    dump: Callable[[Any], Any] = str
    unit: str = ""
    same: Callable[[Any, Any, float], bool] = _equal


class MeterModel(abc.ABC):
    """A meter model: protocol codec plus the model's points and capabilities, as data."""

    name: str
    kind: MeterKind
    protocol: str
    capabilities: frozenset[Capability]
    description: str = ""

    # Extra keys a meter of this model may set in YAML (password, operator code...).
    options_schema: Mapping[Any, Any] = {}

    @abc.abstractmethod
    def validate_address(self, address: Any) -> str:
        """Return the address normalised, or raise ``vol.Invalid`` saying what is expected."""

    def kind_of(self, meter: MeterRef) -> MeterKind:
        """What one meter of this model measures (a map-driven model may say per meter)."""
        return self.kind

    def points(self) -> Sequence[str]:
        """Every point key this model can read."""
        return []

    def default_points(self) -> Sequence[str]:
        """The points a scheduled read fetches (registers, key values, relay status)."""
        return self.points()

    @abc.abstractmethod
    async def read(
        self, transport: Transport, meter: MeterRef, points: Sequence[str] | None = None
    ) -> ReadResult:
        """Read points (default: :meth:`default_points`) from one meter."""

    async def command(
        self, transport: Transport, meter: MeterRef, command: Command
    ) -> CommandResult:
        """Send a control command; confirmation is the caller's job (read status back)."""
        raise ProtocolError(Text("metering.model_command", model=self.name, command=str(command)))

    async def read_clock(self, transport: Transport, meter: MeterRef) -> datetime:
        """Read the meter's clock (site-local time made aware)."""
        raise ProtocolError(Text("metering.model_clock", model=self.name))

    async def sync_time(self, transport: Transport, meter: MeterRef | None,
                        now: datetime) -> None:
        """Set the clock of one meter, or of every meter on the link when ``meter`` is None."""
        raise ProtocolError(Text("metering.model_set_clock", model=self.name))

    async def read_daily_frozen(self, transport: Transport, meter: MeterRef,
                                after: datetime) -> FrozenDays:
        """The daily frozen records newer than ``after`` (models with DAILY_FROZEN)."""
        raise ProtocolError(Text("metering.model_frozen", model=self.name))

    async def read_load_records(self, transport: Transport, meter: MeterRef,
                                after: datetime, before: datetime) -> FrozenDays:
        """The interval load records strictly between ``after`` and ``before``, oldest first
        (models with LOAD_PROFILE)."""
        raise ProtocolError(Text("metering.model_load", model=self.name))

    async def read_events(self, transport: Transport, meter: MeterRef,
                          known: Mapping[str, int]) -> MeterEvents:
        """The event records added since the counts in ``known`` (per kind; a kind not in it:
        the latest few), models with EVENTS."""
        raise ProtocolError(Text("metering.model_events", model=self.name))

    def writable(self) -> Mapping[str, WritableParam]:
        """The parameters ``device.write`` may set on a meter of this model (none by default)."""
        return {}

    async def write_param(self, transport: Transport, meter: MeterRef, name: str,
                          value: Any) -> None:
        """Write one declared parameter (a value from its ``parse``); acceptance only.

        Raises :class:`MeterRefused` with the meter's reason, :class:`NoReply`, or
        :class:`ProtocolError` for a value the protocol cannot carry.
        """
        raise ProtocolError(Text("metering.model_write", model=self.name, param=name))

    async def read_param(self, transport: Transport, meter: MeterRef, name: str) -> Any:
        """Read one declared parameter back from the meter (the typed value ``parse`` gives)."""
        raise ProtocolError(Text("metering.model_read_param", model=self.name, param=name))

    def decode_uplink(self, data: bytes, meter: MeterRef) -> ReadResult:
        """Decode bytes a sleeping meter pushed by itself (an NB-IoT report) into a result.

        Raises :class:`ProtocolError` with the reason when the bytes are not a report.
        """
        raise ProtocolError(Text("metering.model_push", model=self.name))

    @abc.abstractmethod
    def create_simulator(self, address: str, **options: Any) -> Simulator:
        """A simulated meter of this model at ``address`` (see :class:`Simulator`).

        ``options`` carry ``clock`` (a SimClock), ``load`` (a LoadProfile) and the meter's
        model options from YAML (password, DI order...); unknown keys are ignored.
        """

    def options(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        """Validate a meter's model options; raises ``vol.Invalid`` with the key path."""
        schema = self.__dict__.get("_options_validator")
        if schema is None:  # compiled once per model: reads call this on the hot path
            schema = self.__dict__["_options_validator"] = vol.Schema(dict(self.options_schema))
        return dict(schema(dict(raw)))


class ProtocolCodec(abc.ABC):
    """A protocol as a field technician's frame tool sees it (``meterhub frame ...``)."""

    name: str  # dlt645, cjt188, modbus_rtu
    description: str = ""
    actions: Sequence[str] = ()  # what encode() can build: read, trip, close, time-sync...

    @abc.abstractmethod
    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode one frame into a JSON-friendly dict (address, control and its meaning,
        direction, data identifier and its name, values with units, error reasons).

        Raises :class:`ProtocolError` with a one-line reason for anything invalid.
        """

    @abc.abstractmethod
    def encode(self, action: str, address: str, **params: Any) -> bytes:
        """Build a request frame; raises :class:`ProtocolError` naming a bad argument."""


class Simulator(abc.ABC):
    """A simulated meter that answers real frames, addressed to it, with real frames."""

    address: str
    protocol: str

    @abc.abstractmethod
    def new_parser(self) -> FrameParser:
        """A parser for the requests this simulator understands."""

    @abc.abstractmethod
    def handle_frame(self, frame: Any) -> bytes | None:
        """Answer one parsed request frame (None: not for me, or no answer)."""
