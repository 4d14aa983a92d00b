"""MeterHub built-in plugin: the ``tcp_dtu`` link (4G/Wi-Fi DTUs connecting in over TCP).

    links:
      - id: dtu_server
        type: tcp_dtu
        listen: 0.0.0.0:9000
        register: {match: [known, imei, iccid], mode: once, timeout: 10s}
        heartbeat: {data: "ping", interval: 60s, misses: 2.5}
        dtus: ["861234567890123", {id: DTU-0001, name: Building A}]
        auto_discovery: false
        timeout: 5s
    meters:
      - {id: r101_e, model: ddsy, link: dtu_server, address: "202400000101",
         link_options: {dtu: "861234567890123"}}

Registration matchers: ``known`` (the packet starts with a configured DTU id), ``imei``
(15 digits), ``iccid`` (20 characters from ``89``), ``{string: ...}``, ``{hex: "7E 01 ?? ??"}``
or ``{regex: "ID:(\\w+);"}``. ``mode`` says whether the DTU sends it once after connecting,
as a prefix of every packet, or both; either way it is removed from the stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub import validation as cv
from hub.events import EventType
from hub.hookspecs import hookimpl
from hub.metering.link import LinkType
from meterhub_rs485.schema import host_port, short_duration

from .dtus import EVENT_DTU_OFFLINE, EVENT_DTU_ONLINE, Dtu, DtuTable
from .events import EVENT_TYPES
from .register import REGISTER_SCHEMA, hex_bytes
from .server import DtuServerLink

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["EVENT_DTU_OFFLINE", "EVENT_DTU_ONLINE", "Dtu", "DtuServerLink", "DtuTable",
           "TcpDtuLinkType", "register_link_types"]


def _dtu_entry(value: Any) -> dict[str, Any]:
    """A DTU id, or ``{id: ..., name: ...}``."""
    if isinstance(value, dict):
        entry: dict[str, Any] = cv.Strict({vol.Required("id"): cv.string,
                                           vol.Optional("name"): cv.string})(value)
        return entry
    return {"id": cv.string(value)}


def _heartbeat(value: Any) -> dict[str, Any]:
    beat: dict[str, Any] = HEARTBEAT_KEYS(value)
    if beat.get("data") and beat.get("hex"):
        raise vol.Invalid("give the heartbeat as 'data' or as 'hex', not both")
    return beat


HEARTBEAT_KEYS = cv.Strict({
    vol.Optional("data"): cv.string,
    vol.Optional("hex"): hex_bytes,
    vol.Required("interval"): short_duration,
    vol.Optional("misses", default=2.5): vol.All(cv.decimal, vol.Range(min=1)),
})

# Keys shared with the udp link (which has its own ``dtus:`` with addresses).
DTU_KEYS: dict[Any, Any] = {
    vol.Optional("register", default={}): REGISTER_SCHEMA,
    vol.Optional("heartbeat"): _heartbeat,
    vol.Optional("idle_timeout"): short_duration,
    vol.Optional("auto_discovery", default=False): cv.boolean,
    vol.Optional("timeout", default=timedelta(seconds=5)): short_duration,
    vol.Optional("gap", default=timedelta(milliseconds=50)): short_duration,
    vol.Optional("flood_limit", default=131072): cv.positive_int,
}


class TcpDtuLinkType(LinkType):
    """``type: tcp_dtu``."""

    name = "tcp_dtu"
    description = ("4G/Wi-Fi DTUs connecting in over TCP: registration packet, heartbeats, "
                   "one request at a time per DTU")
    meter_keys = {vol.Required("dtu"): cv.string}

    def schema(self) -> Any:
        return cv.Strict({
            vol.Required("id"): cv.identifier,
            vol.Required("type"): "tcp_dtu",
            vol.Optional("listen", default="0.0.0.0:9000"): host_port,
            vol.Optional("max_pending", default=256): cv.positive_int,
            vol.Optional("dtus", default=[]): cv.ListOf(_dtu_entry, unique="id"),
            **DTU_KEYS,
        })

    def create(self, hub: Hub, config: Mapping[str, Any]) -> DtuServerLink:
        return DtuServerLink(hub, config)


@hookimpl
def register_event_types() -> list[EventType]:
    """The events this plugin fires (see docs/events.md)."""
    return list(EVENT_TYPES)


@hookimpl
def register_link_types() -> list[LinkType]:
    """The tcp_dtu link type."""
    return [TcpDtuLinkType()]
