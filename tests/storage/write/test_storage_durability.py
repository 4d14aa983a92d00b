"""The durability rule, read back from SQLite: money and command rows are written on a
connection running ``synchronous=FULL``, readings with the configured NORMAL.

A SIGKILL cannot tell a lost fsync, so the contract is checked where it lives: temporary
triggers on the writer's connection record ``PRAGMA synchronous`` as each row is inserted,
updated or deleted, while a real hub (real ledger, control and storage on a real file) posts a
recharge and an adjustment, charges a reading, writes a hold, a scheduled trip and a command,
and stores readings.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from common import Clock, t, wait_for
from money_support import config, consumption, meters_yaml, running_hub

from hub.core import Context, Hub
from hub.ledger.ledger import Ledger
from hub.metering.reading import Reading
from hub.prepaid.control import Control
from hub.storage import Storage, StorageSettings
from hub.util.dt import utcnow

FULL, NORMAL = 2, 1

# Every table a durable transaction writes, by the kind of write.
DURABLE = {
    "ledger post": ("ledger_entry", "account_balance"),
    "charge": ("charge_state", "charge_applied"),
    "command": ("command", "command_transition"),
    "hold": ("account_hold",),
    "scheduled trip": ("trip_schedule",),
    "runtime setting": ("config_override", "config_override_log"),
}
READINGS = ("reading",)

TEXT = config(meters_yaml([("m1", "a1", "flat"), ("m2", "a2", "flat")]), """
    tariffs:
      - {id: flat, type: flat, price: 1.00}
    accounts:
      - {id: a1, opening_balance: 50}
      - {id: a2, opening_balance: 1, trip_policy: {mode: delayed, at: "10:00"}}
    """)


def _watch(conn: sqlite3.Connection, tables: list[str]) -> None:
    """In the writer's thread: log ``PRAGMA synchronous`` at every row change of ``tables``."""
    conn.execute("CREATE TEMP TABLE sync_log (tbl TEXT, op TEXT, sync INTEGER)")
    for table in tables:
        for op in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(
                f"CREATE TEMP TRIGGER sync_{table}_{op.lower()} AFTER {op} ON main.{table} "
                f"BEGIN INSERT INTO sync_log SELECT '{table}', '{op}', synchronous "
                "FROM pragma_synchronous; END")


def _log(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    return list(conn.execute("SELECT tbl, op, sync FROM temp.sync_log"))


async def _writes(hub: Hub) -> list[tuple[str, str, int]]:
    storage = hub.component("storage", Storage)
    await storage.flush()
    await hub.component("ledger", Ledger).drain()
    return await storage._wdb.run(_log)


async def test_money_and_command_rows_are_written_at_full_sync_readings_at_normal(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as hub:
        storage = hub.component("storage", Storage)
        control = hub.component("control", Control)
        control.set_clock(Clock(t("2026-03-02T09:00"), running=True))
        assert storage.settings.synchronous.upper() == "NORMAL"
        tables = [table for group in DURABLE.values() for table in group] + list(READINGS)
        await storage._wdb.run(_watch, tables)
        operator = Context(user_id="clerk")

        await hub.services.call("account", "recharge", {
            "account_id": "a1", "amount": "20", "method": "cash", "reference": "r-1"},
            context=operator)
        await hub.services.call("account", "adjust", {
            "account_id": "a1", "amount": "-1.50", "reason": "meter swap",
            "operator": "clerk"}, context=operator)
        start = t("2026-03-02T07:00")
        consumption(hub, "m1", start, start + timedelta(hours=1), "2")  # a charge
        consumption(hub, "m2", start, start + timedelta(hours=1), "5")  # a2 runs out: delayed
        await wait_for(lambda: control.trips.pending("a2") is not None, timeout=20)
        await hub.services.call("account", "hold", {
            "account_id": "a1", "kind": "keep_on", "reason": "tenant in hospital",
            "until": "2099-01-01"},
            context=operator)
        await hub.services.call("account", "release_hold", {"account_id": "a1"},
                                context=operator)
        await hub.services.call("meter", "trip", {"meter_id": "m1"}, context=operator)
        await wait_for(lambda: control.commands.outstanding("m1") is None, timeout=20)
        await storage.set_overrides("accounts", [("a1", "name", "Room 1", None, "set")],
                                    context=operator)
        now = utcnow().replace(microsecond=0)
        await storage.add_readings([
            Reading("m1", now - timedelta(minutes=15), {"energy_import_total": Decimal(100)}),
            Reading("m1", now, {"energy_import_total": Decimal(101)})])
        writes = await _writes(hub)

    by_table: dict[str, set[int]] = {}
    for table, _op, sync in writes:
        by_table.setdefault(table, set()).add(sync)
    for kind, group in DURABLE.items():
        for table in group:
            assert table in by_table, f"no {kind} row was written to {table}: {writes}"
            assert by_table[table] == {FULL}, f"{kind} ({table}) written at {by_table[table]}"
    assert by_table["reading"] == {NORMAL}, "readings are committed at the configured level"


async def test_each_durable_api_runs_at_full_and_puts_normal_back(tmp_path: Path) -> None:
    """Read the pragma back inside each durable entry point of Storage, then after it."""
    storage = Storage(StorageSettings(path=tmp_path / "meterhub.db", commit_interval=0.02))
    async with asyncio.timeout(15):
        await storage.start()
    try:
        def sync(conn: sqlite3.Connection) -> int:
            return int(conn.execute("PRAGMA synchronous").fetchone()[0])

        seen = {
            "money_write": await storage.money_write(lambda store: sync(store.conn)),
            "control_write": await storage.control_write(lambda store: sync(store.conn)),
        }
        async with storage.transaction() as tx:
            seen["transaction()"] = await tx.run(sync)
        assert seen == dict.fromkeys(seen, FULL)
        await storage._wdb.run(_watch, ["command", "command_transition", "config_override"])
        await storage.create_command("c1", "m1", "read")
        await storage.transition_command("c1", "sent", expected="queued")
        await storage.set_overrides("accounts", [("a1", "name", "Room 1", None, "set")])
        writes = await storage._wdb.run(_log)
        assert {table for table, _op, _sync in writes} == {
            "command", "command_transition", "config_override"}
        assert {sync for _table, _op, sync in writes} == {FULL}, writes
        assert await storage._wdb.run(sync) == NORMAL  # between transactions: the setting
        async with storage.transaction(durable=False) as tx:
            assert await tx.run(sync) == NORMAL
    finally:
        async with asyncio.timeout(15):
            await storage.stop()


async def test_a_transaction_cancelled_while_it_begins_leaves_no_transaction_open(
        storage: Storage) -> None:
    """A caller cancelled (a timeout) while its BEGIN waits in the writer's thread: the BEGIN
    still runs there, so it must be rolled back, or every later write fails with 'cannot
    start a transaction within a transaction' (seen under load)."""
    import time as time_mod

    busy = asyncio.ensure_future(storage._wdb.run(lambda conn: time_mod.sleep(0.3)))
    await asyncio.sleep(0.05)  # the writer's thread is busy: the BEGIN below will queue

    async def write() -> None:
        async with storage.transaction(durable=True) as tx:
            await tx.execute("SELECT 1")

    task = asyncio.ensure_future(write())
    await asyncio.sleep(0.1)  # granted the connection, its BEGIN queued behind the sleep
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await busy
    async with asyncio.timeout(10):  # the next transaction works
        async with storage.transaction(durable=True) as tx:
            assert await tx.fetchall("SELECT 1") == [(1,)]
