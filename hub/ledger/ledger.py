"""The ledger: append-only entries per account, written in few durable transactions.

Every change of money is an :class:`~.entries.Entry` with a UNIQUE idempotency key: posting a
key that exists returns the original entry and changes nothing. Entries are integer fen in
the database; an account's balance is the sum of its entries, kept as a running total (in
each entry and in ``account_balance``) that :meth:`Ledger.audit` re-derives.

Posts (and the charging of readings) queue up and are written by one worker in batches,
each batch ONE ``synchronous=FULL`` transaction; a caller's ``await`` returns, and events fire,
only after that transaction committed. A batch works on copies of the in-memory totals and
applies them after the commit, so a failed commit leaves memory as it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core import Context
from ..storage import EntryRow, MoneyStore, to_ms
from ..util.dt import utcnow
from ..util.memory import release_free_memory
from .batch import AuditReport, Batch, Op, PostOp, ReverseOp, post_entry
from .entries import Entry, EntryKind, LedgerError, PostRequest, PostResult, from_fen

__all__ = [
    "AuditReport", "Batch", "DueProvider", "EntriesListener", "Ledger", "Op", "PostOp",
    "ReverseOp", "post_entry",
]

if TYPE_CHECKING:
    from ..storage import Storage

_LOGGER = logging.getLogger(__name__)

_NONE_USED = from_fen(0)

MAX_BATCH = 2000
_RETRIES = 5


EntriesListener = Callable[[list[Entry]], None]
"""Called with the entries of each committed batch (billing's open bills, the balances)."""
DueProvider = Callable[[str], date | None]
"""Answers since when an account owes (the due date of its oldest unpaid bill): billing."""


class Ledger:
    """The ``ledger`` component: balances, entries, posts (idempotent, durable, batched)."""

    def __init__(self, storage: Storage, accounts: Mapping[str, Any],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.storage = storage
        self.accounts = accounts
        self.clock = clock
        self._balances: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._emergency: dict[str, int] = {}
        self._queue: list[Op] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._listeners: list[EntriesListener] = []
        self.batches = 0
        self._due_provider: DueProvider | None = None

    # --- what the layers above register -------------------------------------------------

    def add_listener(self, listener: EntriesListener) -> None:
        """Call ``listener`` with the entries of every committed batch, in registration order."""
        self._listeners.append(listener)

    def register_due_provider(self, provider: DueProvider) -> None:
        """Let ``provider`` answer :meth:`overdue_since` (billing, which knows the bills)."""
        self._due_provider = provider

    # --- life-cycle ---------------------------------------------------------------

    async def start(self, spawn: Callable[..., asyncio.Task[Any]] | None = None) -> None:
        """Load the running totals and start the worker."""
        totals = await self.storage.money_read(lambda s: (s.balances(), s.kind_sums(
            [EntryKind.EMERGENCY, EntryKind.EMERGENCY_REPAY])))
        balances, sums = totals
        self._balances = {account: value[0] for account, value in balances.items()}
        self._counts = {account: value[1] for account, value in balances.items()}
        self._emergency = {account: max(0, sum(kinds.values()))
                           for account, kinds in sums.items()}
        coro = self._run()
        self._task = (spawn(coro, "ledger writer") if spawn is not None
                      else asyncio.get_running_loop().create_task(coro, name="ledger writer"))
        self._started = True
        if self._queue:
            self._idle.clear()
            self._wake.set()

    async def stop(self) -> None:
        """Write what is queued, then stop the worker."""
        await self.drain()
        self._started = False
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def drain(self, timeout: float = 60.0) -> None:
        """Wait until everything queued so far is written (or failed)."""
        if not self._started:
            return
        async with asyncio.timeout(timeout):
            while self._queue or not self._idle.is_set():
                await self._idle.wait()
                await asyncio.sleep(0)

    # --- reading ----------------------------------------------------------------------

    def balance(self, account_id: str) -> Decimal:
        """The committed balance of an account (0.00 without entries)."""
        return from_fen(self._balances.get(account_id, 0))

    def balance_fen(self, account_id: str) -> int:
        """The committed balance in fen."""
        return self._balances.get(account_id, 0)

    def overdue_since(self, account_id: str) -> date | None:
        """The due date of the account's oldest unpaid postpaid bill (None: nothing owed)."""
        return self._due_provider(account_id) if self._due_provider is not None else None

    def emergency_used(self, account_id: str) -> Decimal:
        """Emergency credit taken and not repaid yet."""
        used = self._emergency.get(account_id, 0)
        return from_fen(used) if used else _NONE_USED  # one zero for 10,000 account states

    def entry_of(self, row: EntryRow) -> Entry:
        """An Entry from its row."""
        return Entry.from_row(row)

    async def entries(self, account_id: str, *, start: datetime | None = None,
                      end: datetime | None = None, kinds: Sequence[str] = (),
                      period: date | None = None, before: int | None = None,
                      limit: int | None = 100, newest_first: bool = True) -> list[Entry]:
        """An account's entries (newest first by default)."""
        rows = await self.storage.money_read(lambda s: s.entries(
            account_id, start=to_ms(start) if start else None,
            end=to_ms(end) if end else None, kinds=list(kinds),
            period=period.isoformat() if period else None, before_key=before, limit=limit,
            newest_first=newest_first))
        return [Entry.from_row(row) for row in rows]

    async def entry(self, entry_id: str) -> Entry | None:
        """One entry by id."""
        row = await self.storage.money_read(lambda s: s.entry(entry_id))
        return Entry.from_row(row) if row else None

    async def last_entries(self) -> dict[str, Entry]:
        """Every account's newest committed entry, by account."""
        rows = await self.storage.money_read(lambda s: s.last_entries())
        return {row.account_id: Entry.from_row(row) for row in rows}

    async def find(self, key: str) -> Entry | None:
        """The entry with an idempotency key, if any."""
        rows = await self.storage.money_read(lambda s: s.entries_by_keys([key]))
        return Entry.from_row(rows[key]) if key in rows else None

    async def audit(self) -> AuditReport:
        """Re-derive every balance from the ledger; report each difference."""
        problems, accounts = await self.storage.money_read(
            lambda s: (s.audit(), s.account_count()))
        release_free_memory("the ledger audit")  # every entry was read: a big job's memory
        for problem in problems:
            _LOGGER.error("Ledger audit: account %s has %s in its ledger but a running total "
                          "of %s (last entry %s, %d broken links)", problem.account_id,
                          from_fen(problem.ledger_sum),
                          None if problem.running_total is None
                          else from_fen(problem.running_total),
                          None if problem.last_entry_balance is None
                          else from_fen(problem.last_entry_balance), problem.broken_chain)
        return AuditReport(accounts, problems)

    # --- writing ----------------------------------------------------------------------

    @property
    def backlog(self) -> int:
        """Operations queued and not yet taken into a batch."""
        return len(self._queue)

    def submit(self, op: Op, *, wait: bool = True) -> asyncio.Future[Any] | None:
        """Queue work; with ``wait`` the returned future resolves after its commit."""
        if wait:
            op.future = asyncio.get_running_loop().create_future()
        self._queue.append(op)
        self._idle.clear()
        self._wake.set()
        return op.future

    async def run(self, op: Op) -> Any:
        """Queue work and wait for its committed result."""
        future = self.submit(op)
        assert future is not None
        return await future

    async def post(self, account_id: str, kind: EntryKind | str, amount: Decimal, *,
                   key: str, context: Context | None = None,
                   detail: Mapping[str, Any] | None = None, reason: str | None = None,
                   operator: str | None = None, meter_id: str | None = None,
                   period: date | None = None,
                   check: Callable[[int], None] | None = None) -> PostResult:
        """Post one entry; returns once committed. A used key returns the original entry.

        ``amount`` is signed yuan (credit > 0, debit < 0) with at most 2 decimals. Raises
        LedgerError when refused (unknown account, wrong sign, a failed ``check``).
        """
        result: PostResult = await self.run(PostOp(PostRequest(
            account_id, EntryKind(kind), amount, key, context, detail, reason, operator,
            meter_id, period, check=check)))
        return result

    async def post_many(self, requests: Sequence[PostRequest]) -> list[PostResult | Exception]:
        """Post several entries in (usually) one transaction; a refusal is returned in place."""
        futures = [self.submit(PostOp(request)) for request in requests]
        results = await asyncio.gather(*(f for f in futures if f is not None),
                                       return_exceptions=True)
        out: list[PostResult | Exception] = []
        for item in results:
            if isinstance(item, BaseException) and not isinstance(item, Exception):
                raise item
            out.append(item)
        return out

    async def reverse(self, entry_id: str, *, reason: str, operator: str,
                      context: Context | None = None) -> PostResult:
        """Reverse (冲正) an entry once; reversing it again returns the first reversal."""
        result: PostResult = await self.run(ReverseOp(entry_id, reason, operator, context))
        return result

    # --- the worker -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            ops, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._process(ops)
            except asyncio.CancelledError:
                self._queue = ops + self._queue
                raise
            except Exception:  # never let the worker die: fail the batch, keep going
                _LOGGER.exception("Ledger batch failed unexpectedly")
                for op in ops:
                    if op.future is not None and not op.future.done():
                        op.future.set_exception(LedgerError("the ledger failed to write"))

    async def _process(self, ops: list[Op]) -> None:
        now_ms = to_ms(self.clock())
        try:
            batch = await self.storage.money_write(lambda store: self._plan(store, ops, now_ms))
        except Exception as err:
            again = []
            for op in ops:
                op.attempts += 1
                if op.attempts < _RETRIES and op.failed(err):
                    again.append(op)
                elif op.future is not None and not op.future.done():
                    op.future.set_exception(err)
            _LOGGER.error("Ledger transaction of %d operations failed (%s); %d will be tried "
                          "again", len(ops), err, len(again))
            if again:
                await asyncio.sleep(min(30.0, 0.5 * 2 ** again[0].attempts))
                self._queue = again + self._queue
            return
        self.batches += 1
        for account, balance in batch.balances.items():
            self._balances[account] = balance
            self._counts[account] = batch.counts[account]
        self._emergency.update(batch.emergency)
        for commit in batch.commits:
            commit()
        for op in ops:
            try:
                op.committed()
            except Exception:
                _LOGGER.exception("After-commit step of %s failed", type(op).__name__)
            if op.future is not None and not op.future.done():
                if isinstance(op.result, BaseException):
                    op.future.set_exception(op.result)
                else:
                    op.future.set_result(op.result)
        if batch.rows:
            entries = [Entry.from_row(row) for row in batch.rows]
            for listener in self._listeners:
                try:
                    listener(entries)
                except Exception:
                    _LOGGER.exception("Ledger listener %s failed", listener)

    def _plan(self, store: MoneyStore, ops: list[Op], now_ms: int) -> Batch:
        batch = Batch(self, store, now_ms)
        batch.ops = ops
        batch.prefetch([key for op in ops for key in op.idem_keys()])
        for op in ops:
            try:
                op.result = op.plan(batch)
            except Exception as err:  # refused: recorded for the caller, the batch goes on
                op.result = err
        batch.write()
        return batch
