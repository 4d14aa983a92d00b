"""Control side of prepaid: trip policy, holds, confirmed relay and valve commands.

``setup_control`` builds the ``control`` component (:class:`Control`: a
:class:`~.commands.CommandQueue`, a :class:`~.holds.HoldBook` and a
:class:`~.trips.TripPolicy`), its start-up stage and the services::

    meter.trip    {meter_id | account_id, reason}        relay meters only
    meter.close   {meter_id | account_id, reason}        refused while a force-off hold is on
    meter.valve   {meter_id | account_id, state: open|close, reason}
    meter.why     {command_id | meter_id | account_id}   the command and the causes behind it
    account.hold  {account_id, kind: keep_on|force_off, reason, until, operator}
    account.release_hold {account_id, reason, operator}

A refused call (a meter without a relay, a close during a force-off hold, an unknown meter)
raises ServiceValidationError with the reason and changes nothing. Settings come from the
``control:`` block (see :data:`~.commands.CONTROL_SCHEMA`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from .. import validation as cv
from ..const import SupportsResponse
from ..core import Context
from ..events import EVENT_HUB_STARTED
from ..exceptions import ServiceValidationError
from ..i18n import Text, text_of
from ..ledger import Account, AccountBook, MeterBook, Money, TripMode, in_arrears, load_accounts
from ..metering.model import Capability, Command
from ..storage import StorageError
from ..util.calendar import Calendar
from ..util.dt import as_local, site_time_zone, utcnow
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .commands import (
    CONTROL_SCHEMA,
    CommandQueue,
    CommandRefused,
    ControlSettings,
    target,
)
from .holds import HoldBook
from .policy import Decision, HoldKind, manual_refusal
from .trips import Trigger, TripPolicy

if TYPE_CHECKING:
    from ..core import Event, Hub, ServiceCall
    from ..metering.service import Meter

_LOGGER = logging.getLogger(__name__)

_STORAGE_RETRY: Final = 5.0

__all__ = ["CONTROL_SCHEMA", "Control", "setup_control"]


def _until(value: Any) -> datetime:
    """A hold's end: an ISO date (the hold covers that whole local day) or date-time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=site_time_zone())
    if isinstance(value, date):
        day = value + timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=site_time_zone())
    text = cv.string(value).strip()
    try:
        if len(text) <= 10:
            return _until(date.fromisoformat(text))
        return _until(datetime.fromisoformat(text))
    except ValueError:
        raise vol.Invalid(Text("prepaid.until_form", value=cv.show_value(value))) from None


def _reason(value: Any) -> str:
    text = cv.string(value).strip()
    if not text:
        raise vol.Invalid(Text("prepaid.reason_needed"))
    return text


def _one_target(data: dict[str, Any]) -> dict[str, Any]:
    if "meter_id" not in data and "account_id" not in data:
        raise vol.Invalid(Text("prepaid.target"))
    return data


_TARGET: dict[Any, Any] = {
    vol.Exclusive("meter_id", "target", msg=Text("prepaid.one_target")):
        cv.identifier,
    vol.Exclusive("account_id", "target", msg=Text("prepaid.one_target")):
        cv.identifier,
    vol.Optional("reason", default=""): cv.string,
}
TRIP_SCHEMA = vol.Schema(vol.All(cv.Strict(_TARGET), _one_target))
VALVE_SCHEMA = vol.Schema(vol.All(
    cv.Strict({**_TARGET, vol.Required("state"): cv.one_of("open", "close")}), _one_target))
HOLD_SCHEMA = cv.Strict({
    vol.Required("account_id"): cv.identifier,
    vol.Required("kind"): cv.one_of(*HoldKind),
    vol.Required("reason"): _reason,
    vol.Optional("until"): _until,
    vol.Optional("operator"): cv.string,
})
RELEASE_SCHEMA = cv.Strict({
    vol.Required("account_id"): cv.identifier,
    vol.Optional("reason", default=""): cv.string,
    vol.Optional("operator"): cv.string,
})
WHY_SCHEMA = cv.Strict({
    vol.Exclusive("command_id", "what"): cv.string,
    vol.Exclusive("meter_id", "what"): cv.identifier,
    vol.Exclusive("account_id", "what"): cv.identifier,
})


class Control:
    """The ``control`` component: commands, holds and the trip policy of every account."""

    def __init__(self, hub: Hub, settings: ControlSettings, accounts: Mapping[str, Account],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.hub = hub
        self.settings = settings
        self.accounts = accounts
        calendar = Calendar.from_config(hub.config.block("calendar"), hub.config.time_zone)
        self.commands = CommandQueue(hub, settings, clock)
        self.holds = HoldBook(hub, clock)
        self.trips = TripPolicy(hub, accounts, self.commands, self.holds, settings, calendar,
                                clock)
        self._reconcile: asyncio.Task[None] | None = None
        self._retry: asyncio.Task[None] | None = None
        self.trips.attach()
        self.trips.on_change = self.publish
        self.commands.on_found_off = self.trips.found_off

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Use another clock (tests move time with it)."""
        self.commands.clock = self.holds.clock = self.trips.clock = clock
        self.trips.wake()

    async def start(self) -> None:
        """Load holds, resume commands and scheduled trips; check accounts once started.

        With storage unavailable the hub still starts: control keeps trying to load in the
        background (nothing is sent before the durable rows are back).
        """
        if self.trips.reconcile_on_start:
            self.hub.bus.listen_once(EVENT_HUB_STARTED, self._on_started)
        try:
            await self._load()
        except StorageError as err:
            _LOGGER.error("Control waits for storage (%s): no trips or closes until it is "
                          "available", err)
            self._retry = self.hub.create_background_task(self._load_later(),
                                                          "control waits for storage")

    async def _load(self) -> None:
        await self.holds.load()
        await self.commands.start()
        await self.trips.start()
        # the money side published every account before holds and schedules were known
        for account_id in list(self.accounts):
            if self.holds.active(account_id) is not None or self.trips.pending(account_id):
                self.publish(account_id)

    async def _load_later(self) -> None:
        while True:
            await asyncio.sleep(_STORAGE_RETRY)
            try:
                await self._load()
            except StorageError:
                continue
            _LOGGER.warning("Control: storage is back; commands and scheduled trips resumed")
            if self.trips.reconcile_on_start:
                await self.trips.reconcile()
            return

    def _on_started(self, _event: Event) -> None:
        if self.trips.running:
            self._reconcile = self.hub.create_task(self.trips.reconcile(),
                                                   "control start-up check")

    async def ready(self) -> None:
        """Wait for the start-up check of every account (tests, the CLI)."""
        if self._reconcile is not None:
            await asyncio.shield(self._reconcile)

    async def stop(self) -> None:
        """Stop the policy and the command drivers (durable rows stay as they are)."""
        if self._retry is not None:
            self._retry.cancel()
        await self.trips.stop()
        await self.commands.stop()

    # --- operator actions ----------------------------------------------------------------

    def account_of(self, meter: Meter) -> str | None:
        """The account a meter belongs to."""
        account = meter.config.get("account")
        return str(account) if account else None

    def resolve(self, service: str, data: Mapping[str, Any],
                capability: Capability) -> list[Meter]:
        """The meters a call names, each able to do ``capability`` (else a refusal)."""
        meters = self.commands.metering.meters if self.hub.has_component("metering") else {}
        what = "relay" if capability is Capability.RELAY else "valve"
        if "meter_id" in data:
            meter = meters.get(data["meter_id"])
            if meter is None:
                raise ServiceValidationError(service, [Text("prepaid.unknown_meter",
                                                            meter=data["meter_id"])])
            if capability not in meter.model.capabilities:
                key = ("prepaid.no_relay_use_valve" if what == "relay" and Capability.VALVE in
                       meter.model.capabilities else "prepaid.no_capability")
                raise ServiceValidationError(service, [
                    Text(key, meter=meter.id, model=meter.model.name,
                         what=Text(f"prepaid.{what}"))])
            return [meter]
        account_id = data["account_id"]
        if account_id not in self.accounts:
            raise ServiceValidationError(service, [Text("prepaid.unknown_account_id",
                                                        account=account_id)])
        chosen = [m for m in self.commands.metering.meters_of(account_id)
                  if capability in m.model.capabilities] if meters else []
        if not chosen:
            raise ServiceValidationError(service, [
                Text("prepaid.account_no_meter", account=account_id, what=Text(f"prepaid.{what}"))])
        return chosen

    async def command(self, service: str, meters: Sequence[Meter], command: Command,
                      context: Context, reason: str) -> dict[str, Any]:
        """Queue an operator's command for meters, after checking every hold first."""
        action = Decision.TRIP if command in (Command.TRIP, Command.VALVE_CLOSE) else \
            Decision.CLOSE
        now = self.commands.clock()
        for meter in meters:
            account_id = self.account_of(meter)
            refusal = manual_refusal(action, self.holds.holds(account_id), now) \
                if account_id else None
            if refusal is None and action is Decision.CLOSE and account_id:
                refusal = await self._close_in_arrears(account_id, now)
            if refusal is not None:
                raise ServiceValidationError(service, [Text("prepaid.account_refused",
                                                            account=account_id, reason=refusal)])
        queued: list[str] = []
        existing: list[str] = []
        point, wanted = target(command)
        for meter in meters:
            try:
                command_id, new = await self.commands.submit(
                    meter.id, command, context=context.child("prepaid.control"),
                    account_id=self.account_of(meter), reason=reason or f"operator {service}",
                    origin=service,
                    check_first=self.commands.known_state(meter.id, point) == wanted)
            except (CommandRefused, StorageError) as err:
                raise ServiceValidationError(service, [Text("prepaid.meter_refused", meter=meter.id,
                                                            reason=text_of(err))]) from None
            (queued if new else existing).append(command_id)
        return {"queued": queued, "already_outstanding": existing,
                "meters": [meter.id for meter in meters]}

    async def _close_in_arrears(self, account_id: str, now: datetime) -> str | None:
        """Why an operator may not close a prepaid account's supply while it owes: its trip
        policy would cut it off again, and an untracked close is a 保电 nobody recorded."""
        account = self.accounts.get(account_id)
        if account is None or account.billing != "prepaid" \
                or account.trip_mode is TripMode.NEVER:
            return None
        if any(hold.kind is HoldKind.KEEP_ON and hold.active(now)
               for hold in self.holds.holds(account_id)):
            return None
        balance = await self.trips.balance(account_id)
        if balance is None or not in_arrears(balance, account.thresholds):
            return None
        return (f"is in arrears (balance {balance}): its trip policy would cut the supply "
                "off again; to keep it on, set a keep-on hold (保电: account.hold with kind "
                "keep_on, a reason and an end), or recharge")

    def attributes(self, account_id: str) -> dict[str, Any]:
        """What control adds to the ``account.<id>`` state: its trip mode, hold and pending
        trip."""
        hold = self.holds.active(account_id)
        row = self.trips.pending(account_id)
        account = self.accounts.get(account_id)
        return {
            "trip_mode": str(account.trip_mode) if account is not None else None,
            "hold": hold.kind if hold else None,
            "hold_until": as_local(hold.until).isoformat() if hold and hold.until else None,
            "hold_reason": hold.reason if hold else None,
            "trip_scheduled": as_local(row.due).isoformat() if row else None,
        }

    def publish(self, account_id: str, context: Context | None = None) -> None:
        """Refresh the account's state (the money side owns it) after a hold changed."""
        if self.hub.has_component("money"):
            self.hub.component("money", Money).publish(account_id, None, context)

    def account_changed(self, account_id: str, context: Context) -> None:
        """An account's policy, thresholds or holds may have changed: look at it again."""
        self.publish(account_id, context)
        self.trips.reevaluate(account_id, context)

    def meter_changed(self, meter_id: str, context: Context) -> None:
        """A meter taken out at runtime (disabled) has its outstanding command ended: it is
        no longer read, so it could never be confirmed."""
        if self.hub.has_component("metering") and meter_id not in self.commands.metering.meters:
            self.hub.create_task(self.commands.cancel(meter_id, context, "meter disabled"),
                                 name=f"cancel commands of {meter_id}")

    async def why(self, command_id: str) -> dict[str, Any] | None:
        """A command with its transitions and the recorded chain of causes behind it."""
        from ..storage import Storage

        storage = self.hub.component("storage", Storage)
        await storage.flush()
        return await storage.control_read(lambda store: store.why(command_id))

    async def why_cut(self, *, meter_id: str | None = None,
                      account_id: str | None = None) -> dict[str, Any] | None:
        """Why a meter (or an account's meters) was last cut off: the newest trip's chain."""
        from ..storage import Storage

        storage = self.hub.component("storage", Storage)
        ids = [meter_id] if meter_id else []
        rows = await storage.control_read(lambda store: store.latest(
            meter_ids=ids, account_id=account_id,
            commands_=(str(Command.TRIP), str(Command.VALVE_CLOSE)), limit=1))
        return await self.why(rows[0].command_id) if rows else None


def _why_missing(control: Control, data: Mapping[str, Any]) -> str:
    """Why ``meter.why`` has no answer: an unknown meter, account or command, or no trip."""
    if "command_id" in data:
        return Text("prepaid.unknown_command", command=data["command_id"])
    metering = control.commands.metering if control.hub.has_component("metering") else None
    if "meter_id" in data:
        if metering is None or data["meter_id"] not in metering.meters:
            return Text("prepaid.unknown_meter", meter=data["meter_id"])
        return Text("prepaid.meter_never_cut", meter=data["meter_id"])
    if data["account_id"] not in control.accounts:
        return Text("prepaid.unknown_account_id", account=data["account_id"])
    return Text("prepaid.account_never_cut", account=data["account_id"])


def _operator(call: ServiceCall) -> str | None:
    """Who sets or releases a hold: the authenticated user, with a different name the
    caller typed kept beside it as a note (``@cli (wang)``); without a user, what was typed."""
    user, typed = call.context.user_id, call.data.get("operator")
    if user and typed and typed != user:
        return f"{user} ({typed})"
    return user or typed


def register_services(hub: Hub, control: Control) -> None:
    """meter.trip / close / valve / why, account.hold / release_hold."""

    async def trip(call: ServiceCall) -> dict[str, Any]:
        """Trip (cut the power of) one meter or every relay meter of an account."""
        meters = control.resolve("meter.trip", call.data, Capability.RELAY)
        return await control.command("meter.trip", meters, Command.TRIP, call.context,
                                     call.data["reason"])

    async def close(call: ServiceCall) -> dict[str, Any]:
        """Close (restore the power of) one meter or every relay meter of an account."""
        meters = control.resolve("meter.close", call.data, Capability.RELAY)
        return await control.command("meter.close", meters, Command.CLOSE, call.context,
                                     call.data["reason"])

    async def valve(call: ServiceCall) -> dict[str, Any]:
        """Open or close the valve of one water meter or of an account's water meters."""
        meters = control.resolve("meter.valve", call.data, Capability.VALVE)
        command = Command.VALVE_OPEN if call.data["state"] == "open" else Command.VALVE_CLOSE
        return await control.command("meter.valve", meters, command, call.context,
                                     call.data["reason"])

    async def why(call: ServiceCall) -> dict[str, Any]:
        """Why a command was sent (or why a meter / account was last cut off)."""
        data = call.data
        if "command_id" in data:
            found = await control.why(data["command_id"])
        elif "meter_id" in data or "account_id" in data:
            found = await control.why_cut(meter_id=data.get("meter_id"),
                                          account_id=data.get("account_id"))
        else:
            raise ServiceValidationError("meter.why",
                                         [Text("prepaid.why_targets")])
        if found is None:
            raise ServiceValidationError(
                "meter.why", [_why_missing(control, data)])
        return found

    async def hold(call: ServiceCall) -> dict[str, Any]:
        """Keep an account's power on (保电) or force it off, with a reason and an end."""
        data = call.data
        account_id = data["account_id"]
        if account_id not in control.accounts:
            raise ServiceValidationError("account.hold", [
                Text("prepaid.unknown_account_id", account=account_id)])
        if data["kind"] == HoldKind.KEEP_ON and data.get("until") is None:
            # 保电 suspends collection: it must end by itself, not be forgotten for ever
            raise ServiceValidationError("account.hold", [
                Text("prepaid.keep_on_until")])
        operator = _operator(call)
        try:
            row = await control.holds.set(account_id, HoldKind(data["kind"]), data["reason"],
                                          data.get("until"), operator, call.context)
        except (ValueError, StorageError) as err:
            raise ServiceValidationError("account.hold", [
                Text("prepaid.until", reason=text_of(err)) if isinstance(err, ValueError)
                else text_of(err)]) from None
        outcome = await control.trips.evaluate(account_id, call.context, Trigger.HOLD)
        control.publish(account_id, call.context)
        return {"hold_id": row.hold_id, "kind": row.kind,
                "until": row.until.isoformat() if row.until else None,
                "commands": list(outcome.commands)}

    async def release_hold(call: ServiceCall) -> dict[str, Any]:
        """Release an account's hold; the trip policy applies again at once."""
        data = call.data
        account_id = data["account_id"]
        if account_id not in control.accounts:
            raise ServiceValidationError(
                "account.release_hold", [Text("prepaid.unknown_account_id", account=account_id)])
        if not control.holds.open_rows(account_id):
            raise ServiceValidationError("account.release_hold", [
                Text("prepaid.no_hold", account=account_id)])
        operator = _operator(call)
        try:
            released = await control.holds.release(account_id, operator,
                                                   data["reason"] or None, call.context)
        except StorageError as err:
            raise ServiceValidationError(
                "account.release_hold", [text_of(err)]) from None
        outcome = await control.trips.evaluate(account_id, call.context, Trigger.HOLD_END)
        control.publish(account_id, call.context)
        return {"released": [row.hold_id for row in released],
                "commands": list(outcome.commands)}

    register = hub.services.register
    optional = SupportsResponse.OPTIONAL
    register("meter", "trip", trip, TRIP_SCHEMA, supports_response=optional)
    register("meter", "close", close, TRIP_SCHEMA, supports_response=optional)
    register("meter", "valve", valve, VALVE_SCHEMA, supports_response=optional)
    register("meter", "why", why, WHY_SCHEMA, supports_response=SupportsResponse.ONLY)
    register("account", "hold", hold, HOLD_SCHEMA, supports_response=optional)
    register("account", "release_hold", release_hold, RELEASE_SCHEMA,
             supports_response=optional)


def setup_control(hub: Hub) -> None:
    """Create the command queue and the trip policy (needs storage and metering)."""
    if not hub.has_component("storage"):
        _LOGGER.warning("No storage: trip policy and relay/valve commands are off "
                        "(commands must be durable)")
        return
    settings = ControlSettings.from_block(hub.config.block("control"))
    control = Control(hub, settings, load_accounts(hub))
    if hub.has_component("accounts"):
        hub.component("accounts", AccountBook).add_listener(control.account_changed)
    if hub.has_component("meter_book"):
        hub.component("meter_book", MeterBook).add_listener(control.meter_changed)
    hub.add_component("control", control)
    if hub.has_component("money"):
        hub.component("money", Money).register_attribute_provider(control.attributes)
    register_services(hub, control)
    hub.add_stage("control", start=control.start, stop=control.stop, requires=("storage",),
                  after=("ledger", "links", "metering", "billing", "analysis"))

