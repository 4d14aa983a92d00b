"""Device maintenance: parameters written to meters and read back, bulk jobs, TOU checks.

A core plugin above prepaid control: it claims the ``devices`` block (retries and timing of
parameter writes), sets up the ``device.*`` services (``device.write``, ``device.job``,
``device.cancel``, ``device.check_tou``, ``device.params``) and the ``meterhub device``
command. See docs/devices.md.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from .service import DeviceService, register_services
from .tou import RATE_OF_BAND, TouRefused, tariff_table
from .writes import DEVICES_SCHEMA, DeviceSettings, DeviceWrites, WriteRefused

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "DEVICES_SCHEMA", "RATE_OF_BAND", "DeviceService", "DeviceSettings", "DeviceWrites",
    "TouRefused", "WriteRefused", "tariff_table",
]


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim ``devices`` (write retries, read-back timing)."""
    return {"devices": DEVICES_SCHEMA}


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """``meterhub device write|job|cancel|check-tou|params``."""
    from .cli import add_commands

    add_commands(subparsers)


@hookimpl
def setup(hub: Hub) -> None:
    """The device service and its stage (after the links: writes go out on them)."""
    if not (hub.has_component("metering") and hub.has_component("storage")):
        return
    settings = DeviceSettings.from_block(hub.config.block("devices"))
    service = DeviceService(hub, DeviceWrites(hub, settings))
    hub.add_component("devices", service)
    register_services(hub, service)
    # before the scheduled reads: ratio changes must be loaded before the first reading
    hub.add_stage("devices", start=service.start, stop=service.stop,
                  requires=("storage", "links"), before=("metering",))
