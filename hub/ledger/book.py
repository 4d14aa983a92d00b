"""The accounts in force: the YAML ``accounts:`` block plus changes made at runtime.

Landlords edit tenants in two places — hub.yaml and the dashboard/API — and neither edit may
be lost. The rule (per account and per top-level field):

* A runtime change (``account.update``) is stored with the YAML value it replaced. While the
  YAML still says that, the runtime value wins, across restarts.
* When the YAML value of that field is later changed by hand, the YAML wins: the runtime
  value is dropped (kept in the override history, with a warning in the log).
* An account created at runtime (``account.create``) lives in storage; if hub.yaml later
  defines the same id, hub.yaml wins for the whole account.
* ``account.revert`` drops runtime values, going back to YAML.

Everyone holds the same ``accounts`` mapping, updated in place, so money, control and
billing all see a change at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..core import Context
from ..events import EVENT_ACCOUNT_UPDATED
from ..exceptions import ServiceValidationError
from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .accounts import ACCOUNT_SCHEMA, Account, _move_dates
from .overrides import WHOLE, canonical, resolve

if TYPE_CHECKING:
    from ..core import Hub
    from ..storage import Storage

_LOGGER = logging.getLogger(__name__)

SCOPE = "account"

AccountListener = Callable[[str, Context], None]
"""Told the id of an account changed at runtime, with the context of the change."""


def _validate(entry: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = _move_dates(ACCOUNT_SCHEMA(dict(entry)))
    return result


class AccountBook:
    """Effective accounts (YAML + runtime changes) and the services that change them."""

    def __init__(self, hub: Hub, yaml_entries: Iterable[Mapping[str, Any]]) -> None:
        self.hub = hub
        # the validated entries themselves, never changed here (a copy each: 10,000 dicts)
        self.yaml: dict[str, dict[str, Any]] = {
            e["id"]: e if isinstance(e, dict) else dict(e) for e in yaml_entries}
        self.runtime: dict[str, dict[str, Any]] = {}  # id -> field -> raw value set
        self.created: dict[str, dict[str, Any]] = {}  # id -> raw entry of a runtime account
        self.accounts: dict[str, Account] = {
            account_id: Account.from_config(entry) for account_id, entry in self.yaml.items()}
        self._listeners: list[AccountListener] = []

    def add_listener(self, listener: AccountListener) -> None:
        """Call ``listener(account_id, context)`` after every runtime change of an account."""
        self._listeners.append(listener)

    def _storage(self) -> Storage | None:
        from ..storage import Storage

        return self.hub.component("storage", Storage) if self.hub.has_component(
            "storage") else None

    def entry(self, account_id: str) -> dict[str, Any]:
        """The effective validated entry of an account."""
        base = self.created.get(account_id) or self.yaml[account_id]
        return _validate({**base, **self.runtime.get(account_id, {})})

    def effective_entries(self) -> list[dict[str, Any]]:
        """Every account's effective validated entry (hub.yaml's as validated, unless changed)."""
        return [self.entry(account_id) if account_id in self.runtime or account_id in
                self.created else dict(self.yaml[account_id]) for account_id in self.accounts]

    async def load(self) -> None:
        """Apply stored runtime changes by the rule in the module docstring."""
        storage = self._storage()
        if storage is None:
            return
        found = resolve(await storage.overrides(SCOPE), self.yaml, "Account")
        self.created.update(found.created)
        for item, fields in found.runtime.items():
            self.runtime.setdefault(item, {}).update(fields)
        if found.dropped:
            await storage.set_overrides(SCOPE, found.dropped, Context(origin="config"))
        # an account without runtime changes is its hub.yaml entry, validated when the
        # configuration was (and built in __init__): validating 10,000 of them again took a
        # fifth of a large site's start-up
        for account_id in dict.fromkeys([*self.runtime, *self.created]):
            try:
                self.accounts[account_id] = Account.from_config(self.entry(account_id))
            except vol.Invalid as err:
                _LOGGER.error("Runtime changes of account %s no longer validate (%s): "
                              "using hub.yaml", account_id, err)
                self.runtime.pop(account_id, None)
                if account_id in self.yaml:
                    self.accounts[account_id] = Account.from_config(self.yaml[account_id])

    async def update(self, account_id: str, changes: Mapping[str, Any],
                     context: Context) -> Account:
        """Change fields of an account (validated first; nothing changes on an error)."""
        if account_id not in self.accounts:
            raise ServiceValidationError(
                "account.update", [Text("ledger.unknown_account", account=account_id)])
        if "id" in changes:
            raise ServiceValidationError(
                "account.update", [Text("ledger.id_fixed")])
        if "opening_balance" in changes:
            raise ServiceValidationError("account.update", [
                Text("ledger.opening_balance")])
        runtime = {**self.runtime.get(account_id, {}), **changes}
        base_entry = self.created.get(account_id) or self.yaml[account_id]
        try:
            entry = _validate({**base_entry, **runtime})
        except vol.Invalid as err:
            raise ServiceValidationError(
                "account.update", cv.humanize_invalid(err, {**base_entry, **runtime},
                                                      "changes")) from None
        storage = self._storage()
        if storage is not None:
            stored = [(account_id, field, canonical(value),
                       canonical(self.yaml[account_id].get(field))
                       if account_id in self.yaml else None, "set")
                      for field, value in changes.items()]
            await storage.set_overrides(SCOPE, stored, context)
        self.runtime[account_id] = runtime
        self._apply(account_id, entry, sorted(changes), context)
        return self.accounts[account_id]

    async def create(self, raw: Mapping[str, Any], context: Context) -> Account:
        """Add an account at runtime (a tenant moving in, from the dashboard)."""
        try:
            entry = _validate(raw)
        except vol.Invalid as err:
            raise ServiceValidationError("account.create",
                                         cv.humanize_invalid(err, raw, "account")) from None
        account_id = entry["id"]
        if account_id in self.accounts:
            raise ServiceValidationError("account.create",
                                         [Text("ledger.exists", account=account_id)])
        storage = self._storage()
        if storage is not None:
            await storage.set_overrides(SCOPE, [(account_id, WHOLE, canonical(dict(raw)), None,
                                                 "create")], context)
        self.created[account_id] = dict(raw)
        self._apply(account_id, entry, ["*"], context)
        return self.accounts[account_id]

    async def revert(self, account_id: str, fields: Iterable[str] | None,
                     context: Context) -> Account:
        """Go back to hub.yaml for some fields (all when ``fields`` is None)."""
        if account_id not in self.accounts:
            raise ServiceValidationError(
                "account.revert", [Text("ledger.unknown_account", account=account_id)])
        if account_id not in self.yaml:
            raise ServiceValidationError("account.revert", [
                Text("ledger.not_in_yaml", account=account_id)])
        known = cv.keys_of(ACCOUNT_SCHEMA.schema)
        unknown = [name for name in fields or () if name not in known]
        if unknown:
            raise ServiceValidationError("account.revert", [
                Text("ledger.not_a_field" if len(unknown) == 1 else "ledger.not_fields",
                     fields=", ".join(map(repr, unknown)), known=", ".join(sorted(known)))])
        runtime = self.runtime.get(account_id, {})
        names = list(runtime) if fields is None else [f for f in fields if f in runtime]
        storage = self._storage()
        if storage is not None and names:
            await storage.set_overrides(SCOPE, [(account_id, name, None, None, "revert")
                                                for name in names], context)
        for name in names:
            runtime.pop(name, None)
        self._apply(account_id, self.entry(account_id), names, context)
        return self.accounts[account_id]

    def _apply(self, account_id: str, entry: Mapping[str, Any], fields: list[str],
               context: Context) -> None:
        self.accounts[account_id] = Account.from_config(entry)
        self.hub.bus.fire(EVENT_ACCOUNT_UPDATED, {"account_id": account_id, "fields": fields},
                          context=context)
        for listener in self._listeners:
            try:
                listener(account_id, context)
            except Exception:
                _LOGGER.exception("Listener of account changes failed for %s", account_id)


UPDATE_SCHEMA = vol.Schema({vol.Required("account_id"): cv.identifier,
                            vol.Required("changes"): vol.All(dict, vol.Length(min=1))})
CREATE_SCHEMA = vol.Schema({vol.Required("account"): dict})
REVERT_SCHEMA = vol.Schema({vol.Required("account_id"): cv.identifier,
                            vol.Optional("fields"): cv.ListOf(cv.string, allow_single=True)})


def setup_book(hub: Hub) -> AccountBook:
    """Create the account book, load runtime changes at start-up, register its services."""
    from ..const import SupportsResponse
    from ..core import ServiceCall

    book = AccountBook(hub, hub.config.block("accounts") or [])
    hub.add_component("accounts", book)
    hub.add_stage("accounts", start=book.load, after=("storage",))

    async def update(call: ServiceCall) -> dict[str, Any]:
        """Change an account's fields at runtime (kept across restarts; see README)."""
        account = await book.update(call.data["account_id"], call.data["changes"],
                                    call.context)
        return {"account_id": account.id, "runtime": book.runtime.get(account.id, {})}

    async def create(call: ServiceCall) -> dict[str, Any]:
        """Add an account at runtime."""
        account = await book.create(call.data["account"], call.context)
        return {"account_id": account.id}

    async def revert(call: ServiceCall) -> dict[str, Any]:
        """Go back to hub.yaml for some or all fields of an account."""
        account = await book.revert(call.data["account_id"], call.data.get("fields"),
                                    call.context)
        return {"account_id": account.id, "runtime": book.runtime.get(account.id, {})}

    optional = SupportsResponse.OPTIONAL
    hub.services.register("account", "update", update, UPDATE_SCHEMA, supports_response=optional)
    hub.services.register("account", "create", create, CREATE_SCHEMA, supports_response=optional)
    hub.services.register("account", "revert", revert, REVERT_SCHEMA, supports_response=optional)
    return book
