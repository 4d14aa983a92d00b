"""``type: aliyun_sms`` against a local Dysmsapi that checks the V3 (ACS3) signature."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from common import collect, start_hub, wait_for, write
from notify_support import config, problems_of
from provider_servers import ACCOUNTS, Aliyun, acs3_signature, fast, serving

from meterhub_notify.aliyun_sms import sign

KEY_ID = "LTAI5tAliyunKeyId"
KEY_SECRET = "AliyunSecret0123456789abcdef"  # must never reach a log line or an event


def sms_block(provider: Aliyun, **extra: str) -> str:
    """A notify: block with one aliyun_sms notifier named ``sms``."""
    keys = "".join(f"\n            {key}: {value}" for key, value in extra.items())
    return f"""
        notify:
          sms:
            type: aliyun_sms
            access_key_id: !secret aliyun_id
            access_key_secret: !secret aliyun_secret
            sign_name: 阳光公寓
            template_code: SMS_154950909
            params: {{name: "{{{{ account }}}}", amount: "{{{{ balance }}}}"}}
            endpoint: {provider.endpoint}
            phones: ["139-0013-9000"]
            to_account: true
            {fast(12)}{keys}
        """


def secrets(tmp_path: Path, key_secret: str = KEY_SECRET) -> None:
    write(tmp_path / "secrets.yaml", f"aliyun_id: {KEY_ID}\naliyun_secret: {key_secret}\n")


def test_the_signing_reproduces_the_published_v3_example() -> None:
    # The example request of Alibaba Cloud's V3 signature page (RunInstances, nonce
    # d410180a5abf7fe235dd9b74aca91fc0, 2023-10-26T09:01:01Z, key secret
    # "YourAccessKeySecret"): its published signature is e521358f...64804
    # (help.aliyun.com/zh/model-studio/user-guide/roa-style-request-body-signature-mechanism).
    published = "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"
    query = {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
             "RegionId": "cn-shanghai"}
    acs = {"x-acs-action": "RunInstances", "x-acs-version": "2014-05-26",
           "x-acs-date": "2023-10-26T09:01:01Z",
           "x-acs-signature-nonce": "d410180a5abf7fe235dd9b74aca91fc0"}
    headers = sign("POST", "ecs.cn-shanghai.aliyuncs.com", query, acs, b"",
                   "YourAccessKeyId", "YourAccessKeySecret")
    assert headers["Authorization"].endswith(f",Signature={published}")
    assert headers["Authorization"].startswith(
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,")
    # the test server's own implementation agrees with the published value too
    lower = {name.lower(): value for name, value in headers.items()}
    assert acs3_signature("YourAccessKeySecret", "POST", "/", query, lower,
                          sorted(set(lower) - {"authorization"}), b"") == published


async def test_a_template_sms_reaches_the_landlord_and_the_tenant(tmp_path: Path) -> None:
    async with serving(Aliyun({KEY_ID: KEY_SECRET})) as provider:
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, sms_block(provider))) as hub:
            sent = collect(hub, "notify_sent")
            answer = await hub.services.call("notify", "sms", {
                "template": "balance_low", "account_id": "r302",
                "data": {"account_id": "r302", "balance": "12.3", "level": 20}},
                return_response=True)
            assert answer == {"queued": True, "outcome": "queued"}
            await wait_for(lambda: sent)
        assert provider.refused == []
        (request,) = provider.received
        assert request["PhoneNumbers"] == "13900139000,13800138000"  # +86 / dashes removed
        assert request["SignName"] == "阳光公寓"
        assert request["TemplateCode"] == "SMS_154950909"
        assert json.loads(request["TemplateParam"]) == {"name": "张三", "amount": "¥12.30"}
        assert sent[0].data["target"] == "aliyun_sms" and sent[0].data["attempts"] == 1


async def test_a_wrong_secret_is_refused_recorded_and_never_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with serving(Aliyun({KEY_ID: KEY_SECRET})) as provider:
        secrets(tmp_path, key_secret="NotTheSecretAtAll0123")
        async with start_hub(tmp_path, config(ACCOUNTS, sms_block(provider))) as hub:
            failed = collect(hub, "notify_failed")
            await hub.services.call("notify", "sms", {"message": "x", "account_id": "r302"})
            await wait_for(lambda: failed)
        assert provider.refused == ["SignatureDoesNotMatch"]  # not retried: permanent
        assert provider.received == []
        error = failed[0].data["error"]
        assert "SignatureDoesNotMatch" in error and "check access_key_secret" in error
        assert failed[0].data["attempts"] == 1
        assert "NotTheSecretAtAll0123" not in caplog.text + repr(dict(failed[0].data))
        assert "SignatureDoesNotMatch" in caplog.text


@pytest.mark.parametrize(("code", "attempts", "outcome"), [
    ("isp.SYSTEM_ERROR", 2, "notify_sent"),             # the provider's fault: retried
    ("Throttling.User", 2, "notify_sent"),
    ("isv.BUSINESS_LIMIT_CONTROL", 1, "notify_failed"),  # the number's quota: not retried
    ("isv.MOBILE_NUMBER_ILLEGAL", 1, "notify_failed"),
    ("isv.SMS_SIGNATURE_ILLEGAL", 1, "notify_failed"),
])
async def test_provider_errors_are_retried_or_not_by_their_code(
        tmp_path: Path, code: str, attempts: int, outcome: str) -> None:
    async with serving(Aliyun({KEY_ID: KEY_SECRET}, plan=[code])) as provider:
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, sms_block(provider))) as hub:
            events = collect(hub, "notify_sent", "notify_failed")
            await hub.services.call("notify", "sms", {"message": "x", "account_id": "r302"})
            await wait_for(lambda: events)
        assert (events[0].event_type, events[0].data["attempts"]) == (outcome, attempts)
        if outcome == "notify_failed":
            assert code in events[0].data["error"]
            assert provider.received == []
        else:
            assert len(provider.received) == 1


async def test_an_account_without_a_phone_is_a_clear_permanent_failure(
        tmp_path: Path) -> None:
    async with serving(Aliyun({KEY_ID: KEY_SECRET})) as provider:
        secrets(tmp_path)
        block = sms_block(provider).replace('phones: ["139-0013-9000"]', "phones: []")
        async with start_hub(tmp_path, config(ACCOUNTS, block)) as hub:
            failed = collect(hub, "notify_failed")
            await hub.services.call("notify", "sms", {"message": "x", "account_id": "r404"})
            await wait_for(lambda: failed)
        assert failed[0].data["error"] == "no recipient: account r404 has no contacts.phone"
        assert provider.received == [] and provider.refused == []


def test_check_config_names_missing_recipients_and_bad_numbers(tmp_path: Path) -> None:
    secrets(tmp_path)
    text = config("""
        notify:
          a: {type: aliyun_sms, access_key_id: !secret aliyun_id,
              access_key_secret: !secret aliyun_secret, sign_name: s, template_code: t}
          b: {type: aliyun_sms, access_key_id: !secret aliyun_id,
              access_key_secret: !secret aliyun_secret, sign_name: s, template_code: t,
              phones: ["12ab"], params: {x: "{{ broken"}}
        """)
    found = "\n".join(problems_of(tmp_path, text))
    assert "notify.a: give 'phones' or 'to_account: true'" in found
    assert "notify.b.phones[0]: expected a phone number" in found
    assert "notify.b.params.x: template error" in found
    assert KEY_SECRET not in found


async def test_a_built_in_notice_reaches_the_tenant_by_sms(tmp_path: Path) -> None:
    async with serving(Aliyun({KEY_ID: KEY_SECRET})) as provider:
        secrets(tmp_path)
        block = sms_block(provider).replace('phones: ["139-0013-9000"]', "phones: []")
        text = config(ACCOUNTS, block, "notices: {balance_low: {notify: [sms]}}")
        async with start_hub(tmp_path, text) as hub:
            sent = collect(hub, "notify_sent")
            hub.bus.fire("balance_low", {"account_id": "r302", "balance": Decimal("4.5"),
                                         "level": Decimal("5")})
            await wait_for(lambda: sent)
        (request,) = provider.received
        assert request["PhoneNumbers"] == "13800138000"  # the account's contacts.phone
        assert json.loads(request["TemplateParam"]) == {"name": "张三", "amount": "¥4.50"}
        assert sent[0].data["notice"] == "balance_low"
