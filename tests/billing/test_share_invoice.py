"""公摊 of an amount: an invoice with no meter in the hub split among a group, posted once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from analysis_support import hub_yaml, running_hub

from hub.billing.invoice_split import split_invoice
from hub.billing.sharing import ShareError, ShareGroup
from hub.exceptions import ServiceValidationError
from hub.ledger.accounts import ACCOUNT_SCHEMA, Account
from hub.ledger.ledger import Ledger

D = Decimal

CONFIG = hub_yaml("""
accounts:
  - {id: r1, area: 30, persons: 1}
  - {id: r2, area: 45, persons: 2}
  - {id: r3, area: 60, persons: 3, move_in: 2026-11-20}
share_groups:
  - {id: lift, members: [r1, r2, r3], split: area, invoices_only: true}
  - {id: water, ratios: {r1: 2, r2: 1, r3: 1}, split: ratios, invoices_only: true}
""")

ACCOUNTS = {entry["id"]: Account.from_config(ACCOUNT_SCHEMA(entry)) for entry in (
    {"id": "r1", "area": 30, "persons": 1},
    {"id": "r2", "area": 45, "persons": 2},
    {"id": "r3", "area": 60, "persons": 3, "move_in": "2026-11-20"},
)}
LIFT = ShareGroup("lift", "area", members=("r1", "r2", "r3"))


def shares(result: Any) -> list[tuple[str, Decimal]]:
    return [(line.account_id, line.amount) for line in result.lines]


def test_an_invoice_for_any_period_split_by_area_with_occupancy() -> None:
    # 1 October – 30 November 2026 is 61 days; r3 moved in on 20 November: 11 days.
    # weights 30, 45 and 60 × 11 / 61 = 10.8197 (total 85.8197)
    result = split_invoice(LIFT, ["r1", "r2", "r3"], ACCOUNTS, amount=D("123.45"),
                           start=date(2026, 10, 1), end=date(2026, 11, 30), invoice="W-77")
    assert result.period.days == 61 and result.period.label == "2026-10-01..2026-11-30"
    # quotas in fen 12345 × 30 / 85.8197 = 4315.44, 6473.17, 1556.39: floors 4315 + 6473 +
    # 1556 = 12344, the fen left over goes to the largest remainder (r1's .44)
    assert shares(result) == [("r1", D("43.16")), ("r2", D("64.73")), ("r3", D("15.56"))]
    assert sum(line.amount for line in result.lines) == D("123.45")


def test_equal_persons_and_fixed_ratios() -> None:
    span = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}
    equal = split_invoice(LIFT, ["r1", "r2"], ACCOUNTS, amount=D("100.01"), split="equal",
                          **span)
    assert shares(equal) == [("r1", D("50.01")), ("r2", D("50.00"))]
    persons = split_invoice(LIFT, ["r1", "r2"], ACCOUNTS, amount=D("10.00"), split="persons",
                            **span)
    assert shares(persons) == [("r1", D("3.33")), ("r2", D("6.67"))]
    # ratios 2:1:1 are fixed (r3 not yet moved in still pays its ratio): 99.99 →
    # 49.995, 24.9975, 24.9975 → floors 49.99 + 24.99 + 24.99, two fen to the .75s
    ratios = split_invoice(LIFT, [], ACCOUNTS, amount=D("99.99"), split="ratios",
                           ratios={"r1": D(2), "r2": D(1), "r3": D(1)}, **span)
    assert shares(ratios) == [("r1", D("49.99")), ("r2", D("25.00")), ("r3", D("25.00"))]


@pytest.mark.parametrize(("changes", "message"), [
    ({"amount": D("-5.00")}, "above 0"),
    ({"amount": D("5.001")}, "at most 2 decimals"),
    ({"end": date(2026, 9, 30)}, "ends (2026-09-30) before it starts (2026-10-01)"),
    ({"split": "consumption"}, "an invoice has no meters to weigh"),
    ({"split": "ratios", "ratios": {"r1": D(1)}}, "account(s) r2 have none"),
    ({"members": ["r3"], "end": date(2026, 10, 31)}, "every member's weight (area) is zero"),
])
def test_bad_input_is_refused_naming_it(changes: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"amount": D("10.00"), "start": date(2026, 10, 1),
                            "end": date(2026, 10, 31), "members": ["r1", "r2"]}
    args.update(changes)
    members = args.pop("members")
    with pytest.raises(ShareError, match="share group 'lift'") as caught:
        split_invoice(LIFT, members, ACCOUNTS, **args)
    assert message in str(caught.value)


async def split(hub: Any, **data: Any) -> dict[str, Any]:
    async with asyncio.timeout(30):
        response: dict[str, Any] = await hub.services.call("share", "split", data,
                                                           return_response=True,
                                                           blocking=True)
    return response


async def test_the_service_posts_an_invoice_once_with_its_number(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CONFIG) as hub:
        ledger = hub.component("ledger", Ledger)
        data = {"group": "water", "amount": "99.99", "start": "2026-10-01",
                "end": "2026-12-31", "invoice": "SW-2026-Q4", "post": True}
        first = await split(hub, **data)
        assert first["posted"] == 3
        assert [(s["account_id"], s["amount"]) for s in first["shares"]] == [
            ("r1", D("49.99")), ("r2", D("25.00")), ("r3", D("25.00"))]
        again = await split(hub, **data)
        assert again["posted"] == 0  # the same invoice posts once
        (entry,) = await ledger.entries("r1", kinds=["share"])
        assert entry.key == "share:water:invoice:SW-2026-Q4:r1"
        assert entry.amount == D("-49.99") and entry.reason == "invoice SW-2026-Q4"
        assert entry.detail["invoice"] == "SW-2026-Q4" and entry.detail["amount"] == "99.99"
        assert [ledger.balance(a) for a in ("r1", "r2", "r3")] == [
            D("-49.99"), D("-25.00"), D("-25.00")]
        # the same number with another amount is not mixed in
        with pytest.raises(ServiceValidationError, match=r"was posted before with -49\.99"):
            await split(hub, **{**data, "amount": "120.00"})
        preview = await split(hub, group="lift", amount="10.00", start="2026-10-01",
                              end="2026-10-31")
        assert preview["posted"] is None and ledger.balance("r2") == D("-25.00")
        for bad, message in [({"group": "nope"}, "unknown share group 'nope'"),
                             ({"amount": "1e3"}, "expected yuan as"),
                             ({"amount": "10.005"}, "expected yuan as"),
                             ({"amount": "-3"}, "an amount to split is above 0")]:
            with pytest.raises(ServiceValidationError, match=message):
                await split(hub, **{"group": "lift", "amount": "10.00", "start": "2026-10-01",
                                    "end": "2026-10-31", **bad})
        with pytest.raises(ServiceValidationError, match="give the invoice number to post"):
            await split(hub, group="lift", amount="10.00", start="2026-10-01",
                        end="2026-10-31", post=True)


def test_the_cli_splits_and_posts_with_the_hub_stopped(tmp_path: Path) -> None:
    asyncio.run(_start_once(tmp_path))  # creates the database

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("METERHUB_")}
        return subprocess.run(
            [sys.executable, "-m", "hub", "share", "split", *args,
             "-c", str(tmp_path / "hub.yaml"), "--data", str(tmp_path / "data"),
             "--port", "9"], capture_output=True, text=True, timeout=120, check=False, env=env)

    args = ("lift", "--amount", "123.45", "--from", "2026-10-01", "--to", "2026-11-30",
            "--invoice", "LIFT-11", "--post")
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert '"posted": 3' in first.stdout and '"amount": "15.56"' in first.stdout
    again = run(*args)
    assert again.returncode == 0 and '"posted": 0' in again.stdout
    bad = run("lift", "--amount", "12.345", "--from", "2026-10-01", "--to", "2026-10-31")
    assert bad.returncode == 1 and "amount: expected yuan as" in bad.stderr
    ratio = run("lift", "--amount", "10", "--from", "2026-10-01", "--to", "2026-10-31",
                "--split", "ratios", "--ratio", "r1")
    assert ratio.returncode == 1 and "--ratio 'r1': expected ACCOUNT=WEIGHT" in ratio.stderr


async def _start_once(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CONFIG):
        pass
