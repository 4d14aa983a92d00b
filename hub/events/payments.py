"""Events of the payments: orders changing state, refunds, reconciliation differences."""

# No ``from __future__ import annotations`` in this module (see hub/events/__init__.py).

from decimal import Decimal
from typing import Final, TypedDict

from .catalog import EventType

__all__ = [
    "EVENT_PAYMENT_MISMATCH",
    "EVENT_PAYMENT_ORDER",
    "EVENT_PAYMENT_REFUNDED",
    "EVENT_TYPES",
    "PAYMENT_MISMATCH",
    "PAYMENT_ORDER",
    "PAYMENT_REFUNDED",
    "PaymentMismatchData",
    "PaymentOrderData",
    "PaymentRefundedData",
]

EVENT_PAYMENT_ORDER: Final = "payment_order"
EVENT_PAYMENT_REFUNDED: Final = "payment_refunded"
EVENT_PAYMENT_MISMATCH: Final = "payment_mismatch"


class PaymentOrderData(TypedDict):
    """``payment_order``."""

    order_id: str
    account_id: str
    provider: str  # cash, wechatpay, alipay...
    state: str  # created paid credited closed refunded partially_refunded
    previous: str | None  # None: the order was just created
    amount: Decimal  # the order's amount


class PaymentRefundedData(TypedDict):
    """``payment_refunded``."""

    account_id: str
    order_id: str
    refund_id: str
    provider: str
    amount: Decimal  # paid back by this refund
    state: str  # success | processing (the provider still works on it)
    balance: Decimal  # the account's balance after its ledger entry


class PaymentMismatchData(TypedDict):
    """``payment_mismatch``."""

    provider: str
    landlord: str  # the merchant account's landlord ('' for the site's own)
    day: str | None  # the reconciled day (None: a notification, not a reconciliation)
    paid_not_credited: list[str]  # order ids (credited by the reconciliation since)
    credited_not_paid: list[str]
    amount_differs: list[str]


PAYMENT_ORDER = EventType(EVENT_PAYMENT_ORDER, PaymentOrderData, "A payment order was created or "
                          "changed state", "payments")
PAYMENT_REFUNDED = EventType(EVENT_PAYMENT_REFUNDED, PaymentRefundedData, "Money paid on an "
                             "order was paid back to the tenant", "payments")
PAYMENT_MISMATCH = EventType(EVENT_PAYMENT_MISMATCH, PaymentMismatchData, "The provider and the "
                             "order book disagree: paid but not credited, credited but not "
                             "paid, or another amount", "payments")

EVENT_TYPES: Final[tuple[EventType, ...]] = (PAYMENT_ORDER, PAYMENT_REFUNDED, PAYMENT_MISMATCH)
