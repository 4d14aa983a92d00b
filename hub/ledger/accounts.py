"""Accounts (tenants, households, shops) as configured in YAML: the ``accounts:`` block.

An account pays for the meters whose ``account:`` names it. Billing reads area, persons and
move-in/out; prepaid reads thresholds and the trip policy. Runtime changes made through the
API or dashboard are stored and win over YAML for the fields they touch (see README).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import voluptuous as vol

from .. import validation as cv
from ..i18n import Text
from ..util.memory import SharedTable, shared_mapping
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .terms import ProtectionWindows, Thresholds, TripMode


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(cv.string(value))
    except ValueError:
        raise vol.Invalid(Text("ledger.date", value=cv.show_value(value))) from None


def _night(value: Any) -> tuple[time, time]:
    if isinstance(value, list | tuple) and len(value) == 2:  # validated before (or its JSON)
        return cv.time_of_day(value[0]), cv.time_of_day(value[1])
    text = cv.string(value)
    start, sep, end = text.partition("-")
    if not sep:
        raise vol.Invalid(Text("ledger.night", value=cv.show_value(value)))
    return cv.time_of_day(start.strip()), cv.time_of_day(end.strip())


def _levels(value: Any) -> list[Decimal]:
    levels = [cv.money(item) for item in cv.ensure_list(value)]
    if any(level < 0 for level in levels):
        raise vol.Invalid(Text("ledger.levels"))
    return sorted(levels, reverse=True)


PROTECTION_SCHEMA = cv.Strict({
    vol.Optional("nights"): _night,
    vol.Optional("weekends", default=False): cv.boolean,
    vol.Optional("holidays", default=False): cv.boolean,
    vol.Optional("dates", default=[]): cv.ListOf(_date, allow_single=True),
})

TRIP_POLICY_SCHEMA = cv.Strict({
    vol.Optional("mode", default="immediate"): cv.one_of(*TripMode),
    vol.Optional("at", default="10:00"): cv.time_of_day,
    vol.Optional("warn_before", default=timedelta(hours=2)): cv.duration,
    vol.Optional("protection", default={}): PROTECTION_SCHEMA,
})

POSTPAID_SCHEMA = cv.Strict({
    vol.Optional("due_days", default=10): cv.positive_int,
    vol.Optional("grace_days", default=5): cv.non_negative_int,
    vol.Optional("remind_days", default=[-3, 0, 3, 7]): cv.ListOf(int, allow_single=True),
})

def _at_least(low: Decimal, what: str) -> Any:
    """Money of at least ``low``, refused with what it is for."""
    def _validate(value: Any) -> Decimal:
        amount: Decimal = cv.money(value)
        if amount < low:
            raise vol.Invalid(Text("ledger.at_least", what=what, low=low, amount=amount))
        return amount
    return _validate


EMERGENCY_SCHEMA = cv.Strict({
    vol.Optional("amount", default=Decimal("10.00")): _at_least(Decimal("0.00"),
                                                                Text("ledger.what_emergency")),
    vol.Optional("per", default="month"): cv.one_of("month", "year"),
})

CONTACTS_SCHEMA = cv.Strict({
    vol.Optional("phone"): cv.string,
    vol.Optional("email"): cv.string,
    vol.Optional("wechat"): cv.string,
    vol.Optional("notify"): cv.ListOf(cv.string, allow_single=True),  # apprise URLs
})

ACCOUNT_SCHEMA = cv.Strict({
    vol.Required("id"): cv.identifier,
    vol.Optional("name"): cv.string,
    vol.Optional("landlord"): cv.identifier,
    vol.Optional("contacts", default={}): CONTACTS_SCHEMA,
    vol.Optional("area"): cv.non_negative_decimal,  # m², for 公摊 by area
    vol.Optional("persons"): cv.non_negative_int,  # for 公摊 by persons
    vol.Optional("deposit", default=Decimal("0.00")): _at_least(Decimal("0.00"),
                                                                Text("ledger.what_deposit")),
    # 期初余额: the balance carried over from the previous system (or card), posted once
    vol.Optional("opening_balance", default=Decimal("0.00")): cv.money,
    vol.Optional("move_in"): _date,
    vol.Optional("move_out"): _date,
    vol.Optional("billing", default="prepaid"): cv.one_of("prepaid", "postpaid"),
    vol.Optional("settlement_day", default=1): vol.All(cv.positive_int, vol.Range(max=31)),
    vol.Optional("trip_policy", default={}): TRIP_POLICY_SCHEMA,
    vol.Optional("low_balance", default=[Decimal(20), Decimal(5)]): _levels,
    vol.Optional("overdraft", default=Decimal("0.00")): vol.All(cv.money, vol.Range(min=0)),
    vol.Optional("emergency_credit", default={}): EMERGENCY_SCHEMA,
    vol.Optional("max_recharge", default=Decimal("5000.00")): _at_least(
        Decimal("0.01"), Text("ledger.what_max_recharge")),
    vol.Optional("postpaid", default={}): POSTPAID_SCHEMA,
    vol.Optional("tags", default={}): vol.Schema({cv.slug: cv.string}),
})


def _move_dates(account: dict[str, Any]) -> dict[str, Any]:
    move_in, move_out = account.get("move_in"), account.get("move_out")
    if move_in and move_out and move_out < move_in:
        raise vol.Invalid(Text("ledger.move_out", move_out=move_out, move_in=move_in),
                          path=["move_out"])
    return account


ACCOUNTS_SCHEMA = cv.ListOf(vol.All(ACCOUNT_SCHEMA, _move_dates), unique="id")


@dataclass(frozen=True, slots=True)  # no __dict__ an account: 10,000 of them
class Account:
    """One account's configuration, typed."""

    id: str
    name: str
    billing: str
    deposit: Decimal
    opening_balance: Decimal
    thresholds: Thresholds
    trip_mode: TripMode
    trip_at: time
    warn_before: timedelta
    protection: ProtectionWindows
    settlement_day: int
    max_recharge: Decimal
    emergency_amount: Decimal
    emergency_per: str
    area: Decimal | None = None
    persons: int | None = None
    move_in: date | None = None
    move_out: date | None = None
    landlord: str | None = None
    contacts: Mapping[str, Any] = field(default_factory=dict)
    postpaid: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Account:
        """Build from a validated ``accounts:`` entry."""
        policy = config["trip_policy"]
        protection = policy["protection"]
        return cls(
            id=config["id"],
            name=config.get("name") or config["id"],
            billing=config["billing"],
            deposit=config["deposit"],
            opening_balance=config["opening_balance"],
            thresholds=_shared_terms(Thresholds(tuple(config["low_balance"]),
                                                config["overdraft"])),
            trip_mode=TripMode(policy["mode"]),
            trip_at=policy["at"],
            warn_before=policy["warn_before"],
            protection=_shared_terms(ProtectionWindows(
                nights=protection.get("nights"), weekends=protection["weekends"],
                holidays=protection["holidays"], dates=frozenset(protection["dates"]))),
            settlement_day=config["settlement_day"],
            max_recharge=config["max_recharge"],
            emergency_amount=config["emergency_credit"]["amount"],
            emergency_per=config["emergency_credit"]["per"],
            area=config.get("area"),
            persons=config.get("persons"),
            move_in=config.get("move_in"),
            move_out=config.get("move_out"),
            landlord=config.get("landlord"),
            contacts=shared_mapping(config["contacts"]),  # read-only; equal ones shared
            postpaid=shared_mapping(config["postpaid"]),
            tags=shared_mapping(config["tags"]),
        )


# Terms are immutable: 10,000 accounts on the same levels and windows hold one of each
_TERMS: SharedTable[tuple[object, str], Any] = SharedTable()
_T = TypeVar("_T", Thresholds, ProtectionWindows)


def _shared_terms(terms: _T) -> _T:
    """The one object kept for equal terms (compared by their text too: ``5`` and ``5.00``
    are equal Decimals, not the same amount), else ``terms`` itself."""
    shared: _T = _TERMS.share((terms, repr(terms)), terms)
    return shared


def check_accounts(config: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """Meters must name existing accounts."""
    problems: list[tuple[list[Any], str]] = []
    accounts = {account["id"] for account in config.get("accounts") or []}
    for index, meter in enumerate(config.get("meters") or []):
        account = meter.get("account")
        if account is not None and account not in accounts:
            problems.append((["meters", index, "account"],
                             Text("ledger.unknown_account", account=account)))
    return problems
