"""MeterHub built-in plugin: the ``udp`` link (DTUs carrying frames over UDP).

    links:
      - id: udp1
        type: udp
        listen: 0.0.0.0:9001
        register: {match: [known, imei], mode: prefix}
        heartbeat: {data: "ping", interval: 60s}
        dtus: [{id: gw7, address: "10.0.0.7:9001"}]   # a DTU known by its source address
        allow_from: [10.0.0.0/8]                      # sources datagrams may come from
        probe_timeout: 10s   # a registration from a new address: how long the DTU may answer
    meters:
      - {id: shop3_e, model: ddsy, link: udp1, address: "202400000301",
         link_options: {dtu: "861234567890123"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub import validation as cv
from hub.hookspecs import hookimpl
from hub.metering.dtu import DTU_KEYS, dtu_entry
from hub.metering.link import LinkType
from hub.metering.link_schema import host_port

from .link import UdpLink

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["UdpLink", "UdpLinkType", "register_link_types"]


def _dtu_entry(value: Any) -> dict[str, Any]:
    """A DTU id, or ``{id: ..., name: ..., secret: ..., address: host:port}``."""
    return dtu_entry(value, {vol.Optional("address"): host_port})


class UdpLinkType(LinkType):
    """``type: udp``."""

    name = "udp"
    description = "DTUs carrying meter frames in UDP datagrams (registration or source address)"
    meter_keys = {vol.Required("dtu"): cv.string}

    def schema(self) -> Any:
        return cv.Strict({
            vol.Required("id"): cv.identifier,
            vol.Required("type"): "udp",
            vol.Optional("listen", default="0.0.0.0:9001"): host_port,
            **DTU_KEYS,
            vol.Optional("dtus", default=[]): cv.ListOf(_dtu_entry, unique="id"),
        })

    def create(self, hub: Hub, config: Mapping[str, Any]) -> UdpLink:
        return UdpLink(hub, config)


@hookimpl
def register_link_types() -> list[LinkType]:
    """The udp link type."""
    return [UdpLinkType()]
