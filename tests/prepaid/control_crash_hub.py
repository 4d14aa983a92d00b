"""Run a real hub from a YAML file for the crash tests and print markers as things happen.

    python control_crash_hub.py HUB_YAML DATA_DIR [ACCOUNT=BALANCE ...] [--then ACCOUNT=BALANCE]

Balances before ``--then`` are the fake ledger's at start-up; those after it are set once
the hub is up (firing balance_exhausted / balance_restored). Every control event is printed
as ``EVENT <type> <id> <state-or-due>``; ``READY`` once started. SIGTERM stops cleanly;
the tests use SIGKILL.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from decimal import Decimal
from pathlib import Path

from control_support import FakeLedger, _FakeLedgerPlugin, control_of

from hub.bootstrap import create_hub, prepare
from hub.core import Event

WATCHED = ("command_queued", "command_sent", "command_confirmed", "command_failed",
           "command_superseded", "trip_scheduled", "trip_warning", "relay_changed")


def _pairs(items: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in items)


async def main(argv: list[str]) -> int:
    config_path, data_dir, *rest = argv
    split = rest.index("--then") if "--then" in rest else len(rest)
    initial, later = _pairs(rest[:split]), _pairs(rest[split + 1:])
    prepared = prepare(Path(config_path), data_dir=Path(data_dir))
    if prepared.problems:
        print(f"PROBLEMS {prepared.problems}", flush=True)
        return 2
    holder: list[FakeLedger] = []
    prepared.plugins.register(_FakeLedgerPlugin(holder), "fake_ledger")
    hub = create_hub(prepared)

    def show(event: Event) -> None:
        data = event.data
        ident = data.get("command_id") or data.get("schedule_id") or data.get("meter_id")
        extra = data.get("due") or data.get("state") or data.get("new") or ""
        print(f"EVENT {event.event_type} {ident} {extra}", flush=True)

    for event_type in WATCHED:
        hub.bus.listen(event_type, show)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await hub.start()
    ledger = holder[0]
    for account, balance in initial.items():
        ledger.balances[account] = Decimal(balance)  # before the start-up check runs
    await control_of(hub).ready()
    print("READY", flush=True)
    for account, balance in later.items():
        ledger.set(account, balance)
    await stop.wait()
    await hub.stop()
    print("STOPPED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
