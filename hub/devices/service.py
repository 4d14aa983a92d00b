"""Device maintenance: ``device.*`` services, bulk jobs over tags, the TOU check and its alarm.

``device.write`` writes one declared parameter to one meter (a durable command, answered
with its id) or, given ``meters`` or ``tags``, to many as a *job*: a durable row with one item
per meter, its progress fired as ``device_job`` and kept across restarts (an item the hub
had not queued yet when it stopped is queued at the next start; queued writes resume by
themselves). ``from_tariff: true`` takes a TOU table from each meter's own tariff.
``device.check_tou`` reads a meter's table and raises the ``tou_mismatch`` alarm when it is
not its tariff's (and clears it when it is again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from .. import validation as cv
from ..billing.tariff import TariffError
from ..const import SupportsResponse
from ..core import Context
from ..events import EVENT_ALARM, EVENT_ALARM_CLEARED
from ..exceptions import ServiceValidationError
from ..i18n import Joined, Text, stored, text_of
from ..metering.config import ratio
from ..metering.model import MeterRefused, NoReply, ProtocolError
from ..metering.tou import TouTable
from ..util import dt as dt_util
from ..util.calendar import Calendar
from ..util.ids import new_id
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .firmware import FirmwareJobs, FirmwareRefused
from .history import HistoryFiller
from .parts import DevicePart, cancelled
from .ratios import RatioBook
from .records import EventLogReader
from .tou import TouRefused, differences, tariff_table
from .writes import CREDENTIAL_KEYS, DeviceWrites, PendingWrite, WriteRefused

if TYPE_CHECKING:
    from ..billing.tariffs import TariffBook
    from ..core import Hub, ServiceCall
    from ..storage import JobRow

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "device"
TOU_MISMATCH: Final = "tou_mismatch"

_TARGETS: dict[Any, Any] = {
    vol.Optional("meter_id"): cv.identifier,
    vol.Optional("meters"): cv.ListOf(cv.identifier, allow_single=True),
    vol.Optional("tags"): vol.Schema({cv.slug: cv.string}),
}
WRITE_SCHEMA = vol.Schema({
    **_TARGETS,
    vol.Required("param"): cv.slug,
    vol.Optional("value"): object,
    vol.Optional("from_tariff", default=False): cv.boolean,
    vol.Optional("on"): cv.string,  # tou_next from the tariff: the day it takes over
    vol.Optional("password_level"): object,
    vol.Optional("password"): object,
    vol.Optional("operator"): object,
})
CHECK_SCHEMA = vol.Schema(_TARGETS)
CHECK_TOU_SCHEMA = vol.Schema({**_TARGETS, vol.Optional("on"): cv.string})
JOB_SCHEMA = vol.Schema({vol.Optional("job_id"): cv.string})
CANCEL_SCHEMA = vol.Schema({vol.Optional("command_id"): cv.string,
                            vol.Optional("job_id"): cv.string,
                            vol.Optional("reason", default=""): cv.string})
PARAMS_SCHEMA = vol.Schema({vol.Required("meter_id"): cv.identifier})
HISTORY_SCHEMA = vol.Schema({vol.Optional("meter_id"): cv.identifier})
RATIO_SCHEMA = vol.Schema({
    vol.Required("meter_id"): cv.identifier,
    vol.Optional("ct_ratio"): ratio,
    vol.Optional("pt_ratio"): ratio,
    vol.Optional("at"): cv.string,
    vol.Optional("registers"): vol.Schema({cv.slug: cv.non_negative_decimal}),
    vol.Optional("from_meter", default=False): cv.boolean,
})
FIRMWARE_SCHEMA = vol.Schema({
    **_TARGETS,
    vol.Required("updater"): cv.string,
    vol.Required("image"): vol.Schema({cv.slug: object}),
})
RECENT = timedelta(minutes=2)  # a change "now": the meter's registers are read now


def refuse(service: str, *problems: str) -> ServiceValidationError:
    """The error a refused call raises."""
    return ServiceValidationError(f"{DOMAIN}.{service}", list(problems))


class DeviceService(DevicePart):
    """Parameter writes, jobs and the TOU check (component ``devices``)."""

    def __init__(self, hub: Hub, writes: DeviceWrites) -> None:
        self.hub = hub
        self.writes = writes
        self.history = HistoryFiller(hub, timedelta(seconds=writes.settings.fill_after))
        self.event_logs = EventLogReader(hub, timedelta(seconds=writes.settings.events_every))
        self.ratios = RatioBook(hub)
        self.ratios.configure()
        self.firmware = FirmwareJobs(hub, writes,
                                     timedelta(seconds=writes.settings.firmware_poll))
        self.calendar = Calendar.from_config(hub.config.block("calendar"), hub.config.time_zone)
        self._mismatch: set[str] = set()  # meters whose tou_mismatch alarm is raised
        self._tou_task: asyncio.Task[None] | None = None
        writes.on_finished.append(self._write_ended)

    def tariffs(self) -> TariffBook | None:
        """The tariff book, when billing is set up."""
        from ..billing.tariffs import TariffBook

        return (self.hub.component("tariffs", TariffBook) if self.hub.has_component("tariffs")
                else None)

    # --- life-cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Resume writes, then queue job items a stop left unqueued; watch for gaps."""
        await self.ratios.load()
        self._mismatch = set(await self.storage.device_read(
            lambda s: s.raised_alarms(TOU_MISMATCH)))
        await self.history.start()
        await self.event_logs.start()
        await self.writes.start()
        await self.firmware.start()
        if self.writes.settings.tou_check_every > 0:
            self._tou_task = self.hub.create_background_task(self._tou_checks(),
                                                             "TOU table checks")
        jobs = await self.storage.device_read(lambda s: s.jobs(states=("running",), limit=1000))
        for job in jobs:
            for item in job.items:
                if item.state == "pending":
                    await self._queue_item(job, item.meter_id)
            await self.writes.job_progress(job.job_id)

    async def stop(self) -> None:
        """Stop the writers and the gap filler."""
        await self.history.stop()
        await self.event_logs.stop()
        await self.firmware.stop()
        await cancelled(self._tou_task)
        self._tou_task = None
        await self.writes.stop()

    # --- targets and values ------------------------------------------------------------

    def targets(self, service: str, data: Mapping[str, Any]) -> tuple[list[str], bool]:
        """The meter ids a call names and whether it is a job (meters / tags)."""
        if "meter_id" in data:
            if data["meter_id"] not in self.metering.meters:
                raise refuse(service, Text("devices.unknown_meter", meter=data["meter_id"]))
            return [data["meter_id"]], False
        if not data.get("meters") and not data.get("tags"):
            raise refuse(service, Text("devices.targets"))
        unknown = [m for m in data.get("meters") or () if m not in self.metering.meters]
        if unknown:
            raise refuse(service, Text("devices.unknown_meter_in", meter=unknown[0]))
        chosen = [m.id for m in self.metering.select(meters=data.get("meters") or (),
                                                     tags=data.get("tags"))]
        if not chosen:
            raise refuse(service, Text("devices.no_tags", tags=dict(data.get("tags") or {})))
        return chosen, True

    def value_for(self, meter_id: str, spec: Mapping[str, Any]) -> Any:
        """The value to write to one meter: the given one, or its tariff's TOU table."""
        param = spec["param"]
        self.writes.declared(meter_id, param)
        if not spec.get("from_tariff"):
            return spec.get("value")
        if param not in ("tou", "tou_next"):
            raise WriteRefused(Text("devices.from_tariff_param", param=param))
        meter = self.metering.meters[meter_id]
        book = self.tariffs()
        if book is None:
            raise WriteRefused(Text("devices.no_billing"))
        if param == "tou_next" and not spec.get("on"):
            raise WriteRefused(Text("devices.tou_next_on"))
        day = _day(spec.get("on"))
        try:
            found = tariff_table(book.for_meter(meter.config), day, self.calendar)
        except (TariffError, TouRefused) as err:
            raise WriteRefused(Text("devices.from_tariff_meter", meter=meter_id,
                                    reason=text_of(err))) from None
        table = found.table.as_json()
        if param == "tou_next":
            switch = datetime.combine(day, time(0)).replace(tzinfo=dt_util.site_time_zone())
            return {"table": table, "switch_at": switch.isoformat()}
        return table

    # --- write -----------------------------------------------------------------------

    async def write(self, data: Mapping[str, Any], context: Context) -> dict[str, Any]:
        """``device.write``: one command, or a job over many meters."""
        meter_ids, is_job = self.targets("write", data)
        credentials = {k: data[k] for k in CREDENTIAL_KEYS if k in data}
        if not data.get("from_tariff") and "value" not in data:
            raise refuse(
                "write", Text("devices.value_required"))
        if not is_job:
            try:
                value = self.value_for(meter_ids[0], data)
                command_id = await self.writes.submit(meter_ids[0], data["param"], value,
                                                      context=context, credentials=credentials)
            except WriteRefused as err:
                raise refuse("write", text_of(err)) from None
            return {"command_id": command_id, "meter_id": meter_ids[0], "state": "queued"}
        # a job: every meter checked first; one that cannot take it is a failed item
        problems: dict[str, str] = {}
        for meter_id in meter_ids:
            try:
                self.writes.check(meter_id, data["param"], self.value_for(meter_id, data),
                                  credentials)
            except WriteRefused as err:
                problems[meter_id] = text_of(err)
        if len(problems) == len(meter_ids) and len(meter_ids) == 1:
            raise refuse("write", *problems.values())
        if "password" in credentials:
            raise refuse(
                "write", Text("devices.job_password"))
        job_id = f"job-{new_id()}"
        spec = {"param": data["param"], "value": data.get("value"),
                "from_tariff": bool(data.get("from_tariff")), "on": data.get("on"),
                "credentials": credentials, "targets": {k: data[k] for k in
                                                        ("meters", "tags") if k in data}}
        ms = int(dt_util.utcnow().timestamp() * 1000)
        await self.storage.device_write(lambda s: s.create_job(
            job_id=job_id, kind="write", spec=spec, meter_ids=meter_ids, ts=ms,
            context=context))
        job = await self.storage.device_read(lambda s: s.job(job_id))
        assert job is not None
        for meter_id in meter_ids:
            if meter_id in problems:
                await self._set_item(job_id, meter_id, "failed", problems[meter_id], ms)
            else:
                await self._queue_item(job, meter_id)
        await self.writes.job_progress(job_id)
        return await self.job(job_id)

    async def _queue_item(self, job: JobRow, meter_id: str) -> None:
        spec = job.spec
        ms = int(dt_util.utcnow().timestamp() * 1000)
        try:
            await self.writes.submit(meter_id, spec["param"], self.value_for(meter_id, spec),
                                     context=job.context, credentials=spec.get("credentials"),
                                     job_id=job.job_id)
        except WriteRefused as err:
            await self._set_item(job.job_id, meter_id, "failed", text_of(err), ms)

    async def _set_item(self, job_id: str, meter_id: str, state: str, result: str,
                        ms: int) -> None:
        await self.storage.device_write(
            lambda store: store.set_item(job_id, meter_id, state, result, ms))

    async def job(self, job_id: str | None) -> dict[str, Any]:
        """``device.job``: one job's progress and per-meter results, or the latest jobs."""
        if job_id is None:
            jobs = await self.storage.device_read(lambda s: s.jobs(limit=20))
            return {"jobs": [_job_json(job, items=False) for job in jobs]}
        job = await self.storage.device_read(lambda s: s.job(job_id))
        if job is None:
            raise refuse(
                "job", Text("devices.no_job", job=job_id))
        return _job_json(job)

    async def cancel(self, data: Mapping[str, Any], context: Context) -> dict[str, Any]:
        """``device.cancel``: a queued write, or a job's queued writes (its running ones end
        their attempt)."""
        reason = data.get("reason") or "cancelled by the operator"
        if data.get("command_id"):
            return {"cancelled": [data["command_id"]] if await self.writes.cancel(
                data["command_id"], context, reason) else []}
        if not data.get("job_id"):
            raise refuse(
                "cancel", Text("devices.cancel_what"))
        job = await self.storage.device_read(lambda s: s.job(data["job_id"]))
        if job is None:
            raise refuse(
                "cancel", Text("devices.no_job", job=data["job_id"]))
        cancelled = []
        ms = int(dt_util.utcnow().timestamp() * 1000)
        for item in job.items:
            if item.state == "pending":
                await self._set_item(job.job_id, item.meter_id, "cancelled", reason, ms)
            elif item.state == "queued" and item.command_id and await self.writes.cancel(
                    item.command_id, context, reason):
                cancelled.append(item.command_id)
        await self.storage.device_write(lambda s: s.end_job(job.job_id, "cancelled", ms))
        await self.writes.job_progress(job.job_id)
        return {"job_id": job.job_id, "cancelled": cancelled}

    # --- CT / PT ratios ------------------------------------------------------------------

    async def set_ratio(self, data: Mapping[str, Any], context: Context) -> dict[str, Any]:
        """``device.set_ratio``: a ratio change effective ``at`` (default now)."""
        meter_id = data["meter_id"]
        if meter_id not in self.metering.meters:
            raise refuse(
                "set_ratio", Text("devices.unknown_meter", meter=meter_id))
        data = dict(data)
        if data.get("from_meter"):
            data.update(await self._ratios_of_meter(meter_id))
        if "ct_ratio" not in data and "pt_ratio" not in data:
            raise refuse(
                "set_ratio", Text("devices.ratio_what"))
        at = None
        if data.get("at"):
            try:
                at = datetime.fromisoformat(data["at"])
            except ValueError:
                raise refuse(
                    "set_ratio", Text("devices.ratio_at", value=repr(data["at"]))) from None
            at = at if at.tzinfo else at.replace(tzinfo=dt_util.site_time_zone())
            if at > dt_util.utcnow() + RECENT:
                raise refuse(
                    "set_ratio", Text("devices.ratio_future"))
        registers = data.get("registers")
        if at is not None and at < dt_util.utcnow() - RECENT and registers is None:
            raise refuse(
                "set_ratio", Text("devices.ratio_past"))
        try:
            version = await self.ratios.change(meter_id, ct=data.get("ct_ratio"),
                                               pt=data.get("pt_ratio"), at=at,
                                               raw_at=registers, context=context)
        except (MeterRefused, NoReply, TimeoutError, ProtocolError) as err:
            raise refuse(
                "set_ratio", Text("devices.ratio_unread", reason=text_of(err))) from None
        return {"meter_id": meter_id, "version": version.as_json()}

    async def _ratios_of_meter(self, meter_id: str) -> dict[str, Decimal]:
        """The CT and PT ratios the meter keeps (the ones its model declares)."""
        found: dict[str, Decimal] = {}
        declared = self.metering.meters[meter_id].model.writable()
        for key in ("ct_ratio", "pt_ratio"):
            if key not in declared:
                continue
            try:
                value = Decimal(await self.writes.read_back(meter_id, key))
            except (MeterRefused, NoReply, TimeoutError, ProtocolError) as err:
                raise refuse(
                    "set_ratio", Text("devices.ratio_not_read", key=key, reason=text_of(err))
                ) from None
            if value <= 0:
                raise refuse(
                    "set_ratio", Text("devices.ratio_bad", key=key, value=value))
            found[key] = value
        if not found:
            raise refuse(
                "set_ratio", Text("devices.ratio_none", meter=meter_id))
        return found

    # --- the TOU check -----------------------------------------------------------------

    async def check_tou(self, meter_ids: Sequence[str], context: Context,
                        on: str | None = None) -> dict[str, Any]:
        """Read each meter's TOU table and compare it with its tariff's on ``on`` (default
        today, holidays of its year); alarm on mismatch."""
        results: dict[str, Any] = {}
        for meter_id in meter_ids:
            try:
                wanted = self.value_for(meter_id, {"param": "tou", "from_tariff": True,
                                                   "on": on})
                table = TouTable.parse(wanted)
                actual = await self.writes.read_back(meter_id, "tou")
            except WriteRefused as err:
                results[meter_id] = {"checked": False, "error": str(err)}
                continue
            except (MeterRefused, NoReply, TimeoutError, ProtocolError, KeyError) as err:
                results[meter_id] = {"checked": False, "error": f"not read: {err}"}
                continue
            found = differences(actual, table)
            await self._tou_alarm(meter_id, found, context)
            results[meter_id] = {"checked": True, "matches": not found, "differences": found}
        return {"meters": results}

    async def _tou_checks(self) -> None:
        """Every ``tou_check_every``: the TOU check of each meter whose model keeps a TOU
        table and whose tariff has a time-of-use schedule."""
        while True:
            await asyncio.sleep(self.writes.settings.tou_check_every)
            meter_ids = [m.id for m in self.metering.meters.values()
                         if "tou" in m.model.writable() and self._has_tou_tariff(m.id)]
            if meter_ids:
                await self.check_tou(meter_ids, Context())

    def _has_tou_tariff(self, meter_id: str) -> bool:
        try:
            self.value_for(meter_id, {"param": "tou", "from_tariff": True})
        except WriteRefused:
            return False
        return True

    async def _tou_alarm(self, meter_id: str, found: list[str], context: Context) -> None:
        """Raise or clear the meter's tou_mismatch alarm (kept in storage across restarts)."""
        ms = int(dt_util.utcnow().timestamp() * 1000)
        if found and meter_id not in self._mismatch:
            self._mismatch.add(meter_id)
            message = Text("devices.tou_differs", found=Joined(found))
            _LOGGER.warning("Devices: meter %s: %s", meter_id, message)
            await self.storage.device_write(
                lambda s: s.raise_alarm(meter_id, TOU_MISMATCH, stored(message), ms))
            self.hub.bus.fire(EVENT_ALARM, {
                "meter_id": meter_id, "kind": TOU_MISMATCH, "phase": None,
                "value": len(found), "threshold": True, "value_unit": "",
                "message": message}, context=context)
        elif not found and meter_id in self._mismatch:
            self._mismatch.discard(meter_id)
            await self.storage.device_write(lambda s: s.clear_alarm(meter_id, TOU_MISMATCH))
            self.hub.bus.fire(EVENT_ALARM_CLEARED, {
                "meter_id": meter_id, "kind": TOU_MISMATCH, "phase": None, "value": 0,
                "threshold": True, "value_unit": "",
                "message": Text("devices.tou_agrees")}, context=context)

    def _write_ended(self, pending: PendingWrite, state: str, actual: Any) -> None:
        """A TOU write that read back a table: compare it with the tariff's (alarm)."""
        if pending.param != "tou" or not isinstance(actual, TouTable):
            return
        try:
            wanted = TouTable.parse(self.value_for(pending.meter_id, {"param": "tou",
                                                                      "from_tariff": True}))
        except (WriteRefused, vol.Invalid):
            return
        self.hub.create_task(self._tou_alarm(pending.meter_id, differences(actual, wanted),
                                             pending.context), f"TOU alarm {pending.meter_id}")


def _day(value: Any) -> date:
    """The day of a call's ``on`` (today without one); WriteRefused when it is not a date."""
    if not value:
        return dt_util.now().date()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise WriteRefused(Text("devices.on_date", value=repr(value))) from None


def _job_json(job: JobRow, items: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "job_id": job.job_id, "kind": job.kind, "state": job.state,
        "param": job.spec.get("param"), "progress": job.progress(),
        "created": job.created.isoformat(), "updated": job.updated.isoformat(),
        "author": job.context.user_id,
    }
    if items:
        out["items"] = [{"meter_id": item.meter_id, "state": item.state,
                         "command_id": item.command_id, "result": item.result}
                        for item in job.items]
    return out


def register_services(hub: Hub, service: DeviceService) -> None:
    """device.write, device.job, device.cancel, device.check_tou, device.params."""

    async def write(call: ServiceCall) -> dict[str, Any]:
        """Write a declared parameter to a meter (a durable command), or to many (a job)."""
        return await service.write(call.data, call.context)

    async def job(call: ServiceCall) -> dict[str, Any]:
        """A job's progress and per-meter results (without job_id: the latest jobs)."""
        return await service.job(call.data.get("job_id"))

    async def cancel(call: ServiceCall) -> dict[str, Any]:
        """Cancel a queued write or a job."""
        return await service.cancel(call.data, call.context)

    async def check_tou(call: ServiceCall) -> dict[str, Any]:
        """Compare meters' own TOU tables with their tariffs' (alarm tou_mismatch)."""
        meter_ids, _job = service.targets("check_tou", call.data)
        try:
            _day(call.data.get("on"))  # a bad day is refused before any meter is read
        except WriteRefused as err:
            raise refuse("check_tou", text_of(err)) from None
        return await service.check_tou(meter_ids, call.context, call.data.get("on"))

    async def params(call: ServiceCall) -> dict[str, Any]:
        """The parameters a meter's model declares writable."""
        meter = service.metering.meters.get(call.data["meter_id"])
        if meter is None:
            raise refuse(
                "params", Text("devices.unknown_meter", meter=call.data["meter_id"]))
        return {"meter_id": meter.id, "model": meter.model.name, "params": {
            name: {"description": spec.description, "unit": spec.unit}
            for name, spec in meter.model.writable().items()},
            "pending": [_pending_json(p) for p in service.writes.pending(meter.id)]}

    async def history(call: ServiceCall) -> dict[str, Any]:
        """Days filled from each meter's memory (daily frozen data), and records refused."""
        return {"meters": service.history.report(call.data.get("meter_id"))}

    async def read_events(call: ServiceCall) -> dict[str, Any]:
        """Read meters' own event logs now (new records stored, tamper ones alarmed)."""
        meter_ids, _job = service.targets("read_events", call.data)
        return {"meters": {meter.id: await service.event_logs.read(meter, call.context)
                           for meter in service.event_logs.meters(meter_ids)}}

    async def set_ratio(call: ServiceCall) -> dict[str, Any]:
        """Change a meter's CT and/or PT ratio from a time on (default now)."""
        return await service.set_ratio(call.data, call.context)

    async def ratios(call: ServiceCall) -> dict[str, Any]:
        """A meter's ratio versions."""
        if call.data["meter_id"] not in service.metering.meters:
            raise refuse(
                "ratios", Text("devices.unknown_meter", meter=call.data["meter_id"]))
        return {"meter_id": call.data["meter_id"], "versions": [
            v.as_json() for v in service.ratios.versions.get(call.data["meter_id"], [])]}

    async def firmware(call: ServiceCall) -> dict[str, Any]:
        """Update meters' firmware through a plugin's updater: a job, one item per meter."""
        meter_ids, _job = service.targets("firmware", call.data)
        try:
            job_id = await service.firmware.create(meter_ids, call.data["updater"],
                                                   call.data["image"], call.context)
        except FirmwareRefused as err:
            raise refuse("firmware", text_of(err)) from None
        return await service.job(job_id)

    register = hub.services.register
    for name, handler, schema in (("write", write, WRITE_SCHEMA), ("job", job, JOB_SCHEMA),
                                  ("firmware", firmware, FIRMWARE_SCHEMA),
                                  ("set_ratio", set_ratio, RATIO_SCHEMA),
                                  ("ratios", ratios, PARAMS_SCHEMA),
                                  ("read_events", read_events, CHECK_SCHEMA),
                                  ("history", history, HISTORY_SCHEMA),
                                  ("cancel", cancel, CANCEL_SCHEMA),
                                  ("check_tou", check_tou, CHECK_TOU_SCHEMA),
                                  ("params", params, PARAMS_SCHEMA)):
        register(DOMAIN, name, handler, schema, supports_response=SupportsResponse.OPTIONAL)


def _pending_json(pending: PendingWrite) -> dict[str, Any]:
    return {"command_id": pending.command_id, "param": pending.param,
            "state": pending.state, "attempts": pending.attempts}

