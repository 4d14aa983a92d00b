"""What an alarm says: the unit of each kind's value and the one-line message with units."""

from __future__ import annotations

from typing import Any, Final

from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

# kind -> (what the value is, its unit); status flags (valve, battery) have no unit.
ALARM_QUANTITIES: Final[dict[str, tuple[str, str]]] = {
    "over_voltage": ("voltage", "V"),
    "under_voltage": ("voltage", "V"),
    "phase_loss": ("voltage", "V"),
    "power_loss": ("voltage", "V"),
    "over_current": ("current", "A"),
    "reverse_energy": ("reverse energy", "kWh"),
    "clock_drift": ("clock off by", "s"),
    "valve_abnormal": ("valve status", ""),
    "battery_low": ("battery low", ""),
}


def alarm_unit(kind: str) -> str:
    """The unit of an alarm kind's value and threshold (V, A, kWh, s), "" for status flags."""
    return ALARM_QUANTITIES.get(kind, ("", ""))[1]


def _with_unit(value: Any, unit: str) -> str:
    return f"{value} {unit}" if unit else str(value)


def alarm_message(kind: str, phase: str | None, value: Any, threshold: Any) -> str:
    """``clock off by 28821 s (threshold 300 s)``, ``phase B voltage 96.0 V (threshold 110 V)``
    (``B 相电压 96.0 V（阈值 110 V）``): a message worded for each reader, kept with its key."""
    unit = alarm_unit(kind)
    what: str = Text(f"alarm.quantity.{kind}") if kind in ALARM_QUANTITIES \
        else kind.replace("_", " ")  # a plugin's own kind: its name
    if phase:
        what = Text("alarm.phase", phase=phase.upper(), what=what)
    text: str = what if isinstance(value, bool) else \
        Text("alarm.value", what=what, value=_with_unit(value, unit))  # a flag: its name
    if isinstance(threshold, bool) or threshold is None:
        return text
    return Text("alarm.threshold", text=text, threshold=_with_unit(threshold, unit))
