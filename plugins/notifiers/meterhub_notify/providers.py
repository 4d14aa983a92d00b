"""What the provider notifier types share: recipients, template parameters, one HTTP exchange.

Chinese SMS and WeChat service-account messages are *templates* approved in advance: the
provider fills fixed parameters, it never takes free text. A notifier entry maps each
parameter to a jinja2 template of the message's variables (``{name: "{{ account }}",
amount: "{{ balance }}"}``). Recipients are the entry's own (``phones``, ``openids``) plus,
with ``to_account: true``, those in the contacts of the account the message is about.
"""

from __future__ import annotations

import abc
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import voluptuous as vol
from jinja2 import TemplateError

from hub import validation as cv
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from . import redact
from .notifier import DeliveryError, Message, Target
from .templates import render, template

_LOGGER = logging.getLogger(__name__)

_PHONE_RE = re.compile(r"^\+?[0-9]{5,15}$")
_MAINLAND_RE = re.compile(r"^1[3-9][0-9]{9}$")
_MAX_PROGRESS = 1000  # messages whose partly delivered recipients are remembered


def phone_number(value: Any) -> str:
    """A voluptuous validator: a phone number (``13800138000`` or ``+8613800138000``)."""
    text = re.sub(r"[\s\-()]", "", cv.string(value))
    if not _PHONE_RE.match(text):
        raise vol.Invalid(Text("notify.phone", value=cv.show_value(value)))
    return text


def national(phone: str) -> str:
    """A mainland number without its ``+86`` / ``0086`` prefix; others in E.164."""
    number = e164(phone)
    return number[3:] if number.startswith("+86") and _MAINLAND_RE.match(number[3:]) \
        else number


def e164(phone: str) -> str:
    """``+86`` before an 11-digit mainland number; other numbers as written."""
    phone = re.sub(r"[\s\-()]", "", phone)
    if phone.startswith("+"):
        return phone
    if phone.startswith("0086"):
        return f"+{phone[2:]}"
    if _MAINLAND_RE.match(phone):
        return f"+86{phone}"
    return f"+{phone}"


def endpoint_url(value: Any) -> str:
    """A voluptuous validator: an ``https://`` (or, for tests, ``http://``) base URL."""
    text = cv.string(value).strip().rstrip("/")
    split = urlsplit(text)
    if split.scheme not in ("http", "https") or not split.netloc:
        raise vol.Invalid(Text("notify.url", value=cv.show_value(value)))
    return text


def secret(value: Any) -> str:
    """A voluptuous validator: a credential (kept out of every log line from now on)."""
    text = cv.string(value).strip()
    if not text:
        raise vol.Invalid(Text("notify.empty_key"))
    redact.add_secret(text)
    return text


PARAMS = vol.Schema({cv.string: template})


def recipient_keys(own: str, own_validator: Any) -> dict[Any, Any]:
    """The entry keys naming recipients: ``own`` (a list) and ``to_account``."""
    return {
        vol.Optional(own, default=[]): cv.ListOf(own_validator, allow_single=True),
        vol.Optional("to_account", default=False): cv.boolean,
    }


def require_recipients(entry: dict[str, Any], own: str) -> dict[str, Any]:
    """Check a whole entry: someone receives (its own list, or the account's contacts)."""
    if not entry.get(own) and not entry.get("to_account"):
        raise vol.Invalid(Text("notify.recipients", own=own))
    return entry


def render_params(params: Mapping[str, str], message: Message) -> dict[str, str]:
    """Each template parameter rendered from the message's variables; permanent on error."""
    variables = {**message.values, "message": message.message, "title": message.title,
                 "notice": message.notice or "", "account_id": message.account_id or ""}
    variables.setdefault("account", message.account_id or "")
    out: dict[str, str] = {}
    for name, source in params.items():
        try:
            out[name] = render(source, variables)
        except TemplateError as err:
            raise DeliveryError(Text("notify.param_error", name=name, reason=str(err)),
                                permanent=True) from None
        except Exception as err:  # the sandbox refused something
            raise DeliveryError(Text("notify.param_error", name=name,
                                     reason=f"{type(err).__name__}: {err}"),
                                permanent=True) from None
    return out


def recipients(own: Iterable[str], message: Message, contact_key: str, to_account: bool,
               form: Callable[[str], str] = str.strip) -> list[str]:
    """The entry's recipients, then the account's contact (``form``-ed, once each)."""
    found = list(own)
    if to_account:
        contact = message.contacts.get(contact_key)
        if contact:
            found.append(str(contact))
    unique = list(dict.fromkeys(form(item) for item in found if item))
    if not unique:
        raise DeliveryError(Text("notify.no_recipient_account", account=message.account_id,
                                 contact=contact_key) if message.account_id else
                            Text("notify.no_recipient", contact=contact_key),
                            permanent=True)
    return unique


class Progress:
    """Recipients already served per message (by its outbox id), so a retry does not send
    twice."""

    def __init__(self) -> None:
        self._done: dict[str | int, set[str]] = {}

    def pending(self, message: Message, wanted: list[str]) -> list[str]:
        """The recipients of ``message`` not yet served."""
        done = self._done.get(_key(message)) or set()
        return [item for item in wanted if item not in done]

    def served(self, message: Message, items: Iterable[str]) -> None:
        """Remember recipients that took ``message``."""
        key = _key(message)
        if key not in self._done and len(self._done) >= _MAX_PROGRESS:
            self._done.clear()
        self._done.setdefault(key, set()).update(items)

    def finished(self, message: Message) -> None:
        """Forget a message once every recipient took it."""
        self._done.pop(_key(message), None)


def _key(message: Message) -> str | int:
    """A message's outbox id (the object itself when it has none: a direct send)."""
    return message.id or id(message)


@dataclass(frozen=True)
class Reply:
    """A provider's answer: HTTP status and the JSON body (``{}`` when it was not JSON)."""

    status: int
    body: Mapping[str, Any]


async def exchange(method: str, url: str, timeout: float, *, provider: str,
                   headers: Mapping[str, str] | None = None,
                   data: bytes | None = None) -> Reply:
    """One HTTP request; network trouble and 5xx without JSON become retryable errors."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                session.request(method, url, headers=dict(headers or {}), data=data) as answer:
            text = await answer.text()
            status = answer.status
    except aiohttp.ClientError as err:
        raise DeliveryError(Text("notify.unreachable", provider=provider,
                                 kind=type(err).__name__)) from None
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        raise DeliveryError(Text("notify.not_json", provider=provider, status=status),
                            permanent=400 <= status < 500 and status not in (408, 429))
    return Reply(status, body)


@dataclass(frozen=True)
class ErrorCode:
    """What a provider's error code means for us: retried or not, and why in plain words."""

    permanent: bool
    text: str


def provider_error(provider: str, code: str, detail: str, table: Mapping[str, ErrorCode],
                   retried: tuple[str, ...], status: int = 200) -> DeliveryError:
    """The DeliveryError for a provider's error code (unknown codes: by prefix and status)."""
    known = table.get(code)
    if known is not None:
        permanent, text = known.permanent, known.text
    else:
        permanent = not (code.startswith(retried) or status >= 500)
        text = Text("notify.retried") if not permanent else Text("notify.not_retried")
    shown = redact.redact(detail)[:200]
    return DeliveryError(Text("notify.provider_refused", provider=provider, code=code,
                              detail=shown, outcome=text), permanent=permanent)


class ProviderTarget:
    """A provider notifier's target: its validated entry and who already took a message."""

    label = "provider"
    provider = "provider"  # the provider's name in errors

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.progress = Progress()

    def finish(self, message: Message, wanted: list[str]) -> None:
        """Forget a message every recipient took; else ask the outbox to send the rest."""
        if self.progress.pending(message, wanted):
            raise DeliveryError(Text("notify.rest_left", provider=self.provider))
        self.progress.finished(message)


class ProviderType(abc.ABC):
    """A provider notifier type: its own keys, the recipient keys, one target per entry."""

    name = "provider"
    recipient_key = "phones"  # the entry's own recipients
    contact_key = "phone"  # what ``to_account`` reads from the account's contacts
    recipient: Any = staticmethod(cv.string)  # the validator of one of them

    @abc.abstractmethod
    def keys(self) -> dict[Any, Any]:
        """The type's keys besides the recipients."""

    def schema(self) -> Mapping[Any, Any]:
        """The type's keys and the recipient keys."""
        return {**self.keys(), **recipient_keys(self.recipient_key, self.recipient)}

    def check_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Someone must receive."""
        return require_recipients(entry, self.recipient_key)

    @abc.abstractmethod
    def target(self, config: Mapping[str, Any]) -> Target:
        """The target of one entry."""

    def targets(self, notifier: str, config: Mapping[str, Any]) -> list[Target]:
        """One target: a call reaches every recipient."""
        return [self.target(config)]

    def close(self) -> None:  # noqa: B027 - a hook a type overrides only if it holds something
        """Nothing held (a session per call)."""
