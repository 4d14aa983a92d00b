"""Set-up without a text editor: add a meter or an account, change a meter's account, tariff,
share group and tags, and replace a broken meter.

Every form calls the same service as the API and the CLI (``meter.create``, ``meter.update``,
``account.create``, ``meter.replace``) as the logged-in user, so a change is checked as
strictly as check-config, stored by the "which wins" rule and recorded with its author; a
refusal shows the service's own words and changes nothing. A replacement asks to confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..web.pages import PageError, PageKit, refused_unknown
from ..web.routes import allow, caller_sees
from .admin_strings import ADMIN_STRINGS

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger import MeterBook
    from ..metering.service import Meter, MeteringService

TAG_FIELDS = ("building", "floor", "room")
REGISTER_OF_KIND = {"electricity": "energy_import_total", "water": "water_total"}


class SetupPages:
    """``/setup``: meters and accounts set up and changed, meters replaced."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [
            web.get("/manage", self.index),
            web.get("/manage/meters/new", self.meter_form),
            web.post("/manage/meters/new", self.meter_create),
            web.get("/manage/meters/{meter_id}/edit", self.meter_form),
            web.post("/manage/meters/{meter_id}/edit", self.meter_update),
            web.get("/manage/meters/{meter_id}/replace", self.replace_form),
            web.post("/manage/meters/{meter_id}/replace", self.replace),
            web.get("/manage/buildings/new", self.building_form),
            web.post("/manage/buildings/new", self.building_create),
            web.get("/manage/accounts/new", self.account_form),
            web.post("/manage/accounts/new", self.account_create),
        ]

    # --- what the forms offer ----------------------------------------------------------

    def _metering(self) -> MeteringService:
        from ..metering.service import MeteringService

        return self.hub.component("metering", MeteringService)

    def _book(self) -> MeterBook:
        from ..ledger import MeterBook

        return self.hub.component("meter_book", MeterBook)

    def _choices(self) -> dict[str, Any]:
        hub = self.hub
        accounts: list[str] = []
        if hub.has_component("accounts"):
            from ..ledger import AccountBook

            accounts = sorted(hub.component("accounts", AccountBook).accounts)
        return {
            "models": hub.plugins.registries.meter_models.names(),
            "links": sorted(self._metering().links),
            "accounts": accounts,
            "tariffs": sorted(str(t["id"]) for t in hub.config.block("tariffs") or []),
            "share_groups": sorted(str(g["id"]) for g in hub.config.block("share_groups") or []),
        }

    @staticmethod
    async def _call(request: web.Request, service: str, data: Mapping[str, Any]) -> Any:
        """Call ``service`` as the caller, with the API's role and scope checks."""
        domain, _, name = service.partition(".")
        return await PageKit.of(request.app).call_service(request, domain, name, data)

    # --- the index ----------------------------------------------------------------------

    @allow("admin", "operator", scoped=True)
    async def index(self, request: web.Request) -> web.Response:
        """Meters with their device, account and tariff; recent replacements."""
        kit = PageKit.of(request.app)
        book = self._book()
        metering = self._metering()
        rows = [{"id": meter_id, "address": entry.get("address"),
                 "account": entry.get("account"), "tariff": entry.get("tariff"),
                 "share_group": entry.get("share_group"), "tags": dict(entry.get("tags") or {}),
                 "runtime": meter_id in book.created or bool(book.runtime.get(meter_id)),
                 "online": metering.meters[meter_id].online if meter_id in metering.meters
                 else None}
                for meter_id, entry in sorted(book.entries.items())
                if caller_sees(request, "meter_id", meter_id)]
        replacements = []
        if self.hub.has_component("storage"):
            from ..storage import Storage

            replacements = await self.hub.component("storage", Storage).replacements(limit=20)
        return kit.render(request, "setup.html", meters=rows, replacements=replacements)

    # --- meters ------------------------------------------------------------------------

    @allow("admin")
    async def meter_form(self, request: web.Request) -> web.Response:
        """Add a meter, or change one's account, tariff, share group and tags."""
        kit = PageKit.of(request.app)
        meter_id = request.match_info.get("meter_id")
        entry: Mapping[str, Any] = {}
        if meter_id is not None:
            entry = self._book().entries.get(meter_id) or {}
            if not entry:
                raise refused_unknown("meter", meter_id)
        return kit.render(request, "setup_meter.html", meter_id=meter_id,
                          form=_meter_fields(entry), **self._choices())

    @allow("admin")
    async def meter_create(self, request: web.Request) -> web.Response:
        """``meter.create`` from the form."""
        kit = PageKit.of(request.app)
        form = await kit.form(request)
        raw = _meter_entry(form)
        for key in ("id", "model", "link", "address"):
            if form.get(key):
                raw[key] = form[key]
        try:
            await self._call(request, "meter.create", {"meter": raw})
        except PageError as err:
            return kit.fail(request, "setup_meter.html", err.message, status=err.status,
                            meter_id=None, form=form, **self._choices())
        t = kit.translator(request)
        return kit.redirect(request, "/manage", t("setup.meter_added", meter=raw.get("id")))

    @allow("admin")
    async def meter_update(self, request: web.Request) -> web.Response:
        """``meter.update`` from the form: only what changed is sent (an emptied field keeps
        its value: unset a hub.yaml value with ``meter.revert``)."""
        kit = PageKit.of(request.app)
        meter_id = request.match_info["meter_id"]
        entry = self._book().entries.get(meter_id)
        if entry is None:
            raise refused_unknown("meter", meter_id)
        form = await kit.form(request)
        wanted = _meter_entry(form)
        changes = {key: value for key, value in wanted.items()
                   if value != (dict(entry.get(key) or {}) if key == "tags" else entry.get(key))}
        t = kit.translator(request)
        if not changes:
            return kit.redirect(request, "/manage", t("setup.nothing_changed"), "warn")
        try:
            await self._call(request, "meter.update", {"meter_id": meter_id,
                                                       "changes": changes})
        except PageError as err:
            return kit.fail(request, "setup_meter.html", err.message, status=err.status,
                            meter_id=meter_id, form=form, **self._choices())
        return kit.redirect(request, "/manage", t("setup.meter_changed", meter=meter_id))

    # --- replacing a meter -----------------------------------------------------------------

    def _meter(self, request: web.Request) -> Meter:
        """The meter of the path, if the caller may see it (404 otherwise)."""
        meter = self._metering().meters.get(request.match_info["meter_id"])
        if meter is None or not caller_sees(request, "meter_id", meter.id):
            raise refused_unknown("meter", request.match_info["meter_id"])
        return meter

    @allow("admin", "operator", scoped=True)
    async def replace_form(self, request: web.Request) -> web.Response:
        """The replacement form: the old device, its last reading, the new device."""
        kit = PageKit.of(request.app)
        meter = self._meter(request)
        return kit.render(request, "setup_replace.html", meter=meter,
                          register=REGISTER_OF_KIND.get(meter.kind, "energy_import_total"),
                          form={})

    @allow("admin", "operator", scoped=True)
    async def replace(self, request: web.Request) -> web.Response:
        """Confirm, then ``meter.replace``; the answer page names the cancelled commands."""
        kit = PageKit.of(request.app)
        meter = self._meter(request)
        form = await kit.form(request)
        t = kit.translator(request)
        register = REGISTER_OF_KIND.get(meter.kind, "energy_import_total")
        data: dict[str, Any] = {"meter_id": meter.id, "new_address": form.get("new_address",
                                                                                 "")}
        if form.get("final_mode") == "typed":
            data["final"] = {register: form.get("final", "")}
            if form.get("at"):
                data["at"] = form["at"]
        if form.get("initial"):
            data["initial"] = {register: form["initial"]}
        if form.get("note"):
            data["note"] = form["note"]
        asked = kit.confirm(request, form, title=t("setup.replace_confirm_title"),
                            message=t("setup.replace_confirm", meter=meter.id,
                                      old=meter.ref.address, new=data["new_address"]))
        if asked is not None:
            return asked
        try:
            answer = await self._call(request, "meter.replace", data)
        except PageError as err:
            return kit.fail(request, "setup_replace.html", err.message, status=err.status,
                            meter=meter,
                            register=register, form=form)
        return kit.render(request, "setup_replaced.html", answer=answer, meter=meter)

    # --- buildings ---------------------------------------------------------------------

    @allow("admin")
    async def building_form(self, request: web.Request) -> web.Response:
        """A new building: its id is the value of its meters' ``building`` tag."""
        kit = PageKit.of(request.app)
        return kit.render(request, "setup_building.html", form={})

    @allow("admin")
    async def building_create(self, request: web.Request) -> web.Response:
        """``building.create`` from the form."""
        kit = PageKit.of(request.app)
        form = await kit.form(request)
        raw = {key: form[key] for key in ("id", "name", "area", "persons", "floors", "address")
               if form.get(key)}
        return await self._create(request, form, "building", raw, "setup.building_added")

    # --- accounts ----------------------------------------------------------------------

    @allow("admin")
    async def account_form(self, request: web.Request) -> web.Response:
        """A tenant moving in: a new account."""
        kit = PageKit.of(request.app)
        return kit.render(request, "setup_account.html", form={})

    @allow("admin")
    async def account_create(self, request: web.Request) -> web.Response:
        """``account.create`` from the form."""
        kit = PageKit.of(request.app)
        form = await kit.form(request)
        raw: dict[str, Any] = {key: form[key] for key in ("id", "name", "move_in", "area",
                                                          "persons", "deposit") if form.get(key)}
        if form.get("phone"):
            raw["contacts"] = {"phone": form["phone"]}
        tags = {key: form[key] for key in TAG_FIELDS if form.get(key)}
        if tags:
            raw["tags"] = tags
        return await self._create(request, form, "account", raw, "setup.account_added")

    async def _create(self, request: web.Request, form: Mapping[str, str], what: str,
                      raw: Mapping[str, Any], done: str) -> web.Response:
        """``<what>.create`` from a set-up form: back to /manage, or the form with why not."""
        kit = PageKit.of(request.app)
        try:
            await self._call(request, f"{what}.create", {what: raw})
        except PageError as err:
            return kit.fail(request, f"setup_{what}.html", err.message, status=err.status,
                            form=form)
        t = kit.translator(request)
        return kit.redirect(request, "/manage", t(done, **{what: raw.get("id")}))

def _meter_fields(entry: Mapping[str, Any]) -> dict[str, str]:
    """An entry as the form's text fields."""
    tags = dict(entry.get("tags") or {})
    fields = {key: str(entry.get(key) or "") for key in ("id", "model", "link", "address",
                                                          "name", "account", "tariff",
                                                          "share_group")}
    fields.update({key: str(tags.get(key, "")) for key in TAG_FIELDS})
    return fields


def _meter_entry(form: Mapping[str, str]) -> dict[str, Any]:
    """The changeable fields of a meter from a form (empty fields left out)."""
    found: dict[str, Any] = {key: form[key] for key in ("name", "account", "tariff",
                                                        "share_group") if form.get(key)}
    tags = {key: form[key] for key in TAG_FIELDS if form.get(key)}
    if tags:
        found["tags"] = tags
    return found
