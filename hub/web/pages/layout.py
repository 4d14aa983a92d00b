"""Pages of the layout itself: the language switch and the list of entity states."""

from __future__ import annotations

from aiohttp import web

from ...auth import Auth
from ...i18n import Text
from ..routes import allow, caller_sees, principal_of
from .errors import refused
from .kit import LANG_COOKIE, LANGUAGES, PageKit, safe_next

LANG_MAX_AGE = 365 * 86_400


class LayoutPages:
    """``/lang/{language}`` (remembered in a cookie) and ``/states``."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [
            web.get("/lang/{language}", self.switch_language),
            web.get("/states", self.states),
        ]

    @allow(scoped=True)
    async def switch_language(self, request: web.Request) -> web.Response:
        """Remember the language chosen (in this browser, and as the user's own on every
        device) and go back where the switch was pressed."""
        language = request.match_info["language"]
        if language not in LANGUAGES:
            raise refused(404, Text("web.unknown_language", language=language,
                                    known=", ".join(LANGUAGES)))
        principal = principal_of(request)
        auth = self.kit.hub.component("auth", Auth) if self.kit.hub.has_component("auth") \
            else None
        if auth is not None and principal is not None and principal.via == "session" \
                and principal.language != language:
            await auth.set_language(principal.user_id, language, by=principal.user_id,
                                    address=request.remote)
        response = web.Response(status=303,
                                headers={"Location": safe_next(request.query.get("next"))})
        response.set_cookie(LANG_COOKIE, language, max_age=LANG_MAX_AGE, path="/",
                            samesite="Lax", httponly=True)
        return response

    @allow(scoped=True)
    async def states(self, request: web.Request) -> web.Response:
        """Every entity state the caller may see, and the plugins (the first dashboard)."""
        hub = self.kit.hub
        states = sorted((state for state in hub.states.all()
                         if caller_sees(request, "entity_id", state.entity_id)),
                        key=lambda s: s.entity_id)
        return self.kit.render(request, "states.html", states=states,
                               plugins=sorted(hub.plugins.all(), key=lambda p: p.name))
