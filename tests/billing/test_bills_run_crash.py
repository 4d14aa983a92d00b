"""Crash of a bill run: a REAL hub process killed with SIGKILL mid-way through the month-end
run (one bill written in its open transaction), then a hub restarted on the database: no
bill and no money of the killed run is there, and the run made again bills every account
once, exactly.
"""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import IO

from bills_support import config, engine, running_hub
from common import Clock, kill_child_at, settle, write_hub_yaml

from hub.ledger.ledger import Ledger

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("bill_run_crash_hub.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"),
                                                    str(Path(__file__).parent)])}
STEP = 60.0  # each step of the child, on a loaded 2-core machine

CFG = config([("e1", "ddsy", "p1", "flat"), ("e2", "ddsy", "p2", "flat"),
              ("e3", "ddsy", "p3", "flat")], """
accounts:
  - {id: p1, billing: postpaid}
  - {id: p2, billing: postpaid}
  - {id: p3, billing: postpaid}
tariffs:
  - {id: flat, type: flat, price: 1.00, fixed_fees: {rent: 20.00}}
""")
BILLS = {"p1": D("45.00"), "p2": D("70.00"), "p3": D("95.00")}  # 25/50/75 kWh + 20 rent


async def run_until_midway(config_path: Path, data: Path, log: IO[bytes],
                           lines: list[str]) -> None:
    """Run the child until its bill run is mid-way, then SIGKILL it (reaped whatever
    happens)."""
    await kill_child_at([sys.executable, str(CHILD), str(config_path), str(data)], "MIDWAY",
                        lines, step=STEP, stderr=log, env=ENV, cwd=ROOT)


async def test_a_bill_run_killed_mid_way_leaves_nothing_and_runs_again_exactly(
        tmp_path: Path) -> None:
    config_path = write_hub_yaml(tmp_path, CFG)
    lines: list[str] = []
    with (tmp_path / "hub.log").open("ab") as log:
        await run_until_midway(config_path, tmp_path / "data", log, lines)
    assert "USED" in lines
    written = next(line.split()[1] for line in lines if line.startswith("MIDWAY"))
    assert written.endswith("-20250701")

    clock = Clock("2025-08-01T03:30")
    async with running_hub(tmp_path, CFG, clock) as hub:
        ledger = hub.component("ledger", Ledger)
        billing = engine(hub)
        async with asyncio.timeout(STEP):
            for account in BILLS:  # nothing of the killed run: no bill, no money
                assert await billing.bill(f"{account}-20250701") is None
                assert ledger.balance(account) == 0
                assert await ledger.entries(account, limit=None) == []
            made = await billing.tick()  # the run again
            await settle(hub)
            assert made["bills"] == 3 and made["failed"] == 0
            for account, total in BILLS.items():
                bill = await billing.bill(f"{account}-20250701")
                assert bill is not None and bill.status == "issued" and bill.total == total
                assert ledger.balance(account) == -total
                kinds = sorted(e.kind for e in await ledger.entries(account, limit=None))
                assert kinds == ["charge", "fee"]
            assert (await billing.tick())["bills"] == 0  # and never twice
            assert (await ledger.audit()).ok
