"""What a scoped caller may see: meters by their tags, accounts by theirs or their meters'.

A meter is in a scope when its tags hold every tag of the scope. An account is when its own
tags do, or when one of its meters is. An entity state is when it is a meter's or an
account's in scope; other entities (links, DTUs, the hub) are not shown to a scoped caller.
Anything unknown is treated as out of scope, so "unknown" and "not yours" read alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..auth import Principal, in_scope, narrower

if TYPE_CHECKING:
    from ..core import Hub


class ScopeIndex:
    """Answers "may this caller see that meter / account / entity?" from the live hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def _meters(self) -> Mapping[str, Any]:
        if not self.hub.has_component("metering"):
            return {}
        from ..metering.service import MeteringService

        return self.hub.component("metering", MeteringService).meters

    def _accounts(self) -> Mapping[str, Any]:
        if not self.hub.has_component("accounts"):
            return {}
        from ..ledger import AccountBook

        return self.hub.component("accounts", AccountBook).accounts

    def meter(self, scope: Mapping[str, str], meter_id: str) -> bool:
        """Whether meter ``meter_id`` exists and lies in ``scope``."""
        meter = self._meters().get(meter_id)
        return meter is not None and in_scope(scope, meter.tags)

    def account(self, scope: Mapping[str, str], account_id: str) -> bool:
        """Whether account ``account_id`` exists and lies in ``scope``."""
        account = self._accounts().get(account_id)
        if account is None:
            return False
        if in_scope(scope, account.tags):
            return True
        return any(in_scope(scope, meter.tags) for meter in self._meters().values()
                   if meter.config.get("account") == account_id)

    def entity(self, scope: Mapping[str, str], entity_id: str) -> bool:
        """Whether entity ``entity_id`` is a meter's or account's state in ``scope``."""
        domain, _, _name = entity_id.partition(".")
        if domain == "meter":
            return any(meter.entity_id == entity_id and in_scope(scope, meter.tags)
                       for meter in self._meters().values())
        if domain == "account":
            from ..ledger import account_entity_id

            return any(account_entity_id(account_id) == entity_id
                       and self.account(scope, account_id) for account_id in self._accounts())
        return False

    def in_view(self, principal: Principal) -> tuple[set[str], set[str]] | None:
        """The ids of the meters and accounts ``principal`` may see, in one pass over the
        site (None: no scope, everything); the same rules as :meth:`visible`, for a page
        that lists thousands."""
        if not principal.scoped:
            return None
        meters = {meter_id for meter_id, meter in self._meters().items()
                  if in_scope(principal.scope, meter.tags)}
        owners = {str(meter.config.get("account")) for meter_id, meter in self._meters().items()
                  if meter_id in meters and meter.config.get("account")}
        accounts = {account_id for account_id, account in self._accounts().items()
                    if account_id in owners or in_scope(principal.scope, account.tags)}
        return meters, accounts

    def visible(self, principal: Principal, kind: str, value: str) -> bool:
        """Whether ``principal`` may see the ``kind`` (meter_id, account_id, entity_id)."""
        if not principal.scoped:
            return True
        check = {"meter_id": self.meter, "account_id": self.account,
                 "entity_id": self.entity}[kind]
        return check(principal.scope, value)

    def call_in_scope(self, principal: Principal, data: Mapping[str, Any]) -> bool:
        """Whether every target a service call names lies in the caller's scope (and it
        names at least one, by ``meter_id``, ``meters``, ``account_id`` or ``tags`` that
        hold every tag of the scope)."""
        if not principal.scoped:
            return True
        tags = data.get("tags")
        if "tags" in data and not (isinstance(tags, Mapping) and narrower(tags, principal.scope)):
            return False
        known = {"meter_id", "meters", "account_id", "tags"}
        targets = [key for key in ("meter_id", "meters", "account_id", "tags", "link",
                                   "command_id", "entry_id", "bill_id") if key in data]
        if not targets or any(key not in known for key in targets):
            return False
        meters = [data["meter_id"]] if "meter_id" in data else []
        meters += list(data.get("meters") or [])
        return (all(isinstance(m, str) and self.meter(principal.scope, m) for m in meters)
                and ("account_id" not in data or (isinstance(data["account_id"], str) and
                                                  self.account(principal.scope,
                                                               data["account_id"]))))
