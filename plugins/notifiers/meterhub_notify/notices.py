"""Built-in notices: hub events turned into messages for tenants and the landlord.

Each notice kind (``catalog.CATALOG``) listens to one event; its text comes from the i18n
table in the site's language (or the ``notices:`` block's override, a jinja2 template), and
it goes to the account's own URLs and/or named notifiers. The same notice for the same
account (and the same level, bill, meter...) goes out once per ``dedupe`` window.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hub.const import HubState
from hub.core import Context, Event
from hub.events import EVENT_HUB_STARTED

from .catalog import CATALOG, NOTICES, NoticeSpec, variables
from .config import dedupe_of
from .const import LANDLORD, REASON_DUPLICATE
from .dispatch import Dispatcher
from .events import EVENT_NOTIFY_SKIPPED
from .notifier import Message
from .templates import render_or

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

_PRUNE_AT = 5000  # remembered notices before the oldest are looked at for forgetting


class Notices:
    """Listens to the events of the enabled notices and sends them."""

    def __init__(self, hub: Hub, dispatcher: Dispatcher, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.dispatcher = dispatcher
        self.config = config
        self.language: str = config.get("language") or hub.config.language
        self.clock: Callable[[], float] = time.monotonic
        self.started = False  # the hub has started: automations run
        self._last: dict[str, float] = {}  # notice key -> when it went out (self.clock)

    def attach(self) -> list[Callable[[], None]]:
        """Subscribe to the events of every enabled notice; return the unsubscribers."""
        if not self.config.get("enabled", True):
            return []
        unsubscribe = [self.hub.bus.listen_once(EVENT_HUB_STARTED, self._hand_over)]
        by_event: dict[str, list[NoticeSpec]] = {}
        for spec in CATALOG:
            if (self.config.get(spec.kind) or {}).get("enabled", True):
                by_event.setdefault(spec.event, []).append(spec)
        return unsubscribe + [
            self.hub.bus.listen(event_type, functools.partial(self._on_event, specs))
            for event_type, specs in by_event.items()]

    def _hand_over(self, event: Event) -> None:
        """The automations run now: notices marked ``start_up_only`` fall silent."""
        self.started = True

    def _on_event(self, specs: list[NoticeSpec], event: Event) -> None:
        stopping = self.hub.state in (HubState.STOPPING, HubState.STOPPED)
        for spec in specs:
            if stopping and not spec.when_stopping:
                continue  # DTUs "go offline" because the hub closes them: not news
            if self.started and (self.config.get(spec.kind) or {}).get("start_up_only"):
                continue  # an automation tells this one now
            if spec.matches(event.data):
                self.emit(spec.kind, event.data, event.context.child(f"notify.{spec.kind}"))

    def emit(self, kind: str, data: Mapping[str, Any], context: Context) -> None:
        """Send one notice (unless the same one went out within its dedupe window)."""
        spec = NOTICES[kind]
        options: Mapping[str, Any] = self.config.get(kind) or {}
        account_id = data.get("account_id") or self.dispatcher.account_of_meter(
            data.get("meter_id"))
        key = "|".join((kind, str(account_id or ""),
                        *(str(data.get(name)) for name in spec.variant)))
        if self._duplicate(key, dedupe_of(self.config, kind).total_seconds()):
            _LOGGER.debug("Notice %s for %s already sent within its dedupe window", kind,
                          account_id)
            self.hub.bus.fire(EVENT_NOTIFY_SKIPPED, {
                "notice": kind, "account_id": account_id, "reason": REASON_DUPLICATE,
            }, context=context)
            return
        message = self.render(kind, data, account_id)
        if options.get("tenant", spec.tenant) and account_id:
            self.dispatcher.to_tenant(str(account_id), message, context, key)
        names = options.get("notify")
        for name in names if names is not None else ([LANDLORD] if spec.landlord else []):
            if name in self.dispatcher.to_account and not account_id:
                continue  # a notifier for "the account's tenant": this one is about nobody's
            if name in self.dispatcher.outboxes:
                self.dispatcher.to_notifier(name, message, context, key)
            elif names is not None:
                _LOGGER.warning("Notice %s: notifier %s is not loaded", kind, name)

    def render(self, kind: str, data: Mapping[str, Any], account_id: Any = None) -> Message:
        """The notice's title and text in the notices' language (overrides applied)."""
        values = self.values(kind, data, account_id)
        title = self.translate(f"notify.{kind}.title", **values)
        text = self.translate(f"notify.{kind}.message", **values)
        options: Mapping[str, Any] = self.config.get(kind) or {}
        if options.get("title"):
            title = render_or(options["title"], values, title, f"notice {kind} title")
        if options.get("message"):
            text = render_or(options["message"], values, text, f"notice {kind}")
        return Message(text, title, notice=kind,
                       account_id=str(account_id) if account_id else None, data=dict(data),
                       values=values)

    def values(self, kind: str | None, data: Mapping[str, Any],
               account_id: Any = None) -> dict[str, Any]:
        """The variables templates see: display texts, ``event`` (raw), site, account.

        A message of the hub in ``data`` (a backup's error, a DTU's reason, an alarm's text)
        is worded in the notices' language first, for the built-in texts and overrides alike.
        """
        data = self.worded(data)
        account = self.dispatcher.account(str(account_id) if account_id else None)
        return variables(kind, {**data, "account_id": account_id} if account_id else data,
                         site=self.hub.config.site_name,
                         account=account.name if account else None, translate=self.translate,
                         meter_name=self.dispatcher.meter_name(data.get("meter_id"),
                                                               self.translate))

    def worded(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with each message of the hub in it in the notices' language."""
        return self.hub.i18n.answer(data, self.language)  # type: ignore[no-any-return]

    def translate(self, key: str, **values: Any) -> str:
        """A text of the i18n table in the notices' language."""
        safe = {name: value for name, value in values.items() if name not in ("key", "language")}
        return self.hub.i18n(key, self.language, **safe)

    async def restore(self) -> None:
        """Remember the notices written within their dedupe windows before a restart."""
        longest = max(dedupe_of(self.config, spec.kind).total_seconds() for spec in CATALOG)
        if longest <= 0:
            return
        wall = time.time()
        since = int((wall - longest) * 1000)
        found = await self.dispatcher.journal.read(
            lambda store: store.noticed_since(since)) or {}
        now = self.clock()
        for key, ts in sorted(found.items(), key=lambda item: item[1]):
            self._last.setdefault(key, now - (wall - ts / 1000))

    def _duplicate(self, key: str, window: float) -> bool:
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < window:
            return True
        self._last.pop(key, None)
        self._last[key] = now  # kept oldest first, so forgetting stops at the first recent one
        if len(self._last) > _PRUNE_AT:
            longest = max(dedupe_of(self.config, spec.kind).total_seconds()
                          for spec in CATALOG)
            stale = []
            for old_key, sent in self._last.items():
                if now - sent < longest:
                    break
                stale.append(old_key)
            for old_key in stale:
                del self._last[old_key]
        return False
