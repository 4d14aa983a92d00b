"""``meterhub frame decode|encode --protocol modbus_rtu``: the field technician's view.

``decode`` tells a request from a reply by its length (an 05/06 echo is both), checks the
CRC and shows registers with the usual readings (uint16/int16, float32 ABCD and CDAB...).
``encode`` builds ``read`` (``register``, ``count`` = 2, ``function`` = 4), ``write``
(``register``, ``value`` or ``values=1,2``; FC 06 for one value, 16 for more, or
``function``), ``coil`` (``coil``, ``state=on|off``) and ``trip``/``close`` with
``map=FILE.yaml`` (a register map with a relay).
"""

from __future__ import annotations

import logging
from typing import Any, Final

import voluptuous as vol

from hub.i18n import Text, text_of
from hub.metering.model import ProtocolCodec

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import (
    BIT_READS,
    BROADCAST,
    EXCEPTION_BIT,
    MAX_FRAME,
    MAX_SLAVE,
    MIN_FRAME,
    PROTOCOL,
    READ_INPUT,
    REGISTER_READS,
    SUPPORTED_FUNCTIONS,
    WRITE_COIL,
    WRITE_COILS,
    WRITE_REGISTER,
    WRITE_REGISTERS,
    exception_name,
    function_name,
)
from .errors import ModbusError
from .frames import CLIENT_DECODER, PDU_ERRORS, SERVER_DECODER, Request, crc, decode_adu
from .regmap import compile_map, load_map_file
from .values import ByteOrder, DataType, decode_value

_LOGGER = logging.getLogger(__name__)

_ACTION_PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "read": ("register", "count", "function"),
    "write": ("register", "value", "values", "function"),
    "coil": ("coil", "state"),
    "trip": ("map",),
    "close": ("map",),
}


def _frame_size(data: bytes, *, requests: bool) -> int:
    decoder = SERVER_DECODER if requests else CLIENT_DECODER
    try:
        pdu_class = decoder.lookupPduClass(data)
        return int(pdu_class.calculateRtuFrameSize(data)) if pdu_class else 0
    except PDU_ERRORS:
        return 0


def _readings(registers: list[int]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {
        "uint16": [str(r) for r in registers],
        "int16": [str(decode_value([r], DataType.INT16, ByteOrder.ABCD)) for r in registers],
    }
    if registers and len(registers) % 2 == 0:
        pairs = [registers[i:i + 2] for i in range(0, len(registers), 2)]
        for name, data_type, order in (
                ("float32_abcd", DataType.FLOAT32, ByteOrder.ABCD),
                ("float32_cdab", DataType.FLOAT32, ByteOrder.CDAB),
                ("uint32_abcd", DataType.UINT32, ByteOrder.ABCD),
                ("int32_abcd", DataType.INT32, ByteOrder.ABCD)):
            values = []
            for pair in pairs:
                try:
                    values.append(str(decode_value(pair, data_type, order)))
                except ModbusError:
                    values.append("nan")
            out[name] = values
    return out


def _number(params: dict[str, str], key: str, default: int | None = None) -> int:
    text = params.get(key)
    if text is None:
        if default is None:
            raise ModbusError(Text("modbus.tool_missing", key=key))
        return default
    try:
        return int(text.strip(), 0)
    except ValueError:
        raise ModbusError(Text("modbus.tool_number", key=key, value=repr(text))) from None


class ModbusRtuCodec(ProtocolCodec):
    """Modbus RTU frames for the frame tool."""

    name = PROTOCOL
    description = "Modbus RTU (CRC-16/MODBUS), function codes 01-06, 0F, 10"
    actions = tuple(_ACTION_PARAMS)

    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode one request or reply; ModbusError with a one-line reason if invalid."""
        if len(data) < MIN_FRAME:
            raise ModbusError(Text("modbus.tool_short", size=len(data), limit=MIN_FRAME))
        if len(data) > MAX_FRAME:
            raise ModbusError(Text("modbus.tool_long", size=len(data), limit=MAX_FRAME))
        expected = crc(data[:-2])
        if expected != data[-2:]:
            raise ModbusError(Text("modbus.tool_crc", ends=data[-2:].hex(" ").upper(),
                                   crc=expected.hex(" ").upper()))
        slave, function = data[0], data[1]
        base = function & 0x7F
        if base not in SUPPORTED_FUNCTIONS:
            raise ModbusError(Text("modbus.tool_function", code=f"0x{function:02X}"))
        out: dict[str, Any] = {
            "protocol": PROTOCOL, "slave": slave, "broadcast": slave == BROADCAST,
            "function": function, "function_name": function_name(function),
            "crc": data[-2:].hex().upper(), "crc_ok": True, "hex": data.hex().upper(),
        }
        if function & EXCEPTION_BIT:
            if len(data) != 5:
                raise ModbusError(Text("modbus.tool_exception_length", size=len(data)))
            out.update(direction="reply", exception=data[2],
                       exception_name=exception_name(data[2]),
                       reasons=[exception_name(data[2])])
            return out
        as_request = _frame_size(data, requests=True) == len(data)
        as_reply = _frame_size(data, requests=False) == len(data)
        if not as_request and not as_reply:
            raise ModbusError(Text("modbus.tool_length", size=len(data),
                                   function=function_name(function)))
        frame = decode_adu(data, requests=as_request)
        pdu = frame.pdu
        if pdu is None:
            raise ModbusError(Text("modbus.tool_request_fields" if as_request else
                                   "modbus.tool_reply_fields", function=function_name(function)))
        out["direction"] = "request or reply (echo)" if as_request and as_reply else (
            "request" if as_request else "reply")
        if as_request and function in (*REGISTER_READS, *BIT_READS):
            out.update(register=pdu.address, register_hex=f"0x{pdu.address:04X}",
                       count=pdu.count)
        elif function in REGISTER_READS:
            registers = [int(r) for r in pdu.registers]
            out.update(byte_count=data[2], registers=registers,
                       registers_hex=[f"0x{r:04X}" for r in registers],
                       values=_readings(registers))
        elif function in BIT_READS:
            out.update(byte_count=data[2], bits=[int(bool(b)) for b in pdu.bits])
        elif function == WRITE_COIL:
            out.update(register=pdu.address, register_hex=f"0x{pdu.address:04X}",
                       coil="on" if pdu.bits and pdu.bits[0] else "off")
        elif function == WRITE_REGISTER:
            out.update(register=pdu.address, register_hex=f"0x{pdu.address:04X}",
                       value=int(pdu.registers[0]))
        elif function in (WRITE_REGISTERS, WRITE_COILS):
            out.update(register=pdu.address, register_hex=f"0x{pdu.address:04X}",
                       count=pdu.count)
            if as_request and function == WRITE_REGISTERS:
                out["values"] = [int(v) for v in pdu.registers]
        return out

    def encode(self, action: str, address: str, **params: Any) -> bytes:
        """Build a request frame; ModbusError names a bad argument."""
        if action not in _ACTION_PARAMS:
            raise ModbusError(Text("modbus.tool_action", action=repr(action),
                                   actions=", ".join(_ACTION_PARAMS)))
        texts = {key: str(value) for key, value in params.items()}
        unknown = sorted(set(texts) - set(_ACTION_PARAMS[action]))
        if unknown:
            raise ModbusError(Text("modbus.tool_param", param=repr(unknown[0]), action=action,
                                   params=", ".join(_ACTION_PARAMS[action])))
        try:
            slave = int(str(address).strip(), 0)
        except ValueError:
            slave = -1
        if not 0 <= slave <= MAX_SLAVE:
            raise ModbusError(Text("modbus.tool_slave", limit=MAX_SLAVE, value=repr(address)))
        request = self._request(action, slave, texts)
        if slave == BROADCAST and request.function in (*REGISTER_READS, *BIT_READS):
            raise ModbusError(Text("modbus.tool_broadcast_read"))
        return request.encode()

    def _request(self, action: str, slave: int, params: dict[str, str]) -> Request:
        if action == "read":
            function = _number(params, "function", READ_INPUT)
            if function not in (*REGISTER_READS, *BIT_READS):
                raise ModbusError(Text("modbus.tool_read_function", function=function))
            return Request(slave, function, _number(params, "register"),
                           _number(params, "count", 2))
        if action == "write":
            if "values" in params:
                try:
                    values = tuple(int(v.strip(), 0) for v in params["values"].split(","))
                except ValueError:
                    raise ModbusError(Text("modbus.tool_values",
                                           value=repr(params["values"]))) from None
            else:
                values = (_number(params, "value"),)
            default = WRITE_REGISTER if len(values) == 1 else WRITE_REGISTERS
            function = _number(params, "function", default)
            if function not in (WRITE_REGISTER, WRITE_REGISTERS) or (
                    function == WRITE_REGISTER and len(values) != 1):
                raise ModbusError(Text("modbus.tool_write_function", function=function,
                                       count=len(values)))
            return Request(slave, function, _number(params, "register"), len(values), values)
        if action == "coil":
            state = params.get("state", "").strip().lower()
            if state not in ("on", "off", "1", "0"):
                raise ModbusError(Text("modbus.tool_state", value=repr(params.get("state"))))
            return Request(slave, WRITE_COIL, _number(params, "coil"),
                           values=(int(state in ("on", "1")),))
        return self._relay_request(action, slave, params)

    @staticmethod
    def _relay_request(action: str, slave: int, params: dict[str, str]) -> Request:
        if "map" not in params:
            raise ModbusError(Text("modbus.tool_needs_map", action=action))
        try:
            regmap = compile_map(load_map_file(params["map"]))
        except vol.Invalid as err:
            raise ModbusError(Text("modbus.tool_map", map=params["map"],
                                   reason=text_of(err))) from None
        relay = regmap.relay
        if relay is None:
            raise ModbusError(Text("modbus.tool_no_relay", map=params["map"]))
        value = relay.open if action == "trip" else relay.closed
        return Request(slave, relay.write_function, relay.address, 1, (value,))
