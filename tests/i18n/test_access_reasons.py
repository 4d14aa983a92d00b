"""A refused login, the guard's 401/403 and the service API's own refusals answer with the
specific reason as the error's ``message``, in the caller's language (zh-CN on a zh-CN site
unless the caller asks for English); ``detail`` stays the precise English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from access_support import PASSWORD, access_site
from common import bounded
from test_access_messages import ZH_SITE
from test_api_messages import english_words

CJK = re.compile(r"[\u4e00-\u9fff]")

ALLOWED = {"viewer", "landlord", "account.recharge", "account.create", "nope.x", "GET", "POST",
           "api", "auth", "users", "Authorization", "Bearer", "API", "JSON", "Content-Type",
           "application", "json", "http.allowed_hosts"}
"""ASCII words the zh-CN messages may hold: roles, services, routes, headers."""

CASES: list[tuple[str, str, str, dict[str, Any], int, str, str]] = [
    # (what, method, path, request options, status, Chinese words, English words)
    ("no credentials", "GET", "/api/accounts", {}, 401, "请先登录", "log in first"),
    ("a wrong token", "GET", "/api/accounts", {"headers": {"Authorization": "Bearer mht_x"}},
     401, "令牌不存在", "token is unknown"),
    ("a role without the service's right", "POST", "/api/services/account/recharge",
     {"user": "viewer", "json": {"account_id": "acc_a", "amount": "1", "method": "cash",
                                 "reference": "r1"}},
     403, "viewer 角色无权调用 account.recharge", "a viewer may not call account.recharge"),
    ("a role the route does not admit", "GET", "/api/auth/users", {"user": "viewer"},
     403, "viewer 角色无权使用 GET", "a viewer may not use GET"),
    ("a scoped user's unscoped service", "POST", "/api/services/account/create",
     {"user": "landlord_a", "json": {"account_id": "acc_c"}},
     403, "有管辖范围的用户不能调用 account.create",
     "account.create is not available to a user"),
    ("an unknown service", "POST", "/api/services/nope/x", {"user": "admin", "json": {}},
     404, "未知的服务 nope.x", "unknown service nope.x"),
    ("a body that is not JSON", "POST", "/api/services/account/recharge",
     {"user": "admin", "data": "{", "headers": {"Content-Type": "application/json"}},
     400, "不是有效的 JSON", "the body is not valid JSON"),
    ("a body that is not an object", "POST", "/api/services/account/recharge",
     {"user": "admin", "json": [1]}, 400, "必须是 JSON 对象", "the body must be a JSON object"),
    ("a login body that is not JSON", "POST", "/login",
     {"data": "{", "headers": {"Content-Type": "application/json"}},
     400, "不是有效的 JSON", "the body is not valid JSON"),
    ("a login body neither a form nor JSON", "POST", "/login",
     {"data": "x", "headers": {"Content-Type": "text/plain"}},
     415, "请提交表单或 JSON", "post the form, or JSON"),
    ("a wrong password", "POST", "/login", {"json": {"user": "viewer", "password": "no-1"}},
     401, "用户名或密码错误", "wrong user name or password"),
]


@pytest.mark.timeout(200)
@bounded(150)
async def test_refusals_say_their_reason_in_the_callers_language(tmp_path: Path) -> None:
    async with access_site(tmp_path, ZH_SITE) as site:
        for what, method, path, options, status, chinese, english in CASES:
            user = options.pop("user", None)
            extra = options.pop("headers", {})
            for language, words in (("zh-CN", chinese), ("en", english)):
                headers = {**(site.bearer(user) if user else {}), **extra,
                           "Accept-Language": language}
                got, body, _ = await site.call(method, path, headers=headers, **options)
                assert got == status, (what, body)
                message = body["error"]["message"]
                assert words in message, (what, language, message)
                assert english in body["error"]["detail"], (what, body)
                if language == "zh-CN":
                    assert [word for word in english_words(message)
                            if word not in ALLOWED] == [], (what, message)
                else:
                    assert not CJK.search(message), (what, message)
        for _ in range(4):  # five failures in all: the right password is refused a while
            await site.call("POST", "/login", json={"user": "viewer", "password": "no-1"})
        got, body, _ = await site.call("POST", "/login", json={
            "user": "viewer", "password": PASSWORD})
        assert got == 429 and re.fullmatch(r"登录失败次数过多：请 \d+ 秒后再试",
                                           body["error"]["message"]), body
