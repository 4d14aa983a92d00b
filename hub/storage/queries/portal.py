"""SQL of the tenant portal: link tokens (as hashes) and announcements.

A :class:`PortalStore` wraps one connection (:meth:`Storage.portal_write` in a durable
transaction, :meth:`Storage.portal_read` on a reader). The rules (hashing, who may issue)
are the portal's (hub/web/portal).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_LINK_COLUMNS = ("link_id, account_id, token_hash, created_ts, created_by, revoked_ts, "
                 "revoked_by, last_used_ts")
_NOTE_COLUMNS = "announcement_id, text, tags, created_ts, created_by, until_ts, withdrawn_ts"


@dataclass(frozen=True, slots=True)
class LinkRow:
    """A tenant link as stored (its token only as a hash)."""

    link_id: str
    account_id: str
    token_hash: str
    created_ms: int
    created_by: str | None
    revoked_ms: int | None
    revoked_by: str | None
    last_used_ms: int | None


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    """A landlord's announcement to the tenants whose accounts its tags match."""

    announcement_id: str
    text: str
    tags: dict[str, str]
    created_ms: int
    created_by: str | None
    until_ms: int | None
    withdrawn_ms: int | None


def _link(row: Sequence[Any]) -> LinkRow:
    return LinkRow(*row)


def _note(row: Sequence[Any]) -> AnnouncementRow:
    return AnnouncementRow(row[0], row[1], json.loads(row[2]), *row[3:])


class PortalStore:
    """Tenant links and announcements on one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # --- links ---------------------------------------------------------------------------

    def link_by_hash(self, token_hash: str) -> LinkRow | None:
        """The link whose token hashes to ``token_hash`` (revoked ones too), or None."""
        row = self.conn.execute(f"SELECT {_LINK_COLUMNS} FROM tenant_link "
                                "WHERE token_hash = ?", (token_hash,)).fetchone()
        return _link(row) if row else None

    def live_link(self, account_id: str) -> LinkRow | None:
        """The account's link that is not revoked, or None."""
        row = self.conn.execute(f"SELECT {_LINK_COLUMNS} FROM tenant_link WHERE account_id = ? "
                                "AND revoked_ts IS NULL", (account_id,)).fetchone()
        return _link(row) if row else None

    def links(self, account_id: str | None = None) -> list[LinkRow]:
        """Every link (of one account), newest first."""
        where, args = ("WHERE account_id = ?", (account_id,)) if account_id else ("", ())
        return [_link(row) for row in self.conn.execute(
            f"SELECT {_LINK_COLUMNS} FROM tenant_link {where} "
            "ORDER BY created_ts DESC, link_id", args)]

    def add_link(self, row: LinkRow) -> None:
        """Insert a new live link (the caller revoked the account's old one first)."""
        self.conn.execute(f"INSERT INTO tenant_link ({_LINK_COLUMNS}) VALUES "
                          "(?, ?, ?, ?, ?, ?, ?, ?)",
                          (row.link_id, row.account_id, row.token_hash, row.created_ms,
                           row.created_by, row.revoked_ms, row.revoked_by, row.last_used_ms))

    def revoke_links(self, account_id: str, ts: int, by: str | None) -> int:
        """Revoke the account's live link; how many were revoked (0 or 1)."""
        return self.conn.execute(
            "UPDATE tenant_link SET revoked_ts = ?, revoked_by = ? WHERE account_id = ? "
            "AND revoked_ts IS NULL", (ts, by, account_id)).rowcount

    def touch_link(self, link_id: str, ts: int) -> None:
        """Note a link's last use."""
        self.conn.execute("UPDATE tenant_link SET last_used_ts = ? WHERE link_id = ?",
                          (ts, link_id))

    # --- announcements -------------------------------------------------------------------

    def add_announcement(self, row: AnnouncementRow) -> None:
        """Insert an announcement."""
        self.conn.execute(
            f"INSERT INTO tenant_announcement ({_NOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row.announcement_id, row.text, json.dumps(row.tags, sort_keys=True,
                                                       ensure_ascii=False),
             row.created_ms, row.created_by, row.until_ms, row.withdrawn_ms))

    def withdraw_announcement(self, announcement_id: str, ts: int) -> int:
        """Withdraw an announcement; how many were (0: unknown or already withdrawn)."""
        return self.conn.execute(
            "UPDATE tenant_announcement SET withdrawn_ts = ? WHERE announcement_id = ? "
            "AND withdrawn_ts IS NULL", (ts, announcement_id)).rowcount

    def announcements(self, now_ms: int | None = None) -> list[AnnouncementRow]:
        """Announcements not withdrawn (nor over, given ``now_ms``), newest first."""
        rows = self.conn.execute(f"SELECT {_NOTE_COLUMNS} FROM tenant_announcement "
                                 "WHERE withdrawn_ts IS NULL ORDER BY created_ts DESC")
        found = [_note(row) for row in rows]
        return [row for row in found
                if now_ms is None or row.until_ms is None or row.until_ms > now_ms]

