"""Events of billing: charges, bills, cost sharing."""

# No ``from __future__ import annotations`` in this module (nor in a plugin's events.py):
# on Python 3.11 a TypedDict with string annotations cannot see ``NotRequired[...]`` and
# reports every key as required.

from datetime import date
from decimal import Decimal
from typing import Final, NotRequired, TypedDict

from .catalog import EventType

__all__ = [
    "BILLING_ERROR",
    "BILL_ISSUED",
    "BILL_OVERDUE",
    "BILL_PAID",
    "BILL_REMINDER",
    "CALENDAR_UNKNOWN_YEAR",
    "EVENT_BILLING_ERROR",
    "EVENT_BILL_ISSUED",
    "EVENT_BILL_OVERDUE",
    "EVENT_BILL_PAID",
    "EVENT_BILL_REMINDER",
    "EVENT_CALENDAR_UNKNOWN_YEAR",
    "EVENT_SHARE_ALLOCATED",
    "EVENT_SHARE_FAILED",
    "EVENT_TYPES",
    "SHARE_ALLOCATED",
    "SHARE_FAILED",
    "BillIssuedData",
    "BillOverdueData",
    "BillPaidData",
    "BillReminderData",
    "BillingErrorData",
    "CalendarUnknownYearData",
    "ShareAllocatedData",
    "ShareFailedData",
    "ShareLineData",
    "ShareMeterData",
    "SharePricedData",
]

EVENT_BILLING_ERROR: Final = "billing_error"
EVENT_BILL_ISSUED: Final = "bill_issued"
EVENT_BILL_PAID: Final = "bill_paid"
EVENT_BILL_REMINDER: Final = "bill_reminder"
EVENT_BILL_OVERDUE: Final = "bill_overdue"
EVENT_SHARE_ALLOCATED: Final = "share_allocated"
EVENT_SHARE_FAILED: Final = "share_failed"
EVENT_CALENDAR_UNKNOWN_YEAR: Final = "calendar_unknown_year"


class BillingErrorData(TypedDict):
    """``billing_error``: a reading not charged (meter_id, reading_id) or a bill not made
    (bill_id)."""

    account_id: str | None  # None: the meter has no account
    error: str
    meter_id: NotRequired[str]
    reading_id: NotRequired[str]
    bill_id: NotRequired[str]


class BillIssuedData(TypedDict):
    """``bill_issued``."""

    bill_id: str
    account_id: str
    kind: str  # monthly | final
    billing: str  # prepaid | postpaid
    period_start: date
    period_end: date  # the period's last day (inclusive)
    total: Decimal
    due_date: date | None


class BillPaidData(TypedDict):
    """``bill_paid``."""

    bill_id: str
    account_id: str
    total: Decimal


class BillReminderData(TypedDict):
    """``bill_reminder``."""

    bill_id: str
    account_id: str
    due_date: date
    days: int  # days after the due date (remind_days; negative: before it)
    amount_due: Decimal


class BillOverdueData(TypedDict):
    """``bill_overdue``."""

    bill_id: str
    account_id: str
    due: date  # the same as due_date
    due_date: date
    amount_due: Decimal


class ShareMeterData(TypedDict):
    """A common meter's part of a share group's cost."""

    meter_id: str
    tariff: str
    quantity: Decimal
    unit: str
    amount: Decimal  # exact, unrounded


class ShareLineData(TypedDict):
    """One member's share."""

    account_id: str
    basis: Decimal  # m², persons, quantity or 1, by the group's split
    days: int  # days of the period the account occupied
    weight: Decimal  # 6 places
    amount: Decimal


class SharePricedData(TypedDict):
    """One priced line of a common meter."""

    meter_id: str
    tariff: str
    component: str  # energy | water | tier_surcharge | fixed | minimum
    key: str  # the line within its tariff: peak, tier2...
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal  # exact, unrounded


class ShareAllocatedData(TypedDict):
    """``share_allocated``."""

    group: str
    period: str  # the month: 2026-05
    split: str  # area | persons | consumption | equal
    quantity: Decimal  # the common meters' consumption
    cost: Decimal
    complete: bool  # False: some meters' data was missing
    missing: list[str]
    meters: list[ShareMeterData]
    shares: list[ShareLineData]
    priced: list[SharePricedData]
    posted: int  # ledger entries created now (0 when the group does not post)


class ShareFailedData(TypedDict):
    """``share_failed``."""

    group: str
    period: str  # the month: 2026-05
    error: str


class CalendarUnknownYearData(TypedDict):
    """``calendar_unknown_year``."""

    year: int  # the year of the date being priced
    newest_known: int  # the last year whose official schedule the calendar has
    holidays_version: str  # the installed holidays package


BILLING_ERROR = EventType(EVENT_BILLING_ERROR, BillingErrorData, "A reading could not be "
                          "charged, or a bill could not be made", "billing")
BILL_ISSUED = EventType(EVENT_BILL_ISSUED, BillIssuedData, "A bill (or a prepaid statement) was "
                        "issued", "billing")
BILL_PAID = EventType(EVENT_BILL_PAID, BillPaidData, "A bill is fully paid", "billing")
BILL_REMINDER = EventType(EVENT_BILL_REMINDER, BillReminderData, "A postpaid bill's reminder "
                          "day came and it is still unpaid", "billing")
BILL_OVERDUE = EventType(EVENT_BILL_OVERDUE, BillOverdueData, "A postpaid bill is unpaid past "
                         "its due date and grace days", "billing")
SHARE_ALLOCATED = EventType(EVENT_SHARE_ALLOCATED, ShareAllocatedData, "A share group's common "
                            "cost for a month was split among its accounts", "billing")
SHARE_FAILED = EventType(EVENT_SHARE_FAILED, ShareFailedData, "A share group's month could not "
                         "be split", "billing")

CALENDAR_UNKNOWN_YEAR = EventType(
    EVENT_CALENDAR_UNKNOWN_YEAR, CalendarUnknownYearData, "A date being priced falls in a year "
    "whose public holidays and make-up working days (调休) the calendar does not know",
    "billing (tariff calendar)")

EVENT_TYPES: Final[tuple[EventType, ...]] = (
    BILLING_ERROR, BILL_ISSUED, BILL_PAID, BILL_REMINDER, BILL_OVERDUE, SHARE_ALLOCATED,
    SHARE_FAILED, CALENDAR_UNKNOWN_YEAR,
)

