"""The meters in force: the YAML ``meters:`` block plus meters added or changed at runtime.

The same "which wins" rule as accounts (:mod:`.overrides`, README): a runtime change of a
field is kept with the YAML value it replaced and wins while hub.yaml still says that; a meter
added at runtime lives in storage until hub.yaml defines the same id. A meter may name an
account created at runtime.

Every change is checked as strictly as ``meterhub check-config``: the entry by the meter
schema (its model checks address and options), then every plugin's ``check_config`` over the
configuration as it would be (links, accounts, tariffs, share groups, parents, plans);
a change that would add a problem is refused with that problem, and nothing changes.

A new physical device behind a meter (a replacement) is :meth:`MeterBook.set_device`,
called by prepaid's meter replacement; :meth:`MeterBook.update` refuses ``address``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..core import Context
from ..events import EVENT_METER_UPDATED
from ..exceptions import ServiceValidationError
from ..i18n import Text
from ..metering.config import METER_BASE, meter_schema
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .overrides import WHOLE, canonical, resolve

if TYPE_CHECKING:
    from ..core import Hub
    from ..metering.service import MeteringService
    from ..storage import Storage
    from .book import AccountBook

_LOGGER = logging.getLogger(__name__)

SCOPE = "meter"
DEVICE_FIELDS = ("address", "link_options", "options")
"""What a new physical device changes (a replacement, never ``meter.update``)."""
FIXED_FIELDS = ("id", "model", "link")
"""What never changes at runtime: another model or link is another meter."""

MeterListener = Callable[[str, Context], None]
"""Told the id of a meter changed at runtime, with the context of the change."""


class MeterBook:
    """Effective meters (YAML + runtime changes) and the changes that make them."""

    def __init__(self, hub: Hub, yaml_entries: Iterable[Mapping[str, Any]]) -> None:
        self.hub = hub
        self.yaml: dict[str, Mapping[str, Any]] = {e["id"]: e for e in yaml_entries}
        self.runtime: dict[str, dict[str, Any]] = {}  # id -> field -> raw value set
        self.created: dict[str, dict[str, Any]] = {}  # id -> raw entry of a runtime meter
        # the effective entries, updated in place: charging looks meters up here
        self.entries: dict[str, Mapping[str, Any]] = dict(self.yaml)
        self._listeners: list[MeterListener] = []

    def add_listener(self, listener: MeterListener) -> None:
        """Call ``listener(meter_id, context)`` after every runtime change of a meter."""
        self._listeners.append(listener)

    # --- components ------------------------------------------------------------------

    def _storage(self) -> Storage | None:
        from ..storage import Storage

        return self.hub.component("storage", Storage) if self.hub.has_component(
            "storage") else None

    def _metering(self) -> MeteringService | None:
        from ..metering.service import MeteringService

        return self.hub.component("metering", MeteringService) if self.hub.has_component(
            "metering") else None

    def _accounts(self) -> AccountBook | None:
        from .book import AccountBook

        return self.hub.component("accounts", AccountBook) if self.hub.has_component(
            "accounts") else None

    # --- validation ----------------------------------------------------------------------

    def _validate(self, raw: Mapping[str, Any], service: str, root: str) -> dict[str, Any]:
        """One entry by the meter schema (its model checks address and options)."""
        try:
            found: dict[str, Any] = meter_schema(self.hub.plugins.registries)([dict(raw)])[0]
        except vol.Invalid as err:
            lines = [line.removeprefix("[0]").lstrip(".")
                     for line in cv.humanize_invalid(err, [dict(raw)])]
            raise ServiceValidationError(service, [f"{root}.{line}" if root else line
                                                   for line in lines]) from None
        return found

    def entry(self, meter_id: str) -> dict[str, Any]:
        """The effective validated entry of a meter."""
        base = self.created.get(meter_id) or dict(self.yaml[meter_id])
        return self._validate({**base, **self.runtime.get(meter_id, {})}, "meter", "")

    def problems(self, meters: Mapping[str, Mapping[str, Any]]) -> list[tuple[list[Any], str]]:
        """Every plugin's ``check_config`` over the configuration with ``meters`` in force."""
        blocks = dict(self.hub.config.blocks)
        blocks["meters"] = list(meters.values())
        accounts = self._accounts()
        if accounts is not None:
            blocks["accounts"] = accounts.effective_entries()
        found: list[tuple[list[Any], str]] = []
        for _info, result in self.hub.plugins.call_each(
                "check_config", config=blocks, registries=self.hub.plugins.registries):
            found.extend(result or [])
        return found

    def _check(self, meter_id: str, entry: Mapping[str, Any], service: str) -> None:
        """Refuse a change that adds a problem check-config would report."""
        candidate = {**self.entries, meter_id: entry}
        order = list(candidate)
        before = {_where(path, list(self.entries)): message
                  for path, message in self.problems(self.entries)}
        added = [f"{where}: {message}" for path, message in self.problems(candidate)
                 if (where := _where(path, order)) not in before or before[where] != message]
        if added:
            raise ServiceValidationError(service, added)

    # --- start-up -------------------------------------------------------------------------

    async def load(self) -> None:
        """Apply stored runtime changes by the rule (before the links start)."""
        storage = self._storage()
        if storage is None:
            return
        found = resolve(await storage.overrides(SCOPE), self.yaml, "Meter")
        self.created.update(found.created)
        for item, fields in found.runtime.items():
            self.runtime.setdefault(item, {}).update(fields)
        if found.dropped:
            await storage.set_overrides(SCOPE, found.dropped, Context(origin="config"))
        metering = self._metering()
        for meter_id in dict.fromkeys([*self.created, *self.runtime]):
            try:
                entry = self.entry(meter_id)
            except ServiceValidationError as err:
                _LOGGER.error("Runtime changes of meter %s no longer validate (%s): %s",
                              meter_id, "; ".join(err.errors),
                              "using hub.yaml" if meter_id in self.yaml else "left out")
                self.runtime.pop(meter_id, None)
                self.created.pop(meter_id, None)
                continue
            self.entries[meter_id] = entry
            if metering is not None:
                self._put(metering, meter_id, entry)

    def _put(self, metering: MeteringService, meter_id: str, entry: Mapping[str, Any]) -> None:
        """Hand an effective entry to metering: a new meter, a new device or new fields."""
        meter = metering.meters.get(meter_id)
        if not entry.get("enabled", True):
            metering.remove_meter(meter_id)  # disabled at runtime: as if so at start
            return
        if meter is None:
            metering.add_meter(entry)
        elif meter.ref.address != entry["address"] or dict(meter.config.get(
                "link_options") or {}) != dict(entry.get("link_options") or {}):
            metering.replace_device(meter_id, entry)
        else:
            metering.update_meter(entry)

    # --- changes --------------------------------------------------------------------------

    async def create(self, raw: Mapping[str, Any], context: Context) -> Mapping[str, Any]:
        """Add a meter at runtime (validated as check-config would; nothing changes on an
        error)."""
        entry = self._validate(raw, "meter.create", "meter")
        meter_id = entry["id"]
        if meter_id in self.entries:
            raise ServiceValidationError("meter.create", [
                Text("ledger.meter_exists", meter=meter_id)])
        self._check(meter_id, entry, "meter.create")
        await self._store([(meter_id, WHOLE, canonical(_raw(raw)), None, "create")], context)
        self.created[meter_id] = _raw(raw)
        return await self._apply(meter_id, entry, ["*"], context)

    async def update(self, meter_id: str, changes: Mapping[str, Any],
                     context: Context) -> Mapping[str, Any]:
        """Change fields of a meter: name, tags, account, tariff, share group, parent,
        alarms, enabled. A new device is a replacement (``meter.replace``)."""
        return await self._change(meter_id, changes, context, "meter.update", device=False)

    async def set_device(self, meter_id: str, changes: Mapping[str, Any],
                         context: Context) -> Mapping[str, Any]:
        """A new physical device behind a meter: ``address`` (and ``link_options``,
        ``options``); stored by the rule like any runtime change."""
        return await self._change(meter_id, changes, context, "meter.replace", device=True)

    def check_device(self, meter_id: str, changes: Mapping[str, Any],
                     service: str) -> dict[str, Any]:
        """The entry a new device would give the meter, checked; nothing is stored."""
        return self._candidate(meter_id, changes, service, device=True)[0]

    def _candidate(self, meter_id: str, changes: Mapping[str, Any], service: str, *,
                   device: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """(validated entry, runtime fields) after ``changes``; refused with every problem."""
        if meter_id not in self.entries:
            raise ServiceValidationError(service, [Text("ledger.unknown_meter", meter=meter_id)])
        fixed = [name for name in changes if name in FIXED_FIELDS]
        if fixed:
            raise ServiceValidationError(service, [
                f"changes.{name}: a meter's {name} never changes (another {name} is another "
                "meter: add it with meter.create)" for name in fixed])
        wrong = [name for name in changes if (name in DEVICE_FIELDS) != device]
        if wrong and not device:
            raise ServiceValidationError(service, [
                f"changes.{name}: a new device is a replacement: use meter.replace (final "
                "reading of the old device, initial reading of the new)" for name in wrong])
        if wrong:
            raise ServiceValidationError(service, [f"changes.{name}: not a device field"
                                                   for name in wrong])
        known = cv.keys_of(METER_BASE.schema)
        unknown = [name for name in changes if name not in known]
        if unknown:
            raise ServiceValidationError(service, [
                f"changes.{name}: not a meter field (fields: {', '.join(sorted(known))})"
                for name in unknown])
        runtime = {**self.runtime.get(meter_id, {}), **_raw(changes)}
        base = self.created.get(meter_id) or dict(self.yaml[meter_id])
        entry = self._validate({**base, **runtime}, service, "changes")
        self._check(meter_id, entry, service)
        return entry, runtime

    async def _change(self, meter_id: str, changes: Mapping[str, Any], context: Context,
                      service: str, *, device: bool) -> Mapping[str, Any]:
        entry, runtime = self._candidate(meter_id, changes, service, device=device)
        if meter_id in self.created:  # a runtime meter: its entry itself changes
            self.created[meter_id] = {**self.created[meter_id], **_raw(changes)}
            await self._store([(meter_id, WHOLE, canonical(self.created[meter_id]), None,
                                "set")], context)
            return await self._apply(meter_id, entry, sorted(changes), context)
        yaml_entry = self.yaml[meter_id]
        await self._store([(meter_id, name, canonical(value), canonical(yaml_entry.get(name)),
                            "set") for name, value in _raw(changes).items()], context)
        self.runtime[meter_id] = runtime
        return await self._apply(meter_id, entry, sorted(changes), context)

    async def revert(self, meter_id: str, fields: Iterable[str] | None,
                     context: Context) -> Mapping[str, Any]:
        """Go back to hub.yaml for some fields (all when ``fields`` is None)."""
        if meter_id not in self.yaml:
            raise ServiceValidationError("meter.revert", [
                Text("ledger.meter_not_in_yaml", meter=meter_id)])
        runtime = self.runtime.get(meter_id, {})
        names = list(runtime) if fields is None else [f for f in fields if f in runtime]
        entry = self._validate({**self.yaml[meter_id],
                                **{k: v for k, v in runtime.items() if k not in names}},
                               "meter.revert", "")
        self._check(meter_id, entry, "meter.revert")
        await self._store([(meter_id, name, None, None, "revert") for name in names], context)
        for name in names:
            runtime.pop(name, None)
        return await self._apply(meter_id, entry, names, context)

    async def _store(self, changes: list[tuple[str, str, str | None, str | None, str]],
                     context: Context) -> None:
        storage = self._storage()
        if storage is not None and changes:
            await storage.set_overrides(SCOPE, changes, context)

    async def _apply(self, meter_id: str, entry: Mapping[str, Any], fields: list[str],
                     context: Context) -> Mapping[str, Any]:
        self.entries[meter_id] = entry
        metering = self._metering()
        if metering is not None:
            self._put(metering, meter_id, entry)
            await metering.register_meters([meter_id])
        self.hub.bus.fire(EVENT_METER_UPDATED, {"meter_id": meter_id, "fields": fields},
                          context=context)
        for listener in self._listeners:
            try:
                listener(meter_id, context)
            except Exception:
                _LOGGER.exception("Listener of meter changes failed for %s", meter_id)
        return entry


def _raw(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A plain JSON-able copy of an entry (validated values as their canonical text)."""
    return dict(json.loads(canonical(dict(entry))))


def _where(path: list[Any], order: list[str]) -> str:
    """A problem's path with a meter's index replaced by its id: ``meters[r101_e].tariff``."""
    if len(path) >= 2 and path[0] == "meters" and isinstance(path[1], int) \
            and path[1] < len(order):
        return cv.format_path(path[2:], f"meters[{order[path[1]]}]")
    return cv.format_path(path)


CREATE_SCHEMA = vol.Schema({vol.Required("meter"): dict})
UPDATE_SCHEMA = vol.Schema({vol.Required("meter_id"): cv.identifier,
                            vol.Required("changes"): vol.All(dict, vol.Length(min=1))})
REVERT_SCHEMA = vol.Schema({vol.Required("meter_id"): cv.identifier,
                            vol.Optional("fields"): cv.ListOf(cv.string, allow_single=True)})


def setup_meter_book(hub: Hub) -> MeterBook:
    """Create the meter book, load runtime changes before the links start, its services."""
    from ..const import SupportsResponse
    from ..core import ServiceCall

    book = MeterBook(hub, hub.config.block("meters") or [])
    hub.add_component("meter_book", book)
    hub.add_stage("meter_book", start=book.load, after=("storage", "accounts"),
                  before=("links",))

    def answer(meter_id: str) -> dict[str, Any]:
        return {"meter_id": meter_id, "runtime": book.runtime.get(meter_id, {}),
                "created": meter_id in book.created}

    async def create(call: ServiceCall) -> dict[str, Any]:
        """Add a meter at runtime (kept across restarts; hub.yaml wins for the same id)."""
        entry = await book.create(call.data["meter"], call.context)
        return answer(entry["id"])

    async def update(call: ServiceCall) -> dict[str, Any]:
        """Change a meter's fields at runtime (account, tariff, tags, share group...)."""
        await book.update(call.data["meter_id"], call.data["changes"], call.context)
        return answer(call.data["meter_id"])

    async def revert(call: ServiceCall) -> dict[str, Any]:
        """Go back to hub.yaml for some or all fields of a meter."""
        await book.revert(call.data["meter_id"], call.data.get("fields"), call.context)
        return answer(call.data["meter_id"])

    optional = SupportsResponse.OPTIONAL
    hub.services.register("meter", "create", create, CREATE_SCHEMA, supports_response=optional)
    hub.services.register("meter", "update", update, UPDATE_SCHEMA, supports_response=optional)
    hub.services.register("meter", "revert", revert, REVERT_SCHEMA, supports_response=optional)
    return book
