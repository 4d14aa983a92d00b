"""``type: tencent_sms``: template SMS through Tencent Cloud's ``SendSms`` (腾讯云短信, API 3.0).

A request is ``POST /`` with a JSON body (``SmsSdkAppId``, ``SignName``, ``TemplateId``,
``TemplateParamSet``, ``PhoneNumberSet`` in E.164), the headers ``X-TC-Action: SendSms``,
``X-TC-Version: 2021-01-11``, ``X-TC-Timestamp``, ``X-TC-Region`` and an ``Authorization``
signed with TC3-HMAC-SHA256 (https://www.tencentcloud.com/document/api/1021/34193): a key
derived from the SecretKey, the UTC date and the service ``sms`` signs the canonical request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text, text_of

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .notifier import DeliveryError, Message, Target
from .providers import (
    PARAMS,
    ErrorCode,
    ProviderTarget,
    ProviderType,
    e164,
    endpoint_url,
    exchange,
    phone_number,
    provider_error,
    recipients,
    render_params,
    secret,
)

NAME = "tencent_sms"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
MAX_NUMBERS = 200  # SendSms takes at most this many numbers per call

# Error codes of SendSms (https://www.tencentcloud.com/document/product/382/40709), the
# call's and each number's (SendStatusSet[].Code).
ERRORS: dict[str, ErrorCode] = {
    "AuthFailure.SignatureFailure": ErrorCode(True, "the signature was refused: check "
                                              "secret_key"),
    "AuthFailure.SecretIdNotFound": ErrorCode(True, "unknown secret_id"),
    "AuthFailure.SignatureExpire": ErrorCode(True, "the request time was refused: check "
                                             "the hub's clock"),
    "AuthFailure.UnauthorizedOperation": ErrorCode(True, "the key may not send SMS (CAM)"),
    "FailedOperation.SignatureIncorrectOrUnapproved": ErrorCode(
        True, "the sign name (签名) is not approved"),
    "FailedOperation.TemplateIncorrectOrUnapproved": ErrorCode(
        True, "the template id is not approved"),
    "FailedOperation.InsufficientBalanceInSmsPackage": ErrorCode(
        True, "the SMS package is used up"),
    "FailedOperation.PhoneNumberInBlacklist": ErrorCode(True, "the number opted out"),
    "InvalidParameterValue.IncorrectPhoneNumber": ErrorCode(True, "the phone number is "
                                                            "not valid"),
    "InvalidParameterValue.TemplateParameterFormatError": ErrorCode(
        True, "a template parameter does not fit the template"),
    "InvalidParameterValue.TemplateParameterLengthLimit": ErrorCode(
        True, "a template parameter is too long"),
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": ErrorCode(
        True, "a template parameter holds a URL"),
    "MissingParameter.EmptyPhoneNumberSet": ErrorCode(True, "no phone number"),
    "LimitExceeded.PhoneNumberDailyLimit": ErrorCode(True, "the daily limit for this "
                                                     "number is reached; not retried"),
    "LimitExceeded.PhoneNumberThirtySecondLimit": ErrorCode(False, "30-second limit for "
                                                            "this number; retried"),
    "LimitExceeded.PhoneNumberOneHourLimit": ErrorCode(True, "the hourly limit for this "
                                                       "number is reached; not retried"),
    "LimitExceeded.DeliveryFrequencyLimit": ErrorCode(True, "the provider's sending limit "
                                                      "is reached; not retried"),
    "RequestLimitExceeded": ErrorCode(False, "too many calls; retried"),
    "InternalError.Timeout": ErrorCode(False, "the provider timed out; retried"),
}
RETRIED = ("InternalError", "RequestLimitExceeded", "ResourceUnavailable")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(headers: Mapping[str, str], body: bytes, timestamp: int, secret_id: str,
         secret_key: str, service: str = SERVICE) -> str:
    """The ``Authorization`` of a ``POST /`` request signing ``headers`` (TC3-HMAC-SHA256)."""
    headers = {name.lower(): value for name, value in headers.items()}
    names = ";".join(sorted(headers))
    lines = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in sorted(headers))
    canonical = "\n".join(["POST", "/", "", lines, names, hashlib.sha256(body).hexdigest()])
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join([ALGORITHM, str(timestamp), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), day), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={names}, "
            f"Signature={signature}")


def positional(value: Any) -> dict[str, str]:
    """A voluptuous validator: ``params`` keyed 1..n, the template's {1}, {2}... in order."""
    params: dict[str, str] = PARAMS(value)
    try:
        order = sorted(params, key=int)
    except ValueError:
        raise vol.Invalid(Text("notify.params_numbered")) from None
    if [int(key) for key in order] != list(range(1, len(order) + 1)):
        raise vol.Invalid(Text("notify.params_range", count=len(order), found=", ".join(order)))
    return {key: params[key] for key in order}


class TencentSmsTarget(ProviderTarget):
    """One notifier: its SDK app, sign name, template and recipients."""

    label = NAME
    provider = "Tencent SMS"

    async def send(self, message: Message, timeout: float) -> None:
        """Send the template SMS to every recipient not yet served; DeliveryError if refused."""
        config = self.config
        wanted = recipients(config["phones"], message, "phone", config["to_account"], e164)
        numbers = self.progress.pending(message, wanted)[:MAX_NUMBERS]
        if not numbers:
            return
        params = render_params(config["params"], message)
        body = json.dumps({
            "PhoneNumberSet": numbers, "SmsSdkAppId": config["sdk_app_id"],
            "SignName": config["sign_name"], "TemplateId": config["template_id"],
            "TemplateParamSet": list(params.values()),
        }, ensure_ascii=False).encode()
        endpoint = config["endpoint"]
        now = int(time.time())
        signed = {"content-type": CONTENT_TYPE, "host": urlsplit(endpoint).netloc,
                  "x-tc-action": ACTION}
        headers = {
            "Authorization": sign(signed, body, now, config["secret_id"], config["secret_key"]),
            "Content-Type": CONTENT_TYPE, "Host": signed["host"], "X-TC-Action": ACTION,
            "X-TC-Version": VERSION, "X-TC-Timestamp": str(now), "X-TC-Region": config["region"],
        }
        reply = await exchange("POST", endpoint + "/", timeout, provider=self.provider,
                               headers=headers, data=body)
        answer = reply.body.get("Response")
        if not isinstance(answer, Mapping):
            raise DeliveryError(Text("notify.tencent_no_response", status=reply.status),
                                permanent=reply.status < 500)
        error = answer.get("Error")
        if isinstance(error, Mapping):
            raise provider_error(self.provider, str(error.get("Code")),
                                 str(error.get("Message") or ""), ERRORS, RETRIED,
                                 reply.status)
        self._settle(message, numbers, wanted, answer.get("SendStatusSet") or [])

    def _settle(self, message: Message, numbers: list[str], wanted: list[str],
                statuses: list[Any]) -> None:
        """Remember the numbers that took the SMS; raise for the first that did not."""
        failed: list[DeliveryError] = []
        by_number = {str(status.get("PhoneNumber")): status for status in statuses
                     if isinstance(status, Mapping)}
        for number in numbers:
            status = by_number.get(number)
            code = str(status.get("Code")) if status else "no status"
            if code == "Ok":
                self.progress.served(message, [number])
            else:
                failed.append(provider_error(self.provider, code, str(
                    (status or {}).get("Message") or ""), ERRORS, RETRIED))
        if failed:
            first = failed[0]
            raise DeliveryError(Text("notify.numbers_refused", failed=len(failed),
                                     total=len(numbers), first=text_of(first)),
                                permanent=all(error.permanent for error in failed))
        self.finish(message, wanted)


class TencentSmsType(ProviderType):
    """``type: tencent_sms``."""

    name = NAME
    recipient = staticmethod(phone_number)

    def keys(self) -> dict[Any, Any]:
        """Credentials, SDK app, sign name, template, its parameters, region."""
        return {
            vol.Required("secret_id"): secret,
            vol.Required("secret_key"): secret,
            vol.Required("sdk_app_id"): cv.string,
            vol.Required("sign_name"): cv.string,
            vol.Required("template_id"): cv.string,
            vol.Optional("params", default={}): positional,
            vol.Optional("region", default="ap-guangzhou"): cv.string,
            vol.Optional("endpoint", default=DEFAULT_ENDPOINT): endpoint_url,
        }

    def target(self, config: Mapping[str, Any]) -> Target:
        """A call takes every number."""
        return TencentSmsTarget(config)
