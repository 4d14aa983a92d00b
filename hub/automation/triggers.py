"""The built-in trigger types: what starts an automation.

Each ``attach`` subscribes to the bus or the engine's timers and returns the function that
unsubscribes. Event-based triggers filter on the event's data before an Event is built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import voluptuous as vol

from .. import validation as cv
from ..events import (
    EVENT_ALARM,
    EVENT_ALARM_CLEARED,
    EVENT_BILL_ISSUED,
    EVENT_COMMAND_CONFIRMED,
    EVENT_COMMAND_FAILED,
    EVENT_HUB_STARTED,
    EVENT_METER_OFFLINE,
    EVENT_METER_ONLINE,
    EVENT_PAYMENT_RECEIVED,
)
from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .subjects import has_tags, tags_of
from .types import AutomationEnv, TriggerAction, TriggerType

__all__ = ["BUILTIN_TRIGGERS", "WEEKDAYS", "matches", "next_pattern_time", "state_text"]

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Unsub = Callable[[], None]


# --- shared pieces ---------------------------------------------------------------------------

def state_text(value: Any) -> str:
    """A state or config value as compared: YAML's on/off booleans read as 'on'/'off'."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def matches(actual: Any, expected: Any) -> bool:
    """An event data value against a configured one: any of a list; numbers by value."""
    if isinstance(expected, list):
        return any(matches(actual, item) for item in expected)
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            matches(actual.get(key), value) for key, value in expected.items())
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    return state_text(actual) == state_text(expected)


def _values(value: Any) -> list[str]:
    return [state_text(item) for item in cv.ensure_list(value)]


WEEKDAY_LIST = cv.ListOf(vol.All(cv.string, vol.Lower, vol.In(WEEKDAYS)), allow_single=True)
_IDS = cv.ListOf(cv.identifier, allow_single=True)
_ENTITIES = cv.ListOf(cv.entity_id, allow_single=True)
_TAGS = vol.Schema({cv.string: cv.string})

SUBJECT_KEYS: Final = {
    vol.Optional("meter_id"): _IDS,
    vol.Optional("account_id"): _IDS,
    vol.Optional("tags"): _TAGS,
}


def subject_filter(env: AutomationEnv, config: Mapping[str, Any]) -> Callable[[Mapping[str, Any]],
                                                                             bool]:
    """Event data about a meter or an account against ``meter_id``/``account_id``/``tags``."""
    meters = set(config.get("meter_id") or ())
    accounts = set(config.get("account_id") or ())
    tags: Mapping[str, str] = config.get("tags") or {}

    def tags_match(data: Mapping[str, Any]) -> bool:
        for kind in ("meter", "account"):
            subject = data.get(f"{kind}_id")
            if subject and has_tags(tags_of(env.hub, kind, str(subject)), tags):
                return True
        return False

    def check(data: Mapping[str, Any]) -> bool:
        if meters and data.get("meter_id") not in meters:
            return False
        if accounts and data.get("account_id") not in accounts:
            return False
        return not tags or tags_match(data)
    return check


def _all(stops: list[Unsub]) -> Unsub:
    """One function that calls each of ``stops``."""
    def stop() -> None:
        for each in stops:
            each()
    return stop


def _on_events(env: AutomationEnv, event_types: Iterable[str],
               event_filter: Callable[[Mapping[str, Any]], bool], action: TriggerAction,
               platform: str) -> Unsub:
    def handle(event: Any) -> None:
        action({"platform": platform, "event": event, "data": dict(event.data),
                "description": f"{platform}: event {event.event_type}"}, event.context)
    return _all([env.hub.bus.listen(event_type, handle, event_filter)
                 for event_type in event_types])


# --- event ----------------------------------------------------------------------------------

def attach_event(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                 where: str) -> Unsub:
    data = config["event_data"]
    return _on_events(env, config["event_type"],
                      lambda event_data: all(matches(event_data.get(key), value)
                                             for key, value in data.items()), action, "event")


TRIGGER_EVENT = TriggerType("event", {
    vol.Required("event_type"): cv.ListOf(cv.slug, allow_single=True),
    vol.Optional("event_data", default={}): vol.Schema({cv.string: object}),
}, attach_event, "an event of the catalog, with its data matching")


# --- state and numeric_state ----------------------------------------------------------------

def _value_of(state: Any, attribute: str | None) -> Any:
    if state is None:
        return None
    return state.state if attribute is None else state.attributes.get(attribute)


class _Holder:
    """``for:`` bookkeeping: the pending wake-up of each entity."""

    def __init__(self, env: AutomationEnv, duration: timedelta | None) -> None:
        self.env = env
        self.duration = duration
        self.pending: dict[str, Unsub] = {}

    def cancel(self, entity_id: str) -> None:
        cancel = self.pending.pop(entity_id, None)
        if cancel is not None:
            cancel()

    def start(self, entity_id: str, run: Callable[[], None]) -> None:
        self.cancel(entity_id)
        if self.duration is None or not self.duration:
            run()
            return

        def due() -> None:
            self.pending.pop(entity_id, None)
            run()
        self.pending[entity_id] = self.env.timers.at(self.env.clock() + self.duration, due)

    def close(self) -> None:
        for cancel in self.pending.values():
            cancel()
        self.pending.clear()

    def stopping(self, *unsubs: Unsub) -> Unsub:
        """The trigger's stop: unsubscribe, then drop every pending wake-up."""
        def stop() -> None:
            for unsub in unsubs:
                unsub()
            self.close()
        return stop


def attach_state(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                 where: str) -> Unsub:
    entities = set(config["entity_id"])
    attribute = config.get("attribute")
    wanted_from = _values(config["from"]) if "from" in config else None
    wanted_to = _values(config["to"]) if "to" in config else None
    holder = _Holder(env, config.get("for"))

    def handle(event: Any) -> None:
        entity_id = event.data["entity_id"]
        old, new = event.data.get("old_state"), event.data.get("new_state")
        old_value, new_value = _value_of(old, attribute), _value_of(new, attribute)
        if new is None or (old is not None and state_text(old_value) == state_text(new_value)):
            return  # attributes only (or, with attribute:, another attribute) changed
        if wanted_to is not None and state_text(new_value) not in wanted_to:
            holder.cancel(entity_id)
            return
        if wanted_from is not None and state_text(old_value) not in wanted_from:
            return
        holder.cancel(entity_id)

        def run() -> None:
            action({"platform": "state", "entity_id": entity_id, "from_state": old,
                    "to_state": new, "for": config.get("for"),
                    "description": f"state of {entity_id}"}, event.context)
        holder.start(entity_id, run)

    return holder.stopping(env.states.watch(entities, handle))


TRIGGER_STATE = TriggerType("state", {
    vol.Required("entity_id"): _ENTITIES,
    vol.Optional("attribute"): cv.string,
    vol.Optional("from"): vol.Any(list, object),
    vol.Optional("to"): vol.Any(list, object),
    vol.Optional("for"): cv.duration,
}, attach_state, "an entity's state (or attribute) changes, optionally held for a time")


def _limit(value: Any) -> Decimal | str:
    number = _number(value)
    if number is not None:
        return number
    return cv.entity_id(value)


def in_range(env: AutomationEnv, value: Any, above: Any, below: Any) -> bool:
    """A value strictly above ``above`` and below ``below`` (each a number or an entity)."""
    number = _number(value)
    if number is None:
        return False
    for limit, is_above in ((above, True), (below, False)):
        if limit is None:
            continue
        if isinstance(limit, str):
            state = env.hub.states.get(limit)
            limit = _number(state.state if state is not None else None)
            if limit is None:
                return False
        if (number <= limit) if is_above else (number >= limit):
            return False
    return True


def _needs_limit(config: Mapping[str, Any]) -> Mapping[str, Any]:
    if config.get("above") is None and config.get("below") is None:
        raise vol.Invalid(Text("automation.numeric_what"))
    return config


def attach_numeric_state(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                         where: str) -> Unsub:
    entities = set(config["entity_id"])
    attribute = config.get("attribute")
    above, below = config.get("above"), config.get("below")
    holder = _Holder(env, config.get("for"))

    def handle(event: Any) -> None:
        entity_id = event.data["entity_id"]
        old, new = event.data.get("old_state"), event.data.get("new_state")
        if not in_range(env, _value_of(new, attribute), above, below):
            holder.cancel(entity_id)
            return
        if in_range(env, _value_of(old, attribute), above, below):
            return  # already inside: only a crossing into the range fires
        def run() -> None:
            action({"platform": "numeric_state", "entity_id": entity_id, "from_state": old,
                    "to_state": new, "above": above, "below": below, "for": config.get("for"),
                    "description": f"numeric state of {entity_id}"}, event.context)
        holder.start(entity_id, run)

    return holder.stopping(env.states.watch(entities, handle))


TRIGGER_NUMERIC_STATE = TriggerType("numeric_state", vol.All({
    vol.Required("entity_id"): _ENTITIES,
    vol.Optional("attribute"): cv.string,
    vol.Optional("above"): _limit,
    vol.Optional("below"): _limit,
    vol.Optional("for"): cv.duration,
}, _needs_limit), attach_numeric_state,  # type: ignore[arg-type]
    "a number (state or attribute) enters a range, optionally held for a time")


# --- time and time_pattern ------------------------------------------------------------------

def _time_or_entity(value: Any) -> time | str:
    try:
        return cv.time_of_day(value)
    except vol.Invalid:
        try:
            return cv.entity_id(value)
        except vol.Invalid:
            raise vol.Invalid(Text("automation.at", value=cv.show_value(value))) from None


def next_daily(env: AutomationEnv, at: time, weekdays: set[int] | None,
               after: datetime) -> datetime:
    """The next local ``at`` after ``after`` on one of ``weekdays`` (0 = Monday)."""
    local = after.astimezone(env.zone)
    day = local.date()
    for offset in range(8):
        candidate = datetime.combine(day + timedelta(days=offset), at, tzinfo=env.zone)
        if candidate > local and (weekdays is None or candidate.weekday() in weekdays):
            return candidate
    raise AssertionError("a week always holds the next time")  # pragma: no cover


def _entity_time(env: AutomationEnv, entity_id: str, after: datetime) -> datetime | None:
    state = env.hub.states.get(entity_id)
    if state is None:
        return None
    value = state.state
    if isinstance(value, datetime):
        moment: datetime | None = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            moment = None
    if moment is None:
        try:
            return next_daily(env, cv.time_of_day(value), None, after)
        except vol.Invalid:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=env.zone)
    return moment if moment > after else None


def _reschedule(schedule: Callable[[int, time | str, datetime], None], index: int,
                at: time | str, env: AutomationEnv) -> None:
    schedule(index, at, env.clock())


def _follow_entity(env: AutomationEnv, entity_id: str, again: Callable[[], None]) -> Unsub:
    """Call ``again`` when ``entity_id``'s state changes."""
    return env.states.watch([entity_id], lambda _event: again())


def previous_daily(env: AutomationEnv, at: time, weekdays: set[int] | None,
                   current: datetime) -> datetime | None:
    """The last local ``at`` at or before ``current`` on one of ``weekdays``."""
    local = current.astimezone(env.zone)
    for offset in range(8):
        candidate = datetime.combine(local.date() - timedelta(days=offset), at, tzinfo=env.zone)
        if candidate <= local and (weekdays is None or candidate.weekday() in weekdays):
            return candidate
    return None


def _catch_up(env: AutomationEnv, config: Mapping[str, Any], weekdays: set[int] | None,
              action: TriggerAction, where: str, now: datetime) -> None:
    """Run once for the latest time missed since the trigger last fired (while the hub was
    down); a trigger never seen before just starts counting from now."""
    last = env.marks.last(where)
    if last is None:
        env.marks.mark(where, now)
        return
    missed = [moment for at in config["at"] if isinstance(at, time)
              and (moment := previous_daily(env, at, weekdays, now)) is not None
              and last < moment]
    if not missed:
        return
    moment = max(missed).astimezone(env.zone)
    env.marks.mark(where, moment)
    action({"platform": "time", "now": now.astimezone(env.zone), "scheduled": moment,
            "catch_up": True, "description": f"time {moment:%H:%M:%S}, missed: run at start"})


def attach_time(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                where: str) -> Unsub:
    weekdays = ({WEEKDAYS.index(day) for day in config["weekday"]}
                if config.get("weekday") else None)
    cancels: dict[int, Unsub] = {}
    unsubs: list[Unsub] = []

    def schedule(index: int, at: time | str, after: datetime) -> None:
        old = cancels.pop(index, None)
        if old is not None:
            old()
        if isinstance(at, str):
            moment = _entity_time(env, at, after)
            if moment is None or (weekdays is not None
                                  and moment.astimezone(env.zone).weekday() not in weekdays):
                return
        else:
            moment = next_daily(env, at, weekdays, after)

        def due() -> None:
            cancels.pop(index, None)
            local = moment.astimezone(env.zone)
            if catch_up:
                env.marks.mark(where, moment)
            action({"platform": "time", "now": local, "scheduled": local, "catch_up": False,
                    "description": f"time {local:%H:%M:%S}"})
            schedule(index, at, moment)
        cancels[index] = env.timers.at(moment, due)

    catch_up = config["catch_up"]
    now = env.clock()
    if catch_up:
        _catch_up(env, config, weekdays, action, where, now)
    for index, at in enumerate(config["at"]):
        schedule(index, at, now)
        if isinstance(at, str):  # the entity's time moved: schedule again
            unsubs.append(_follow_entity(env, at, functools.partial(_reschedule, schedule,
                                                                    index, at, env)))

    def stop() -> None:
        for cancel in [*cancels.values(), *unsubs]:
            cancel()
        cancels.clear()
    return stop


TRIGGER_TIME = TriggerType("time", {
    vol.Required("at"): cv.ListOf(_time_or_entity, allow_single=True),
    vol.Optional("weekday"): WEEKDAY_LIST,
    vol.Optional("catch_up", default=False): cv.boolean,
}, attach_time, "a time of day (site time), on some weekdays, or an entity's time")


def _pattern(limit: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        text = str(value).strip()
        if text == "*":
            return "*"
        divisor = text.startswith("/")
        try:
            number = int(text[1:] if divisor else text)
        except ValueError:
            raise vol.Invalid(Text("automation.pattern", value=cv.show_value(value))) \
                from None
        if divisor and not 0 < number <= limit:
            raise vol.Invalid(Text("automation.divisor", limit=limit, number=number))
        if not divisor and not 0 <= number < limit:
            raise vol.Invalid(Text("automation.range", last=limit - 1, number=number))
        return f"/{number}" if divisor else number
    return check


def _pattern_defaults(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """Fields above the largest one given default to '*', those below it to 0."""
    result = dict(config)
    fields = ("hours", "minutes", "seconds")
    given = [name for name in fields if name in config]
    if not given:
        raise vol.Invalid(Text("automation.pattern_what"))
    first = fields.index(given[0])
    for position, name in enumerate(fields):
        result.setdefault(name, "*" if position < first else 0)
    return result


def _allowed(spec: Any, limit: int) -> list[int]:
    if spec == "*":
        return list(range(limit))
    if isinstance(spec, str):
        step = int(spec[1:])
        return list(range(0, limit, step))
    return [int(spec)]


def next_pattern_time(config: Mapping[str, Any], after: datetime) -> datetime:
    """The first local moment after ``after`` whose hour, minute and second match."""
    hours, minutes, seconds = (_allowed(config["hours"], 24), _allowed(config["minutes"], 60),
                               _allowed(config["seconds"], 60))
    start = after.replace(microsecond=0)
    for day_offset in range(2):
        day: date = (start + timedelta(days=day_offset)).date()
        for hour in hours:
            for minute in minutes:
                for second in seconds:
                    candidate = datetime.combine(day, time(hour, minute, second),
                                                 tzinfo=after.tzinfo)
                    if candidate > after:
                        return candidate
    raise AssertionError("a pattern matches within two days")  # pragma: no cover


def attach_time_pattern(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                        where: str) -> Unsub:
    cancel: list[Unsub] = []

    def schedule(after: datetime) -> None:
        moment = next_pattern_time(config, after.astimezone(env.zone))

        def due() -> None:
            action({"platform": "time_pattern", "now": moment,
                    "description": f"time pattern {moment:%H:%M:%S}"})
            schedule(moment)
        cancel[:] = [env.timers.at(moment, due)]

    schedule(env.clock())
    return lambda: _all(cancel)()


TRIGGER_TIME_PATTERN = TriggerType("time_pattern", vol.All({
    vol.Optional("hours"): _pattern(24),
    vol.Optional("minutes"): _pattern(60),
    vol.Optional("seconds"): _pattern(60),
}, _pattern_defaults), attach_time_pattern,  # type: ignore[arg-type]
    "every matching hour/minute/second: '/15' (every 15), '*' (each) or a number")


# --- the hub's own moments ------------------------------------------------------------------

def attach_hub_start(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                     where: str) -> Unsub:
    return env.hub.bus.listen_once(
        EVENT_HUB_STARTED,
        lambda event: action({"platform": "hub_start", "event": event,
                              "description": "the hub started"}, event.context))


TRIGGER_HUB_START = TriggerType("hub_start", {}, attach_hub_start,
                                "the hub finished starting")


def attach_balance(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                   where: str) -> Unsub:
    below, above = config.get("below"), config.get("above")
    accounts = set(config.get("account_id") or ())
    tags: Mapping[str, str] = config.get("tags") or {}

    def subject(data: Mapping[str, Any]) -> bool:
        new = data.get("new_state")
        if new is None:
            return False
        account_id = str(new.attributes.get("account_id"))
        if accounts and account_id not in accounts:
            return False
        return not tags or has_tags(tags_of(env.hub, "account", account_id), tags)

    def handle(event: Any) -> None:
        old, new = event.data.get("old_state"), event.data["new_state"]
        before, after = _number(_value_of(old, None)), _number(new.state)
        if after is None:
            return
        level = None
        if below is not None and after < below and (before is None or before >= below):
            level = below
        elif above is not None and after > above and (before is None or before <= above):
            level = above
        if level is None:
            return
        action({"platform": "balance", "account_id": new.attributes.get("account_id"),
                "entity_id": new.entity_id, "balance": after, "previous": before,
                "level": level, "to_state": new, "from_state": old,
                "description": f"balance of {new.attributes.get('account_id')} crossed {level}"},
               event.context)

    return env.states.watch_domain("account", lambda event: handle(event)
                                   if subject(event.data) else None)


TRIGGER_BALANCE = TriggerType("balance", vol.All({
    vol.Optional("account_id"): _IDS,
    vol.Optional("tags"): _TAGS,
    vol.Optional("below"): cv.money,
    vol.Optional("above"): cv.money,
}, _needs_limit), attach_balance,  # type: ignore[arg-type]
    "an account's balance crosses a level (below/above), per account or by tags")


def _event_filter(env: AutomationEnv, config: Mapping[str, Any],
                  extra: Mapping[str, str]) -> Callable[[Mapping[str, Any]], bool]:
    """Subject (meter/account/tags) plus ``extra``: config key -> event data key."""
    subject = subject_filter(env, config)
    wanted = {data_key: config[key] for key, data_key in extra.items() if config.get(key)}

    def check(data: Mapping[str, Any]) -> bool:
        return subject(data) and all(matches(data.get(key), value)
                                     for key, value in wanted.items())
    return check


def attach_alarm(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                 where: str) -> Unsub:
    types = [EVENT_ALARM_CLEARED] if config["cleared"] else [EVENT_ALARM]
    return _on_events(env, types, _event_filter(env, config, {"kind": "kind"}), action, "alarm")


TRIGGER_ALARM = TriggerType("alarm", {
    vol.Optional("kind"): cv.ListOf(cv.string, allow_single=True),
    vol.Optional("cleared", default=False): cv.boolean,
    **SUBJECT_KEYS,
}, attach_alarm, "a meter's alarm (by kind, meter or tags), or its clearing")


def attach_meter_offline(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                         where: str) -> Unsub:
    check = _event_filter(env, config, {})
    holder = _Holder(env, config.get("for"))

    def offline(event: Any) -> None:
        meter_id = event.data["meter_id"]
        holder.start(meter_id, lambda: action(
            {"platform": "meter_offline", "event": event, "meter_id": meter_id,
             "data": dict(event.data), "for": config.get("for"),
             "description": f"meter {meter_id} offline"}, event.context))

    return holder.stopping(
        env.hub.bus.listen(EVENT_METER_OFFLINE, offline, check),
        env.hub.bus.listen(EVENT_METER_ONLINE,
                           lambda event: holder.cancel(event.data["meter_id"]), check))


TRIGGER_METER_OFFLINE = TriggerType("meter_offline", {
    vol.Optional("for"): cv.duration,
    vol.Optional("meter_id"): _IDS,
    vol.Optional("tags"): _TAGS,
}, attach_meter_offline, "a meter went offline (and stayed offline for a time)")


def attach_bill_issued(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                       where: str) -> Unsub:
    return _on_events(env, [EVENT_BILL_ISSUED],
                      _event_filter(env, config, {"kind": "kind", "billing": "billing"}), action,
                      "bill_issued")


TRIGGER_BILL_ISSUED = TriggerType("bill_issued", {
    vol.Optional("kind"): cv.ListOf(cv.one_of("monthly", "final"), allow_single=True),
    vol.Optional("billing"): cv.one_of("prepaid", "postpaid"),
    vol.Optional("account_id"): _IDS,
    vol.Optional("tags"): _TAGS,
}, attach_bill_issued, "a bill or statement was issued")


def attach_payment(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                   where: str) -> Unsub:
    check = _event_filter(env, config, {"method": "method"})
    minimum = config.get("min_amount")

    def with_amount(data: Mapping[str, Any]) -> bool:
        amount = _number(data.get("amount"))
        return check(data) and (minimum is None or (amount is not None and amount >= minimum))
    return _on_events(env, [EVENT_PAYMENT_RECEIVED], with_amount, action, "payment")


TRIGGER_PAYMENT = TriggerType("payment", {
    vol.Optional("method"): cv.ListOf(cv.string, allow_single=True),
    vol.Optional("min_amount"): cv.money,
    vol.Optional("account_id"): _IDS,
    vol.Optional("tags"): _TAGS,
}, attach_payment, "a payment was credited to an account")


def attach_command(env: AutomationEnv, config: Mapping[str, Any], action: TriggerAction,
                   where: str) -> Unsub:
    types = [{"confirmed": EVENT_COMMAND_CONFIRMED, "failed": EVENT_COMMAND_FAILED}[state]
             for state in config["state"]]
    return _on_events(env, types, _event_filter(env, config, {"command": "command"}), action,
                      "command")


TRIGGER_COMMAND = TriggerType("command", {
    vol.Optional("state", default=["confirmed", "failed"]):
        cv.ListOf(cv.one_of("confirmed", "failed"), allow_single=True),
    vol.Optional("command"):
        cv.ListOf(cv.one_of("trip", "close", "valve_close", "valve_open"), allow_single=True),
    **SUBJECT_KEYS,
}, attach_command, "a relay or valve command was confirmed or failed for good")


BUILTIN_TRIGGERS: Final = (
    TRIGGER_EVENT, TRIGGER_STATE, TRIGGER_NUMERIC_STATE, TRIGGER_TIME, TRIGGER_TIME_PATTERN,
    TRIGGER_HUB_START, TRIGGER_BALANCE, TRIGGER_ALARM, TRIGGER_METER_OFFLINE,
    TRIGGER_BILL_ISSUED, TRIGGER_PAYMENT, TRIGGER_COMMAND,
)
