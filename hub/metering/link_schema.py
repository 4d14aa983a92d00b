"""Link toolkit: validators link types share (short durations, serial settings, host:port).

Public API for link plugins: build a link type's schema from :data:`SERIAL_KEYS` and
:func:`stream_keys`, and validate its own keys with :func:`short_duration` and
:func:`host_port`, so every link reads ``50ms``, ``9600`` or ``0.0.0.0:9000`` alike.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import voluptuous as vol

from .. import validation as cv
from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = [
    "BAUD_RATES",
    "SERIAL_KEYS",
    "baud",
    "bits_per_byte",
    "host_port",
    "in_networks",
    "network",
    "parity",
    "short_duration",
    "stop_bits",
    "stream_keys",
]

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
_MS_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*ms\s*$")
_S_RE = re.compile(r"^\s*(\d+\.\d+)\s*s\s*$")
_PARITY = {"N": "N", "E": "E", "O": "O", "NONE": "N", "EVEN": "E", "ODD": "O"}


def short_duration(value: Any) -> timedelta:
    """A duration that may be below a second: ``50ms``, ``0.05``, ``1.5s``, ``2s``, ``1m``."""
    if isinstance(value, float) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _MS_RE.match(value) or _S_RE.match(value)
        if match:
            number = float(match[1])
            return timedelta(milliseconds=number) if "ms" in value else timedelta(seconds=number)
    try:
        return cv.duration(value)
    except vol.Invalid:
        raise vol.Invalid(Text("metering.duration", value=cv.show_value(value))) from None


def baud(value: Any) -> int:
    """A serial speed from 1200 to 115200 bit/s."""
    number = cv.positive_int(value)
    if number not in BAUD_RATES:
        raise vol.Invalid(Text("metering.baud", rates=", ".join(map(str, BAUD_RATES)),
                               value=number))
    return number


def parity(value: Any) -> str:
    """N, E or O (none, even, odd)."""
    text = cv.string(value).strip().upper()
    if text not in _PARITY:
        raise vol.Invalid(Text("metering.parity", value=cv.show_value(value)))
    return _PARITY[text]


def stop_bits(value: Any) -> float:
    """1, 1.5 or 2 stop bits."""
    try:
        number = float(Decimal(str(value)))
    except ArithmeticError:
        number = -1.0
    if number not in (1.0, 1.5, 2.0):
        raise vol.Invalid(Text("metering.stop_bits", value=cv.show_value(value)))
    return number


def host_port(value: Any) -> tuple[str, int]:
    """``host:port`` (``0.0.0.0:9000``, ``[::]:9000``) as a (host, port) pair.

    Port 0 (listen on any free port) is allowed for tests.
    """
    text = cv.string(value).strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise vol.Invalid(Text("metering.host_port", value=cv.show_value(value)))
    return host.strip("[]"), int(port)


# Keys of a serial port (rs485 links; carrier concentrators on a serial port).
SERIAL_KEYS: dict[Any, Any] = {
    vol.Required("port"): cv.string,
    vol.Optional("baud", default=2400): baud,
    vol.Optional("parity", default="E"): parity,
    vol.Optional("data_bits", default=8): vol.All(cv.positive_int, vol.Range(min=5, max=8)),
    vol.Optional("stop_bits", default=1.0): stop_bits,
}


def network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A source network in CIDR form (``10.0.0.0/8``, ``192.168.1.7``, ``2001:db8::/32``)."""
    text = cv.string(value).strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise vol.Invalid(Text("metering.network", value=cv.show_value(value))) from None


def in_networks(host: str, networks: Any) -> bool:
    """Whether ``host`` (an IP address, IPv6 maybe in brackets) is inside one of
    ``networks`` (validated by :func:`network`); a host that is no address is not."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(address in net for net in networks)


def _optional(key: str, default: timedelta | None) -> vol.Optional:
    return vol.Optional(key) if default is None else vol.Optional(key, default=default)


def stream_keys(*, timeout: timedelta | None = None, gap: timedelta | None = None
                ) -> dict[Any, Any]:
    """Keys every stream link shares, with this link type's defaults."""
    return {
        _optional("timeout", timeout): short_duration,
        _optional("gap", gap): short_duration,
        vol.Optional("wakeup", default=0): vol.All(cv.non_negative_int, vol.Range(max=8)),
        vol.Optional("reconnect_max", default=timedelta(seconds=30)): short_duration,
    }


def bits_per_byte(config: Any) -> float:
    """Bits one character takes on the wire: start + data + parity + stop."""
    parity_bits = 0 if config.get("parity", "N") == "N" else 1
    return 1 + int(config.get("data_bits", 8)) + parity_bits + float(config.get("stop_bits", 1))
