"""MeterHub built-in plugin: the ``nbiot`` link (NB-IoT meters that sleep and report).

    links:
      - id: nb1
        type: nbiot
        udp: 0.0.0.0:9100            # optional: meters sending raw frames straight to the hub
        allow_from: [10.0.0.0/8]     # optional: the networks raw UDP uplinks may come from
        http: 0.0.0.0:9180           # optional: an own push listener (not behind the API guard)
        command_ttl: 2d              # queued commands expire after this
        udp_window: 5s               # how long a UDP meter listens after its uplink
        ctwing:                      # China Telecom AEP
          token: !secret ctwing_push_token   # required: pushes must carry it (X-Token / ?token=)
          api_url: https://ag-api.ctwing.cn  # downlink (command API); tests use a local server
          app_key: !secret ctwing_app_key
          app_secret: !secret ctwing_app_secret
          master_key: !secret ctwing_master_key
          product_id: "15000001"
        onenet:                      # China Mobile OneNET
          token: !secret onenet_token        # URL verification and push signatures
          api_url: https://api.heclouds.com
          api_key: !secret onenet_api_key
    meters:
      - {id: w101, model: nb_water, link: nb1, address: "00000000001234",
         link_options: {imei: "861234567890123", device_id: "15000001861234567890123"}}

Pushes arrive on ``/api/nbiot/<link id>/ctwing`` and ``/api/nbiot/<link id>/onenet`` of the
hub's web server (and of the own listener). A platform's pushes are refused (404) while its
``token`` is not set, and without the right token or signature (401); each refusal fires a
``link_alarm`` (``push_refused``). ``check-config`` makes a ``ctwing:`` or ``onenet:`` block
without its ``token`` an error, as it does a link its meters cannot reach at all. Commands:
``link.queue_command(meter, command)`` — see :class:`~.link.NbiotLink`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from hub import validation as cv
from hub.events import EventType
from hub.hookspecs import hookimpl
from hub.i18n import Text
from hub.metering.link import LinkType
from hub.metering.link_schema import host_port, network, short_duration

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import DEFAULT_CTWING_API, DEFAULT_ONENET_API, LINK_TYPE, MAX_BODY_DEFAULT, TIME_SYNC
from .events import EVENT_TYPES
from .link import NbiotLink, QueueFull, UplinkPath
from .platforms import PlatformError, ctwing_signature, onenet_signature
from .push import routes

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["TIME_SYNC", "NbiotLink", "NbiotLinkType", "PlatformError",
           "QueueFull", "UplinkPath", "ctwing_signature", "onenet_signature",
           "register_link_types", "register_routes"]


def imei(value: Any) -> str:
    """A 15-digit IMEI (quoted or not)."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(
        value, bool) else ""
    if len(text) != 15 or not text.isdigit():
        raise vol.Invalid(Text("nbiot.imei", value=cv.show_value(value)))
    return text


def url(value: Any) -> str:
    """An http(s) base URL."""
    text = cv.string(value).strip().rstrip("/")
    if not text.startswith(("http://", "https://")) or len(text) < 10:
        raise vol.Invalid(Text("nbiot.url", value=cv.show_value(value)))
    return text


def _text(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return cv.string(value)


def _ctwing(value: Any) -> dict[str, Any]:
    block: dict[str, Any] = cv.Strict({
        vol.Optional("token"): _text,
        vol.Optional("token_header", default="X-Token"): cv.string,
        vol.Optional("api_url"): url,
        vol.Optional("app_key"): _text,
        vol.Optional("app_secret"): _text,
        vol.Optional("master_key"): _text,
        vol.Optional("product_id"): _text,
        vol.Optional("operator", default="meterhub"): cv.string,
        vol.Optional("level", default=1): vol.All(cv.non_negative_int, vol.Range(max=2)),
        vol.Optional("data_type", default=2): vol.All(cv.positive_int, vol.Range(max=2)),
        vol.Optional("max_ttl", default=172800): cv.positive_int,
    })(value)
    keys = [k for k in ("app_key", "app_secret", "master_key") if block.get(k)]
    if keys and len(keys) < 3:
        missing = sorted({"app_key", "app_secret", "master_key"} - set(keys))
        raise vol.Invalid(Text("nbiot.ctwing_keys", missing=", ".join(missing)))
    if keys:
        block.setdefault("api_url", DEFAULT_CTWING_API)
    return block


def _onenet(value: Any) -> dict[str, Any]:
    block: dict[str, Any] = cv.Strict({
        vol.Optional("token"): _text,
        vol.Optional("api_url"): url,
        vol.Optional("api_key"): _text,
        vol.Optional("obj_id", default=3200): cv.non_negative_int,
        vol.Optional("obj_inst_id", default=0): cv.non_negative_int,
        vol.Optional("res_id", default=5750): cv.non_negative_int,
        vol.Optional("ds_id"): cv.string,
        vol.Optional("property", default="payload"): cv.string,
        vol.Optional("value_encoding", default="hex"): cv.one_of("hex", "base64"),
    })(value)
    if block.get("api_key"):
        block.setdefault("api_url", DEFAULT_ONENET_API)
    return block


_DEFAULTS = {"ctwing": _ctwing({}), "onenet": _onenet({})}  # a block not written


class NbiotLinkType(LinkType):
    """``type: nbiot``."""

    name = LINK_TYPE
    description = ("NB-IoT meters that sleep and report: CTWing / OneNET pushes and raw UDP "
                   "uplinks; commands wait in a durable queue for the next uplink")
    meter_keys = {vol.Optional("imei"): imei, vol.Optional("device_id"): _text}

    def schema(self) -> Any:
        return cv.Strict({
            vol.Required("id"): cv.identifier,
            vol.Required("type"): LINK_TYPE,
            vol.Optional("udp"): host_port,
            vol.Optional("allow_from"): cv.ListOf(network, allow_single=True),
            vol.Optional("http"): host_port,
            vol.Optional("max_body", default=MAX_BODY_DEFAULT): vol.All(
                cv.positive_int, vol.Range(min=256, max=1 << 20)),
            vol.Optional("udp_window", default=timedelta(seconds=5)): short_duration,
            vol.Optional("command_ttl", default=timedelta(days=2)): short_duration,
            vol.Optional("max_attempts", default=3): cv.positive_int,
            vol.Optional("max_queue", default=16): cv.positive_int,
            vol.Optional("expiry_check", default=timedelta(seconds=60)): short_duration,
            vol.Optional("api_timeout", default=timedelta(seconds=15)): short_duration,
            vol.Optional("timeout"): short_duration,
            vol.Optional("ctwing", default={}): _ctwing,
            vol.Optional("onenet", default={}): _onenet,
        })

    def create(self, hub: Hub, config: Mapping[str, Any]) -> NbiotLink:
        return NbiotLink(hub, config)


@hookimpl
def register_link_types() -> list[LinkType]:
    """The nbiot link type."""
    return [NbiotLinkType()]


@hookimpl
def check_config(config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """A platform block without its push token, or a link nothing can report to, is an error."""
    problems: list[tuple[list[Any], str]] = []
    for index, link in enumerate(config.get("links") or []):
        if not isinstance(link, Mapping) or link.get("type") != LINK_TYPE:
            continue
        for key, platform, how in (
                ("ctwing", "CTWing", "the token of the CTWing subscription (sent as X-Token)"),
                ("onenet", "OneNET", "the token of the OneNET push (it signs every push)")):
            block = link.get(key) or {}
            if block != _DEFAULTS[key] and not block.get("token"):
                problems.append((["links", index, key], f"link {link.get('id')}: {platform} "
                                 f"pushes are refused without {key}.token: set it to {how}"))
        ways = [link.get("udp"), (link.get("ctwing") or {}).get("token"),
                (link.get("onenet") or {}).get("token")]
        if not any(ways):
            problems.append((["links", index], f"link {link.get('id')}: its meters cannot "
                             "report: set udp, ctwing.token or onenet.token"))
    return problems


@hookimpl
def register_event_types() -> list[EventType]:
    """The events this plugin fires (see docs/events.md)."""
    return list(EVENT_TYPES)


@hookimpl
def register_routes(hub: Hub) -> list[web.RouteDef]:
    """The CTWing and OneNET push endpoints of every nbiot link."""
    return routes()
