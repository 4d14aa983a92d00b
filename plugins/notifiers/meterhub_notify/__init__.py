"""Notifications: ``notify:`` notifiers (apprise URLs), ``notify.*`` services, built-in notices.

Registered through the ``meterhub`` entry-point group exactly as a community plugin would be.
It owns two blocks, ``notify:`` (named notifiers, each a ``notify.<name>`` service) and
``notices:`` (which events become messages for tenants and the landlord); the reference is
docs/notifications.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hub.events import EventType
from hub.hookspecs import hookimpl
from hub.storage import Storage

from . import redact
from .aliyun_sms import AliyunSmsType
from .apprise_type import AppriseType
from .config import check, config_schemas
from .const import CONF_NOTICES, CONF_NOTIFY
from .dispatch import Dispatcher
from .events import EVENT_TYPES
from .file_type import FileType
from .journal import Journal
from .notices import Notices
from .notifier import DeliveryError, Message, NotifierType, Target
from .services import register_services
from .strings import TRANSLATIONS
from .tencent_sms import TencentSmsType
from .wechat_mp import WechatTemplateType

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.plugins import Registries

_LOGGER = logging.getLogger(__name__)

# the stages (when they exist) that may have something to say from the moment they start
SPEAKERS = ("accounts", "ledger", "simulated buses", "links", "simulated DTUs", "metering",
            "billing", "analysis", "control", "automation", "web")

__all__ = ["AppriseType", "DeliveryError", "Message", "NotifierType", "Target"]


@hookimpl
def config_schema(registries: Registries) -> dict[str, Any]:
    """Claim ``notify`` and ``notices``."""
    redact.install()
    return config_schemas(registries)


@hookimpl
def check_config(config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Notices name defined notifiers; tenants' URLs are URLs apprise can use."""
    return check(config)


@hookimpl
def register_notifier_types() -> list[Any]:
    """``apprise``, ``aliyun_sms``, ``tencent_sms``, ``wechat_template`` and ``file``."""
    return [AppriseType(), AliyunSmsType(), TencentSmsType(), WechatTemplateType(),
            FileType()]


@hookimpl
def register_event_types() -> list[EventType]:
    """The events this plugin fires (see docs/events.md)."""
    return list(EVENT_TYPES)


@hookimpl
def translations() -> dict[str, dict[str, str]]:
    """The notices' texts in zh-CN and en."""
    return TRANSLATIONS


@hookimpl
def setup(hub: Hub) -> Any:
    """Build the outboxes, register the services, listen for the notices' events."""
    redact.install()
    storage = hub.component("storage", Storage) if hub.has_component("storage") else None
    notices_block = hub.config.block(CONF_NOTICES) or {}
    language = notices_block.get("language") or hub.config.language

    def translate(key: str, **values: Any) -> str:
        return hub.i18n(key, language, **values)

    dispatcher = Dispatcher(hub, hub.config.block(CONF_NOTIFY) or {}, Journal(hub, storage),
                            translate)
    notices = Notices(hub, dispatcher, notices_block)
    hub.add_component("notify", dispatcher)
    hub.add_component("notices", notices)
    removers = register_services(hub, dispatcher, notices)
    removers.extend(notices.attach())
    async def start() -> None:
        await dispatcher.start()
        await notices.restore()

    # the outbox lives in storage; the workers deliver what every other stage says: they
    # start before the parts that have something to say, and stop after them
    hub.add_stage("notify", start=start, stop=dispatcher.stop, after=("storage",),
                  before=SPEAKERS)
    _LOGGER.debug("Notify: %d notifier(s): %s", len(dispatcher.outboxes),
                  ", ".join(dispatcher.outboxes) or "none")

    def teardown() -> None:
        for remove in removers:
            remove()

    return teardown
