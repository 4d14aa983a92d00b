"""Buildings (the ``buildings:`` block: area, persons, floors) added or changed at runtime.

The same "which wins" rule as accounts and meters (:mod:`hub.ledger.overrides`): a building
added at runtime lives in storage until hub.yaml defines the same id; a changed field wins
while hub.yaml still says what it replaced. A building's id is the value of the ``building``
tag its meters and accounts carry; energy use per m² and per person reads its area and
persons (:mod:`.trends`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..core import Context
from ..exceptions import ServiceValidationError
from ..i18n import Text
from ..ledger.overrides import WHOLE, canonical, resolve
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .trends import BUILDING_SCHEMA

if TYPE_CHECKING:
    from ..core import Hub, ServiceCall
    from ..storage import Storage

_LOGGER = logging.getLogger(__name__)

SCOPE = "building"


class BuildingBook:
    """The buildings in force: hub.yaml's plus those added or changed at runtime."""

    def __init__(self, hub: Hub, yaml_entries: Iterable[Mapping[str, Any]]) -> None:
        self.hub = hub
        self.yaml: dict[str, dict[str, Any]] = {str(e["id"]): dict(e) for e in yaml_entries}
        self.runtime: dict[str, dict[str, Any]] = {}
        self.created: dict[str, dict[str, Any]] = {}
        # the effective entries, in place: the analysis component reads this list
        self.entries: list[dict[str, Any]] = list(self.yaml.values())

    def _storage(self) -> Storage | None:
        from ..storage import Storage

        return self.hub.component("storage", Storage) if self.hub.has_component(
            "storage") else None

    def _effective(self, building_id: str) -> dict[str, Any]:
        base = self.created.get(building_id) or self.yaml[building_id]
        found: dict[str, Any] = BUILDING_SCHEMA({**base, **self.runtime.get(building_id, {})})
        return found

    def _refresh(self) -> None:
        ids = dict.fromkeys([*self.yaml, *self.created])
        self.entries[:] = [self._effective(building_id) for building_id in ids]

    async def load(self) -> None:
        """Apply the stored runtime changes by the rule."""
        storage = self._storage()
        if storage is None:
            return
        found = resolve(await storage.overrides(SCOPE), self.yaml, "Building")
        self.created.update(found.created)
        for item, fields in found.runtime.items():
            self.runtime.setdefault(item, {}).update(fields)
        if found.dropped:
            await storage.set_overrides(SCOPE, found.dropped, Context(origin="config"))
        try:
            self._refresh()
        except vol.Invalid as err:
            _LOGGER.error("Runtime building changes no longer validate (%s): hub.yaml's used",
                          err)
            self.runtime.clear()
            self.created.clear()
            self._refresh()

    async def create(self, raw: Mapping[str, Any], context: Context) -> dict[str, Any]:
        """Add a building (validated like hub.yaml's; refused when the id exists)."""
        try:
            entry: dict[str, Any] = BUILDING_SCHEMA(dict(raw))
        except vol.Invalid as err:
            raise ServiceValidationError("building.create",
                                         cv.humanize_invalid(err, raw, "building")) from None
        building_id = str(entry["id"])
        if building_id in self.yaml or building_id in self.created:
            raise ServiceValidationError("building.create",
                                         [Text("billing.building_exists", building=building_id)])
        plain = json.loads(canonical(dict(raw)))
        await self._store([(building_id, WHOLE, canonical(plain), None, "create")], context)
        self.created[building_id] = plain
        self._refresh()
        return entry

    async def update(self, building_id: str, changes: Mapping[str, Any],
                     context: Context) -> dict[str, Any]:
        """Change a building's name, area, persons, floors or address."""
        if building_id not in self.yaml and building_id not in self.created:
            raise ServiceValidationError("building.update",
                                         [Text("billing.unknown_building", building=building_id)])
        if "id" in changes:
            raise ServiceValidationError(
                "building.update", [Text("billing.id_fixed")])
        plain = json.loads(canonical(dict(changes)))
        base = self.created.get(building_id) or self.yaml[building_id]
        runtime = {**self.runtime.get(building_id, {}), **plain}
        try:
            entry: dict[str, Any] = BUILDING_SCHEMA({**base, **runtime})
        except vol.Invalid as err:
            raise ServiceValidationError(
                "building.update", cv.humanize_invalid(err, {**base, **runtime}, "changes")
            ) from None
        yaml_entry = self.yaml.get(building_id)
        await self._store([(building_id, name, canonical(value),
                            canonical(yaml_entry.get(name)) if yaml_entry else None, "set")
                           for name, value in plain.items()], context)
        self.runtime[building_id] = runtime
        self._refresh()
        return entry

    async def _store(self, changes: list[tuple[str, str, str | None, str | None, str]],
                     context: Context) -> None:
        storage = self._storage()
        if storage is not None:
            await storage.set_overrides(SCOPE, changes, context)


CREATE_SCHEMA = vol.Schema({vol.Required("building"): dict})
UPDATE_SCHEMA = vol.Schema({vol.Required("building_id"): cv.string,
                            vol.Required("changes"): vol.All(dict, vol.Length(min=1))})


def setup_buildings(hub: Hub) -> BuildingBook:
    """The building book, loaded before analysis starts; ``building.create|update``."""
    from ..const import SupportsResponse

    book = BuildingBook(hub, hub.config.block("buildings") or [])
    hub.add_component("buildings", book)
    hub.add_stage("buildings", start=book.load, after=("storage",), before=("analysis",))

    async def create(call: ServiceCall) -> dict[str, Any]:
        """Add a building (area and persons for energy use per m² and per person)."""
        entry = await book.create(call.data["building"], call.context)
        return {"building_id": entry["id"]}

    async def update(call: ServiceCall) -> dict[str, Any]:
        """Change a building's fields at runtime."""
        entry = await book.update(call.data["building_id"], call.data["changes"],
                                  call.context)
        return {"building_id": entry["id"]}

    optional = SupportsResponse.OPTIONAL
    hub.services.register("building", "create", create, CREATE_SCHEMA,
                          supports_response=optional)
    hub.services.register("building", "update", update, UPDATE_SCHEMA,
                          supports_response=optional)
    return book
