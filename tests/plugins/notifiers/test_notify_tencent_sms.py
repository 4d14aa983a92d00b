"""``type: tencent_sms`` against a local SMS API 3.0 that checks the TC3-HMAC-SHA256 signature."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from common import collect, start_hub, wait_for, write
from notify_support import config, problems_of
from provider_servers import ACCOUNTS, Tencent, fast, serving, tc3_signature

from meterhub_notify.tencent_sms import sign

SECRET_ID = "AKIDmeterhubTestSecretId"
SECRET_KEY = "TencentKey0123456789abcdef"  # must never reach a log line or an event


def sms_block(provider: Tencent, phones: str = '["13900139000"]') -> str:
    """A notify: block with one tencent_sms notifier named ``sms``."""
    return f"""
        notify:
          sms:
            type: tencent_sms
            secret_id: !secret tc_id
            secret_key: !secret tc_key
            sdk_app_id: "1400006666"
            sign_name: 阳光公寓
            template_id: "449739"
            params: {{"2": "{{{{ balance }}}}", "1": "{{{{ account }}}}"}}
            endpoint: {provider.endpoint}
            phones: {phones}
            to_account: true
            {fast(12)}
        """


def secrets(tmp_path: Path, key: str = SECRET_KEY) -> None:
    write(tmp_path / "secrets.yaml", f"tc_id: {SECRET_ID}\ntc_key: {key}\n")


def test_the_signing_reproduces_the_published_tc3_example() -> None:
    # Tencent Cloud's "Signature v3" page signs DescribeInstances for cvm with SecretKey
    # Gu5t9xGARNpq86cd98joQYCN3EXAMPLE at 1551113065 and publishes the signature
    # 72e494ea...25168 (tencentcloud.com/document/api/1021/34193).
    published = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    body = (b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], '
            b'"Name": "instance-name"}]}')
    headers = {"content-type": "application/json; charset=utf-8",
               "host": "cvm.tencentcloudapi.com"}
    authorization = sign(headers, body, 1551113065, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                         "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", service="cvm")
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
        f"tc3_request, SignedHeaders=content-type;host, Signature={published}")
    assert tc3_signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm", 1551113065, headers,
                         ["content-type", "host"], body) == published


async def test_a_template_sms_reaches_every_number_with_ordered_parameters(
        tmp_path: Path) -> None:
    async with serving(Tencent({SECRET_ID: SECRET_KEY})) as provider:
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, sms_block(provider))) as hub:
            sent = collect(hub, "notify_sent")
            await hub.services.call("notify", "sms", {
                "template": "balance_low", "account_id": "r302",
                "data": {"account_id": "r302", "balance": "8.5", "level": 20}})
            await wait_for(lambda: sent)
        assert provider.refused == []
        (request,) = provider.received
        assert request == {
            "PhoneNumberSet": ["+8613900139000", "+8613800138000"], "SmsSdkAppId": "1400006666",
            "SignName": "阳光公寓", "TemplateId": "449739", "TemplateParamSet": ["张三", "¥8.50"]}
        assert (sent[0].data["target"], sent[0].data["attempts"]) == ("tencent_sms", 1)


async def test_a_wrong_key_is_refused_recorded_and_never_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with serving(Tencent({SECRET_ID: SECRET_KEY})) as provider:
        secrets(tmp_path, key="WrongTencentKeyXYZ987")
        async with start_hub(tmp_path, config(ACCOUNTS, sms_block(provider))) as hub:
            failed = collect(hub, "notify_failed")
            await hub.services.call("notify", "sms", {"message": "x"})
            await wait_for(lambda: failed)
        assert provider.refused == ["AuthFailure.SignatureFailure"]  # once: not retried
        error = failed[0].data["error"]
        assert "AuthFailure.SignatureFailure" in error and "check secret_key" in error
        assert "WrongTencentKeyXYZ987" not in caplog.text + repr(dict(failed[0].data))


async def test_only_the_numbers_that_failed_are_retried(tmp_path: Path) -> None:
    provider = Tencent({SECRET_ID: SECRET_KEY},
                       statuses=[{"+8613800138000": "LimitExceeded.PhoneNumberThirtySecondLimit"}])
    async with serving(provider):
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, sms_block(provider))) as hub:
            sent = collect(hub, "notify_sent")
            await hub.services.call("notify", "sms", {"message": "x", "account_id": "r302"})
            await wait_for(lambda: sent)
        first, second = provider.received
        assert first["PhoneNumberSet"] == ["+8613900139000", "+8613800138000"]
        assert second["PhoneNumberSet"] == ["+8613800138000"]  # the landlord got it already
        assert sent[0].data["attempts"] == 2


@pytest.mark.parametrize(("code", "attempts", "outcome"), [
    ("InternalError.Timeout", 2, "notify_sent"),
    ("RequestLimitExceeded", 2, "notify_sent"),
    ("FailedOperation.TemplateIncorrectOrUnapproved", 1, "notify_failed"),
    ("LimitExceeded.PhoneNumberDailyLimit", 1, "notify_failed"),
])
async def test_provider_errors_are_retried_or_not_by_their_code(
        tmp_path: Path, code: str, attempts: int, outcome: str) -> None:
    async with serving(Tencent({SECRET_ID: SECRET_KEY}, plan=[code])) as provider:
        secrets(tmp_path)
        async with start_hub(tmp_path, config(ACCOUNTS, sms_block(provider))) as hub:
            events = collect(hub, "notify_sent", "notify_failed")
            await hub.services.call("notify", "sms", {"message": "x"})
            await wait_for(lambda: events)
        assert (events[0].event_type, events[0].data["attempts"]) == (outcome, attempts)
        assert len(provider.received) == (1 if outcome == "notify_sent" else 0)


def test_check_config_wants_numbered_parameters(tmp_path: Path) -> None:
    secrets(tmp_path)
    text = config("""
        notify:
          a: {type: tencent_sms, secret_id: !secret tc_id, secret_key: !secret tc_key,
              sdk_app_id: "1", sign_name: s, template_id: "2", phones: ["13900139000"],
              params: {name: "{{ account }}"}}
          b: {type: tencent_sms, secret_id: !secret tc_id, secret_key: !secret tc_key,
              sdk_app_id: "1", sign_name: s, template_id: "2", phones: ["13900139000"],
              params: {"1": x, "3": y}}
        """)
    found = "\n".join(problems_of(tmp_path, text))
    assert "notify.a.params: expected parameters numbered like the template's {1}" in found
    assert "notify.b.params: expected parameters 1..2, got 1, 3" in found
