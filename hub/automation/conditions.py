"""The built-in condition types, and compiling a condition (tree) into one check.

A check takes the run's variables and returns a bool; ``and``/``or``/``not`` combine checks.
Every condition may hold templates where it names an account or meter, so a condition can
ask about ``{{ trigger.account_id }}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

import voluptuous as vol

from .. import validation as cv
from ..i18n import Text, text_of
from ..plugins import Registry
from ..util.calendar import DayType
from ..util.ids import slugify
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .subjects import tagged
from .template import Template, TemplateError, compile_data, is_template, render_data
from .triggers import (
    WEEKDAY_LIST,
    WEEKDAYS,
    _limit,
    _needs_limit,
    _time_or_entity,
    _value_of,
    in_range,
    state_text,
)
from .types import AutomationEnv, ConditionCheck, ConditionType, RunVariables

__all__ = ["BUILTIN_CONDITIONS", "COMBINERS", "ConditionRecorder", "compile_condition",
           "condition_schema", "truthy"]

COMBINERS: Final = ("and", "or", "not")

ConditionRecorder = Callable[[str, str, bool | None, str | None], None]
"""(path, condition type, result, error) for the trace."""


def truthy(value: Any) -> bool:
    """A template's result as a condition reads it."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1", "enable")
    if isinstance(value, Decimal | int | float):
        return value != 0
    return bool(value)


# --- state, numeric_state -------------------------------------------------------------------

def build_state(env: AutomationEnv, config: Mapping[str, Any], where: str) -> ConditionCheck:
    entities = config["entity_id"]
    attribute = config.get("attribute")
    wanted = [state_text(value) for value in cv.ensure_list(config["state"])]
    held: timedelta | None = config.get("for")

    def check(variables: RunVariables) -> bool:
        for entity_id in entities:
            state = env.hub.states.get(entity_id)
            if state is None or state_text(_value_of(state, attribute)) not in wanted:
                return False
            if held and state.last_changed > env.clock() - held:
                return False
        return True
    return check


STATE_CONDITION = ConditionType("state", {
    vol.Required("entity_id"): cv.ListOf(cv.entity_id, allow_single=True),
    vol.Required("state"): vol.Any(list, object),
    vol.Optional("attribute"): cv.string,
    vol.Optional("for"): cv.duration,
}, build_state, "an entity is in a state (for at least a time)")


def build_numeric_state(env: AutomationEnv, config: Mapping[str, Any],
                        where: str) -> ConditionCheck:
    entities = config["entity_id"]
    attribute = config.get("attribute")

    def check(variables: RunVariables) -> bool:
        return all(in_range(env, _value_of(env.hub.states.get(entity_id), attribute),
                            config.get("above"), config.get("below")) for entity_id in entities)
    return check


NUMERIC_STATE_CONDITION = ConditionType("numeric_state", vol.All({
    vol.Required("entity_id"): cv.ListOf(cv.entity_id, allow_single=True),
    vol.Optional("attribute"): cv.string,
    vol.Optional("above"): _limit,
    vol.Optional("below"): _limit,
}, _needs_limit), build_numeric_state,  # type: ignore[arg-type]
    "a number is inside a range")


# --- time, holiday --------------------------------------------------------------------------

def _time_of(env: AutomationEnv, value: time | str) -> time | None:
    if isinstance(value, time):
        return value
    state = env.hub.states.get(value)
    if state is None:
        return None
    raw = state.state
    if isinstance(raw, datetime):
        return raw.astimezone(env.zone).time()
    try:
        return cv.time_of_day(raw)
    except vol.Invalid:
        try:
            return datetime.fromisoformat(str(raw)).astimezone(env.zone).time()
        except ValueError:
            return None


def build_time(env: AutomationEnv, config: Mapping[str, Any], where: str) -> ConditionCheck:
    weekdays = ({WEEKDAYS.index(day) for day in config["weekday"]}
                if config.get("weekday") else None)

    def check(variables: RunVariables) -> bool:
        now = env.local_now()
        if weekdays is not None and now.weekday() not in weekdays:
            return False
        after = _time_of(env, config["after"]) if "after" in config else time(0)
        before = _time_of(env, config["before"]) if "before" in config else None
        if after is None or ("before" in config and before is None):
            return False
        current = now.time().replace(tzinfo=None)
        if before is None:
            return current >= after
        if after <= before:
            return after <= current < before
        return current >= after or current < before  # across midnight: 22:00 to 06:00
    return check


def _time_needs_something(config: Mapping[str, Any]) -> Mapping[str, Any]:
    if not any(key in config for key in ("after", "before", "weekday")):
        raise vol.Invalid(Text("automation.time_what"))
    return config


TIME_CONDITION = ConditionType("time", vol.All({
    vol.Optional("after"): _time_or_entity,
    vol.Optional("before"): _time_or_entity,
    vol.Optional("weekday"): WEEKDAY_LIST,
}, _time_needs_something), build_time,  # type: ignore[arg-type]
    "the site's time is inside a window (one crossing midnight too), on some weekdays")


def build_holiday(env: AutomationEnv, config: Mapping[str, Any], where: str) -> ConditionCheck:
    wanted = {DayType(kind) for kind in config["day_type"]}

    def check(variables: RunVariables) -> bool:
        return env.calendar.day_type(env.local_now().date()) in wanted
    return check


def _holiday_shorthand(config: Mapping[str, Any]) -> Mapping[str, Any]:
    result = dict(config)
    if "holiday" in result:
        if "day_type" in result:
            raise vol.Invalid(Text("automation.holiday_both"))
        result["day_type"] = ["holiday"] if result.pop("holiday") else ["workday", "weekend"]
    result.setdefault("day_type", ["holiday"])
    return result


HOLIDAY_CONDITION = ConditionType("holiday", vol.All({
    vol.Optional("holiday"): cv.boolean,
    vol.Optional("day_type"): cv.ListOf(cv.one_of(*(kind.value for kind in DayType)),
                                        allow_single=True),
}, _holiday_shorthand), build_holiday,  # type: ignore[arg-type]
    "today is a public holiday, a weekend or a working day (调休 make-up days count as work)")


# --- balance, template ----------------------------------------------------------------------

def build_balance(env: AutomationEnv, config: Mapping[str, Any], where: str) -> ConditionCheck:
    ids = compile_data(list(config.get("account_id") or ()), where)
    tags: Mapping[str, str] = config.get("tags") or {}

    def check(variables: RunVariables) -> bool:
        accounts = [str(account) for account in render_data(ids, variables)]
        states = [env.hub.states.get(f"account.{slugify(account)}") for account in accounts]
        if tags:
            states += [env.hub.states.get(f"account.{slugify(account)}")
                       for account in tagged(env.hub, "account", tags)]
        if not states or any(state is None for state in states):
            return False
        return all(in_range(env, state.state, config.get("above"), config.get("below"))
                   for state in states if state is not None)
    return check


def _account_ids(value: Any) -> list[str]:
    return [item if is_template(item) else cv.identifier(item)
            for item in cv.ensure_list(value)]


BALANCE_CONDITION = ConditionType("balance", vol.All({
    vol.Optional("account_id"): _account_ids,
    vol.Optional("tags"): vol.Schema({cv.string: cv.string}),
    vol.Optional("above"): cv.money,
    vol.Optional("below"): cv.money,
}, _needs_limit), build_balance,  # type: ignore[arg-type]
    "accounts' balances are above/below a level (account ids may be templates)")


def build_template(env: AutomationEnv, config: Mapping[str, Any],
                   where: str) -> ConditionCheck:
    template = Template(config["value_template"], where)

    def check(variables: RunVariables) -> bool:
        return truthy(template.render_value(variables))
    return check


TEMPLATE_CONDITION = ConditionType("template", {
    vol.Required("value_template"): cv.string,
}, build_template, "a template renders true")


BUILTIN_CONDITIONS: Final = (STATE_CONDITION, NUMERIC_STATE_CONDITION, TIME_CONDITION,
                             HOLIDAY_CONDITION, BALANCE_CONDITION, TEMPLATE_CONDITION)


# --- compiling ------------------------------------------------------------------------------

def condition_schema(types: Registry[ConditionType]) -> Callable[[Any], Any]:
    """Validate one condition (nested ones too): a template string, ``and``/``or``/``not``
    shorthands, or ``condition: <type>`` with that type's keys."""

    def validate(value: Any) -> Any:
        if isinstance(value, str):
            if not is_template(value):
                raise vol.Invalid(Text("automation.condition_text"))
            return {"condition": "template", "value_template": value}
        if not isinstance(value, Mapping):
            raise vol.Invalid(Text("automation.condition_map", value=cv.show_value(value)))
        value = dict(value)
        for combiner in COMBINERS:
            if combiner in value and "condition" not in value:
                value = {"condition": combiner, "conditions": value.pop(combiner), **value}
        kind = value.get("condition")
        if kind in COMBINERS:
            return cv.Strict({
                vol.Required("condition"): kind,
                vol.Required("conditions"): cv.ListOf(validate, allow_single=True),
                vol.Optional("alias"): cv.string,
                vol.Optional("enabled", default=True): cv.boolean,
            })(value)
        entry = types.get(str(kind)) if isinstance(kind, str) else None
        if entry is None:
            known = ", ".join([*COMBINERS, *types.names()])
            raise vol.Invalid(Text("automation.condition_type", kind=cv.show_value(kind),
                                   known=known),
                              path=["condition"])
        return vol.Schema(vol.All(cv.Strict({
            vol.Required("condition"): kind,
            vol.Optional("alias"): cv.string,
            vol.Optional("enabled", default=True): cv.boolean,
            **_own_keys(entry.schema),
        }), *_checks(entry.schema)))(value)
    return validate


def _own_keys(schema: Any) -> dict[Any, Any]:
    if isinstance(schema, vol.All):
        return dict(schema.validators[0])
    return dict(schema)


def _checks(schema: Any) -> list[Any]:
    if isinstance(schema, vol.All):
        return list(schema.validators[1:])
    return []


def compile_condition(env: AutomationEnv, types: Registry[ConditionType],
                      config: Mapping[str, Any], path: str, where: str,
                      record: ConditionRecorder) -> ConditionCheck:
    """One validated condition as a check that records its result under ``path``."""
    kind = config["condition"]
    if not config.get("enabled", True):
        return lambda variables: True
    if kind in COMBINERS:
        parts = [compile_condition(env, types, item, f"{path}/{kind}/{index}", where, record)
                 for index, item in enumerate(config["conditions"])]

        def combined(variables: RunVariables) -> bool:
            if kind == "and":
                result = all(part(variables) for part in parts)
            elif kind == "or":
                result = any(part(variables) for part in parts)
            else:
                result = not any(part(variables) for part in parts)
            record(path, kind, result, None)
            return result
        return combined
    entry = types.get(kind)
    assert entry is not None, kind  # the schema refused unknown types
    check = entry.build(env, config, f"{where}, {path}")

    def recorded(variables: RunVariables) -> bool:
        try:
            result = bool(check(variables))
        except TemplateError as err:
            record(path, kind, None, text_of(err))
            raise
        record(path, kind, result, None)
        return result
    return recorded

