"""Alarms from readings: voltage, current, power and phase loss, reverse energy, valve,
battery and clock drift — with hysteresis so a value sitting at a threshold doesn't flap.

Thresholds come from ``alarms.defaults``, then every ``alarms.rules`` entry whose tags match
the meter (in order), then the meter's own ``alarms:``; later ones override earlier keys.
An alarm is raised when a value passes its threshold and cleared only when it comes back
past the clear threshold (default: 2 % inside the raise threshold), firing ``alarm`` and
``alarm_cleared`` with kind, value, threshold (and phase for three-phase meters), the unit
of value and threshold (``value_unit``: V, A, kWh, s) and a ``message`` saying it with units.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..core import Context, Event
from ..events import EVENT_ALARM, EVENT_ALARM_CLEARED, EVENT_READING
from .alarm_text import alarm_message, alarm_unit
from .points import VALVE_ABNORMAL
from .reading import Reading

if TYPE_CHECKING:
    from ..core import Hub
    from .service import MeteringService

_LOGGER = logging.getLogger(__name__)

HYSTERESIS = Decimal("0.02")

_ABOVE = cv.Strict({vol.Required("above"): cv.decimal, vol.Optional("clear_below"): cv.decimal})
_BELOW = cv.Strict({vol.Required("below"): cv.decimal, vol.Optional("clear_above"): cv.decimal})

THRESHOLDS_SCHEMA = cv.Strict({
    vol.Optional("over_voltage"): vol.Any(None, False, _ABOVE),
    vol.Optional("under_voltage"): vol.Any(None, False, _BELOW),
    vol.Optional("over_current"): vol.Any(None, False, _ABOVE),
    vol.Optional("phase_loss"): vol.Any(None, False, _BELOW),
    vol.Optional("power_loss"): vol.Any(None, False, _BELOW),
    vol.Optional("reverse_energy"): vol.Any(None, False, _ABOVE),
    vol.Optional("valve_abnormal"): cv.boolean,
    vol.Optional("battery_low"): cv.boolean,
    vol.Optional("clock_drift"): vol.Any(None, False, cv.Strict({
        vol.Required("above"): cv.duration})),
})

# Defaults for a 220/380 V supply: GB/T 12325 allows +7 % / -10 % on 220 V.
DEFAULT_THRESHOLDS: dict[str, Any] = {
    "over_voltage": {"above": Decimal("235.4")},
    "under_voltage": {"below": Decimal("198")},
    "over_current": {"above": Decimal("60")},
    "phase_loss": {"below": Decimal("110")},
    "power_loss": {"below": Decimal("50")},
    "reverse_energy": {"above": Decimal("0.01")},
    "valve_abnormal": True,
    "battery_low": True,
    "clock_drift": {"above": timedelta(minutes=5)},
}

ALARMS_SCHEMA = cv.Strict({
    vol.Optional("defaults", default={}): THRESHOLDS_SCHEMA,
    vol.Optional("rules", default=[]): cv.ListOf(cv.Strict({
        vol.Required("tags"): vol.Schema({cv.slug: cv.string}),
        **THRESHOLDS_SCHEMA.schema,
    })),
})


def _per_phase(values: Mapping[str, Decimal], name: str) -> list[tuple[str | None, Decimal]]:
    """Phase values (a, b, c) of a three-phase meter, else the single value (phase None)."""
    phases: list[tuple[str | None, Decimal]] = [
        (ph, values[f"{name}_{ph}"]) for ph in "abc" if f"{name}_{ph}" in values]
    if not phases and name in values:
        phases.append((None, values[name]))
    return phases


class _LazyContext:
    """The alarms' child of a reading's context, made only when an alarm fires or clears."""

    __slots__ = ("child", "parent")

    def __init__(self, parent: Context | None) -> None:
        self.parent = parent
        self.child: Context | None = None

    def get(self) -> Context:
        if self.child is None:
            self.child = (self.parent.child("alarms") if self.parent
                          else Context(origin="alarms"))
        return self.child


@dataclass
class ActiveAlarm:
    """An alarm that is raised and not yet cleared."""

    kind: str
    phase: str | None
    value: Any
    threshold: Any


def matching_rules(meter_tags: Mapping[str, str], config: Mapping[str, Any]) -> tuple[int, ...]:
    """The positions of the alarm rules whose tags the meter has, in order."""
    return tuple(index for index, rule in enumerate(config.get("rules") or [])
                 if all(meter_tags.get(k) == v for k, v in rule["tags"].items()))


def thresholds_for(meter_tags: Mapping[str, str], meter_alarms: Mapping[str, Any],
                   config: Mapping[str, Any]) -> dict[str, Any]:
    """Merge defaults, matching tag rules and the meter's own thresholds."""
    merged = dict(DEFAULT_THRESHOLDS)
    merged.update(config.get("defaults") or {})
    rules = config.get("rules") or []
    for index in matching_rules(meter_tags, config):
        merged.update({k: v for k, v in rules[index].items() if k != "tags"})
    merged.update(meter_alarms)
    return {k: v for k, v in merged.items() if v not in (None, False)}


def _levels(limits: Mapping[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    """Each above/below threshold with its clearing level (given, or the threshold less
    :data:`HYSTERESIS`), worked out once per meter's settings rather than per reading."""
    levels: dict[str, tuple[Decimal, Decimal]] = {}
    for kind, spec in limits.items():
        if not isinstance(spec, Mapping):
            continue
        if "above" in spec and isinstance(spec["above"], Decimal):
            threshold = spec["above"]
            clear = spec.get("clear_below")
            levels[kind] = (threshold, threshold - abs(threshold) * HYSTERESIS
                            if clear is None else clear)
        elif "below" in spec and isinstance(spec["below"], Decimal):
            threshold = spec["below"]
            clear = spec.get("clear_above")
            levels[kind] = (threshold, threshold + abs(threshold) * HYSTERESIS
                            if clear is None else clear)
    return levels


class AlarmMonitor:
    """Watches ``reading`` events and raises / clears alarms per meter, kind and phase."""

    def __init__(self, hub: Hub, service: MeteringService, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.service = service
        self.config = config
        self.active: dict[tuple[str, str, str | None], ActiveAlarm] = {}
        # per meter: the settings they were made from (a meter changed at runtime gets a new
        # config), its thresholds, and each above/below kind's threshold and clearing level;
        # meters without settings of their own matching the same rules share one pair
        self._thresholds: dict[str, tuple[Mapping[str, Any], dict[str, Any],
                                          dict[str, tuple[Decimal, Decimal]]]] = {}
        self._shared: dict[tuple[int, ...], tuple[dict[str, Any],
                                                  dict[str, tuple[Decimal, Decimal]]]] = {}
        # each meter's device and export register at its previous reading (not the reading)
        self._previous: dict[str, tuple[str, Decimal]] = {}

    def start(self) -> None:
        """Listen to readings."""
        self.hub.bus.listen(EVENT_READING, self._on_reading)

    def thresholds(self, meter_id: str) -> dict[str, Any]:
        """The effective thresholds of a meter (cached while its settings stay)."""
        return self._compiled(meter_id)[1]

    def _compiled(self, meter_id: str) -> tuple[Mapping[str, Any], dict[str, Any],
                                                dict[str, tuple[Decimal, Decimal]]]:
        meter = self.service.meters[meter_id]
        found = self._thresholds.get(meter_id)
        if found is None or found[0] is not meter.config:
            try:
                own = THRESHOLDS_SCHEMA(dict(meter.config.get("alarms") or {}))
            except vol.Invalid as err:
                _LOGGER.error("Meter %s: bad alarms settings ignored: %s", meter_id, err)
                own = {}
            if own:
                limits = thresholds_for(meter.tags, own, self.config)
                levels = _levels(limits)
            else:  # the same rules match: the same thresholds, one pair for all those meters
                rules = matching_rules(meter.tags, self.config)
                pair = self._shared.get(rules)
                if pair is None:
                    limits = thresholds_for(meter.tags, own, self.config)
                    pair = self._shared[rules] = (limits, _levels(limits))
                limits, levels = pair
            found = self._thresholds[meter_id] = (meter.config, limits, levels)
        return found

    def _on_reading(self, event: Event) -> None:
        reading: Reading = event.data["reading"]
        if reading.meter_id not in self.service.meters:
            return
        self.check(reading, event.context)

    def check(self, reading: Reading, context: Context | None = None) -> None:
        """Evaluate one reading against its meter's thresholds."""
        _config, limits, levels = self._compiled(reading.meter_id)
        values = reading.values
        ctx = _LazyContext(context)
        voltages = _per_phase(values, "voltage")
        currents = _per_phase(values, "current")
        # power loss: every phase gone; phase loss: one phase gone while others are there.
        # A lost phase (or supply) is not also reported as under-voltage.
        highest = max((v for _ph, v in voltages), default=None)
        self._below(reading, "power_loss", None, highest, levels, ctx)
        dead = "power_loss" in limits and highest is not None and (
            highest < limits["power_loss"]["below"])
        for phase, volts in voltages:
            self._above(reading, "over_voltage", phase, volts, levels, ctx)
            lost = phase is not None and "phase_loss" in limits and (
                volts < limits["phase_loss"]["below"])
            if phase is not None and not dead:
                self._below(reading, "phase_loss", phase, volts, levels, ctx)
            if dead or lost:
                self._clear(reading, "under_voltage", phase, volts, ctx)
            else:
                self._below(reading, "under_voltage", phase, volts, levels, ctx)
        for phase, amps in currents:
            self._above(reading, "over_current", phase, abs(amps), levels, ctx)
        self._reverse_energy(reading, levels, ctx)
        status = reading.status
        if "valve" in status and limits.get("valve_abnormal"):
            self._flag(reading, "valve_abnormal", status["valve"] == VALVE_ABNORMAL,
                       status["valve"], ctx)
        if "battery_low" in status and limits.get("battery_low"):
            self._flag(reading, "battery_low", bool(status["battery_low"]),
                       status["battery_low"], ctx)
        if reading.meter_time is not None and "clock_drift" in limits:
            drift = abs((reading.meter_time - reading.time).total_seconds())
            limit = limits["clock_drift"]["above"].total_seconds()
            key = (reading.meter_id, "clock_drift", None)
            raised = key in self.active
            if drift > limit or (raised and drift > limit * (1 - float(HYSTERESIS))):
                self._raise(reading, "clock_drift", None, round(drift), round(limit), ctx)
            else:
                self._clear(reading, "clock_drift", None, round(drift), ctx)
        exported = reading.registers.get("energy_export_total")
        if exported is None:
            self._previous.pop(reading.meter_id, None)
        else:
            self._previous[reading.meter_id] = (reading.device, exported)

    def _above(self, reading: Reading, kind: str, phase: str | None, value: Decimal | None,
               levels: Mapping[str, tuple[Decimal, Decimal]], ctx: _LazyContext) -> None:
        found = levels.get(kind)
        if value is None or found is None:
            return
        threshold, clear = found
        if value > threshold:
            self._raise(reading, kind, phase, value, threshold, ctx)
        elif value < clear:
            self._clear(reading, kind, phase, value, ctx)

    def _below(self, reading: Reading, kind: str, phase: str | None, value: Decimal | None,
               levels: Mapping[str, tuple[Decimal, Decimal]], ctx: _LazyContext) -> None:
        found = levels.get(kind)
        if value is None or found is None:
            return
        threshold, clear = found
        if value < threshold:
            self._raise(reading, kind, phase, value, threshold, ctx)
        elif value > clear:
            self._clear(reading, kind, phase, value, ctx)

    def _flag(self, reading: Reading, kind: str, on: bool, value: Any,
              ctx: _LazyContext) -> None:
        if on:
            self._raise(reading, kind, None, value, True, ctx)
        else:
            self._clear(reading, kind, None, value, ctx)

    def _reverse_energy(self, reading: Reading, levels: Mapping[str, tuple[Decimal, Decimal]],
                        ctx: _LazyContext) -> None:
        if "reverse_energy" not in levels:
            return
        now = reading.registers.get("energy_export_total")
        before = self._previous.get(reading.meter_id)
        if now is None or before is None or before[0] != reading.device:
            return
        self._above(reading, "reverse_energy", None, now - before[1], levels, ctx)

    def _raise(self, reading: Reading, kind: str, phase: str | None, value: Any,
               threshold: Any, ctx: _LazyContext) -> None:
        key = (reading.meter_id, kind, phase)
        if key in self.active:
            self.active[key].value = value
            return
        self.active[key] = ActiveAlarm(kind, phase, value, threshold)
        message = alarm_message(kind, phase, value, threshold)
        _LOGGER.warning("Alarm %s on %s: %s", kind, reading.meter_id, message)
        self.hub.bus.fire(EVENT_ALARM, {
            "meter_id": reading.meter_id, "kind": kind, "phase": phase, "value": value,
            "threshold": threshold, "value_unit": alarm_unit(kind), "message": message,
            "reading_id": reading.id,
        }, context=ctx.get())

    def _clear(self, reading: Reading, kind: str, phase: str | None, value: Any,
               ctx: _LazyContext) -> None:
        alarm = self.active.pop((reading.meter_id, kind, phase), None)
        if alarm is None:
            return
        message = alarm_message(kind, phase, value, alarm.threshold)
        _LOGGER.info("Alarm %s on %s cleared: %s", kind, reading.meter_id, message)
        self.hub.bus.fire(EVENT_ALARM_CLEARED, {
            "meter_id": reading.meter_id, "kind": kind, "phase": phase, "value": value,
            "threshold": alarm.threshold, "value_unit": alarm_unit(kind), "message": message,
            "reading_id": reading.id,
        }, context=ctx.get())

    def active_for(self, meter_id: str) -> list[ActiveAlarm]:
        """Alarms raised on a meter now."""
        return [alarm for (mid, _k, _p), alarm in self.active.items() if mid == meter_id]
