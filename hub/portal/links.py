"""Tenant links: per account one unguessable token, stored only as its hash; announcements.

The token (256 random bits, URL-safe) is shown once, when issued; the database keeps its
SHA-256. An account has at most one live link: issuing when one is live is refused (re-issue
instead, which revokes the old one), revoking leaves the account without a link. A revoked
token is remembered (as its hash), so its holder is told it was revoked, not "unknown".
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..exceptions import HubError
from ..i18n import Text
from ..storage import AnnouncementRow, LinkRow, Storage
from ..util.ids import new_id
from ..web.scope import ScopeIndex
from . import strings as _strings  # noqa: F401  (the tables of the Texts below)

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger import Account
    from ..storage import PortalStore

_LOGGER = logging.getLogger(__name__)

TOKEN_BYTES = 32
TOUCH_MS = 3600_000  # a link's last use is written at most once an hour
LIVE, REVOKED, UNKNOWN = "live", "revoked", "unknown"


class LinkError(HubError):
    """A link cannot be issued, revoked or re-issued (the message says why)."""


def token_hash(token: str) -> str:
    """What is stored of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Resolved:
    """What a token opens: ``status`` live / revoked / unknown, and the account when live."""

    status: str
    account: Account | None = None
    link: LinkRow | None = None


@dataclass(frozen=True)
class Issued:
    """A link just issued: its row and the token (shown this once)."""

    link: LinkRow
    token: str


class TenantLinks:
    """Issues, revokes, re-issues and resolves tenant links; keeps announcements."""

    def __init__(self, hub: Hub, storage: Storage,
                 accounts: Callable[[], Mapping[str, Account]]) -> None:
        self.hub = hub
        self.storage = storage
        self.accounts = accounts
        self.clock: Callable[[], float] = time.time
        self.scopes = ScopeIndex(hub)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _known(self, account_id: str) -> Account:
        account = self.accounts().get(account_id)
        if account is None:
            raise LinkError(Text("portal.unknown_account", account=account_id))
        return account

    async def issue(self, account_id: str, by: str | None, *, replace: bool = False) -> Issued:
        """A new link for the account; with ``replace`` its live link is revoked first,
        without it a live link makes this refused."""
        self._known(account_id)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._now_ms()
        row = LinkRow(new_id(), account_id, token_hash(token), now, by, None, None, None)

        def work(store: PortalStore) -> bool:
            if store.live_link(account_id) is not None:
                if not replace:
                    return False
                store.revoke_links(account_id, now, by)
            store.add_link(row)
            return True

        if not await self.storage.portal_write(work):
            raise LinkError(Text("portal.live_link", account=account_id))
        _LOGGER.info("Tenant link %s issued for account %s by %s%s", row.link_id, account_id,
                     by, " (the old one revoked)" if replace else "")
        return Issued(row, token)

    async def reissue(self, account_id: str, by: str | None) -> Issued:
        """Revoke the account's live link (if any) and issue a new one."""
        return await self.issue(account_id, by, replace=True)

    async def revoke(self, account_id: str, by: str | None) -> int:
        """Revoke the account's live link; how many were revoked (LinkError: none was)."""
        self._known(account_id)
        now = self._now_ms()
        count = await self.storage.portal_write(lambda s: s.revoke_links(account_id, now, by))
        if not count:
            raise LinkError(Text("portal.no_link", account=account_id))
        _LOGGER.info("Tenant link of account %s revoked by %s", account_id, by)
        return count

    async def links(self, account_id: str | None = None) -> list[LinkRow]:
        """Every link (of one account), newest first."""
        return await self.storage.portal_read(lambda s: s.links(account_id))

    async def resolve(self, token: str) -> Resolved:
        """What a token opens (a bad or unknown one, or one of a removed account: unknown)."""
        if not token or len(token) > 200:
            return Resolved(UNKNOWN)
        digest = token_hash(token)
        row = await self.storage.portal_read(lambda s: s.link_by_hash(digest))
        if row is None:
            return Resolved(UNKNOWN)
        if row.revoked_ms is not None:
            return Resolved(REVOKED, link=row)
        account = self.accounts().get(row.account_id)
        if account is None:
            return Resolved(UNKNOWN)
        now = self._now_ms()
        if row.last_used_ms is None or now - row.last_used_ms > TOUCH_MS:
            await self.storage.portal_write(lambda s: s.touch_link(row.link_id, now))
        return Resolved(LIVE, account, row)

    # --- announcements -------------------------------------------------------------------

    async def announce(self, text: str, tags: Mapping[str, str], until_ms: int | None,
                       by: str | None) -> AnnouncementRow:
        """Store an announcement for the accounts ``tags`` match (``{}``: every account)."""
        row = AnnouncementRow(new_id(), text, dict(tags), self._now_ms(), by, until_ms, None)
        await self.storage.portal_write(lambda s: s.add_announcement(row))
        return row

    async def withdraw(self, announcement_id: str) -> None:
        """Withdraw an announcement (LinkError when unknown or already withdrawn)."""
        now = self._now_ms()
        if not await self.storage.portal_write(
                lambda s: s.withdraw_announcement(announcement_id, now)):
            raise LinkError(Text("portal.no_announcement", announcement=announcement_id))

    async def announcements(self, account_id: str | None = None) -> list[AnnouncementRow]:
        """Current announcements (those an account sees, given one), newest first."""
        now = self._now_ms()
        found = await self.storage.portal_read(lambda s: s.announcements(now))
        if account_id is None:
            return found
        return [row for row in found if self.scopes.account(row.tags, account_id)]
