"""``type: wechat_template`` against a local Official Account API: token, refresh, errcodes."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from common import collect, start_hub, wait_for, write
from notify_support import config, problems_of
from provider_servers import ACCOUNTS, Wechat, fast, serving

APP_ID = "wx5d2b6c1e9a7f3e01"
APP_SECRET = "WechatAppSecret0123456789abcd"  # must never reach a log line or an event


def wechat_block(provider: Wechat, openids: str = '["oLandlordOpenid01"]') -> str:
    """A notify: block with one wechat_template notifier named ``wx``."""
    return f"""
        notify:
          wx:
            type: wechat_template
            app_id: {APP_ID}
            app_secret: !secret wx_secret
            template_id: ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY
            params: {{thing1: "{{{{ account }}}}", amount2: "{{{{ balance }}}}",
                      thing3: "{{{{ message }}}}"}}
            url: "https://pay.example.com/{{{{ account_id }}}}"
            endpoint: {provider.endpoint}
            openids: {openids}
            to_account: true
            {fast(12)}
        """


def secrets(tmp_path: Path, app_secret: str = APP_SECRET) -> None:
    write(tmp_path / "secrets.yaml", f"wx_secret: {app_secret}\n")


async def send(hub: object, count: int = 1, **data: object) -> None:
    for _ in range(count):
        await hub.services.call("notify", "wx", {  # type: ignore[attr-defined]
            "message": "余额不足", "account_id": "r302", "data": {"balance": "8.5"}, **data})


async def test_the_tenant_and_the_landlord_get_the_template_message_with_one_token(
        tmp_path: Path) -> None:
    async with serving(Wechat({APP_ID: APP_SECRET})) as provider:
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, wechat_block(provider))) as hub:
            sent = collect(hub, "notify_sent")
            await send(hub, count=2)
            await wait_for(lambda: len(sent) == 2)
        assert provider.token_fetches == 1  # kept between messages
        assert [body["touser"] for body in provider.received] == [
            "oLandlordOpenid01", "oTenant302openid"] * 2
        body = provider.received[0]
        assert body["template_id"] == "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY"
        assert body["data"] == {"thing1": {"value": "张三"}, "amount2": {"value": "8.5"},
                                "thing3": {"value": "余额不足"}}
        assert body["url"] == "https://pay.example.com/r302"
        # WeChat's idempotency key: the outbox's message id, the same for both openids of a
        # message (a send repeated after a crash is one message per openid and id)
        ids = [received["client_msg_id"] for received in provider.received]
        assert ids[0] == ids[1] != ids[2] == ids[3]
        assert set(ids) == {event.data["message_id"] for event in sent}


async def test_a_refused_token_is_refreshed_once_and_the_message_goes_out(
        tmp_path: Path) -> None:
    async with serving(Wechat({APP_ID: APP_SECRET})) as provider:
        secrets(tmp_path)
        block = wechat_block(provider, openids="[]")
        async with start_hub(tmp_path, config(ACCOUNTS, block)) as hub:
            sent = collect(hub, "notify_sent")
            await send(hub)
            await wait_for(lambda: len(sent) == 1)
            provider.expire_token()  # e.g. another program fetched a new token
            await send(hub)
            await wait_for(lambda: len(sent) == 2)
        assert provider.refused == ["40001"]
        assert provider.token_fetches == 2
        assert sent[1].data["attempts"] == 1  # refreshed inside the attempt, not a retry
        assert len(provider.received) == 2


async def test_a_token_is_fetched_again_when_it_expires(tmp_path: Path) -> None:
    async with serving(Wechat({APP_ID: APP_SECRET}, expires_in=2)) as provider:
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, wechat_block(provider, "[]"))) as hub:
            sent = collect(hub, "notify_sent")
            await send(hub)
            await wait_for(lambda: len(sent) == 1)
            await asyncio.sleep(1.2)  # kept for half its life when it is this short
            await send(hub)
            await wait_for(lambda: len(sent) == 2)
        assert provider.token_fetches == 2
        assert provider.refused == []  # fetched before the old one was refused


async def test_a_wrong_app_secret_is_recorded_clearly_and_never_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with serving(Wechat({APP_ID: APP_SECRET})) as provider:
        secrets(tmp_path, app_secret="NotTheAppSecret987654")
        async with start_hub(tmp_path, config(ACCOUNTS, wechat_block(provider))) as hub:
            failed = collect(hub, "notify_failed")
            await send(hub)
            await wait_for(lambda: failed)
        assert provider.refused == ["40125"]  # once: not retried
        error = failed[0].data["error"]
        assert "40125" in error and "the app_secret is not valid" in error
        assert "NotTheAppSecret987654" not in caplog.text + repr(dict(failed[0].data))
        assert provider.received == []


@pytest.mark.parametrize(("errcode", "attempts", "outcome"), [
    ("-1", 2, "notify_sent"),       # system busy: retried
    ("45009", 2, "notify_sent"),    # quota: retried
    ("43004", 1, "notify_failed"),  # not a follower any more
    ("47003", 1, "notify_failed"),  # data do not fit the template
])
async def test_errcodes_are_retried_or_not(tmp_path: Path, errcode: str, attempts: int,
                                           outcome: str) -> None:
    async with serving(Wechat({APP_ID: APP_SECRET}, plan=[errcode])) as provider:
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, wechat_block(provider, "[]"))) as hub:
            events = collect(hub, "notify_sent", "notify_failed")
            await send(hub)
            await wait_for(lambda: events)
        assert (events[0].event_type, events[0].data["attempts"]) == (outcome, attempts)
        assert provider.token_fetches == 1


async def test_a_landlord_served_before_a_failure_is_not_sent_twice(tmp_path: Path) -> None:
    # the landlord's message goes out; the tenant's gets -1 (busy): the retry is the tenant's
    async with serving(Wechat({APP_ID: APP_SECRET}, plan=["0", "-1"])) as provider:
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, wechat_block(provider))) as hub:
            sent = collect(hub, "notify_sent")
            await send(hub)
            await wait_for(lambda: sent)
        assert [body["touser"] for body in provider.received] == [
            "oLandlordOpenid01", "oTenant302openid"]


def test_check_config_wants_data_keys_and_recipients(tmp_path: Path) -> None:
    secrets(tmp_path)
    text = config(f"""
        notify:
          a: {{type: wechat_template, app_id: {APP_ID}, app_secret: !secret wx_secret,
              template_id: t, params: {{}}, openids: [o1]}}
          b: {{type: wechat_template, app_id: {APP_ID}, app_secret: !secret wx_secret,
              template_id: t, params: {{k: v}}}}
        """)
    found = "\n".join(problems_of(tmp_path, text))
    assert "notify.a.params: give the template's data keys" in found
    assert "notify.b: give 'openids' or 'to_account: true'" in found
    assert APP_SECRET not in found
