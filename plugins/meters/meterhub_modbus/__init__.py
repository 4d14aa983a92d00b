"""MeterHub built-in plugin: Modbus RTU meters driven by register maps (via pymodbus).

Models ``sdm120`` (Eastron), ``ddsu666`` (Chint) and ``modbus`` (a user's register map in
YAML), their simulator, and the ``modbus_rtu`` codec of ``meterhub frame``::

    meters:
      - {id: pv_meter, model: sdm120, link: bus1, address: 1}
      - {id: r12_e, model: modbus, link: bus1, address: 7,
         options: {map: !include modbus_maps/dds238_2.yaml}}
"""

from __future__ import annotations

from typing import Any

from hub.hookspecs import hookimpl

from .const import PROTOCOL
from .errors import ModbusError
from .frames import Request, RtuFrame, RtuParser
from .model import ModbusMeterModel, shipped_models
from .regmap import RegisterMap, compile_map
from .simulator import ModbusSimulator
from .tool import ModbusRtuCodec

__all__ = [
    "PROTOCOL",
    "ModbusError",
    "ModbusMeterModel",
    "ModbusRtuCodec",
    "ModbusSimulator",
    "RegisterMap",
    "Request",
    "RtuFrame",
    "RtuParser",
    "compile_map",
]


@hookimpl
def register_meter_models() -> list[Any]:
    """The sdm120, ddsu666 and modbus (user register map) models."""
    return list(shipped_models())


@hookimpl
def register_protocols() -> list[Any]:
    """The modbus_rtu frame codec."""
    return [ModbusRtuCodec()]
