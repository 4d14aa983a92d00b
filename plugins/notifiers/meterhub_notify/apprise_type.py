"""The ``apprise`` notifier type: SMS gateways, WeChat pushers, WeCom, DingTalk, e-mail, webhooks.

Apprise sends with blocking HTTP calls, so each send runs in a small thread pool of its own,
never on the event loop; its socket timeouts are capped to the notifier's timeout, so a hung
server frees the thread as soon as the outbox gives up on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from . import redact
from .const import DEFAULT_TYPE
from .notifier import DeliveryError, Message, Target

_LOGGER = logging.getLogger(__name__)

SEND_THREADS = 8
SOCKET_MARGIN = 1.0  # seconds the socket may outlast the outbox's timeout


def _asset() -> Any:
    """An apprise asset that logs URLs privately and writes no files."""
    import apprise  # imported when first needed: the CLI starts faster without it

    try:
        return apprise.AppriseAsset(app_id="MeterHub", app_desc="MeterHub",
                                    secure_logging=True, storage_mode="memory")
    except (AttributeError, TypeError):  # apprise < 1.9: no persistent storage
        return apprise.AppriseAsset(app_id="MeterHub", app_desc="MeterHub")


def _known_schemes() -> Any:
    """Apprise's plugin manager (``'json' in it``), or None when this apprise has none."""
    try:
        from apprise.manager_plugins import NotificationManager
    except ImportError:
        return None
    return NotificationManager()  # type: ignore[no-untyped-call]


def check_url(url: str) -> str | None:
    """Why apprise cannot use ``url`` (text safe to show: no URL in it), or None."""
    redact.install()
    redact.add_secret(url)  # before apprise sees it: it logs URLs it cannot parse
    scheme = redact.scheme_of(url)
    if scheme == "?":
        return ("expected an apprise URL like 'wxpusher://TOKEN/UID', got text without "
                "a 'scheme://'")
    manager = _known_schemes()
    if manager is not None and scheme[:-3] not in manager:
        return (f"expected an apprise URL, got the unknown scheme '{scheme}' "
                "(see https://github.com/caronc/apprise/wiki for the services)")
    if _instantiate(url) is None:
        return (f"expected an apprise URL, got a '{scheme}' URL that apprise cannot use "
                "(a token, user or host missing?)")
    return None


def _instantiate(url: str) -> Any:
    """Apprise's service object for a URL, or None."""
    import apprise

    return apprise.Apprise.instantiate(url, asset=_asset())


def apprise_url(value: Any) -> str:
    """A voluptuous validator: a URL apprise knows how to send to."""
    text = cv.string(value).strip()
    problem = check_url(text)
    if problem is not None:
        raise vol.Invalid(problem)
    return text


class AppriseTarget:
    """One apprise URL; sends in the type's thread pool."""

    def __init__(self, kind: AppriseType, url: str) -> None:
        redact.add_secret(url)
        self.kind = kind
        self.label = redact.scheme_of(url)
        self._url = url
        self._plugin: Any = None

    def __repr__(self) -> str:
        return f"<AppriseTarget {self.label}>"  # never the URL

    async def send(self, message: Message, timeout: float) -> None:
        """Send in a worker thread; raise DeliveryError when apprise reports a failure."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.kind.executor(), self._send, message, timeout)

    def _send(self, message: Message, timeout: float) -> None:
        plugin = self._plugin
        if plugin is None:
            plugin = _instantiate(self._url)
            if plugin is None:
                raise DeliveryError(Text("notify.apprise_url", label=self.label), permanent=True)
            self._plugin = plugin
        # the outbox gives up after ``timeout``; the socket shortly after, freeing the thread
        limit = timeout + SOCKET_MARGIN
        for attribute in ("socket_connect_timeout", "socket_read_timeout"):
            current = getattr(plugin, attribute, None)
            if isinstance(current, int | float):
                setattr(plugin, attribute, min(float(current), limit))
        redact.FILTER.take_problem()
        try:
            delivered = plugin.notify(body=message.message, title=message.title)
        except Exception as err:  # a plugin bug: report it like a failed send
            raise DeliveryError(Text("notify.apprise_crashed", kind=type(err).__name__,
                                     reason=redact.redact(str(err)))) from None
        if not delivered:
            problem = redact.FILTER.take_problem()  # apprise's own words, redacted
            raise DeliveryError(Text("notify.apprise_refused", reason=problem) if problem
                                else Text("notify.apprise_failed"))


class AppriseType:
    """``type: apprise`` (the default): ``urls:`` is a list of apprise URLs."""

    name = DEFAULT_TYPE

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._tenant_targets: dict[str, AppriseTarget] = {}

    def schema(self) -> Mapping[Any, Any]:
        """``urls``: one URL or a list, each checked by apprise at check-config time."""
        return {vol.Required("urls"): vol.All(cv.ListOf(apprise_url, allow_single=True),
                                              vol.Length(min=1, msg=Text("notify.one_url")))}

    def targets(self, notifier: str, config: Mapping[str, Any]) -> list[Target]:
        """One target per URL."""
        redact.install()
        return [AppriseTarget(self, url) for url in config["urls"]]

    def tenant_target(self, url: str) -> AppriseTarget:
        """The target of a tenant's URL (kept, so apprise parses each URL once)."""
        redact.install()
        target = self._tenant_targets.get(url)
        if target is None:
            if len(self._tenant_targets) >= 10_000:
                self._tenant_targets.clear()
            target = self._tenant_targets[url] = AppriseTarget(self, url)
        return target

    def executor(self) -> ThreadPoolExecutor:
        """The send threads (made on first use)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(SEND_THREADS,
                                                thread_name_prefix="meterhub-notify")
        return self._executor

    def close(self) -> None:
        """Stop the send threads (a send in progress ends by its socket timeout)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
