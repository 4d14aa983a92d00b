"""The shipped register maps, as tables (validated by the same schema as a user's YAML).

Sources: PROTOCOLS.md §4.2 (Chint DDSU666: Tasmota's driver, FC 04, float32 ABCD, power in
kW) and §4.3 (Eastron SDM120: FC 04 input registers, float32 ABCD, power in W). Both are
metering-only meters: no relay. Gaps between registers are not read by default
(``max_gap: 0``); a meter known to answer reads across reserved registers may raise it.
"""

from __future__ import annotations

from typing import Any, Final

from .regmap import RegisterMap, compile_map


def _float(point: str, address: int, unit: str) -> dict[str, Any]:
    return {"point": point, "address": address, "type": "float32", "unit": unit}


SDM120: Final[dict[str, Any]] = {
    "name": "sdm120",
    "description": "Eastron SDM120 single-phase meter (FC 04 input registers, float32 ABCD)",
    "function": 4,
    "byte_order": "ABCD",
    "registers": [
        _float("voltage", 0x0000, "V"),
        _float("current", 0x0006, "A"),
        _float("power", 0x000C, "W"),
        _float("power_factor", 0x001E, ""),
        _float("frequency", 0x0046, "Hz"),
        _float("energy_import_total", 0x0048, "kWh"),
        _float("energy_export_total", 0x004A, "kWh"),
        _float("energy_combined_total", 0x0156, "kWh"),  # import + export
    ],
}

DDSU666: Final[dict[str, Any]] = {
    "name": "ddsu666",
    "description": "Chint DDSU666 single-phase meter (FC 04, float32 ABCD, power in kW)",
    "function": 4,
    "byte_order": "ABCD",
    "registers": [
        _float("voltage", 0x2000, "V"),
        _float("current", 0x2002, "A"),
        _float("power", 0x2004, "kW"),
        _float("power_factor", 0x200A, ""),
        _float("frequency", 0x200E, "Hz"),
        _float("energy_import_total", 0x4000, "kWh"),
        _float("energy_export_total", 0x400A, "kWh"),
    ],
}

SHIPPED: Final[dict[str, dict[str, Any]]] = {"sdm120": SDM120, "ddsu666": DDSU666}


def shipped_map(name: str) -> RegisterMap:
    """A shipped map by model name (KeyError names the unknown one)."""
    try:
        table = SHIPPED[name]
    except KeyError:
        raise KeyError(f"no shipped Modbus register map {name!r} "
                       f"(shipped: {', '.join(SHIPPED)})") from None
    return compile_map(table, name)
