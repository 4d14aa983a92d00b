"""WeChat inside WeChat: the Official Account's OAuth (snsapi_base) binds the tenant's openid.

When the portal is opened in WeChat's browser (``MicroMessenger`` in the user agent) and the
account has no openid yet (or the tenant asks with ``?bind=wechat``), the page redirects to
``{authorize_url}/connect/oauth2/authorize?appid=..&redirect_uri=..&response_type=code&
scope=snsapi_base&state=..#wechat_redirect``. WeChat sends the browser back to
``/tenant/back/wechat?code=..&state=..`` (no token in what WeChat keeps: the browser holds it
in a cookie for the round trip); the state must equal the one set in a cookie on that
browser (CSRF), then ``{api_url}/sns/oauth2/access_token?appid=..&secret=..&code=..&
grant_type=authorization_code`` gives the ``openid``, stored as the account's
``contacts.wechat`` (a runtime change, see README): JSAPI payments and the Official Account's
template messages (``to_account: true``) then reach this tenant.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from ..ledger import AccountBook
from .views import BACK_COOKIE, BACK_PATH, HEADERS, Page, is_wechat

if TYPE_CHECKING:
    from .views import Portal

_LOGGER = logging.getLogger(__name__)

STATE_COOKIE = "mh_wx_state"
STATE_SECONDS = 600
SKIP = "wx"  # ?wx=skip: do not redirect again (after a refusal or a failure)


def public_base(portal: Portal, request: web.Request) -> str:
    """The hub's address as the tenant's browser reaches it (``portal.url`` when set)."""
    configured = portal.config.get("url")
    if configured:
        return str(configured)
    from ..web.server import WebServer

    return portal.hub.component("web", WebServer).guard.own_origin(request)


def authorize_url(portal: Portal, request: web.Request, page: Page, state: str) -> str:
    """WeChat's authorize URL for this link (parameters in WeChat's documented order)."""
    wechat = portal.config["wechat"]
    redirect = portal.back_url(request, "/wechat")
    query = urlencode([("appid", wechat["app_id"]), ("redirect_uri", redirect),
                       ("response_type", "code"), ("scope", "snsapi_base"),
                       ("state", state)], quote_via=quote)
    return f"{wechat['authorize_url']}/connect/oauth2/authorize?{query}#wechat_redirect"


def oauth_redirect(portal: Portal, request: web.Request, page: Page) -> None:
    """Raise the redirect to WeChat's OAuth when it is due (else return: show the page)."""
    if "wechat" not in portal.config or not is_wechat(request):
        return
    if request.query.get(SKIP) == "skip":
        return
    if page.account.contacts.get("wechat") and request.query.get("bind") != "wechat":
        return
    state = secrets.token_urlsafe(16)
    response = web.HTTPFound(authorize_url(portal, request, page, state), headers=HEADERS)
    response.set_cookie(STATE_COOKIE, state, path=BACK_PATH, max_age=STATE_SECONDS,
                        httponly=True, samesite="Lax")
    portal.keep_token(request, response, page, STATE_SECONDS)
    raise response


async def exchange_code(portal: Portal, code: str) -> dict[str, Any]:
    """WeChat's answer to the code exchange (its JSON; ``errcode`` when it refused)."""
    wechat = portal.config["wechat"]
    query = urlencode({"appid": wechat["app_id"], "secret": wechat["app_secret"],
                       "code": code, "grant_type": "authorization_code"})
    url = f"{wechat['api_url']}/sns/oauth2/access_token?{query}"
    timeout = aiohttp.ClientTimeout(total=wechat["timeout"])
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as answer:
        text = await answer.text()  # WeChat answers JSON as text/plain
    body = json.loads(text)
    if not isinstance(body, dict):
        raise ValueError("the answer is not a JSON object")  # i18n: internal (logged, by type)
    return body


async def callback(portal: Portal, request: web.Request, page: Page) -> web.StreamResponse:
    """``/tenant/back/wechat``: check the state, exchange the code, bind the openid."""
    if "wechat" not in portal.config:
        return portal.render(request, "missing.html", status=404, language=page.language,
                             page=page)
    state, expected = request.query.get("state", ""), request.cookies.get(STATE_COOKIE, "")
    if not state or not expected or not hmac.compare_digest(state, expected):
        _LOGGER.warning("WeChat sign-in for account %s refused: the state does not match "
                        "this browser's", page.account.id)
        return portal.render(request, "closed.html", status=403, reason="state",
                             language=page.language)
    code = request.query.get("code")
    outcome = "wechat_failed"
    if code:
        try:
            answer = await exchange_code(portal, code)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            _LOGGER.warning("WeChat code exchange for account %s failed: %s",
                            page.account.id, type(err).__name__)
            answer = {}
        openid = answer.get("openid")
        if isinstance(openid, str) and openid:
            await bind(portal, page, openid)
            outcome = "wechat_bound"
        elif answer:
            _LOGGER.warning("WeChat refused the code exchange for account %s: %s %s",
                            page.account.id, answer.get("errcode"), answer.get("errmsg"))
    response = web.HTTPSeeOther(f"{page.base}?{SKIP}=skip&notice={outcome}", headers=HEADERS)
    response.del_cookie(STATE_COOKIE, path=BACK_PATH)
    response.del_cookie(BACK_COOKIE, path=BACK_PATH)
    raise response


async def bind(portal: Portal, page: Page, openid: str) -> None:
    """Store the openid as the account's ``contacts.wechat`` (unchanged if already so)."""
    contacts = dict(page.account.contacts)
    if contacts.get("wechat") == openid:
        return
    contacts["wechat"] = openid
    book = portal.hub.component("accounts", AccountBook)
    await book.update(page.account.id, {"contacts": contacts}, portal.context(page))
    _LOGGER.info("WeChat openid bound to account %s", page.account.id)
