"""Alipay (支付宝) open platform: precreate (a QR code) and WAP pay, straight to a landlord's app.

Requests go to the gateway as forms signed with RSA2 (SHA256withRSA over the parameters
sorted by name, ``key=value`` joined by ``&``, ``sign`` left out); answers are verified over
the exact text of their ``<method>_response`` node, and asynchronous notifications over their
parameters without ``sign`` and ``sign_type``, both with Alipay's public key. Amounts are
yuan text with two decimals on the wire, fen inside. See docs/payments.md.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import voluptuous as vol

from hub import validation as cv
from hub.hookspecs import hookimpl
from hub.i18n import Text, text_of
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
    RefundOutcome,
    RefundState,
    Reply,
    load_private_key,
    load_public_key,
    rsa_sign,
    rsa_verify,
)
from hub.util.dt import site_time_zone

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

KEYS: dict[Any, Any] = {
    vol.Required("app_id"): cv.string,
    vol.Required("private_key"): cv.string,  # the app's private key (from !secret)
    vol.Required("alipay_public_key"): cv.string,  # 支付宝公钥
    vol.Optional("seller_id"): cv.string,  # the landlord's PID (2088...): checked if given
    vol.Optional("max_age", default="1h"): cv.duration,  # oldest notify_time accepted
    # the app may download the daily bill (对账单 permission); false: query each order
    vol.Optional("daily_bill", default=True): cv.boolean,
    vol.Optional("timeout", default="10s"): cv.duration,
}
TRADE_STATES = {"TRADE_SUCCESS": PaymentState.PAID, "TRADE_FINISHED": PaymentState.PAID,
                "WAIT_BUYER_PAY": PaymentState.PENDING, "TRADE_CLOSED": PaymentState.CLOSED}
OK = "10000"
NOT_EXIST = "ACQ.TRADE_NOT_EXIST"


def sign_content(params: Mapping[str, Any], keep_empty: bool = False) -> str:
    """The text RSA2 signs: the parameters sorted by name, ``key=value`` joined by ``&``,
    without ``sign``; a request leaves out empty values, a notification keeps every one
    (its ``sign_type`` is taken out before)."""
    return "&".join(f"{key}={params[key]}" for key in sorted(params)
                    if key != "sign" and (keep_empty or params[key] not in (None, "")))


def _fen(text: Any) -> int:
    try:
        amount = Decimal(str(text))
    except InvalidOperation:
        raise ValueError(Text("alipay.amount", value=repr(text))) from None
    return int((amount * 100).to_integral_value())


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def _local(moment: datetime) -> str:
    return moment.astimezone(site_time_zone()).strftime("%Y-%m-%d %H:%M:%S")


class Alipay(HttpProvider):
    """One Alipay app (the landlord's own)."""

    method = "alipay"
    channels = (Channel.PRECREATE, Channel.WAP)
    production_url = "https://openapi.alipay.com/gateway.do"
    sandbox_url = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"

    def __init__(self, config: Mapping[str, Any], clock: Callable[[], datetime]) -> None:
        super().__init__(config, clock)
        self.app_id: str = config["app_id"]
        self.key = load_private_key(config["private_key"])
        self.alipay_key = load_public_key(config["alipay_public_key"])
        self.max_age: timedelta = config.get("max_age") or timedelta(hours=1)

    # --- the wire -------------------------------------------------------------------

    def signed(self, method: str, biz: Mapping[str, Any], **extra: str) -> dict[str, str]:
        """The public and business parameters of a call, with their ``sign``."""
        params = {"app_id": self.app_id, "method": method, "format": "JSON",
                  "charset": "utf-8", "sign_type": "RSA2", "timestamp": _local(self.clock()),
                  "version": "1.0",
                  "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
                  **extra}
        params["sign"] = rsa_sign(self.key, sign_content(params))
        return params

    async def call(self, method: str, biz: Mapping[str, Any], **extra: str) -> dict[str, Any]:
        """A signed call; its verified ``<method>_response`` node."""
        try:
            async with self.http.post(self.base_url, params={"charset": "utf-8"},
                                      data=self.signed(method, biz, **extra)) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ProviderError(Text("alipay.unreachable", method=method,
                                     reason=str(err) or type(err).__name__)) from None
        if status != 200:
            raise ProviderError(Text("alipay.http", method=method, status=status,
                                     body=repr(text[:200])))
        node = method.replace(".", "_") + "_response"
        try:
            raw, data, signature = self._node(text, node)
        except ValueError as err:
            raise ProviderError(Text("alipay.bad_answer", method=method,
                                     reason=text_of(err))) from None
        if signature is None and data.get("code") == OK:
            raise ProviderError(Text("alipay.unsigned", method=method))
        if signature is not None and not rsa_verify(self.alipay_key, raw, signature):
            raise ProviderError(Text("alipay.bad_signature", method=method))
        return data

    @staticmethod
    def _node(text: str, node: str) -> tuple[str, dict[str, Any], str | None]:
        """The exact text of a response node (what Alipay signed), its data, its sign."""
        marker = f'"{node}"'
        at = text.find(marker)
        if at < 0:
            raise ValueError(Text("alipay.no_node", node=node))
        start = text.index("{", at + len(marker))
        data, end = json.JSONDecoder().raw_decode(text, start)
        whole = json.loads(text)
        return text[start:end], data, whole.get("sign")

    @staticmethod
    def _error(data: Mapping[str, Any]) -> str:
        return (f"{data.get('code')} {data.get('msg', '')} {data.get('sub_code', '')} "
                f"{data.get('sub_msg', '')}").strip()

    # --- orders ---------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Checkout:
        """alipay.trade.precreate (qr_code) or alipay.trade.wap.pay (a redirect URL)."""
        biz: dict[str, Any] = {
            "out_trade_no": request.order_id, "total_amount": _yuan(request.amount_fen),
            "subject": request.description[:256], "time_expire": _local(request.expires)}
        if request.channel == Channel.WAP:
            biz["product_code"] = "QUICK_WAP_WAY"
            extra = {"notify_url": request.notify_url}
            if request.return_url:
                extra["return_url"] = request.return_url
                biz["quit_url"] = request.return_url
            params = self.signed("alipay.trade.wap.pay", biz, **extra)
            return Checkout({"redirect_url": f"{self.base_url}?{urlencode(params)}"})
        data = await self.call("alipay.trade.precreate", biz, notify_url=request.notify_url)
        if data.get("code") != OK:
            raise ProviderError(self._error(data))
        return Checkout({"qr_code": data["qr_code"]})

    def _payment(self, order_id: str, data: Mapping[str, Any]) -> Payment:
        state = TRADE_STATES.get(str(data.get("trade_status")), PaymentState.PENDING)
        if state != PaymentState.PAID:
            return Payment(order_id, state)
        paid = data.get("gmt_payment") or data.get("send_pay_date")
        return Payment(order_id, state, str(data["trade_no"]), _fen(data["total_amount"]),
                       datetime.fromisoformat(paid).replace(tzinfo=site_time_zone())
                       if paid else None, data.get("buyer_id") or data.get("buyer_user_id"))

    async def query_order(self, order_id: str) -> Payment:
        """alipay.trade.query."""
        data = await self.call("alipay.trade.query", {"out_trade_no": order_id})
        if data.get("sub_code") == NOT_EXIST:
            return Payment(order_id, PaymentState.UNKNOWN)
        if data.get("code") != OK:
            raise ProviderError(self._error(data))
        if data.get("out_trade_no") != order_id:
            raise ProviderError(Text("alipay.other_order", order=order_id))
        return self._payment(order_id, data)

    async def close_order(self, order_id: str) -> None:
        """alipay.trade.close (an order never opened is closed already)."""
        data = await self.call("alipay.trade.close", {"out_trade_no": order_id})
        if data.get("code") != OK and data.get("sub_code") != NOT_EXIST:
            raise ProviderError(self._error(data))

    # --- refunds --------------------------------------------------------------------

    async def refund(self, order_id: str, refund_id: str, amount_fen: int, total_fen: int,
                     reason: str, notify_url: str) -> RefundOutcome:
        """alipay.trade.refund (synchronous: ``fund_change`` Y is done)."""
        data = await self.call("alipay.trade.refund", {
            "out_trade_no": order_id, "refund_amount": _yuan(amount_fen),
            "out_request_no": refund_id, "refund_reason": reason[:256]})
        if data.get("code") != OK:
            return RefundOutcome(refund_id, RefundState.FAILED, error=self._error(data))
        if data.get("fund_change") == "Y":
            return RefundOutcome(refund_id, RefundState.SUCCESS, data.get("trade_no"))
        return await self.query_refund(order_id, refund_id)

    async def query_refund(self, order_id: str, refund_id: str) -> RefundOutcome:
        """alipay.trade.fastpay.refund.query."""
        data = await self.call("alipay.trade.fastpay.refund.query", {
            "out_trade_no": order_id, "out_request_no": refund_id})
        if data.get("code") != OK:
            raise ProviderError(self._error(data))
        if data.get("refund_status") == "REFUND_SUCCESS":
            return RefundOutcome(refund_id, RefundState.SUCCESS, data.get("trade_no"))
        if data.get("refund_amount"):
            return RefundOutcome(refund_id, RefundState.PROCESSING, data.get("trade_no"))
        return RefundOutcome(refund_id, RefundState.FAILED, error="Alipay has no such refund")

    # --- notifications --------------------------------------------------------------

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """RSA2 over the form without sign and sign_type; our app (and seller); a fresh
        notify_time: a payment, a closed trade, or a refund (refund_fee with out_biz_no)."""
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                    strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                "body is not an Alipay notification form") from None
        signature = params.pop("sign", "")
        if params.pop("sign_type", "RSA2") != "RSA2":
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                "sign_type is not RSA2")
        if not signature or not rsa_verify(self.alipay_key, sign_content(params, keep_empty=True),
                                                 signature):
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                "bad signature (sign)")
        if params.get("app_id") != self.app_id:
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                f"for app {params.get('app_id')!r}, not {self.app_id}")
        seller = self.config.get("seller_id")
        if seller and params.get("seller_id") != seller:
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                f"for seller {params.get('seller_id')!r}, not {seller}")
        try:
            sent = datetime.fromisoformat(params["notify_time"]).replace(
                tzinfo=site_time_zone())
        except (KeyError, ValueError):
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                "notify_time missing or not a time") from None
        age = self.clock() - sent
        if abs(age) > self.max_age:
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                f"notify_time {params['notify_time']} is "
                                       f"{int(age.total_seconds())} s from now (more than "
                                       f"{int(self.max_age.total_seconds())} s): a replay")
        order_id = params.get("out_trade_no", "")
        detail = f"{params.get('notify_type', '')} {params.get('trade_status', '')}"
        try:
            if params.get("refund_fee") and params.get("out_biz_no"):
                return Notification(order_id, refund=RefundOutcome(
                    params["out_biz_no"], RefundState.SUCCESS, params.get("trade_no")),
                    detail=detail)
            return Notification(order_id, payment=self._payment(order_id, params),
                                detail=detail)
        except (KeyError, ValueError) as err:
            raise NotificationRejected(  # i18n: internal (answered to the provider; logged)
                f"notification incomplete: {err}") from None

    def acknowledge(self, ok: bool, message: str) -> Reply:
        """The text ``success`` stops Alipay's retries; anything else has it retry."""
        return Reply(200, "success") if ok else Reply(400, "fail")

    # --- the daily bill -------------------------------------------------------------

    async def daily_bill(self, day: date) -> list[BillLine] | None:
        """alipay.data.dataservice.bill.downloadurl.query (bill_type trade), then the zip
        it points to: the detail CSV (GBK) of the day's payments and refunds; None (query
        each order) when the entry says ``daily_bill: false``."""
        if not self.config.get("daily_bill", True):
            return None
        data = await self.call("alipay.data.dataservice.bill.downloadurl.query",
                               {"bill_type": "trade", "bill_date": day.isoformat()})
        if data.get("sub_code") == "isp.bill_not_exist":
            return []
        if data.get("code") != OK:
            raise ProviderError(self._error(data))
        try:
            async with self.http.get(str(data["bill_download_url"])) as resp:
                raw = await resp.read()
                ok = resp.status == 200
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ProviderError(Text("alipay.bill_download", reason=str(err))) from None
        if not ok:
            raise ProviderError(Text("alipay.bill_failed"))
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                name = next(n for n in archive.namelist()
                            if n.endswith(".csv") and "汇总" not in n)
                text = archive.read(name).decode("gbk")
        except (zipfile.BadZipFile, StopIteration, UnicodeDecodeError) as err:
            raise ProviderError(Text("alipay.bill_unreadable", reason=type(err).__name__)) from None
        return parse_bill(text)


def parse_bill(text: str) -> list[BillLine]:
    """The lines of a trade bill's detail CSV: comment lines start with ``#``; 业务类型
    交易 lines are payments, 退款 lines refunds (退款批次号/请求号: the refund's number)."""
    rows = [row for row in csv.reader(io.StringIO(text))
            if row and not row[0].lstrip().startswith("#")]
    if not rows:
        return []
    col = {name.strip(): index for index, name in enumerate(rows[0])}
    lines: list[BillLine] = []
    for raw in rows[1:]:
        row = [cell.strip() for cell in raw]
        if len(row) < len(col):
            continue
        kind, amount = row[col["业务类型"]], _fen(row[col["订单金额（元）"]])
        if kind == "交易":
            lines.append(BillLine(row[col["商户订单号"]], row[col["支付宝交易号"]], amount))
        elif kind == "退款":
            lines.append(BillLine(row[col["商户订单号"]], row[col["支付宝交易号"]], abs(amount),
                                  row[col["退款批次号/请求号"]]))
    return lines



ALIPAY = PaymentProviderType("alipay", KEYS, Alipay, "Alipay open platform (RSA2)")


@hookimpl
def register_payment_providers() -> list[PaymentProviderType]:
    """Alipay."""
    return [ALIPAY]
