"""``type: wechat_template``: WeChat Official Account template messages (微信服务号模板消息).

The account's ``access_token`` comes from ``GET /cgi-bin/token`` (AppID and AppSecret) and is
kept until shortly before it expires; a send refused with errcode 40001, 40014 or 42001 (the
token is invalid or expired: another program may have fetched a new one) fetches a new
token and tries once more. A message is ``POST /cgi-bin/message/template/send`` with the
tenant's ``touser`` openid, the ``template_id``, ``data`` (``{key: {value}}``) and an
optional ``url`` (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from . import redact
from .notifier import DeliveryError, Message, Target
from .providers import (
    PARAMS,
    ErrorCode,
    ProviderTarget,
    ProviderType,
    endpoint_url,
    exchange,
    provider_error,
    recipients,
    render_params,
    secret,
)
from .templates import template

NAME = "wechat_template"
PROVIDER = "WeChat"
DEFAULT_ENDPOINT = "https://api.weixin.qq.com"
TOKEN_MARGIN = 300.0  # seconds before its expiry a token is no longer used
STALE_TOKEN = frozenset({40001, 40014, 42001})  # invalid / expired access_token

ERRORS: dict[str, ErrorCode] = {
    "-1": ErrorCode(False, "WeChat is busy; retried"),
    "40001": ErrorCode(True, "the access token was refused again after a refresh"),
    "40003": ErrorCode(True, "the openid is not a follower of this account"),
    "40013": ErrorCode(True, "the app_id is not valid"),
    "40037": ErrorCode(True, "the template_id is not valid"),
    "40125": ErrorCode(True, "the app_secret is not valid"),
    "40164": ErrorCode(True, "the hub's IP address is not in the account's IP whitelist"),
    "41028": ErrorCode(True, "a parameter is not valid"),
    "43004": ErrorCode(True, "the user no longer follows the account"),
    "43101": ErrorCode(True, "the user refused this kind of message"),
    "45009": ErrorCode(False, "the daily API quota is used up; retried"),
    "45047": ErrorCode(True, "too many messages to this user"),
    "47003": ErrorCode(True, "the template data do not fit the template"),
}
RETRIED = ("-1", "45009", "45011")


class TokenCache:
    """An account's access token, fetched once for all its notifiers and kept until expiry."""

    def __init__(self, endpoint: str, app_id: str, app_secret: str) -> None:
        self.endpoint = endpoint
        self.app_id = app_id
        self.app_secret = app_secret
        self.token: str | None = None
        self.expires = 0.0
        self.fetches = 0
        self._lock = asyncio.Lock()

    async def get(self, timeout: float, stale: str | None = None) -> str:
        """A valid token; a new one when none is kept, it expired or ``stale`` was refused."""
        async with self._lock:
            if self.token is not None and self.token != stale and \
                    time.monotonic() < self.expires:
                return self.token
            query = urlencode({"grant_type": "client_credential", "appid": self.app_id,
                               "secret": self.app_secret})
            reply = await exchange("GET", f"{self.endpoint}/cgi-bin/token?{query}", timeout,
                                   provider=PROVIDER)
            self.fetches += 1
            token = reply.body.get("access_token")
            if not isinstance(token, str) or not token:
                raise _error(reply.body, "access token")  # i18n: internal (the provider's call)
            redact.add_secret(token)
            expires_in = float(reply.body.get("expires_in") or 7200)
            self.token = token
            self.expires = time.monotonic() + max(expires_in - TOKEN_MARGIN, expires_in / 2)
            return token


def _error(body: Mapping[str, Any], what: str) -> DeliveryError:
    code = str(body.get("errcode", "no errcode"))
    return provider_error(PROVIDER, code, f"{what}: {body.get('errmsg') or ''}", ERRORS,
                          RETRIED)


class WechatTemplateTarget(ProviderTarget):
    """One notifier: its template, data mapping and recipients."""

    label = NAME
    provider = PROVIDER

    def __init__(self, config: Mapping[str, Any], tokens: TokenCache) -> None:
        super().__init__(config)
        self.tokens = tokens

    async def send(self, message: Message, timeout: float) -> None:
        """Send the template message to every openid not yet served; DeliveryError if not."""
        config = self.config
        wanted = recipients(config["openids"], message, WechatTemplateType.contact_key,
                            config["to_account"])
        values = render_params(config["params"], message)
        url = render_params({"url": config["url"]}, message)["url"] if config.get("url") \
            else None
        for openid in self.progress.pending(message, wanted):
            body: dict[str, Any] = {
                "touser": openid, "template_id": config["template_id"],
                "data": {key: {"value": value} for key, value in values.items()}}
            if url:
                body["url"] = url
            if message.id:  # WeChat sends one message per openid and client_msg_id
                body["client_msg_id"] = message.id
            await self._send_one(json.dumps(body, ensure_ascii=False).encode(), timeout)
            self.progress.served(message, [openid])
        self.finish(message, wanted)

    async def _send_one(self, body: bytes, timeout: float) -> None:
        token = await self.tokens.get(timeout)
        for attempt in (1, 2):
            reply = await exchange(
                "POST", f"{self.tokens.endpoint}/cgi-bin/message/template/send?"
                f"{urlencode({'access_token': token})}", timeout, provider=PROVIDER,
                headers={"Content-Type": "application/json; charset=utf-8"}, data=body)
            code = reply.body.get("errcode", 0)
            if code == 0:
                return
            if code in STALE_TOKEN and attempt == 1:
                token = await self.tokens.get(timeout, stale=token)
                continue
            raise _error(reply.body, "template message")  # i18n: internal (the provider's call)


class WechatTemplateType(ProviderType):
    """``type: wechat_template``."""

    name = NAME
    recipient_key = "openids"
    contact_key = "wechat"  # the openid the tenant portal binds (WeChat OAuth)

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], TokenCache] = {}

    def keys(self) -> dict[Any, Any]:
        """AppID / AppSecret, template, its data and link."""
        return {
            vol.Required("app_id"): cv.string,
            vol.Required("app_secret"): secret,
            vol.Required("template_id"): cv.string,
            vol.Required("params"): vol.All(PARAMS, vol.Length(
                min=1, msg=Text("notify.template_params"))),
            vol.Optional("url"): template,
            vol.Optional("endpoint", default=DEFAULT_ENDPOINT): endpoint_url,
        }

    def target(self, config: Mapping[str, Any]) -> Target:
        """The entry's target; notifiers of the same account share its token."""
        key = (config["endpoint"], config["app_id"])
        tokens = self._tokens.get(key)
        if tokens is None:
            tokens = self._tokens[key] = TokenCache(config["endpoint"], config["app_id"],
                                                    config["app_secret"])
        return WechatTemplateTarget(config, tokens)

    def close(self) -> None:
        """Forget the tokens."""
        self._tokens.clear()
