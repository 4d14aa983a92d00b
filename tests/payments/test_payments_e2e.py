"""End to end against a real hub process: an order over the API, WeChat Pay's notification
from the local stand-in, the balance up, the simulated meter's relay closed, and the tenant
and the landlord told at a real local receiver; a paid order found by the reconciliation;
a lost notification recovered by the order query."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from common import bounded, db_rows, free_port, wait_for
from payment_servers import wechat_server
from payment_support import (
    Api,
    e2e_yaml,
    hub_process,
    messages,
    read_line,
    site_yaml,
    told_both,
    until,
)
from receiver import receiver

CHINA = timezone(timedelta(hours=8))

@pytest.mark.timeout(300)
@bounded(240)
async def test_pay_notify_credit_relay_close_and_tell_both(tmp_path: Path) -> None:
    async with wechat_server() as wx, receiver() as inbox:
        port = free_port()
        config = e2e_yaml(tmp_path / "site", [wx.config()], port=port, inbox=inbox,
                          payments="query_after: 8s\nquery_every: 1s")
        data = tmp_path / "data"
        async with hub_process(config, data, tmp_path / "hub.log"), \
                aiohttp.ClientSession() as session:
            api = Api(session, port, data)
            # the account starts in arrears: its relay is opened at start-up
            await until(lambda: api.relay("r101_e", "open"))
            # 1. pay → notification → balance up → relay closed → both told
            order = await api.service("create_order", account_id="r101", amount="50",
                                      provider="wechatpay", channel="native")
            assert order["pay"]["code_url"].startswith("weixin://")
            trade = wx.pay(order["order_id"])
            assert await wx.deliver(trade) == (200, "")
            found = await api.service("order", order_id=order["order_id"])
            assert found["state"] == "credited" and found["balance"] == "50.00"
            await until(lambda: api.relay("r101_e", "closed"))
            await told_both(inbox, "¥50.00")
            # 2. paid, never notified: the reconciliation finds it and credits it
            lost = await api.service("create_order", account_id="r101", amount="20",
                                     provider="wechatpay", channel="native")
            wx.pay(lost["order_id"])
            today = datetime.now(CHINA).date().isoformat()
            report = (await api.service("reconcile", day=today))["reports"][0]
            assert [x["order_id"] for x in report["paid_not_credited"]] \
                == [lost["order_id"]], report
            again = await api.service("order", order_id=lost["order_id"])
            assert again["state"] == "credited" and again["balance"] == "70.00"
            # 3. paid, notification lost: the order query credits it
            quiet = await api.service("create_order", account_id="r101", amount="30",
                                      provider="wechatpay", channel="native")
            wx.pay(quiet["order_id"])
            done = await until(lambda: _credited(api, quiet["order_id"]), timeout=90)
            assert done["balance"] == "100.00"
            assert ("GET", f"/v3/pay/transactions/out-trade-no/{quiet['order_id']}") \
                in wx.requests
            await wait_for(lambda: sum("到账" in m for m in messages(inbox, "tenant"))
                           >= 3, timeout=60)


async def _credited(api: Api, order_id: str) -> Any:
    found = await api.service("order", order_id=order_id)
    return found if found["state"] == "credited" else None


@pytest.mark.timeout(300)
@bounded(240)
async def test_a_hub_killed_before_the_credit_commits_credits_once_after_restart(
        tmp_path: Path) -> None:
    async with wechat_server() as wx:
        port = free_port()
        config = site_yaml(tmp_path / "site", [wx.config()], port=port,
                           payments="query_after: 1s\nquery_every: 1s")
        data = tmp_path / "data"
        log = tmp_path / "hub.log"
        async with aiohttp.ClientSession() as session:
            api = Api(session, port, data)
            async with hub_process(config, data, log, "hold") as proc:
                order = await api.service("create_order", account_id="r101", amount="50",
                                          provider="wechatpay", channel="native")
                trade = wx.pay(order["order_id"])
                delivery = asyncio.create_task(wx.deliver(trade))
                await read_line(proc, "HELD")  # written paid; the credit waits in the ledger
                proc.kill()
                await proc.wait()
                status = await _status(delivery)
                assert status != 200  # WeChat Pay never got its acknowledgement
            rows = db_rows(data, "SELECT state, transaction_id FROM payment_order")
            assert rows == [("paid", trade.transaction_id)]
            assert db_rows(data, "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'recharge'") \
                == [(0,)]
            async with hub_process(config, data, log):
                done = await until(lambda: _credited(api, order["order_id"]), timeout=60)
                assert done["balance"] == "50.00"
                assert await wx.deliver(trade) == (200, "")  # WeChat Pay's retry
                again = await api.service("order", order_id=order["order_id"])
                assert again["balance"] == "50.00"
        assert db_rows(data, "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'recharge'") \
            == [(1,)]


async def _status(delivery: asyncio.Task[tuple[int, str]]) -> int:
    try:
        async with asyncio.timeout(30):
            return (await delivery)[0]
    except aiohttp.ClientError:
        return 0  # the connection died with the hub
