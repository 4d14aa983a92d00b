"""The ``payments:`` block: where notifications come back, timings, the merchant accounts."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ... import validation as cv
from ...i18n import Text
from .. import messages as _messages  # noqa: F401  (the tables of the Texts below)

if TYPE_CHECKING:
    from ...plugins import Registries

DEFAULTS = {"query_after": 120, "query_every": 30, "order_ttl": 1800, "reconcile_at": "02:30"}

# every provider entry has these; the rest is the provider type's own keys
COMMON_KEYS: dict[Any, Any] = {
    vol.Required("provider"): cv.slug,
    vol.Optional("landlord"): cv.identifier,  # whose merchant account (none: every account)
    vol.Optional("sandbox", default=False): cv.boolean,
    vol.Optional("base_url"): vol.All(cv.string, vol.Match(r"^https?://",
                                                           msg=Text("payments.base_url"))),
}


def _url(value: Any) -> str:
    text = cv.string(value).rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise vol.Invalid(Text("payments.url", value=cv.show_value(text)))
    return text


def payments_schema(registries: Registries) -> Any:
    """The ``payments:`` block; each provider entry checked by its type's keys."""
    head = vol.Schema({vol.Required("provider"): cv.slug}, extra=vol.ALLOW_EXTRA)

    def _provider(value: Any) -> dict[str, Any]:
        name = head(value)["provider"]
        kind = registries.payment_providers.get(name)
        if kind is None:
            known = ", ".join(registries.payment_providers.names()) or Text("payments.none_loaded")
            raise vol.Invalid(Text("payments.unknown_provider", known=known,
                                   value=cv.show_value(name)), path=["provider"])
        entry: dict[str, Any] = cv.Strict({**COMMON_KEYS, **dict(kind.keys)})(value)
        return entry

    def _unique(entries: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        seen: set[tuple[str, str]] = set()
        for index, entry in enumerate(entries):
            key = (entry["provider"], entry.get("landlord", ""))
            if key in seen:
                raise vol.Invalid(Text("payments.second_merchant", provider=key[0],
                                       landlord=key[1] or Text("payments.all_landlords")),
                                  path=[index])
            seen.add(key)
        return entries

    return cv.Strict({
        vol.Optional("public_url"): _url,
        vol.Optional("query_after", default=DEFAULTS["query_after"]): cv.duration,
        vol.Optional("query_every", default=DEFAULTS["query_every"]): cv.duration,
        vol.Optional("order_ttl", default=DEFAULTS["order_ttl"]): cv.duration,
        vol.Optional("reconcile_at", default=DEFAULTS["reconcile_at"]): cv.time_of_day,
        vol.Optional("min_amount", default=Decimal("1.00")): cv.money,
        vol.Optional("presets", default=[Decimal(20), Decimal(50), Decimal(100)]):
            cv.ListOf(cv.money, allow_single=True),
        vol.Optional("providers", default=[]): vol.All(
            cv.ListOf(_provider, allow_single=False), _unique),
    })
