"""The tenant portal's test site: two tenants on a started hub, with the payment providers
pointed at their local stand-ins (payment_servers.py), and a local server following WeChat's
OAuth API (imported by name: tests/ is on sys.path). Generic helpers: common.py."""

from __future__ import annotations

import hmac
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from aiohttp import web
from common import free_port, hub_headers, start_hub
from payment_support import payments_yaml
from receiver import serve_app

from hub.core import Hub
from hub.metering.reading import Reading
from hub.storage import Storage
from hub.util.dt import site_time_zone, utcnow
from hub.web.server import WebServer

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44(0x18002c2f) "
             "NetType/WIFI Language/zh_CN")
APP_ID, APP_SECRET = "wxPortalAppId0001", "PortalAppSecret0123456789abcdef"

SITE = """
site: {name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}
http: {host: 127.0.0.1, port: 0}
storage: {commit_interval: 0.02}
links: [{id: sim1, type: sim, speed: 0}]
metering: {read_on_start: false}
meters:
  - {id: a1, name: 101 电表, model: ddsy, link: sim1, address: "202400000001", account: acc_a,
     tariff: flat, tags: {building: A}}
  - {id: b1, model: ddsy, link: sim1, address: "202400000002", account: acc_b, tariff: flat,
     tags: {building: B}}
accounts:
  - {id: acc_a, name: 张三, tags: {room: "101"}, emergency_credit: {amount: 15},
     max_recharge: 500, opening_balance: 40}
  - {id: acc_b, name: 李四, tags: {room: "201"}, opening_balance: 70}
tariffs:
  - {id: flat, type: flat, price: 1.00}
"""

PORTAL = """
portal:
  phone: "13800138000"
  amounts: [20, 50, 100, 1000]
  min_amount: 5
"""


@dataclass
class Portal:
    """A started hub with the portal: its base URL, an admin's headers, a client session."""

    hub: Hub
    base: str
    session: aiohttp.ClientSession
    admin: dict[str, str]

    async def service(self, domain: str, service: str, data: dict[str, Any],
                      headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """Call a service through the API (the admin's CLI token unless ``headers``)."""
        async with self.session.post(
                f"{self.base}/api/services/{domain}/{service}?return_response=1", json=data,
                headers=self.admin if headers is None else headers) as response:
            return response.status, await response.json(content_type=None)

    async def issue(self, account_id: str, service: str = "link") -> dict[str, Any]:
        """Issue (or re-issue) a link; the service's answer (token and url)."""
        status, body = await self.service("tenant", service, {"account_id": account_id})
        assert status == 200, body
        answer: dict[str, Any] = body["response"]
        return answer

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str, Any]:
        """GET a path: (status, text, headers)."""
        kwargs.setdefault("allow_redirects", False)
        async with self.session.get(self.base + path, **kwargs) as response:
            return response.status, await response.text(), response.headers

    async def post(self, path: str, **kwargs: Any) -> tuple[int, str, Any]:
        """POST to a path: (status, text, headers)."""
        kwargs.setdefault("allow_redirects", False)
        async with self.session.post(self.base + path, **kwargs) as response:
            return response.status, await response.text(), response.headers


@asynccontextmanager
async def portal_site(tmp_path: Path, extra: str = PORTAL, *, port: int = 0,
                      proxy: bool = False) -> AsyncIterator[Portal]:
    """The site started with ``extra`` config (the portal block by default); ``proxy``: behind
    a reverse proxy on 127.0.0.1 (``X-Forwarded-For`` names the tenant)."""
    http = f"port: {port}, trusted_proxies: [127.0.0.1]" if proxy else f"port: {port}"
    async with start_hub(tmp_path, SITE.replace("port: 0", http) + extra) as hub, \
            aiohttp.ClientSession(timeout=REQUEST_TIMEOUT,
                                  cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Portal(hub, f"http://127.0.0.1:{hub.component('web', WebServer).port}", session,
                     hub_headers(hub))


@asynccontextmanager
async def paying_site(tmp_path: Path, providers: list[Mapping[str, Any]], extra: str = PORTAL,
                      payments: str = "", proxy: bool = False) -> AsyncIterator[Portal]:
    """The site with ``extra`` config and these payment providers (payment_servers.py's
    local stand-ins of the providers' hosts)."""
    port = free_port()
    block = payments_yaml(tmp_path, providers, port=port, payments=payments)
    async with portal_site(tmp_path, extra + block, port=port, proxy=proxy) as site:
        yield site


async def store_usage(hub: Hub, meter_id: str, totals: list[str]) -> None:
    """Readings of ``meter_id`` at the last ``len(totals)`` local midnights (oldest first)."""
    zone = site_time_zone()
    today = utcnow().astimezone(zone).date()
    storage = hub.component("storage", Storage)
    for back, total in zip(range(len(totals) - 1, -1, -1), totals, strict=True):
        day = today - timedelta(days=back)
        when = datetime.combine(day, datetime.min.time(), zone)
        await storage.add_reading(Reading(meter_id, when, {"energy_import_total":
                                                           Decimal(total)}, device="d1"))
    await storage.flush()


# --- WeChat's OAuth on loopback -------------------------------------------------------------


@dataclass
class WechatOAuth:
    """``/connect/oauth2/authorize`` (the tenant consents at once: redirect back with a code)
    and ``/sns/oauth2/access_token`` (a code, once, for the AppID and its secret → openid),
    as WeChat's Official Account web-authorisation documents them."""

    openid: str = "oPortalTenant0001"
    app_id: str = APP_ID  # the Official Account's AppID (a WeChat Pay merchant's appid)
    port: int = 0
    codes: dict[str, str] = field(default_factory=dict)
    authorize_queries: list[dict[str, str]] = field(default_factory=list)
    exchanges: list[dict[str, str]] = field(default_factory=list)
    refuse: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.authorize_queries.append(query)
        if query.get("appid") != self.app_id or query.get("response_type") != "code" or \
                query.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
            return web.Response(text="参数错误", status=400)
        # WeChat requires the parameters in this order
        assert list(query)[:5] == ["appid", "redirect_uri", "response_type", "scope", "state"]
        code = f"CODE{len(self.codes) + 1:04d}"
        self.codes[code] = self.openid
        target = query["redirect_uri"]
        sep = "&" if urlsplit(target).query else "?"
        raise web.HTTPFound(f"{target}{sep}{urlencode({'code': code, 'state': query['state']})}")

    async def access_token(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.exchanges.append(query)
        if query.get("appid") != self.app_id or not hmac.compare_digest(
                query.get("secret", ""), APP_SECRET):
            return web.Response(text='{"errcode":40125,"errmsg":"invalid appsecret"}',
                                content_type="text/plain")
        openid = self.codes.pop(query.get("code", ""), None)
        if self.refuse or openid is None or query.get("grant_type") != "authorization_code":
            return web.Response(text='{"errcode":40029,"errmsg":"invalid code"}',
                                content_type="text/plain")
        return web.Response(text=(
            '{"access_token":"ACCESS_TOKEN","expires_in":7200,"refresh_token":"REFRESH",'
            f'"openid":"{openid}","scope":"snsapi_base"}}'), content_type="text/plain")


@asynccontextmanager
async def wechat_oauth(**kwargs: Any) -> AsyncIterator[WechatOAuth]:
    """The OAuth server on 127.0.0.1 (a free port)."""
    server = WechatOAuth(**kwargs)
    app = web.Application()
    app.router.add_get("/connect/oauth2/authorize", server.authorize)
    app.router.add_get("/sns/oauth2/access_token", server.access_token)
    async with serve_app(app) as port:
        server.port = port
        yield server


def wechat_block(oauth: WechatOAuth) -> str:
    """The portal block with the Official Account pointed at the local server."""
    return PORTAL + f"""  wechat:
    app_id: {oauth.app_id}
    app_secret: {APP_SECRET}
    authorize_url: {oauth.url}
    api_url: {oauth.url}
"""


def query_of(location: str) -> dict[str, str]:
    """The query of a URL (before any ``#fragment``)."""
    return {key: values[0] for key, values in
            parse_qs(urlsplit(location.partition("#")[0]).query).items()}


def bars(html: str) -> list[Decimal]:
    """The values of a usage chart's bars, oldest first."""
    return [Decimal(value) for value in re.findall(r'class="bar"[^>]*data-value="([^"]+)"',
                                                   html)]
