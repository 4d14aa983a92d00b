"""The money tables' queries: ledger entries, balances, charge states, tier usage and bills.

Only this module knows how they are laid out. Prepaid and billing call these functions through
``Storage.money_write`` (one durable transaction) and ``Storage.money_read`` with a
:class:`MoneyStore` and get plain rows back (integers in fen, text, JSON text).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ...i18n import stored
from .. import codec
from .params import IN_CHUNK, chunks, marks


@dataclass(slots=True)  # not frozen: made for every entry, and frozen init is slow
class EntryRow:
    """One ledger entry as stored (amounts in fen)."""

    entry_id: str
    account_id: str
    kind: str
    amount: int
    balance: int
    idem_key: str
    ts: int
    period: str | None = None
    meter_id: str | None = None
    reverses: str | None = None
    reason: str | None = None
    operator: str | None = None
    detail: str | None = None
    context_id: str | None = None
    context_parent_id: str | None = None
    context_user_id: str | None = None
    origin: str | None = None
    entry_key: int | None = None


INSERT_ENTRY = (
    "INSERT INTO ledger_entry (entry_id, account_id, kind, amount, balance, idem_key, ts, "
    "period, meter_id, reverses, reason, operator, detail, context_id, context_parent_id, "
    "context_user_id, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
# reverses, reason, operator and context_user_id left NULL (a reading's charge)
INSERT_USUAL_ENTRY = (
    "INSERT INTO ledger_entry (entry_id, account_id, kind, amount, balance, idem_key, ts, "
    "period, meter_id, detail, context_id, context_parent_id, origin) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")

_ENTRY_COLUMNS = ("entry_id, account_id, kind, amount, balance, idem_key, ts, period, meter_id, "
                  "reverses, reason, operator, detail, context_id, context_parent_id, "
                  "context_user_id, origin, entry_key")
_ENTRY_SELECT = f"SELECT {_ENTRY_COLUMNS} FROM ledger_entry "


@dataclass(slots=True)
class ChargeStateRow:
    """One meter's exact charges in one bill period (lines as JSON text)."""

    meter_id: str
    period_start: str
    period_end: str
    account_id: str
    closed: bool
    readings: int
    lines: str


# ChargeStateRow's fields as a plain tuple.
ChargeStateValues = tuple[str, str, str, str, int, int, str]  # closed as 0 or 1


@dataclass(slots=True)
class AppliedRow:
    """A reading that was charged: what it added per period and line (JSON text)."""

    reading_id: str
    meter_id: str
    account_id: str
    ts: int
    amount: int
    lines: str


# AppliedRow's fields as a plain tuple (reading id, meter, account, ts, amount, lines).
AppliedValues = tuple[str, str, str, int, int, str]


@dataclass(frozen=True, slots=True)
class BillRow:
    """A bill as stored (money in fen, content as JSON text)."""

    bill_id: str
    account_id: str
    kind: str
    billing: str
    period_start: str
    period_end: str
    status: str
    total: int
    paid: int
    due_date: str | None
    overdue: bool
    reminders: str
    content: str
    digest: str
    created_ts: int
    issued_ts: int | None
    updated_ts: int
    context_id: str | None = None
    context_parent_id: str | None = None
    context_user_id: str | None = None


_BILL_COLUMNS = ("bill_id, account_id, kind, billing, period_start, period_end, status, total, "
                 "paid, due_date, overdue, reminders, content, digest, created_ts, issued_ts, "
                 "updated_ts, context_id, context_parent_id, context_user_id")


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One account whose stored running total disagrees with its ledger."""

    account_id: str
    ledger_sum: int
    running_total: int | None
    last_entry_balance: int | None
    entries: int
    broken_chain: int  # entries whose balance is not the previous balance plus the amount


def _bill(row: Sequence[Any]) -> BillRow:
    values = list(row)
    values[10] = bool(values[10])
    return BillRow(*values)


class MoneyStore:
    """Money queries on one connection (a durable write transaction or a reader)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # --- ledger -------------------------------------------------------------------

    def entries_by_keys(self, keys: Sequence[str]) -> dict[str, EntryRow]:
        """Existing entries with these idempotency keys, by key."""
        found: dict[str, EntryRow] = {}
        unique = list(dict.fromkeys(keys))
        for chunk in chunks(unique):
            for row in self.conn.execute(
                    _ENTRY_SELECT + f"WHERE idem_key IN ({marks(len(chunk))})", chunk):
                entry = EntryRow(*row)
                found[entry.idem_key] = entry
        return found

    def entry(self, entry_id: str) -> EntryRow | None:
        """One entry by id."""
        row = self.conn.execute(_ENTRY_SELECT + "WHERE entry_id = ?", (entry_id,)).fetchone()
        return EntryRow(*row) if row else None

    def last_entries(self) -> list[EntryRow]:
        """Every account's newest entry (the one its running total names)."""
        return [EntryRow(*row) for row in self.conn.execute(
            _ENTRY_SELECT + "WHERE entry_id IN (SELECT last_entry_id FROM account_balance)")]

    def unreversed_after(self, account_id: str, entry_key: int, kind: str) -> int:
        """How many entries of ``kind`` an account has after ``entry_key`` that were not
        reversed since."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM ledger_entry e WHERE e.account_id = ? AND e.entry_key > ? "
            "AND e.kind = ? AND NOT EXISTS (SELECT 1 FROM ledger_entry r "
            "WHERE r.idem_key = 'reverse:' || e.entry_id)", (account_id, entry_key, kind)
        ).fetchone()
        return int(row[0])

    def insert_entries(self, rows: Sequence[EntryRow]) -> None:
        """Append entries (the ledger is append-only), in order: their keys chain balances.

        The usual entry (a reading's charge: no reversal, reason, operator or user) leaves
        those columns out (NULL), as :data:`INSERT_USUAL_ENTRY`: sqlite3 binds a None
        parameter only after two failed adapter look-ups, about a microsecond each. Each run
        of entries of one shape is one ``executemany``. A reason the hub wrote (a
        :class:`~hub.i18n.Text`) is kept with its key, worded for each reader later.
        """
        run: list[tuple[Any, ...]] = []
        usual_run = True
        for r in rows:
            usual = (r.reverses is None and r.reason is None and r.operator is None
                     and r.context_user_id is None)
            if usual is not usual_run and run:
                self.conn.executemany(INSERT_USUAL_ENTRY if usual_run else INSERT_ENTRY, run)
                run = []
            usual_run = usual
            if usual:
                run.append((r.entry_id, r.account_id, r.kind, r.amount, r.balance, r.idem_key,
                            r.ts, r.period, r.meter_id, r.detail, r.context_id,
                            r.context_parent_id, r.origin))
            else:
                run.append((r.entry_id, r.account_id, r.kind, r.amount, r.balance, r.idem_key,
                            r.ts, r.period, r.meter_id, r.reverses,
                            None if r.reason is None else stored(r.reason), r.operator,
                            r.detail, r.context_id, r.context_parent_id, r.context_user_id,
                            r.origin))
        if run:
            self.conn.executemany(INSERT_USUAL_ENTRY if usual_run else INSERT_ENTRY, run)

    def save_balances(self, rows: Iterable[tuple[str, int, int, str | None]], ts: int) -> None:
        """Set running totals: (account, balance, entries, last entry id)."""
        self.conn.executemany(
            "INSERT INTO account_balance (account_id, balance, entries, last_entry_id, "
            "updated_ts) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET "
            "balance = excluded.balance, entries = excluded.entries, "
            "last_entry_id = excluded.last_entry_id, updated_ts = excluded.updated_ts",
            [(*row, ts) for row in rows])

    def balances(self) -> dict[str, tuple[int, int]]:
        """Every running total: account -> (balance fen, entries)."""
        return {row[0]: (int(row[1]), int(row[2])) for row in self.conn.execute(
            "SELECT account_id, balance, entries FROM account_balance")}

    def entries(self, account_id: str, *, start: int | None = None, end: int | None = None,
                kinds: Sequence[str] = (), period: str | None = None,
                before_key: int | None = None, limit: int | None = None,
                newest_first: bool = True) -> list[EntryRow]:
        """An account's entries, filtered by time [start, end), kinds, period, position."""
        sql = [_ENTRY_SELECT + "WHERE account_id = ?"]
        params: list[Any] = [account_id]
        if start is not None:
            sql.append("AND ts >= ?")
            params.append(start)
        if end is not None:
            sql.append("AND ts < ?")
            params.append(end)
        if kinds:
            sql.append(f"AND kind IN ({marks(len(kinds))})")
            params.extend(kinds)
        if period is not None:
            sql.append("AND period = ?")
            params.append(period)
        if before_key is not None:
            sql.append("AND entry_key < ?")
            params.append(before_key)
        sql.append("ORDER BY entry_key DESC" if newest_first else "ORDER BY entry_key")
        sql.append("LIMIT ?")
        params.append(-1 if limit is None else limit)
        return [EntryRow(*row) for row in self.conn.execute(" ".join(sql), params)]

    def balance_before(self, account_id: str, ts: int) -> int:
        """The account's balance just before ``ts`` (sum of earlier entries), fen."""
        row = self.conn.execute("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry "
                                "WHERE account_id = ? AND ts < ?", (account_id, ts)).fetchone()
        return int(row[0])

    def totals_by_kind(self, account_id: str, start: int, end: int) -> dict[str, int]:
        """Sum of amounts per kind of the entries in [start, end), fen."""
        return {row[0]: int(row[1]) for row in self.conn.execute(
            "SELECT kind, SUM(amount) FROM ledger_entry WHERE account_id = ? AND ts >= ? "
            "AND ts < ? GROUP BY kind", (account_id, start, end))}

    def kind_sums(self, kinds: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per account, the sum of amounts per kind, for the given kinds; the reversals of
        such entries count under the kind they reverse."""
        out: dict[str, dict[str, int]] = {}
        kind_marks = marks(len(kinds))
        rows = list(self.conn.execute(
            f"SELECT account_id, kind, SUM(amount) FROM ledger_entry WHERE kind IN ({kind_marks}) "
            "GROUP BY account_id, kind", list(kinds)))
        rows += self.conn.execute(
            f"SELECT e.account_id, o.kind, SUM(e.amount) FROM ledger_entry e "
            f"JOIN ledger_entry o ON o.entry_id = e.reverses "
            f"WHERE e.kind = 'reversal' AND o.kind IN ({kind_marks}) "
            f"GROUP BY e.account_id, o.kind", list(kinds))
        for account_id, kind, total in rows:
            sums = out.setdefault(account_id, {})
            sums[kind] = sums.get(kind, 0) + int(total)
        return out

    def kind_sums_since(self, start: int, split: int
                        ) -> tuple[list[tuple[str, str, str | None, bool, int]], int]:
        """Sums of the entries since ``start`` (ms) per account and kind, with the kind a
        reversal undoes and whether they lie at or after ``split`` (ms) — the overview's
        month and today — and the last entry's position these sums include."""
        last = self.conn.execute("SELECT coalesce(max(entry_key), 0) FROM ledger_entry"
                                 ).fetchone()[0]
        rows = [(str(account), str(kind), rev, bool(late), int(total))
                for account, kind, rev, late, total in self.conn.execute(
                    "SELECT e.account_id, e.kind, o.kind, e.ts >= ?, SUM(e.amount) "
                    "FROM ledger_entry e LEFT JOIN ledger_entry o ON o.entry_id = e.reverses "
                    "WHERE e.ts >= ? AND e.entry_key <= ? GROUP BY 1, 2, 3, 4",
                    (split, start, last))]
        return rows, int(last)

    def audit(self) -> list[AuditRow]:
        """Accounts whose running total, last entry or balance chain disagrees with the sum."""
        sums = {row[0]: (int(row[1]), int(row[2])) for row in self.conn.execute(
            "SELECT account_id, SUM(amount), COUNT(*) FROM ledger_entry GROUP BY account_id")}
        running = {row[0]: int(row[1]) for row in self.conn.execute(
            "SELECT account_id, balance FROM account_balance")}
        broken: dict[str, int] = {}
        last: dict[str, int] = {}
        previous: dict[str, int] = {}
        for account_id, amount, balance in self.conn.execute(
                "SELECT account_id, amount, balance FROM ledger_entry ORDER BY entry_key"):
            before = previous.get(account_id, 0)
            if before + amount != balance:
                broken[account_id] = broken.get(account_id, 0) + 1
            previous[account_id] = balance
            last[account_id] = balance
        problems = []
        for account_id in sorted(set(sums) | set(running)):
            total, count = sums.get(account_id, (0, 0))
            stored = running.get(account_id)
            final = last.get(account_id)
            if stored != total or (final is not None and final != total) or \
                    broken.get(account_id):
                problems.append(AuditRow(account_id, total, stored, final, count,
                                         broken.get(account_id, 0)))
        return problems

    def account_count(self) -> int:
        """How many accounts have a ledger."""
        return int(self.conn.execute("SELECT COUNT(DISTINCT account_id) FROM ledger_entry")
                   .fetchone()[0])

    # --- charges --------------------------------------------------------------------

    def applied(self, reading_ids: Sequence[str]) -> set[str]:
        """Which of these readings were charged already."""
        found: set[str] = set()
        unique = list(dict.fromkeys(reading_ids))
        for chunk in chunks(unique):
            found.update(row[0] for row in self.conn.execute(
                f"SELECT reading_id FROM charge_applied WHERE reading_id IN "
                f"({marks(len(chunk))})", chunk))
        return found

    def insert_applied(self, rows: Sequence[AppliedRow], ts: int) -> None:
        """Record charged readings."""
        self.insert_applied_values(
            [(r.reading_id, r.meter_id, r.account_id, r.ts, r.amount, r.lines) for r in rows], ts)

    def insert_applied_values(self, rows: Sequence[AppliedValues], ts: int) -> None:
        """:meth:`insert_applied` of plain tuples (the hot path: no object per reading)."""
        self.conn.executemany(
            "INSERT INTO charge_applied (reading_id, meter_id, account_id, ts, amount, lines, "
            "created_ts) VALUES (?, ?, ?, ?, ?, ?, ?)", [(*row, ts) for row in rows])

    def applied_rows(self, meter_id: str, start: int | None = None,
                     end: int | None = None) -> list[AppliedRow]:
        """A meter's charged readings (by the end of what they counted), oldest first."""
        return [AppliedRow(*row) for row in self.conn.execute(
            "SELECT reading_id, meter_id, account_id, ts, amount, lines FROM charge_applied "
            "WHERE meter_id = ? AND ts >= ? AND ts < ? ORDER BY ts",
            (meter_id, start if start is not None else -(2 ** 62),
             end if end is not None else 2 ** 62))]

    def counted_since(self, meter_id: str, since_ms: int, limit: int = 100_000
                      ) -> list[tuple[str, int, list[tuple[str, int, int, Decimal]]]]:
        """Stored readings after ``since_ms`` with what they counted, by their verdicts.

        Returns (reading id, ts, [(register, start ms, end ms, quantity)]) oldest first:
        the consumption each reading counted from the previous accepted value of each
        register (a counted value, or a rollover of ``n`` digits). Used after a crash to
        charge readings that were stored but not yet charged.
        """
        key_row = self.conn.execute("SELECT meter_key FROM meter WHERE meter_id = ?",
                                    (meter_id,)).fetchone()
        if key_row is None:
            return []
        names = {int(k): str(n) for k, n in self.conn.execute(
            "SELECT point_key, name FROM point")}
        base_rows = self.conn.execute(
            "SELECT ts, rid, registers FROM reading WHERE meter_key = ? AND ts <= ? "
            "ORDER BY ts DESC LIMIT 50", (key_row[0], since_ms)).fetchall()
        base: dict[int, tuple[int, Decimal]] = {}
        for ts, _rid, registers in base_rows:  # newest accepted value of each register
            for point, value, code in codec.decode_items(registers):
                if point not in base and code[:1] in ("", "b", "w"):
                    base[point] = (int(ts), value)
        out: list[tuple[str, int, list[tuple[str, int, int, Decimal]]]] = []
        for ts, rid, registers in self.conn.execute(
                "SELECT ts, rid, registers FROM reading WHERE meter_key = ? AND ts > ? "
                "ORDER BY ts LIMIT ?", (key_row[0], since_ms, limit)):
            counted: list[tuple[str, int, int, Decimal]] = []
            for point, value, code in codec.decode_items(registers):
                previous = base.get(point)
                if code == "" and previous is not None:
                    if value - previous[1]:
                        counted.append((names.get(point, str(point)), previous[0], int(ts),
                                        value - previous[1]))
                elif code.startswith("w") and previous is not None:
                    modulus = Decimal(10) ** int(code[1:] or 0)
                    counted.append((names.get(point, str(point)), previous[0], int(ts),
                                    modulus - previous[1] + value))
                elif code[:1] not in ("b", ""):
                    continue  # quarantined or jitter: neither counted nor a new base
                base[point] = (int(ts), value)
            out.append((str(rid), int(ts), counted))
        return out

    def uncharged(self, cursors: Mapping[str, int]
                  ) -> dict[str, list[tuple[str, int, list[tuple[str, int, int, Decimal]]]]]:
        """For each meter, :meth:`counted_since` its cursor, when it has newer readings."""
        out = {}
        for meter_id, since in cursors.items():
            row = self.conn.execute(
                "SELECT MAX(r.ts) FROM reading r JOIN meter m ON m.meter_key = r.meter_key "
                "WHERE m.meter_id = ?", (meter_id,)).fetchone()
            if row and row[0] is not None and int(row[0]) > since:
                out[meter_id] = self.counted_since(meter_id, since)
        return out

    def last_applied(self) -> dict[str, int]:
        """Per meter, the end of the newest interval charged (epoch ms)."""
        return {row[0]: int(row[1]) for row in self.conn.execute(
            "SELECT meter_id, MAX(ts) FROM charge_applied GROUP BY meter_id")}

    def charge_states(self, *, meter_id: str | None = None, account_id: str | None = None,
                      period_start: str | None = None,
                      open_only: bool = False) -> list[ChargeStateRow]:
        """Charge states by meter, account, period and/or openness."""
        sql = ["SELECT meter_id, period_start, period_end, account_id, closed, readings, lines "
               "FROM charge_state WHERE 1 = 1"]
        params: list[Any] = []
        for column, value in (("meter_id", meter_id), ("account_id", account_id),
                              ("period_start", period_start)):
            if value is not None:
                sql.append(f"AND {column} = ?")
                params.append(value)
        if open_only:
            sql.append("AND closed = 0")
        sql.append("ORDER BY meter_id, period_start")
        return [ChargeStateRow(r[0], r[1], r[2], r[3], bool(r[4]), int(r[5]), r[6])
                for r in self.conn.execute(" ".join(sql), params)]

    def charge_states_at(self, keys: Sequence[tuple[str, str, str]]
                         ) -> dict[tuple[str, str, str], ChargeStateRow | None]:
        """The charge states of (meter, account, period start) keys, None where there is none."""
        found: dict[tuple[str, str, str], ChargeStateRow | None] = dict.fromkeys(keys)
        starts = list(dict.fromkeys(key[2] for key in keys))
        for chunk in chunks(list(dict.fromkeys(key[0] for key in keys)),
                            max(1, IN_CHUNK - len(starts))):
            for r in self.conn.execute(
                    "SELECT meter_id, period_start, period_end, account_id, closed, readings, "
                    f"lines FROM charge_state WHERE meter_id IN ({marks(len(chunk))}) AND "
                    f"period_start IN ({marks(len(starts))})", [*chunk, *starts]):
                key = (r[0], r[3], r[1])
                if key in found:
                    found[key] = ChargeStateRow(r[0], r[1], r[2], r[3], bool(r[4]), int(r[5]),
                                                r[6])
        return found

    def save_charge_states(self, rows: Sequence[ChargeStateRow], ts: int) -> None:
        """Insert or replace charge states."""
        self.save_charge_state_values(
            [(r.meter_id, r.period_start, r.period_end, r.account_id, r.closed, r.readings,
              r.lines) for r in rows], ts)

    def save_charge_state_values(self, rows: Sequence[ChargeStateValues], ts: int) -> None:
        """:meth:`save_charge_states` of plain tuples (the hot path: no object per state)."""
        self.conn.executemany(
            "INSERT INTO charge_state (meter_id, period_start, period_end, account_id, closed, "
            "readings, lines, updated_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (meter_id, account_id, period_start) DO UPDATE SET "
            "period_end = excluded.period_end, closed = excluded.closed, "
            "readings = excluded.readings, lines = excluded.lines, "
            "updated_ts = excluded.updated_ts",
            [(meter_id, start, end, account_id, int(closed), readings, lines, ts)
             for meter_id, start, end, account_id, closed, readings, lines in rows])

    def close_charge_state(self, meter_id: str, account_id: str, period_start: str,
                           ts: int) -> None:
        """Mark one charge state closed (its lines are unchanged)."""
        self.conn.execute(
            "UPDATE charge_state SET closed = 1, updated_ts = ? WHERE meter_id = ? AND "
            "account_id = ? AND period_start = ?", (ts, meter_id, account_id, period_start))

    def tier_usage(self, meter_id: str, account_id: str) -> dict[str, str]:
        """Usage per local month (YYYY-MM) of one meter for one account, as decimal text."""
        return {row[0]: row[1] for row in self.conn.execute(
            "SELECT month, quantity FROM tier_usage WHERE meter_id = ? AND account_id = ?",
            (meter_id, account_id))}

    def tier_usages(self, keys: Sequence[tuple[str, str]]
                    ) -> dict[tuple[str, str], dict[str, str]]:
        """:meth:`tier_usage` of several (meter, account) keys in one query per chunk."""
        found: dict[tuple[str, str], dict[str, str]] = {key: {} for key in keys}
        for chunk in chunks(list(dict.fromkeys(key[0] for key in keys))):
            for meter_id, account_id, month, quantity in self.conn.execute(
                    "SELECT meter_id, account_id, month, quantity FROM tier_usage WHERE "
                    f"meter_id IN ({marks(len(chunk))})", chunk):
                months = found.get((meter_id, account_id))
                if months is not None:
                    months[month] = quantity
        return found

    def save_tier_usage(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """Set usage per month: (meter, account, month, quantity text)."""
        self.conn.executemany(
            "INSERT INTO tier_usage (meter_id, account_id, month, quantity) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (meter_id, account_id, month) DO UPDATE SET quantity = "
            "excluded.quantity", rows)

    # --- bills ----------------------------------------------------------------------

    def bill(self, bill_id: str) -> BillRow | None:
        """One bill."""
        row = self.conn.execute(f"SELECT {_BILL_COLUMNS} FROM bill WHERE bill_id = ?",
                                (bill_id,)).fetchone()
        return _bill(row) if row else None

    def bills(self, *, account_id: str | None = None, statuses: Sequence[str] = (),
              period_start: str | None = None, limit: int | None = None) -> list[BillRow]:
        """Bills by account, status and/or period, newest period first."""
        sql = [f"SELECT {_BILL_COLUMNS} FROM bill WHERE 1 = 1"]
        params: list[Any] = []
        if account_id is not None:
            sql.append("AND account_id = ?")
            params.append(account_id)
        if statuses:
            sql.append(f"AND status IN ({marks(len(statuses))})")
            params.extend(statuses)
        if period_start is not None:
            sql.append("AND period_start = ?")
            params.append(period_start)
        sql.append("ORDER BY period_start DESC, bill_id DESC LIMIT ?")
        params.append(-1 if limit is None else limit)
        return [_bill(row) for row in self.conn.execute(" ".join(sql), params)]

    def bill_keys(self, since: str) -> list[tuple[str, str, str]]:
        """(account, period start, kind) of every bill whose period starts on/after ``since``."""
        return [(row[0], row[1], row[2]) for row in self.conn.execute(
            "SELECT account_id, period_start, kind FROM bill WHERE period_start >= ?", (since,))]

    def first_start_ms(self) -> int | None:
        """When this database was created (its first schema version applied), UTC epoch ms:
        the hub's first start on this data folder."""
        row = self.conn.execute("SELECT MIN(applied_ts) FROM schema_version").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def final_bills(self) -> dict[str, str]:
        """Account -> last day of its issued final (move-out) bill."""
        return {row[0]: row[1] for row in self.conn.execute(
            "SELECT account_id, MAX(period_end) FROM bill WHERE kind = 'final' AND "
            "status != 'draft' GROUP BY account_id")}

    def update_bill_status(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Set (status, paid, overdue, reminders, updated_ts) of bills, by bill id."""
        self.conn.executemany(
            "UPDATE bill SET status = ?, paid = ?, overdue = ?, reminders = ?, updated_ts = ? "
            "WHERE bill_id = ?", rows)

    def save_bills(self, rows: Sequence[BillRow]) -> None:
        """Insert or replace bills (callers never replace an issued bill's content)."""
        self.conn.executemany(
            f"INSERT OR REPLACE INTO bill ({_BILL_COLUMNS}) VALUES "
            f"({marks(20)})",
            [(r.bill_id, r.account_id, r.kind, r.billing, r.period_start, r.period_end,
              r.status, r.total, r.paid, r.due_date, int(r.overdue), r.reminders, r.content,
              r.digest, r.created_ts, r.issued_ts, r.updated_ts, r.context_id,
              r.context_parent_id, r.context_user_id) for r in rows])


def audit_file(path: Path) -> tuple[list[AuditRow], int]:
    """Audit a database file directly (read-only; the hub may be stopped): problems, accounts."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        store = MoneyStore(conn)
        return store.audit(), store.account_count()
    finally:
        conn.close()
