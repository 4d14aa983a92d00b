"""Rows written without their NULL columns (a bound None is slow in sqlite3) read back whole:
ledger entries of both shapes in their order, entity states with and without a context parent
and user."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from storage_helpers import MakeStorage

from hub.core import Context, State
from hub.storage import EntryRow


def _entry(number: int, **fields: object) -> EntryRow:
    base = EntryRow(f"e{number}", "a1", "charge", -150, -150 * number, f"charge:r{number}:p",
                    1_700_000_000_000 + number, "2024-06-01", "m1", detail='{"lines":{}}',
                    context_id=f"c{number}", context_parent_id=f"p{number}", origin="storage")
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


async def test_entries_of_every_shape_read_back_as_written(make_storage: MakeStorage) -> None:
    storage = await make_storage()
    rows = [
        _entry(1),  # a reading's charge: the usual statement
        _entry(2, reverses="e1", reason="wrong reading", operator="ops",
               context_user_id="landlord", kind="reversal", amount=150),
        _entry(3, context_parent_id=None, period=None, meter_id=None, detail=None),
        _entry(4, operator="cashier"),  # one optional column set: the full statement
    ]
    await storage.money_write(lambda store: store.insert_entries(rows))
    back = await storage.money_read(lambda store: store.entries_by_keys(
        [row.idem_key for row in rows]))
    for row in rows:
        found = back[row.idem_key]
        assert dataclasses.replace(found, entry_key=None) == row, (row, found)
    # written in the order given, whatever their shapes: entry keys chain the balances
    keys = [back[row.idem_key].entry_key for row in rows]
    assert keys == sorted(keys), keys


async def test_states_keep_or_clear_their_context_parent_and_user(
        make_storage: MakeStorage) -> None:
    storage = await make_storage()
    when = datetime(2024, 6, 1, 1, tzinfo=UTC)
    full = Context("ctx1", "parent1", "landlord", origin="automation")
    bare = Context("ctx2", None, None, origin="ledger")
    storage.record_state("account.a1", State("account.a1", Decimal("12.50"),
                                             {"levels": ["20.00"]}, when, when, full))
    storage.record_state("account.a2", State("account.a2", Decimal("1.00"), {}, when, when,
                                             Context("ctx3", "parent3", None)))
    await storage.flush()
    saved = {row[0]: row for row in await storage.saved_states()}
    assert saved["account.a1"][5:] == ("ctx1", "parent1", "landlord")
    assert saved["account.a2"][5:] == ("ctx3", "parent3", None)
    # a later state without parent or user replaces them with NULL, not the old ones
    storage.record_state("account.a1", State("account.a1", Decimal("11.00"), {}, when, when,
                                             bare))
    await storage.flush()
    saved = {row[0]: row for row in await storage.saved_states()}
    assert saved["account.a1"][1:3] == (Decimal("11.00"), {})
    assert saved["account.a1"][5:] == ("ctx2", None, None)
    assert saved["account.a2"][5:] == ("ctx3", "parent3", None)
