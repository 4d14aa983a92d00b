"""Ledger entries: kinds, signs, exact amounts (fen), and what a post returns."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..core import Context
from ..i18n import Text, restored
from ..storage import EntryRow, from_ms
from ..util.jsonutil import dumps
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

FEN = Decimal("0.01")


class EntryKind(StrEnum):
    """What an entry is. Credits raise the balance, debits lower it."""

    RECHARGE = "recharge"  # a payment (its transaction id is the key)
    CHARGE = "charge"  # consumption charged after a reading (charge:<reading>:<period>)
    SHARE = "share"  # 公摊: a share of a common meter's cost
    FEE = "fee"  # fixed fees and minimum charges of a bill (bill:<bill>:<line>)
    REFUND = "refund"  # money paid back to the tenant
    REVERSAL = "reversal"  # 冲正: undoes one wrong entry (reverse:<entry id>)
    ADJUSTMENT = "adjustment"  # a manual correction with reason and operator
    EMERGENCY = "emergency_credit"  # credit a tenant may take once per period
    EMERGENCY_REPAY = "emergency_repay"  # taken back from the next recharge
    DEPOSIT = "deposit"  # the deposit, applied to the balance at move-out


CREDIT_KINDS = frozenset({EntryKind.RECHARGE, EntryKind.EMERGENCY, EntryKind.DEPOSIT})
DEBIT_KINDS = frozenset({EntryKind.CHARGE, EntryKind.SHARE, EntryKind.FEE, EntryKind.REFUND,
                         EntryKind.EMERGENCY_REPAY})


class LedgerError(Exception):
    """A post was refused; the message says why. Nothing was written."""


OPENING_KEY_PREFIX = "opening:"


def opening_key(account_id: str) -> str:
    """The idempotency key of an account's opening balance (期初余额), posted once ever."""
    return f"{OPENING_KEY_PREFIX}{account_id}"


def to_fen(amount: Decimal) -> int:
    """Yuan (at most 2 decimals) as integer fen; LedgerError for anything finer."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise LedgerError(Text("ledger.amount_exact", amount=repr(amount)))
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        raise LedgerError(Text("ledger.amount_fen", amount=amount))
    return int(fen)


def from_fen(fen: int) -> Decimal:
    """Integer fen as yuan with 2 decimals."""
    return Decimal(fen).scaleb(-2)


def check_sign(kind: EntryKind, fen: int) -> None:
    """Refuse an amount whose sign does not suit the kind (and any zero amount)."""
    if fen == 0:
        raise LedgerError(Text("ledger.amount_zero", kind=kind))
    if kind in CREDIT_KINDS and fen < 0:
        raise LedgerError(Text("ledger.credit_sign", kind=kind, amount=from_fen(fen)))
    if kind in DEBIT_KINDS and fen > 0:
        raise LedgerError(Text("ledger.debit_sign", kind=kind, amount=from_fen(fen)))


class Entry:
    """One ledger entry: amount and running balance in yuan, with who/what caused it.

    A read-only view of its stored row (built for every committed entry, so it is light:
    the context, time, period and detail are made when first asked for).
    """

    __slots__ = ("_context", "_detail", "_row", "amount", "balance")

    def __init__(self, row: EntryRow) -> None:
        self._row = row
        self.amount = from_fen(row.amount)
        self.balance = from_fen(row.balance)
        self._context: Context | None = None
        self._detail: Mapping[str, Any] | None = None

    @classmethod
    def from_row(cls, row: EntryRow) -> Entry:
        """Build from a storage row."""
        return cls(row)

    @property
    def id(self) -> str:
        """The entry's id."""
        return self._row.entry_id

    @property
    def account_id(self) -> str:
        """The account."""
        return self._row.account_id

    @property
    def kind(self) -> str:
        """The EntryKind value."""
        return self._row.kind

    @property
    def key(self) -> str:
        """The idempotency key."""
        return self._row.idem_key

    @property
    def opening(self) -> bool:
        """Whether this is the account's opening balance (期初余额): where its balance
        starts, not a payment and not a change from an earlier balance."""
        return self._row.kind == EntryKind.ADJUSTMENT and self._row.idem_key.startswith(
            OPENING_KEY_PREFIX)

    @property
    def ts(self) -> int:
        """When it was written (epoch ms)."""
        return self._row.ts

    @property
    def meter_id(self) -> str | None:
        """The meter, for charges."""
        return self._row.meter_id

    @property
    def reverses(self) -> str | None:
        """The entry a reversal undoes."""
        return self._row.reverses

    @property
    def reason(self) -> str | None:
        """Why (adjustments, reversals): a message the hub wrote comes back as its Text."""
        return restored(self._row.reason)

    @property
    def operator(self) -> str | None:
        """Who (adjustments, reversals)."""
        return self._row.operator

    @property
    def detail_text(self) -> str | None:
        """The detail as JSON text."""
        return self._row.detail

    @property
    def seq(self) -> int | None:
        """Position in the ledger."""
        return self._row.entry_key

    @property
    def context(self) -> Context:
        """Who or what caused the entry."""
        if self._context is None:
            row = self._row
            self._context = Context(row.context_id, row.context_parent_id,
                                    row.context_user_id, row.origin)
        return self._context

    @property
    def time(self) -> datetime:
        """When the entry was written (aware UTC)."""
        return from_ms(self._row.ts)

    @property
    def period(self) -> date | None:
        """The bill period (start) a charge or fee belongs to."""
        return date.fromisoformat(self._row.period) if self._row.period else None

    @property
    def detail(self) -> Mapping[str, Any]:
        """What produced the entry (lines of a charge, payment method...)."""
        if self._detail is None:
            self._detail = json.loads(self._row.detail) if self._row.detail else {}
        return self._detail

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return replace(self._row, entry_key=None) == replace(other._row, entry_key=None)

    def __hash__(self) -> int:
        return hash(self._row.entry_id)

    def __repr__(self) -> str:
        return (f"<Entry {self.id} {self.account_id} {self.kind} {self.amount} "
                f"-> {self.balance} key={self.key}>")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (money as text)."""
        return {
            "id": self.id, "account_id": self.account_id, "kind": self.kind,
            "amount": str(self.amount), "balance": str(self.balance), "key": self.key,
            "time": self.time.isoformat(), "context": self.context.as_dict(),
            "period": self.period.isoformat() if self.period else None,
            "meter_id": self.meter_id, "reverses": self.reverses, "reason": self.reason,
            "operator": self.operator, "detail": dict(self.detail),
        }


@dataclass(frozen=True)
class PostResult:
    """A post's outcome: the entry, and whether it is new (False: the key was used before)."""

    entry: Entry
    created: bool


# A check run inside the transaction before the entry is written: (balance fen) -> None,
# raising LedgerError to refuse (e.g. a refund larger than the balance).
Check = Callable[[int], None]


@dataclass
class PostRequest:
    """One entry to post."""

    account_id: str
    kind: EntryKind
    amount: Decimal
    key: str
    context: Context | None = None
    detail: Mapping[str, Any] | None = None
    reason: str | None = None
    operator: str | None = None
    meter_id: str | None = None
    period: date | None = None
    reverses: str | None = None
    check: Check | None = None
    detail_json: str | None = None  # the detail already as JSON text (hot paths)

    def detail_text(self) -> str | None:
        """The detail as JSON text (Decimals as text)."""
        if self.detail_json is not None:
            return self.detail_json
        return dumps(dict(self.detail), separators=(",", ":")) if self.detail else None

    def authored(self) -> tuple[str | None, str | None]:
        """(operator, detail text) as stored: the operator is the context's authenticated
        user when there is one; a different name the caller typed stays as a note."""
        user = self.context.user_id if self.context else None
        if user is None:
            return self.operator, self.detail_text()
        if self.operator and self.operator != user and self.detail_json is None:
            detail = {**(self.detail or {}), "operator_note": self.operator}
            return user, dumps(detail, separators=(",", ":"))
        return user, self.detail_text()
