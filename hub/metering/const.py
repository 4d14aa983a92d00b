"""Event types and names of the metering service."""

from __future__ import annotations

from typing import Final

# The register shown as a meter's state, first one present wins.
MAIN_REGISTERS: Final = (
    ("energy_import_total", "kWh"),
    ("energy_combined_total", "kWh"),
    ("water_total", "m3"),
)

