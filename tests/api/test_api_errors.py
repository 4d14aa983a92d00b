"""One error body for every /api/ error, in the caller's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import access_site
from common import bounded

KEYS = {"code", "message", "field", "detail"}


@pytest.mark.timeout(150)
@bounded(120)
async def test_every_kind_of_error_has_the_one_body(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        admin = site.bearer("admin")
        cases = [
            ("GET", "/api/nothing-here", {"headers": admin}, 404, "not_found"),
            ("DELETE", "/api/meters", {"headers": admin}, 405, "method_not_allowed"),
            ("GET", "/api/meters", {}, 401, "unauthorized"),
            ("GET", "/api/meters", {"headers": {"Authorization": "Bearer mht_forged"}}, 401,
             "unauthorized"),
            ("GET", "/api/automations", {"headers": site.bearer("viewer")}, 403, "forbidden"),
            ("GET", "/metrics", {"headers": site.bearer("landlord_a")}, 403, "forbidden"),
            ("GET", "/api/meters/b1", {"headers": site.bearer("landlord_a")}, 404,
             "not_found"),
            ("POST", "/api/accounts/acc_a/recharge", {"headers": admin, "data": "x",
                                                      "skip_auto_headers": ["Content-Type"]},
             415, "unsupported_media_type"),
            ("POST", "/api/accounts/acc_a/recharge", {"headers": {
                **admin, "Content-Type": "application/json"}, "data": "{"}, 400, "bad_json"),
            ("GET", "/api/bills/nope", {"headers": admin}, 404, "not_found"),
            ("GET", "/api/reports/nope", {"headers": admin}, 404, "not_found"),
            ("GET", "/api/reports/consumption", {"headers": admin}, 400, "invalid"),
            ("POST", "/api/services/meter/nobody", {"headers": admin, "json": {}}, 404,
             "not_found"),
            ("POST", "/api/services/meter/trip", {"headers": admin, "json": {"x": 1}}, 400,
             "invalid"),
            ("GET", "/api/auth/users", {"headers": site.bearer("finance")}, 403, "forbidden"),
        ]
        for method, path, kwargs, status, code in cases:
            got, body, _ = await site.call(method, path, **kwargs)
            assert got == status, (method, path, body)
            assert isinstance(body, dict) and set(body) == {"error"}, (method, path, body)
            assert set(body["error"]) == KEYS and body["error"]["code"] == code, (path, body)
            assert body["error"]["message"], body
        # a platform push keeps the answer its platform expects (not the API's shape)
        got, body, _ = await site.call("POST", "/api/nbiot/nb1/ctwing", json={})
        assert got == 404 and not isinstance(body.get("error") if isinstance(body, dict)
                                             else None, dict)


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_message_is_in_the_callers_language(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        admin = site.bearer("admin")
        answers = {}
        for language in ("en", "zh-CN", "zh", "fr;q=0.9, en;q=0.8"):
            _s, body, _ = await site.call("GET", "/api/meters/zz", headers={
                **admin, "Accept-Language": language})
            answers[language] = body["error"]["message"]
        assert answers == {"en": "unknown meter 'zz'", "zh-CN": "未知的表 'zz'",
                           "zh": "未知的表 'zz'", "fr;q=0.9, en;q=0.8": "unknown meter 'zz'"}
        _s, body, _ = await site.call("GET", "/api/meters?limit=x&lang=en", headers=admin)
        detail = body["error"]["detail"]
        reason = detail.split(": ", 1)[1]
        assert body["error"] == {
            "code": "invalid", "message": f"limit: {reason}",
            "field": "limit", "detail": detail} and "x" in reason
        _s, body, _ = await site.call("GET", "/api/meters?limit=x&lang=zh-CN", headers=admin)
        # the reason is worded in Chinese too, not only the words around it
        assert body["error"]["message"] == "limit：应为整数，实际为 'x'"
        assert body["error"]["detail"] == detail
