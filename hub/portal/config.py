"""The ``portal:`` block of hub.yaml: the tenant portal's address, language, pay amounts and
the landlord's WeChat Official Account.

```yaml
portal:
  url: https://hub.example.com       # what links and QR codes point at (default: as reached)
  language: zh-CN                    # default language (else the browser's, else the site's)
  phone: "13800138000"               # printed on the QR sheet for the room doors
  amounts: [20, 50, 100, 200]        # preset amounts (yuan; default: payments.presets)
  min_amount: 1                      # the smallest amount (at least payments.min_amount)
  pay_with: [wechatpay, alipay]      # providers offered (default: every one configured in
                                     # payments: for the account's landlord; []: none)
  wechat:                            # the Official Account (公众号) for OAuth: the openid
    app_id: !secret wechat_app_id
    app_secret: !secret wechat_app_secret
```
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from .. import validation as cv
from ..config import LANGUAGES
from ..i18n import Text
from . import strings as _strings  # noqa: F401  (the tables of the Texts below)

WECHAT_AUTHORIZE_URL = "https://open.weixin.qq.com"
WECHAT_API_URL = "https://api.weixin.qq.com"


def base_url(value: Any) -> str:
    """An ``http(s)://host[:port][/path]`` without a trailing slash."""
    text = cv.string(value).strip().rstrip("/")
    split = urlsplit(text)
    if split.scheme not in ("http", "https") or not split.netloc or split.query:
        raise vol.Invalid(Text("portal.url", value=cv.show_value(value)))
    return text


def _positive_money(value: Any) -> Decimal:
    amount: Decimal = cv.money(value)
    if amount <= 0:
        raise vol.Invalid(Text("portal.amount", amount=amount))
    return amount


def _credential(value: Any) -> str:
    text = cv.string(value).strip()
    if not text:
        raise vol.Invalid(Text("portal.credential"))
    return text


WECHAT_SCHEMA = cv.Strict({
    vol.Required("app_id"): _credential,
    vol.Required("app_secret"): _credential,
    # WeChat's hosts; a test points these at a local server that follows WeChat's API
    vol.Optional("authorize_url", default=WECHAT_AUTHORIZE_URL): base_url,
    vol.Optional("api_url", default=WECHAT_API_URL): base_url,
    vol.Optional("timeout", default=10): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=60)),
})

PORTAL_SCHEMA = cv.Strict({
    vol.Optional("url"): base_url,
    vol.Optional("language"): cv.one_of(*LANGUAGES),
    vol.Optional("phone"): cv.string,
    # each unset: what payments: says (docs/portal.md, Paying)
    vol.Optional("amounts"): cv.ListOf(_positive_money, allow_single=True),
    vol.Optional("min_amount"): _positive_money,
    vol.Optional("pay_with"): cv.ListOf(cv.slug, allow_single=True),
    vol.Optional("wechat"): WECHAT_SCHEMA,
})
