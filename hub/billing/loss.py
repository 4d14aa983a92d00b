"""Loss analysis (线损 / 水损): a parent meter against the sum of its children.

For each meter with children (the children's ``parent:``) and period: ``loss = parent −
Σ children``, ``loss % = loss / parent × 100`` (shown half-up to 0.01 %). Statuses:

- ``incomplete``: a meter has no reading at or after the period's end yet, so its usage
  for the period is not known (no alarm is raised or cleared on it);
- ``no_usage``: parent and children used nothing; ``small``: both below ``min_quantity``;
- ``negative``: the children used more than the parent by more than ``negative_percent``
  of the parent (or the parent used nothing): a wiring or meter fault, not a loss;
- ``high``: loss % above ``threshold_percent``: possible theft or leak;
- ``ok`` otherwise.

``high`` raises an ``alarm`` {meter_id, kind: loss, value: loss %, threshold, period,
resolution, quantities} and ``negative`` one of kind ``loss_negative``, each once; a later
period back to ``ok`` (or ``no_usage``/``small``) fires ``alarm_cleared``. Raised alarms are
kept in the state ``loss.<parent>`` so they survive a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..core import Context
from ..events import EVENT_ALARM, EVENT_ALARM_CLEARED
from ..i18n import Text
from ..util.ids import slugify
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .analysis.base import ZERO, Catalog, MeterFacts, Period, meter_quantity, missing_data

if TYPE_CHECKING:
    from ..core import Hub
    from ..storage import Storage

_LOGGER = logging.getLogger(__name__)

ALARM_LOSS = "loss"
ALARM_NEGATIVE = "loss_negative"
HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")


def _percent(value: Any) -> Decimal:
    number = cv.non_negative_decimal(value)
    if number > HUNDRED:
        raise vol.Invalid(Text("billing.percentage", value=cv.show_value(value)))
    return number


_LIMITS: dict[Any, Any] = {
    vol.Optional("threshold_percent"): _percent,
    vol.Optional("negative_percent"): _percent,
    vol.Optional("min_quantity"): cv.non_negative_decimal,
}

LOSS_SCHEMA = cv.Strict({
    vol.Optional("threshold_percent", default=Decimal(8)): _percent,
    vol.Optional("negative_percent", default=Decimal(2)): _percent,
    vol.Optional("min_quantity", default=Decimal(5)): cv.non_negative_decimal,
    vol.Optional("kinds", default=["electricity", "water"]): cv.ListOf(
        cv.one_of("electricity", "water"), allow_single=True),
    vol.Optional("at", default=time(1, 0)): cv.time_of_day,
    vol.Optional("enabled", default=True): cv.boolean,
    vol.Optional("rules", default=[]): cv.ListOf(cv.Strict({
        vol.Required("tags"): vol.Schema({cv.slug: cv.string}),
        **_LIMITS,
    })),
})


@dataclass(frozen=True)
class LossLimits:
    """The thresholds that apply to one parent meter."""

    threshold_percent: Decimal
    negative_percent: Decimal
    min_quantity: Decimal


@dataclass(frozen=True)
class LossSettings:
    """The ``loss:`` block: defaults, per-tag rules (the last matching rule wins per key)."""

    defaults: LossLimits
    kinds: tuple[str, ...]
    at: time
    enabled: bool = True
    rules: tuple[tuple[Mapping[str, str], Mapping[str, Decimal]], ...] = ()

    @classmethod
    def from_block(cls, block: Mapping[str, Any] | None) -> LossSettings:
        """Build from the validated block (None: every default)."""
        data = block if block is not None else LOSS_SCHEMA({})
        return cls(
            LossLimits(data["threshold_percent"], data["negative_percent"],
                       data["min_quantity"]),
            tuple(data["kinds"]), data["at"], data["enabled"],
            tuple((dict(rule["tags"]), {k: v for k, v in rule.items() if k != "tags"})
                  for rule in data["rules"]))

    def limits_for(self, tags: Mapping[str, str]) -> LossLimits:
        """The defaults, overridden by every rule whose tags the meter carries."""
        values = {"threshold_percent": self.defaults.threshold_percent,
                  "negative_percent": self.defaults.negative_percent,
                  "min_quantity": self.defaults.min_quantity}
        for rule_tags, overrides in self.rules:
            if all(str(tags.get(k)) == str(v) for k, v in rule_tags.items()):
                values.update(overrides)
        return LossLimits(**values)


@dataclass(frozen=True)
class LossRow:
    """One parent meter over one period."""

    meter_id: str
    kind: str
    unit: str
    tags: Mapping[str, str]
    period: Period
    parent_quantity: Decimal
    children_quantity: Decimal
    children: tuple[str, ...]
    limits: LossLimits
    missing: tuple[str, ...] = ()

    @property
    def loss(self) -> Decimal:
        """Parent minus children (negative: the children used more)."""
        return self.parent_quantity - self.children_quantity

    @property
    def exact_percent(self) -> Decimal | None:
        """Loss as a percentage of the parent, unrounded (None when the parent used 0)."""
        if not self.parent_quantity:
            return None
        return self.loss * HUNDRED / self.parent_quantity

    @property
    def loss_percent(self) -> Decimal | None:
        """Loss %, half-up to 0.01 (None when the parent used nothing)."""
        exact = self.exact_percent
        return None if exact is None else exact.quantize(PERCENT_PLACES, ROUND_HALF_UP)

    @property
    def status(self) -> str:
        """incomplete | no_usage | small | negative | high | ok (see the module doc)."""
        if self.missing:
            return "incomplete"
        if not self.parent_quantity and not self.children_quantity:
            return "no_usage"
        minimum = self.limits.min_quantity
        if self.parent_quantity < minimum and self.children_quantity < minimum:
            return "small"
        exact = self.exact_percent
        if self.loss < 0 and (exact is None or -exact > self.limits.negative_percent):
            return "negative"
        if exact is not None and exact > self.limits.threshold_percent:
            return "high"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (the alarm's data uses it too)."""
        return {"meter_id": self.meter_id, "kind": self.kind, "unit": self.unit,
                "tags": dict(self.tags), "period": self.period.label,
                "resolution": self.period.resolution,
                "parent_quantity": self.parent_quantity,
                "children_quantity": self.children_quantity, "loss_quantity": self.loss,
                "loss_percent": self.loss_percent, "status": self.status,
                "threshold": self.limits.threshold_percent,
                "negative_threshold": self.limits.negative_percent,
                "children": list(self.children), "missing": list(self.missing)}


@dataclass(frozen=True)
class TagLoss:
    """Losses summed over the parent meters carrying one tag value (a building, a line)."""

    key: str
    value: str
    kind: str
    unit: str
    parents: tuple[str, ...]
    parent_quantity: Decimal
    children_quantity: Decimal

    @property
    def loss(self) -> Decimal:
        """Parents minus children."""
        return self.parent_quantity - self.children_quantity

    @property
    def loss_percent(self) -> Decimal | None:
        """Loss %, half-up to 0.01 (None when the parents used nothing)."""
        if not self.parent_quantity:
            return None
        return (self.loss * HUNDRED / self.parent_quantity).quantize(PERCENT_PLACES,
                                                                   ROUND_HALF_UP)


async def analyse(storage: Storage, catalog: Catalog, settings: LossSettings,
                  period: Period) -> list[LossRow]:
    """Every parent meter of a watched kind over ``period``."""
    rows = []
    _, end = period.bounds(storage.tz)
    for parent_id in catalog.parents():
        parent = catalog.get(parent_id)
        if parent is None or parent.kind not in settings.kinds:
            continue
        children = [c for c in (catalog.get(i) for i in catalog.children_of(parent_id))
                    if c is not None]
        rows.append(await _row(storage, parent, children, settings, period, end))
    return rows


async def _row(storage: Storage, parent: MeterFacts, children: Sequence[MeterFacts],
               settings: LossSettings, period: Period, end: Any) -> LossRow:
    parent_quantity = await meter_quantity(storage, parent, period)
    children_quantity = ZERO
    for child in children:
        children_quantity += await meter_quantity(storage, child, period)
    missing = await missing_data(storage, [parent.id, *(c.id for c in children)], end)
    return LossRow(parent.id, parent.kind, parent.unit, dict(parent.tags), period,
                   parent_quantity, children_quantity, tuple(c.id for c in children),
                   settings.limits_for(parent.tags), tuple(missing))


def by_tag(rows: Iterable[LossRow], key: str) -> list[TagLoss]:
    """Complete rows summed per value of one tag (building, line...) and kind."""
    groups: dict[tuple[str, str], list[LossRow]] = {}
    for row in rows:
        if row.status != "incomplete" and key in row.tags:
            groups.setdefault((str(row.tags[key]), row.kind), []).append(row)
    return [TagLoss(key, value, kind, members[0].unit,
                    tuple(r.meter_id for r in members),
                    sum((r.parent_quantity for r in members), ZERO),
                    sum((r.children_quantity for r in members), ZERO))
            for (value, kind), members in sorted(groups.items())]


def loss_entity_id(meter_id: str) -> str:
    """The state keeping a parent meter's loss and its raised alarms."""
    return f"loss.{slugify(meter_id)}"


class LossAlarms:
    """Raises and clears loss alarms once per episode; remembers them in states."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def apply(self, rows: Iterable[LossRow], context: Context | None = None) -> list[str]:
        """Fire what the rows call for; returns the event types fired (for logs and tests)."""
        fired: list[str] = []
        for row in rows:
            fired.extend(self._apply(row, context or Context(origin="loss_analysis")))
        return fired

    def _apply(self, row: LossRow, context: Context) -> list[str]:
        entity_id = loss_entity_id(row.meter_id)
        current = self.hub.states.get(entity_id)
        attributes: dict[str, Any] = dict(current.attributes) if current else {}
        slot = f"alarm_{row.period.resolution}"
        last_key = f"last_{row.period.resolution}"
        last = attributes.get(last_key)
        if last is not None and row.period.label < str(last):
            return []  # an older period than one already judged: it changes nothing
        fired: list[str] = []
        status = row.status
        if status == "incomplete":
            return fired
        active: Mapping[str, Any] | None = attributes.get(slot)
        wanted = {"high": ALARM_LOSS, "negative": ALARM_NEGATIVE}.get(status)
        if active is not None and active.get("kind") != wanted and (
                row.period.label > str(active.get("period"))):
            self._fire(EVENT_ALARM_CLEARED, str(active.get("kind")), row, context)
            fired.append(EVENT_ALARM_CLEARED)
            active = None
        if wanted is not None and active is None:
            self._fire(EVENT_ALARM, wanted, row, context)
            fired.append(EVENT_ALARM)
            active = {"kind": wanted, "period": row.period.label,
                      "value": row.loss_percent}
        attributes.update({
            "meter_id": row.meter_id, "kind": row.kind, slot: active, last_key: row.period.label,
            f"{row.period.resolution}_status": status,
            f"{row.period.resolution}_loss_percent": row.loss_percent,
            "threshold": row.limits.threshold_percent, "unit_of_measurement": "%"})
        value = row.loss_percent if row.period.resolution == "day" or current is None else (
            current.state)
        self.hub.states.set(entity_id, value, attributes, context=context)
        return fired

    def _fire(self, event_type: str, kind: str, row: LossRow, context: Context) -> None:
        data = row.as_dict()
        threshold = (row.limits.negative_percent if kind == ALARM_NEGATIVE
                     else row.limits.threshold_percent)
        data.update({"kind": kind, "phase": None, "value": row.loss_percent,
                     "threshold": threshold, "value_unit": "%",
                     "message": f"loss {row.loss_percent} % (threshold {threshold} %)"})
        if event_type == EVENT_ALARM:
            _LOGGER.warning("%s on %s for %s: loss %s %% (%s of %s %s; threshold %s %%)",
                            "Possible theft or leak" if kind == ALARM_LOSS
                            else "Children above their parent (wiring or meter fault)",
                            row.meter_id, row.period.label, row.loss_percent, row.loss,
                            row.parent_quantity, row.unit, threshold)
        else:
            _LOGGER.info("Loss alarm %s on %s cleared for %s", kind, row.meter_id,
                         row.period.label)
        self.hub.bus.fire(event_type, data, context=context)

