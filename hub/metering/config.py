"""YAML schemas of ``links:``, ``meters:``, ``reading:`` and ``metering:``.

A link entry is validated by its link type's own schema (``type:``), a meter's ``address``
and ``options`` by its model (``model:``): a typo anywhere is reported with file and line.
A validated entry remembers the link type or model that validated it, so the check of
references between blocks (:func:`check_references`) needs no registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .alarms import THRESHOLDS_SCHEMA
from .model import MeterRef, ProtocolError

if TYPE_CHECKING:
    from ..plugins import Registries
    from .link import LinkType
    from .model import MeterModel

TAG_KEYS_DOC = "building, floor, room, line, department or any key"

_TAGS = vol.Schema({cv.slug: cv.string})

METERING_SCHEMA = cv.Strict({
    vol.Optional("timeout", default=timedelta(seconds=3)): cv.duration,
    vol.Optional("retries", default=2): cv.non_negative_int,
    vol.Optional("retry_delay", default=timedelta(seconds=1)): cv.duration,
    vol.Optional("offline_after", default=3): cv.positive_int,
    vol.Optional("reread", default={}): cv.Strict({
        vol.Optional("enabled", default=True): cv.boolean,
        vol.Optional("first_delay", default=timedelta(minutes=1)): cv.duration,
        vol.Optional("max_delay", default=timedelta(minutes=30)): cv.duration,
        vol.Optional("factor", default=2): cv.positive_int,
    }),
    vol.Optional("concurrency", default=256): cv.positive_int,
    vol.Optional("read_on_start", default=True): cv.boolean,
    vol.Optional("time_sync", default={}): cv.Strict({
        vol.Optional("mode", default="off"): cv.one_of("off", "broadcast", "per_meter"),
        vol.Optional("at", default="03:00"): cv.time_of_day,
        vol.Optional("drift_alarm", default=timedelta(minutes=5)): cv.duration,
    }),
})

PLAN_SCHEMA = cv.Strict({
    vol.Required("plan"): cv.one_of("daily", "every"),
    vol.Optional("id"): cv.slug,
    vol.Optional("at"): cv.time_of_day,
    vol.Optional("minutes"): cv.positive_int,
    vol.Optional("tags", default={}): _TAGS,
    vol.Optional("meters", default=[]): cv.ListOf(cv.identifier, allow_single=True),
    vol.Optional("points"): cv.ListOf(cv.slug, allow_single=True),
})


def _plan(value: Any) -> dict[str, Any]:
    plan: dict[str, Any] = PLAN_SCHEMA(value)
    if plan["plan"] == "daily" and "at" not in plan:
        raise vol.Invalid(Text("metering.daily_at"), path=["at"])
    if plan["plan"] == "every" and "minutes" not in plan:
        raise vol.Invalid(Text("metering.every_minutes"), path=["minutes"])
    if plan["plan"] == "daily" and "minutes" in plan:
        raise vol.Invalid(Text("metering.minutes_every"), path=["minutes"])
    if plan["plan"] == "every" and "at" in plan:
        raise vol.Invalid(Text("metering.at_daily"), path=["at"])
    return plan


READING_SCHEMA = cv.ListOf(_plan, unique="id")

def ratio(value: Any) -> Decimal:
    """A CT or PT ratio: a number above 0, or primary/secondary like ``200/5`` (= 40)."""
    text = str(value).strip() if isinstance(value, str | int | Decimal) and not isinstance(
        value, bool) else ""
    primary, sep, secondary = text.partition("/")
    try:
        number = (Decimal(primary) / Decimal(secondary)) if sep else Decimal(text)
    except (ArithmeticError, ValueError):
        raise vol.Invalid(Text("metering.ratio", value=cv.show_value(value))) from None
    if not number.is_finite() or number <= 0:
        raise vol.Invalid(Text("metering.ratio_positive", value=cv.show_value(value)))
    return number


def _plain_dict(value: Any) -> dict[str, Any]:
    """A mapping, copied into a plain dict (not the loader's, which holds its positions)."""
    if not isinstance(value, dict):
        raise vol.Invalid(Text("vol.expected_dict"))
    return dict(value)


METER_BASE = cv.Strict({
    vol.Required("id"): cv.identifier,
    vol.Optional("name"): cv.string,
    vol.Required("model"): cv.string,
    vol.Required("link"): cv.identifier,
    vol.Required("address"): vol.Any(cv.string, int),
    vol.Optional("options", default={}): dict,
    vol.Optional("link_options", default={}): _plain_dict,
    vol.Optional("tags", default={}): _TAGS,
    vol.Optional("parent"): cv.identifier,
    vol.Optional("account"): cv.identifier,
    vol.Optional("tariff"): cv.identifier,
    vol.Optional("share_group"): cv.identifier,
    vol.Optional("alarms", default={}): dict,
    vol.Optional("enabled", default=True): cv.boolean,
    vol.Optional("ct_ratio"): ratio,  # current transformer (互感器) ratio: registers scaled
    vol.Optional("pt_ratio"): ratio,  # voltage transformer ratio
})


class LinkEntry(dict[str, Any]):
    """A validated ``links:`` entry; ``link_type`` is the type whose schema validated it."""

    link_type: LinkType | None = None


class MeterEntry(dict[str, Any]):
    """A validated ``meters:`` entry; ``model`` is the meter model that validated it."""

    __slots__ = ("model",)  # no __dict__ a meter: 10,000 entries

    model: MeterModel | None


def meter_schema(registries: Registries) -> Any:
    """A meter entry: base keys, then address and options checked by its model."""

    def _validate(value: Any) -> MeterEntry:
        meter = MeterEntry(METER_BASE(value))
        model = meter.model = registries.meter_models.get(meter["model"])
        if model is None:
            known = ", ".join(registries.meter_models.names()) or Text("metering.none_loaded")
            raise vol.Invalid(Text("metering.unknown_model", value=cv.show_value(meter["model"]),
                                   known=known), path=["model"])
        errors: list[vol.Invalid] = []
        try:
            meter["address"] = model.validate_address(meter["address"])
        except vol.Invalid as err:
            err.prepend(["address"])
            errors.append(err)
        try:
            meter["alarms"] = THRESHOLDS_SCHEMA(meter["alarms"])
        except vol.Invalid as err:
            for single in cv.flatten_invalid(err):
                single.prepend(["alarms"])
                errors.append(single)
        try:
            meter["options"] = dict(model.options(meter["options"]))
        except vol.Invalid as err:
            for single in cv.flatten_invalid(err):
                single.prepend(["options"])
                errors.append(single)
        if errors:
            raise vol.MultipleInvalid(errors)
        return meter

    return cv.ListOf(_validate, unique="id")


def links_schema(registries: Registries) -> Any:
    """A link entry, validated by the schema of its ``type``."""
    base = vol.Schema({vol.Required("id"): cv.identifier, vol.Required("type"): cv.string},
                      extra=vol.ALLOW_EXTRA)

    def _validate(value: Any) -> LinkEntry:
        head = base(value)
        link_type = registries.link_types.get(head["type"])
        if link_type is None:
            known = ", ".join(registries.link_types.names()) or Text("metering.none_loaded")
            raise vol.Invalid(Text("metering.unknown_link_type",
                                   value=cv.show_value(head["type"]), known=known),
                              path=["type"])
        schema = link_type.schema()
        result = LinkEntry((schema if isinstance(schema, vol.Schema)
                            else vol.Schema(schema))(value))
        result.link_type = link_type
        return result

    return cv.ListOf(_validate, unique="id")


def meter_kind(meter: Mapping[str, Any], registries: Registries | None = None) -> str | None:
    """What a meter entry measures (its model may say per meter): the model that validated
    it, else the one its ``model`` names in ``registries``; None when neither is known."""
    model = getattr(meter, "model", None)
    if model is None and registries is not None:
        model = registries.meter_models.get(str(meter.get("model", "")))
    if model is None:
        return None
    ref = MeterRef(meter["id"], meter["address"], dict(meter.get("options") or {}))
    try:
        return str(model.kind_of(ref))
    except ProtocolError:
        return str(model.kind)


def check_references(config: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """Meters must name existing links (and their link options must suit the link type);
    parents must be existing meters of the same kind; plans must name existing meters."""
    problems: list[tuple[list[Any], str]] = []
    links = {link["id"]: link for link in config.get("links") or []}
    meters = config.get("meters") or []
    meter_ids = {meter["id"]: meter for meter in meters}
    # the schema of the link options a link type allows, compiled once per type
    options_schemas: dict[int, cv.Strict] = {}
    for index, meter in enumerate(meters):
        link = links.get(meter["link"])
        if link is None:
            known = ", ".join(sorted(links)) or Text("metering.none_configured")
            problems.append(([ "meters", index, "link"],
                             Text("metering.unknown_link", link=meter["link"], known=known)))
        else:
            link_type = getattr(link, "link_type", None)
            schema = options_schemas.get(id(link_type))
            if schema is None:
                schema = options_schemas[id(link_type)] = cv.Strict(
                    dict(getattr(link_type, "meter_keys", {}) or {}))
            try:
                schema(meter["link_options"])
            except vol.Invalid as err:
                for single in cv.flatten_invalid(err):
                    path, message = cv.describe_invalid(single, meter["link_options"])
                    problems.append((["meters", index, "link_options", *path],
                                     Text("metering.for_link", reason=message,
                                          type=link["type"])))
        parent = meter.get("parent")
        if parent is not None:
            if parent not in meter_ids:
                problems.append((["meters", index, "parent"],
                                 Text("metering.unknown_meter", meter=parent)))
            elif parent == meter["id"]:
                problems.append((["meters", index, "parent"], Text("metering.own_parent")))
            else:
                mine, theirs = meter_kind(meter), meter_kind(meter_ids[parent])
                if mine is not None and theirs is not None and mine != theirs:
                    problems.append((["meters", index, "parent"],
                                     Text("metering.parent_kind", parent=parent,
                                          theirs=theirs, mine=mine)))
    for index, plan in enumerate(config.get("reading") or []):
        for position, meter_id in enumerate(plan.get("meters", [])):
            if meter_id not in meter_ids:
                problems.append((["reading", index, "meters", position],
                                 Text("metering.unknown_meter", meter=meter_id)))
    return problems
