"""Payment orders, refunds, notifications and reconciliations (schema/payments.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["OrderRow", "PaymentStore", "RefundRow"]


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One payment order as stored."""

    order_id: str
    account_id: str
    provider: str
    merchant: str
    channel: str
    amount_fen: int
    state: str
    created_ts: int
    updated_ts: int
    expires_ts: int
    transaction_id: str | None = None
    paid_fen: int | None = None
    paid_ts: int | None = None
    entry_id: str | None = None
    refunded_fen: int = 0
    payer: str | None = None
    checkout: str | None = None
    problem: str | None = None
    context_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRow:
    """One refund of an order as stored."""

    refund_id: str
    order_id: str
    amount_fen: int
    state: str
    reason: str | None
    entry_id: str | None
    provider_refund_id: str | None
    error: str | None
    created_ts: int
    updated_ts: int
    context_id: str | None
    user_id: str | None


_ORDER_COLUMNS = ", ".join(f.name for f in fields(OrderRow))
_REFUND_COLUMNS = ", ".join(f.name for f in fields(RefundRow))
_OPEN_REFUNDS = ("pending", "processing", "success")


def _where(equal: dict[str, Any], states: Sequence[str],
           more: Sequence[tuple[str, Any]] = ()) -> tuple[str, list[Any]]:
    """A WHERE clause (with its leading space) of columns equal to values that are not None,
    a state among ``states`` (when given) and more ``(condition, value)`` pairs."""
    parts: list[str] = []
    args: list[Any] = []
    for column, value in equal.items():
        if value is not None:
            parts.append(f"{column} = ?")
            args.append(value)
    if states:
        parts.append(f"state IN ({', '.join('?' * len(states))})")
        args.extend(states)
    for condition, value in more:
        if value is not None:
            parts.append(condition)
            args.append(value)
    return (f" WHERE {' AND '.join(parts)}" if parts else ""), args


class PaymentStore:
    """Reads and writes of the payment tables on one connection (one transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # --- orders -----------------------------------------------------------------------

    def add_order(self, row: OrderRow) -> None:
        """Insert a new order."""
        values = [getattr(row, f.name) for f in fields(OrderRow)]
        self.conn.execute(f"INSERT INTO payment_order ({_ORDER_COLUMNS}) VALUES "
                          f"({', '.join('?' * len(values))})", values)

    def order(self, order_id: str) -> OrderRow | None:
        """One order by id."""
        row = self.conn.execute(f"SELECT {_ORDER_COLUMNS} FROM payment_order WHERE order_id = ?",
                                (order_id,)).fetchone()
        return OrderRow(*row) if row else None

    def order_by_transaction(self, transaction_id: str) -> OrderRow | None:
        """The order a provider transaction paid."""
        row = self.conn.execute(f"SELECT {_ORDER_COLUMNS} FROM payment_order "
                                "WHERE transaction_id = ?", (transaction_id,)).fetchone()
        return OrderRow(*row) if row else None

    def update_order(self, order_id: str, ts: int, *, expected: Sequence[str] = (),
                     **values: Any) -> bool:
        """Set columns of an order (in one of the ``expected`` states, if given)."""
        return self._update("payment_order", "order_id", order_id, ts, expected, values)

    def orders(self, *, account_id: str | None = None, states: Sequence[str] = (),
               provider: str | None = None, merchant: str | None = None,
               start_ts: int | None = None, end_ts: int | None = None,
               limit: int = 1000, newest_first: bool = False) -> list[OrderRow]:
        """Orders by account, state, provider, merchant and creation time, oldest first
        (``newest_first``: the newest ``limit`` of them, newest first)."""
        clause, args = _where({"account_id": account_id, "provider": provider,
                               "merchant": merchant}, states,
                              [("created_ts >= ?", start_ts), ("created_ts < ?", end_ts)])
        return [OrderRow(*row) for row in self.conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM payment_order{clause} "
            + ("ORDER BY created_ts DESC, order_id DESC" if newest_first
               else "ORDER BY created_ts, order_id") + " LIMIT ?", (*args, limit))]

    # --- refunds ----------------------------------------------------------------------

    def add_refund(self, row: RefundRow, paid_fen: int) -> int:
        """Insert a refund unless it takes the order's refunds above ``paid_fen``; returns
        what was refundable before it (the refund is written only if it fits)."""
        left = paid_fen - self.refunded_fen(row.order_id)
        if row.amount_fen <= left:
            values = [getattr(row, f.name) for f in fields(RefundRow)]
            self.conn.execute(f"INSERT INTO payment_refund ({_REFUND_COLUMNS}) VALUES "
                              f"({', '.join('?' * len(values))})", values)
        return left

    def refund(self, refund_id: str) -> RefundRow | None:
        """One refund by id."""
        row = self.conn.execute(f"SELECT {_REFUND_COLUMNS} FROM payment_refund "
                                "WHERE refund_id = ?", (refund_id,)).fetchone()
        return RefundRow(*row) if row else None

    def refunds(self, order_id: str | None = None, states: Sequence[str] = ()) -> list[RefundRow]:
        """The refunds of an order (or all), by state, oldest first."""
        clause, args = _where({"order_id": order_id}, states)
        return [RefundRow(*row) for row in self.conn.execute(
            f"SELECT {_REFUND_COLUMNS} FROM payment_refund{clause} "
            "ORDER BY created_ts, refund_id", args)]

    def update_refund(self, refund_id: str, ts: int, *, expected: Sequence[str] = (),
                      **values: Any) -> bool:
        """Set columns of a refund (in one of the ``expected`` states, if given)."""
        return self._update("payment_refund", "refund_id", refund_id, ts, expected, values)

    def _update(self, table: str, key: str, value: str, ts: int, expected: Sequence[str],
                values: dict[str, Any]) -> bool:
        sets = ", ".join(f"{name} = ?" for name in values)
        where, args = _where({key: value}, expected)
        return self.conn.execute(f"UPDATE {table} SET {sets}, updated_ts = ?{where}",
                                 [*values.values(), ts, *args]).rowcount == 1

    def refunded_fen(self, order_id: str) -> int:
        """What the order's successful and pending refunds take back."""
        return int(self.conn.execute(
            f"SELECT COALESCE(SUM(amount_fen), 0) FROM payment_refund WHERE order_id = ? "
            f"AND state IN ({', '.join('?' * len(_OPEN_REFUNDS))})",
            (order_id, *_OPEN_REFUNDS)).fetchone()[0])

    # --- notifications and reconciliations --------------------------------------------

    def log_notification(self, ts: int, provider: str, merchant: str, order_id: str | None,
                         transaction_id: str | None, outcome: str, detail: str) -> None:
        """Keep what a notification said and what was done with it."""
        self.conn.execute(
            "INSERT INTO payment_notification (ts, provider, merchant, order_id, "
            "transaction_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ts, provider, merchant, order_id, transaction_id, outcome, detail))

    def notifications(self, order_id: str | None = None,
                      limit: int = 200) -> list[tuple[Any, ...]]:
        """Notifications received (of one order), newest first: (ts, provider, merchant,
        order_id, transaction_id, outcome, detail)."""
        clause, args = ("WHERE order_id = ? ", [order_id]) if order_id else ("", [])
        return list(self.conn.execute(
            "SELECT ts, provider, merchant, order_id, transaction_id, outcome, detail FROM "
            f"payment_notification {clause}ORDER BY seq DESC LIMIT ?", (*args, limit)))

    def save_reconciliation(self, day: str, provider: str, merchant: str, ts: int,
                            differences: int, report: str) -> None:
        """Keep (or replace) the report of one day, provider and merchant."""
        self.conn.execute(
            "INSERT INTO payment_reconciliation (day, provider, merchant, ts, differences, "
            "report) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, provider, merchant) DO UPDATE "
            "SET ts = excluded.ts, differences = excluded.differences, "
            "report = excluded.report", (day, provider, merchant, ts, differences, report))

    def reconciliations(self, start_day: str, end_day: str) -> list[tuple[str, str, str, int,
                                                                          int, str]]:
        """Reports of days in [start_day, end_day]: (day, provider, merchant, ts,
        differences, report JSON)."""
        return list(self.conn.execute(
            "SELECT day, provider, merchant, ts, differences, report FROM "
            "payment_reconciliation WHERE day >= ? AND day <= ? ORDER BY day, provider, "
            "merchant", (start_day, end_day)))
