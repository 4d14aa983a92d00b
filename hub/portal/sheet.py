"""QR codes (SVG, by segno) and the printable sheet of them for the room doors.

A sheet has one card per account: the room's name, the QR code of the account's portal link,
the link itself and the landlord's phone. Only a token's hash is stored, so printing a sheet
issues a new link for each account on it: the codes of an earlier sheet stop working.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import segno

if TYPE_CHECKING:
    from jinja2 import Environment

    from ..ledger import Account
    from .links import TenantLinks


def qr_svg(data: str, scale: int = 4, title: str | None = None) -> str:
    """``data`` as a QR code (error correction M), an inline ``<svg>`` element that scales
    to the size its page gives it (a viewBox, no fixed size)."""
    code = segno.make(data, error="m", micro=False)
    svg: str = code.svg_inline(scale=scale, title=title, dark="#000", light="#fff",
                               border=4, omitsize=True)
    return svg


def room_of(account: Account) -> str:
    """The name on a room's card: the account's ``room`` tag, else its name."""
    return str(account.tags.get("room") or account.name)


def link_url(base_url: str, token: str) -> str:
    """The portal URL of a token."""
    return f"{base_url.rstrip('/')}/tenant/{token}"


@dataclass(frozen=True)
class Card:
    """One room's card on the sheet."""

    account_id: str
    room: str
    url: str
    svg: str


async def build_sheet(links: TenantLinks, accounts: Iterable[Account], base_url: str,
                      by: str | None) -> list[Card]:
    """Issue a new link for each account (revoking its old one) and make its card."""
    cards = []
    for account in sorted(accounts, key=room_of):
        issued = await links.reissue(account.id, by)
        url = link_url(base_url, issued.token)
        cards.append(Card(account.id, room_of(account), url, qr_svg(url, title=room_of(account))))
    return cards


def render_sheet(templates: Environment, cards: list[Card], *, site: str,
                 phone: str | None, language: str, t: Any) -> str:
    """The printable HTML page of ``cards``."""
    return templates.get_template("tenant/sheet.html").render(
        cards=cards, site=site, phone=phone, language=language, t=t)
