"""Events of the ledger: accounts, balances, payments."""

# No ``from __future__ import annotations`` in this module (nor in a plugin's events.py):
# on Python 3.11 a TypedDict with string annotations cannot see ``NotRequired[...]`` and
# reports every key as required.

from decimal import Decimal
from typing import Final, TypedDict

from .catalog import EventType

__all__ = [
    "ACCOUNT_UPDATED",
    "BALANCE_EXHAUSTED",
    "BALANCE_LOW",
    "BALANCE_RESTORED",
    "EVENT_ACCOUNT_UPDATED",
    "EVENT_BALANCE_EXHAUSTED",
    "EVENT_BALANCE_LOW",
    "EVENT_BALANCE_RESTORED",
    "EVENT_PAYMENT_RECEIVED",
    "EVENT_TYPES",
    "PAYMENT_RECEIVED",
    "AccountUpdatedData",
    "BalanceData",
    "PaymentReceivedData",
]

EVENT_ACCOUNT_UPDATED: Final = "account_updated"
EVENT_BALANCE_LOW: Final = "balance_low"
EVENT_BALANCE_EXHAUSTED: Final = "balance_exhausted"
EVENT_BALANCE_RESTORED: Final = "balance_restored"
EVENT_PAYMENT_RECEIVED: Final = "payment_received"


class AccountUpdatedData(TypedDict):
    """``account_updated``."""

    account_id: str
    fields: list[str]  # the fields changed; ["*"]: the account was created


class BalanceData(TypedDict):
    """``balance_low``, ``balance_exhausted``, ``balance_restored``."""

    account_id: str
    level: Decimal  # the level crossed
    balance: Decimal  # after the entry
    entry_id: str  # the ledger entry that crossed it


class PaymentReceivedData(TypedDict):
    """``payment_received``."""

    account_id: str
    amount: Decimal
    method: str | None  # cash, wechatpay, alipay...
    reference: str | None  # the payment's transaction id
    balance: Decimal  # after the payment
    entry_id: str


ACCOUNT_UPDATED = EventType(EVENT_ACCOUNT_UPDATED, AccountUpdatedData, "An account was created "
                            "or changed at runtime", "ledger")
BALANCE_LOW = EventType(EVENT_BALANCE_LOW, BalanceData, "A prepaid account's balance fell below "
                        "one of its warning levels", "ledger")
BALANCE_EXHAUSTED = EventType(EVENT_BALANCE_EXHAUSTED, BalanceData, "A prepaid account's "
                              "balance fell to its trip level (0, or minus its overdraft)",
                              "ledger")
BALANCE_RESTORED = EventType(EVENT_BALANCE_RESTORED, BalanceData, "A prepaid account's balance "
                             "rose back above its trip level", "ledger")
PAYMENT_RECEIVED = EventType(EVENT_PAYMENT_RECEIVED, PaymentReceivedData, "A payment was "
                             "credited to an account", "ledger")

EVENT_TYPES: Final[tuple[EventType, ...]] = (
    ACCOUNT_UPDATED, BALANCE_LOW, BALANCE_EXHAUSTED, BALANCE_RESTORED, PAYMENT_RECEIVED,
)

