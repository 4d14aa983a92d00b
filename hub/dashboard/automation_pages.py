"""The automations pages: the list (enable, disable, run), each one's runs drawn as a
timeline, and the editor of the automations file (checked as strictly as check-config before
it is saved: a broken text is refused with its problems and nothing is written)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..automation.editor import EditError, automations_file, save_automations
from ..exceptions import ServiceValidationError
from ..i18n import Text, text_of
from ..web.pages import PageKit, caller, refused, refused_unknown
from ..web.routes import allow
from .admin_strings import ADMIN_STRINGS

if TYPE_CHECKING:
    from ..automation import AutomationEngine
    from ..core import Hub


class AutomationPages:
    """``/automations``, ``/automations/{id}``, ``/automations/edit``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [
            web.get("/automations", self.index),
            web.get("/automations/edit", self.edit_form),
            web.post("/automations/edit", self.save),
            web.get("/automations/{automation_id}", self.traces),
            web.post("/automations/{automation_id}/{action:enable|disable|run}", self.act),
        ]

    def _engine(self) -> AutomationEngine:
        from ..automation import AutomationEngine

        if not self.hub.has_component("automation"):
            raise refused(404, Text("web.automations_off"))
        return self.hub.component("automation", AutomationEngine)

    @allow("admin", "operator", "landlord", "viewer", "finance")
    async def index(self, request: web.Request) -> web.Response:
        """Every automation: state, last run, runs kept."""
        kit = PageKit.of(request.app)
        engine = self._engine()
        rows = [{**automation.summary(), "problems": list(automation.problems)}
                for automation in engine.automations.values()]
        return kit.render(request, "automations.html", automations=rows,
                          can_change=kit.may_call(request, "automation.turn_on"))

    @allow("admin", "operator")
    async def act(self, request: web.Request) -> web.Response:
        """Enable, disable or run (confirmed: a run may trip meters) an automation."""
        kit = PageKit.of(request.app)
        automation_id = request.match_info["automation_id"]
        action = request.match_info["action"]
        t = kit.translator(request)
        form = await kit.form(request)
        if action == "run":
            asked = kit.confirm(request, form, title=t("auto.run_confirm_title"),
                                message=t("auto.run_confirm", automation=automation_id))
            if asked is not None:
                return asked
        service = {"enable": "turn_on", "disable": "turn_off", "run": "trigger"}[action]
        if not kit.may_call(request, f"automation.{service}"):
            raise refused(403, Text("web.role_refused", role=caller(request).role,
                                         service=f"automation.{service}"))
        try:  # turn_on / turn_off answer nothing: called without asking for a response
            await self.hub.services.call("automation", service,
                                         {"automation_id": automation_id},
                                         return_response=service == "trigger",
                                         context=caller(request).context())
        except ServiceValidationError as err:
            return kit.redirect(request, "/automations", "; ".join(err.errors), "error")
        return kit.redirect(request, f"/automations/{automation_id}" if action == "run"
                            else "/automations",
                            t(f"auto.{action}_done", automation=automation_id))

    @allow("admin", "operator", "landlord", "viewer", "finance")
    async def traces(self, request: web.Request) -> web.Response:
        """One automation's stored runs, newest first, each drawn as a timeline of steps."""
        kit = PageKit.of(request.app)
        engine = self._engine()
        try:
            automation = engine.get(request.match_info["automation_id"])
        except KeyError:
            raise refused_unknown("automation", request.match_info["automation_id"]) from None
        language = kit.language(request)
        runs = [_worded(_timeline(trace.as_dict()), lambda text: kit.hub.i18n.text(text, language))
                for trace in reversed(automation.traces)]
        return kit.render(request, "automation_traces.html", automation=automation.summary(),
                          runs=runs)

    @allow("admin")
    async def edit_form(self, request: web.Request) -> web.Response:
        """The automations file in an editor."""
        kit = PageKit.of(request.app)
        try:
            found = automations_file(self.hub)
        except EditError as err:
            return kit.fail(request, "automation_edit.html", text_of(err), status=409, text=None,
                            file=None)
        return kit.render(request, "automation_edit.html", text=found.text,
                          file=found.path.name)

    @allow("admin")
    async def save(self, request: web.Request) -> web.Response:
        """Check the text as check-config would; save and run it only when it passes."""
        kit = PageKit.of(request.app)
        posted = (await request.post()).get("text")  # as typed: not stripped
        text = posted.replace("\r\n", "\n") if isinstance(posted, str) else ""
        if text and not text.endswith("\n"):
            text += "\n"
        try:
            loaded, path = await save_automations(self.hub, self._engine(), text)
        except EditError as err:
            name = None
            try:
                name = automations_file(self.hub).path.name
            except EditError:
                pass
            return kit.fail(request, "automation_edit.html", text_of(err), text=text, file=name)
        t = kit.translator(request)
        return kit.redirect(request, "/automations",
                            t("auto.saved", file=path.name, count=loaded))


def _worded(run: dict[str, Any], words: Callable[[str], str]) -> dict[str, Any]:
    """A run with its errors (its own, its conditions' and steps') in the page's language."""
    def each(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**entry, "error": words(entry["error"])} if entry.get("error") else entry
                for entry in entries]
    return {**run, "error": words(run["error"]) if run.get("error") else run.get("error"),
            "conditions": each(run["conditions"]), "steps": each(run["steps"])}


def _timeline(trace: dict[str, Any]) -> dict[str, Any]:
    """A run with each step placed on a 0-100 % time axis (a bar per step)."""
    start = datetime.fromisoformat(trace["started"])
    end = datetime.fromisoformat(trace["finished"]) if trace.get("finished") else None
    moments = [datetime.fromisoformat(step["started"]) for step in trace["steps"]]
    last = max([start, *moments, *([end] if end else [])])
    span = max((last - start).total_seconds(), 0.001)
    steps = []
    for index, (step, moment) in enumerate(zip(trace["steps"], moments, strict=True)):
        following = moments[index + 1] if index + 1 < len(moments) else last
        offset = (moment - start).total_seconds() / span * 100
        width = max((following - moment).total_seconds() / span * 100, 1.5)
        steps.append({**step, "offset": round(min(offset, 98.5), 1),
                      "width": round(min(width, 100 - min(offset, 98.5)), 1),
                      "at": moment})
    return {**trace, "steps": steps, "seconds": round(span, 3), "start": start, "end": end}
