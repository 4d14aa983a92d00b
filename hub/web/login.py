"""The login and set-up pages, logout, and the access API (users, sessions, tokens, audit).

Pages are plain server-rendered forms (the dashboard styles them later). The session cookie
is HttpOnly, SameSite=Strict and, when the browser came over TLS, Secure. The login form
carries a CSRF token of its own (a cookie it must match), and a foreign Origin on it is
refused by the guard like on every change.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import jinja2
import voluptuous as vol
from aiohttp import web

from .. import validation as cv
from ..auth import Auth, AuthError, LoginRefused, Principal
from ..auth.views import audit_filter, audit_rows, session_dict, token_dict, user_dict
from ..i18n import Text, text_of
from ..util.jsonutil import dumps
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .access import LOGIN_COOKIE, SESSION_COOKIE, Guard, set_session_cookie
from .api.base import (
    ApiError,
    Page,
    describe,
    field_of,
    next_link,
    page_query,
    paginate,
    validated_query,
)
from .api.errors import CODES, error_response, in_callers_words
from .routes import allow, principal_of, public

if TYPE_CHECKING:
    from ..core import Hub

_LOGGER = logging.getLogger(__name__)


WHOSE_QUERY = page_query({vol.Optional("all"): cv.boolean})
AUDIT_QUERY = page_query({vol.Optional(key): cv.string
                          for key in ("user", "account", "meter", "start", "end")})
_TEXT = {"type": "string"}
_MAYBE = {"type": ["string", "null"]}
USER_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "user": _TEXT, "role": _TEXT, "scope": {"type": "object"}, "disabled": {"type": "boolean"},
    "created": _MAYBE, "updated": _MAYBE, "password": {"type": "boolean"},
}, "required": ["user", "role", "scope", "disabled", "password"]}
SESSION_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "id": _TEXT, "user": _TEXT, "created": _MAYBE, "expires": _MAYBE, "last_used": _MAYBE,
    "address": _MAYBE, "agent": _MAYBE,
}, "required": ["id", "user"]}
TOKEN_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "id": _TEXT, "name": _TEXT, "user": _TEXT, "role": _MAYBE, "scope": {},
    "created": _MAYBE, "expires": _MAYBE, "last_used": _MAYBE, "last_address": _MAYBE,
    "revoked": _MAYBE,
}, "required": ["id", "name", "user"]}
AUDIT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "time": _MAYBE, "source": _TEXT, "action": _MAYBE, "user": _MAYBE,
    "account_id": _MAYBE, "meter_id": _MAYBE, "ref": {}, "amount_fen": {}, "detail": {},
}, "required": ["time", "source"]}


def _json(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=dumps)


def _refused(request: web.Request, err: AuthError,
             headers: dict[str, str] | None = None) -> web.Response:
    """A refused login or set-up as JSON: the API's error body, its message the reason in
    the caller's language."""
    return error_response(request, err.status, CODES.get(err.status, "bad_request"),
                          text_of(err), None, headers)


class StaleForm(AuthError):
    """A login or set-up form whose CSRF token is not this browser's (a page left open
    across a restart of the browser, or a form from elsewhere)."""


def _safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this hub only (never ``//elsewhere``)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _scope(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise AuthError(Text("web.scope", where=where))
    return dict(value)


class AccessRoutes:
    """Login, logout, onboarding and the access API of one web server."""

    def __init__(self, hub: Hub, auth: Auth | None, guard: Guard,
                 templates: jinja2.Environment) -> None:
        self.hub = hub
        self.auth = auth
        self.guard = guard
        self.templates = templates

    def routes(self) -> list[web.RouteDef]:
        """Every route of the access pages and API."""
        return [
            web.get("/login", self.login_page),
            web.post("/login", self.login),
            web.get("/setup", self.setup_page),
            web.post("/setup", self.setup),
            web.post("/logout", self.logout),
            web.get("/api/auth/me", self.me),
            web.get("/api/auth/users", self.users),
            web.post("/api/auth/users", self.add_user),
            web.post("/api/auth/users/{user_id}", self.change_user),
            web.get("/api/auth/sessions", self.sessions),
            web.post("/api/auth/sessions/{session_id}/revoke", self.revoke_session),
            web.get("/api/auth/tokens", self.tokens),
            web.post("/api/auth/tokens", self.create_token),
            web.post("/api/auth/tokens/{token_id}/revoke", self.revoke_token),
            web.get("/api/audit", self.audit),
        ]

    def _auth(self) -> Auth:
        if self.auth is None:
            raise web.HTTPServiceUnavailable(text=self.hub.i18n.text(Text("web.no_auth")))
        return self.auth

    # --- pages ---------------------------------------------------------------------------

    def _page(self, request: web.Request, *, setup: bool, error: str | None = None,
              status: int = 200) -> web.Response:
        language = request.query.get("lang") or self.hub.config.language
        csrf = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        html = self.templates.get_template("login.html").render(
            t=lambda key, **kw: self.hub.i18n(key, language, **kw), language=language,
            site=self.hub.config.site_name, setup=setup, csrf=csrf,
            error=self.hub.i18n.text(error, language) if error else None,
            next=_safe_next(request.query.get("next")))
        response = web.Response(text=html, content_type="text/html", status=status)
        response.set_cookie(LOGIN_COOKIE, csrf, httponly=True, samesite="Strict",
                            secure=self.guard.is_secure(request), path="/")
        response.headers["Cache-Control"] = "no-store"
        return response

    @public
    async def login_page(self, request: web.Request) -> web.Response:
        """The login form (the set-up form while the hub has no user)."""
        if self.auth is not None and self.auth.setup_code is not None:
            raise web.HTTPSeeOther("/setup")  # i18n: internal (a redirect's location)
        return self._page(request, setup=False)

    @public
    async def setup_page(self, request: web.Request) -> web.Response:
        """The first-admin form, only while no user exists."""
        if self.auth is None or self.auth.setup_code is None:
            raise web.HTTPSeeOther("/login")  # i18n: internal (a redirect's location)
        return self._page(request, setup=True)

    async def _fields(self, request: web.Request) -> tuple[dict[str, str], bool]:
        """The posted fields and whether they came as a form (whose CSRF is checked)."""
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.text() or "{}")
            except ValueError:
                raise AuthError(Text("web.bad_json")) from None
            if not isinstance(body, dict):
                raise AuthError(Text("web.not_object"))
            return {k: str(v) for k, v in body.items() if isinstance(v, str)}, False
        if request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            expected = request.cookies.get(LOGIN_COOKIE)
            if not expected or not secrets.compare_digest(fields.get("csrf", ""), expected):
                raise StaleForm(Text("web.login_expired"), 403)
            return fields, True
        raise AuthError(Text("web.form_or_json"), 415)

    def _logged_in(self, request: web.Request, principal: Principal, secret: str,
                   form: bool, next_path: str | None) -> web.Response:
        response: web.Response
        if form:
            response = _see_other(_safe_next(next_path))
        else:
            response = _json({**principal.as_dict(), "csrf": principal.csrf})
        set_session_cookie(response, secret, secure=self.guard.is_secure(request))
        response.del_cookie(LOGIN_COOKIE, path="/")
        return response

    @public
    async def login(self, request: web.Request) -> web.StreamResponse:
        """Check name and password; set the session cookie."""
        try:
            fields, form = await self._fields(request)
        except StaleForm as err:  # the form of a page left open too long: shown again
            return self._page(request, setup=False, error=text_of(err), status=err.status)
        except AuthError as err:  # a body neither a form nor a JSON object
            return _refused(request, err)
        address = self.guard.client_address(request)
        try:
            principal, secret = await self._auth().login(
                fields.get("user", "").strip(), fields.get("password", ""), address,
                request.headers.get("User-Agent"))
        except LoginRefused as err:
            if form:
                return self._page(request, setup=False, error=text_of(err), status=err.status)
            return _refused(request, err, {"Retry-After": str(int(err.retry_after) + 1)}
                            if err.retry_after else None)
        return self._logged_in(request, principal, secret, form, fields.get("next"))

    @public
    async def setup(self, request: web.Request) -> web.StreamResponse:
        """The one-time set-up code creates the first admin."""
        try:
            fields, form = await self._fields(request)
        except StaleForm as err:  # the form of a page left open too long: shown again
            return self._page(request, setup=True, error=text_of(err), status=err.status)
        except AuthError as err:  # a body neither a form nor a JSON object
            return _refused(request, err)
        address = self.guard.client_address(request)
        try:
            principal, secret = await self._auth().setup_admin(
                fields.get("code", ""), fields.get("user", "").strip(),
                fields.get("password", ""), address)
        except AuthError as err:
            if form:
                return self._page(request, setup=True, error=text_of(err), status=err.status)
            return _refused(request, err)
        return self._logged_in(request, principal, secret, form, fields.get("next"))

    @allow(scoped=True)
    async def logout(self, request: web.Request) -> web.StreamResponse:
        """End the caller's session and clear its cookie."""
        principal = _caller(request)
        if principal.via == "session" and principal.credential_id:
            await self._auth().revoke_session(principal.credential_id, by=principal,
                                              address=self.guard.client_address(request))
        response = (_see_other("/login") if request.content_type != "application/json"
                    else _json({"logged_out": True}))
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    # --- the access API ------------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            raise AuthError(Text("web.bad_json")) from None
        if not isinstance(body, dict):
            raise AuthError(Text("web.not_object"))
        return body

    async def _answer(self, request: web.Request, work: Any) -> web.Response:
        try:
            return _json(await work)
        except AuthError as err:  # its message worded in the caller's language
            field = field_of(str(err)) if err.status == 400 else None
            raise ApiError(err.status, "invalid" if field else CODES.get(err.status, "bad_request"),
                           text_of(err), field) from None

    @allow(scoped=True)
    async def me(self, request: web.Request) -> web.Response:
        """Who is calling, with the CSRF token a form of this session must carry."""
        principal = _caller(request)
        return _json({**principal.as_dict(), "csrf": principal.csrf})

    @allow("admin")
    @describe("Every user", tag="users", query=page_query(), paged=True, response=USER_SCHEMA)
    async def users(self, request: web.Request) -> web.Response:
        """Every user."""
        query = validated_query(request, page_query())
        found = [user_dict(row) for row in await self._auth().users()]
        return paginate(request, query, found).response()

    @allow("admin")
    async def add_user(self, request: web.Request) -> web.Response:
        """Create a user: ``{user, role, scope?, password}``."""
        async def work() -> dict[str, Any]:
            body = await self._body(request)
            password = body.get("password")
            row = await self._auth().add_user(
                str(body.get("user", "")), str(body.get("role", "")),
                _scope(body.get("scope"), "scope"),
                password if isinstance(password, str) else None,
                by=_caller(request).user_id, address=self.guard.client_address(request))
            return user_dict(row)
        return await self._answer(request, work())

    @allow("admin")
    async def change_user(self, request: web.Request) -> web.Response:
        """Change a user: ``{password}``, ``{disabled}`` or ``{role, scope}``."""
        async def work() -> dict[str, Any]:
            body = await self._body(request)
            name = request.match_info["user_id"]
            auth, by = self._auth(), _caller(request).user_id
            address = self.guard.client_address(request)
            if not {"password", "disabled", "role"} & body.keys():
                raise AuthError(Text("web.user_change"))
            row = None
            if isinstance(body.get("password"), str):
                row = await auth.set_password(name, body["password"], by=by, address=address)
            if isinstance(body.get("disabled"), bool):
                row = await auth.set_disabled(name, body["disabled"], by=by, address=address)
            if "role" in body:
                row = await auth.set_role(name, str(body["role"]),
                                          _scope(body.get("scope"), "scope"), by=by,
                                          address=address)
            if row is None:
                raise AuthError(Text("web.user_change_types"))
            return user_dict(row)
        return await self._answer(request, work())

    @allow(scoped=True)
    @describe("The caller's open sessions (an admin: everyone's with all=1)", tag="users",
              query=WHOSE_QUERY, paged=True, response=SESSION_SCHEMA)
    async def sessions(self, request: web.Request) -> web.Response:
        """The caller's open sessions (an admin: everyone's with ``?all=1``)."""
        query = validated_query(request, WHOSE_QUERY)
        rows = await self._auth().sessions(_whose(request, query))
        return paginate(request, query, [session_dict(row) for row in rows]).response()

    @allow(scoped=True)
    async def revoke_session(self, request: web.Request) -> web.Response:
        """End a session (one's own; an admin: anyone's)."""
        async def work() -> dict[str, Any]:
            session_id = request.match_info["session_id"]
            await self._auth().revoke_session(session_id, by=_caller(request),
                                              address=self.guard.client_address(request))
            return {"revoked": session_id}
        return await self._answer(request, work())

    @allow(scoped=True)
    @describe("The caller's API tokens (an admin: everyone's with all=1)", tag="users",
              query=WHOSE_QUERY, paged=True, response=TOKEN_SCHEMA)
    async def tokens(self, request: web.Request) -> web.Response:
        """The caller's tokens (an admin: everyone's with ``?all=1``)."""
        query = validated_query(request, WHOSE_QUERY)
        rows = await self._auth().tokens(_whose(request, query))
        return paginate(request, query, [token_dict(row) for row in rows]).response()

    @allow(scoped=True)
    async def create_token(self, request: web.Request) -> web.Response:
        """A new API token ``{name, user?, role?, scope?, days?}``; its secret is in this
        answer only."""
        async def work() -> dict[str, Any]:
            body = await self._body(request)
            principal = _caller(request)
            days = body.get("days")
            if days is not None and (not isinstance(days, int) or days <= 0):
                raise AuthError(Text("web.token_days"))
            row, secret = await self._auth().create_token(
                str(body.get("user") or principal.user_id), str(body.get("name", "")),
                str(body["role"]) if body.get("role") else None,
                _scope(body["scope"], "scope") if "scope" in body else None, by=principal,
                days=days, address=self.guard.client_address(request))
            return {**token_dict(row), "token": secret}
        return await self._answer(request, work())

    @allow(scoped=True)
    async def revoke_token(self, request: web.Request) -> web.Response:
        """Revoke a token (one's own; an admin: anyone's)."""
        async def work() -> dict[str, Any]:
            row = await self._auth().revoke_token(request.match_info["token_id"],
                                                  by=_caller(request),
                                                  address=self.guard.client_address(request))
            return token_dict(row)
        return await self._answer(request, work())

    @allow("admin", "finance")
    @describe("Who did what, newest first (ISO times, site time when naive; total is not "
              "counted: null)", tag="users", query=AUDIT_QUERY, paged=True,
              response=AUDIT_SCHEMA)
    async def audit(self, request: web.Request) -> web.Response:
        """Who did what: ``?user=&account=&meter=&start=&end=`` (ISO times), paged."""
        query = validated_query(request, AUDIT_QUERY)
        limit, offset = int(query["limit"]), int(query.get("cursor") or 0)
        try:
            where = audit_filter(query.get("user"), query.get("account"), query.get("meter"),
                                 query.get("start"), query.get("end"), str(limit + 1))
        except ValueError as err:
            raise ApiError(400, "invalid", text_of(err), field_of(str(err))) from None
        rows = in_callers_words(request, audit_rows(await self._auth().audit(
            replace(where, offset=offset))))
        link = next_link(request, str(offset + limit)) if len(rows) > limit else None
        return Page(rows[:limit], None, link).response()


def _whose(request: web.Request, query: Mapping[str, Any]) -> str | None:
    """Whose sessions or tokens to list: the caller's; an admin's ``?all=1``, everyone's."""
    principal = _caller(request)
    everyone = principal.role == "admin" and bool(query.get("all"))
    return None if everyone else principal.user_id


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _caller(request: web.Request) -> Principal:
    principal = principal_of(request)
    if principal is None:  # the guard lets no one without a caller reach these
        raise web.HTTPUnauthorized(text="log in first")  # i18n: internal (unreachable)
    return principal
