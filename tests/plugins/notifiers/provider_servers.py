"""Local stand-ins of the SMS and WeChat providers: their documented APIs on loopback.

Each server checks a request the way the provider documents it — the signature recomputed
here from the published algorithm (not with MeterHub's signing code), the key looked up by
its id — and answers success or the provider's errors. ``plan`` holds the codes of the next
answers (then success); ``received`` what was accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from receiver import serve_app

# Accounts the messages are about: r302 has a phone and a WeChat openid, r404 nothing.
ACCOUNTS = """
accounts:
  - {id: r302, name: 张三, contacts: {phone: "+86 138 0013 8000", wechat: oTenant302openid}}
  - {id: r404, name: 王五}
"""


def fast(indent: int) -> str:
    """Quick delivery keys for a notifier entry in block style: 2 retries, 0.1 s apart."""
    return f"\n{' ' * indent}".join(["timeout: 5", "retries: 2", "retry_delay: 0.1",
                                      "max_retry_delay: 0.2"])


# --- the documented algorithms, written from the providers' pages -------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def acs3_signature(secret: str, method: str, path: str, query: dict[str, str],
                   headers: dict[str, str], signed: list[str], body: bytes) -> str:
    """Alibaba Cloud V3 (ACS3-HMAC-SHA256, help.aliyun.com/document_detail/2593177.html)."""
    def enc(text: str) -> str:
        return quote(text, safe="~")  # RFC 3986: only A-Za-z0-9-_.~ stay as they are

    query_text = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(query.items()))
    header_text = "".join(f"{name}:{headers[name].strip()}\n" for name in signed)
    canonical = "\n".join([method, path, query_text, header_text, ";".join(signed),
                           _sha256(body)])
    to_sign = "ACS3-HMAC-SHA256\n" + _sha256(canonical.encode())
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_signature(secret_key: str, service: str, timestamp: int, headers: dict[str, str],
                  signed: list[str], body: bytes) -> str:
    """Tencent Cloud TC3-HMAC-SHA256 (tencentcloud.com/document/api/1021/34193)."""
    # CanonicalHeaders: names and values lower-case, trimmed, in the order of SignedHeaders
    header_text = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed)
    canonical = "\n".join(["POST", "/", "", header_text, ";".join(signed), _sha256(body)])
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), f"{day}/{service}/tc3_request",
                         _sha256(canonical.encode())])

    def mac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(("TC3" + secret_key).encode(), day), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _auth_fields(header: str, algorithm: str) -> dict[str, str]:
    if not header.startswith(algorithm + " "):
        return {}
    fields = {}
    for part in header[len(algorithm) + 1:].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


# --- the servers ----------------------------------------------------------------------------


@dataclass
class Provider:
    """A provider's local server: keys it knows, planned answers, what it accepted."""

    keys: dict[str, str]
    plan: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def endpoint(self) -> str:
        """The base URL to configure as the notifier's ``endpoint``."""
        return f"http://127.0.0.1:{self.port}"

    def next_code(self, ok: str) -> str:
        """The planned answer code, or ``ok``."""
        return self.plan.pop(0) if self.plan else ok


@dataclass
class Aliyun(Provider):
    """Dysmsapi SendSms (RPC style, V3 signature), 2017-05-25."""

    nonces: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.Response:
        """Check the signature, then answer as planned."""
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        fields = _auth_fields(headers.get("authorization", ""), "ACS3-HMAC-SHA256")
        secret = self.keys.get(fields.get("Credential", ""))
        if secret is None:
            return self._refuse("InvalidAccessKeyId.NotFound", "Specified access key is not "
                                "found.", 404)
        signed = fields.get("SignedHeaders", "").split(";")
        required = {"host", "x-acs-action", "x-acs-version", "x-acs-date",
                    "x-acs-signature-nonce", "x-acs-content-sha256"}
        if not required <= set(signed) or any(name not in headers for name in signed):
            return self._refuse("IncompleteSignature", "The request signature does not "
                                "conform to Aliyun standards.", 400)
        if headers["x-acs-content-sha256"] != _sha256(body):
            return self._refuse("IncompleteSignature", "content sha256 mismatch", 400)
        expected = acs3_signature(secret, request.method, request.path, dict(request.query),
                                  headers, signed, body)
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return self._refuse("SignatureDoesNotMatch", "Specified signature is not matched "
                                "with our calculation.", 400)
        nonce = headers["x-acs-signature-nonce"]
        if nonce in self.nonces:
            return self._refuse("SignatureNonceUsed", "Specified signature nonce was used "
                                "already.", 400)
        self.nonces.add(nonce)
        if (headers["x-acs-action"], headers["x-acs-version"]) != ("SendSms", "2017-05-25"):
            return self._refuse("InvalidAction.NotFound", "unknown action", 404)
        code = self.next_code("OK")
        if code != "OK":
            return web.json_response({"Code": code, "Message": f"planned {code}",
                                      "RequestId": "r-1"})
        self.received.append(dict(request.query))
        return web.json_response({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0",
                                  "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"})

    def _refuse(self, code: str, message: str, status: int) -> web.Response:
        self.refused.append(code)
        return web.json_response({"Code": code, "Message": message, "RequestId": "r-0"},
                                 status=status)


@dataclass
class Tencent(Provider):
    """SMS SendSms, API 3.0 (2021-01-11), TC3-HMAC-SHA256."""

    statuses: list[dict[str, str]] = field(default_factory=list)  # number -> code, per call

    async def handle(self, request: web.Request) -> web.Response:
        """Check the signature and the timestamp, then answer per number as planned."""
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        fields = _auth_fields(headers.get("authorization", ""), "TC3-HMAC-SHA256")
        secret_id, _, scope = fields.get("Credential", "").partition("/")
        secret_key = self.keys.get(secret_id)
        if secret_key is None:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        if abs(time.time() - timestamp) > 300:
            return self._error("AuthFailure.SignatureExpire", "Signature expired.")
        day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        signed = fields.get("SignedHeaders", "").split(";")
        if scope != f"{day}/sms/tc3_request" or not {"content-type", "host"} <= set(signed):
            return self._error("AuthFailure.SignatureFailure", "bad credential scope")
        expected = tc3_signature(secret_key, "sms", timestamp, headers, signed, body)
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return self._error("AuthFailure.SignatureFailure", "The provided credentials "
                               "could not be validated.")
        if (headers.get("x-tc-action"), headers.get("x-tc-version")) != ("SendSms",
                                                                         "2021-01-11"):
            return self._error("InvalidAction", "unknown action")
        code = self.next_code("Ok")
        if code != "Ok" and not code.startswith("each:"):
            return self._error(code, f"planned {code}")
        payload = json.loads(body)
        self.received.append(payload)
        per_number = self.statuses.pop(0) if self.statuses else {}
        return web.json_response({"Response": {"RequestId": "a0aabda6", "SendStatusSet": [
            {"SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": number,
             "Fee": 1, "SessionContext": "", "Code": per_number.get(number, "Ok"),
             "Message": "send success" if per_number.get(number, "Ok") == "Ok" else "planned",
             "IsoCode": "CN"} for number in payload["PhoneNumberSet"]]}})

    def _error(self, code: str, message: str) -> web.Response:
        self.refused.append(code)
        return web.json_response({"Response": {"Error": {"Code": code, "Message": message},
                                               "RequestId": "b0"}})


@dataclass
class Wechat(Provider):
    """The Official Account API: /cgi-bin/token and /cgi-bin/message/template/send."""

    expires_in: int = 7200
    token: str | None = None
    token_fetches: int = 0

    async def handle_token(self, request: web.Request) -> web.Response:
        """Give a new token for a known AppID and its AppSecret."""
        query = request.query
        if query.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        secret = self.keys.get(query.get("appid", ""))
        if secret is None:
            self.refused.append("40013")
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if not hmac.compare_digest(secret, query.get("secret", "")):
            self.refused.append("40125")
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.token_fetches += 1
        self.token = f"ACCESS_TOKEN_{self.token_fetches}_{time.monotonic_ns()}"
        return web.json_response({"access_token": self.token, "expires_in": self.expires_in})

    def expire_token(self) -> None:
        """The token stops working (another program fetched a new one)."""
        self.token = None

    async def handle_send(self, request: web.Request) -> web.Response:
        """Send with a current token; else 40001."""
        if self.token is None or request.query.get("access_token") != self.token:
            self.refused.append("40001")
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential, "
                                      "access_token is invalid or not latest"})
        body = await request.json()
        code = int(self.next_code("0"))
        if code != 0:
            self.refused.append(str(code))
            return web.json_response({"errcode": code, "errmsg": "planned"})
        self.received.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": 200228332})


@asynccontextmanager
async def serving(provider: Provider) -> AsyncIterator[Any]:
    """The provider's server on 127.0.0.1 (a free port), stopped (bounded) afterwards."""
    app = web.Application()
    if isinstance(provider, Wechat):
        app.router.add_get("/cgi-bin/token", provider.handle_token)
        app.router.add_post("/cgi-bin/message/template/send", provider.handle_send)
    elif isinstance(provider, Aliyun | Tencent):
        app.router.add_post("/", provider.handle)
    async with serve_app(app) as port:
        provider.port = port
        yield provider
