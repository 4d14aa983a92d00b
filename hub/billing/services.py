"""Billing's services: ``bill.create``, ``bill.issue``, ``bill.run``, ``account.move_out``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..const import SupportsResponse
from ..exceptions import ServiceValidationError
from ..i18n import Text, text_of
from ..ledger import AccountBook, Money
from ..util.calendar import date_value
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .bills import BillError
from .engine import BillingEngine, BillSettings
from .periods import period_of

if TYPE_CHECKING:
    from ..core import Hub, ServiceCall
    from .charger import Charger

_LOGGER = logging.getLogger(__name__)

CREATE_SCHEMA = vol.Schema({
    vol.Required("account_id"): cv.identifier,
    vol.Optional("period_start"): date_value,
    vol.Optional("issue", default=False): cv.boolean,
})
ISSUE_SCHEMA = vol.Schema({vol.Required("bill_id"): vol.All(cv.string, vol.Length(min=1))})
MOVE_OUT_SCHEMA = vol.Schema({
    vol.Required("account_id"): cv.identifier,
    vol.Optional("date"): date_value,
    vol.Optional("read", default=True): cv.boolean,
    vol.Optional("format", default="text"): cv.one_of("text", "html"),
})


def setup_billing(hub: Hub, block: Mapping[str, Any], charger: Charger | None) -> None:
    """Create the ``billing`` component, register it with the ledger, its stage and services."""
    if charger is None:
        _LOGGER.warning("No ledger (storage is off): bills are off too")
        return
    settings = BillSettings(block["issue_after"], block["auto_issue"], block["check_every"])
    money, ledger = hub.component("money", Money), charger.ledger
    engine = BillingEngine(hub, ledger, money, charger, settings)
    ledger.add_listener(engine.on_entries)  # open bills follow payments
    ledger.register_due_provider(engine.oldest_due)  # since when a postpaid account owes
    money.register_attribute_provider(engine.attributes)  # bills in the account's state
    hub.add_component("billing", engine)
    hub.add_stage("billing", start=engine.start, stop=engine.stop, requires=("ledger",),
                  after=("metering",))

    def refused(service: str, *problems: str) -> ServiceValidationError:
        return ServiceValidationError(service, list(problems))

    async def create(call: ServiceCall) -> dict[str, Any]:
        """Make (or re-make a draft of) an account's bill; ``issue`` issues it."""
        data = call.data
        account = engine.accounts.get(data["account_id"])
        if account is None:
            raise refused(
                "bill.create", Text("billing.unknown_account", account=data["account_id"]))
        period = (period_of(data["period_start"], account.settlement_day)
                  if "period_start" in data else None)
        try:
            bill = await engine.create(account.id, period, issue=data["issue"],
                                       context=call.context)
        except BillError as err:
            raise refused(
                "bill.create", text_of(err)) from None
        return bill.as_dict()

    async def issue(call: ServiceCall) -> dict[str, Any]:
        """Issue a draft bill."""
        try:
            bill = await engine.issue(call.data["bill_id"], context=call.context)
        except KeyError as err:
            raise refused(
                "bill.issue", Text("billing.bill_id", reason=err.args[0])) from None
        except BillError as err:
            raise refused(
                "bill.issue", text_of(err)) from None
        return bill.as_dict()

    async def run(call: ServiceCall) -> dict[str, Any]:
        """Make the bills that are due now, refresh statuses, send reminders."""
        return await engine.tick()

    async def move_out(call: ServiceCall) -> dict[str, Any]:
        """Move a tenant out: final reads, final bill, deposit settlement, statement."""
        data = call.data
        if data["account_id"] not in engine.accounts:
            raise refused("account.move_out",
                          Text("billing.unknown_account", account=data["account_id"]))
        try:
            result = await engine.move_out(data["account_id"], data.get("date"),
                                           read=data["read"], context=call.context)
        except (ValueError, BillError) as err:
            raise refused(
                "account.move_out", text_of(err)) from None
        moved_out = result.bill.as_dict().get("settlement", {}).get("move_out")
        if moved_out and hub.has_component("accounts"):
            # the account itself now says the tenant left (公摊 weights, reports, YAML view)
            await hub.component("accounts", AccountBook).update(
                data["account_id"], {"move_out": moved_out}, call.context)
        statement = result.statement
        if data["format"] == "html":
            statement = await engine.statement(result.bill.bill_id, "html") or statement
        return {"bill": result.bill.as_dict(), "read": result.read, "failed": result.failed,
                "statement": statement}

    optional = SupportsResponse.OPTIONAL
    hub.services.register("bill", "create", create, CREATE_SCHEMA, supports_response=optional)
    hub.services.register("bill", "issue", issue, ISSUE_SCHEMA, supports_response=optional)
    hub.services.register("bill", "run", run, vol.Schema({}), supports_response=optional)
    hub.services.register("account", "move_out", move_out, MOVE_OUT_SCHEMA,
                          supports_response=optional)
