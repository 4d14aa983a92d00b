"""Paying from the portal: what a tenant is offered (providers, preset amounts, limits), the
channel of an order in this browser, and the order as the page's poll sees it.

The payments component (``hub/prepaid/payments``) is the authority: the portal offers only
the providers that take payments for the account's landlord, within the limits the order book
enforces, so what the page offers is what ``payment.create_order`` accepts (docs/portal.md).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..prepaid.payments import Channel, PaymentBook
from ..prepaid.payments.book import CREDITED

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger import Account

_LOGGER = logging.getLogger(__name__)

PAY_SERVICE = ("payment", "create_order")
ORDER_SERVICE = ("payment", "order")
DEFAULT_AMOUNTS = (Decimal(20), Decimal(50), Decimal(100), Decimal(200))
DEFAULT_MIN = Decimal("1.00")
# the channels a portal page can use, best first, in WeChat's browser and elsewhere
IN_WECHAT = (Channel.JSAPI,)
ELSEWHERE = (Channel.WAP, Channel.NATIVE, Channel.PRECREATE)
SHOWN = ("order_id", "account_id", "provider", "channel", "amount", "state", "created",
         "expires", "paid", "paid_at", "refunded")


@dataclass(frozen=True)
class Offer:
    """What the pay button offers an account."""

    providers: list[str]
    amounts: list[Decimal]
    low: Decimal
    high: Decimal


def payment_book(hub: Hub) -> PaymentBook | None:
    """The order book when the payments component runs."""
    return hub.component("payments", PaymentBook) if hub.has_component("payments") else None


def provider_channels(hub: Hub, account: Account, provider: str,
                      payer: Payer | None = None) -> tuple[str, ...]:
    """The channels ``provider`` offers for this account's payments (none: it takes none),
    without a WAP page that cannot open for this ``payer`` (see ``wap_phone_only``)."""
    book = payment_book(hub)
    merchant = book.merchant_for(account, provider) if book is not None else None
    if merchant is None:
        return ()
    channels = tuple(merchant.provider.channels)
    if payer is not None and merchant.provider.wap_phone_only and not payer.public_phone():
        channels = tuple(channel for channel in channels if channel != Channel.WAP)
    return channels


@dataclass(frozen=True)
class Payer:
    """The tenant's browser as a provider sees it: a phone or not, and its address."""

    phone: bool
    address: str | None

    def public_phone(self) -> bool:
        """A phone browser at a public address (not on the landlord's network)."""
        try:
            public = self.address is not None and ipaddress.ip_address(self.address).is_global
        except ValueError:
            public = False
        return self.phone and public


def jsapi_problem(hub: Hub, config: Mapping[str, Any], account: Account, provider: str,
                  openid: str | None) -> str | None:
    """Why a JSAPI order cannot work (the key of what to tell the tenant), or None. WeChat
    Pay takes only an openid of the merchant's ``appid``; the portal binds openids of its
    Official Account (``portal.wechat``), so the two must be the same app."""
    wechat = config.get("wechat")
    book = payment_book(hub)
    merchant = book.merchant_for(account, provider) if book is not None else None
    app_id = merchant.config.get("appid") if merchant is not None else None
    if wechat and app_id is not None and app_id != wechat["app_id"]:
        _LOGGER.error("JSAPI payments cannot work for account %s: %s's appid %s is not the "
                      "Official Account of portal.wechat (%s), whose openids the portal "
                      "binds", account.id, provider, app_id, wechat["app_id"])
        return "portal.pay.no_jsapi"
    if not openid:
        return "portal.pay.no_openid" if wechat else "portal.pay.no_jsapi"
    return None


def offer(hub: Hub, config: Mapping[str, Any], account: Account) -> Offer:
    """The providers, presets and limits for ``account``: ``portal:`` narrows ``payments:``."""
    book = payment_book(hub)
    low: Decimal | None = config.get("min_amount")
    presets = config.get("amounts")
    wanted = config.get("pay_with")
    if book is not None:
        least: Decimal = book.settings["min_amount"]
        low = least if low is None else max(low, least)
        presets = book.settings["presets"] if presets is None else presets
        if wanted is None:
            wanted = list(dict.fromkeys(name for name, _landlord in book.merchants))
    if book is None or not hub.services.has(*PAY_SERVICE):
        wanted = []
    usable = (*IN_WECHAT, *ELSEWHERE)
    providers = [name for name in wanted or () if any(
        channel in usable for channel in provider_channels(hub, account, name))]
    low, high = low or DEFAULT_MIN, account.max_recharge
    amounts = [amount for amount in (DEFAULT_AMOUNTS if presets is None else presets)
               if low <= amount <= high]
    return Offer(providers, amounts, low, high)


def choose_channel(channels: Sequence[str], in_wechat: bool,
                   jsapi: Callable[[], str | None]) -> tuple[str | None, str | None]:
    """The channel of an order in this browser, or None and the key of what to tell the
    tenant: JSAPI inside WeChat (``jsapi``: why it cannot work, if so); elsewhere a
    provider's own page (WAP), else a QR code to scan. WeChat's browser opens no other
    provider's pages."""
    if in_wechat:
        if Channel.JSAPI not in channels:
            return None, "portal.pay.open_in_browser"
        problem = jsapi()
        return (None, problem) if problem else (Channel.JSAPI, None)
    for channel in ELSEWHERE:
        if channel in channels:
            return channel, None
    return None, "portal.pay.bad_provider"


def outcome(found: Mapping[str, Any]) -> str:
    """What the page says of an order: credited, held (paid, not credited: the landlord
    checks it), failed (closed) or waiting."""
    state = found.get("state")
    if state in CREDITED:
        return "credited"
    if state == "paid" and found.get("problem"):
        return "held"
    if state == "closed":
        return "failed"
    return "waiting"


def tenant_order(found: Mapping[str, Any]) -> dict[str, Any]:
    """The order as the tenant's poll sees it: no problem texts, no landlord, no pay data."""
    view = {key: found.get(key) for key in SHOWN}
    view["outcome"] = outcome(found)
    return view
