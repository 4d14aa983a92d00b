"""One error body for every ``/api/`` answer that is not a success.

``{"error": {"code", "message", "field", "detail"}}``: ``code`` is stable (for programs),
``message`` is in the caller's language (``?lang=``, else ``Accept-Language``, else the
site's language), ``field`` names the input at fault (or null) and ``detail`` is the precise
English explanation. The middleware stands outside the guard, so aiohttp's own 404, 405 and
413, the guard's 401/403/404/413/415/421 and any handler's ``{"error": "..."}`` are all
reshaped alike (``/metrics`` and ``/health`` too). Routes that check their callers
themselves (platform pushes) keep the answers their platforms expect.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ...i18n import Joined, Text
from ...util.jsonutil import dumps
from ..access import REASON
from ..routes import HUB_KEY, access_of, principal_of
from .base import ApiError, field_of

if TYPE_CHECKING:
    from .base import Handler

_LOGGER = logging.getLogger(__name__)

API_PATHS = ("/api/", "/metrics", "/health")
"""Where the one error body is given (a JSON answer without ``error``, like /health's 503,
is left as it is)."""

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 408: "timeout", 409: "conflict", 413: "too_large",
    412: "stale", 415: "unsupported_media_type", 421: "unknown_host", 422: "invalid",
    429: "too_many_requests", 500: "internal", 503: "unavailable",
}

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "api.error.bad_request": "The request is not right.",
        "api.error.bad_json": "The body is not a valid JSON object.",
        "api.error.invalid": "Invalid input.",
        "api.error.invalid_field": "Invalid value for {field}: {reason}",
        "api.error.unauthorized": "Log in first, or send a valid API token.",
        "api.error.forbidden": "You may not do this.",
        "api.error.not_found": "Not found.",
        "api.error.method_not_allowed": "This method is not allowed here.",
        "api.error.timeout": "The request took too long to arrive.",
        "api.error.conflict": "This conflicts with the current state.",
        "api.error.stale": "Someone changed this since you opened it: reload and try again.",
        "api.error.too_large": "The request body is too large.",
        "api.error.unsupported_media_type": "Send the body as application/json.",
        "api.error.unknown_host": "Unknown host name.",
        "api.error.too_many_requests": "Too many attempts: wait and try again.",
        "api.error.internal": "Something went wrong in the hub; it has been logged.",
        "api.error.unavailable": "Not available right now.",
    },
    "zh-CN": {
        "api.error.bad_request": "请求有误。",
        "api.error.bad_json": "请求内容不是有效的 JSON 对象。",
        "api.error.invalid": "输入无效。",
        "api.error.invalid_field": "{field} 的值无效：{reason}",
        "api.error.unauthorized": "请先登录，或提供有效的 API 令牌。",
        "api.error.forbidden": "您无权执行此操作。",
        "api.error.not_found": "未找到。",
        "api.error.method_not_allowed": "此处不允许该请求方法。",
        "api.error.timeout": "请求发送超时。",
        "api.error.conflict": "与当前状态冲突。",
        "api.error.stale": "数据已被他人修改，请刷新后重试。",
        "api.error.too_large": "请求内容过大。",
        "api.error.unsupported_media_type": "请以 application/json 格式发送。",
        "api.error.unknown_host": "未知的主机名。",
        "api.error.too_many_requests": "尝试次数过多，请稍后再试。",
        "api.error.internal": "系统内部错误，已记录日志。",
        "api.error.unavailable": "暂时不可用。",
    },
}


def language_of(request: web.Request) -> str:
    """The caller's language: ``?lang=``, ``Accept-Language`` (first known), the user's own,
    the site's."""
    hub = request.app[HUB_KEY]
    known = hub.i18n.languages()
    asked = request.query.get("lang")
    if asked in known:
        return str(asked)
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip()
        for language in known:
            if tag.lower() == language.lower() or tag.lower().split("-")[0] == \
                    language.lower().split("-")[0]:
                return language
    principal = principal_of(request)
    if principal is not None and principal.language in known:
        return principal.language
    return hub.config.language


def in_callers_words(request: web.Request, value: Any) -> Any:
    """``value`` (an answer: mappings and lists) with the hub's messages in it worded in the
    caller's language (:func:`language_of`)."""
    return request.app[HUB_KEY].i18n.answer(value, language_of(request))


def error_body(request: web.Request, code: str, detail: str, field: str | None
               ) -> dict[str, Any]:
    """``{"error": {...}}`` with the message in the caller's language."""
    translate = request.app[HUB_KEY].i18n
    language = language_of(request)
    if isinstance(detail, Text | Joined):  # a message with its key: worded for the caller
        message = translate.text(detail, language)
    elif code == "invalid" and field:
        # the service's own reason (English until its errors are translated) after the
        # translated words: a vague "invalid" alone would not tell the caller what to change
        head, sep, rest = detail.partition(": ")
        reason = rest if sep and (head == field or head.endswith(f".{field}")) else detail
        message = translate("api.error.invalid_field", language, field=field, reason=reason)
    else:
        message = translate(f"api.error.{code}", language)
        if message == f"api.error.{code}":
            message = detail
    return {"error": {"code": code, "message": message, "field": field, "detail": detail}}


def error_response(request: web.Request, status: int, code: str, detail: str,
                   field: str | None = None, headers: dict[str, str] | None = None
                   ) -> web.Response:
    """The error answer (keeps the guard's ``X-Access`` and other headers given)."""
    return web.json_response(error_body(request, code, detail, field), status=status,
                             dumps=dumps, headers=headers)


def _reshaped(request: web.Request, response: web.Response) -> web.Response:
    """A handler's or the guard's ``{"error": "text"}`` in the one error shape."""
    detail = response.reason or ""
    field = None
    body = response.body
    if isinstance(body, bytes | bytearray) and body:
        try:
            found = json.loads(body)
        except ValueError:
            found = None
        if isinstance(found, dict) and "error" not in found:
            return response  # an answer of its own (not ready: /health's reasons)
        if isinstance(found, dict):
            error = found.get("error")
            if isinstance(error, dict) and "code" in error:
                return response  # already in shape
            if isinstance(error, str):
                detail = error
            if isinstance(found.get("errors"), list) and found["errors"]:
                detail = "; ".join(str(e) for e in found["errors"])
                field = field_of(str(found["errors"][0]))
        elif isinstance(body, bytes):
            detail = body.decode("utf-8", "replace")[:500] or detail
    if isinstance(reason := response.get(REASON), Text | Joined):
        detail = reason  # the guard's own reason: worded for the caller
    if field is None and response.status == 400:
        field = field_of(detail)
    code = CODES.get(response.status, "bad_request" if response.status < 500 else "internal")
    if response.status == 400 and field:
        code = "invalid"
    headers = {key: value for key, value in response.headers.items()
               if key.lower() not in ("content-type", "content-length")}
    return error_response(request, response.status, code, detail, field, headers)


def _own_answers(request: web.Request) -> bool:
    """Whether the route answers its callers in its own format (platform pushes)."""
    info = request.match_info
    if info.http_exception is not None:
        return False
    return access_of(info.handler, request.method).anyone == "self_authenticated"


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every ``/api/`` error the one body (see the module docstring)."""
    if not request.path.startswith(API_PATHS) or _own_answers(request):
        return await handler(request)
    try:
        response = await handler(request)
    except ApiError as err:
        return error_response(request, err.status, err.code, err.detail, err.field,
                              err.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {key: value for key, value in exc.headers.items()
                   if key.lower() not in ("content-type", "content-length")}
        return error_response(request, exc.status, CODES.get(exc.status, "bad_request"),
                              exc.reason, None, headers)
    except Exception:
        principal = principal_of(request)
        _LOGGER.exception("%s %s (by %s) failed", request.method, request.path,
                          principal.user_id if principal else "anonymous")
        return error_response(request, 500, "internal", "an internal error (see the log)")
    if response.status >= 400 and isinstance(response, web.Response):
        return _reshaped(request, response)
    return response
