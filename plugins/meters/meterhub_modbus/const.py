"""Constants of Modbus RTU: function codes, exception codes, limits."""

from __future__ import annotations

from typing import Final

PROTOCOL: Final = "modbus_rtu"

READ_COILS: Final = 0x01
READ_DISCRETE_INPUTS: Final = 0x02
READ_HOLDING: Final = 0x03
READ_INPUT: Final = 0x04
WRITE_COIL: Final = 0x05
WRITE_REGISTER: Final = 0x06
WRITE_COILS: Final = 0x0F
WRITE_REGISTERS: Final = 0x10
EXCEPTION_BIT: Final = 0x80

FUNCTION_NAMES: Final[dict[int, str]] = {
    READ_COILS: "read coils",
    READ_DISCRETE_INPUTS: "read discrete inputs",
    READ_HOLDING: "read holding registers",
    READ_INPUT: "read input registers",
    WRITE_COIL: "write single coil",
    WRITE_REGISTER: "write single register",
    WRITE_COILS: "write multiple coils",
    WRITE_REGISTERS: "write multiple registers",
}

# The functions this plugin builds, parses and simulates (others are skipped as garbage).
SUPPORTED_FUNCTIONS: Final = frozenset(FUNCTION_NAMES)
REGISTER_READS: Final = frozenset({READ_HOLDING, READ_INPUT})
BIT_READS: Final = frozenset({READ_COILS, READ_DISCRETE_INPUTS})

EXCEPTION_NAMES: Final[dict[int, str]] = {
    0x01: "illegal function",
    0x02: "illegal data address",
    0x03: "illegal data value",
    0x04: "server device failure",
    0x05: "acknowledge (request accepted, still processing)",
    0x06: "server device busy",
    0x07: "negative acknowledge",
    0x08: "memory parity error",
    0x0A: "gateway path unavailable",
    0x0B: "gateway target device failed to respond",
}

ILLEGAL_FUNCTION: Final = 0x01
ILLEGAL_ADDRESS: Final = 0x02
ILLEGAL_VALUE: Final = 0x03

BROADCAST: Final = 0
MIN_SLAVE: Final = 1
MAX_SLAVE: Final = 247

MAX_READ_REGISTERS: Final = 125  # per request (the PDU limit)
MAX_READ_BITS: Final = 2000
MIN_FRAME: Final = 4  # slave, function, CRC(2)
MAX_FRAME: Final = 256  # an RTU ADU never exceeds 256 bytes
PARSER_BUFFER: Final = 1024  # hard cap on bytes a parser keeps

COIL_ON: Final = 0xFF00
COIL_OFF: Final = 0x0000

DEFAULT_TIMEOUT: Final = "1"  # seconds (a link's or metering's timeout wins)


def function_name(function: int) -> str:
    """A function code in words ("read input registers", "exception to ...")."""
    if function & EXCEPTION_BIT:
        base = FUNCTION_NAMES.get(function & 0x7F, f"function 0x{function & 0x7F:02X}")
        return f"exception reply to {base}"
    return FUNCTION_NAMES.get(function, f"unknown function 0x{function:02X}")


def exception_name(code: int) -> str:
    """An exception code in words with its number: ``illegal data address (02)``."""
    return f"{EXCEPTION_NAMES.get(code, 'unknown exception')} ({code:02X})"
