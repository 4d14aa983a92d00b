"""The ``account.*`` services: recharge, refund, adjust, reverse, emergency credit.

Every refusal names what was wrong and changes nothing. Each service answers (with
``return_response``) the entry written — or, for a repeated payment reference, the original
entry with ``duplicate: true`` — and the balance after it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..billing.periods import period_of
from ..const import SupportsResponse
from ..exceptions import ServiceValidationError
from ..i18n import Text, text_of
from ..ledger import EntryKind, LedgerError, PostResult, from_fen
from ..util.dt import site_time_zone
from . import messages as _messages  # noqa: F401  (the tables the Texts below use)

if TYPE_CHECKING:
    from ..core import Hub, ServiceCall
    from ..ledger import Account, Ledger, Money

_LOGGER = logging.getLogger(__name__)

DOMAIN = "account"
METHODS = ("cash", "wechat", "alipay", "bank", "other")

def _reference(value: Any) -> str:
    """A payment or receipt reference, as the idempotency key of its entry: trimmed (a
    reference pasted with a space or a newline is the same payment), printable, 1-128."""
    text = cv.string(value).strip()
    if not 1 <= len(text) <= 128:
        raise vol.Invalid(Text("prepaid.reference_length", length=len(text)))
    if not text.isprintable():
        raise vol.Invalid(Text("prepaid.reference_printable", value=repr(text)))
    return text


_text = vol.All(cv.string, vol.Length(min=1, max=500, msg=Text("prepaid.text_length")))

RECHARGE_SCHEMA = vol.Schema({
    vol.Required("account_id"): cv.identifier,
    vol.Required("amount"): cv.money,
    vol.Required("method"): cv.one_of(*METHODS),
    vol.Required("reference"): _reference,
    vol.Optional("operator"): _text,
    vol.Optional("note"): _text,
})
REFUND_SCHEMA = vol.Schema({
    vol.Required("account_id"): cv.identifier,
    vol.Required("amount"): cv.money,
    vol.Required("reference"): _reference,
    vol.Optional("method", default="cash"): cv.one_of(*METHODS),
    vol.Optional("reason"): _text,
    vol.Optional("operator"): _text,
})
ADJUST_SCHEMA = vol.Schema({
    vol.Required("account_id"): cv.identifier,
    vol.Required("amount"): cv.money,
    vol.Required("reason"): _text,
    vol.Optional("operator"): _text,  # the logged-in user is the author; this is a note
    vol.Optional("reference"): _reference,
})
REVERSE_SCHEMA = vol.Schema({
    vol.Required("entry_id"): vol.All(cv.string, vol.Length(min=1)),
    vol.Required("reason"): _text,
    vol.Optional("operator"): _text,
})
EMERGENCY_SCHEMA = vol.Schema({
    vol.Required("account_id"): cv.identifier,
    vol.Optional("operator"): _text,
})


def refuse(service: str, *problems: str) -> ServiceValidationError:
    """The error a refused call raises."""
    return ServiceValidationError(f"{DOMAIN}.{service}", list(problems))


def answer(ledger: Ledger, result: PostResult) -> dict[str, Any]:
    """A service response: the entry, whether it is a repeat, the balance now."""
    return {"entry": result.entry.as_dict(), "duplicate": not result.created,
            "balance": str(ledger.balance(result.entry.account_id))}


def _account(accounts: Mapping[str, Account], service: str, account_id: str) -> Account:
    account = accounts.get(account_id)
    if account is None:
        known = ", ".join(sorted(accounts)[:20]) or Text("prepaid.none_configured")
        raise refuse(service, Text("prepaid.unknown_account", account=account_id, known=known))
    return account


def _same_payment(service: str, result: PostResult, account_id: str, amount: Decimal,
                  reference: str) -> None:
    entry = result.entry
    if not result.created and (entry.account_id != account_id or entry.amount != amount):
        raise refuse(service, Text("prepaid.reference_used", reference=reference,
                                   amount=abs(entry.amount), account=entry.account_id,
                                   entry=entry.id))


def _author(call: ServiceCall) -> str:
    """Who makes a manual entry: the authenticated user, else the ``operator`` written, else
    what called (``automation.<id>``, a plugin); the ledger keeps a typed name that differs
    from the user as a note."""
    typed = str(call.data.get("operator") or "").strip()
    return typed or call.context.author or ""


def register_services(hub: Hub, ledger: Ledger, money: Money) -> None:
    """Register account.recharge, refund, adjust, reverse and emergency_credit."""
    accounts = money.accounts

    async def recharge(call: ServiceCall) -> dict[str, Any]:
        """Add a payment to an account (the reference makes it count once)."""
        data = call.data
        account = _account(accounts, "recharge", data["account_id"])
        amount: Decimal = data["amount"]
        if amount <= 0:
            raise refuse(
                "recharge", Text("prepaid.recharge_positive", amount=amount))
        if amount > account.max_recharge:
            raise refuse(
                "recharge", Text("prepaid.recharge_max", amount=amount,
                                 limit=account.max_recharge))
        detail = {"method": data["method"], "reference": data["reference"]}
        if data.get("note"):
            detail["note"] = data["note"]
        try:
            result = await ledger.post(account.id, EntryKind.RECHARGE, amount,
                                       key=f"recharge:{data['reference']}", context=call.context,
                                       detail=detail, operator=data.get("operator"))
        except LedgerError as err:
            raise refuse("recharge", text_of(err)) from None
        _same_payment("recharge", result, account.id, amount, data["reference"])
        return answer(ledger, result)

    async def refund(call: ServiceCall) -> dict[str, Any]:
        """Pay money back to a tenant (at most the balance)."""
        data = call.data
        account = _account(accounts, "refund", data["account_id"])
        amount: Decimal = data["amount"]
        if amount <= 0:
            raise refuse(
                "refund", Text("prepaid.refund_positive", amount=amount))

        def covered(balance: int) -> None:
            # emergency credit is a loan, not the tenant's money: it cannot be paid out
            available = from_fen(balance) - ledger.emergency_used(account.id)
            if available < amount:
                raise LedgerError(Text("prepaid.refund_covered", amount=amount,
                                       available=available, balance=from_fen(balance)))

        try:
            result = await ledger.post(
                account.id, EntryKind.REFUND, -amount, key=f"refund:{data['reference']}",
                context=call.context, reason=data.get("reason"), operator=data.get("operator"),
                detail={"method": data["method"], "reference": data["reference"]},
                check=covered)
        except LedgerError as err:
            raise refuse("refund", text_of(err)) from None
        _same_payment("refund", result, account.id, -amount, data["reference"])
        return answer(ledger, result)

    async def adjust(call: ServiceCall) -> dict[str, Any]:
        """A manual correction (signed amount) with its reason and operator."""
        data = call.data
        account = _account(accounts, "adjust", data["account_id"])
        amount: Decimal = data["amount"]
        if not amount:
            raise refuse(
                "adjust", Text("prepaid.adjust_zero"))
        operator = _author(call)
        if not data["reason"].strip() or not operator:
            raise refuse(
                "adjust", Text("prepaid.reason_operator"))
        if abs(amount) > account.max_recharge:
            raise refuse(
                "adjust", Text("prepaid.adjust_max", amount=amount, limit=account.max_recharge))
        reference = data.get("reference") or call.context.id
        try:
            result = await ledger.post(account.id, EntryKind.ADJUSTMENT, amount,
                                       key=f"adjust:{reference}", context=call.context,
                                       reason=data["reason"], operator=operator)
        except LedgerError as err:
            raise refuse("adjust", text_of(err)) from None
        _same_payment("adjust", result, account.id, amount, reference)
        return answer(ledger, result)

    async def reverse(call: ServiceCall) -> dict[str, Any]:
        """Reverse (冲正) a wrong entry: post its opposite, once."""
        data = call.data
        operator = _author(call)
        if not data["reason"].strip() or not operator:
            raise refuse(
                "reverse", Text("prepaid.reason_operator"))
        try:
            result = await ledger.reverse(data["entry_id"], reason=data["reason"],
                                          operator=operator, context=call.context)
        except LedgerError as err:
            raise refuse(
                "reverse", Text("prepaid.entry", reason=text_of(err))) from None
        return answer(ledger, result)

    async def emergency_credit(call: ServiceCall) -> dict[str, Any]:
        """Give the account its emergency credit, once per period."""
        data = call.data
        account = _account(accounts, "emergency_credit", data["account_id"])
        if account.billing != "prepaid":
            raise refuse(
                "emergency_credit", Text("prepaid.emergency_postpaid", account=account.id))
        if account.emergency_amount <= 0:
            raise refuse(
                "emergency_credit", Text("prepaid.emergency_none", account=account.id))
        today = ledger.clock().astimezone(site_time_zone()).date()
        if account.emergency_per == "year":
            period = str(today.year)
        else:
            period = period_of(today, account.settlement_day).start.isoformat()
        try:
            result = await ledger.post(
                account.id, EntryKind.EMERGENCY, account.emergency_amount,
                key=f"emergency:{account.id}:{period}", context=call.context,
                operator=data.get("operator"), detail={"period": period})
        except LedgerError as err:
            raise refuse(
                "emergency_credit", text_of(err)) from None
        if not result.created:
            raise refuse("emergency_credit", Text(
                "prepaid.emergency_taken", account=account.id,
                per=Text(f"prepaid.per_{account.emergency_per}"),
                day=result.entry.time.date(), entry=result.entry.id))
        return answer(ledger, result)

    register = hub.services.register
    register(DOMAIN, "recharge", recharge, RECHARGE_SCHEMA,
             supports_response=SupportsResponse.OPTIONAL)
    register(DOMAIN, "refund", refund, REFUND_SCHEMA, supports_response=SupportsResponse.OPTIONAL)
    register(DOMAIN, "adjust", adjust, ADJUST_SCHEMA, supports_response=SupportsResponse.OPTIONAL)
    register(DOMAIN, "reverse", reverse, REVERSE_SCHEMA,
             supports_response=SupportsResponse.OPTIONAL)
    register(DOMAIN, "emergency_credit", emergency_credit, EMERGENCY_SCHEMA,
             supports_response=SupportsResponse.OPTIONAL)
