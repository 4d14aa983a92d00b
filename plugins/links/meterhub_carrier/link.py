"""The ``carrier`` link: power-line carrier (PLC/HPLC) meters behind a transparent concentrator.

The concentrator (or a carrier "transparent forwarding" module) is reached over TCP or a
serial port; the hub writes a DL/T 645 frame addressed to a meter, the concentrator routes
it over the power line and hands the meter's reply back unchanged. Carrier routing takes
seconds (relays through other meters, retries on a noisy line), so the defaults are a long
timeout (15 s) and a long guard gap (200 ms); one request is in flight at a time.

What a full Q/GDW 1376.2 concentrator (the State Grid local-communication-module protocol)
would add, and this link deliberately does not speak:

* **Its own framing**: ``68 L L C [R-info] [addresses] AFN DT1 DT2 data CS 16`` with a
  control byte (direction, start flag, communication mode), an information field (routing,
  relay level, channel, expected reply bytes) and an application function code (AFN) plus
  Fn data units; a meter's 645 frame travels inside AFN 13H F1 ("monitor slave node") or
  AFN 02H F1 ("forward data"), and the reply comes back in the same AFN.
* **Its own addressing**: the concentrator's main-node address, source/destination node
  addresses and relay addresses in the address field, separate from the 645 meter address.
* **Routing**: the module learns the carrier network topology itself; the master adds and
  deletes slave nodes (AFN 11H), starts, pauses and resumes routing (AFN 12H), reads the
  routing state and each node's relay level and phase (AFN 10H).
* **Concentrator-side collection**: the concentrator reads every meter by itself on its own
  schedule ("route-initiated reading", AFN 14H asks the master for each request frame) and
  keeps the results; the master collects daily frozen data from it instead of polling meters.
* **Acknowledgements and events**: AFN 00H confirm/deny for every command, AFN 06H
  unsolicited reports (node events, new meters found by the network search).

Supporting that means a ``Transport`` that wraps each request in AFN 13H F1 and unwraps the
reply, plus services to manage the node list; the meter models stay unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.metering.link_schema import bits_per_byte
from hub.metering.ports import open_serial, open_tcp
from hub.metering.stream import StreamLink

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.metering.stream import LinkProtocol


class CarrierLink(StreamLink):
    """Meters on the power line, one request at a time through a transparent concentrator."""

    type_name = "carrier"

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.serial: Mapping[str, Any] | None = config.get("serial")
        self.host: str | None = config.get("host")
        self.port = int(config.get("port") or 0)
        self.bits_per_byte = bits_per_byte(self.serial) if self.serial else 0.0

    def endpoint(self) -> str:
        """The concentrator's address or serial port."""
        if self.serial is not None:
            return f"concentrator on {self.serial['port']}"
        return f"concentrator at {self.host}:{self.port}"

    def wire_time(self, nbytes: int) -> float:
        """Time on the serial line to the concentrator (0 over TCP)."""
        if self.serial is None:
            return 0.0
        return nbytes * self.bits_per_byte / int(self.serial.get("baud", 9600))

    async def open_stream(self, protocol: LinkProtocol) -> asyncio.BaseTransport:
        """Connect to the concentrator."""
        if self.serial is not None:
            return await open_serial(protocol, self.serial)
        assert self.host is not None
        return await open_tcp(protocol, self.host, self.port)
