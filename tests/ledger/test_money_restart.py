"""Account states after a SIGKILL: rebuilt from the ledger at start, never saved as states."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

from common import bounded, db_rows, kill_child_at, write_hub_yaml
from money_support import config, meters_yaml, running_hub

from hub.ledger.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}

CFG = config(meters_yaml([("m1", "a1", "flat")]), """
accounts:
  - {id: a1, name: 张三}
tariffs:
  - {id: flat, type: flat, price: 1.00}
""")

# The child: two recharges, each awaited (committed), then the id of the last; SIGKILLed there.
CHILD = """
import asyncio, sys
from common import child_hub

async def main():
    hub = await child_hub(sys.argv[1], sys.argv[2])
    for reference, amount in (("wx-1", "30.00"), ("wx-2", "20.00")):
        result = await hub.services.call("account", "recharge", {
            "account_id": "a1", "amount": amount, "method": "wechat",
            "reference": reference}, return_response=True)
    print("POSTED", result["entry"]["id"], flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@bounded(120)
async def test_an_account_state_after_sigkill_is_rebuilt_from_the_ledger(tmp_path: Path) -> None:
    path = write_hub_yaml(tmp_path, CFG)
    lines: list[str] = []
    await kill_child_at([sys.executable, "-c", CHILD, str(path), str(tmp_path / "data")],
                        "POSTED", lines, step=60, env=ENV)
    posted = next(line.split()[1] for line in lines if line.startswith("POSTED"))
    # what an older version saved: a stale account state, and one of an account now gone
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "meterhub.db")) as conn, conn:
        conn.executemany("INSERT OR REPLACE INTO state (entity_id, state, attributes, "
                         "last_changed, last_updated) VALUES (?, '\"1.00\"', '{}', 0, 0)",
                         [("account.a1",), ("account.gone",)])
    async with running_hub(tmp_path, CFG) as hub:
        ledger = hub.component("ledger", Ledger)
        newest = (await ledger.entries("a1", limit=1))[0]
        assert newest.id == posted and ledger.balance("a1") == Decimal("50.00")
        state = hub.states.get("account.a1")
        assert state is not None and state.state == Decimal("50.00")
        assert state.attributes["last_entry"] == {
            "id": posted, "kind": "recharge", "amount": Decimal("20.00"),
            "time": newest.time.isoformat()}
        assert state.last_changed == newest.time  # it changed with its newest entry
        assert state.context.id == newest.context.id
        assert hub.states.get("account.gone") is None  # not restored
    # storage never keeps an account's state: the ledger is its only truth
    assert db_rows(tmp_path / "data", "SELECT entity_id FROM state "
                                      "WHERE entity_id LIKE 'account.%'") == []
