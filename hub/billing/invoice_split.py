"""公摊 of an amount: a utility invoice with no meter in the hub, split among a group's members.

A common water bill or a lift's electricity invoice covers some period (any days, not only a
calendar month). Its amount is split among a share group's members by ``area``, ``persons``,
``equal`` shares (each pro-rated by the days the member occupied in the invoice's period) or
fixed ``ratios`` (not pro-rated), with the largest-remainder rule of :mod:`.sharing`: the
shares sum to the amount exactly. Posting writes one ``share`` debit per member whose share
is not zero, with the idempotency key ``share:<group>:invoice:<invoice>:<account>``: posting
the same invoice again posts nothing; the same invoice number with another split is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..i18n import Text, text_of
from ..ledger.entries import EntryKind, PostRequest
from ..util.calendar import date_value
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .analysis.base import Period
from .sharing import (
    RATIOS_SCHEMA,
    ShareError,
    ShareGroup,
    ShareLine,
    allocate,
    bill_period_start,
    occupied_days,
    positive_money,
    weight_decimal,
)

if TYPE_CHECKING:
    from ..ledger.accounts import Account
    from ..ledger.ledger import Ledger

_LOGGER = logging.getLogger(__name__)

INVOICE_SPLITS = ("area", "persons", "equal", "ratios")
MAX_INVOICE_DAYS = 3660  # ten years: a typo in a year otherwise splits by nonsense days



SPLIT_SCHEMA = vol.Schema({
    vol.Required("group"): cv.identifier,
    vol.Required("amount"): positive_money,
    vol.Required("start"): date_value,
    vol.Required("end"): date_value,
    vol.Optional("invoice"): vol.All(cv.string, vol.Length(min=1, max=64)),
    vol.Optional("split"): cv.one_of(*INVOICE_SPLITS),
    vol.Optional("ratios"): RATIOS_SCHEMA,
    vol.Optional("post", default=False): cv.boolean,
})


@dataclass(frozen=True)
class InvoiceSplit:
    """An invoice's amount split among the members."""

    group_id: str
    invoice: str | None
    amount: Decimal
    period: Period
    split: str
    lines: tuple[ShareLine, ...]

    def key(self, account_id: str) -> str:
        """The ledger idempotency key of one member's share of this invoice."""
        return f"share:{self.group_id}:invoice:{self.invoice}:{account_id}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return {"group": self.group_id, "invoice": self.invoice, "amount": self.amount,
                "start": self.period.start.isoformat(), "end": self.period.last_day.isoformat(),
                "days": self.period.days, "split": self.split,
                "shares": [line.as_dict() for line in self.lines]}


def split_invoice(group: ShareGroup, members: Sequence[str], accounts: Mapping[str, Account],
                  *, amount: Decimal, start: date, end: date, invoice: str | None = None,
                  split: str | None = None,
                  ratios: Mapping[str, Decimal] | None = None) -> InvoiceSplit:
    """Split ``amount`` for the days [start, end] (see the module doc); ShareError says why
    it cannot be split."""
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ShareError(Text("billing.invoice_amount", group=group.id, amount=amount))
    if end < start:
        raise ShareError(Text("billing.invoice_order", group=group.id, end=end, start=start))
    period = Period(start, date.fromordinal(end.toordinal() + 1), "span")
    if period.days > MAX_INVOICE_DAYS:
        raise ShareError(Text("billing.invoice_days", group=group.id, days=period.days,
                              limit=MAX_INVOICE_DAYS, start=start, end=end))
    rule = split or group.split
    if rule not in INVOICE_SPLITS:
        raise ShareError(Text("billing.invoice_rule", group=group.id, rule=rule,
                              splits=", ".join(INVOICE_SPLITS)))
    weights = dict(ratios if ratios is not None else group.ratios)
    if rule == "ratios":
        chosen = sorted(weights) if not members else list(members)
        missing = [account for account in chosen if account not in weights]
        if missing:
            raise ShareError(Text("billing.invoice_no_ratios", group=group.id,
                                  accounts=", ".join(missing)))
        members = chosen
    unknown = [account for account in members if account not in accounts]
    if unknown:
        raise ShareError(Text("billing.invoice_unknown", group=group.id,
                              accounts=", ".join(unknown)))
    bases: dict[str, tuple[Decimal, int]] = {}
    for account_id in members:
        account = accounts[account_id]
        if rule == "ratios":
            basis = weights[account_id]
        elif rule == "equal":
            basis = Decimal(1)
        else:
            value = getattr(account, rule)
            if value is None:
                raise ShareError(Text("billing.no_basis", group=group.id, rule=rule,
                                      account=account_id))
            basis = Decimal(value)
        bases[account_id] = (basis, occupied_days(account, period))
    lines = allocate(replace(group, split=rule), period, amount, bases)
    return InvoiceSplit(group.id, invoice, amount, period, rule, lines)


async def post_invoice(ledger: Ledger, result: InvoiceSplit, accounts: Mapping[str, Account],
                       context: Any = None) -> int:
    """Post each non-zero share once; the number of entries new this time.

    An invoice already posted with other amounts is refused (reverse it first), not mixed.
    """
    if not result.invoice:
        raise ShareError(Text("billing.invoice_number", group=result.group_id))
    paying = [line for line in result.lines if line.amount > 0]
    for line in paying:
        found = await ledger.find(result.key(line.account_id))
        if found is not None and found.amount != -line.amount:
            raise ShareError(
                Text("billing.invoice_posted", invoice=result.invoice, group=result.group_id,
                     before=found.amount, account=line.account_id, now=-line.amount))
    requests = [PostRequest(
        line.account_id, EntryKind.SHARE, -line.amount, result.key(line.account_id),
        context=context, reason=Text("billing.invoice_entry", invoice=result.invoice),
        period=bill_period_start(accounts[line.account_id], result.period),
        detail={"group": result.group_id, "invoice": result.invoice,
                "start": result.period.start.isoformat(),
                "end": result.period.last_day.isoformat(), "split": result.split,
                "basis": str(line.basis), "days": line.days,
                "weight": str(weight_decimal(line.weight)), "amount": str(result.amount)})
        for line in paying]
    results = await ledger.post_many(requests) if requests else []
    failed = [r for r in results if isinstance(r, Exception)]
    if failed:
        raise ShareError(Text("billing.invoice_failed", invoice=result.invoice,
                              count=len(failed), reason=text_of(failed[0])))
    return sum(1 for r in results if not isinstance(r, Exception) and r.created)
