"""The hub's point vocabulary: one name per quantity, whatever protocol read it.

Each meter model maps its own identifiers (DL/T 645 DIs, CJ/T 188 fields, Modbus
registers) onto these keys, so storage, billing and the dashboard speak only these.
Tariff registers 1..4 are, by convention, sharp / peak / flat / valley (尖峰平谷).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "POINTS",
    "RELAY_CLOSED",
    "RELAY_OPEN",
    "SIGNED_REGISTERS",
    "VALVE_ABNORMAL",
    "VALVE_CLOSED",
    "VALVE_OPEN",
    "PointInfo",
    "PointType",
    "point",
]


class PointType(StrEnum):
    """How a point behaves."""

    REGISTER = "register"  # cumulative: consumption is its delta (unless the point is signed)
    INSTANT = "instant"  # instantaneous value
    STATUS = "status"  # decoded status (relay, valve, flags, raw words)
    MONEY = "money"  # an amount kept by the meter (prepaid balance)


@dataclass(frozen=True, slots=True)
class PointInfo:
    """What a point key means.

    A ``signed`` register is cumulative but not a counter: it may fall and go below zero
    (DL/T 645 combined active energy, DI ``00000000``, is forward minus reverse on a net
    meter and signed by the standard). Storage keeps its values and never counts them.
    """

    key: str
    type: PointType
    unit: str
    name_en: str
    name_zh: str
    signed: bool = False


def _p(key: str, type_: PointType, unit: str, en: str, zh: str,
       signed: bool = False) -> PointInfo:
    return PointInfo(key, type_, unit, en, zh, signed)


_R, _I, _S, _M = PointType.REGISTER, PointType.INSTANT, PointType.STATUS, PointType.MONEY
_BANDS = (("t1", "sharp", "尖"), ("t2", "peak", "峰"), ("t3", "flat", "平"), ("t4", "valley", "谷"))

_POINTS: list[PointInfo] = [
    _p("energy_import_total", _R, "kWh", "Forward active energy, total", "正向有功总电能"),
    *(_p(f"energy_import_{t}", _R, "kWh", f"Forward active energy, tariff {t[1]} ({en})",
         f"正向有功{zh}电能") for t, en, zh in _BANDS),
    _p("energy_export_total", _R, "kWh", "Reverse active energy, total", "反向有功总电能"),
    *(_p(f"energy_export_{t}", _R, "kWh", f"Reverse active energy, tariff {t[1]} ({en})",
         f"反向有功{zh}电能") for t, en, zh in _BANDS),
    _p("energy_combined_total", _R, "kWh", "Combined active energy, total", "组合有功总电能",
       signed=True),
    *(_p(f"energy_combined_{t}", _R, "kWh", f"Combined active energy, tariff {t[1]} ({en})",
         f"组合有功{zh}电能", signed=True) for t, en, zh in _BANDS),
    _p("water_total", _R, "m3", "Cumulative flow", "累计流量"),
    _p("water_settlement", _R, "m3", "Flow at the settlement day", "结算日累计流量"),
    _p("voltage", _I, "V", "Voltage", "电压"),
    *(_p(f"voltage_{ph}", _I, "V", f"Voltage phase {ph.upper()}", f"{ph.upper()}相电压")
      for ph in "abc"),
    _p("current", _I, "A", "Current", "电流"),
    *(_p(f"current_{ph}", _I, "A", f"Current phase {ph.upper()}", f"{ph.upper()}相电流")
      for ph in "abc"),
    _p("power", _I, "kW", "Active power, total", "总有功功率"),
    *(_p(f"power_{ph}", _I, "kW", f"Active power phase {ph.upper()}", f"{ph.upper()}相有功功率")
      for ph in "abc"),
    _p("power_factor", _I, "", "Power factor, total", "总功率因数"),
    *(_p(f"power_factor_{ph}", _I, "", f"Power factor phase {ph.upper()}",
         f"{ph.upper()}相功率因数") for ph in "abc"),
    _p("frequency", _I, "Hz", "Grid frequency", "电网频率"),
    _p("flow_rate", _I, "m3/h", "Flow rate", "瞬时流量"),
    _p("battery_voltage", _I, "V", "Battery voltage", "电池电压"),
    _p("balance", _M, "CNY", "Remaining amount kept by the meter", "表内剩余金额"),
    _p("overdraft", _M, "CNY", "Overdraft amount kept by the meter", "表内透支金额"),
    _p("meter_time", _S, "", "Meter clock", "表内时钟"),
    _p("relay", _S, "", "Relay state (open = tripped)", "继电器状态"),
    _p("valve", _S, "", "Valve state", "阀门状态"),
    _p("battery_low", _S, "", "Battery low", "电池欠压"),
    _p("protect", _S, "", "Meter-side protect (保电) state", "保电状态"),
    *(_p(f"status_word_{n}", _S, "", f"Run status word {n}", f"电表运行状态字{n}")
      for n in range(1, 8)),
]

POINTS: dict[str, PointInfo] = {point.key: point for point in _POINTS}

SIGNED_REGISTERS: frozenset[str] = frozenset(
    point.key for point in _POINTS if point.type is PointType.REGISTER and point.signed)
"""Registers that are not counters: kept as read, never counted (see :class:`PointInfo`)."""

RELAY_OPEN = "open"  # tripped: no power to the tenant
RELAY_CLOSED = "closed"
VALVE_OPEN = "open"
VALVE_CLOSED = "closed"
VALVE_ABNORMAL = "abnormal"


UNIT_TEXT = {"m3": "m³", "m3/h": "m³/h"}
"""Units as people write them (the code keeps ASCII: ``m3`` in YAML, the API and files)."""


def unit_text(unit: str) -> str:
    """A unit as shown to a person: ``m3`` → ``m³``; others as they are."""
    return UNIT_TEXT.get(unit, unit)


def point(key: str) -> PointInfo:
    """Return a point's description; KeyError names the unknown key."""
    try:
        return POINTS[key]
    except KeyError:
        raise KeyError(f"unknown point {key!r}") from None
