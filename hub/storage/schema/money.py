"""Schema v3: the money tables — ledger, running balances, charge states, tier usage, bills.

Money is integer fen (``INTEGER``), exact quantities and unrounded amounts are decimal text,
times are UTC epoch milliseconds, dates are ISO text (``2025-07-01``), contexts are kept on
every row that changes money, so "why did this balance move" always has an answer.
"""

from __future__ import annotations

import sqlite3

V3_STATEMENTS: tuple[str, ...] = (
    # Append-only: rows are inserted, never updated or deleted (a wrong entry is reversed).
    """CREATE TABLE ledger_entry (
        entry_key INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        amount INTEGER NOT NULL,        -- fen, + credit / - debit
        balance INTEGER NOT NULL,       -- fen, the account's running balance after this entry
        idem_key TEXT NOT NULL UNIQUE,  -- payment reference, charge:<reading>:<period>...
        ts INTEGER NOT NULL,
        period TEXT,                    -- bill period start of charges and fees
        meter_id TEXT,
        reverses TEXT,                  -- entry_id of the entry a reversal undoes
        reason TEXT,
        operator TEXT,
        detail TEXT,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT,
        origin TEXT)""",
    "CREATE INDEX ledger_entry_account ON ledger_entry (account_id, entry_key)",
    "CREATE INDEX ledger_entry_account_ts ON ledger_entry (account_id, ts)",
    "CREATE INDEX ledger_entry_period ON ledger_entry (period, account_id)",
    # The running total per account, kept beside the ledger; audit re-derives it.
    """CREATE TABLE account_balance (
        account_id TEXT PRIMARY KEY,
        balance INTEGER NOT NULL,
        entries INTEGER NOT NULL,
        last_entry_id TEXT,
        updated_ts INTEGER NOT NULL) WITHOUT ROWID""",
    # Exact cumulative charges per meter, account and bill period (hub/billing/charging.py).
    """CREATE TABLE charge_state (
        meter_id TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,       -- exclusive
        account_id TEXT NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0,
        readings INTEGER NOT NULL,
        lines TEXT NOT NULL,            -- JSON: line id -> exact totals and what was charged
        updated_ts INTEGER NOT NULL,
        PRIMARY KEY (meter_id, account_id, period_start)) WITHOUT ROWID""",
    "CREATE INDEX charge_state_account ON charge_state (account_id, period_start)",
    "CREATE INDEX charge_state_period ON charge_state (period_start)",
    # One row per reading charged: the idempotency guard and the trace of every bill line.
    """CREATE TABLE charge_applied (
        reading_id TEXT PRIMARY KEY,
        meter_id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        ts INTEGER NOT NULL,            -- end of the newest interval the reading counted
        amount INTEGER NOT NULL,        -- fen charged (before sign: + is a charge)
        lines TEXT NOT NULL,            -- JSON: period -> line id -> [quantity, exact amount]
        created_ts INTEGER NOT NULL) WITHOUT ROWID""",
    "CREATE INDEX charge_applied_meter ON charge_applied (meter_id, ts)",
    # Usage per local calendar month per meter and account: the history of tiered tariffs.
    """CREATE TABLE tier_usage (
        meter_id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        month TEXT NOT NULL,            -- YYYY-MM (local)
        quantity TEXT NOT NULL,         -- exact decimal
        PRIMARY KEY (meter_id, account_id, month)) WITHOUT ROWID""",
    """CREATE TABLE bill (
        bill_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,             -- monthly | final
        billing TEXT NOT NULL,          -- prepaid | postpaid
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,       -- last day, inclusive
        status TEXT NOT NULL,           -- draft | issued | partly_paid | paid
        total INTEGER NOT NULL,
        paid INTEGER NOT NULL DEFAULT 0,
        due_date TEXT,
        overdue INTEGER NOT NULL DEFAULT 0,
        reminders TEXT NOT NULL DEFAULT '[]',
        content TEXT NOT NULL,          -- JSON: lines with their trace, settlement
        digest TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        issued_ts INTEGER,
        updated_ts INTEGER NOT NULL,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT)""",
    "CREATE INDEX bill_account ON bill (account_id, period_start)",
    "CREATE INDEX bill_status ON bill (status)",
)


def create_v3(conn: sqlite3.Connection) -> None:
    """Schema v3: ledger, balances, charge states, applied readings, tier usage, bills."""
    for statement in V3_STATEMENTS:
        conn.execute(statement)
