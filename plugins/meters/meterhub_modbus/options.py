"""A Modbus meter's options: slave id, timeouts and request limits, a user's register map.

A ``modbus`` meter names its map as a file (``map: maps/x.yaml``, relative to the working
folder), includes it (``map: !include maps/x.yaml``, relative to hub.yaml) or writes it
inline (``registers: [...]``). Errors name the entry and key, and the file and line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import DEFAULT_TIMEOUT, MAX_READ_REGISTERS, MAX_SLAVE, MIN_SLAVE
from .regmap import MAP_KEYS, load_map_file, map_file_errors, validate_map

_LOGGER = logging.getLogger(__name__)


def _timeout(value: Any) -> Decimal:
    number = cv.decimal(value)
    if number <= 0:
        raise vol.Invalid(Text("modbus.seconds", value=cv.show_value(value)))
    return number


LIMIT_KEYS: Final[dict[Any, Any]] = {
    vol.Optional("timeout", default=Decimal(DEFAULT_TIMEOUT)): _timeout,
    vol.Optional("max_gap"): vol.All(cv.non_negative_int, vol.Range(max=MAX_READ_REGISTERS - 1)),
    vol.Optional("max_span"): vol.All(cv.positive_int, vol.Range(max=MAX_READ_REGISTERS)),
}


def slave_id(address: Any) -> str:
    """A meter address as a Modbus slave id 1..247 (text)."""
    number: int | None = None
    if isinstance(address, int) and not isinstance(address, bool):
        number = address
    elif isinstance(address, str) and address.strip().isdigit():
        number = int(address.strip())
    if number is None or not MIN_SLAVE <= number <= MAX_SLAVE:
        raise vol.Invalid(Text("modbus.slave", low=MIN_SLAVE, high=MAX_SLAVE,
                               value=cv.show_value(address)))
    return str(number)


_USER_KEYS: Final[dict[Any, Any]] = {
    **{key: value for key, value in MAP_KEYS.items() if str(key) != "registers"},
    vol.Optional("registers"): list,
    vol.Optional("map"): vol.Any(cv.string, dict),
    vol.Optional("source"): cv.string,
    **LIMIT_KEYS,
}
_WITH_MAP: Final = frozenset({"map", "timeout", "max_gap", "max_span"})


def user_map_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a ``modbus`` meter's options; returns them with the map inline."""
    data = dict(raw)
    cv.Strict(_USER_KEYS)(data)  # unknown keys, with hints
    limits = vol.Schema(dict(LIMIT_KEYS))(
        {key: data[key] for key in ("timeout", "max_gap", "max_span") if key in data})
    if "map" in data:
        extra = sorted(set(data) - _WITH_MAP)
        if extra:
            raise vol.Invalid(Text("modbus.map_and_inline", keys=", ".join(extra)), path=[extra[0]])
        spec, source = data["map"], "inline"
        if isinstance(spec, str):
            spec, source = _map_from_file(spec), spec
        try:
            normal = validate_map(spec)
        except vol.Invalid as err:
            for single in cv.flatten_invalid(err):
                single.prepend(["map"])
            raise
        normal.update({key: limits[key] for key in ("max_gap", "max_span") if key in limits})
    elif "registers" in data:
        source = str(data.get("source", "inline"))
        normal = validate_map({k: v for k, v in data.items() if k not in ("timeout", "source")})
    else:
        raise vol.Invalid(Text("modbus.needs_map"), path=["map"])
    return {**normal, "timeout": limits["timeout"], "source": source}


def _map_from_file(name: str) -> Any:
    path = Path(name).expanduser()
    if not path.is_file():
        raise vol.Invalid(Text("modbus.map_missing", value=cv.show_value(name), folder=Path.cwd(),
                               name=name), path=["map"])
    try:
        data = load_map_file(path)
    except vol.Invalid as err:
        raise vol.Invalid(Text("modbus.map_file", name=name, reason=err.msg),
                          path=["map"]) from None
    try:
        validate_map(data)
    except vol.Invalid as err:
        lines = map_file_errors(err, data, name)
        raise vol.MultipleInvalid([vol.Invalid(line, path=["map"]) for line in lines]) \
            from None
    return data
