"""Operator holds on accounts: keep power on (保电) or force it off, with a reason and an end.

A hold is a durable row (``account_hold``) mirrored in memory; an account has at most one
open hold (a new one replaces the old). A hold whose end has passed stops counting at once
(:meth:`Hold.active`) and is released durably when the trip policy processes its end, so its
end is handled once, also across a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core import Context
from ..events import EVENT_HOLD_RELEASED, EVENT_HOLD_SET
from ..i18n import Text
from ..storage import HoldRow, to_ms
from ..util.dt import utcnow
from ..util.ids import new_id
from .policy import Hold, HoldKind

if TYPE_CHECKING:
    from ..core import Hub
    from ..storage import Storage

_LOGGER = logging.getLogger(__name__)



def as_hold(row: HoldRow) -> Hold:
    """The policy's view of a hold row."""
    return Hold(HoldKind(row.kind), row.reason, row.until, row.operator)


class HoldBook:
    """Open holds per account, durable in storage."""

    def __init__(self, hub: Hub, clock: Callable[[], datetime] = utcnow) -> None:
        self.hub = hub
        self.clock = clock
        self._open: dict[str, list[HoldRow]] = {}

    @property
    def storage(self) -> Storage:
        """Storage (hold rows)."""
        from ..storage import Storage

        return self.hub.component("storage", Storage)

    async def load(self) -> None:
        """Read the open holds (start-up)."""
        rows = await self.storage.control_read(lambda store: store.open_holds())
        self._open.clear()
        for row in rows:
            self._open.setdefault(row.account_id, []).append(row)

    def open_rows(self, account_id: str) -> list[HoldRow]:
        """The account's open holds (an expired one stays open until its end is handled)."""
        return list(self._open.get(account_id, ()))

    def holds(self, account_id: str) -> list[Hold]:
        """The account's open holds as the policy takes them."""
        return [as_hold(row) for row in self._open.get(account_id, ())]

    def active(self, account_id: str, now: datetime | None = None) -> HoldRow | None:
        """The hold in force now, if any."""
        rows = self._open.get(account_id)
        if not rows:
            return None  # the usual account: no clock read
        when = now or self.clock()
        for row in rows:
            if as_hold(row).active(when):
                return row
        return None

    def ended(self, now: datetime) -> list[HoldRow]:
        """Open holds whose end has passed (their end is still to be handled)."""
        return [row for rows in self._open.values() for row in rows
                if row.until is not None and row.until <= now]

    def next_end(self) -> datetime | None:
        """The earliest end of an open hold."""
        ends = [row.until for rows in self._open.values() for row in rows
                if row.until is not None]
        return min(ends) if ends else None

    async def set(self, account_id: str, kind: HoldKind, reason: str, until: datetime | None,
                  operator: str | None, context: Context) -> HoldRow:
        """Put a hold on an account (replacing an open one); fire ``hold_set``."""
        now = self.clock()
        if until is not None and until <= now:
            raise ValueError(Text("prepaid.hold_past", until=until.isoformat()))
        row = HoldRow(f"hold-{new_id()}", account_id, str(kind), reason, until, operator,
                      now, context=context)
        replaced = await self.storage.control_write(lambda store: store.add_hold(row))
        old = self._open.get(account_id, [])
        self._open[account_id] = [row]
        _LOGGER.warning("Account %s: %s hold set by %s until %s: %s", account_id, kind,
                        operator or context.author or "?",
                        until.isoformat() if until else "released", reason)
        self.hub.bus.fire(EVENT_HOLD_SET, {
            "account_id": account_id, "hold_id": row.hold_id, "kind": str(kind),
            "reason": reason, "until": until.isoformat() if until else None,
            "operator": operator,
            "replaced": [item.hold_id for item in old if item.hold_id in replaced],
        }, context=context)
        return row

    async def release(self, account_id: str, operator: str | None, reason: str | None,
                      context: Context, *, hold_id: str | None = None,
                      expired: bool = False) -> list[HoldRow]:
        """Release the account's open hold(s); fire ``hold_released`` for each."""
        ts = to_ms(self.clock())
        released = await self.storage.control_write(lambda store: store.release_holds(
            account_id, ts, operator, reason, hold_id))
        gone = [row for row in self._open.get(account_id, ()) if row.hold_id in released]
        remaining = [row for row in self._open.get(account_id, ())
                     if row.hold_id not in released]
        if remaining:
            self._open[account_id] = remaining
        else:
            self._open.pop(account_id, None)
        for row in gone:
            _LOGGER.warning("Account %s: %s hold %s (%s)", account_id, row.kind,
                            "ended" if expired else "released", reason or "")
            data: dict[str, Any] = {
                "account_id": account_id, "hold_id": row.hold_id, "kind": row.kind,
                "reason": reason, "operator": operator, "expired": expired,
            }
            self.hub.bus.fire(EVENT_HOLD_RELEASED, data, context=context)
        return gone
