"""Metering: links and meters from YAML, reading plans, re-reads, online tracking.

A core plugin: it claims the ``links``, ``meters``, ``reading`` and ``metering`` blocks and
starts the links (stage 20) and the reading scheduler (stage 30).
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..const import SupportsResponse
from ..exceptions import ServiceValidationError
from ..hookspecs import hookimpl
from ..i18n import Text, text_of
from .alarms import ALARMS_SCHEMA, AlarmMonitor
from .config import (
    METERING_SCHEMA,
    READING_SCHEMA,
    check_references,
    links_schema,
    meter_schema,
)
from .model import Capability
from .reading import ReadingSource
from .scheduler import Scheduler
from .service import Meter, MeteringService, ReadFailed

if TYPE_CHECKING:
    from ..core import Hub, ServiceCall
    from ..plugins import Registries

__all__ = ["Meter", "MeteringService", "ReadFailed", "ReadingSource"]

_LOGGER = logging.getLogger(__name__)

READ_SCHEMA = vol.Schema({
    vol.Optional("meter_id"): cv.identifier,
    vol.Optional("meters"): cv.ListOf(cv.identifier, allow_single=True),
    vol.Optional("tags"): vol.Schema({cv.slug: cv.string}),
    vol.Optional("link"): cv.identifier,
    vol.Optional("points"): cv.ListOf(cv.slug, allow_single=True),
})


@hookimpl
def config_schema(registries: Registries) -> dict[str, Any]:
    """Claim links, meters, reading and metering."""
    return {
        "links": links_schema(registries),
        "meters": meter_schema(registries),
        "reading": READING_SCHEMA,
        "metering": METERING_SCHEMA,
        "alarms": ALARMS_SCHEMA,
    }


@hookimpl
def check_config(config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Meters name existing links; parents and plan meters exist."""
    return check_references(config)


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """``meterhub read``."""
    from .cli import add_commands

    add_commands(subparsers)


def sleeps(meter: Meter) -> bool:
    """Whether a meter sleeps (NB-IoT): it reports by itself and cannot be read on demand."""
    return Capability.SLEEPY in meter.model.capabilities


def reports_by_itself(meters: list[Meter]) -> dict[str, Any]:
    """What a read request answers for sleeping meters: each one's last report."""
    return {
        "reports_by_itself": [
            {"meter_id": meter.id, "link": meter.link.id,
             "last_report": meter.last_reading.time.isoformat() if meter.last_reading
             else None}
            for meter in meters],
        "note": "NB-IoT meters sleep and report by themselves (usually once a day): they "
                "cannot be read on demand; reports_by_itself lists each one's last report "
                "(null: none since the hub started)",
    }


def _storage_note(not_stored: dict[str, str]) -> dict[str, Any]:
    """What a read answer adds about storage: every reading it names is committed (the
    answer waited for that), or ``not_stored`` says plainly which is not and why."""
    if not not_stored:
        return {"stored": True}
    return {"stored": False, "not_stored": not_stored}


@hookimpl
def setup(hub: Hub) -> None:
    """Create the metering service, its stages and the meter.* services."""
    blocks = {key: hub.config.block(key) for key in ("links", "meters", "reading", "metering")}
    service = MeteringService(hub, blocks)
    scheduler = Scheduler(hub, service, list(blocks["reading"] or []),
                          blocks["metering"] or METERING_SCHEMA({}))
    alarms = AlarmMonitor(hub, service, hub.config.block("alarms") or ALARMS_SCHEMA({}))
    alarms.start()
    hub.add_component("metering", service)
    hub.add_component("metering.scheduler", scheduler)
    hub.add_component("metering.alarms", alarms)
    hub.add_stage("links", bind=service.bind_links, start=service.start_links,
                  stop=service.stop_links, after=("storage",))
    hub.add_stage("metering", start=scheduler.start, stop=scheduler.stop, requires=("links",),
                  after=("storage",))

    async def read(call: ServiceCall) -> dict[str, Any]:
        """Read meters now: one (meter_id), several (meters), or by tags / link.

        The answer comes once storage committed every reading it reports (``stored: true``),
        so a reading it names survives a crash; otherwise ``stored: false`` and
        ``not_stored`` says which meter's reading is not stored and why.

        A sleeping (NB-IoT) meter cannot be asked: it is listed under ``reports_by_itself``
        with its last report, and a ``note`` says so, never an unexplained empty answer."""
        data = call.data
        if "meter_id" in data and data["meter_id"] in service.meters and sleeps(
                service.meters[data["meter_id"]]):
            return {"read": [], "failed": [],
                    **reports_by_itself([service.meters[data["meter_id"]]])}
        if "meter_id" in data:
            try:
                reading, not_stored = await service.read_stored(
                    data["meter_id"], points=data.get("points"), context=call.context)
            except KeyError as err:
                raise ServiceValidationError(
                    "meter.read", [Text("metering.meter_id", reason=err.args[0])]) from None
            except ReadFailed as err:
                return {"read": [], "failed": [data["meter_id"]], "errors": [text_of(err)]}
            return {"read": [data["meter_id"]], "failed": [], "readings": [reading],
                    **_storage_note({reading.meter_id: not_stored} if not_stored else {})}
        meters = service.select(meters=data.get("meters", ()), tags=data.get("tags"),
                                link=data.get("link"))
        done = await service.read_many_stored(meters, source=ReadingSource.ON_DEMAND,
                                              points=data.get("points"), context=call.context)
        scheduler.publish_stats()
        sleeping = [meter for meter in meters if sleeps(meter)]
        return {"read": done.read, "failed": done.failed,
                **({"errors": done.errors} if done.failed else {}),
                **(_storage_note(done.not_stored) if done.read else {}),
                **(reports_by_itself(sleeping) if sleeping else {})}

    hub.services.register("meter", "read", read, READ_SCHEMA,
                          supports_response=SupportsResponse.OPTIONAL)
