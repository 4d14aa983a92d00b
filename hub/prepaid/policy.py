"""Pure decisions of prepaid control: thresholds crossed, when a trip may go out.

No I/O here: the account service feeds balances and times in and acts on the answers, so
every rule can be tested exhaustively (and property-tested: no trip for an account above its
trip threshold, ever).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from ..i18n import Text
from ..ledger.terms import ProtectionWindows, Thresholds, TripMode, in_arrears
from ..util.dt import as_local
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = [
    "Crossings", "Decision", "Hold", "HoldKind", "Verdict", "crossings", "decide",
    "manual_refusal", "next_daily", "postpaid_applies_at",
]


class HoldKind(StrEnum):
    """An operator's override of the trip policy."""

    KEEP_ON = "keep_on"  # 保电: never trip until the hold ends
    FORCE_OFF = "force_off"  # keep off whatever the balance


@dataclass(frozen=True, slots=True)
class Hold:
    """A hold with its reason and end (None: until removed)."""

    kind: HoldKind
    reason: str
    until: datetime | None = None
    operator: str | None = None

    def active(self, now: datetime) -> bool:
        """Whether the hold applies at ``now``."""
        return self.until is None or now < self.until


@dataclass(frozen=True, slots=True)
class Crossings:
    """What a balance change crossed."""

    low: tuple[Decimal, ...] = ()  # warning levels crossed downward
    exhausted: bool = False  # crossed down to the trip level
    restored: bool = False  # crossed back above the trip level
    recovered: tuple[Decimal, ...] = field(default=())  # warning levels crossed upward


def crossings(before: Decimal, after: Decimal, thresholds: Thresholds) -> Crossings:
    """Which levels a change from ``before`` to ``after`` crossed (each once per crossing).

    A warning level L is crossed downward when before > L >= after; the exhausted level T
    when before > T >= after; restoration when before <= T < after.
    """
    trip = thresholds.trip_level
    low = tuple(level for level in sorted(thresholds.low, reverse=True)
                if before > level >= after)
    recovered = tuple(level for level in sorted(thresholds.low)
                      if before <= level < after)
    return Crossings(
        low=low,
        exhausted=before > trip >= after,
        restored=before <= trip < after,
        recovered=recovered,
    )


class Decision(StrEnum):
    """What the policy says to do with a meter's relay now."""

    NOTHING = "nothing"
    TRIP = "trip"
    CLOSE = "close"
    WAIT = "wait"  # a trip is due but a protection window or the daily time defers it


WAIT_DAILY = Text("prepaid.why_daily")
WAIT_WINDOW = Text("prepaid.why_window")


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision, why, and (for WAIT) when to look again."""

    decision: Decision
    reason: str
    retry_at: datetime | None = None


def decide(
    *,
    balance: Decimal,
    thresholds: Thresholds,
    mode: TripMode,
    relay_open: bool | None,
    holds: Sequence[Hold],
    now: datetime,
    windows: ProtectionWindows,
    is_holiday: Callable[[date], bool],
    is_workday: Callable[[date], bool],
    delayed_due: bool = False,
    postpaid_overdue: bool | None = None,
) -> Verdict:
    """Decide trip / close / nothing for one meter of one account.

    ``delayed_due`` is true when the daily check of a delayed policy runs now;
    ``postpaid_overdue`` replaces the balance test for postpaid accounts (True once the
    grace period after the due date has passed with the bill unpaid).
    """
    active = [hold for hold in holds if hold.active(now)]
    if any(hold.kind is HoldKind.FORCE_OFF for hold in active):
        if relay_open is True:
            return Verdict(Decision.NOTHING, Text("prepaid.why_force_off_already"))
        return Verdict(Decision.TRIP, Text("prepaid.why_force_off"))
    owing = postpaid_overdue if postpaid_overdue is not None else in_arrears(balance, thresholds)
    if not owing:
        if relay_open is False:
            return Verdict(Decision.NOTHING, Text("prepaid.why_paid_up"))
        return Verdict(Decision.CLOSE, Text("prepaid.why_restored"))
    if any(hold.kind is HoldKind.KEEP_ON for hold in active):
        return Verdict(Decision.NOTHING if relay_open is False else Decision.CLOSE,
                       Text("prepaid.why_keep_on"))
    if mode is TripMode.NEVER:
        return Verdict(Decision.NOTHING, Text("prepaid.why_never_alarm"))
    if relay_open is True:
        return Verdict(Decision.NOTHING, Text("prepaid.why_already_off"))
    if mode is TripMode.DELAYED and not delayed_due:
        return Verdict(Decision.WAIT, WAIT_DAILY)
    if windows.protects(now, is_holiday, is_workday):
        return Verdict(Decision.WAIT, WAIT_WINDOW,
                       windows.next_open(now, is_holiday, is_workday))
    return Verdict(Decision.TRIP, Text("prepaid.why_arrears"))


# --- times of scheduled trips (pure) ------------------------------------------------------


def next_daily(now: datetime, at: time) -> datetime:
    """The first local ``at`` strictly after ``now`` (the daily check of a delayed policy)."""
    local = as_local(now)
    day = local.date()
    candidate = datetime.combine(day, at.replace(microsecond=0), local.tzinfo)
    if candidate <= local:
        candidate = datetime.combine(day + timedelta(days=1), at.replace(microsecond=0),
                                     local.tzinfo)
    return candidate


def postpaid_applies_at(due: date, grace_days: int, now: datetime) -> datetime:
    """When the trip policy starts to apply to an unpaid bill: the local midnight after the
    last grace day (``due`` + ``grace_days``)."""
    tz = as_local(now).tzinfo
    last = due + timedelta(days=grace_days + 1)
    return datetime(last.year, last.month, last.day, tzinfo=tz)


def manual_refusal(action: Decision, holds: Sequence[Hold], now: datetime) -> str | None:
    """Why an operator's trip or close must be refused because of a hold (None: allowed)."""
    for hold in holds:
        if not hold.active(now):
            continue
        until = Text("prepaid.until_time", time=f"{as_local(hold.until):%Y-%m-%d %H:%M}") \
            if hold.until else ""
        if action is Decision.CLOSE and hold.kind is HoldKind.FORCE_OFF:
            return Text("prepaid.force_off_active", until=until, reason=hold.reason)
        if action is Decision.TRIP and hold.kind is HoldKind.KEEP_ON:
            return Text("prepaid.keep_on_active", until=until, reason=hold.reason)
    return None
