"""Replacing a meter's physical device in one operation (``meter.replace``, ``meterhub meter
replace``).

A broken or old meter is swapped for a new device; the *meter* (its id, account, tariff,
share group, tags and history) stays. The steps, in this order, so that nothing is half done:

1. Everything is checked first (the meter, the new address by its model, the new entry as
   strictly as check-config, typed registers, the swap time); a refusal changes nothing.
2. The old device's **final reading**: read from it now, or typed from its display when it
   is dead (``final``), stored as a reading of the *old* device at the swap time. Its usage
   since the previous reading is counted and charged like any reading's.
3. The old device's outstanding command (trip, close, valve) is **cancelled**, withdrawn from
   its link's downlink queue, and named in the answer.
4. The new address is stored as a runtime change of the meter (the "which wins" rule: it
   holds across restarts while hub.yaml still names the old address) and the link talks to
   the new device from now on.
5. The new device's **initial reading**: typed (``initial``) or read from it now. Storage
   starts a new baseline at a reading of a new device, so the jump between the two devices'
   registers counts nothing, and consumption across the swap counts exactly once: the old
   device up to its final reading, the new one from its initial reading.
6. A ``meter_replacement`` row and a ``meter_replaced`` event say what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..core import Context
from ..events import EVENT_METER_REPLACED
from ..exceptions import ServiceValidationError
from ..i18n import Text, text_of
from ..ledger.meter_book import MeterBook
from ..metering.points import POINTS, PointType
from ..metering.reading import Reading
from ..metering.service import MeteringService, ReadFailed
from ..storage import ReplacementRow, Storage
from ..util.dt import utcnow
from ..util.ids import new_id
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

if TYPE_CHECKING:
    from ..core import Hub, ServiceCall
    from .commands import CommandQueue

_LOGGER = logging.getLogger(__name__)

SERVICE = "meter.replace"
FUTURE_SLACK = timedelta(minutes=5)  # a swap time this far ahead of the hub's clock is refused
INITIAL_AFTER = timedelta(milliseconds=1)  # the new device's typed reading: just after the swap


def _registers(value: Any) -> dict[str, Decimal]:
    """Typed registers: counter points of the vocabulary, each a number at least 0."""
    if not isinstance(value, Mapping) or not value:
        raise vol.Invalid(Text("replace.registers"))
    found: dict[str, Decimal] = {}
    for key, number in value.items():
        info = POINTS.get(str(key))
        if info is None or info.type is not PointType.REGISTER or info.signed:
            raise vol.Invalid(Text("replace.not_counter", key=cv.show_value(key)),
                              path=[key])
        try:
            found[str(key)] = cv.non_negative_decimal(number)
        except vol.Invalid as err:
            raise vol.Invalid(str(err.msg), path=[key]) from None
    return found


def _moment(value: Any) -> datetime:
    text = cv.string(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise vol.Invalid(Text("replace.time", value=cv.show_value(value))) from None
    if moment.tzinfo is None:
        from ..util.dt import site_time_zone

        moment = moment.replace(tzinfo=site_time_zone())
    return moment


REPLACE_SCHEMA = vol.Schema({
    vol.Required("meter_id"): cv.identifier,
    vol.Required("new_address"): vol.Any(cv.string, int),
    vol.Optional("final"): _registers,  # typed from the old device's display (it is dead)
    vol.Optional("initial"): _registers,  # typed from the new device's display
    vol.Optional("at"): _moment,  # the swap time (with a typed final reading)
    vol.Optional("link_options"): dict,
    vol.Optional("options"): dict,
    vol.Optional("note"): cv.string,
})


class MeterReplacement:
    """The ``meter.replace`` operation over metering, the meter book, control and storage."""

    def __init__(self, hub: Hub, commands: CommandQueue | None) -> None:
        self.hub = hub
        self.commands = commands

    @property
    def metering(self) -> MeteringService:
        """The metering service."""
        return self.hub.component("metering", MeteringService)

    @property
    def book(self) -> MeterBook:
        """The meter book (stores the new device by the "which wins" rule)."""
        return self.hub.component("meter_book", MeterBook)

    @property
    def storage(self) -> Storage:
        """Storage (readings, the replacement row)."""
        return self.hub.component("storage", Storage)

    async def replace(self, data: Mapping[str, Any], context: Context) -> dict[str, Any]:
        """Replace the device of ``data['meter_id']``; the answer says what was done."""
        meter_id = data["meter_id"]
        meter = self.metering.meters.get(meter_id)
        if meter is None:
            raise ServiceValidationError(SERVICE, [Text("replace.unknown_meter", meter=meter_id)])
        old_device = meter.ref.address
        changes: dict[str, Any] = {"address": data["new_address"]}
        for key in ("link_options", "options"):
            if key in data:
                changes[key] = data[key]
        entry = self.book.check_device(meter_id, changes, SERVICE)
        if entry["address"] == old_device:
            raise ServiceValidationError(SERVICE, [
                Text("replace.same_device", address=entry["address"])])
        last = await self.storage.latest_reading(meter_id)
        if "at" in data and "final" not in data:
            raise ServiceValidationError(SERVICE, [
                Text("replace.at_needs_final")])
        final = await self._final(meter_id, old_device, data, last, context)
        at = final.time
        cancelled = (await self.commands.cancel(meter_id, context, "meter replaced")
                     if self.commands is not None else [])
        await self.book.set_device(meter_id, changes, context)
        initial, initial_note = await self._initial(meter_id, entry["address"], data, at,
                                                    context)
        row = ReplacementRow(
            replacement_id=f"rpl-{new_id()}", meter_id=meter_id, at=at, old_device=old_device,
            new_device=entry["address"], final=_summary(final, "final" in data),
            initial=(_summary(initial, "initial" in data) if initial is not None
                     else {"registers": {}, "note": initial_note}),
            cancelled=cancelled, note=data.get("note"), created=utcnow(),
            context_id=context.id, user_id=context.user_id)
        await self.storage.add_replacement(row)
        answer = {"replacement_id": row.replacement_id, "meter_id": meter_id,
                  "old_device": old_device, "new_device": row.new_device,
                  "at": at.isoformat(), "final": row.final, "initial": row.initial,
                  "cancelled": cancelled}
        self.hub.bus.fire(EVENT_METER_REPLACED, {
            key: answer[key] for key in ("meter_id", "old_device", "new_device", "at", "final",
                                         "initial", "cancelled")}, context=context)
        _LOGGER.info("Meter %s: device %s replaced by %s at %s%s", meter_id, old_device,
                     row.new_device, at.isoformat(),
                     f"; cancelled {', '.join(cancelled)}" if cancelled else "")
        return answer

    async def _final(self, meter_id: str, device: str, data: Mapping[str, Any],
                     last: Reading | None, context: Context) -> Reading:
        """The old device's final reading: typed (checked against its last) or read now."""
        if "final" not in data:
            try:
                reading, not_stored = await self.metering.read_stored(meter_id, context=context)
            except ReadFailed as err:
                raise ServiceValidationError(SERVICE, [
                    Text("replace.old_silent", reason=text_of(err))]) from None
            if not_stored is not None:
                raise ServiceValidationError(SERVICE, [
                    Text("replace.not_stored", reason=not_stored)])
            return reading
        now = utcnow()
        at: datetime = data.get("at") or now
        problems: list[str] = []
        if at > now + FUTURE_SLACK:
            problems.append(Text("replace.future", at=at.isoformat()))
        if last is not None and at <= last.time:
            problems.append(Text("replace.before_last", last=last.time.isoformat()))
        if last is not None and last.device in ("", device):
            for key, value in data["final"].items():
                before = last.registers.get(key)
                if before is not None and value < before:
                    problems.append(Text("replace.below_last", key=key, value=value,
                                         before=before, last=last.time.isoformat()))
        if problems:
            raise ServiceValidationError(SERVICE, problems)
        reading, not_stored = await self.metering.record(meter_id, data["final"], at,
                                                         device=device, context=context)
        if not_stored is not None:
            raise ServiceValidationError(SERVICE, [
                Text("replace.not_stored", reason=not_stored)])
        return reading

    async def _initial(self, meter_id: str, device: str, data: Mapping[str, Any],
                       at: datetime, context: Context) -> tuple[Reading | None, str]:
        """The new device's initial reading: typed, else read now (a failed read is said:
        the device's first reading will then be its starting point)."""
        if "initial" in data:
            reading, not_stored = await self.metering.record(meter_id, data["initial"],
                                                             at + INITIAL_AFTER,
                                                             device=device, context=context)
            return reading, not_stored or ""
        try:
            reading, not_stored = await self.metering.read_stored(meter_id, context=context)
        except ReadFailed as err:
            return None, Text("replace.new_not_read", reason=text_of(err))
        return reading, not_stored or ""


def _summary(reading: Reading, typed: bool) -> dict[str, Any]:
    return {"registers": {key: str(value) for key, value in reading.registers.items()},
            "time": reading.time.isoformat(), "reading_id": reading.id,
            "typed": typed}


def setup_replacement(hub: Hub, commands: CommandQueue | None) -> MeterReplacement | None:
    """Register ``meter.replace`` (needs metering, storage and the meter book)."""
    from ..const import SupportsResponse

    if not all(hub.has_component(name) for name in ("metering", "storage", "meter_book")):
        return None
    replacement = MeterReplacement(hub, commands)
    hub.add_component("meter_replacement", replacement)

    async def replace(call: ServiceCall) -> dict[str, Any]:
        """Replace a meter's device: final reading of the old, initial of the new, history
        kept, the old device's pending commands cancelled."""
        return await replacement.replace(call.data, call.context)

    hub.services.register("meter", "replace", replace, REPLACE_SCHEMA,
                          supports_response=SupportsResponse.OPTIONAL)
    return replacement
