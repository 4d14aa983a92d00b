"""The ``payments:`` block: per-landlord merchant accounts, and errors with file and line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from common import bounded, free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from payment_servers import API_V3_KEY, PLATFORM_KEY_ID, keys, wechat_server
from payment_support import book_of, call, payment_hub, site_yaml

from hub.bootstrap import prepare
from hub.ledger import Ledger
from hub.prepaid.payments import Payment, PaymentState
from hub.storage import OrderRow
from hub.util.dt import utcnow
from meterhub_alipay import Alipay


@bounded(60)
async def test_each_landlord_is_paid_on_their_own_merchant_account(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(
            tmp_path, [wx.config(), wx.config(landlord="wang")]) as hub:
        wang = await call(hub, "create_order", account_id="r101", amount="10",
                          provider="wechatpay", channel="native")  # r101's landlord: wang
        site = await call(hub, "create_order", account_id="r102", amount="10",
                          provider="wechatpay", channel="native")
        assert wang["landlord"] == "wang" and site["landlord"] == ""
        assert wx.trades[wang["order_id"]].notify_url.endswith("/api/payments/wechatpay/wang/"
                                                              "notify")
        assert wx.trades[site["order_id"]].notify_url.endswith("/api/payments/wechatpay/_/"
                                                              "notify")
        # wang's payment told at the site's address is not for that account: refused
        trade = wx.pay(wang["order_id"])
        trade.notify_url = wx.trades[site["order_id"]].notify_url
        status, _text = await wx.deliver(trade)
        assert status == 500
        trade.notify_url = trade.notify_url.replace("/_/", "/wang/")
        assert await wx.deliver(trade) == (200, "")
        assert hub.component("ledger", Ledger).balance("r101") == Decimal("10.00")


@bounded(60)
async def test_a_paid_order_left_uncredited_by_a_crash_is_credited_by_the_watch(
        tmp_path: Path) -> None:
    async with payment_hub(tmp_path, [{"provider": "cash"}]) as hub:
        book = book_of(hub)
        row = OrderRow("mh-crashed", "r102", "cash", "", "counter", 2500, "created", 1, 1, 2)
        await book.storage.payments_write(lambda s: s.add_order(row))
        # written paid (the step before the credit), then the hub died
        await book.storage.payments_write(lambda s: s.update_order(
            "mh-crashed", 2, state="paid", transaction_id="R-9", paid_fen=2500))
        await book.check_open_orders()
        assert (await call(hub, "order", order_id="mh-crashed"))["state"] == "credited"
        await book.apply_payment("mh-crashed", Payment("mh-crashed", PaymentState.PAID, "R-9",
                                                       2500), "test")
        assert hub.component("ledger", Ledger).balance("r102") == Decimal("25.00")


def test_configuration_errors_name_the_key_and_line(tmp_path: Path) -> None:
    path = site_yaml(tmp_path, [{"provider": "wechatpay", "mchid": "1", "appid": "wx",
                                 "serial_no": "S", "private_key": "k", "api_v3_key": "short"},
                                {"provider": "paypal"}], port=free_port())
    problems = [str(p) for p in prepare(path, data_dir=tmp_path / "data").problems]
    text = "\n".join(problems)
    assert "payments.providers[0].api_v3_key" in text and "32-character APIv3 key" in text
    assert "payments.providers[1].provider" in text and "unknown provider 'paypal'" in text
    assert "hub.yaml:" in text


def test_keys_that_do_not_load_are_named_by_check_config(tmp_path: Path) -> None:
    good = {"provider": "wechatpay", "base_url": "http://127.0.0.1:9", "mchid": "1",
            "appid": "wx", "serial_no": "S", "private_key": keys("merchant").private,
            "api_v3_key": API_V3_KEY, "platform_public_key": keys("platform").public,
            "platform_public_key_id": PLATFORM_KEY_ID}
    path = site_yaml(tmp_path, [
        good,
        {**good, "landlord": "a", "private_key": "not a key"},
        {**good, "landlord": "b", "platform_public_key_id": None},
        {"provider": "alipay", "sandbox": True, "app_id": "1", "private_key": "x",
         "alipay_public_key": keys("alipay").public},
        {**good, "landlord": "c", "sandbox": True, "base_url": None}], port=free_port())
    problems = [str(p) for p in prepare(path, data_dir=tmp_path / "data").problems]
    assert not any("providers[0]" in p for p in problems), problems
    for index, words in ((1, "wechatpay:"), (2, "PUB_KEY_ID"), (3, "alipay:"),
                         (4, "no public sandbox host")):
        assert any(f"payments.providers[{index}]" in p and words in p for p in problems), \
            (index, problems)


def test_sandbox_picks_the_providers_sandbox_host_and_base_url_overrides_it() -> None:
    entry = {"provider": "alipay", "app_id": "1", "private_key": keys("app").private,
             "alipay_public_key": keys("alipay").public}
    assert Alipay(entry, utcnow).base_url == "https://openapi.alipay.com/gateway.do"
    assert Alipay({**entry, "sandbox": True}, utcnow).base_url \
        == "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
    assert Alipay({**entry, "sandbox": True, "base_url": "http://127.0.0.1:1/gw"},
                  utcnow).base_url == "http://127.0.0.1:1/gw"


def _certificate(serial: int) -> str:
    """A platform certificate (self-signed here) for the platform key, as PEM."""
    key = serialization.load_pem_private_key(keys("platform").private.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@bounded(60)
async def test_notifications_verify_with_a_platform_certificate(tmp_path: Path) -> None:
    serial = 0x5157F09EFDC096DE15EBE81A47057A7232F1B8E2
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config(
            platform_public_key=None, platform_public_key_id=None,
            platform_certificates=[_certificate(serial)])]) as hub:
        wx.serial = format(serial, "X")  # the stand-in names the certificate it signs with
        order = await call(hub, "create_order", account_id="r101", amount="10",
                           provider="wechatpay", channel="native")
        trade = wx.pay(order["order_id"])
        assert await wx.deliver(trade) == (200, "")
        assert hub.component("ledger", Ledger).balance("r101") == Decimal("10.00")
        wx.serial = "0123ABCD"  # a certificate this hub does not have
        status, text = await wx.deliver(trade)
        assert status == 500 and "unknown platform key or certificate" in text
