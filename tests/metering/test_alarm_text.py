"""Alarm messages give units: every alarm kind has one, and the text says value and threshold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.i18n import localize
from hub.metering.alarm_text import ALARM_QUANTITIES, alarm_message, alarm_unit
from hub.metering.alarms import DEFAULT_THRESHOLDS, THRESHOLDS_SCHEMA

D = Decimal


def test_every_alarm_kind_has_a_quantity_and_unit() -> None:
    kinds = {str(key) for key in THRESHOLDS_SCHEMA.schema}
    assert kinds == set(ALARM_QUANTITIES) == set(DEFAULT_THRESHOLDS)


@pytest.mark.parametrize(("kind", "phase", "value", "threshold", "text"), [
    ("clock_drift", None, 28821, 300, "clock off by 28821 s (threshold 300 s)"),
    ("over_voltage", None, D("250.1"), D("235.4"), "voltage 250.1 V (threshold 235.4 V)"),
    ("under_voltage", "a", D("190.0"), D("198"), "phase A voltage 190.0 V (threshold 198 V)"),
    ("phase_loss", "b", D("0.0"), D("110"), "phase B voltage 0.0 V (threshold 110 V)"),
    ("power_loss", None, D("3.0"), D("50"), "voltage 3.0 V (threshold 50 V)"),
    ("over_current", "c", D("63.20"), D("60"), "phase C current 63.20 A (threshold 60 A)"),
    ("reverse_energy", None, D("0.05"), D("0.01"),
     "reverse energy 0.05 kWh (threshold 0.01 kWh)"),
    ("valve_abnormal", None, 3, True, "valve status 3"),
    ("battery_low", None, True, True, "battery low"),
])
def test_alarm_messages_name_units(kind: str, phase: str | None, value: object,
                                   threshold: object, text: str) -> None:
    assert alarm_message(kind, phase, value, threshold) == text


@pytest.mark.parametrize(("kind", "phase", "value", "threshold", "text"), [
    ("clock_drift", None, 28821, 300, "时钟偏差 28821 s（阈值 300 s）"),
    ("under_voltage", "a", D("190.0"), D("198"), "A 相电压 190.0 V（阈值 198 V）"),
    ("battery_low", None, True, True, "电池电量低"),
    ("valve_abnormal", None, 3, True, "阀门状态 3"),
])
def test_alarm_messages_in_chinese(kind: str, phase: str | None, value: object,
                                   threshold: object, text: str) -> None:
    assert localize(alarm_message(kind, phase, value, threshold), "zh-CN") == text


@pytest.mark.parametrize(("kind", "unit"), [
    ("over_voltage", "V"), ("under_voltage", "V"), ("phase_loss", "V"), ("power_loss", "V"),
    ("over_current", "A"), ("reverse_energy", "kWh"), ("clock_drift", "s"),
    ("valve_abnormal", ""), ("battery_low", ""), ("something_new", "")])
def test_alarm_units(kind: str, unit: str) -> None:
    assert alarm_unit(kind) == unit
