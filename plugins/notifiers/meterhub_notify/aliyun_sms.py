"""``type: aliyun_sms``: template SMS through Alibaba Cloud's Dysmsapi ``SendSms`` (阿里云短信).

A request is the RPC API called with the V3 signature (``ACS3-HMAC-SHA256``, the one the
provider asks new callers to use: https://help.aliyun.com/document_detail/2593177.html):
``POST /`` with the parameters in the query, headers ``x-acs-action: SendSms``,
``x-acs-version: 2017-05-25``, ``x-acs-date``, ``x-acs-signature-nonce`` and the SHA-256 of
the (empty) body, signed with HMAC-SHA256 over the canonical request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import voluptuous as vol

from hub import validation as cv

from .notifier import Message, Target
from .providers import (
    PARAMS,
    ErrorCode,
    ProviderTarget,
    ProviderType,
    endpoint_url,
    exchange,
    national,
    phone_number,
    provider_error,
    recipients,
    render_params,
    secret,
)

NAME = "aliyun_sms"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
ACTION = "SendSms"
VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
MAX_NUMBERS = 1000  # SendSms takes at most this many numbers per call

# Error codes of SendSms (https://help.aliyun.com/zh/sms/developer-reference/api-error-codes)
# and of the API gateway's signature check.
ERRORS: dict[str, ErrorCode] = {
    "isv.BUSINESS_LIMIT_CONTROL": ErrorCode(True, "the provider's sending limit for this "
                                            "number (per minute, hour or day) is reached; "
                                            "not retried"),
    "isv.MOBILE_NUMBER_ILLEGAL": ErrorCode(True, "the phone number is not valid"),
    "isv.MOBILE_COUNT_OVER_LIMIT": ErrorCode(True, "too many phone numbers in one call"),
    "isv.SMS_SIGNATURE_ILLEGAL": ErrorCode(True, "the sign name (签名) is not approved"),
    "isv.SMS_SIGN_NAME_ILLEGAL": ErrorCode(True, "the sign name (签名) is not approved"),
    "isv.SMS_TEMPLATE_ILLEGAL": ErrorCode(True, "the template code is not approved"),
    "isv.SMS_CONTENT_CODE_ILLEGAL": ErrorCode(True, "the template code is not approved"),
    "isv.TEMPLATE_MISSING_PARAMETERS": ErrorCode(True, "a template parameter is missing: "
                                                 "check the notifier's params"),
    "isv.INVALID_JSON_PARAM": ErrorCode(True, "the template parameters are not valid"),
    "isv.INVALID_PARAMETERS": ErrorCode(True, "a parameter is not valid"),
    "isv.PARAM_LENGTH_LIMIT": ErrorCode(True, "a template parameter is too long"),
    "isv.AMOUNT_NOT_ENOUGH": ErrorCode(True, "the account's balance is too low"),
    "isv.OUT_OF_SERVICE": ErrorCode(True, "the SMS service is suspended (balance)"),
    "isv.PRODUCT_UN_SUBSCRIPT": ErrorCode(True, "the SMS service is not activated"),
    "isv.ACCOUNT_NOT_EXISTS": ErrorCode(True, "the account does not exist"),
    "isv.BLACK_KEY_CONTROL_LIMIT": ErrorCode(True, "a parameter holds a blocked word"),
    "isp.RAM_PERMISSION_DENY": ErrorCode(True, "the AccessKey may not send SMS (RAM)"),
    "SignatureDoesNotMatch": ErrorCode(True, "the signature was refused: check "
                                       "access_key_secret"),
    "IncompleteSignature": ErrorCode(True, "the signature was refused: check "
                                     "access_key_secret"),
    "InvalidAccessKeyId.NotFound": ErrorCode(True, "unknown access_key_id"),
    "InvalidAccessKeyId.Inactive": ErrorCode(True, "the access_key_id is disabled"),
    "InvalidTimeStamp.Expired": ErrorCode(True, "the request time was refused: check the "
                                          "hub's clock"),
    "SignatureNonceUsed": ErrorCode(False, "retried with a new nonce"),
    "isp.SYSTEM_ERROR": ErrorCode(False, "the provider's system error; retried"),
    "isp.GATEWAY_ERROR": ErrorCode(False, "the provider's gateway error; retried"),
    "Throttling.User": ErrorCode(False, "too many calls per second; retried"),
    "ServiceUnavailable": ErrorCode(False, "the service is unavailable; retried"),
}
RETRIED = ("isp.", "Throttling", "ServiceUnavailable", "InternalError")


def percent(text: str) -> str:
    """RFC 3986 encoding as the signature wants it (``%20`` for space, ``~`` kept)."""
    return quote(text, safe="-_.~")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def sign(method: str, host: str, query: Mapping[str, str], headers: Mapping[str, str],
         body: bytes, key_id: str, key_secret: str) -> dict[str, str]:
    """The request's ``x-acs-*`` and ``host`` headers plus ``Authorization`` (ACS3)."""
    signed = {"host": host, **{name.lower(): value for name, value in headers.items()},
              "x-acs-content-sha256": sha256_hex(body)}
    names = sorted(signed)
    canonical = "\n".join([
        method, "/", "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(query.items())),
        "".join(f"{name}:{signed[name].strip()}\n" for name in names),
        ";".join(names), signed["x-acs-content-sha256"]])
    to_sign = f"{ALGORITHM}\n{sha256_hex(canonical.encode())}"
    signature = hmac.new(key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    signed["Authorization"] = (f"{ALGORITHM} Credential={key_id},"
                               f"SignedHeaders={';'.join(names)},Signature={signature}")
    return signed


class AliyunSmsTarget(ProviderTarget):
    """One notifier: its sign name, template and recipients."""

    label = NAME
    provider = "Aliyun SMS"

    async def send(self, message: Message, timeout: float) -> None:
        """Send the template SMS to every recipient not yet served; DeliveryError if refused."""
        config = self.config
        wanted = recipients(config["phones"], message, "phone", config["to_account"],
                            national)
        numbers = self.progress.pending(message, wanted)[:MAX_NUMBERS]
        if not numbers:
            return
        params = render_params(config["params"], message)
        query = {"PhoneNumbers": ",".join(numbers), "SignName": config["sign_name"],
                 "TemplateCode": config["template_code"]}
        if params:
            query["TemplateParam"] = json.dumps(params, ensure_ascii=False,
                                                separators=(",", ":"))
        endpoint = config["endpoint"]
        headers = sign("POST", urlsplit(endpoint).netloc, query, {
            "x-acs-action": ACTION, "x-acs-version": VERSION,
            "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": secrets.token_hex(16)}, b"",
            config["access_key_id"], config["access_key_secret"])
        url = endpoint + "/?" + "&".join(f"{percent(k)}={percent(v)}" for k, v in query.items())
        reply = await exchange("POST", url, timeout, provider=self.provider, headers=headers,
                               data=b"")
        code = str(reply.body.get("Code") or f"HTTP {reply.status}")
        if code != "OK":
            raise provider_error(self.provider, code, str(reply.body.get("Message") or ""),
                                 ERRORS, RETRIED, reply.status)
        self.progress.served(message, numbers)
        self.finish(message, wanted)


class AliyunSmsType(ProviderType):
    """``type: aliyun_sms``."""

    name = NAME
    recipient = staticmethod(phone_number)

    def keys(self) -> dict[Any, Any]:
        """Credentials, sign name, template code, its parameters."""
        return {
            vol.Required("access_key_id"): secret,
            vol.Required("access_key_secret"): secret,
            vol.Required("sign_name"): cv.string,
            vol.Required("template_code"): cv.string,
            vol.Optional("params", default={}): PARAMS,
            vol.Optional("endpoint", default=DEFAULT_ENDPOINT): endpoint_url,
        }

    def target(self, config: Mapping[str, Any]) -> Target:
        """A call takes every number."""
        return AliyunSmsTarget(config)
