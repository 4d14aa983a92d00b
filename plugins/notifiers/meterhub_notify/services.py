"""The services: ``notify.<name>`` for each notifier, and ``notify.tenant`` for an account.

Both take ``message`` (a jinja2 template rendered with ``data``) or ``template`` (a built-in
notice, e.g. ``balance_low``, rendered from ``data`` in the site's language), and an optional
``title``. They only queue the message: the answer says ``queued`` (written to the outbox:
it will be sent, or its failure recorded, even across a restart) or why not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from jinja2 import TemplateError

from hub import validation as cv
from hub.const import SupportsResponse
from hub.core import ServiceCall
from hub.exceptions import ServiceValidationError
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .catalog import NOTICES
from .const import DOMAIN, TENANT
from .dispatch import QUEUED, Dispatcher
from .notices import Notices
from .notifier import Message
from .templates import render

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

_TEXT = {
    vol.Optional("message"): cv.string,
    vol.Optional("template"): cv.one_of(*NOTICES),
    vol.Optional("title"): cv.string,
    vol.Optional("data", default={}): vol.Schema({cv.string: object}),
}


def _one_text(data: dict[str, Any]) -> dict[str, Any]:
    if ("message" in data) == ("template" in data):
        raise vol.Invalid(Text("notify.message_or_template"))
    return data


def _account(data: dict[str, Any]) -> dict[str, Any]:
    if "account" in data:  # the DESIGN sketch's spelling
        if "account_id" in data:
            raise vol.Invalid(Text("notify.account_twice"))
        data["account_id"] = data.pop("account")
    if "account_id" not in data:
        raise vol.Invalid(Text("validation.required"), path=["account_id"])
    return data


NOTIFY_SCHEMA = vol.Schema(vol.All(cv.Strict({
    vol.Optional("account_id"): cv.identifier, **_TEXT}), _one_text))
TENANT_SCHEMA = vol.Schema(vol.All(cv.Strict({
    vol.Optional("account_id"): cv.identifier, vol.Optional("account"): cv.identifier,
    **_TEXT}), _one_text, _account))


class Composer:
    """Turns service data into a Message."""

    def __init__(self, hub: Hub, notices: Notices) -> None:
        self.hub = hub
        self.notices = notices

    def compose(self, service: str, data: Mapping[str, Any], account_id: str | None,
                default_title: str | None) -> Message:
        """Render the call's message or notice template; ServiceValidationError if it fails."""
        extra: Mapping[str, Any] = data.get("data") or {}
        kind = data.get("template")
        values = self.notices.values(kind, extra, account_id)
        if kind is None:
            values.update(self.notices.worded(extra))  # a free message: the caller's values
        try:
            if kind is not None:
                message = self.notices.render(kind, extra, account_id)
                text, title = message.message, message.title
            else:
                text, title = render(data["message"], values), ""
            title_source = data.get("title") or (default_title if kind is None else None)
            if title_source:
                title = render(title_source, values)
        except TemplateError as err:
            raise ServiceValidationError(service, [Text("notify.template_error",
                                                        reason=str(err))]) from None
        except Exception as err:  # the sandbox refused something
            raise ServiceValidationError(service, [Text(
                "notify.template_error", reason=f"{type(err).__name__}: {err}")]) from None
        if not text:
            raise ServiceValidationError(service, [Text("notify.empty_message")])
        return Message(text, title, notice=kind, account_id=account_id, data=dict(extra),
                       values=values)


def register_services(hub: Hub, dispatcher: Dispatcher, notices: Notices) -> list[Any]:
    """Register notify.<name> for each notifier and notify.tenant; return the removers."""
    composer = Composer(hub, notices)
    removers = []
    optional = SupportsResponse.OPTIONAL

    def named(name: str) -> Any:
        async def send(call: ServiceCall) -> dict[str, Any]:
            """Send a message through this notifier (queued; retried on failure)."""
            account_id = call.data.get("account_id")
            if account_id is not None and dispatcher.account(account_id) is None:
                raise ServiceValidationError(call.name, [Text("notify.unknown_account",
                                                              account=account_id)])
            message = composer.compose(call.name, call.data, account_id,
                                       dispatcher.titles.get(name))
            outcome = await dispatcher.to_notifier(name, message, call.context)
            return {"queued": outcome == QUEUED, "outcome": outcome}
        return send

    for name in dispatcher.outboxes:
        removers.append(hub.services.register(DOMAIN, name, named(name), NOTIFY_SCHEMA,
                                              supports_response=optional))

    async def tenant(call: ServiceCall) -> dict[str, Any]:
        """Send a message to an account's own contacts (contacts.notify URLs)."""
        account_id = call.data["account_id"]
        if dispatcher.account(account_id) is None:
            raise ServiceValidationError(call.name, [Text("notify.unknown_account",
                                                              account=account_id)])
        title = dispatcher.tenant_title or notices.translate("notify.default_title",
                                                             site=hub.config.site_name)
        message = composer.compose(call.name, call.data, account_id, title)
        outcome = await dispatcher.to_tenant(account_id, message, call.context)
        return {"queued": outcome == QUEUED, "outcome": outcome}

    removers.append(hub.services.register(DOMAIN, TENANT, tenant, TENANT_SCHEMA,
                                          supports_response=optional))
    return removers
