"""The ``tenant.*`` services: links (issue, re-issue, revoke, list), the QR sheet, and the
landlord's announcements. The CLI (``meterhub tenant``) and the API call these."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..config import LANGUAGES
from ..const import SupportsResponse
from ..core import ServiceCall
from ..exceptions import ServiceValidationError
from ..i18n import Text, text_of
from ..storage import LinkRow, from_ms
from ..util.dt import as_local, site_time_zone
from .links import Issued, LinkError, TenantLinks
from .sheet import build_sheet, link_url, render_sheet

if TYPE_CHECKING:
    from jinja2 import Environment

    from ..core import Hub
    from ..ledger import Account

DOMAIN = "tenant"

ACCOUNT = vol.Schema({vol.Required("account_id"): cv.identifier})
LINKS_SCHEMA = vol.Schema({vol.Optional("account_id"): cv.identifier})
SHEET_SCHEMA = vol.Schema({
    vol.Optional("account_ids"): cv.ListOf(cv.identifier, allow_single=True),
    vol.Optional("tags"): vol.Schema({cv.slug: cv.string}),
    vol.Optional("language"): cv.one_of(*LANGUAGES),
})
ANNOUNCE_SCHEMA = vol.Schema({
    vol.Required("text"): vol.All(cv.string, vol.Length(min=1, max=2000)),
    vol.Optional("tags", default={}): vol.Schema({cv.slug: cv.string}),
    vol.Optional("until"): cv.string,
})
WITHDRAW_SCHEMA = vol.Schema({vol.Required("announcement_id"): cv.string})


def base_url(hub: Hub, config: Mapping[str, Any]) -> str:
    """Where links point: ``portal.url``, else this machine's name and the web port."""
    if config.get("url"):
        return str(config["url"])
    from ..web.routes import web_port

    host = hub.config.http_host
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    scheme = "https" if hub.config.ssl_certificate else "http"
    return f"{scheme}://{host}:{web_port(hub) or hub.config.http_port}"


def _ms_text(value: int | None) -> str | None:
    return as_local(from_ms(value)).isoformat() if value is not None else None


def link_dict(row: LinkRow) -> dict[str, Any]:
    """A link as the services show it (never the token: it is not stored)."""
    return {"link_id": row.link_id, "account_id": row.account_id,
            "created": _ms_text(row.created_ms), "created_by": row.created_by,
            "revoked": _ms_text(row.revoked_ms), "revoked_by": row.revoked_by,
            "last_used": _ms_text(row.last_used_ms)}


def register_services(hub: Hub, links: TenantLinks, config: Mapping[str, Any],
                      templates: Environment) -> None:
    """Register the tenant.* services."""
    def refuse(call: ServiceCall, err: Exception) -> ServiceValidationError:
        return ServiceValidationError(call.name, [text_of(err)])

    def shown(issued: Issued) -> dict[str, Any]:
        url = link_url(base_url(hub, config), issued.token)
        return {**link_dict(issued.link), "token": issued.token, "url": url,
                "url_note": None if config.get("url") else
                "portal.url is not set in hub.yaml: the link names this machine as the hub "
                "sees itself; set portal.url to the address tenants' phones reach"}

    async def link(call: ServiceCall) -> dict[str, Any]:
        """Issue the account's tenant link (refused when it has a live one: re-issue)."""
        try:
            return shown(await links.issue(call.data["account_id"], call.context.user_id))
        except LinkError as err:
            raise refuse(call, err) from None

    async def reissue(call: ServiceCall) -> dict[str, Any]:
        """Revoke the account's tenant link and issue a new one."""
        try:
            return shown(await links.reissue(call.data["account_id"], call.context.user_id))
        except LinkError as err:
            raise refuse(call, err) from None

    async def revoke(call: ServiceCall) -> dict[str, Any]:
        """Revoke the account's tenant link."""
        try:
            count = await links.revoke(call.data["account_id"], call.context.user_id)
        except LinkError as err:
            raise refuse(call, err) from None
        return {"account_id": call.data["account_id"], "revoked": count}

    async def list_links(call: ServiceCall) -> dict[str, Any]:
        """Every tenant link (of one account), newest first; tokens are never shown."""
        return {"links": [link_dict(row) for row in
                          await links.links(call.data.get("account_id"))]}

    async def sheet(call: ServiceCall) -> dict[str, Any]:
        """Print the QR sheet: new links for the accounts chosen (by id or tags, else all)."""
        chosen = _choose(links, call)
        language = call.data.get("language") or config.get("language") or hub.config.language
        cards = await build_sheet(links, chosen, base_url(hub, config), call.context.user_id)
        html = render_sheet(templates, cards, site=hub.config.site_name,
                            phone=config.get("phone"), language=language,
                            t=lambda key, **kw: hub.i18n(key, language, **kw))
        return {"html": html, "accounts": [card.account_id for card in cards],
                "urls": {card.account_id: card.url for card in cards}}

    async def announce(call: ServiceCall) -> dict[str, Any]:
        """Show an announcement on the portal of the accounts its tags match (none: all)."""
        until_ms = None
        if call.data.get("until"):
            try:
                until = datetime.fromisoformat(call.data["until"])
            except ValueError:
                raise ServiceValidationError(call.name, [Text(
                    "portal.until", value=cv.show_value(call.data["until"]))]) from None
            if until.tzinfo is None:
                until = until.replace(tzinfo=site_time_zone())
            until_ms = int(until.timestamp() * 1000)
        row = await links.announce(call.data["text"], call.data["tags"], until_ms,
                                   call.context.user_id)
        return {"announcement_id": row.announcement_id}

    async def withdraw(call: ServiceCall) -> dict[str, Any]:
        """Withdraw an announcement."""
        try:
            await links.withdraw(call.data["announcement_id"])
        except LinkError as err:
            raise refuse(call, err) from None
        return {"announcement_id": call.data["announcement_id"], "withdrawn": True}

    async def announcements(call: ServiceCall) -> dict[str, Any]:
        """The current announcements."""
        return {"announcements": [
            {"announcement_id": row.announcement_id, "text": row.text, "tags": row.tags,
             "created": _ms_text(row.created_ms), "created_by": row.created_by,
             "until": _ms_text(row.until_ms)} for row in await links.announcements()]}

    optional = SupportsResponse.OPTIONAL
    register = hub.services.register
    register(DOMAIN, "link", link, ACCOUNT, supports_response=optional)
    register(DOMAIN, "reissue", reissue, ACCOUNT, supports_response=optional)
    register(DOMAIN, "revoke", revoke, ACCOUNT, supports_response=optional)
    register(DOMAIN, "links", list_links, LINKS_SCHEMA, supports_response=SupportsResponse.ONLY)
    register(DOMAIN, "sheet", sheet, SHEET_SCHEMA, supports_response=optional)
    register(DOMAIN, "announce", announce, ANNOUNCE_SCHEMA, supports_response=optional)
    register(DOMAIN, "withdraw", withdraw, WITHDRAW_SCHEMA, supports_response=optional)
    register(DOMAIN, "announcements", announcements, vol.Schema({}),
             supports_response=SupportsResponse.ONLY)


def _choose(links: TenantLinks, call: ServiceCall) -> list[Account]:
    """The accounts a sheet is for: by id, by tags (own or a meter's), else every one."""
    accounts = links.accounts()
    ids = call.data.get("account_ids")
    if ids is not None:
        unknown = [account_id for account_id in ids if account_id not in accounts]
        if unknown:
            raise ServiceValidationError(call.name, [Text("portal.unknown_in_ids",
                                                          account=unknown[0])])
        return [accounts[account_id] for account_id in ids]
    tags = call.data.get("tags") or {}
    chosen = [account for account_id, account in accounts.items()
              if links.scopes.account(tags, account_id)]
    if not chosen:
        raise ServiceValidationError(call.name, [Text("portal.none_matches")])
    return chosen
