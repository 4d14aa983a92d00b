"""MeterHub built-in plugin: the ``tcp_dtu`` link (4G/Wi-Fi DTUs connecting in over TCP).

    links:
      - id: dtu_server
        type: tcp_dtu
        listen: 0.0.0.0:9000
        register: {match: [known, imei, iccid], mode: once, timeout: 10s,
                   secret_format: "{id},{secret}"}    # secret: one for every DTU
        heartbeat: {data: "ping", interval: 60s, misses: 2.5}
        dtus: ["861234567890123", {id: DTU-0001, name: Building A, secret: !secret dtu1}]
        allow_from: [10.0.0.0/8]      # source networks DTUs may connect from
        auto_discovery: false
        timeout: 5s
        probe_timeout: 10s            # a second claim on a live DTU: how long it may answer
        max_pending: 256              # connections waiting to register, in total
        max_pending_per_address: 8    # ... and from one address
    meters:
      - {id: r101_e, model: ddsy, link: dtu_server, address: "202400000101",
         link_options: {dtu: "861234567890123"}}

Registration matchers: ``known`` (the packet starts with a configured DTU id), ``imei``
(15 digits), ``iccid`` (20 characters from ``89``), ``{string: ...}``, ``{hex: "7E 01 ?? ??"}``
or ``{regex: "ID:(\\w+);"}``. ``mode`` says whether the DTU sends it once after connecting,
as a prefix of every packet, or both; either way it is removed from the stream. A DTU with a
``secret`` (its own, or ``register.secret``) must send it after its id as ``secret_format``
says (``861234567890123,s3cret``), or it is refused and a ``link_alarm`` fired.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub import validation as cv
from hub.hookspecs import hookimpl
from hub.metering.dtu import DTU_KEYS, Dtu, DtuTable, dtu_entry
from hub.metering.link import LinkType
from hub.metering.link_schema import host_port

from .server import DtuServerLink

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["Dtu", "DtuServerLink", "DtuTable",
           "TcpDtuLinkType", "register_link_types"]


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
            vol.Optional("max_pending_per_address", default=8): cv.positive_int,
            vol.Optional("dtus", default=[]): cv.ListOf(dtu_entry, unique="id"),
            **DTU_KEYS,
        })

    def create(self, hub: Hub, config: Mapping[str, Any]) -> DtuServerLink:
        return DtuServerLink(hub, config)


@hookimpl
def register_link_types() -> list[LinkType]:
    """The tcp_dtu link type."""
    return [TcpDtuLinkType()]
