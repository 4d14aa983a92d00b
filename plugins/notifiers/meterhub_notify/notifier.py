"""What a notifier type is (the ``register_notifier_types`` contract) and a message to send.

A notifier type (``apprise`` here; a community plugin may add a GSM modem or a vendor SMS
API) turns one ``notify:`` entry into *targets*. Each target is one delivery endpoint,
retried on its own by the outbox, so a dead e-mail server does not resend the WeChat push.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import (
    DEFAULT_EXPIRE,
    DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_DELAY,
    DEFAULT_STORM,
    DEFAULT_TIMEOUT,
)
from .limits import DELAY, MERGE, Window, window_schema


@dataclass(frozen=True)
class Message:
    """One rendered message: what every target of a notifier receives."""

    message: str
    title: str = ""
    notice: str | None = None  # the built-in notice it renders (balance_low...), if any
    account_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # extra data for types that use it
    # the variables the text was rendered with (display texts: balance "¥12.30", account
    # name...): template-SMS types fill their templates' parameters from them
    values: Mapping[str, Any] = field(default_factory=dict)
    # the contacts of the account the message is about (phone, wechat openid): filled by
    # the dispatcher, for types that address people rather than a fixed URL
    contacts: Mapping[str, Any] = field(default_factory=dict)
    # the message's id in the outbox (set when it is written): what a provider's idempotency
    # key is made of, so a send repeated after a crash is recognised by providers that can
    id: str = ""
    merged: int = 0  # a summary: how many held messages it carries


class DeliveryError(Exception):
    """A target could not deliver; ``permanent`` errors are not retried.

    The text must be safe to log: never put a URL or a token in it.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@runtime_checkable
class Target(Protocol):
    """One endpoint of a notifier (one apprise URL)."""

    label: str  # safe to log: the scheme ("wxpusher://"), never the URL

    async def send(self, message: Message, timeout: float) -> None:
        """Deliver or raise DeliveryError; should give up by itself after ``timeout``."""


@runtime_checkable
class NotifierType(Protocol):
    """A kind of notifier, selected by ``type:`` in a ``notify:`` entry."""

    name: str

    def schema(self) -> Mapping[Any, Any]:
        """The entry keys of this type (besides the delivery keys every entry has)."""

    def targets(self, notifier: str, config: Mapping[str, Any]) -> list[Target]:
        """The targets of one validated entry named ``notifier``."""

    def close(self) -> None:
        """Release what the type holds (threads, sessions) when the hub stops."""


@dataclass(frozen=True)
class DeliverySettings:
    """How hard one notifier tries: timeout per attempt, retries with back-off, queue size."""

    timeout: float = DEFAULT_TIMEOUT.total_seconds()
    retries: int = DEFAULT_RETRIES
    retry_delay: float = DEFAULT_RETRY_DELAY.total_seconds()
    max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY.total_seconds()
    queue_size: int = DEFAULT_QUEUE_SIZE
    expire: float = DEFAULT_EXPIRE.total_seconds()
    storm: Window | None = DEFAULT_STORM
    rate_limit: Window | None = None

    @property
    def windows(self) -> tuple[Window, ...]:
        """The limits on one receiver: the storm guard, then the rate limit."""
        return tuple(window for window in (self.storm, self.rate_limit) if window is not None)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliverySettings:
        """Take the delivery keys of a validated entry."""
        return cls(
            timeout=config["timeout"].total_seconds(),
            retries=config["retries"],
            retry_delay=config["retry_delay"].total_seconds(),
            max_retry_delay=config["max_retry_delay"].total_seconds(),
            queue_size=config["queue_size"],
            expire=config["expire"].total_seconds(),
            storm=config["storm"],
            rate_limit=config.get("rate_limit"),
        )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...)."""
        return float(min(self.retry_delay * 2 ** (attempt - 1), self.max_retry_delay))


def _positive_duration(value: Any) -> Any:
    duration = cv.duration(value)
    if duration.total_seconds() <= 0:
        raise vol.Invalid(Text("notify.duration"))
    return duration


DELIVERY_KEYS: dict[Any, Any] = {
    vol.Optional("timeout", default=DEFAULT_TIMEOUT): _positive_duration,
    vol.Optional("retries", default=DEFAULT_RETRIES): vol.All(
        cv.non_negative_int, vol.Range(max=20)),
    vol.Optional("retry_delay", default=DEFAULT_RETRY_DELAY): cv.duration,
    vol.Optional("max_retry_delay", default=DEFAULT_MAX_RETRY_DELAY): cv.duration,
    vol.Optional("queue_size", default=DEFAULT_QUEUE_SIZE): vol.All(
        cv.positive_int, vol.Range(max=100_000)),
    vol.Optional("expire", default=DEFAULT_EXPIRE): _positive_duration,
    vol.Optional("storm", default=DEFAULT_STORM): window_schema(MERGE),
    vol.Optional("rate_limit"): window_schema(DELAY),
}
