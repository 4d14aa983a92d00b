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
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub import validation as cv
from hub.hookspecs import hookimpl
from hub.metering.dtu import DTU_KEYS, EVENT_DTU_OFFLINE, EVENT_DTU_ONLINE, Dtu, DtuTable
from hub.metering.link import LinkType
from hub.metering.link_schema import host_port

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
def register_link_types() -> list[LinkType]:
    """The tcp_dtu link type."""
    return [TcpDtuLinkType()]
