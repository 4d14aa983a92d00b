"""Where messages go: the named notifiers' outboxes, and each tenant's own URLs."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hub.core import Context
from hub.metering.service import Meter, MeteringService

from .apprise_type import AppriseType
from .const import (
    DEFAULT_TYPE,
    KEEP_ROWS,
    REASON_NO_CONTACTS,
    REASON_TARGET_GONE,
    REASON_UNKNOWN_ACCOUNT,
    TENANT,
    TENANT_WORKERS,
)
from .events import EVENT_NOTIFY_FAILED, EVENT_NOTIFY_SKIPPED
from .journal import Journal, decode
from .notifier import DeliverySettings, Message, NotifierType, Target
from .outbox import QUEUED, Address, Delivery, Job, Outbox
from .summary import Translate, summarize

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.ledger import Account
    from hub.storage import OutboxRow

_LOGGER = logging.getLogger(__name__)

__all__ = ["QUEUED", "Dispatcher"]


def url_key(url: str) -> str:
    """A tenant URL's key in the outbox: a digest, never the URL (it holds tokens)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _done(outcome: str) -> asyncio.Future[str]:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    future.set_result(outcome)
    return future


class Dispatcher:
    """Outboxes by notifier name, plus the tenant outbox; account and meter look-ups."""

    def __init__(self, hub: Hub, block: Mapping[str, Mapping[str, Any]], journal: Journal,
                 translate: Translate) -> None:
        self.hub = hub
        self.journal = journal
        self.outboxes: dict[str, Outbox] = {}
        self.targets: dict[str, list[Target]] = {}
        self.to_account: set[str] = set()  # notifiers that also address the account's contacts
        self.contact_keys: dict[str, str | None] = {}  # notifier -> contact it reads
        self.titles: dict[str, str] = {}
        self.types: list[NotifierType] = []
        self._meter_accounts: dict[str, str] | None = None

        def merge(messages: Sequence[Message]) -> Message:
            return summarize(messages, translate, hub.config.site_name)

        registry = hub.plugins.registries.notifier_types
        for name, entry in block.items():
            if name == TENANT:
                continue
            kind: NotifierType | None = registry.get(entry.get("type", DEFAULT_TYPE))
            if kind is None:  # validated at check-config: only a failed plugin gets here
                _LOGGER.error("Notifier %s: type %s is not loaded: left out", name,
                              entry.get("type"))
                continue
            # the data folder, for types that write files (``file``)
            self.targets[name] = kind.targets(name, {**entry,
                                                     "data_dir": str(hub.config.data_dir)})
            self.outboxes[name] = Outbox(hub, name, DeliverySettings.from_config(entry),
                                         journal, merge)
            self.contact_keys[name] = getattr(kind, "contact_key", None)
            if entry.get("to_account"):
                self.to_account.add(name)
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
        self.tenant = Outbox(hub, TENANT, settings, journal, merge, workers=TENANT_WORKERS)
        self.tenant_title: str | None = tenant.get("title")
        self.tenant_via: list[str] = [name for name in tenant.get("via") or ()
                                      if name in self.outboxes]

    # --- sending -------------------------------------------------------------------

    def to_notifier(self, name: str, message: Message, context: Context,
                    dedupe_key: str | None = None) -> asyncio.Future[str]:
        """Queue a message for a named notifier; the outcome word once it is written."""
        account = self.account(message.account_id)
        if account is not None and account.contacts:
            message = replace(message, contacts=dict(account.contacts))
        addresses = [Address(f"{index}", target, self._rate_key(name, index, message))
                     for index, target in enumerate(self.targets[name])]
        return self.outboxes[name].submit(Job(message, addresses, context, dedupe_key))

    def to_tenant(self, account_id: str, message: Message, context: Context,
                  dedupe_key: str | None = None) -> asyncio.Future[str]:
        """Queue a message for an account's contacts.notify URLs and, through the
        ``notify.tenant.via`` notifiers, for its phone and WeChat; the outcome word
        (``queued`` when any of them took it)."""
        account = self.account(account_id)
        if account is None:
            return _done(self.skipped(message, account_id, REASON_UNKNOWN_ACCOUNT, context))
        urls = [str(url) for url in (account.contacts.get("notify") or ())]
        via = [name for name in self.tenant_via
               if (key := self.contact_keys.get(name)) and account.contacts.get(key)]
        if not urls and not via:
            return _done(self.skipped(message, account_id, REASON_NO_CONTACTS, context))
        outcomes = [self.to_notifier(name, message, context, dedupe_key) for name in via]
        if urls:
            addresses = [Address(url_key(url), self.apprise.tenant_target(url),
                                 f"{TENANT}/{url_key(url)}") for url in urls]
            outcomes.append(self.tenant.submit(Job(message, addresses, context, dedupe_key)))
        return outcomes[0] if len(outcomes) == 1 else asyncio.ensure_future(_any_queued(outcomes))

    def _rate_key(self, name: str, index: int, message: Message) -> str:
        """Who receives: the target, and the account when the notifier addresses it too."""
        if name in self.to_account:
            return f"{name}/{index}/{message.account_id or '-'}"
        return f"{name}/{index}"

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

    def _meter(self, meter_id: str | None) -> Meter | None:
        """The meter in force (YAML plus runtime changes), or None."""
        if not meter_id or not self.hub.has_component("metering"):
            return None
        return self.hub.component("metering", MeteringService).meters.get(meter_id)

    def account_of_meter(self, meter_id: str | None) -> str | None:
        """The account a meter is billed to now (a runtime change of its account counts)."""
        if not meter_id:
            return None
        meter = self._meter(meter_id)
        if meter is not None:
            return str(meter.config["account"]) if meter.config.get("account") else None
        if self._meter_accounts is None:  # metering is off: hub.yaml's word
            self._meter_accounts = {
                str(meter["id"]): str(meter["account"])
                for meter in self.hub.config.block("meters") or ()
                if isinstance(meter, Mapping) and meter.get("id") and meter.get("account")}
        return self._meter_accounts.get(meter_id)

    def meter_name(self, meter_id: str | None, translate: Translate) -> str:
        """How a message names a meter: its own name, else its kind and id ("电表 m1")."""
        if not meter_id:
            return ""
        meter = self._meter(meter_id)
        if meter is not None and meter.name and meter.name != meter.id:
            return meter.name
        kind = str(meter.kind) if meter is not None else ""
        key = f"notify.meter_named.{kind}"
        text = translate(key, meter=meter_id)
        return text if text != key else translate("notify.meter_named", meter=meter_id)

    # --- life-cycle ----------------------------------------------------------------

    def all_outboxes(self) -> list[Outbox]:
        """Every outbox, the tenant one last."""
        return [*self.outboxes.values(), self.tenant]

    async def start(self) -> None:
        """Take up what the outbox holds from before, then start every outbox's workers."""
        self.journal.start()
        now = time.time()
        longest = max((window.per for outbox in self.all_outboxes()
                       for window in outbox.settings.windows), default=0.0)
        sent = await self.journal.read(lambda store: store.sent_since(int((now - longest)
                                                                          * 1000))) or []
        for rate_key, ts in sent:
            outbox = self._outbox(rate_key.split("/", 1)[0])
            if outbox is not None:
                outbox.limiter.take(rate_key, ts / 1000)
        rows: list[OutboxRow] = await self.journal.read(lambda store: store.queued()) or []
        for row in rows:
            self._restore(row)
        if rows:
            _LOGGER.info("Notify: %d message(s) from before the restart to deliver", len(rows))
        cutoff = int((now - KEEP_ROWS.total_seconds()) * 1000)
        self.journal.write(lambda store: store.purge(cutoff)).add_done_callback(_ignore)
        for outbox in self.all_outboxes():
            await outbox.start()

    def _outbox(self, name: str) -> Outbox | None:
        return self.tenant if name == TENANT else self.outboxes.get(name)

    def _restore(self, row: OutboxRow) -> None:
        """A queued row back in its outbox, or failed when its notifier or target is gone."""
        context = Context(row.context_id, row.context_parent_id, row.context_user_id,
                          origin=f"notify.{row.notifier}")
        message = decode(row.payload, row.message_id)
        account = self.account(message.account_id)
        if account is not None and account.contacts:
            message = replace(message, contacts=dict(account.contacts))
        outbox = self._outbox(row.notifier)
        target = None if outbox is None else self._target(row, account)
        if outbox is None or target is None:
            self._gone(row, message, context)
            return
        outbox.restore(Delivery(row.delivery_id, message, Address(row.target, target,
                                                                  row.rate_key),
                                context, row.created_ts / 1000, row.attempts,
                                row.next_ts / 1000))

    def _target(self, row: OutboxRow, account: Account | None) -> Target | None:
        if row.notifier == TENANT:
            urls = [str(url) for url in ((account.contacts.get("notify") or ())
                                         if account is not None else ())]
            found = [url for url in urls if url_key(url) == row.target]
            return self.apprise.tenant_target(found[0]) if found else None
        targets = self.targets.get(row.notifier) or []
        index = int(row.target) if row.target.isdigit() else len(targets)
        if index < len(targets) and targets[index].label == row.label:
            return targets[index]
        return None

    def _gone(self, row: OutboxRow, message: Message, context: Context) -> None:
        error = (f"notifier {row.notifier} or its {row.label} target is no longer "
                 "configured")
        _LOGGER.warning("Notify: a message from before the restart was not delivered: %s",
                        error)
        now = int(time.time() * 1000)
        self.journal.write(lambda store: store.update(
            row.delivery_id, "failed", attempts=row.attempts, next_ts=now, ts=now,
            error=error)).add_done_callback(_ignore)
        self.hub.bus.fire(EVENT_NOTIFY_FAILED, {
            "notifier": row.notifier, "notice": message.notice,
            "account_id": message.account_id, "target": row.label, "attempts": row.attempts,
            "error": error, "reason": REASON_TARGET_GONE, "message_id": row.message_id,
        }, context=context)

    async def stop(self) -> None:
        """Drain and stop every outbox (what is left waits in the database), then release the
        types' threads."""
        await asyncio.gather(*(outbox.stop() for outbox in self.all_outboxes()))
        await self.journal.stop()
        for kind in self.types:
            kind.close()


async def _any_queued(outcomes: list[asyncio.Future[str]]) -> str:
    """``queued`` when any outbox took the message, else the first refusal."""
    words = await asyncio.gather(*outcomes)
    return QUEUED if QUEUED in words else words[0]


def _ignore(future: asyncio.Future[Any]) -> None:
    """Retrieve a write's outcome nobody waits for (the journal logged a failure)."""
    if not future.cancelled():
        future.exception()

