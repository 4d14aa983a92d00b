"""Crash recovery of charging: a REAL hub process killed with SIGKILL while readings are
committed but their charges are not (the ledger's worker held before its transaction), then
a hub restarted on its database charges exactly those readings, once.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import IO

from common import kill_child_at, write_hub_yaml
from money_support import SIM, running_hub

from hub.billing.tariff import round_fen
from hub.ledger.ledger import Ledger

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("charge_crash_hub.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
STEP = 60.0  # each step of the child, on a loaded 2-core machine



async def run_until_killed(config: Path, data: Path, log: IO[bytes], lines: list[str]) -> None:
    """Run the child until its later readings are stored, then SIGKILL it (reaped whatever
    happens)."""
    # killed in the window: stored, queued, not charged
    await kill_child_at([sys.executable, str(CHILD), str(config), str(data)], "STORED", lines,
                        step=STEP, stderr=log, env=ENV, cwd=ROOT)


async def test_readings_stored_but_not_charged_when_killed_are_charged_on_restart(
        tmp_path: Path) -> None:
    config = write_hub_yaml(tmp_path, SIM)
    lines: list[str] = []
    with (tmp_path / "hub.log").open("ab") as log:
        await run_until_killed(config, tmp_path / "data", log, lines)
    reads = [line.split()[1:] for line in lines if line.startswith("READ ")]
    assert len(reads) == 6
    charged_before = D(100) - D(next(line.split()[1] for line in lines
                                     if line.startswith("CHARGED ")))
    assert charged_before > 0
    assert any(line.startswith("HELD ") for line in lines)  # the charges were on their way

    async with running_hub(tmp_path, SIM) as hub:
        ledger = hub.component("ledger", Ledger)
        total = D(reads[-1][1]) - D(reads[0][1])
        assert D(100) - ledger.balance("r101") == round_fen(total * D("0.6"))
        entries = await ledger.entries("r101", kinds=["charge"], limit=None)
        charged = [e.detail["reading_id"] for e in entries]
        assert sorted(charged) == sorted(reading_id for reading_id, _ in reads[1:])  # once each
        recovered = {e.detail["reading_id"] for e in entries
                     if e.context.origin == "ledger_recovery"}
        assert recovered == {reading_id for reading_id, _ in reads[3:]}
        assert (await ledger.audit()).ok
