"""A ledger batch loads the stored tier usage and charge states its readings need at once (one
query each, not one per meter), and a later reading of the batch builds on what an earlier one
changed, never on the copy loaded when the batch began."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from common import settle, t
from money_support import config, consumption, meters_yaml, running_hub

from hub.core import Hub
from hub.ledger.entries import EntryKind
from hub.ledger.ledger import Ledger

METERS = [f"m{n}" for n in range(1, 5)]
TEXT = config(meters_yaml([(meter, f"r{meter[1:]}", "yearly") for meter in METERS]), f"""
accounts: [{", ".join(f"{{id: r{meter[1:]}}}" for meter in METERS)}]
tariffs:
  - {{id: yearly, type: tiered, tier_period: yearly,
     tiers: [{{up_to: 100, price: 0.50}}, {{price: 1.00}}]}}
""")


async def _trace(hub: Hub) -> list[str]:
    """Every SELECT the ledger's connection runs from now on."""
    statements: list[str] = []
    storage = hub.component("ledger", Ledger).storage
    await storage.money_write(lambda store: store.conn.set_trace_callback(statements.append))
    return statements


def _selects(statements: list[str], table: str) -> list[str]:
    return [sql for sql in statements
            if sql.lstrip().upper().startswith("SELECT") and f"FROM {table} " in sql]


async def _charged(hub: Hub, account: str) -> Decimal:
    entries = await hub.component("ledger", Ledger).entries(
        account, kinds=[str(EntryKind.CHARGE)], limit=None)
    return -sum((entry.amount for entry in entries), Decimal(0))


async def test_first_readings_of_new_meters_look_their_states_up_in_one_query(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as hub:
        ledger = hub.component("ledger", Ledger)
        statements = await _trace(hub)
        batches = ledger.batches
        for meter in METERS:  # one batch
            consumption(hub, meter, t("2026-01-10T00:00"), t("2026-01-10T01:00"), "20")
        await settle(hub)
        assert ledger.batches == batches + 1
        for meter in METERS:
            assert ledger.balance(f"r{meter[1:]}") == Decimal("-10.00"), meter
        assert len(_selects(statements, "charge_state")) == 1, statements
        assert len(_selects(statements, "tier_usage")) == 1, statements


async def test_first_readings_after_a_restart_load_their_history_in_one_query(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as hub:
        for meter in METERS:
            consumption(hub, meter, t("2026-01-10T00:00"), t("2026-01-10T01:00"), "90")
        await settle(hub)
    async with running_hub(tmp_path, TEXT) as hub:
        ledger = hub.component("ledger", Ledger)
        before = {meter: ledger.balance(f"r{meter[1:]}") for meter in METERS}
        statements = await _trace(hub)
        batches = ledger.batches
        for meter in METERS:  # one batch: each meter's first reading since the start
            consumption(hub, meter, t("2026-03-01T00:00"), t("2026-03-01T01:00"), "20")
        await settle(hub)
        assert ledger.batches == batches + 1
        # 90 kWh used this year (stored, not in memory after the restart): 10 at 0.50 and
        # 10 at 1.00 for each meter
        for meter in METERS:
            assert before[meter] - ledger.balance(f"r{meter[1:]}") == Decimal("15.00"), meter
        assert len(_selects(statements, "tier_usage")) == 1, statements


async def test_a_later_reading_of_the_batch_builds_on_the_earlier_ones(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as hub:
        ledger = hub.component("ledger", Ledger)
        batches = ledger.batches
        for hour in range(3):  # one batch, a new meter: each reading adds to the first's state
            consumption(hub, "m1", t(f"2026-01-10T0{hour}:00"), t(f"2026-01-10T0{hour + 1}:00"),
                        "30")
        await settle(hub)
        assert ledger.batches == batches + 1
        states = await ledger.storage.money_read(
            lambda store: store.charge_states(meter_id="m1", period_start="2026-01-01"))
        assert [state.readings for state in states] == [3]
    async with running_hub(tmp_path, TEXT) as hub:
        ledger = hub.component("ledger", Ledger)
        batches = ledger.batches
        before = ledger.balance("r1")
        # one batch, three readings of one meter: 95, then 100, then 105 kWh used this year;
        # the last two must count on what the earlier ones of the batch counted
        for hour in range(3):
            consumption(hub, "m1", t(f"2026-03-01T0{hour}:00"), t(f"2026-03-01T0{hour + 1}:00"),
                        "5")
        await settle(hub)
        assert ledger.batches == batches + 1
        assert before - ledger.balance("r1") == Decimal("10.00")  # 10 at 0.50, 5 at 1.00
        assert await _charged(hub, "r1") == Decimal("55.00")  # 45.00 in January
        tiers = await ledger.storage.money_read(lambda store: store.tier_usage("m1", "r1"))
        assert tiers == {"2026-01": "90", "2026-03": "15"}
