"""The daily reconciliation against WeChat Pay's trade bill and Alipay's order queries:
paid but not credited (credited by it, once), credited but not paid, another amount."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from common import bounded, collect, wait_for
from payment_servers import alipay_server, wechat_server
from payment_support import call, payment_hub

from hub.exceptions import ServiceValidationError
from hub.ledger import Ledger
from hub.util.dt import as_local, utcnow

D = Decimal


def today() -> str:
    return as_local(utcnow()).date().isoformat()


@bounded(60)
async def test_the_bill_finds_a_paid_order_and_credits_it_once(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        alarms = collect(hub, "payment_mismatch")
        good = await call(hub, "create_order", account_id="r101", amount="10",
                          provider="wechatpay", channel="native")
        assert await wx.deliver(wx.pay(good["order_id"])) == (200, "")
        lost = await call(hub, "create_order", account_id="r101", amount="20",
                          provider="wechatpay", channel="native")
        wx.pay(lost["order_id"])  # paid; no notification, no query yet
        answer = await call(hub, "reconcile", day=today(), provider="wechatpay")
        [report] = answer["reports"]
        assert report["source"] == "bill" and ("GET", "/v3/bill/tradebill") in wx.requests
        assert [x["order_id"] for x in report["paid_not_credited"]] == [lost["order_id"]]
        assert report["paid_not_credited"][0]["outcome"] == "credited"
        assert report["credited_not_paid"] == [] and report["amount_differs"] == []
        assert report["paid"] == "30.00" and report["credited"] == "30.00"
        assert hub.component("ledger", Ledger).balance("r101") == D("30.00")
        assert [a.data["paid_not_credited"] for a in alarms] == [[lost["order_id"]]]
        again = (await call(hub, "reconcile", day=today()))["reports"][0]
        assert again["differences"] == 0
        assert hub.component("ledger", Ledger).balance("r101") == D("30.00")
        kept = (await call(hub, "reconciliation", start=today(), end=today()))["reports"]
        assert [r["differences"] for r in kept] == [0]  # the day's report, replaced


@bounded(60)
async def test_credited_but_not_paid_and_another_amount_are_reported(tmp_path: Path) -> None:
    async with alipay_server() as ali, payment_hub(
            tmp_path, [ali.config(daily_bill=False)]) as hub:
        alarms = collect(hub, "payment_mismatch")
        orders = [await call(hub, "create_order", account_id="r101", amount="10",
                             provider="alipay", channel="precreate") for _ in range(2)]
        for order in orders:
            assert await ali.deliver(ali.pay(order["order_id"])) == (200, "success")
        ghost, changed = (ali.trades[o["order_id"]] for o in orders)
        ghost.state, ghost.transaction_id = "WAIT_BUYER_PAY", ""  # Alipay does not know it paid
        changed.amount_fen = 999
        [report] = (await call(hub, "reconcile", day=date.fromisoformat(today()).isoformat()))[
            "reports"]
        assert report["source"] == "query"
        assert [x["order_id"] for x in report["credited_not_paid"]] == [orders[0]["order_id"]]
        assert [x["order_id"] for x in report["amount_differs"]] == [orders[1]["order_id"]]
        assert report["amount_differs"][0]["paid"] == "9.99"
        assert alarms[-1].data["credited_not_paid"] == [orders[0]["order_id"]]
        assert hub.component("ledger", Ledger).balance("r101") == D("20.00")  # nothing undone


@bounded(60)
async def test_the_nightly_run_reconciles_yesterday_at_reconcile_at(tmp_path: Path) -> None:
    soon = as_local(utcnow() + timedelta(seconds=3)).strftime("%H:%M:%S")
    async with wechat_server() as wx, payment_hub(
            tmp_path, [wx.config()], payments=f'reconcile_at: "{soon}"') as hub:
        yesterday = (as_local(utcnow()) - timedelta(days=1)).date().isoformat()
        await wait_for(lambda: wx.bill_queries, timeout=30)  # at reconcile_at, by itself
        reports = await wait_for_reports(hub)
        assert [r["day"] for r in reports] == [yesterday]
        assert f"bill_date={yesterday}" in wx.bill_queries[0]


async def wait_for_reports(hub: Any) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        return list((await call(hub, "reconciliation"))["reports"])
    async with asyncio.timeout(30):
        while not (reports := await found()):
            await asyncio.sleep(0.1)
    return reports


@bounded(60)
async def test_a_night_missed_while_the_hub_was_down_is_caught_up_at_start(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(
            tmp_path, [wx.config()], payments='reconcile_at: "00:00"') as hub:
        yesterday = (as_local(utcnow()) - timedelta(days=1)).date().isoformat()
        reports = await wait_for_reports(hub)
        assert [r["day"] for r in reports] == [yesterday]
        assert len(wx.bill_queries) == 1


@bounded(60)
async def test_alipay_daily_bill_finds_a_paid_order(tmp_path: Path) -> None:
    async with alipay_server() as ali, payment_hub(tmp_path, [ali.config()]) as hub:
        told = await call(hub, "create_order", account_id="r101", amount="10",
                          provider="alipay", channel="precreate")
        assert await ali.deliver(ali.pay(told["order_id"])) == (200, "success")
        await call(hub, "refund", order_id=told["order_id"], amount="4")
        lost = await call(hub, "create_order", account_id="r101", amount="20",
                          provider="alipay", channel="precreate")
        ali.pay(lost["order_id"])
        [report] = (await call(hub, "reconcile", day=today()))["reports"]
        assert report["source"] == "bill"
        assert "alipay.data.dataservice.bill.downloadurl.query" in ali.methods
        assert "alipay.trade.query" not in ali.methods  # the bill, not a query per order
        assert [x["order_id"] for x in report["paid_not_credited"]] == [lost["order_id"]]
        assert report["credited_not_paid"] == [] and report["amount_differs"] == []
        assert hub.component("ledger", Ledger).balance("r101") == D("26.00")


@bounded(60)
async def test_an_unreachable_bill_is_reported_and_other_merchants_go_on(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, alipay_server() as ali, payment_hub(
            tmp_path, [wx.config(base_url="http://127.0.0.1:9"), ali.config()]) as hub:
        reports = (await call(hub, "reconcile", day=today()))["reports"]
        by_provider = {r["provider"]: r for r in reports}
        assert "WeChat Pay GET /v3/bill/tradebill" in by_provider["wechatpay"]["errors"][0]
        assert by_provider["alipay"]["errors"] == [] and by_provider["alipay"]["source"] == "bill"


@bounded(60)
async def test_a_day_that_is_no_date_is_refused_with_its_field(tmp_path: Path) -> None:
    """Mutation caught: ``vol.Coerce(date.fromisoformat)`` without a message (voluptuous
    raises TypeError building its own: a crash instead of a refusal)."""
    # reconcile_at 00:00: yesterday is caught up at start at any hour (at the default 02:30 a
    # run between midnight and 02:30 waited for a report that was not due yet)
    async with wechat_server() as wx, payment_hub(
            tmp_path, [wx.config()], payments='reconcile_at: "00:00"') as hub:
        await wait_for_reports(hub)  # yesterday's, at start
        asked = len(wx.bill_queries)
        for service, field in (("reconcile", "day"), ("reconciliation", "start"),
                               ("reconciliation", "end")):
            with pytest.raises(ServiceValidationError) as caught:
                await call(hub, service, **{field: "2026-13-01"})
            assert caught.value.errors == [
                f"data.{field}: expected a date (YYYY-MM-DD), got '2026-13-01'"], caught.value
        assert len(wx.bill_queries) == asked


@bounded(60)
async def test_a_merchant_account_shared_by_two_landlords_reports_each_order_once(
        tmp_path: Path) -> None:
    """Two landlord entries on one WeChat Pay merchant account: the trade bill lists every
    order of the account, so an order created another day must be claimed by its own
    landlord's report only (it was counted in both)."""
    async with wechat_server() as wx, payment_hub(
            tmp_path, [wx.config(), wx.config(landlord="wang")]) as hub:
        order = await call(hub, "create_order", account_id="r101", amount="10",
                           provider="wechatpay", channel="native")  # r101 is wang's tenant
        assert await wx.deliver(wx.pay(order["order_id"])) == (200, "")
        tomorrow = (date.fromisoformat(today()) + timedelta(days=1)).isoformat()
        reports = (await call(hub, "reconcile", day=tomorrow))["reports"]
        by_landlord = {report["landlord"]: report for report in reports}
        assert by_landlord["wang"]["orders"] == 1 and by_landlord["wang"]["paid"] == "10.00"
        others = [report for landlord, report in by_landlord.items() if landlord != "wang"]
        assert others and all(r["orders"] == 0 and r["paid"] == "0.00" for r in others), reports
        assert all(report["differences"] == 0 for report in reports)
