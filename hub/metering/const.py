"""Event types and names of the metering service."""

from __future__ import annotations

from typing import Final

# The register shown as a meter's state, first one present wins.
MAIN_REGISTERS: Final = (
    ("energy_import_total", "kWh"),
    ("energy_combined_total", "kWh"),
    ("water_total", "m3"),
)


# How long a read that answers a user waits for storage to commit its reading (seconds);
# past it the answer says the reading is not stored yet.
STORE_WAIT_S: Final = 30.0
