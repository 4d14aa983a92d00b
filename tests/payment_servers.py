"""Local stand-ins for WeChat Pay API v3 and Alipay's gateway, on loopback, following their
documented wire formats; the keys are generated here (merchant and platform alike).

Each server checks the merchant's request signatures with the provider's own SDK code
(``wechatpayv3.utils.rsa_verify``, ``alipay.AliPay.verify``) and signs its answers and
notifications as the provider does (Alipay's notifications with ``AliPay.sign_data``), so
what the plugins produce and accept is cross-checked against the official SDKs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import time
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from alipay import AliPay
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from receiver import serve_app
from wechatpayv3.utils import load_private_key, load_public_key, rsa_sign, rsa_verify

CHINA = timezone(timedelta(hours=8))
API_V3_KEY = "0123456789abcdef0123456789ABCDEF"  # 32 bytes
MCHID = "1900000109"
APPID = "wx8888888888888888"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PLATFORM_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
ALIPAY_APP_ID = "2021000000000001"
SELLER_ID = "2088000000000001"


@dataclass(frozen=True)
class KeyPair:
    """An RSA key pair as PEM text."""

    private: str
    public: str

    @classmethod
    def generate(cls) -> KeyPair:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return cls(private, public)


_KEYS: dict[str, KeyPair] = {}


def keys(name: str) -> KeyPair:
    """A key pair generated once per test session: merchant, platform, app, alipay."""
    if name not in _KEYS:
        _KEYS[name] = KeyPair.generate()
    return _KEYS[name]


def yuan(fen: int) -> str:
    """Fen as Alipay's amount text."""
    return f"{Decimal(fen) / 100:.2f}"


@dataclass
class Trade:
    """An order as the provider keeps it."""

    order_id: str
    amount_fen: int
    notify_url: str
    state: str  # WeChat trade_state / Alipay trade_status
    transaction_id: str = ""
    openid: str | None = None
    return_url: str | None = None  # Alipay WAP: where the payer's browser goes back
    payer_ip: str | None = None  # WeChat Pay H5: the payer's address
    paid_at: datetime | None = None
    refunds: dict[str, int] = field(default_factory=dict)

    def paid(self, state: str, prefix: str) -> Trade:
        """Paid now, with a new transaction id."""
        self.state, self.paid_at = state, datetime.now(CHINA)
        self.transaction_id = f"{prefix}{time.time_ns()}"
        return self


# --- WeChat Pay API v3 ---------------------------------------------------------------------

@dataclass
class WechatServer:
    """The merchant API of WeChat Pay v3 (the parts MeterHub uses)."""

    port: int = 0
    trades: dict[str, Trade] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    refund_status: str = "SUCCESS"  # what a refund request answers
    down: bool = False  # orders answered SYSTEM_ERROR (WeChat Pay's "try again later")
    openids: dict[str, str] = field(default_factory=dict)  # openid → the AppID it is of
    bill_queries: list[str] = field(default_factory=list)
    serial: str = PLATFORM_KEY_ID  # the platform key or certificate it signs with
    refund_notifications: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    h5_visits: list[dict[str, str]] = field(default_factory=list)  # H5 cashier page opened

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self, **more: Any) -> dict[str, Any]:
        """A ``providers:`` entry for this server."""
        return {"provider": "wechatpay", "base_url": self.url, "mchid": MCHID, "appid": APPID,
                "serial_no": MERCHANT_SERIAL, "private_key": keys("merchant").private,
                "api_v3_key": API_V3_KEY, "platform_public_key": keys("platform").public,
                "platform_public_key_id": PLATFORM_KEY_ID, **more}

    # signing as the platform does
    def signed_headers(self, body: bytes, *, timestamp: int | None = None,
                       key: str | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16)
        message = f"{stamp}\n{nonce}\n{body.decode()}\n"
        return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": rsa_sign(load_private_key(key or keys("platform").private),
                                                message),
                "Wechatpay-Serial": self.serial,
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}

    def _answer(self, status: int, data: dict[str, Any] | None) -> web.Response:
        body = json.dumps(data, ensure_ascii=False).encode() if data is not None else b""
        return web.Response(status=status, body=body, headers=self.signed_headers(body),
                            content_type="application/json" if body else None)

    def _check_auth(self, request: web.Request, body: str) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return "no WECHATPAY2-SHA256-RSA2048 Authorization"
        fields = dict(part.split("=", 1) for part in auth.split(" ", 1)[1].split(","))
        values = {k.strip(): v.strip('"') for k, v in fields.items()}
        if values.get("mchid") != MCHID or values.get("serial_no") != MERCHANT_SERIAL:
            return "wrong mchid or serial_no"
        path = request.path_qs
        # the SDK's verifier builds "{timestamp}\n{nonce}\n{body}\n": the request's message
        # is "{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"
        ok = rsa_verify(f"{request.method}\n{path}\n{values['timestamp']}", values["nonce_str"],
                        body, values["signature"], load_public_key(keys("merchant").public))
        return None if ok else "signature does not verify"

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.text()
        self.requests.append((request.method, request.path))
        if request.path.startswith(("/billfile/", "/h5pay")):
            return await handler(request)  # the download is signed, checked the same way;
            # the H5 cashier is the payer's browser
        problem = self._check_auth(request, body)
        if problem:
            return self._answer(401, {"code": "SIGN_ERROR", "message": problem})
        return await handler(request)

    # orders
    async def create(self, request: web.Request) -> web.Response:
        data = await request.json()
        kind = request.match_info["kind"]
        if data["mchid"] != MCHID or data["appid"] != APPID:
            return self._answer(400, {"code": "PARAM_ERROR", "message": "mchid/appid"})
        if self.down:
            return self._answer(500, {"code": "SYSTEM_ERROR", "message": "系统错误"})
        openid = data.get("payer", {}).get("openid")
        if kind == "jsapi" and not openid:
            return self._answer(400, {"code": "PARAM_ERROR", "message": "payer.openid"})
        if kind == "jsapi" and self.openids and self.openids.get(openid) != data["appid"]:
            return self._answer(400, {"code": "PARAM_ERROR", "message": "appid和openid不匹配"})
        scene = data.get("scene_info") or {}
        if kind == "h5" and (not scene.get("payer_client_ip")
                             or (scene.get("h5_info") or {}).get("type") != "Wap"):
            return self._answer(400, {"code": "PARAM_ERROR", "message": "scene_info"})
        self.trades[data["out_trade_no"]] = Trade(
            data["out_trade_no"], data["amount"]["total"], data["notify_url"], "NOTPAY",
            openid=data.get("payer", {}).get("openid"), payer_ip=scene.get("payer_client_ip"))
        if kind == "native":
            return self._answer(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={kind}"})
        if kind == "h5":
            return self._answer(200, {"h5_url": f"{self.url}/h5pay?prepay_id=wx"
                                                f"{secrets.token_hex(8)}&package=2769185"})
        return self._answer(200, {"prepay_id": f"wx{secrets.token_hex(8)}"})

    async def h5_cashier(self, request: web.Request) -> web.Response:
        """WeChat's H5 cashier page as the payer's phone opens h5_url (it checks the page it
        came from: the Referer)."""
        self.h5_visits.append({"referer": request.headers.get("Referer", ""),
                               "redirect_url": request.query.get("redirect_url", "")})
        return web.Response(text="<h1>微信支付</h1>", content_type="text/html")

    def transaction(self, trade: Trade, amount_fen: int | None = None) -> dict[str, Any]:
        """A transaction as WeChat Pay describes it (query answer, notification resource)."""
        data: dict[str, Any] = {
            "appid": APPID, "mchid": MCHID, "out_trade_no": trade.order_id,
            "trade_state": trade.state, "trade_state_desc": trade.state,
            "amount": {"total": trade.amount_fen if amount_fen is None else amount_fen,
                       "currency": "CNY"}}
        if trade.transaction_id:
            data.update({"transaction_id": trade.transaction_id, "trade_type": "NATIVE",
                         "bank_type": "OTHERS", "payer": {"openid": trade.openid or "o-x"},
                         "success_time": (trade.paid_at or datetime.now(CHINA)).isoformat(
                             timespec="seconds")})
            data["amount"]["payer_total"] = data["amount"]["total"]
        return data

    async def query(self, request: web.Request) -> web.Response:
        trade = self.trades.get(request.match_info["order_id"])
        if trade is None or request.query.get("mchid") != MCHID:
            return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "no such order"})
        return self._answer(200, self.transaction(trade))

    async def close(self, request: web.Request) -> web.Response:
        trade = self.trades.get(request.match_info["order_id"])
        if trade is None:
            return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "no such order"})
        if trade.state == "SUCCESS":
            return self._answer(400, {"code": "ORDERPAID", "message": "paid"})
        trade.state = "CLOSED"
        return self._answer(204, None)

    async def refund(self, request: web.Request) -> web.Response:
        data = await request.json()
        trade = self.trades.get(data["out_trade_no"])
        if trade is None or trade.state not in ("SUCCESS", "REFUND"):
            return self._answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "no order"})
        amount = data["amount"]["refund"]
        if amount + sum(trade.refunds.values()) > trade.amount_fen \
                or data["amount"]["total"] != trade.amount_fen:
            return self._answer(400, {"code": "NOT_ENOUGH", "message": "refund too large"})
        trade.refunds[data["out_refund_no"]] = amount
        trade.state = "REFUND"
        return self._answer(200, {"refund_id": f"50{secrets.token_hex(8)}",
                                  "out_refund_no": data["out_refund_no"],
                                  "status": self.refund_status,
                                  "amount": {"refund": amount, "total": trade.amount_fen}})

    async def refund_query(self, request: web.Request) -> web.Response:
        refund_no = request.match_info["refund_id"]
        for trade in self.trades.values():
            if refund_no in trade.refunds:
                return self._answer(200, {"out_refund_no": refund_no, "status": "SUCCESS",
                                          "refund_id": "50" + refund_no})
        return self._answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "no refund"})

    def bill_text(self) -> bytes:
        """Today's trade bill, as WeChat Pay formats it (backtick-prefixed CSV)."""
        header = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,"
                  "交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,"
                  "商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
                  "手续费,费率,订单金额,申请退款金额,费率备注")
        lines = [header]
        for trade in self.trades.values():
            if trade.transaction_id:
                money = yuan(trade.amount_fen)
                cells = ["2026-01-01 10:00:00", APPID, MCHID, "0", "", trade.transaction_id,
                         trade.order_id, "o-x", "NATIVE", "SUCCESS", "OTHERS", "CNY", money,
                         "0.00", "0", "0", "0.00", "0.00", "", "", "recharge", "", "0.00",
                         "0.60%", money, "0.00", ""]
                lines.append(",".join(f"`{cell}" for cell in cells))
        lines.append("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,"
                     "订单总金额,申请退款总金额")
        return ("\n".join(lines) + "\n").encode()

    async def tradebill(self, request: web.Request) -> web.Response:
        self.bill_queries.append(request.query_string)
        text = self.bill_text()
        return self._answer(200, {"hash_type": "SHA1",
                                  "hash_value": hashlib.sha1(text).hexdigest(),
                                  "download_url": f"{self.url}/billfile/"
                                                  f"{request.query['bill_date']}?token=x"})

    async def billfile(self, request: web.Request) -> web.Response:
        problem = self._check_auth(request, "")
        if problem:
            return web.Response(status=401, text=problem)
        return web.Response(body=self.bill_text(), content_type="text/plain")

    # what the test does as the payer and as the platform
    def pay(self, order_id: str) -> Trade:
        """The payer pays the order (the money is at WeChat Pay now)."""
        return self.trades[order_id].paid("SUCCESS", "4200")

    def notification(self, trade: Trade, *, amount_fen: int | None = None,
                     timestamp: int | None = None, sign_key: str | None = None,
                     api_v3_key: str = API_V3_KEY, event_type: str = "TRANSACTION.SUCCESS",
                     resource: dict[str, Any] | None = None) -> tuple[dict[str, str], bytes]:
        """The payment notification WeChat Pay posts (headers, body): the transaction
        encrypted with AEAD_AES_256_GCM under the APIv3 key, the body signed."""
        plain = json.dumps(resource or self.transaction(trade, amount_fen),
                           ensure_ascii=False).encode()
        nonce, associated = secrets.token_hex(6), "transaction"
        ciphertext = AESGCM(api_v3_key.encode()).encrypt(nonce.encode(), plain,
                                                         associated.encode())
        body = json.dumps({
            "id": secrets.token_hex(18), "create_time": datetime.now(CHINA).isoformat(),
            "resource_type": "encrypt-resource", "event_type": event_type,
            "summary": "支付成功",
            "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64.b64encode(ciphertext).decode(),
                         "associated_data": associated, "nonce": nonce}},
            ensure_ascii=False).encode()
        return self.signed_headers(body, timestamp=timestamp, key=sign_key), body

    async def deliver(self, trade: Trade, notification: tuple[dict[str, str], bytes] | None
                      = None) -> tuple[int, str]:
        """Post a notification to the order's notify_url; (status, body) of the answer."""
        headers, body = notification or self.notification(trade)
        async with aiohttp.ClientSession() as session, session.post(
                trade.notify_url, data=body,
                headers={**headers, "Content-Type": "application/json"}) as resp:
            return resp.status, await resp.text()


@asynccontextmanager
async def wechat_server() -> AsyncIterator[WechatServer]:
    """A started WeChat Pay stand-in."""
    state = WechatServer()
    app = web.Application(middlewares=[state.guard])
    app.router.add_post("/v3/pay/transactions/{kind:jsapi|native|h5}", state.create)
    app.router.add_get("/h5pay", state.h5_cashier)
    app.router.add_get("/v3/pay/transactions/out-trade-no/{order_id}", state.query)
    app.router.add_post("/v3/pay/transactions/out-trade-no/{order_id}/close", state.close)
    app.router.add_post("/v3/refund/domestic/refunds", state.refund)
    app.router.add_get("/v3/refund/domestic/refunds/{refund_id}", state.refund_query)
    app.router.add_get("/v3/bill/tradebill", state.tradebill)
    app.router.add_get("/billfile/{day}", state.billfile)
    async with serve_app(app) as port:
        state.port = port
        yield state


# --- Alipay --------------------------------------------------------------------------------

@dataclass
class AlipayServer:
    """Alipay's gateway (the methods MeterHub uses)."""

    port: int = 0
    trades: dict[str, Trade] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the SDK, turned around: it checks the app's requests with the app's public key,
        # and signs answers and notifications with Alipay's private key
        self.checker = AliPay(ALIPAY_APP_ID, app_private_key_string=keys("alipay").private,
                              alipay_public_key_string=keys("app").public)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gateway.do"

    def config(self, **more: Any) -> dict[str, Any]:
        """A ``providers:`` entry for this server."""
        return {"provider": "alipay", "base_url": self.url, "app_id": ALIPAY_APP_ID,
                "private_key": keys("app").private,
                "alipay_public_key": keys("alipay").public, "seller_id": SELLER_ID, **more}

    def _answer(self, method: str, data: dict[str, Any]) -> web.Response:
        node = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        sign = self.checker._sign(node)  # the SDK's RSA2 signer
        text = f'{{"{method.replace(".", "_")}_response":{node},"sign":"{sign}"}}'
        return web.Response(text=text, content_type="application/json")

    def _verified(self, params: dict[str, Any]) -> bool:
        """Whether a request's ``sign`` verifies with the app's key (and names the app)."""
        signature = str(params.pop("sign", ""))
        # a request signs every non-empty parameter but sign (sign_type included), sorted
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v != "")
        return bool(self.checker._verify(content, signature)) \
            and params.get("app_id") == ALIPAY_APP_ID

    async def gateway(self, request: web.Request) -> web.Response:
        params = dict(await request.post())
        method = str(params.get("method"))
        self.methods.append(method)
        if not self._verified(params):
            return self._answer(method, {"code": "40002", "msg": "Invalid Arguments",
                                         "sub_code": "isv.invalid-signature",
                                         "sub_msg": "验签出错"})
        biz = json.loads(str(params["biz_content"]))
        handler = getattr(self, "do_" + method.replace(".", "_"))
        return self._answer(method, handler(biz, params))

    async def cashier(self, request: web.Request) -> web.Response:
        """The payer's browser opening ``alipay.trade.wap.pay`` (the signed gateway URL the
        merchant redirects to): the trade is opened and the cashier page shown."""
        params = dict(request.query)
        method = str(params.get("method"))
        self.methods.append(method)
        if method != "alipay.trade.wap.pay" or not self._verified(params):
            return web.Response(status=400, text="验签出错", content_type="text/html")
        biz = json.loads(str(params["biz_content"]))
        if biz.get("product_code") != "QUICK_WAP_WAY":
            return web.Response(status=400, text="product_code", content_type="text/html")
        self.trades.setdefault(biz["out_trade_no"], Trade(
            biz["out_trade_no"], int(Decimal(biz["total_amount"]) * 100),
            str(params["notify_url"]), "WAIT_BUYER_PAY", return_url=params.get("return_url")))
        return web.Response(text=f"<h1>支付宝收银台</h1><p id='amount'>{biz['total_amount']}</p>",
                            content_type="text/html")

    def do_alipay_trade_precreate(self, biz: dict[str, Any], params: dict[str, Any],
                                  ) -> dict[str, Any]:
        self.trades[biz["out_trade_no"]] = Trade(
            biz["out_trade_no"], int(Decimal(biz["total_amount"]) * 100),
            str(params["notify_url"]), "WAIT_BUYER_PAY")
        return {"code": "10000", "msg": "Success", "out_trade_no": biz["out_trade_no"],
                "qr_code": f"https://qr.alipay.com/{secrets.token_hex(6)}"}

    def do_alipay_trade_query(self, biz: dict[str, Any], params: dict[str, Any],
                              ) -> dict[str, Any]:
        trade = self.trades.get(biz["out_trade_no"])
        if trade is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                    "sub_msg": "交易不存在"}
        answer = {"code": "10000", "msg": "Success", "out_trade_no": trade.order_id,
                  "trade_status": trade.state, "total_amount": yuan(trade.amount_fen)}
        if trade.transaction_id:
            answer.update({"trade_no": trade.transaction_id, "buyer_user_id": "2088102",
                           "send_pay_date": (trade.paid_at or datetime.now(CHINA)).strftime(
                               "%Y-%m-%d %H:%M:%S")})
        return answer

    def do_alipay_trade_close(self, biz: dict[str, Any], params: dict[str, Any],
                              ) -> dict[str, Any]:
        trade = self.trades.get(biz["out_trade_no"])
        if trade is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
        trade.state = "TRADE_CLOSED"
        return {"code": "10000", "msg": "Success", "out_trade_no": trade.order_id}

    def do_alipay_trade_refund(self, biz: dict[str, Any], params: dict[str, Any],
                               ) -> dict[str, Any]:
        trade = self.trades.get(biz["out_trade_no"])
        amount = int(Decimal(biz["refund_amount"]) * 100)
        if trade is None or not trade.transaction_id:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
        if amount + sum(trade.refunds.values()) > trade.amount_fen:
            return {"code": "40004", "msg": "Business Failed",
                    "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "sub_msg": "退款金额超限"}
        trade.refunds[biz["out_request_no"]] = amount
        return {"code": "10000", "msg": "Success", "trade_no": trade.transaction_id,
                "out_trade_no": trade.order_id, "fund_change": "Y",
                "refund_fee": yuan(sum(trade.refunds.values()))}

    def do_alipay_trade_fastpay_refund_query(self, biz: dict[str, Any], params: dict[str, Any],
                                             ) -> dict[str, Any]:
        trade = self.trades.get(biz["out_trade_no"])
        if trade is None or biz["out_request_no"] not in trade.refunds:
            return {"code": "10000", "msg": "Success"}
        return {"code": "10000", "msg": "Success", "refund_status": "REFUND_SUCCESS",
                "refund_amount": yuan(trade.refunds[biz["out_request_no"]]),
                "trade_no": trade.transaction_id}

    def do_alipay_data_dataservice_bill_downloadurl_query(
            self, biz: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        return {"code": "10000", "msg": "Success", "bill_download_url":
                f"http://127.0.0.1:{self.port}/bill/{biz['bill_date']}.zip?token=x"}

    def bill_zip(self) -> bytes:
        """The day's trade bill as Alipay ships it: a zip of GBK CSVs, details and summary,
        with ``#`` comment lines around the table."""
        header = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,"
                  "操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,"
                  "集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
                  "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,"
                  "分润（元）,备注")
        lines = ["#支付宝业务明细查询", "#账号：[20880000000000010156]", header]
        for trade in self.trades.values():
            if trade.transaction_id:
                lines.append(",".join([
                    trade.transaction_id, trade.order_id, "交易", "recharge",
                    "2026-01-01 10:00:00", "2026-01-01 10:00:05", "", "", "", "", "buyer",
                    yuan(trade.amount_fen), yuan(trade.amount_fen), "0.00", "0.00", "0.00",
                    "0.00", "0.00", "", "0.00", "0.00", "", "-0.06", "0.00", ""]))
                for refund_no, fen in trade.refunds.items():
                    lines.append(",".join([
                        trade.transaction_id, trade.order_id, "退款", "recharge",
                        "2026-01-01 10:00:00", "2026-01-01 11:00:00", "", "", "", "", "buyer",
                        "-" + yuan(fen), "-" + yuan(fen), "0.00", "0.00", "0.00", "0.00",
                        "0.00", "", "0.00", "0.00", refund_no, "0.00", "0.00", ""]))
        lines += ["#-----------------------------------------业务明细列表结束", "#导出时间：x"]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("20880000000000010156_20260101_业务明细.csv",
                             "\r\n".join(lines).encode("gbk"))
            archive.writestr("20880000000000010156_20260101_业务明细(汇总).csv",
                             "#汇总\r\n".encode("gbk"))
        return out.getvalue()

    async def bill(self, request: web.Request) -> web.Response:
        return web.Response(body=self.bill_zip(), content_type="application/zip")

    def pay(self, order_id: str) -> Trade:
        """The payer pays the order."""
        return self.trades[order_id].paid("TRADE_SUCCESS", "2026")

    def notification(self, trade: Trade, *, amount_fen: int | None = None,
                     notify_time: datetime | None = None, app_id: str = ALIPAY_APP_ID,
                     tamper: bool = False) -> bytes:
        """The asynchronous notification form Alipay posts, signed by the SDK (sign_data)."""
        data = {
            "notify_time": (notify_time or datetime.now(CHINA)).strftime("%Y-%m-%d %H:%M:%S"),
            "notify_type": "trade_status_sync", "notify_id": secrets.token_hex(16),
            "app_id": app_id, "charset": "utf-8", "version": "1.0",
            "trade_no": trade.transaction_id, "out_trade_no": trade.order_id,
            "trade_status": trade.state, "seller_id": SELLER_ID, "buyer_id": "2088102",
            "total_amount": yuan(trade.amount_fen if amount_fen is None else amount_fen),
            "receipt_amount": yuan(trade.amount_fen),
            "gmt_payment": (trade.paid_at or datetime.now(CHINA)).strftime("%Y-%m-%d %H:%M:%S"),
            "subject": "recharge"}
        form = self.checker.sign_data(data) + "&sign_type=RSA2"
        if tamper:
            form = form.replace("total_amount=", "total_amount=1", 1)
        return form.encode()

    async def deliver(self, trade: Trade, body: bytes | None = None) -> tuple[int, str]:
        """Post a notification to the order's notify_url; (status, body) of the answer."""
        async with aiohttp.ClientSession() as session, session.post(
                trade.notify_url, data=body or self.notification(trade), headers={
                    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}) as resp:
            return resp.status, await resp.text()


def form(body: bytes) -> dict[str, str]:
    """A notification form as a dict."""
    return dict(parse_qsl(body.decode()))


@asynccontextmanager
async def alipay_server() -> AsyncIterator[AlipayServer]:
    """A started Alipay gateway stand-in."""
    state = AlipayServer()
    app = web.Application()
    app.router.add_post("/gateway.do", state.gateway)
    app.router.add_get("/gateway.do", state.cashier)
    app.router.add_get("/bill/{name}", state.bill)
    async with serve_app(app) as port:
        state.port = port
        yield state
