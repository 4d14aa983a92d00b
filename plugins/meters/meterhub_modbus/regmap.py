"""Register maps: which registers hold which hub point, as data (YAML or a Python table).

A map says what the meter measures (``kind: electricity`` by default, or ``water``), lists
registers (``point``, ``address``, ``type``, optional ``function``, ``order``, ``scale``
and ``unit``) and optionally a ``relay``. Values are ``raw × scale`` in ``unit``
(the unit the meter uses), then converted exactly to the hub point's unit (W → kW...).
Reads are planned as few requests as possible: points of one function whose registers
touch (or lie within ``max_gap`` registers of each other) share a request of at most
``max_span`` registers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text
from hub.metering.model import MeterKind
from hub.metering.points import POINTS, RELAY_CLOSED, RELAY_OPEN, PointType
from hub.yamlload import load_yaml, position_of

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import (
    MAX_READ_REGISTERS,
    READ_COILS,
    READ_DISCRETE_INPUTS,
    READ_HOLDING,
    READ_INPUT,
    WRITE_COIL,
    WRITE_REGISTER,
    WRITE_REGISTERS,
)
from .values import ByteOrder, DataType, decode_value, encode_value

_LOGGER = logging.getLogger(__name__)

RELAY_POINT: Final = "relay"

# Units a meter may report a point in, with the exact factor to the hub point's unit.
UNIT_FACTORS: Final[dict[str, dict[str, Decimal]]] = {
    "kW": {"W": Decimal("0.001"), "kW": Decimal(1), "MW": Decimal(1000)},
    "kWh": {"Wh": Decimal("0.001"), "kWh": Decimal(1), "MWh": Decimal(1000)},
    "V": {"V": Decimal(1), "mV": Decimal("0.001"), "kV": Decimal(1000)},
    "A": {"A": Decimal(1), "mA": Decimal("0.001")},
    "Hz": {"Hz": Decimal(1)},
    "": {"": Decimal(1), "%": Decimal("0.01")},
    "m3": {"m3": Decimal(1), "L": Decimal("0.001")},
    "m3/h": {"m3/h": Decimal(1), "L/h": Decimal("0.001")},
    "CNY": {"CNY": Decimal(1), "fen": Decimal("0.01")},
}

_READABLE: Final = sorted(key for key, info in POINTS.items() if info.type is not PointType.STATUS)


@dataclass(frozen=True, slots=True)
class RegisterPoint:
    """One hub point held in registers."""

    point: str
    function: int  # 3 holding, 4 input
    address: int
    type: DataType
    order: ByteOrder = ByteOrder.ABCD
    scale: Decimal = Decimal(1)
    unit: str = ""
    factor: Decimal = Decimal(1)  # meter unit -> hub unit

    @property
    def count(self) -> int:
        """Registers the value takes."""
        return self.type.registers

    @property
    def end(self) -> int:
        """The register after the last one."""
        return self.address + self.count

    def decode(self, registers: Sequence[int]) -> Decimal:
        """The point's value in the hub's unit (exact)."""
        return decode_value(registers, self.type, self.order) * self.scale * self.factor

    def encode(self, value: Decimal) -> list[int]:
        """Registers holding ``value`` (hub unit), saturated to the type's range."""
        return encode_value(value / self.factor / self.scale, self.type, self.order,
                            clamp=True)


@dataclass(frozen=True, slots=True)
class RelayMap:
    """Where a meter's load relay is written and read back."""

    coil: bool
    address: int
    write_function: int  # 05 coil; 06 or 10 register
    read_function: int  # 01/02 coil; 03/04 register
    read_address: int
    closed: int = 1  # value with the relay closed (power on)
    open: int = 0  # value with the relay open (tripped)

    def status_point(self) -> RegisterPoint | None:
        """The read-back as a register point (None for a coil)."""
        if self.coil:
            return None
        return RegisterPoint(RELAY_POINT, self.read_function, self.read_address,
                             DataType.UINT16)

    def state(self, value: int) -> str | None:
        """``closed``/``open`` for a value read back (None if it is neither)."""
        if value == self.closed:
            return RELAY_CLOSED
        if value == self.open:
            return RELAY_OPEN
        return None


@dataclass(frozen=True, slots=True)
class Block:
    """Registers read with one request, and the points they hold."""

    function: int
    address: int
    count: int
    points: tuple[RegisterPoint, ...]


@dataclass(frozen=True, slots=True)
class RegisterMap:
    """A meter model's registers as data."""

    name: str
    points: tuple[RegisterPoint, ...]
    relay: RelayMap | None = None
    description: str = ""
    kind: MeterKind = MeterKind.ELECTRICITY
    max_gap: int = 0
    max_span: int = MAX_READ_REGISTERS
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    def point_keys(self) -> list[str]:
        """Every point a read of the whole map gives."""
        keys = [p.point for p in self.points]
        return [*keys, RELAY_POINT] if self.relay else keys

    def with_limits(self, max_gap: int | None, max_span: int | None) -> RegisterMap:
        """The same map with other request-planning limits."""
        return replace(self, max_gap=self.max_gap if max_gap is None else max_gap,
                       max_span=self.max_span if max_span is None else max_span)

    def plan(self, points: Iterable[RegisterPoint]) -> list[Block]:
        """Group points into as few read requests as the limits allow."""
        blocks: list[Block] = []
        ordered = sorted(points, key=lambda p: (p.function, p.address, p.count))
        members: list[RegisterPoint] = []
        start = end = function = 0
        for point in ordered:
            if members and point.function == function \
                    and point.address - end <= self.max_gap \
                    and max(end, point.end) - start <= self.max_span:
                members.append(point)
                end = max(end, point.end)
                continue
            if members:
                blocks.append(Block(function, start, end - start, tuple(members)))
            members, start, end, function = [point], point.address, point.end, point.function
        if members:
            blocks.append(Block(function, start, end - start, tuple(members)))
        return blocks


# --- validation ---------------------------------------------------------------------------


def register_address(value: Any) -> int:
    """A register or coil address 0..65535, decimal or ``0x`` hex."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, Decimal) and value == value.to_integral_value():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip(), 0)
        except ValueError:
            number = None
    if number is None or not 0 <= number <= 0xFFFF:
        raise vol.Invalid(Text("modbus.register_address", value=cv.show_value(value)))
    return number


def _choice(*choices: int, what: str) -> Any:
    def _validate(value: Any) -> int:
        try:
            number = register_address(value)
        except vol.Invalid:
            number = -1
        if number not in choices:
            allowed = ", ".join(str(c) for c in choices)
            raise vol.Invalid(Text("modbus.choice", what=what, allowed=allowed,
                                   value=cv.show_value(value)))
        return number

    return _validate


def _word(value: Any) -> int:
    try:
        return register_address(value)
    except vol.Invalid:
        raise vol.Invalid(Text("modbus.register_value", value=cv.show_value(value))) from None


def _scale(value: Any) -> Decimal:
    number = cv.decimal(value)
    if number == 0:
        raise vol.Invalid(Text("modbus.scale_zero"))
    return number


def _point_key(value: Any) -> str:
    key = cv.string(value)
    info = POINTS.get(key)
    if info is None:
        import difflib

        close = difflib.get_close_matches(key, _READABLE, 1, 0.6)
        hint = Text("modbus.did_you_mean", name=close[0]) if close else ""
        raise vol.Invalid(Text("modbus.point", value=cv.show_value(value), hint=hint))
    if info.type is PointType.STATUS:
        raise vol.Invalid(Text("modbus.status_point", key=repr(key)))
    return key


_DATA_TYPES = cv.one_of(*(t.value for t in DataType))
_ORDERS = cv.one_of(*(o.value for o in ByteOrder))
_REGISTER_FUNCTION = _choice(READ_HOLDING, READ_INPUT, what=Text("modbus.function"))

ENTRY_SCHEMA = cv.Strict({
    vol.Required("point"): _point_key,
    vol.Required("address"): register_address,
    vol.Required("type"): _DATA_TYPES,
    vol.Optional("function"): _REGISTER_FUNCTION,
    vol.Optional("order"): _ORDERS,
    vol.Optional("scale", default=Decimal(1)): _scale,
    vol.Optional("unit"): cv.string,
})

RELAY_SCHEMA = cv.Strict({
    vol.Optional("coil"): register_address,
    vol.Optional("register"): register_address,
    vol.Optional("write_function"): _choice(WRITE_COIL, WRITE_REGISTER, WRITE_REGISTERS,
                                            what=Text("modbus.write_function")),
    vol.Optional("read_function"): _choice(READ_COILS, READ_DISCRETE_INPUTS, READ_HOLDING,
                                           READ_INPUT, what=Text("modbus.read_function")),
    vol.Optional("read_address"): register_address,
    vol.Optional("closed", default=1): _word,
    vol.Optional("open", default=0): _word,
})

# The keys of a map; a user model's options add ``map`` / ``timeout`` around them.
MAP_KEYS: Final[dict[Any, Any]] = {
    vol.Optional("name"): cv.string,
    vol.Optional("description"): cv.string,
    vol.Optional("kind", default=MeterKind.ELECTRICITY.value): cv.one_of(
        *(kind.value for kind in MeterKind)),
    vol.Optional("function", default=READ_INPUT): _REGISTER_FUNCTION,
    vol.Optional("byte_order", default=ByteOrder.ABCD.value): _ORDERS,
    vol.Optional("max_gap", default=0): vol.All(cv.non_negative_int,
                                                vol.Range(max=MAX_READ_REGISTERS - 1)),
    vol.Optional("max_span", default=MAX_READ_REGISTERS): vol.All(
        cv.positive_int, vol.Range(max=MAX_READ_REGISTERS)),
    vol.Required("registers"): list,
    vol.Optional("relay"): RELAY_SCHEMA,
}
MAP_SCHEMA: Final = cv.Strict(MAP_KEYS)


def _check_entry(index: int, entry: dict[str, Any], seen: dict[str, int]) -> list[vol.Invalid]:
    errors: list[vol.Invalid] = []
    point = entry["point"]
    if point in seen:
        errors.append(vol.Invalid(Text("modbus.point_again", point=repr(point), index=seen[point]),
                                  path=[index, "point"]))
    seen.setdefault(point, index)
    hub_unit = POINTS[point].unit
    units = UNIT_FACTORS.get(hub_unit, {hub_unit: Decimal(1)})
    unit = entry.setdefault("unit", hub_unit)
    if unit not in units:
        shown = ", ".join(u or repr(u) for u in units)
        errors.append(vol.Invalid(Text("modbus.unit", point=point,
                                       unit=hub_unit or Text("modbus.no_unit"), units=shown,
                                       value=cv.show_value(unit)),
                                  path=[index, "unit"]))
    if entry["address"] + DataType(entry["type"]).registers - 1 > 0xFFFF:
        errors.append(vol.Invalid(Text("modbus.past_end", type=entry["type"],
                                       address=entry["address"]), path=[index, "address"]))
    return errors


def _check_relay(relay: dict[str, Any]) -> dict[str, Any]:
    coil = "coil" in relay
    if coil and "register" in relay:
        raise vol.Invalid(Text("modbus.coil_and_register"))
    if not coil and "register" not in relay:
        raise vol.Invalid(Text("modbus.relay_needs"), path=["register"])
    if coil:
        write = relay.setdefault("write_function", WRITE_COIL)
        read = relay.setdefault("read_function", READ_COILS)
        if write != WRITE_COIL:
            raise vol.Invalid(Text("modbus.coil_write", value=write),
                              path=["write_function"])
        if read not in (READ_COILS, READ_DISCRETE_INPUTS):
            raise vol.Invalid(Text("modbus.coil_read", value=read),
                              path=["read_function"])
        for key in ("closed", "open"):
            if relay[key] not in (0, 1):
                raise vol.Invalid(Text("modbus.coil_value", value=relay[key]), path=[key])
    else:
        write = relay.setdefault("write_function", WRITE_REGISTERS)
        read = relay.setdefault("read_function", READ_HOLDING)
        if write not in (WRITE_REGISTER, WRITE_REGISTERS):
            raise vol.Invalid(Text("modbus.register_write", value=write),
                              path=["write_function"])
        if read not in (READ_HOLDING, READ_INPUT):
            raise vol.Invalid(Text("modbus.register_read", value=read),
                              path=["read_function"])
    relay.setdefault("read_address", relay["coil" if coil else "register"])
    if relay["closed"] == relay["open"]:
        raise vol.Invalid(Text("modbus.same_states", value=relay["open"]),
                          path=["closed"])
    return relay


def validate_map(raw: Any) -> dict[str, Any]:
    """Validate a register map; returns it normalised (itself valid input).

    Raises ``vol.MultipleInvalid`` with one error per problem, paths like
    ``registers[2].type``.
    """
    if not isinstance(raw, Mapping):
        raise vol.Invalid(Text("modbus.not_a_map", value=cv.show_value(raw)))
    data: dict[str, Any] = MAP_SCHEMA(dict(raw))
    errors: list[vol.Invalid] = []
    entries: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    raw_entries = data["registers"]
    for index, raw_entry in enumerate(raw_entries):
        try:
            entry = ENTRY_SCHEMA(raw_entry)
        except vol.Invalid as err:
            for single in cv.flatten_invalid(err):
                single.prepend([index])
                errors.append(single)
            continue
        entry.setdefault("function", data["function"])
        entry.setdefault("order", data["byte_order"])
        errors.extend(_check_entry(index, entry, seen))
        entries.append(entry)
    for single in errors:
        single.prepend(["registers"])
    if not data["registers"] and not errors:
        errors.append(vol.Invalid(Text("modbus.no_registers"),
                                  path=["registers"]))
    if "relay" in data:
        try:
            data["relay"] = _check_relay(dict(data["relay"]))
        except vol.Invalid as err:
            err.prepend(["relay"])
            errors.append(err)
    if errors:
        raise vol.MultipleInvalid(errors)
    data["registers"] = entries
    return data


def compile_map(raw: Any, name: str = "modbus") -> RegisterMap:
    """A RegisterMap from its YAML/dict form (validated; ``vol.Invalid`` on problems)."""
    data = validate_map(raw)
    points = tuple(
        RegisterPoint(
            point=entry["point"], function=entry["function"], address=entry["address"],
            type=DataType(entry["type"]), order=ByteOrder(entry["order"]),
            scale=entry["scale"], unit=entry["unit"],
            factor=UNIT_FACTORS.get(POINTS[entry["point"]].unit, {}).get(entry["unit"],
                                                                          Decimal(1)),
        )
        for entry in data["registers"]
    )
    relay: RelayMap | None = None
    if "relay" in data:
        spec = data["relay"]
        coil = "coil" in spec
        relay = RelayMap(coil=coil, address=spec["coil" if coil else "register"],
                         write_function=spec["write_function"],
                         read_function=spec["read_function"],
                         read_address=spec["read_address"], closed=spec["closed"],
                         open=spec["open"])
    return RegisterMap(name=data.get("name", name), points=points, relay=relay,
                       description=data.get("description", ""),
                       kind=MeterKind(data.get("kind", MeterKind.ELECTRICITY)),
                       max_gap=data["max_gap"],
                       max_span=data["max_span"], source=data)


def load_map_file(path: str | Path) -> Any:
    """Load a map YAML file (numbers with a fraction as Decimal); problems as vol.Invalid."""
    data, ctx = load_yaml(path)
    if ctx.problems:
        raise vol.Invalid("; ".join(str(problem) for problem in ctx.problems))
    return data


def map_file_errors(err: vol.Invalid, data: Any, path: str | Path) -> list[str]:
    """Readable lines for the problems of a map file, each with file:line."""
    lines = []
    for single in cv.flatten_invalid(err):
        keys, message = cv.describe_invalid(single, data)
        where = position_of(data, keys)
        location = f"{path}:{where.line}" if where is not None else str(path)
        lines.append(f"{cv.format_path(keys)}: {message} (in {location})")
    return lines
