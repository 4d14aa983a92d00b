"""Users and tokens (admins), and the audit log (admins and finance): who may do what, and
who did what — ledger entries, commands, holds, setting changes and the access log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..auth import Auth, AuthError
from ..i18n import text_of
from ..storage import AuditFilter
from ..web.pages import PageKit, caller
from ..web.routes import allow
from .admin_strings import ADMIN_STRINGS

if TYPE_CHECKING:
    from ..core import Hub

AUDIT_DAYS = 31
AUDIT_ROWS = 300


def _time(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None


class UserPages:
    """``/users``, ``/audit``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [
            web.get("/users", self.users),
            web.post("/users", self.add_user),
            web.post("/users/{user_id}/{action:disable|enable}", self.set_disabled),
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
        """Who did what in the last month (by user, account or meter)."""
        kit = PageKit.of(request.app)
        query = {key: request.query.get(key) or None for key in ("user", "account", "meter")}
        start = kit.now() - timedelta(days=AUDIT_DAYS)
        rows = await self._auth().audit(AuditFilter(
            user_id=query["user"], account_id=query["account"], meter_id=query["meter"],
            start_ms=int(start.timestamp() * 1000), limit=AUDIT_ROWS))
        shown: list[dict[str, Any]] = [{**row, "time": _time(row["ts"])} for row in rows]
        return kit.render(request, "audit.html", rows=shown, query=query, days=AUDIT_DAYS)
