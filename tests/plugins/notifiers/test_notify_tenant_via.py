"""Tenant notices by SMS and WeChat: ``notify.tenant.via`` names provider notifiers (with
``to_account: true``) that carry every tenant message to the account's phone and the openid
the portal bound — against the local Dysmsapi and Official Account servers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

from common import collect, settle, start_hub, wait_for, write
from notify_support import config, problems_of
from provider_servers import Aliyun, Wechat, fast, serving

from hub.core import Context, Hub
from hub.prepaid.control import Control
from hub.util.ids import new_id

D = Decimal
KEY_ID, KEY_SECRET = "LTAI5tTenantViaKey01", "AliyunTenantSecret0123456789"
APP_ID, APP_SECRET = "wx5d2b6c1e9a7f3e02", "WechatTenantSecret0123456789"
OPENID = "oTenantPortalBound01"


def site(sms: Aliyun, wx: Wechat, *, via: str = "[tenant_sms, tenant_wx]") -> str:
    return config(f"""
        accounts:
          - {{id: a1, name: 张三, low_balance: [20],
             contacts: {{phone: "+86 138 0013 8000", wechat: {OPENID}}}}}
          - {{id: a2, name: 李四}}
        links: [{{id: sim1, type: sim, speed: 0}}]
        meters: [{{id: m1, model: ddsy, link: sim1, address: "202400000001", account: a1,
                  tariff: flat}}]
        tariffs: [{{id: flat, type: flat, price: 1.00}}]
        control: {{retries: 2, retry_delay: 0.1, max_retry_delay: 0.4, confirm_delay: 0.05,
                   recheck_delay: 0.1, rechecks: 3}}
        notices: {{language: en}}
        notify:
          tenant: {{via: {via}}}
          tenant_sms:
            type: aliyun_sms
            access_key_id: {KEY_ID}
            access_key_secret: !secret aliyun_secret
            sign_name: 阳光公寓
            template_code: SMS_154950909
            params: {{name: "{{{{ account }}}}", text: "{{{{ title }}}}"}}
            endpoint: {sms.endpoint}
            to_account: true
            {fast(12)}
          tenant_wx:
            type: wechat_template
            app_id: {APP_ID}
            app_secret: !secret wx_secret
            template_id: TenantTemplate01
            params: {{thing1: "{{{{ title }}}}", thing2: "{{{{ message }}}}"}}
            endpoint: {wx.endpoint}
            to_account: true
            {fast(12)}
        """)


def secrets(tmp_path: Path) -> None:
    write(tmp_path / "secrets.yaml", f"aliyun_secret: {KEY_SECRET}\nwx_secret: {APP_SECRET}\n")


@asynccontextmanager
async def tenant_site(tmp_path: Path) -> AsyncIterator[tuple[Hub, Aliyun, Wechat]]:
    """The site started, with its local SMS and Official Account servers."""
    async with serving(Aliyun({KEY_ID: KEY_SECRET})) as sms, \
            serving(Wechat({APP_ID: APP_SECRET})) as wx:
        secrets(tmp_path)
        async with start_hub(tmp_path, site(sms, wx)) as hub:
            yield hub, sms, wx


async def recharge(hub: Hub, account_id: str, amount: str) -> None:
    await hub.services.call("account", "recharge", {
        "account_id": account_id, "amount": amount, "method": "cash", "reference": new_id()})
    await settle(hub)


def sms_titles(sms: Aliyun) -> list[str]:
    assert {request["PhoneNumbers"] for request in sms.received} <= {"13800138000"}
    return [json.loads(request["TemplateParam"])["text"] for request in sms.received]


def wx_titles(wx: Wechat) -> list[str]:
    assert {body["touser"] for body in wx.received} <= {OPENID}
    return [body["data"]["thing1"]["value"] for body in wx.received]


async def test_payment_low_balance_cut_restored_and_bill_reach_the_tenant_by_sms_and_wechat(
        tmp_path: Path) -> None:
    async with tenant_site(tmp_path) as (hub, sms, wx):
        await hub.component("control", Control).ready()
        await recharge(hub, "a1", "25")  # payment received
        await wait_for(lambda: "Payment credited" in sms_titles(sms), timeout=20)
        await hub.services.call("account", "adjust", {  # 25 -> 10: below 20
            "account_id": "a1", "amount": "-15", "reason": "test"},
            context=Context(user_id="@test"))
        await wait_for(lambda: "Low balance" in wx_titles(wx), timeout=20)
        await hub.services.call("meter", "trip", {"meter_id": "m1", "reason": "test"})
        await wait_for(lambda: "Power cut off" in sms_titles(sms), timeout=30)
        await hub.services.call("meter", "close", {"meter_id": "m1", "reason": "test"})
        await wait_for(lambda: "Power restored" in wx_titles(wx), timeout=30)
        made = await hub.services.call("bill", "create", {"account_id": "a1"},
                                       return_response=True)
        await hub.services.call("bill", "issue", {"bill_id": made["bill_id"]})
        await wait_for(lambda: "New bill" in sms_titles(sms), timeout=20)
        await wait_for(lambda: "New bill" in wx_titles(wx), timeout=20)
        wanted = {"Payment credited", "Low balance", "Power cut off", "Power restored",
                  "New bill"}
        assert wanted <= set(sms_titles(sms)) and wanted <= set(wx_titles(wx))
        assert sms.refused == [] and wx.refused == []


async def test_an_account_without_phone_or_openid_is_skipped_not_failed(
        tmp_path: Path) -> None:
    async with tenant_site(tmp_path) as (hub, sms, wx):
        skipped = collect(hub, "notify_skipped")
        failed = collect(hub, "notify_failed")
        answer = await hub.services.call("notify", "tenant", {
            "account_id": "a2", "message": "hello"}, return_response=True)
        assert answer == {"queued": False, "outcome": "no_contacts"}
        answer = await hub.services.call("notify", "tenant", {
            "account_id": "a1", "message": "hello"}, return_response=True)
        assert answer == {"queued": True, "outcome": "queued"}
        await wait_for(lambda: len(sms.received) == 1 and len(wx.received) == 1)
        assert [event.data["reason"] for event in skipped] == ["no_contacts"]
        assert failed == []


def test_via_names_tenant_only_notifiers_with_to_account(tmp_path: Path) -> None:
    secrets(tmp_path)
    sms, wx = Aliyun({}), Wechat({})
    good = site(sms, wx)
    assert problems_of(tmp_path, good) == []
    unknown = problems_of(tmp_path, site(sms, wx, via="[tenant_sms, nobody]"))
    assert len(unknown) == 1 and "notify.tenant.via[1]" in unknown[0] \
        and "unknown notifier 'nobody'" in unknown[0]
    landlordish = good.replace("    to_account: true\n", "    to_account: true\n"
                               "    phones: ['13900139000']\n", 1)
    mixed = problems_of(tmp_path, landlordish)
    assert len(mixed) == 1 and "recipients of its own" in mixed[0]
    no_account = good.replace("    to_account: true\n", "    phones: ['13900139000']\n", 1)
    refused = problems_of(tmp_path, no_account)
    assert len(refused) == 1 and "needs 'to_account: true'" in refused[0]
