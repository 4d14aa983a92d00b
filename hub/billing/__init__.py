"""Billing: tariffs (``hub.billing.tariffs``), charging per read, bills, statements, move-out.

A core plugin: it claims the ``bills:`` block, builds the ``billing`` component
(:class:`~.engine.BillingEngine`) on top of prepaid's ledger, registers ``bill.create``,
``bill.issue``, ``bill.run`` and ``account.move_out``, and serves the accounts, ledger and
bills under ``/api/accounts``, ``/api/ledger`` and ``/api/bills``.

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

if TYPE_CHECKING:
    from ..core import Hub

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
    """Create the billing engine and its services (needs the ledger)."""
    from .services import setup_billing

    setup_billing(hub, hub.config.block("bills") or BILLS_SCHEMA({}))


@hookimpl
def translations() -> dict[str, dict[str, str]]:
    """Strings of printable statements (zh-CN and en)."""
    from .statement import translations as statement_strings

    return statement_strings()


@hookimpl
def register_routes(hub: Hub) -> list[Any]:
    """Accounts, ledger and bills, read-only."""
    from .api import routes

    return routes(hub)
