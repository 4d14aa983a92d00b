"""Cost sharing (公摊): a common meter's cost split among a share group of accounts.

Each calendar month, the common meter's consumption (storage rollups, hour by hour so
time-of-use prices apply) is priced with its tariff — usage lines, the tariff's fixed fees
and minimum charge, as the meter's own bill would be — EXACTLY, and the sum is rounded
once, half-up, to the fen: the common cost. The cost is split among the members:

- weights by the rule: ``area`` (m²), ``persons``, ``equal`` (1 each), or ``consumption``
  (the member's own meters of the common meter's kind over the month);
- pro-rata: for area, persons and equal a member weighs ``weight × days occupied / days
  in the month`` (days from move-in to move-out, both included); consumption needs none,
  a member's meters only count what was used. A member with no days, or zero weight, pays
  nothing; when every weight is zero the split is refused naming the group;
- largest remainder: every share is first rounded DOWN to the fen; the fen left over go,
  one each, to the members with the largest remainders; equal remainders go by account id
  (ascending). The shares therefore always sum to the cost exactly, and the same input
  gives the same allocation.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..i18n import Text, text_of
from ..ledger.entries import EntryKind, PostRequest, PostResult
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .analysis.base import (
    KIND_REGISTERS,
    ZERO,
    Catalog,
    MeterFacts,
    Period,
    meter_quantity,
    missing_data,
    quantity_of,
)
from .tariff import ChargeLine, Tariff, TariffError, Usage, round_fen

if TYPE_CHECKING:
    from ..ledger.accounts import Account
    from ..ledger.ledger import Ledger
    from ..storage import Storage
    from .tariffs import TariffBook

_LOGGER = logging.getLogger(__name__)

SPLITS = ("area", "persons", "consumption", "equal", "ratios")
FIXED_SPLITS = ("consumption", "ratios")  # weights not pro-rated by days occupied
HISTORY_DAYS = 366  # tier history looked up before a period (yearly tiers)
_WEIGHT_PLACES = Decimal("0.000001")


def _group(value: dict[str, Any]) -> dict[str, Any]:
    meters = list(value.get("meters") or [])
    single = value.pop("meter", None)
    if single is not None and single not in meters:
        meters.insert(0, single)
    value["meters"] = meters
    if value.get("amount") is not None and value["meters"]:
        raise vol.Invalid(Text("billing.share_both"), path=["amount"])
    if value.get("split") == "ratios":
        if not value.get("ratios"):
            raise vol.Invalid(Text("billing.ratios_needed"),
                              path=["ratios"])
        if not value.get("members") and not value.get("tags"):
            value["members"] = sorted(value["ratios"])
    if not value.get("members") and not value.get("tags"):
        raise vol.Invalid(Text("billing.share_members"), path=["members"])
    return value


def positive_money(value: Any) -> Decimal:
    """An amount to split: yuan above zero with at most 2 decimals."""
    amount = cv.money(value)
    if amount <= 0:
        raise vol.Invalid(Text("billing.split_positive", amount=amount))
    return amount


RATIOS_SCHEMA = vol.Schema({cv.identifier: cv.non_negative_decimal})

SHARE_GROUP_SCHEMA = vol.All(cv.Strict({
    vol.Required("id"): cv.identifier,
    vol.Optional("name"): cv.string,
    vol.Optional("meter"): cv.identifier,
    vol.Optional("meters", default=[]): cv.ListOf(cv.identifier, allow_single=True),
    vol.Optional("members", default=[]): cv.ListOf(cv.identifier, allow_single=True),
    vol.Optional("tags", default={}): vol.Schema({cv.slug: cv.string}),
    vol.Required("split"): cv.one_of(*SPLITS),
    vol.Optional("tariff"): cv.identifier,
    vol.Optional("period", default="monthly"): cv.one_of("monthly"),
    vol.Optional("wait_days", default=3): cv.non_negative_int,
    vol.Optional("post", default=True): cv.boolean,
    vol.Optional("ratios", default={}): RATIOS_SCHEMA,
    vol.Optional("invoices_only", default=False): cv.boolean,
    vol.Optional("amount"): positive_money,
}), _group)

SHARE_GROUPS_SCHEMA = cv.ListOf(SHARE_GROUP_SCHEMA, unique="id")


class ShareError(Exception):
    """A split that cannot be made; the message names the group and what is wrong."""


@dataclass(frozen=True)
class ShareGroup:
    """One configured share group."""

    id: str
    split: str
    meters: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    tariff: str | None = None
    name: str = ""
    wait_days: int = 3
    post: bool = True
    ratios: Mapping[str, Decimal] = field(default_factory=dict)
    invoices_only: bool = False  # no common meter: it splits invoices (see invoice_split)
    amount: Decimal | None = None  # a fixed monthly cost split instead of a meter's

    @classmethod
    def from_config(cls, entry: Mapping[str, Any], catalog: Catalog | None = None) -> ShareGroup:
        """Build from a validated entry; meters naming the group join its common meters."""
        meters = list(entry.get("meters") or [])
        if catalog is not None:
            meters += sorted(m.id for m in catalog.meters.values()
                             if m.share_group == entry["id"] and m.id not in meters)
        return cls(id=entry["id"], split=entry["split"], meters=tuple(meters),
                   members=tuple(entry.get("members") or ()), tags=dict(entry.get("tags") or {}),
                   tariff=entry.get("tariff"), name=entry.get("name") or entry["id"],
                   wait_days=int(entry.get("wait_days", 3)), post=bool(entry.get("post", True)),
                   ratios=dict(entry.get("ratios") or {}),
                   invoices_only=bool(entry.get("invoices_only", False)),
                   amount=entry.get("amount"))


def resolve_members(members: Iterable[str], tags: Mapping[str, str],
                    account_tags: Mapping[str, Mapping[str, str]],
                    meters: Iterable[tuple[str | None, Mapping[str, str]]],
                    common: Iterable[str] = ()) -> list[str]:
    """The member accounts, sorted: the listed ones, plus (with ``tags``) every account
    carrying all the tags and every account owning a meter that carries them all."""
    chosen = set(members)
    if tags:
        def matches(have: Mapping[str, str]) -> bool:
            return all(str(have.get(key)) == str(value) for key, value in tags.items())

        chosen |= {account for account, have in account_tags.items() if matches(have)}
        chosen |= {account for account, have in meters
                   if account is not None and account in account_tags and matches(have)}
    chosen -= set(common)  # the common meter's own account (if any) does not share in it
    return sorted(chosen)


def split_largest_remainder(total_fen: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """Split ``total_fen`` by weight; shares always sum to the total (see the module doc).

    Raises ValueError for a negative total or weight, ZeroDivisionError if all weights are 0.
    """
    if total_fen < 0:
        raise ValueError(  # i18n: internal (a bug: callers pass >= 0)
            f"cannot split a negative amount ({total_fen} fen)")
    if any(weight < 0 for weight in weights.values()):
        raise ValueError("weights must not be negative")  # i18n: internal (a bug: callers check)
    whole = sum(weights.values(), Fraction(0))
    if whole == 0:
        raise ZeroDivisionError("every weight is zero")  # i18n: internal (caught, re-raised keyed)
    quotas = {key: total_fen * weight / whole for key, weight in weights.items()}
    shares = {key: math.floor(quota) for key, quota in quotas.items()}
    left = total_fen - sum(shares.values())
    for key in sorted(quotas, key=lambda k: (-(quotas[k] - shares[k]), k))[:left]:
        shares[key] += 1
    return shares


def occupied_days(account: Account, period: Period) -> int:
    """Days of the period the account occupied (move-in to move-out, both included)."""
    first = max(period.start, account.move_in or period.start)
    last = min(period.last_day, account.move_out or period.last_day)
    return max(0, (last - first).days + 1)


@dataclass(frozen=True)
class ShareLine:
    """One member's share: the basis (m², persons, quantity or 1), days, weight, amount."""

    account_id: str
    basis: Decimal
    days: int
    weight: Fraction
    amount: Decimal

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (money and quantities as text)."""
        return {"account_id": self.account_id, "basis": self.basis, "days": self.days,
                "weight": weight_decimal(self.weight), "amount": self.amount}


@dataclass(frozen=True)
class CommonMeter:
    """A common meter's part of the cost."""

    meter_id: str
    tariff_id: str
    quantity: Decimal
    unit: str
    amount: Decimal  # exact, unrounded

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return {"meter_id": self.meter_id, "tariff": self.tariff_id,
                "quantity": self.quantity, "unit": self.unit, "amount": self.amount}


@dataclass(frozen=True)
class Allocation:
    """A group's common cost for a period and how it is split."""

    group_id: str
    period: Period
    split: str
    meters: tuple[CommonMeter, ...]
    cost: Decimal
    lines: tuple[ShareLine, ...]
    priced: tuple[tuple[str, ChargeLine], ...] = ()  # (meter id, exact line)
    missing: tuple[str, ...] = ()  # meters whose data for the period is not complete

    @property
    def quantity(self) -> Decimal:
        """The common meters' total consumption."""
        return sum((meter.quantity for meter in self.meters), ZERO)

    @property
    def complete(self) -> bool:
        """Whether every meter involved has readings up to the period's end."""
        return not self.missing

    def key(self, account_id: str) -> str:
        """The ledger idempotency key of one member's share."""
        return f"share:{self.group_id}:{self.period.label}:{account_id}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (the ``share_allocated`` event's data)."""
        return {
            "group": self.group_id, "period": self.period.label, "split": self.split,
            "quantity": self.quantity, "cost": self.cost, "complete": self.complete,
            "missing": list(self.missing), "meters": [m.as_dict() for m in self.meters],
            "shares": [line.as_dict() for line in self.lines],
            "priced": [{"meter_id": meter_id, "tariff": line.tariff_id, "component": line.component,
                        "key": line.key, "quantity": line.quantity,
                        "unit_price": line.unit_price, "amount": line.amount}
                       for meter_id, line in self.priced],
        }


def weight_decimal(weight: Fraction) -> Decimal:
    """A weight for display: 6 decimals."""
    return (Decimal(weight.numerator) / Decimal(weight.denominator)).quantize(_WEIGHT_PLACES)


def allocate(group: ShareGroup, period: Period, cost: Decimal,
             bases: Mapping[str, tuple[Decimal, int]]) -> tuple[ShareLine, ...]:
    """Split ``cost`` by the members' (basis, days occupied); pro-rata unless by consumption."""
    weights: dict[str, Fraction] = {}
    for account_id, (basis, days) in bases.items():
        weight = Fraction(basis)
        if group.split not in FIXED_SPLITS:
            weight *= Fraction(days, period.days)
        weights[account_id] = weight
    if not weights:
        raise ShareError(Text("share.no_members", group=group.id))
    try:
        fen = (split_largest_remainder(int(cost.scaleb(2)), weights) if cost
               else dict.fromkeys(weights, 0))
    except ZeroDivisionError:
        raise ShareError(Text("share.zero_weights", group=group.id, split=group.split,
                              period=period.label, cost=cost)) from None
    return tuple(ShareLine(account_id, bases[account_id][0], bases[account_id][1],
                           weights[account_id], Decimal(fen[account_id]).scaleb(-2))
                 for account_id in sorted(bases))


class ShareCalculator:
    """Prices a group's common meters and splits the cost among its members."""

    def __init__(self, storage: Storage, tariffs: TariffBook | None, catalog: Catalog,
                 accounts: Mapping[str, Account]) -> None:
        self.storage = storage
        self.tariffs = tariffs
        self.catalog = catalog
        self.accounts = accounts

    def members(self, group: ShareGroup) -> list[str]:
        """The group's member accounts (known ones only)."""
        found = resolve_members(
            group.members, group.tags,
            {account_id: account.tags for account_id, account in self.accounts.items()},
            [(m.account, m.tags) for m in self.catalog.meters.values()],
            [self.catalog.meters[m].account or "" for m in group.meters
             if m in self.catalog.meters])
        unknown = [account for account in found if account not in self.accounts]
        if unknown:
            raise ShareError(Text("share.unknown_accounts", group=group.id,
                                  accounts=", ".join(unknown)))
        return found

    async def allocation(self, group: ShareGroup, period: Period) -> Allocation:
        """The group's allocation for a period (pure: the same data gives the same result)."""
        if not group.meters and group.amount is not None:
            members = self.members(group)
            bases = await self._bases(group, members, "", period)
            return Allocation(group.id, period, group.split, (), group.amount,
                              allocate(group, period, group.amount, bases))
        if not group.meters:
            raise ShareError(Text("share.no_common_meter", group=group.id))
        commons = [self._meter(group, meter_id) for meter_id in group.meters]
        members = self.members(group)
        priced: list[tuple[str, ChargeLine]] = []
        parts: list[CommonMeter] = []
        for meter, tariff in commons:
            lines, quantity = await self._price(group, meter, tariff, period)
            priced.extend((meter.id, line) for line in lines)
            parts.append(CommonMeter(meter.id, tariff.id, quantity, meter.unit,
                                     sum((line.amount for line in lines), ZERO)))
        cost = round_fen(sum((part.amount for part in parts), ZERO))
        bases = await self._bases(group, members, commons[0][0].kind, period)
        watched = [meter.id for meter, _ in commons]
        if group.split == "consumption":
            watched += [m.id for account in members for m in self.catalog.of_account(account)
                        if m.kind == commons[0][0].kind]
        _, end = period.bounds(self.storage.tz)
        missing = tuple(await missing_data(self.storage, watched, end))
        shares = allocate(group, period, cost, bases)
        return Allocation(group.id, period, group.split, tuple(parts), cost, shares,
                          tuple(priced), missing)

    def _meter(self, group: ShareGroup, meter_id: str) -> tuple[MeterFacts, Tariff]:
        meter = self.catalog.get(meter_id)
        if meter is None:
            raise ShareError(Text("share.unknown_meter", group=group.id, meter=meter_id))
        tariff_id = group.tariff or meter.tariff
        if tariff_id is None:
            raise ShareError(Text("share.meter_no_tariff", group=group.id, meter=meter_id))
        if self.tariffs is None:
            raise ShareError(Text("share.no_tariffs", group=group.id))
        try:
            return meter, self.tariffs.get(tariff_id)
        except TariffError as err:
            raise ShareError(Text("share.problem", group=group.id, reason=text_of(err))) from None

    async def _price(self, group: ShareGroup, meter: MeterFacts, tariff: Tariff,
                     period: Period) -> tuple[list[ChargeLine], Decimal]:
        tz = self.storage.tz
        start, end = period.bounds(tz)
        rows = await self.storage.consumption(meter.id, start=start, end=end, resolution="hour")
        quantity = quantity_of(meter.kind, rows)
        usage = [Usage(row.start, row.start + timedelta(hours=1), _main(meter.kind, row.values),
                       {k: v for k, v in row.values.items() if k.startswith("energy_import_t")},
                       (meter.id,)) for row in rows]
        history = await self._history(meter, period)
        try:
            lines = tariff.charges(usage, history=history)
            lines += tariff.period_charges(period.start, period.last_day)
            minimum = tariff.minimum_charge(lines, period.start, period.last_day)
        except TariffError as err:
            raise ShareError(Text("share.meter_problem", group=group.id, meter=meter.id,
                                  reason=text_of(err))) from None
        if minimum is not None:
            lines.append(minimum)
        return lines, quantity

    async def _history(self, meter: MeterFacts, period: Period) -> Callable[[date], Decimal]:
        """Tier history: what the common meter used from a tier period's start to ours."""
        tz = self.storage.tz
        first = period.start - timedelta(days=HISTORY_DAYS)
        rows = await self.storage.consumption(
            meter.id, start=Period.day(first).bounds(tz)[0], end=period.bounds(tz)[0],
            resolution="day")
        daily = [(row.start.astimezone(tz).date(), _main(meter.kind, row.values))
                 for row in rows]

        def history(tier_start: date) -> Decimal:
            return sum((value for day, value in daily if day >= tier_start), ZERO)

        return history

    async def _bases(self, group: ShareGroup, members: Sequence[str], kind: str,
                     period: Period) -> dict[str, tuple[Decimal, int]]:
        bases: dict[str, tuple[Decimal, int]] = {}
        for account_id in members:
            account = self.accounts[account_id]
            days = occupied_days(account, period)
            if group.split == "area":
                if account.area is None:
                    raise ShareError(Text("billing.no_basis", group=group.id, rule="area",
                                          account=account_id))
                basis = Decimal(account.area)
            elif group.split == "persons":
                if account.persons is None:
                    raise ShareError(Text("billing.no_basis", group=group.id, rule="persons",
                                          account=account_id))
                basis = Decimal(account.persons)
            elif group.split == "equal":
                basis = Decimal(1)
            elif group.split == "ratios":
                if account_id not in group.ratios:
                    raise ShareError(Text("billing.no_ratio", group=group.id,
                                          account=account_id))
                basis = group.ratios[account_id]
            else:
                basis = ZERO
                for meter in self.catalog.of_account(account_id):
                    if meter.kind == kind:
                        basis += await meter_quantity(self.storage, meter, period)
            bases[account_id] = (basis, days)
        return bases


def _main(kind: str, values: Mapping[str, Decimal]) -> Decimal:
    for name in KIND_REGISTERS.get(kind, ()):
        if name in values:
            return values[name]
    return ZERO


def bill_period_start(account: Account, period: Period) -> date:
    """The account's bill period (its settlement day) that holds the share's first day."""
    from .periods import period_of

    return period_of(period.start, account.settlement_day).start


async def post_allocation(ledger: Ledger, allocation: Allocation,
                          accounts: Mapping[str, Account],
                          context: Any = None) -> list[PostResult | Exception]:
    """Post every non-zero share as a ``share`` debit with key
    ``share:<group>:<period>:<account>`` (posting again changes nothing)."""
    requests = [PostRequest(
        line.account_id, EntryKind.SHARE, -line.amount, allocation.key(line.account_id),
        context=context, period=bill_period_start(accounts[line.account_id], allocation.period),
        detail={"group": allocation.group_id, "period": allocation.period.label,
                "split": allocation.split, "basis": str(line.basis), "days": line.days,
                "weight": str(weight_decimal(line.weight)), "cost": str(allocation.cost),
                "quantity": str(allocation.quantity)})
        for line in allocation.lines if line.amount > 0]
    results = await ledger.post_many(requests) if requests else []
    for request, result in zip(requests, results, strict=True):
        if isinstance(result, Exception):
            _LOGGER.error("Share %s not posted: %s", request.key, result)
        elif not result.created and result.entry.amount != request.amount:
            _LOGGER.warning("Share %s was posted before as %s, now computed as %s (readings "
                            "changed since): reverse the entry and run the split again to "
                            "correct it", request.key, result.entry.amount, request.amount)
    return results
