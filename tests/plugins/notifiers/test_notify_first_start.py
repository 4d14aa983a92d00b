"""The first start tells no lies: what tenants and the landlord hear from a real hub process.

A small site (four tenants on the sim link) is started with ``python -m hub run`` as a child
process, its notices delivered by apprise to a real HTTP receiver on loopback:

- r_full opens with ¥100: nothing (an opening balance is not a payment, and nothing was cut);
- r_low opens with ¥8 under levels 20 and 5: one low-balance warning (at 20);
- r_zero opens with nothing: its relay and valve are cut, and it is told so;
- r_off opens with ¥50 but its relay and valve are found off: closed, and told so;
- nobody gets a bill for the month that ended before the hub first started.

A second start on the same data folder, with the meters as the first run left them (the sim
link's meters live in the hub process, so their relays are set as they were), sends none of
these again.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from common import bounded, child_process, free_port, token_headers, write
from notify_support import Receiver, receiver

FIRST = {
    ("r_low", "Low balance"),
    ("landlord", "Low balance"),
    ("r_zero", "Power cut off"), ("landlord", "Power cut off"),
    ("r_zero", "Water shut off"), ("landlord", "Water shut off"),
    ("r_off", "Power restored"), ("landlord", "Power restored"),
    ("r_off", "Water restored"), ("landlord", "Water restored"),
}
QUIET = 4.0  # seconds without a new message once everything is read
METERS = 8


def site(rx: Receiver, port: int, off: str) -> str:
    """Four prepaid tenants, each with an electricity and a water meter on the sim link;
    the meters of account ``off`` start with their supply cut."""
    meters = []
    accounts = []
    for number, (account, opening) in enumerate((
            ("r_full", "100.00"), ("r_low", "8.00"), ("r_zero", "0"), ("r_off", "50.00")), 1):
        options = ", link_options: {supply_off: true}" if account == off else ""
        meters.append(f'  - {{id: {account[2:]}_e, model: ddsy, link: sim1, address: '
                      f'"20240000000{number}", account: {account}, tariff: power{options}}}')
        meters.append(f'  - {{id: {account[2:]}_w, model: cjt188_water, link: sim1, address: '
                      f'"0000000000000{number}", account: {account}, tariff: water{options}}}')
        accounts.append(f'  - {{id: {account}, name: {account}, opening_balance: {opening}, '
                        f'move_in: 2026-03-01, low_balance: [20, 5], '
                        f'contacts: {{notify: ["{rx.url(account)}"]}}}}')
    landlord = ", ".join(f"{kind}: {{notify: [landlord]}}" for kind in (
        "balance_low", "balance_exhausted", "balance_restored", "relay_tripped",
        "relay_closed", "valve_closed", "valve_opened", "bill_issued"))
    return "\n".join([
        "site: {name: 测试公寓, time_zone: Asia/Shanghai, language: en}",
        f"http: {{host: 127.0.0.1, port: {port}}}",
        "storage: {commit_interval: 0.05}",
        "links:", "  - {id: sim1, type: sim}",
        "control: {confirm_delay: 0.2, recheck_delay: 0.5, retry_delay: 1}",
        "tariffs:",
        "  - {id: power, type: flat, price: 0.50}",
        "  - {id: water, type: flat, price: 5.00, unit: m3}",
        "meters:", *meters,
        "accounts:", *accounts,
        f'notify:\n  landlord: {{urls: ["{rx.url("landlord")}"], retries: 1}}',
        f"notices: {{dedupe: 0, {landlord}}}",
        "",
    ])


def _get(port: int, path: str, data: Path) -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers=token_headers(data))
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def heard(rx: Receiver) -> list[tuple[str, str]]:
    """(who, title) of every message received: who is the account or ``landlord``."""
    return sorted((r.path.split("/")[1], str(r.body.get("title"))) for r in rx.received)


async def read_all(port: int, proc: asyncio.subprocess.Process, deadline: float,
                   data: Path) -> None:
    """Wait (bounded) until the hub serves and has read every meter once."""
    while time.monotonic() < deadline:
        assert proc.returncode is None, "the hub exited early"
        try:
            answer = await asyncio.to_thread(_get, port, "/api/states?domain=meter&limit=500",
                                             data)
            states = answer["items"]
        except OSError:
            states = []
        if len([s for s in states if s["attributes"].get("last_read")]) == METERS:
            return
        await asyncio.sleep(0.3)
    raise AssertionError("the hub did not read every meter in time")


async def quiet(rx: Receiver, deadline: float) -> None:
    """Wait until no message arrived for QUIET seconds (bounded by ``deadline``)."""
    while time.monotonic() < deadline:
        last = max((r.at for r in rx.received), default=0.0)
        if time.monotonic() - last >= QUIET:
            return
        await asyncio.sleep(0.2)


async def run_hub(tmp_path: Path, rx: Receiver, *, off: str, expect: set[tuple[str, str]],
                  log_name: str) -> list[str]:
    """Start the hub, wait until it read everything and the expected messages came (or a
    bound passed), stop it with SIGTERM; return the lines of its log."""
    port = free_port()
    config = write(tmp_path / "site" / "hub.yaml", site(rx, port, off))
    log = tmp_path / log_name
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        async with child_process(sys.executable, "-m", "hub", "run", "-c", str(config),
                                 "--data", str(tmp_path / "data"), stdout=out,
                                 stderr=asyncio.subprocess.STDOUT, env=env) as proc:
            deadline = time.monotonic() + 60
            await read_all(port, proc, deadline, tmp_path / "data")
            while time.monotonic() < deadline and not expect <= set(heard(rx)):
                await asyncio.sleep(0.2)
            await quiet(rx, deadline + QUIET)
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                assert await proc.wait() == 0
    return log.read_text(encoding="utf-8", errors="replace").splitlines()


@pytest.mark.timeout(240)
@bounded(220)
async def test_first_start_messages_are_true_and_not_repeated(tmp_path: Path) -> None:
    async with receiver() as rx:
        lines = await run_hub(tmp_path, rx, off="r_off", expect=FIRST,
                              log_name="first.log")
        first = heard(rx)
        # exactly these, each once: no "payment received" for an opening balance, no bill
        # for a month before the hub, no "restored" where nothing had been cut
        assert first == sorted(FIRST), f"heard {first}\n" + "\n".join(lines[-15:])
        low = [r.body for r in rx.received if r.path.startswith("/r_low/")]
        assert "¥8.00" in low[0]["message"] and "¥20.00" in low[0]["message"]
        assert not [line for line in lines if "Traceback" in line]
        # closed because found off: r_off's two meters, nothing else (a relay read closed is
        # not a valve found closed)
        found = sorted(line.split("Control: ")[1].split(" queued")[0] for line in lines
                       if "queued (found off" in line)
        assert found == ["close off_e", "valve_open off_w"], found

        rx.received.clear()
        # the meters as the first run left them: r_zero's cut, r_off's closed again
        lines = await run_hub(tmp_path, rx, off="r_zero", expect=set(), log_name="second.log")
        again = heard(rx)
        assert again == [], f"heard {again}\n" + "\n".join(lines[-15:])
