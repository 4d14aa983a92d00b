"""The payment provider contract: what a cash desk, WeChat Pay, Alipay or a bank implements.

A provider plugin returns :class:`PaymentProviderType`\\ s from ``register_payment_providers``;
the hub builds one :class:`PaymentProvider` per ``payments: providers:`` entry (one merchant
account: a landlord's, or the site's). The hub owns the order book, the ledger credit and
every retry; a provider only speaks its wire format: it creates an order at the provider,
queries, closes and refunds it, verifies a notification and says how to acknowledge it.
Money crosses this contract as integer fen. See docs/payments.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import aiohttp

from ...i18n import Text
from .. import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = [
    "BillLine", "Channel", "Checkout", "HttpProvider", "Notification", "NotificationRejected",
    "OrderRequest",
    "Payment", "PaymentProvider", "PaymentProviderType", "PaymentState", "ProviderError",
    "RefundOutcome", "RefundState", "Reply",
]


class Channel(StrEnum):
    """How the payer pays."""

    JSAPI = "jsapi"  # inside WeChat's browser (needs the payer's openid)
    NATIVE = "native"  # a WeChat Pay QR code (code_url)
    WAP = "wap"  # a phone browser sent to the provider's page (Alipay WAP, WeChat Pay H5)
    PRECREATE = "precreate"  # an Alipay QR code (qr_code)
    COUNTER = "counter"  # at the landlord's desk: paid when recorded (cash, a bank slip)


class PaymentState(StrEnum):
    """What the provider says of an order."""

    PENDING = "pending"  # created, not paid (yet)
    PAID = "paid"  # paid (also when later refunded in part or whole)
    CLOSED = "closed"  # closed or expired without payment
    UNKNOWN = "unknown"  # the provider does not know the order


class RefundState(StrEnum):
    """Where a refund is at the provider."""

    SUCCESS = "success"
    PROCESSING = "processing"
    FAILED = "failed"


class ProviderError(Exception):
    """The provider could not be reached or refused a call (the message names which)."""


class NotificationRejected(Exception):
    """A notification that must not be applied: a bad signature, a stale timestamp, a
    foreign merchant, an unreadable body. ``retry``: whether the provider should send it
    again (a notification that may become good later, e.g. for an order not stored yet)."""

    def __init__(self, reason: str, *, retry: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


@dataclass(frozen=True)
class OrderRequest:
    """An order the hub has stored and asks the provider to open."""

    order_id: str  # the merchant order number (out_trade_no)
    account_id: str
    amount_fen: int
    channel: Channel
    description: str
    notify_url: str  # where the provider posts its notification
    expires: datetime
    openid: str | None = None  # JSAPI: the payer
    return_url: str | None = None  # WAP: where the payer's browser goes back
    reference: str | None = None  # counter: the receipt number
    payer_ip: str | None = None  # WAP: the payer's public address (WeChat Pay H5 checks it)


@dataclass(frozen=True)
class Payment:
    """A provider's verified word about an order's payment."""

    order_id: str
    state: PaymentState
    transaction_id: str | None = None
    amount_fen: int | None = None
    paid_at: datetime | None = None
    payer: str | None = None


@dataclass(frozen=True)
class Checkout:
    """What the payer needs to pay: ``code_url``/``qr_code`` (a QR code), ``jsapi`` (the
    parameters of WeChat's ``WeixinJSBridge.invoke('getBrandWCPayRequest', ...)``),
    ``redirect_url`` (WAP); ``paid`` when the order was paid on the spot (counter)."""

    data: Mapping[str, Any] = field(default_factory=dict)
    paid: Payment | None = None


@dataclass(frozen=True)
class RefundOutcome:
    """Where a refund is."""

    refund_id: str  # the merchant refund number (out_refund_no)
    state: RefundState
    provider_refund_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Notification:
    """What a verified notification says: a payment, or a refund of ``order_id``."""

    order_id: str
    payment: Payment | None = None
    refund: RefundOutcome | None = None
    detail: str = ""  # for the notification log (event type, trade status)


@dataclass(frozen=True)
class Reply:
    """The HTTP answer a provider's documentation prescribes for a notification."""

    status: int
    body: str = ""
    content_type: str = "text/plain"


@dataclass(frozen=True)
class BillLine:
    """One line of a provider's daily bill: a payment (``refund_id`` None) or a refund."""

    order_id: str
    transaction_id: str
    amount_fen: int
    refund_id: str | None = None


class PaymentProvider(ABC):
    """One merchant account at one provider (built from a ``providers:`` entry)."""

    #: the ledger's payment method of its credits (account.recharge ``method``)
    method: str = "other"
    #: the channels it offers
    channels: tuple[Channel, ...] = ()
    #: True when its WAP page opens only in a phone browser at the payer's public address
    #: (WeChat Pay's H5 checks both): a desktop or a tenant on the landlord's LAN scans a QR
    wap_phone_only: bool = False
    #: False when the order book is the only record (cash): not reconciled
    remote: bool = True

    def __init__(self, config: Mapping[str, Any], clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock

    async def start(self) -> None:
        """Open what it needs (an HTTP session); nothing by default."""
        return

    async def stop(self) -> None:
        """Close what ``start`` opened; nothing by default."""
        return

    @abstractmethod
    async def create_order(self, request: OrderRequest) -> Checkout:
        """Open the order at the provider; raise ProviderError when refused."""

    @abstractmethod
    async def query_order(self, order_id: str) -> Payment:
        """What the provider says of the order now."""

    @abstractmethod
    async def close_order(self, order_id: str) -> None:
        """Close an unpaid order so it can no longer be paid."""

    @abstractmethod
    async def refund(self, order_id: str, refund_id: str, amount_fen: int, total_fen: int,
                     reason: str, notify_url: str) -> RefundOutcome:
        """Pay ``amount_fen`` of the order back to the payer (``refund_id`` makes it once)."""

    @abstractmethod
    async def query_refund(self, order_id: str, refund_id: str) -> RefundOutcome:
        """Where a refund is now."""

    @abstractmethod
    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Check a notification's signature and freshness and read it; raise
        NotificationRejected when it must not be applied."""

    @abstractmethod
    def acknowledge(self, ok: bool, message: str) -> Reply:
        """The answer that makes the provider stop (``ok``) or retry later."""

    async def daily_bill(self, day: date) -> list[BillLine] | None:
        """The provider's bill of a (site-local) day, or None when it offers none: the
        reconciliation then queries each order of the day."""
        return None


class HttpProvider(PaymentProvider):
    """A provider behind an HTTP API: a session opened at start, the base URL of its
    production or sandbox host (``base_url`` overrides both: a test server)."""

    production_url: str = ""
    sandbox_url: str | None = None  # None: the provider has no public sandbox host

    def __init__(self, config: Mapping[str, Any], clock: Callable[[], datetime]) -> None:
        super().__init__(config, clock)
        base = config.get("base_url")
        if base is None and config.get("sandbox"):
            if self.sandbox_url is None:
                raise ValueError(Text("payments.no_sandbox", provider=type(self).__name__))
            base = self.sandbox_url
        self.base_url: str = (base or self.production_url).rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        """The open session (a ProviderError before start)."""
        if self._session is None:
            raise ProviderError(  # i18n: internal (a bug: used before start)
                f"{type(self).__name__} is not started")
        return self._session

    async def start(self) -> None:
        """Open the HTTP session (``timeout`` from the entry, default 10 s)."""
        seconds = self.config.get("timeout")
        total = seconds.total_seconds() if seconds is not None else 10.0
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=total))

    async def stop(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


@dataclass(frozen=True)
class PaymentProviderType:
    """A provider as registered: its ``name`` (``provider:`` in YAML), the schema keys of its
    ``providers:`` entries and the factory of one merchant account."""

    name: str
    keys: Mapping[Any, Any]
    create: Callable[[Mapping[str, Any], Callable[[], datetime]], PaymentProvider]
    description: str = ""
