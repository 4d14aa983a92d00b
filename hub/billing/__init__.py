"""Billing: tariffs (``hub.billing.tariffs``), charging per read, bills, statements, move-out.

A core plugin on top of the ledger (:mod:`hub.ledger`): it charges every read
(:class:`~.charger.Charger`, component ``charging``), claims the ``bills:`` block, builds the
``billing`` component (:class:`~.engine.BillingEngine`) and registers both with the ledger
through its interfaces, registers ``bill.create``, ``bill.issue``, ``bill.run`` and
``account.move_out``, and serves the accounts, ledger and bills under ``/api/accounts``,
``/api/ledger`` and ``/api/bills``. Cost sharing, loss and reports: :mod:`.analysis`.

    bills:
      issue_after: 2h        # wait this long after a period ends (late readings) to bill it
      auto_issue: true       # false: monthly bills stay drafts until bill.issue
      check_every: 10min
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..hookspecs import hookimpl
from .bills import Bill, BillError
from .charger import Charger
from .charges import ChargeBook
from .engine import BillingEngine, BillSettings
from .periods import BillPeriod, next_period, period_of, previous_period
from .tariff import (
    ChargeLine,
    Occupancy,
    SegmentPart,
    Tariff,
    TariffError,
    TariffType,
    TierHistory,
    Usage,
    no_history,
    round_fen,
)
from .tariffs import TariffBook

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "BILLS_SCHEMA", "Bill", "BillError", "BillPeriod", "BillSettings", "BillingEngine",
    "ChargeBook", "ChargeLine", "Charger", "Occupancy", "SegmentPart", "Tariff", "TariffBook",
    "TariffError", "TariffType", "TierHistory", "Usage", "next_period", "no_history",
    "period_of", "previous_period", "round_fen",
]

BILLS_SCHEMA = cv.Strict({
    vol.Optional("issue_after", default=timedelta(hours=2)): cv.duration,
    vol.Optional("auto_issue", default=True): cv.boolean,
    vol.Optional("check_every", default=timedelta(minutes=10)): cv.duration,
})


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim ``bills``."""
    return {"bills": BILLS_SCHEMA}


@hookimpl
def setup(hub: Hub) -> None:
    """Charge every read, create the billing engine and its services (needs the ledger)."""
    from .charger import setup_charging
    from .services import setup_billing

    charger = setup_charging(hub)
    setup_billing(hub, hub.config.block("bills") or BILLS_SCHEMA({}), charger)


@hookimpl
def translations() -> dict[str, dict[str, str]]:
    """Strings of printable statements (zh-CN and en)."""
    from .statement import translations as statement_strings

    return statement_strings()
