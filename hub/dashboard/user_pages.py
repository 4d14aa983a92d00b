"""Users and tokens (admins), one's own user (everyone: the password), and the audit log
(admins and finance): who may do what, and who did what — ledger entries, commands, holds,
setting changes and the access log."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..auth import Auth, AuthError, LoginRefused
from ..i18n import Text, text_of
from ..ledger import from_fen
from ..storage import AuditFilter
from ..web.access import set_session_cookie
from ..web.pages import PageKit, caller
from ..web.routes import allow
from ..web.server import WebServer
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .admin_strings import ADMIN_STRINGS

if TYPE_CHECKING:
    from ..core import Hub

AUDIT_DAYS = 31  # shown unless another range is asked for
AUDIT_ROWS = 300  # a page
CSV_CHUNK = 2000  # rows read at a time for a download

SOURCE_KEYS = {"ledger": "entry.", "command": "meter.action.", "hold": "hold.",
               "access": "audit.access."}
"""Where each source's action is worded (a setting change is ``scope.field action``)."""


def _time(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _day(text: str | None, default: date, name: str) -> date:
    """A ``YYYY-MM-DD`` query value (``default`` when empty); ValueError names it."""
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(Text("page.not_date", name=name, text=text)) from None


class _Words:
    """An audit row in the caller's words: the page's and the download's."""

    def __init__(self, t: Any, label: Callable[[str, str], str], zone: tzinfo) -> None:
        self.t = t
        self._label = label
        self.zone = zone

    def label(self, key: str, fallback: str | None) -> str:
        return self._label(key, fallback or "")

    def of(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The row with ``time``, ``source_text``, ``what``, ``by`` and ``said`` added."""
        source, action, detail = row["source"], str(row["action"]), row.get("detail")
        prefix = SOURCE_KEYS.get(source)
        said = self.label(f"command.state.{detail}", detail) if source == "command" else \
            self.label(f"said.{detail}", detail) if detail else ""
        return {**row, "time": _time(row["ts"]),
                "source_text": self.label(f"audit.source.{source}", source),
                "what": self.label(prefix + action, action) if prefix else action,
                "by": self.label(f"by.{row['user']}", row["user"]) if row["user"] else "",
                "said": said}

    def heads(self) -> list[str]:
        return [self.t(key) for key in ("alarm.when", "users.user", "audit.source", "audit.what",
                                        "setup.account", "alarm.meter", "audit.ref",
                                        "audit.amount", "audit.detail")]

    def cells(self, row: Mapping[str, Any]) -> list[str]:
        shown = self.of(row)
        moment = shown["time"]
        return [moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S") if moment else "",
                shown["by"], shown["source_text"], shown["what"], row["account_id"] or "",
                row["meter_id"] or "", row["ref"] or "",
                str(from_fen(row["amount_fen"])) if row["amount_fen"] is not None else "",
                shown["said"]]


class UserPages:
    """``/users``, ``/me``, ``/audit``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [
            web.get("/users", self.users),
            web.post("/users", self.add_user),
            web.post("/users/{user_id}/{action:disable|enable}", self.set_disabled),
            web.post("/users/{user_id}/password", self.reset_password),
            web.get("/me", self.me),
            web.post("/me/password", self.change_password),
            web.post("/tokens/{token_id}/revoke", self.revoke_token),
            web.get("/audit", self.audit),
        ]

    def _auth(self) -> Auth:
        return self.hub.component("auth", Auth)

    @allow("admin")
    async def users(self, request: web.Request) -> web.Response:
        """Every user and every token (a token's secret is never shown again)."""
        kit = PageKit.of(request.app)
        return await self._users_page(kit, request)

    async def _users_page(self, kit: PageKit, request: web.Request, *,
                          error: str | None = None, form: dict[str, str] | None = None
                          ) -> web.Response:
        auth = self._auth()
        users = await auth.users()
        tokens = [{"token_id": row.token_id, "name": row.name, "user_id": row.user_id,
                   "role": row.role, "scope": row.scope, "created": _time(row.created_ms),
                   "expires": _time(row.expires_ms), "last_used": _time(row.last_used_ms),
                   "revoked": _time(row.revoked_ms)} for row in await auth.tokens(None)]
        values: dict[str, Any] = {
            "users": users, "tokens": tokens, "form": form or {},
            "roles": ("admin", "landlord", "operator", "finance", "viewer")}
        if error is not None:
            return kit.fail(request, "users.html", error, **values)
        return kit.render(request, "users.html", **values)

    @allow("admin")
    async def add_user(self, request: web.Request) -> web.Response:
        """Add a user (refused with the reason: a taken name, a weak password...)."""
        kit = PageKit.of(request.app)
        form = await kit.form(request)
        scope = {key: form[key] for key in ("building",) if form.get(key)}
        try:
            await self._auth().add_user(form.get("user", ""), form.get("role", ""), scope,
                                        form.get("password") or None,
                                        by=caller(request).user_id, address=request.remote)
        except AuthError as err:
            return await self._users_page(kit, request, error=text_of(err),
                                          form={k: v for k, v in form.items()
                                                if k != "password"})
        t = kit.translator(request)
        return kit.redirect(request, "/users", t("users.added", user=form.get("user")))

    @allow("admin")
    async def set_disabled(self, request: web.Request) -> web.Response:
        """Disable (confirmed: sessions end, tokens stop) or enable a user."""
        kit = PageKit.of(request.app)
        user_id = request.match_info["user_id"]
        disable = request.match_info["action"] == "disable"
        form = await kit.form(request)
        t = kit.translator(request)
        if disable:
            asked = kit.confirm(request, form, title=t("users.disable_title"),
                                message=t("users.disable_confirm", user=user_id))
            if asked is not None:
                return asked
        try:
            await self._auth().set_disabled(user_id, disable, by=caller(request).user_id,
                                            address=request.remote)
        except AuthError as err:
            return kit.redirect(request, "/users", text_of(err), "error")
        return kit.redirect(request, "/users", t("users.disabled" if disable
                                                 else "users.enabled", user=user_id))

    @allow("admin")
    async def reset_password(self, request: web.Request) -> web.Response:
        """Give a user a new password (one who forgot theirs): their sessions end."""
        kit = PageKit.of(request.app)
        user_id = request.match_info["user_id"]
        form = await kit.form(request)
        t = kit.translator(request)
        try:
            await self._auth().set_password(user_id, form.get("password", ""),
                                            by=caller(request).user_id, address=request.remote)
        except AuthError as err:
            return kit.redirect(request, "/users", text_of(err), "error")
        return kit.redirect(request, "/users", t("users.password_set", user=user_id))

    @allow(scoped=True)
    async def me(self, request: web.Request) -> web.Response:
        """The caller's own user: role, scope, language, and a form for a new password."""
        kit = PageKit.of(request.app)
        return kit.render(request, "me.html", me=await self._auth().user(caller(request).user_id))

    @allow(scoped=True)
    async def change_password(self, request: web.Request) -> web.Response:
        """A new password, given the current one: every other session ends, this browser
        stays logged in (with a new session)."""
        kit = PageKit.of(request.app)
        form = await kit.form(request)
        principal = caller(request)
        me = await self._auth().user(principal.user_id)
        if form.get("new", "") != form.get("again", ""):
            return kit.fail(request, "me.html", Text("auth.passwords_differ"), me=me)
        web_server = self.hub.component("web", WebServer)
        try:
            _principal, secret = await self._auth().change_own_password(
                principal.user_id, form.get("current", ""), form.get("new", ""),
                web_server.guard.client_address(request), request.headers.get("User-Agent"))
        except AuthError as err:  # a wrong current password too (counted as a failed login)
            status = 429 if isinstance(err, LoginRefused) and err.retry_after else 400
            return kit.fail(request, "me.html", text_of(err), status=status, me=me)
        t = kit.translator(request)
        response = kit.redirect(request, "/me", t("me.password_changed"))
        set_session_cookie(response, secret, secure=web_server.guard.is_secure(request))
        return response

    @allow("admin")
    async def revoke_token(self, request: web.Request) -> web.Response:
        """Revoke a token (confirmed)."""
        kit = PageKit.of(request.app)
        token_id = request.match_info["token_id"]
        form = await kit.form(request)
        t = kit.translator(request)
        asked = kit.confirm(request, form, title=t("users.revoke_title"),
                            message=t("users.revoke_confirm", token=token_id))
        if asked is not None:
            return asked
        try:
            await self._auth().revoke_token(token_id, by=caller(request),
                                            address=request.remote)
        except AuthError as err:
            return kit.redirect(request, "/users", text_of(err), "error")
        return kit.redirect(request, "/users", t("users.revoked", token=token_id))

    @allow("admin", "finance")
    async def audit(self, request: web.Request) -> web.Response:
        """Who did what between two days (the last month unless asked), by user, account or
        meter; ``?format=csv`` downloads every row of the range in the caller's words."""
        kit = PageKit.of(request.app)
        t = kit.translator(request)
        query = {key: request.query.get(key) or None for key in ("user", "account", "meter")}
        today = kit.now().date()
        try:
            first = _day(request.query.get("from"), today - timedelta(days=AUDIT_DAYS - 1),
                         "from")
            last = _day(request.query.get("to"), today, "to")
            if last < first:
                raise ValueError(Text("page.to_before_from", last=str(last), first=str(first)))
        except ValueError as err:
            error = kit.hub.i18n.text(text_of(err), kit.language(request))
            return kit.fail(request, "audit.html", t("audit.bad_range", error=error),
                            rows=[], query=query, first=today, last=today, page=1, pages=1,
                            keep={})
        zone = kit.zone
        where = AuditFilter(
            user_id=query["user"], account_id=query["account"], meter_id=query["meter"],
            start_ms=_ms(datetime.combine(first, time(), zone)),
            end_ms=_ms(datetime.combine(last + timedelta(days=1), time(), zone)))
        words = _Words(t, kit.labeler(request), zone)
        if request.query.get("format") == "csv":
            return await self._audit_csv(where, words, f"audit-{first}-{last}.csv")
        try:
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            page = 1
        rows = await self._auth().audit(replace(where, limit=AUDIT_ROWS + 1,
                                                offset=(page - 1) * AUDIT_ROWS))
        more = len(rows) > AUDIT_ROWS
        shown = [words.of(row) for row in rows[:AUDIT_ROWS]]
        keep = {key: value for key, value in request.query.items() if key != "page"}
        return kit.render(request, "audit.html", rows=shown, query=query, first=first,
                          last=last, page=page, pages=page + 1 if more else page, keep=keep)

    async def _audit_csv(self, where: AuditFilter, words: _Words, name: str) -> web.Response:
        """Every row of ``where`` as CSV (UTF-8 with a BOM, as Excel opens it)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(words.heads())
        offset = 0
        while True:
            rows = await self._auth().audit(replace(where, limit=CSV_CHUNK, offset=offset))
            for row in rows:
                writer.writerow(words.cells(row))
            if len(rows) < CSV_CHUNK:
                break
            offset += CSV_CHUNK
        return web.Response(body=("\ufeff" + out.getvalue()).encode("utf-8"), headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"'})
