"""One ledger transaction's working state, and the operations the ledger's worker runs.

A :class:`Batch` runs in the storage writer's thread inside one durable transaction: ops plan
their writes on it in arrival order (a refused op leaves nothing behind), the batch writes
entries, running totals and whatever the ops added, and after the COMMIT the ledger applies
the batch's totals to memory. Ops: :class:`PostOp`, :class:`ReverseOp` here, charging
(``charges.ChargeOp``) and bills (``hub.billing.bill_ops``) elsewhere.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ..core import Context
from ..i18n import Text
from ..storage import AuditRow, EntryRow, MoneyStore
from ..util.ids import new_id
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .entries import (
    EntryKind,
    LedgerError,
    PostRequest,
    PostResult,
    check_sign,
    from_fen,
    to_fen,
)

if TYPE_CHECKING:
    from .ledger import Ledger

_LOGGER = logging.getLogger(__name__)


class Batch:
    """The working state of one durable transaction (runs in the storage writer's thread)."""

    def __init__(self, ledger: Ledger, store: MoneyStore, now_ms: int) -> None:
        self.ledger = ledger
        self.store = store
        self.now_ms = now_ms
        self.balances: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.last: dict[str, str] = {}
        self.emergency: dict[str, int] = {}
        self.rows: list[EntryRow] = []
        self.known: dict[str, EntryRow] = {}
        self.writes: list[Callable[[MoneyStore], None]] = []
        self.commits: list[Callable[[], None]] = []
        self.scratch: dict[str, Any] = {}
        self.ops: Sequence[Op] = ()

    def balance(self, account_id: str) -> int:
        """The account's balance in fen, including this batch's entries so far."""
        found = self.balances.get(account_id)
        return self.ledger._balances.get(account_id, 0) if found is None else found

    def emergency_outstanding(self, account_id: str) -> int:
        """Emergency credit taken and not yet repaid, fen."""
        found = self.emergency.get(account_id)
        return self.ledger._emergency.get(account_id, 0) if found is None else found

    def prefetch(self, keys: Sequence[str]) -> None:
        """Load the entries that already use these keys."""
        missing = [key for key in keys if key not in self.known]
        if missing:
            self.known.update(self.store.entries_by_keys(missing))

    def find(self, key: str) -> EntryRow | None:
        """The entry with this key, stored or written earlier in this batch."""
        if key not in self.known:
            self.prefetch([key])
        return self.known.get(key)

    def append(self, request: PostRequest, fen: int) -> EntryRow:
        """Add an entry (already checked) and move the working balance."""
        operator, detail = request.authored()
        return self.add(
            request.account_id, str(request.kind), fen, request.key,
            request.context or Context(origin="ledger"),
            period=request.period.isoformat() if request.period else None,
            meter_id=request.meter_id, detail=detail,
            reverses=request.reverses, reason=request.reason, operator=operator)

    def add(self, account: str, kind: str, fen: int, key: str, context: Context, *,
            period: str | None = None, meter_id: str | None = None,
            detail: str | None = None, reverses: str | None = None, reason: str | None = None,
            operator: str | None = None) -> EntryRow:
        """Add a checked entry from its parts (the hot path of charging)."""
        balance = self.balance(account) + fen
        row = EntryRow(new_id(), account, kind, fen, balance, key, self.now_ms, period,
                       meter_id, reverses, reason, operator, detail, context.id,
                       context.parent_id, context.user_id, context.origin)
        self.balances[account] = balance
        self.counts[account] = self.counts.get(account, self.ledger._counts.get(account, 0)) + 1
        self.last[account] = row.entry_id
        if kind == EntryKind.EMERGENCY or kind == EntryKind.EMERGENCY_REPAY:
            self.emergency[account] = self.emergency_outstanding(account) + fen
        self.rows.append(row)
        self.known[key] = row
        return row

    def write(self) -> None:
        """Write the entries, the running totals and whatever the ops added."""
        if self.rows:
            self.store.insert_entries(self.rows)
            self.store.save_balances(
                [(account, balance, self.counts[account], self.last.get(account))
                 for account, balance in self.balances.items()], self.now_ms)
        for write in self.writes:
            write(self.store)


class Op(abc.ABC):
    """Work for the ledger's worker; ``plan`` runs in the transaction, in arrival order."""

    __slots__ = ("attempts", "future", "result")

    def __init__(self) -> None:
        self.future: asyncio.Future[Any] | None = None
        self.result: Any = None
        self.attempts = 0

    def idem_keys(self) -> Iterable[str]:
        """Idempotency keys to load before planning (one query for the whole batch)."""
        return ()

    @abc.abstractmethod
    def plan(self, batch: Batch) -> Any:
        """Do the work on the batch; return the result (raise to refuse: nothing kept)."""

    def failed(self, error: BaseException) -> bool:
        """The transaction failed; return True to queue the op again."""
        return False

    def committed(self) -> None:  # noqa: B027 - optional hook, most ops need nothing
        """Called on the loop after the batch committed (``result`` is set)."""


class PostOp(Op):
    """Post one entry."""

    __slots__ = ("request",)

    def __init__(self, request: PostRequest) -> None:
        super().__init__()
        self.request = request

    def idem_keys(self) -> Iterable[str]:
        return (self.request.key,)

    def plan(self, batch: Batch) -> PostResult | list[PostResult]:
        return post_entry(batch, self.request)


def post_entry(batch: Batch, request: PostRequest, *, fresh: bool = False) -> PostResult:
    """Post inside a batch: the original for a used key, else a new, checked entry.

    ``fresh`` says the caller knows the key is new (a reading not charged before), which
    saves looking it up; the UNIQUE index still guards it.
    """
    existing = None if fresh else batch.find(request.key)
    if existing is not None:
        return PostResult(batch.ledger.entry_of(existing), False)
    if request.account_id not in batch.ledger.accounts:
        raise LedgerError(Text("ledger.unknown_account", account=request.account_id))
    kind = EntryKind(request.kind)
    fen = to_fen(request.amount)
    if kind is EntryKind.REVERSAL:
        _nonzero(fen)
    else:
        check_sign(kind, fen)
    if request.check is not None:
        request.check(batch.balance(request.account_id))
    row = batch.append(request, fen)
    if kind is EntryKind.RECHARGE:
        owed = batch.emergency_outstanding(request.account_id)
        if owed > 0:
            batch.append(PostRequest(
                request.account_id, EntryKind.EMERGENCY_REPAY, from_fen(-min(owed, fen)),
                f"emergency_repay:{row.entry_id}", context=request.context,
                detail={"recharge": row.entry_id, "outstanding": str(from_fen(owed))}),
                -min(owed, fen))
    return PostResult(batch.ledger.entry_of(row), True)


_EMERGENCY_KINDS = (EntryKind.EMERGENCY, EntryKind.EMERGENCY_REPAY)


def _repaid_since(batch: Batch, credit: EntryRow) -> bool:
    """Whether a repayment of emergency credit, not reversed, came after ``credit``."""
    if any(row.account_id == credit.account_id and row.kind == EntryKind.EMERGENCY_REPAY
           for row in batch.rows):
        return True
    return credit.entry_key is not None and batch.store.unreversed_after(
        credit.account_id, credit.entry_key, EntryKind.EMERGENCY_REPAY) > 0


def _nonzero(fen: int) -> None:
    if fen == 0:
        raise LedgerError(Text("ledger.reversal_zero"))


class ReverseOp(Op):
    """Reverse (冲正) one entry: post its opposite, once."""

    def __init__(self, entry_id: str, reason: str, operator: str,
                 context: Context | None) -> None:
        super().__init__()
        self.entry_id, self.reason, self.operator, self.context = (entry_id, reason, operator,
                                                                   context)

    def idem_keys(self) -> Iterable[str]:
        return (f"reverse:{self.entry_id}",)

    def plan(self, batch: Batch) -> PostResult:
        original = batch.store.entry(self.entry_id) or next(
            (row for row in batch.rows if row.entry_id == self.entry_id), None)
        if original is None:
            raise LedgerError(Text("ledger.unknown_entry", entry=self.entry_id))
        if original.kind == EntryKind.REVERSAL:
            raise LedgerError(Text("ledger.reverse_reversal", entry=self.entry_id))
        if original.kind == EntryKind.EMERGENCY and batch.find(
                f"reverse:{self.entry_id}") is None and _repaid_since(batch, original):
            raise LedgerError(Text("ledger.emergency_repaid", entry=self.entry_id,
                                   amount=from_fen(original.amount)))
        result = post_entry(batch, PostRequest(
            original.account_id, EntryKind.REVERSAL, from_fen(-original.amount),
            f"reverse:{self.entry_id}", context=self.context, reason=self.reason,
            operator=self.operator, meter_id=original.meter_id, reverses=self.entry_id,
            period=date.fromisoformat(original.period) if original.period else None,
            detail={"reversed": {"kind": original.kind, "amount": str(from_fen(
                original.amount)), "key": original.idem_key}}))
        if result.created and original.kind in _EMERGENCY_KINDS:
            # undoing emergency credit (or its repayment) changes what is still owed for it
            account = original.account_id
            batch.emergency[account] = max(
                0, batch.emergency_outstanding(account) - original.amount)
        return result


@dataclass(frozen=True)
class AuditReport:
    """What an audit found: accounts checked and the ones whose totals disagree."""

    accounts: int
    problems: list[AuditRow]

    @property
    def ok(self) -> bool:
        """Whether every running total equals the sum of its ledger."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (money as text)."""
        return {"ok": self.ok, "accounts": self.accounts, "problems": [{
            "account_id": p.account_id, "ledger_sum": str(from_fen(p.ledger_sum)),
            "running_total": None if p.running_total is None else str(from_fen(
                p.running_total)),
            "last_entry_balance": None if p.last_entry_balance is None else str(from_fen(
                p.last_entry_balance)),
            "entries": p.entries, "broken_chain": p.broken_chain} for p in self.problems]}
