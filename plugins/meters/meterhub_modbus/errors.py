"""The error type of the Modbus plugin."""

from __future__ import annotations

from hub.metering.model import ProtocolError


class ModbusError(ProtocolError):
    """A Modbus RTU frame, register map or value is invalid; the message says why."""
