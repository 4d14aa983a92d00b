"""The ``notify:`` and ``notices:`` blocks: schemas, and the checks between blocks.

```yaml
notify:
  landlord: {urls: ["wxpusher://AT_xxx/UID_xxx"], title: 阳光公寓}
  ops: "json://ops.example.com/hook"          # shorthand: the URL(s) alone
  tenant: {timeout: 5s, retries: 2}          # delivery settings of notify.tenant (no URLs)
notices:
  balance_low: {notify: [landlord], dedupe: 2h}
  meter_offline: {enabled: false}
```
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub import validation as cv
from hub.config import LANGUAGES
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .apprise_type import check_url
from .catalog import NOTICES
from .const import CONF_NOTICES, CONF_NOTIFY, DEFAULT_DEDUPE, DEFAULT_TYPE, TENANT
from .notifier import DELIVERY_KEYS
from .overlap import overlaps
from .templates import template

if TYPE_CHECKING:
    from hub.plugins import Registries

TENANT_SCHEMA = cv.Strict({
    vol.Optional("title"): template,
    # notifiers (with to_account: true) that also carry tenant messages: SMS to the
    # account's contacts.phone, WeChat template messages to its contacts.wechat
    vol.Optional("via", default=[]): cv.ListOf(cv.slug, allow_single=True),
    **DELIVERY_KEYS,
})

NOTICE_SCHEMA = cv.Strict({
    vol.Optional("enabled", default=True): cv.boolean,
    vol.Optional("tenant"): cv.boolean,
    vol.Optional("notify"): cv.ListOf(cv.slug, allow_single=True),
    vol.Optional("title"): template,
    vol.Optional("message"): template,
    vol.Optional("dedupe"): cv.duration,
    # handed over to an automation: only what happens while the hub starts (before the
    # automations run: a first start's opening balances, a meter found off) is told by it
    vol.Optional("start_up_only", default=False): cv.boolean,
})

NOTICES_SCHEMA = cv.Strict({
    vol.Optional("enabled", default=True): cv.boolean,
    vol.Optional("language"): cv.one_of(*LANGUAGES),
    vol.Optional("dedupe", default=DEFAULT_DEDUPE): cv.duration,
    **{vol.Optional(kind, default={}): NOTICE_SCHEMA for kind in NOTICES},
})


def notify_schema(registries: Registries) -> Any:
    """Notifiers by name; each entry is checked by the schema of its ``type`` (apprise)."""
    head = vol.Schema({vol.Optional("type", default=DEFAULT_TYPE): cv.string},
                      extra=vol.ALLOW_EXTRA)

    def _entry(name: str, value: Any) -> dict[str, Any]:
        if name == TENANT:
            result: dict[str, Any] = TENANT_SCHEMA(value or {})
            return result
        if isinstance(value, str | list):
            value = {"urls": value}  # the shorthand: a URL or a list of URLs
        kind_name = head(value or {})["type"]
        kind = registries.notifier_types.get(kind_name)
        if kind is None:
            known = ", ".join(registries.notifier_types.names()) or Text("notify.none_loaded")
            raise vol.Invalid(Text("notify.unknown_type", known=known,
                                   value=cv.show_value(kind_name)), path=["type"])
        schema = cv.Strict({vol.Optional("type", default=DEFAULT_TYPE): cv.string,
                            vol.Optional("title"): template, **DELIVERY_KEYS,
                            **dict(kind.schema())})
        entry: dict[str, Any] = schema(value or {})
        check_entry = getattr(kind, "check_entry", None)  # optional: checks across keys
        if check_entry is not None:
            entry = check_entry(entry)
        return entry

    def _validate(value: Any) -> dict[str, dict[str, Any]]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise vol.Invalid(Text("notify.by_name"))
        out: dict[str, dict[str, Any]] = {}
        errors: list[vol.Invalid] = []
        for name, entry in value.items():
            try:
                out[cv.slug(name)] = _entry(cv.slug(name), entry)
            except vol.Invalid as err:
                for single in cv.flatten_invalid(err):
                    single.prepend([name])
                    errors.append(single)
        if errors:
            raise vol.MultipleInvalid(errors)
        return out

    return _validate


def config_schemas(registries: Registries) -> dict[str, Any]:
    """The blocks this plugin owns."""
    return {CONF_NOTIFY: notify_schema(registries), CONF_NOTICES: NOTICES_SCHEMA}


def check(config: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """Notices name defined notifiers; tenants' contacts.notify are URLs apprise can use."""
    problems: list[tuple[list[Any], str]] = []
    names = set(config.get(CONF_NOTIFY) or {}) - {TENANT}
    for kind, notice in (config.get(CONF_NOTICES) or {}).items():
        if not isinstance(notice, Mapping):
            continue
        for index, name in enumerate(notice.get("notify") or ()):
            if name == TENANT:
                problems.append(([CONF_NOTICES, kind, "notify", index],
                                 "write 'tenant: true' to send a notice to the tenant"))
            elif name not in names:
                known = ", ".join(sorted(names)) or "none defined"
                problems.append(([CONF_NOTICES, kind, "notify", index],
                                 f"unknown notifier '{name}' (notify: has {known})"))
    tenant = (config.get(CONF_NOTIFY) or {}).get(TENANT) or {}
    for index, name in enumerate(tenant.get("via") or ()):
        entry = (config.get(CONF_NOTIFY) or {}).get(name)
        if entry is None or name == TENANT:
            known = ", ".join(sorted(names)) or "none defined"
            problems.append(([CONF_NOTIFY, TENANT, "via", index],
                             f"unknown notifier '{name}' (notify: has {known})"))
        elif not entry.get("to_account"):
            problems.append(([CONF_NOTIFY, TENANT, "via", index],
                             f"notifier '{name}' needs 'to_account: true' to reach a tenant"))
        elif entry.get("phones") or entry.get("openids"):
            problems.append(([CONF_NOTIFY, TENANT, "via", index],
                             f"notifier '{name}' has recipients of its own: they would get "
                             "every tenant's messages (keep it for tenants only)"))
    for index, account in enumerate(config.get("accounts") or ()):
        urls = ((account.get("contacts") or {}).get("notify") or ()) if isinstance(
            account, Mapping) else ()
        for position, url in enumerate(urls):
            problem = check_url(str(url))
            if problem is not None:
                problems.append((["accounts", index, "contacts", "notify", position], problem))
    return problems + overlaps(config)


def dedupe_of(notices: Mapping[str, Any], kind: str) -> timedelta:
    """The rate-limit window of one notice kind."""
    own = (notices.get(kind) or {}).get("dedupe")
    window: timedelta = own if own is not None else notices.get("dedupe", DEFAULT_DEDUPE)
    return window
