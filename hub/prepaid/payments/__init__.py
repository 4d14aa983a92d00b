"""Payments: the order book and the provider contract (cash, WeChat Pay, Alipay, a bank).

A core plugin above the ledger (in the prepaid layer): it claims the ``payments:`` block,
builds one provider per ``providers:`` entry from the types plugins register through
``register_payment_providers``, keeps the orders (storage schema v11), registers the
``payment.*`` services and the providers' notification routes. A payment is credited through
``account.recharge``, so the ledger, thresholds, relay closing and ``payment_received``
notices work as for a recharge at the desk. See docs/payments.md.

Provider plugins import this module's ``__all__`` (the contract in ``provider.py``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ...hookspecs import hookimpl
from ...i18n import Text, text_of
from ...ledger import Money
from ...storage import Storage
from ...util.dt import utcnow
from .book import Merchant, PaymentBook
from .config import payments_schema
from .crypto import (
    PrivateKey,
    PublicKey,
    load_certificate,
    load_private_key,
    load_public_key,
    rsa_sign,
    rsa_verify,
)
from .provider import (
    BillLine,
    Channel,
    Checkout,
    HttpProvider,
    Notification,
    NotificationRejected,
    OrderRequest,
    Payment,
    PaymentProvider,
    PaymentProviderType,
    PaymentState,
    ProviderError,
    RefundOutcome,
    RefundState,
    Reply,
)
from .services import register_services

if TYPE_CHECKING:
    from ...core import Hub
    from ...plugins import Registries

__all__ = [
    "BillLine", "Channel", "Checkout", "HttpProvider", "Notification", "NotificationRejected",
    "OrderRequest",
    "Payment", "PaymentBook", "PaymentProvider", "PaymentProviderType", "PaymentState",
    "PrivateKey", "ProviderError", "PublicKey", "RefundOutcome", "RefundState", "Reply",
    "load_certificate", "load_private_key", "load_public_key", "rsa_sign", "rsa_verify",
]

_LOGGER = logging.getLogger(__name__)


@hookimpl
def config_schema(registries: Registries) -> dict[str, Any]:
    """Claim ``payments``."""
    return {"payments": payments_schema(registries)}


@hookimpl
def check_config(config: dict[str, Any], registries: Registries) -> list[tuple[list[Any], str]]:
    """Each provider entry can be built: its keys load, its options agree."""
    problems: list[tuple[list[Any], str]] = []
    for index, entry in enumerate((config.get("payments") or {}).get("providers") or []):
        kind = registries.payment_providers.get(entry.get("provider"))
        if kind is None:
            continue
        try:
            kind.create(entry, utcnow)
        except (ValueError, TypeError) as err:
            problems.append((["payments", "providers", index],
                             Text("payments.entry", provider=entry["provider"],
                                  reason=text_of(err))))
    return problems


@hookimpl
def setup(hub: Hub) -> None:
    """The order book, its providers, services and stage (needs the ledger)."""
    settings = hub.config.block("payments")
    if not settings or not settings["providers"] or not hub.has_component("money"):
        return
    money = hub.component("money", Money)
    registry = hub.plugins.registries.payment_providers
    merchants = []
    for entry in settings["providers"]:
        kind: PaymentProviderType | None = registry.get(entry["provider"])
        if kind is None:  # the schema let only registered providers through
            continue
        try:
            provider = kind.create(entry, money.ledger.clock)
        except (ValueError, TypeError) as err:  # check-config names it with file and line
            _LOGGER.error("Payment provider %s of landlord %s is off: %s", entry["provider"],
                          entry.get("landlord") or "(all)", err)
            continue
        merchants.append(Merchant(entry["provider"], entry.get("landlord", ""), provider,
                                  entry))
    book = PaymentBook(hub, hub.component("storage", Storage), money.ledger, money.accounts,
                       settings, merchants, money.ledger.clock)
    hub.add_component("payments", book)
    register_services(hub, book)
    hub.add_stage("payments", start=book.start, stop=book.stop, requires=("ledger",))

