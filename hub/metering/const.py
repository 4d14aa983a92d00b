"""Event types and names of the metering service."""

from __future__ import annotations

from typing import Final

EVENT_READING: Final = "reading"
EVENT_READ_FAILED: Final = "read_failed"
EVENT_METER_ONLINE: Final = "meter_online"
EVENT_METER_OFFLINE: Final = "meter_offline"
EVENT_ALARM: Final = "alarm"
EVENT_ALARM_CLEARED: Final = "alarm_cleared"

# The register shown as a meter's state, first one present wins.
MAIN_REGISTERS: Final = (
    ("energy_import_total", "kWh"),
    ("energy_combined_total", "kWh"),
    ("water_total", "m3"),
)

