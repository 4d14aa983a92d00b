"""Events of prepaid control: trip policy, holds, relay and valve commands."""

# No ``from __future__ import annotations`` in this module (nor in a plugin's events.py):
# on Python 3.11 a TypedDict with string annotations cannot see ``NotRequired[...]`` and
# reports every key as required.

from decimal import Decimal
from typing import Final, NotRequired, TypedDict

from .catalog import EventType

__all__ = [
    "ARREARS_ALARM",
    "COMMAND_CONFIRMED",
    "COMMAND_FAILED",
    "COMMAND_QUEUED",
    "COMMAND_SENT",
    "COMMAND_SUPERSEDED",
    "CONTROL_CHECK",
    "EVENT_ARREARS_ALARM",
    "EVENT_COMMAND_CONFIRMED",
    "EVENT_COMMAND_FAILED",
    "EVENT_COMMAND_QUEUED",
    "EVENT_COMMAND_SENT",
    "EVENT_COMMAND_SUPERSEDED",
    "EVENT_CONTROL_CHECK",
    "EVENT_HOLD_RELEASED",
    "EVENT_HOLD_SET",
    "EVENT_RELAY_CHANGED",
    "EVENT_TRIP_CANCELLED",
    "EVENT_TRIP_DUE",
    "EVENT_TRIP_SCHEDULED",
    "EVENT_TRIP_WARNING",
    "EVENT_TYPES",
    "EVENT_VALVE_CHANGED",
    "HOLD_RELEASED",
    "HOLD_SET",
    "RELAY_CHANGED",
    "TRIP_CANCELLED",
    "TRIP_DUE",
    "TRIP_SCHEDULED",
    "TRIP_WARNING",
    "VALVE_CHANGED",
    "ArrearsAlarmData",
    "CommandConfirmedData",
    "CommandData",
    "CommandFailedData",
    "CommandQueuedData",
    "CommandSupersededData",
    "ControlCheckData",
    "HoldReleasedData",
    "HoldSetData",
    "RelayChangedData",
    "TripCancelledData",
    "TripDueData",
    "TripScheduledData",
    "TripWarningData",
    "ValveChangedData",
]

EVENT_ARREARS_ALARM: Final = "arrears_alarm"
EVENT_CONTROL_CHECK: Final = "control_check"
EVENT_TRIP_SCHEDULED: Final = "trip_scheduled"
EVENT_TRIP_WARNING: Final = "trip_warning"
EVENT_TRIP_DUE: Final = "trip_due"
EVENT_TRIP_CANCELLED: Final = "trip_cancelled"
EVENT_HOLD_SET: Final = "hold_set"
EVENT_HOLD_RELEASED: Final = "hold_released"
EVENT_COMMAND_QUEUED: Final = "command_queued"
EVENT_COMMAND_SENT: Final = "command_sent"
EVENT_COMMAND_CONFIRMED: Final = "command_confirmed"
EVENT_COMMAND_FAILED: Final = "command_failed"
EVENT_COMMAND_SUPERSEDED: Final = "command_superseded"
EVENT_RELAY_CHANGED: Final = "relay_changed"
EVENT_VALVE_CHANGED: Final = "valve_changed"


class ArrearsAlarmData(TypedDict):
    """``arrears_alarm``."""

    account_id: str
    balance: Decimal | None  # None: not known (postpaid)
    postpaid: bool
    reason: str  # why nothing trips: trip mode never, or a keep-on hold
    meters: list[str]


class ControlCheckData(TypedDict):
    """``control_check``."""

    accounts: int  # accounts about to be checked


class TripScheduledData(TypedDict):
    """``trip_scheduled``."""

    account_id: str
    schedule_id: str
    kind: str  # delayed | deferred | postpaid
    due: str  # local time, ISO 8601
    reason: str
    warn_at: str | None  # local time, ISO 8601; None: no warning


class TripWarningData(TypedDict):
    """``trip_warning``."""

    account_id: str
    schedule_id: str
    due: str  # local time, ISO 8601
    kind: str  # delayed | deferred | postpaid
    reason: str
    meters: list[str]


class TripDueData(TypedDict):
    """``trip_due``."""

    account_id: str
    schedule_id: str
    kind: str  # delayed | deferred | postpaid
    due: str  # local time, ISO 8601
    reason: str


class TripCancelledData(TypedDict):
    """``trip_cancelled``."""

    account_id: str
    schedule_id: str
    reason: str


class HoldSetData(TypedDict):
    """``hold_set``."""

    account_id: str
    hold_id: str
    kind: str  # keep_on (保电) | force_off
    reason: str
    until: str | None  # ISO 8601; None: until released
    operator: str | None
    replaced: list[str]  # hold ids this one replaced


class HoldReleasedData(TypedDict):
    """``hold_released``."""

    account_id: str
    hold_id: str
    kind: str  # keep_on | force_off
    reason: str | None
    operator: str | None
    expired: bool  # True: its end time passed; False: released by someone


class CommandData(TypedDict):
    """``command_queued``, ``command_sent``: a relay or valve command."""

    command_id: str
    meter_id: str
    account_id: str | None
    command: str  # trip | close | valve_close | valve_open
    state: str  # queued | sent | confirmed | failed | superseded
    attempts: int  # sends so far
    reason: str  # why it was queued ("" if not given)
    origin: str  # what queued it: balance_exhausted, schedule, a service... ("" if not given)


class CommandQueuedData(CommandData):
    """``command_queued``: new, or queued again after a failed attempt."""

    retry: NotRequired[int]  # a retry: the attempts so far
    error: NotRequired[str]  # a retry: why the attempt failed
    retry_at: NotRequired[str]  # a retry: when, ISO 8601 (UTC)


class CommandConfirmedData(CommandData):
    """``command_confirmed``."""

    relay: NotRequired[str]  # the state read back (relay commands)
    valve: NotRequired[str]  # the state read back (valve commands)
    sent: NotRequired[bool]  # False: already in that state, nothing was sent
    note: NotRequired[str]
    recovered: NotRequired[bool]  # True: confirmed after a restart


class CommandFailedData(CommandData):
    """``command_failed``."""

    error: str
    expired: bool  # a sleeping meter did not report before the command expired


class CommandSupersededData(CommandData):
    """``command_superseded``."""

    by: NotRequired[str]  # the newer command's id
    withdrawn: NotRequired[str]  # withdrawn instead: the reason went away (why)


class RelayChangedData(TypedDict):
    """``relay_changed``."""

    meter_id: str
    account_id: str | None
    relay: str  # the new state, as in ``new``
    old: str  # open | closed | ...
    new: str
    command_id: NotRequired[str]  # the command that asked for this state, if one is out


class ValveChangedData(TypedDict):
    """``valve_changed``."""

    meter_id: str
    account_id: str | None
    valve: str  # the new state, as in ``new``
    old: str  # open | closed | abnormal | ...
    new: str
    command_id: NotRequired[str]  # the command that asked for this state, if one is out


ARREARS_ALARM = EventType(EVENT_ARREARS_ALARM, ArrearsAlarmData, "An account owes money but its "
                          "supply is kept on (trip mode never, or a keep-on hold)",
                          "prepaid control")
CONTROL_CHECK = EventType(EVENT_CONTROL_CHECK, ControlCheckData, "After start-up, every account "
                          "is checked against its trip policy", "prepaid control")
TRIP_SCHEDULED = EventType(EVENT_TRIP_SCHEDULED, TripScheduledData, "A trip check of an account "
                           "was scheduled (a delayed trip, a protection window, a grace period)",
                           "prepaid control")
TRIP_WARNING = EventType(EVENT_TRIP_WARNING, TripWarningData, "A scheduled trip is near and the "
                         "account still owes: the tenant's last warning", "prepaid control")
TRIP_DUE = EventType(EVENT_TRIP_DUE, TripDueData, "A scheduled trip check came due and is acted "
                     "on now", "prepaid control")
TRIP_CANCELLED = EventType(EVENT_TRIP_CANCELLED, TripCancelledData, "A scheduled trip check was "
                           "cancelled (paid, policy changed, cancelled by an operator)",
                           "prepaid control")
HOLD_SET = EventType(EVENT_HOLD_SET, HoldSetData, "An operator put a hold on an account: keep the "
                     "supply on (保电) or force it off", "prepaid control")
HOLD_RELEASED = EventType(EVENT_HOLD_RELEASED, HoldReleasedData, "An account's hold was released "
                          "or ran out", "prepaid control")
COMMAND_QUEUED = EventType(EVENT_COMMAND_QUEUED, CommandQueuedData, "A relay or valve command "
                           "was queued (or queued again after a failed attempt)",
                           "prepaid control")
COMMAND_SENT = EventType(EVENT_COMMAND_SENT, CommandData, "A relay or valve command went out to "
                         "its meter", "prepaid control")
COMMAND_CONFIRMED = EventType(EVENT_COMMAND_CONFIRMED, CommandConfirmedData, "A meter's relay or "
                              "valve was read back in the state its command asked for",
                              "prepaid control")
COMMAND_FAILED = EventType(EVENT_COMMAND_FAILED, CommandFailedData, "A relay or valve command "
                           "failed for good (out of retries, refused or expired)",
                           "prepaid control")
COMMAND_SUPERSEDED = EventType(EVENT_COMMAND_SUPERSEDED, CommandSupersededData, "A command was "
                               "replaced by a newer one for its meter, or withdrawn",
                               "prepaid control")
RELAY_CHANGED = EventType(EVENT_RELAY_CHANGED, RelayChangedData, "A reading shows a meter's "
                          "relay in another state than before", "prepaid control")
VALVE_CHANGED = EventType(EVENT_VALVE_CHANGED, ValveChangedData, "A reading shows a water "
                          "meter's valve in another state than before", "prepaid control")

EVENT_TYPES: Final[tuple[EventType, ...]] = (
    ARREARS_ALARM, CONTROL_CHECK, TRIP_SCHEDULED, TRIP_WARNING, TRIP_DUE, TRIP_CANCELLED, HOLD_SET,
    HOLD_RELEASED, COMMAND_QUEUED, COMMAND_SENT, COMMAND_CONFIRMED, COMMAND_FAILED,
    COMMAND_SUPERSEDED, RELAY_CHANGED, VALVE_CHANGED,
)

