"""Run a real hub from a YAML file for the crash tests and print markers as things happen.

    python control_crash_hub.py HUB_YAML DATA_DIR [ACCOUNT=BALANCE ...] [--then ACCOUNT=BALANCE]

Balances are the REAL ledger's. Those before ``--then`` are the start-up balances: on a new
database they are posted (a recharge) before control starts; on a database that already
holds the account's entries (a restart) the ledger must show exactly them, else the hub
prints ``PROBLEMS`` and exits, so a crash that lost or doubled money fails the test. Those
after ``--then`` are reached once the hub is up, by a real charge or recharge (thresholds
fire from the committed entry). Every control event is printed as
``EVENT <type> <id> <state-or-due>``; ``READY`` once started and its start-up commands are
done. SIGTERM stops cleanly; the tests use SIGKILL.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from decimal import Decimal
from pathlib import Path

from common import HUB_TIMEOUT
from control_support import RealMoney, control_of

from hub.bootstrap import create_hub, prepare
from hub.core import Event, Hub
from hub.hookspecs import hookimpl

WATCHED = ("command_queued", "command_sent", "command_confirmed", "command_failed",
           "command_superseded", "trip_scheduled", "trip_warning", "relay_changed")


class _StartingBalances:
    """Registered after the core plugins: a stage between the ledger and control."""

    def __init__(self, balances: dict[str, str]) -> None:
        self.balances = balances
        self.problems: list[str] = []

    @hookimpl
    def setup(self, hub: Hub) -> None:
        async def start() -> None:
            money = RealMoney(hub)
            for account, balance in self.balances.items():
                if not await money.ledger.entries(account, limit=1):
                    await money.set(account, balance)  # a new database
                elif money.balance(account) != Decimal(balance):
                    self.problems.append(f"{account}: the ledger shows "
                                         f"{money.balance(account)} after the restart, "
                                         f"not {balance}")

        hub.add_stage("crash_test_balances", start=start, requires=("ledger",),
                      before=("control",))


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
    plugin = _StartingBalances(initial)
    prepared.plugins.register(plugin, "crash_test_balances")
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
    if plugin.problems:
        print(f"PROBLEMS {plugin.problems}", flush=True)
        await hub.stop()
        return 2
    control = control_of(hub)
    async with asyncio.timeout(HUB_TIMEOUT):
        await control.ready()
        while control.commands.all_outstanding():  # the start-up's own close, if any
            await asyncio.sleep(0.05)
    print("READY", flush=True)
    money = RealMoney(hub)
    for account, balance in later.items():
        await money.set(account, balance)
    await stop.wait()
    await hub.stop()
    print("STOPPED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
