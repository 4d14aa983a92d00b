"""Schema v11: payment orders, their refunds, every notification received, reconciliations.

An order is written before the provider hears of it (its id is the provider's merchant order
number), so a notification can always find it. ``transaction_id`` is the provider's own id
of the payment: UNIQUE, it is also the ledger's idempotency key for the credit. Money is
integer fen. ``payment_reconciliation`` keeps one report per day, provider and merchant.
"""

from __future__ import annotations

import sqlite3

V11_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE payment_order (
        order_id TEXT PRIMARY KEY,      -- the merchant order number sent to the provider
        account_id TEXT NOT NULL,
        provider TEXT NOT NULL,         -- cash | wechatpay | alipay | a plugin's
        merchant TEXT NOT NULL,         -- the landlord whose merchant account is paid ('' all)
        channel TEXT NOT NULL,          -- jsapi | native | wap | precreate | counter
        amount_fen INTEGER NOT NULL,
        state TEXT NOT NULL,            -- created paid credited closed refunded partially_refunded
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        expires_ts INTEGER NOT NULL,
        transaction_id TEXT UNIQUE,
        paid_fen INTEGER,
        paid_ts INTEGER,
        entry_id TEXT,                  -- the ledger entry of the credit
        refunded_fen INTEGER NOT NULL DEFAULT 0,
        payer TEXT,                     -- openid / buyer id
        checkout TEXT,                  -- JSON: what the payer needs (code_url, JSAPI params)
        problem TEXT,                   -- why a paid order was not credited
        context_id TEXT,
        user_id TEXT)""",
    "CREATE INDEX payment_order_state ON payment_order (state, created_ts)",
    "CREATE INDEX payment_order_account ON payment_order (account_id, created_ts)",
    "CREATE INDEX payment_order_day ON payment_order (provider, merchant, created_ts)",
    """CREATE TABLE payment_refund (
        refund_id TEXT PRIMARY KEY,     -- the merchant refund number sent to the provider
        order_id TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        state TEXT NOT NULL,            -- pending processing success failed
        reason TEXT,
        entry_id TEXT,                  -- the ledger entry of the debit
        provider_refund_id TEXT,
        error TEXT,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        context_id TEXT,
        user_id TEXT)""",
    "CREATE INDEX payment_refund_order ON payment_refund (order_id)",
    """CREATE TABLE payment_notification (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        provider TEXT NOT NULL,
        merchant TEXT NOT NULL,
        order_id TEXT,
        transaction_id TEXT,
        outcome TEXT NOT NULL,          -- credited duplicate refused retry recorded
        detail TEXT)""",
    """CREATE TABLE payment_reconciliation (
        day TEXT NOT NULL,
        provider TEXT NOT NULL,
        merchant TEXT NOT NULL,
        ts INTEGER NOT NULL,
        differences INTEGER NOT NULL,
        report TEXT NOT NULL,           -- JSON
        PRIMARY KEY (day, provider, merchant))""",
)


def create_v11(conn: sqlite3.Connection) -> None:
    """Create the payment tables."""
    for statement in V11_STATEMENTS:
        conn.execute(statement)
