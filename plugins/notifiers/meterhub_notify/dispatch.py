"""Where messages go: the named notifiers' outboxes, and each tenant's own URLs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hub.core import Context

from .apprise_type import AppriseType
from .const import (
    DEFAULT_TYPE,
    REASON_NO_CONTACTS,
    REASON_QUEUE_FULL,
    REASON_UNKNOWN_ACCOUNT,
    TENANT,
    TENANT_WORKERS,
)
from .events import EVENT_NOTIFY_SKIPPED
from .notifier import DeliverySettings, Message, NotifierType, Target
from .outbox import Job, Outbox

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.ledger import Account

_LOGGER = logging.getLogger(__name__)

QUEUED = "queued"


class Dispatcher:
    """Outboxes by notifier name, plus the tenant outbox; account and meter look-ups."""

    def __init__(self, hub: Hub, block: Mapping[str, Mapping[str, Any]]) -> None:
        self.hub = hub
        self.outboxes: dict[str, Outbox] = {}
        self.targets: dict[str, list[Target]] = {}
        self.titles: dict[str, str] = {}
        self.types: list[NotifierType] = []
        self.contact_keys: dict[str, str | None] = {}  # notifier -> contact it reads
        self._meter_accounts: dict[str, str] | None = None
        registry = hub.plugins.registries.notifier_types
        for name, entry in block.items():
            if name == TENANT:
                continue
            kind: NotifierType | None = registry.get(entry.get("type", DEFAULT_TYPE))
            if kind is None:  # validated at check-config: only a failed plugin gets here
                _LOGGER.error("Notifier %s: type %s is not loaded: left out", name,
                              entry.get("type"))
                continue
            self.targets[name] = kind.targets(name, entry)
            self.contact_keys[name] = getattr(kind, "contact_key", None)
            self.outboxes[name] = Outbox(hub, name, DeliverySettings.from_config(entry))
            if entry.get("title"):
                self.titles[name] = entry["title"]
            if kind not in self.types:
                self.types.append(kind)
        apprise_type = registry.get(DEFAULT_TYPE)
        self.apprise: AppriseType = (apprise_type if isinstance(apprise_type, AppriseType)
                                     else AppriseType())
        if self.apprise not in self.types:
            self.types.append(self.apprise)
        tenant = block.get(TENANT) or {}
        settings = DeliverySettings.from_config(tenant) if tenant else DeliverySettings()
        self.tenant = Outbox(hub, TENANT, settings, workers=TENANT_WORKERS)
        self.tenant_title: str | None = tenant.get("title")
        self.tenant_via: list[str] = [name for name in tenant.get("via") or ()
                                      if name in self.outboxes]

    # --- sending -------------------------------------------------------------------

    def to_notifier(self, name: str, message: Message, context: Context) -> str:
        """Queue a message for a named notifier; the outcome word (queued, queue_full)."""
        outbox = self.outboxes[name]
        account = self.account(message.account_id)
        if account is not None and account.contacts:
            message = replace(message, contacts=dict(account.contacts))
        ok = outbox.submit(Job(message, self.targets[name], context))
        return QUEUED if ok else REASON_QUEUE_FULL

    def to_tenant(self, account_id: str, message: Message, context: Context) -> str:
        """Queue a message for an account's contacts.notify URLs and, through the
        ``notify.tenant.via`` notifiers, for its phone and WeChat; the outcome word."""
        account = self.account(account_id)
        if account is None:
            return self.skipped(message, account_id, REASON_UNKNOWN_ACCOUNT, context)
        urls = [str(url) for url in (account.contacts.get("notify") or ())]
        via = [name for name in self.tenant_via
               if (key := self.contact_keys.get(name)) and account.contacts.get(key)]
        if not urls and not via:
            return self.skipped(message, account_id, REASON_NO_CONTACTS, context)
        outcomes = [self.to_notifier(name, message, context) for name in via]
        if urls:
            targets = [self.apprise.tenant_target(url) for url in urls]
            ok = self.tenant.submit(Job(message, targets, context))
            outcomes.append(QUEUED if ok else REASON_QUEUE_FULL)
        return QUEUED if QUEUED in outcomes else REASON_QUEUE_FULL

    def skipped(self, message: Message, account_id: str | None, reason: str,
                context: Context) -> str:
        """Log and announce a message nobody can receive; returns the reason."""
        _LOGGER.info("Notice %s for account %s not sent: %s", message.notice or "message",
                     account_id, reason)
        self.hub.bus.fire(EVENT_NOTIFY_SKIPPED, {
            "notice": message.notice, "account_id": account_id, "reason": reason,
        }, context=context)
        return reason

    # --- look-ups ------------------------------------------------------------------

    def account(self, account_id: str | None) -> Account | None:
        """The account in force (YAML plus runtime changes), or None."""
        if not account_id or not self.hub.has_component("accounts"):
            return None
        from hub.ledger import AccountBook

        book = self.hub.component("accounts", AccountBook)
        return book.accounts.get(account_id)

    def account_of_meter(self, meter_id: str | None) -> str | None:
        """The account a meter is billed to, if any."""
        if not meter_id:
            return None
        if self._meter_accounts is None:
            self._meter_accounts = {
                str(meter["id"]): str(meter["account"])
                for meter in self.hub.config.block("meters") or ()
                if isinstance(meter, Mapping) and meter.get("id") and meter.get("account")}
        return self._meter_accounts.get(meter_id)

    # --- life-cycle ----------------------------------------------------------------

    def all_outboxes(self) -> list[Outbox]:
        """Every outbox, the tenant one last."""
        return [*self.outboxes.values(), self.tenant]

    async def start(self) -> None:
        """Start every outbox's workers."""
        for outbox in self.all_outboxes():
            await outbox.start()

    async def stop(self) -> None:
        """Drain and stop every outbox, then release the types' threads."""
        await asyncio.gather(*(outbox.stop() for outbox in self.all_outboxes()))
        for kind in self.types:
            kind.close()
