"""Modbus RTU frames built and parsed with pymodbus's PDU classes and RTU framer.

pymodbus (``pymodbus.pdu`` request/response classes, ``DecodePDU``, ``FramerRTU``) does the
PDU layout and the CRC; this module adds what a MeterHub link needs around it: requests as
bytes for any transport, and :class:`RtuParser`, a stream parser that finds RTU frames in
whatever bytes arrive (garbage, split and merged chunks, other slaves' replies).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest,
    ReadCoilsResponse,
    ReadDiscreteInputsRequest,
    ReadDiscreteInputsResponse,
    WriteSingleCoilRequest,
    WriteSingleCoilResponse,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
)

from hub.metering.model import MeterRefused

from .const import (
    BIT_READS,
    EXCEPTION_BIT,
    MAX_SLAVE,
    MIN_FRAME,
    PARSER_BUFFER,
    READ_COILS,
    READ_DISCRETE_INPUTS,
    READ_HOLDING,
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

_LOGGER = logging.getLogger(__name__)

CLIENT_DECODER: Final = DecodePDU(is_server=False)  # decodes replies
SERVER_DECODER: Final = DecodePDU(is_server=True)  # decodes requests
_FRAMER: Final = FramerRTU(CLIENT_DECODER)
PDU_ERRORS: Final = (ModbusException, ValueError, IndexError, struct.error, TypeError)

_READ_REQUESTS: Final[dict[int, type[ModbusPDU]]] = {
    READ_COILS: ReadCoilsRequest, READ_DISCRETE_INPUTS: ReadDiscreteInputsRequest,
    READ_HOLDING: ReadHoldingRegistersRequest, READ_INPUT: ReadInputRegistersRequest,
}
_READ_REPLIES: Final[dict[int, type[ModbusPDU]]] = {
    READ_COILS: ReadCoilsResponse, READ_DISCRETE_INPUTS: ReadDiscreteInputsResponse,
    READ_HOLDING: ReadHoldingRegistersResponse, READ_INPUT: ReadInputRegistersResponse,
}


def crc(body: bytes) -> bytes:
    """The CRC-16/MODBUS of ``body`` as sent (low byte first)."""
    return int(FramerRTU.compute_CRC(body)).to_bytes(2, "big")


def crc_ok(frame: bytes) -> bool:
    """Whether a whole ADU ends with the right CRC."""
    return len(frame) >= MIN_FRAME and crc(frame[:-2]) == frame[-2:]


def build_frame(pdu: ModbusPDU) -> bytes:
    """An ADU (slave, PDU, CRC) built by pymodbus's RTU framer."""
    try:
        return bytes(_FRAMER.buildFrame(pdu))
    except PDU_ERRORS as err:
        raise ModbusError(f"cannot build {type(pdu).__name__}: {err}") from None


@dataclass(frozen=True, slots=True)
class RtuFrame:
    """One RTU frame found on the wire, with pymodbus's decoded PDU (None if it had none)."""

    slave: int
    function: int  # as sent: an exception reply has bit 0x80 set
    raw: bytes
    pdu: ModbusPDU | None

    @property
    def is_exception(self) -> bool:
        """Whether this is an exception reply."""
        return bool(self.function & EXCEPTION_BIT)

    @property
    def exception_code(self) -> int:
        """The exception code of an exception reply (0 otherwise)."""
        return self.raw[2] if self.is_exception and len(self.raw) > 4 else 0

    def __repr__(self) -> str:
        return f"RtuFrame(slave={self.slave}, function=0x{self.function:02X}, " \
               f"raw={self.raw.hex(' ').upper()})"


def decode_adu(raw: bytes, *, requests: bool = False) -> RtuFrame:
    """A CRC-checked ADU as an RtuFrame (the PDU decoded by pymodbus when it can be)."""
    decoder = SERVER_DECODER if requests else CLIENT_DECODER
    pdu: ModbusPDU | None
    try:
        pdu = decoder.decode(raw[1:-2])
    except PDU_ERRORS:
        pdu = None
    if pdu is not None:
        pdu.dev_id = raw[0]
    return RtuFrame(raw[0], raw[1], bytes(raw), pdu)


# --- requests the hub sends ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """A request to one slave: what it asks, and the size of the reply it calls for."""

    slave: int
    function: int
    address: int
    count: int = 1
    values: tuple[int, ...] = ()  # registers to write, or (1,)/(0,) for a coil

    def pdu(self) -> ModbusPDU:
        """The request as a pymodbus PDU."""
        try:
            if self.function in _READ_REQUESTS:
                return _READ_REQUESTS[self.function](
                    dev_id=self.slave, address=self.address, count=self.count)
            if self.function == WRITE_COIL:
                return WriteSingleCoilRequest(dev_id=self.slave, address=self.address,
                                              bits=[bool(self.values and self.values[0])])
            if self.function == WRITE_REGISTER:
                return WriteSingleRegisterRequest(dev_id=self.slave, address=self.address,
                                                  registers=list(self.values[:1]))
            if self.function == WRITE_REGISTERS:
                return WriteMultipleRegistersRequest(
                    dev_id=self.slave, address=self.address, registers=list(self.values),
                    count=len(self.values))
        except PDU_ERRORS as err:
            raise ModbusError(f"cannot build {function_name(self.function)}: {err}") from None
        raise ModbusError(f"cannot build a request for {function_name(self.function)}")

    def encode(self) -> bytes:
        """The request ADU as bytes."""
        self._check()
        return build_frame(self.pdu())

    def _check(self) -> None:
        if not 0 <= self.slave <= MAX_SLAVE:
            raise ModbusError(f"slave id {self.slave} is outside 0..{MAX_SLAVE}")
        if not 0 <= self.address <= 0xFFFF:
            raise ModbusError(f"register {self.address} is outside 0..65535")
        if self.function in REGISTER_READS and not 1 <= self.count <= 125:
            raise ModbusError(f"count {self.count} is outside 1..125")
        if self.function in BIT_READS and not 1 <= self.count <= 2000:
            raise ModbusError(f"count {self.count} is outside 1..2000")
        if self.function in (WRITE_REGISTER, WRITE_REGISTERS) and (
                not self.values or any(not 0 <= v <= 0xFFFF for v in self.values)):
            raise ModbusError("register values must be 0..65535")
        if self.function == WRITE_REGISTERS and len(self.values) > 123:
            raise ModbusError(f"{len(self.values)} registers: at most 123 per write")

    @property
    def reply_size(self) -> int:
        """Bytes in the normal reply (an exception reply has 5)."""
        if self.function in REGISTER_READS:
            return 5 + 2 * self.count
        if self.function in BIT_READS:
            return 5 + (self.count + 7) // 8
        return 8  # echo of 05/06, or address + count of 0F/10

    def accept(self, frame: Any) -> bool:
        """Whether ``frame`` is this request's reply (logs why not)."""
        reason = self.mismatch(frame)
        if reason:
            _LOGGER.debug("modbus: reply rejected (%s): %r", reason, frame)
        return not reason

    def mismatch(self, frame: Any) -> str:
        """Why ``frame`` is not this request's reply ("" when it is)."""
        if not isinstance(frame, RtuFrame):
            return "not a Modbus RTU frame"
        if frame.slave != self.slave:
            return f"from slave {frame.slave}, not {self.slave}"
        if frame.function == self.function | EXCEPTION_BIT:
            return ""
        if frame.function != self.function:
            return f"function 0x{frame.function:02X} does not answer 0x{self.function:02X}"
        if len(frame.raw) != self.reply_size:
            return f"{len(frame.raw)} bytes, a reply to this request has {self.reply_size}"
        pdu = frame.pdu
        if pdu is None:
            return "pymodbus could not decode the reply"
        if self.function in REGISTER_READS and len(pdu.registers) != self.count:
            return f"{len(pdu.registers)} registers, asked for {self.count}"
        if self.function in (WRITE_COIL, WRITE_REGISTER, WRITE_REGISTERS) and \
                pdu.address != self.address:
            return f"echoes register 0x{pdu.address:04X}, not 0x{self.address:04X}"
        if self.function == WRITE_REGISTERS and pdu.count != len(self.values):
            return f"echoes {pdu.count} registers written, not {len(self.values)}"
        if self.function == WRITE_REGISTER and list(pdu.registers) != list(self.values[:1]):
            return "echoes another value"
        if self.function == WRITE_COIL and bool(pdu.bits and pdu.bits[0]) != bool(
                self.values and self.values[0]):
            return "echoes another coil state"
        return ""

    def refusal(self, frame: RtuFrame) -> MeterRefused:
        """The MeterRefused an exception reply to this request stands for."""
        name = exception_name(frame.exception_code)
        return MeterRefused(f"slave {frame.slave} refused {function_name(self.function)} "
                            f"at 0x{self.address:04X}: {name}", [name])

    def registers(self, frame: RtuFrame) -> list[int]:
        """The registers of an accepted read reply; MeterRefused for an exception."""
        if frame.is_exception:
            raise self.refusal(frame)
        if frame.pdu is None:
            raise ModbusError(f"undecodable reply {frame!r}")
        return [int(value) for value in frame.pdu.registers]

    def bits(self, frame: RtuFrame) -> list[bool]:
        """The bits of an accepted coil/discrete-input read reply."""
        if frame.is_exception:
            raise self.refusal(frame)
        if frame.pdu is None:
            raise ModbusError(f"undecodable reply {frame!r}")
        return [bool(bit) for bit in frame.pdu.bits[: self.count]]


# --- replies the simulator sends ----------------------------------------------------------


def read_reply(slave: int, function: int, values: Sequence[int] | Sequence[bool]) -> bytes:
    """A normal reply to a read: registers (03/04) or bits (01/02)."""
    reply_class = _READ_REPLIES[function]
    if function in BIT_READS:
        return build_frame(reply_class(dev_id=slave, bits=[bool(v) for v in values]))
    return build_frame(reply_class(dev_id=slave, registers=[int(v) for v in values]))


def write_reply(slave: int, function: int, address: int, values: Sequence[int]) -> bytes:
    """A normal reply to a write: the echo (05/06) or address and count (10)."""
    if function == WRITE_COIL:
        return build_frame(WriteSingleCoilResponse(dev_id=slave, address=address,
                                                   bits=[bool(values and values[0])]))
    if function == WRITE_REGISTER:
        return build_frame(WriteSingleRegisterResponse(dev_id=slave, address=address,
                                                       registers=list(values[:1])))
    if function == WRITE_REGISTERS:
        return build_frame(WriteMultipleRegistersResponse(dev_id=slave, address=address,
                                                          count=len(values)))
    raise ModbusError(f"no write reply for {function_name(function)}")


def exception_reply(slave: int, function: int, code: int) -> bytes:
    """An exception reply: function | 0x80 and the exception code."""
    return build_frame(ExceptionResponse(function & 0x7F, code, device_id=slave))


# --- the stream parser --------------------------------------------------------------------


def _plausible(data: bytearray, i: int, requests: bool) -> bool:
    """Cheap header checks that stop a parser waiting for a frame garbage pretends to be."""
    function = data[i + 1]
    if requests and function in (WRITE_REGISTERS, WRITE_COILS) and len(data) - i >= 7:
        count = int.from_bytes(data[i + 4:i + 6], "big")
        expected = 2 * count if function == WRITE_REGISTERS else (count + 7) // 8
        return data[i + 6] == expected and count >= 1
    if not requests and function in REGISTER_READS and len(data) - i >= 3:
        return data[i + 2] % 2 == 0 and 0 < data[i + 2] <= 250
    return True


class RtuParser:
    """Finds RTU frames in a byte stream (a :class:`hub.metering.model.FrameParser`).

    RTU has no start byte: at each offset the frame size comes from the header (pymodbus's
    ``calculateRtuFrameSize``) or, for the reply to the outstanding request (``expect``),
    from that request; a frame is taken when its CRC matches, else the parser moves one
    byte on. Only the expected reply is waited for when incomplete; any other partial
    header is skipped, so garbage never stalls the reply. The buffer stays bounded.
    """

    def __init__(self, *, requests: bool = False, expect: Request | None = None) -> None:
        self.requests = requests
        self.expect = expect
        self._decoder = SERVER_DECODER if requests else CLIENT_DECODER
        self._buffer = bytearray()
        self.garbage_bytes = 0

    def reset(self) -> None:
        """Forget any partial frame."""
        self._buffer.clear()

    @property
    def pending(self) -> int:
        """Bytes kept for a frame not complete yet."""
        return len(self._buffer)

    def _sizes(self, data: bytearray, i: int) -> tuple[list[int], bool]:
        slave, function = data[i], data[i + 1]
        expect = self.expect
        if expect is not None and slave == expect.slave:
            if function == expect.function:
                return [expect.reply_size], True
            if function == expect.function | EXCEPTION_BIT:
                return [5], True
        if slave > MAX_SLAVE or (function & 0x7F) not in SUPPORTED_FUNCTIONS:
            return [], False
        if function & EXCEPTION_BIT:
            return ([5], expect is None) if not self.requests else ([], False)
        if not _plausible(data, i, self.requests):
            return [], False
        view = bytes(data[i:i + 8])
        try:
            pdu_class = self._decoder.lookupPduClass(view)
            size = int(pdu_class.calculateRtuFrameSize(view)) if pdu_class else -1
        except PDU_ERRORS:
            return [], False
        if size < 0:
            return [], False
        if size == 0:  # the byte count has not arrived yet
            return [MIN_FRAME + 256], expect is None
        return [size], expect is None

    def feed(self, data: bytes) -> list[Any]:
        """Add bytes; return every frame now complete."""
        buffer = self._buffer
        buffer.extend(data)
        frames: list[Any] = []
        size_left = len(buffer)
        i = 0
        keep_from: int | None = None
        while size_left - i >= MIN_FRAME:
            sizes, may_wait = self._sizes(buffer, i)
            taken = 0
            for size in sizes:
                if size <= size_left - i and crc_ok(bytes(buffer[i:i + size])):
                    taken = size
                    break
            if taken:
                frames.append(decode_adu(bytes(buffer[i:i + taken]), requests=self.requests))
                i += taken
                keep_from = None
                continue
            if may_wait and keep_from is None and any(s > size_left - i for s in sizes):
                keep_from = i
            i += 1
        start = keep_from if keep_from is not None else i
        consumed = sum(len(frame.raw) for frame in frames)
        del buffer[:start]
        dropped = max(0, start - consumed)
        if len(buffer) > PARSER_BUFFER:
            dropped += len(buffer) - PARSER_BUFFER
            del buffer[:len(buffer) - PARSER_BUFFER]
        self.garbage_bytes += dropped
        return frames


def reply_parser(request: Request) -> RtuParser:
    """A parser for the reply to ``request``."""
    return RtuParser(expect=request)
