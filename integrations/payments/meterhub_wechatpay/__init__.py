"""WeChat Pay API v3 (微信支付): JSAPI, Native and H5 orders straight to a landlord's merchant
account.

Every request is signed with the merchant's API key (``WECHATPAY2-SHA256-RSA2048``: the
method, the path with its query, a timestamp, a nonce and the body, one per line); every
answer and notification is verified with the platform's public key (``platform_public_key``
with its ``PUB_KEY_ID_...``) or a platform certificate, by the ``Wechatpay-Serial`` it names;
the notification's resource is decrypted with the APIv3 key (AEAD_AES_256_GCM). Amounts are
fen. See docs/payments.md.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import voluptuous as vol

from hub import validation as cv
from hub.hookspecs import hookimpl
from hub.i18n import Text
from hub.prepaid.payments import (
    BillLine,
    Channel,
    Checkout,
    HttpProvider,
    Notification,
    NotificationRejected,
    OrderRequest,
    Payment,
    PaymentProviderType,
    PaymentState,
    ProviderError,
    PublicKey,
    RefundOutcome,
    RefundState,
    Reply,
    load_certificate,
    load_private_key,
    load_public_key,
    rsa_sign,
    rsa_verify,
)
from hub.util.dt import site_time_zone

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

SCHEME = "WECHATPAY2-SHA256-RSA2048"
PAID_STATES = {"SUCCESS": PaymentState.PAID, "REFUND": PaymentState.PAID,
               "NOTPAY": PaymentState.PENDING, "USERPAYING": PaymentState.PENDING,
               "CLOSED": PaymentState.CLOSED, "REVOKED": PaymentState.CLOSED,
               "PAYERROR": PaymentState.CLOSED}
REFUND_STATES = {"SUCCESS": RefundState.SUCCESS, "PROCESSING": RefundState.PROCESSING,
                 "CLOSED": RefundState.FAILED, "ABNORMAL": RefundState.FAILED}


def _api_v3_key(value: Any) -> str:
    text = cv.string(value)
    if len(text.encode()) != 32:
        raise vol.Invalid(Text("wechatpay.api_v3_key"))
    return text


KEYS: dict[Any, Any] = {
    vol.Required("mchid"): cv.string,  # 商户号
    vol.Required("appid"): cv.string,  # the Official Account's AppID
    vol.Required("serial_no"): cv.string,  # the merchant API certificate's serial number
    vol.Required("private_key"): cv.string,  # apiclient_key.pem (from !secret)
    vol.Required("api_v3_key"): _api_v3_key,
    vol.Optional("platform_public_key"): cv.string,  # 微信支付公钥
    vol.Optional("platform_public_key_id"): cv.string,  # PUB_KEY_ID_...
    vol.Optional("platform_certificates", default=[]): cv.ListOf(cv.string, allow_single=True),
    vol.Optional("h5", default=False): cv.boolean,  # H5 payment (H5支付) activated: the WAP channel
    vol.Optional("max_age", default="5m"): cv.duration,  # oldest notification timestamp
    vol.Optional("timeout", default="10s"): cv.duration,
}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(site_time_zone()).isoformat(timespec="seconds")


class WechatPay(HttpProvider):
    """One WeChat Pay merchant account (API v3)."""

    method = "wechat"
    channels: tuple[Channel, ...] = (Channel.JSAPI, Channel.NATIVE)
    wap_phone_only = True  # H5 refuses a desktop browser and a payer_ip that is not its own
    production_url = "https://api.mch.weixin.qq.com"
    sandbox_url = None  # API v3 has no public sandbox host: base_url is required

    def __init__(self, config: Mapping[str, Any], clock: Callable[[], datetime]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only when configured

        super().__init__(config, clock)
        self.mchid: str = config["mchid"]
        self.appid: str = config["appid"]
        if config.get("h5"):  # a phone browser outside WeChat: WeChat's H5 cashier page
            self.channels = (*self.channels, Channel.WAP)
        self.key = load_private_key(config["private_key"])
        self.aead = AESGCM(config["api_v3_key"].encode())
        self.platform: dict[str, PublicKey] = {}
        if config.get("platform_public_key"):
            key_id = config.get("platform_public_key_id")
            if not key_id:
                raise ValueError(Text("wechatpay.key_id"))
            self.platform[key_id] = load_public_key(config["platform_public_key"])
        for pem in config.get("platform_certificates", []):
            serial, key = load_certificate(pem)
            self.platform[serial] = key
        if not self.platform:
            raise ValueError(Text("wechatpay.platform_key"))
        self.max_age: timedelta = config.get("max_age") or timedelta(minutes=5)

    # --- the wire -------------------------------------------------------------------

    def authorization(self, method: str, path: str, body: str) -> str:
        """The ``Authorization`` header of a request (path with its query string)."""
        timestamp, nonce = str(int(self.clock().timestamp())), secrets.token_hex(16)
        message = f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"
        return (f'{SCHEME} mchid="{self.mchid}",nonce_str="{nonce}",'
                f'signature="{rsa_sign(self.key, message)}",timestamp="{timestamp}",'
                f'serial_no="{self.config["serial_no"]}"')

    def verified(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """Why a signed answer or notification is not genuine (None: it is)."""
        try:
            timestamp, nonce = headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"]
            signature, serial = headers["Wechatpay-Signature"], headers["Wechatpay-Serial"]
        except KeyError as err:
            return f"header {err.args[0]} missing"
        key = self.platform.get(serial)
        if key is None:
            return f"unknown platform key or certificate '{serial}'"
        try:
            moment = int(timestamp)
        except ValueError:
            return f"Wechatpay-Timestamp '{timestamp}' is not a number"
        age = self.clock().timestamp() - moment
        if abs(age) > self.max_age.total_seconds():
            return (f"Wechatpay-Timestamp {timestamp} is {int(age)} s from now (more than "
                    f"{int(self.max_age.total_seconds())} s): a replay or a wrong clock")
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        if not rsa_verify(key, message, signature):
            return "bad signature (Wechatpay-Signature)"
        return None

    async def call(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                   ) -> tuple[int, dict[str, Any]]:
        """A signed request; the verified answer (status, JSON); ProviderError when the
        host cannot be reached, fails (5xx) or answers unsigned."""
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) if body else ""
        headers = {"Authorization": self.authorization(method, path, text),
                   "Accept": "application/json", "User-Agent": "meterhub"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self.http.request(method, self.base_url + path, data=text.encode(),
                                         headers=headers) as resp:
                raw = await resp.read()
                status, answer_headers = resp.status, resp.headers
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ProviderError(Text("wechatpay.unreachable", method=method, path=path,
                                     reason=str(err) or type(err).__name__)) \
                from None
        if status >= 500:
            raise ProviderError(Text("wechatpay.http", method=method, path=path, status=status,
                                     body=repr(raw[:200])))
        if status < 300:
            problem = self.verified(answer_headers, raw)
            if problem is not None:
                raise ProviderError(Text("wechatpay.not_genuine", method=method, path=path,
                                         reason=problem))
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            raise ProviderError(Text("wechatpay.not_json", method=method, path=path,
                                     body=repr(raw[:200]))) from None
        return status, data

    @staticmethod
    def _error(status: int, data: Mapping[str, Any]) -> str:
        return f"HTTP {status} {data.get('code', '')}: {data.get('message', '')}".strip()

    # --- orders ---------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Checkout:
        """A JSAPI (prepay_id → the payer's JSAPI parameters), Native (code_url) or H5 order
        (the WAP channel: h5_url, the cashier page the payer's phone browser opens)."""
        body: dict[str, Any] = {
            "appid": self.appid, "mchid": self.mchid, "description": request.description,
            "out_trade_no": request.order_id, "time_expire": _rfc3339(request.expires),
            "notify_url": request.notify_url,
            "amount": {"total": request.amount_fen, "currency": "CNY"}}
        kind = str(request.channel)
        if request.channel == Channel.JSAPI:
            body["payer"] = {"openid": request.openid}
        elif request.channel == Channel.WAP:
            if not request.payer_ip:  # WeChat compares it with the address opening h5_url
                raise ProviderError("no payer_ip")  # i18n: internal (the book refuses first)
            kind = "h5"
            body["scene_info"] = {"payer_client_ip": request.payer_ip,
                                  "h5_info": {"type": "Wap"}}
        status, data = await self.call("POST", f"/v3/pay/transactions/{kind}", body)
        if status >= 300:
            raise ProviderError(self._error(status, data))
        if request.channel == Channel.NATIVE:
            return Checkout({"code_url": data["code_url"]})
        if request.channel == Channel.WAP:
            return Checkout({"redirect_url": h5_url(str(data["h5_url"]), request)})
        return Checkout({"jsapi": self.jsapi_params(data["prepay_id"])})

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """What ``WeixinJSBridge.invoke('getBrandWCPayRequest', ...)`` takes (paySign over
        appId, timeStamp, nonceStr and package, one per line)."""
        stamp, nonce, package = str(int(self.clock().timestamp())), secrets.token_hex(16), \
            f"prepay_id={prepay_id}"
        sign = rsa_sign(self.key, f"{self.appid}\n{stamp}\n{nonce}\n{package}\n")
        return {"appId": self.appid, "timeStamp": stamp, "nonceStr": nonce,
                "package": package, "signType": "RSA", "paySign": sign}

    def _payment(self, order_id: str, data: Mapping[str, Any]) -> Payment:
        state = PAID_STATES.get(str(data.get("trade_state")), PaymentState.PENDING)
        if state != PaymentState.PAID:
            return Payment(order_id, state)
        amount = data.get("amount") or {}
        paid = data.get("success_time")
        return Payment(order_id, state, str(data["transaction_id"]), int(amount["total"]),
                       datetime.fromisoformat(paid) if paid else None,
                       (data.get("payer") or {}).get("openid"))

    async def query_order(self, order_id: str) -> Payment:
        """GET /v3/pay/transactions/out-trade-no/{id}."""
        status, data = await self.call(
            "GET", f"/v3/pay/transactions/out-trade-no/{quote(order_id)}?mchid={self.mchid}")
        if status == 404 or data.get("code") == "ORDER_NOT_EXIST":
            return Payment(order_id, PaymentState.UNKNOWN)
        if status >= 300:
            raise ProviderError(self._error(status, data))
        if data.get("mchid") != self.mchid or data.get("out_trade_no") != order_id:
            raise ProviderError(Text("wechatpay.other_order", order=order_id))
        return self._payment(order_id, data)

    async def close_order(self, order_id: str) -> None:
        """POST .../close (204)."""
        status, data = await self.call(
            "POST", f"/v3/pay/transactions/out-trade-no/{quote(order_id)}/close",
            {"mchid": self.mchid})
        if status >= 300:
            raise ProviderError(self._error(status, data))

    # --- refunds --------------------------------------------------------------------

    def _refund(self, refund_id: str, status: int, data: Mapping[str, Any]) -> RefundOutcome:
        if status >= 300:
            return RefundOutcome(refund_id, RefundState.FAILED, error=self._error(status, data))
        return RefundOutcome(refund_id, REFUND_STATES.get(str(data.get("status")),
                                                          RefundState.PROCESSING),
                             data.get("refund_id"))

    async def refund(self, order_id: str, refund_id: str, amount_fen: int, total_fen: int,
                     reason: str, notify_url: str) -> RefundOutcome:
        """POST /v3/refund/domestic/refunds."""
        status, data = await self.call("POST", "/v3/refund/domestic/refunds", {
            "out_trade_no": order_id, "out_refund_no": refund_id, "reason": reason[:80],
            "notify_url": notify_url,
            "amount": {"refund": amount_fen, "total": total_fen, "currency": "CNY"}})
        return self._refund(refund_id, status, data)

    async def query_refund(self, order_id: str, refund_id: str) -> RefundOutcome:
        """GET /v3/refund/domestic/refunds/{out_refund_no}."""
        status, data = await self.call("GET", f"/v3/refund/domestic/refunds/{quote(refund_id)}")
        return self._refund(refund_id, status, data)

    # --- notifications --------------------------------------------------------------

    def decrypt(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        """The plaintext JSON of an AEAD_AES_256_GCM ``resource``."""
        from cryptography.exceptions import InvalidTag

        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                f"resource algorithm {resource.get('algorithm')!r}")
        try:
            plain = self.aead.decrypt(str(resource["nonce"]).encode(),
                                      base64.b64decode(resource["ciphertext"]),
                                      str(resource.get("associated_data", "")).encode())
            found: dict[str, Any] = json.loads(plain)
        except (InvalidTag, KeyError, ValueError) as err:
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                f"resource cannot be decrypted with the APIv3 key "
                                       f"({type(err).__name__})") from None
        return found

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Signature, freshness, decryption, our merchant: a payment or a refund."""
        if str(headers.get("Wechatpay-Signature", "")).startswith("WECHATPAY/SIGNTEST/"):
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                "a signature probe (WECHATPAY/SIGNTEST)")
        problem = self.verified(headers, body)
        if problem is not None:
            raise NotificationRejected(problem)
        try:
            envelope = json.loads(body)
            event_type, resource = str(envelope["event_type"]), envelope["resource"]
        except (ValueError, KeyError, TypeError):
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                "body is not a WeChat Pay notification") from None
        data = self.decrypt(resource)
        if data.get("mchid") != self.mchid:
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                f"for merchant {data.get('mchid')!r}, not {self.mchid}")
        order_id = str(data.get("out_trade_no", ""))
        if event_type.startswith("REFUND."):
            state = REFUND_STATES.get(str(data.get("refund_status")), RefundState.FAILED)
            return Notification(order_id, refund=RefundOutcome(
                str(data.get("out_refund_no")), state, data.get("refund_id")), detail=event_type)
        if data.get("appid") != self.appid:
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                f"for app {data.get('appid')!r}, not {self.appid}")
        if (data.get("amount") or {}).get("currency", "CNY") != "CNY":
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                "currency is not CNY")
        return Notification(order_id, payment=self._payment(order_id, data),
                            detail=f"{event_type} {data.get('trade_state')}")

    def acknowledge(self, ok: bool, message: str) -> Reply:
        """200 without a body; else 500 (retry) with JSON ``code``/``message``."""
        if ok:
            return Reply(200, "", "text/plain")
        return Reply(500, json.dumps({"code": "FAIL", "message": message[:200]},
                                     ensure_ascii=False), "application/json")

    # --- the daily bill -------------------------------------------------------------

    async def daily_bill(self, day: date) -> list[BillLine] | None:
        """GET /v3/bill/tradebill, then its download_url (hash checked): SUCCESS lines are
        payments, REFUND lines refunds."""
        status, data = await self.call(
            "GET", f"/v3/bill/tradebill?bill_date={day.isoformat()}&bill_type=ALL")
        if data.get("code") == "NO_STATEMENT_EXIST":
            return []
        if status >= 300:
            raise ProviderError(self._error(status, data))
        url = str(data["download_url"])
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            async with self.http.get(url, headers={
                    "Authorization": self.authorization("GET", path, ""),
                    "User-Agent": "meterhub"}) as resp:
                raw = await resp.read()
                ok = resp.status == 200
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ProviderError(Text("wechatpay.bill_download", reason=str(err))) from None
        if not ok or hashlib.sha1(raw).hexdigest() != str(data.get("hash_value", "")).lower():
            raise ProviderError(Text("wechatpay.bill_failed"))
        return parse_bill(raw.decode("utf-8-sig"))


def h5_url(url: str, request: OrderRequest) -> str:
    """WeChat's h5_url with ``redirect_url`` (where WeChat sends the payer back, paid or not),
    naming the order as Alipay's return does (``out_trade_no``), URL-encoded as WeChat asks."""
    if not request.return_url:
        return url
    back = request.return_url + ("&" if "?" in request.return_url else "?") + \
        f"out_trade_no={quote(request.order_id)}"
    return f"{url}&redirect_url={quote(back, safe='')}"


def _fen(text: str) -> int:
    yuan, _, cents = text.strip().partition(".")
    return int(yuan) * 100 + int((cents + "00")[:2])


def parse_bill(text: str) -> list[BillLine]:
    """The lines of a trade bill (CSV, each field prefixed with a backtick; the summary
    after the line ``总交易单数`` is left out)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [name.strip() for name in rows[0]]
    col = {name: header.index(name) for name in header}
    lines: list[BillLine] = []
    for raw in rows[1:]:
        if not raw or not raw[0].startswith("`"):
            break  # the summary
        row = [field.strip().lstrip("`") for field in raw]
        state = row[col["交易状态"]]
        if state == "SUCCESS":
            lines.append(BillLine(row[col["商户订单号"]], row[col["微信订单号"]],
                                  _fen(row[col.get("订单金额", col.get("应结订单金额", 0))])))
        elif state == "REFUND":
            lines.append(BillLine(row[col["商户订单号"]], row[col["微信订单号"]],
                                  _fen(row[col["退款金额"]]), row[col["商户退款单号"]]))
    return lines



WECHATPAY = PaymentProviderType("wechatpay", KEYS, WechatPay, "WeChat Pay API v3")


@hookimpl
def register_payment_providers() -> list[PaymentProviderType]:
    """WeChat Pay."""
    return [WECHATPAY]
