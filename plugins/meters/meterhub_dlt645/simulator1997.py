"""How a simulated meter answers when it speaks DL/T 645-1997.

The meter's state (energy, TOU registers, clock, load, passwords) is the 2007 simulator's;
a 1997 read of ``9010`` is answered with the value of the equivalent 2007 item
(``00010000``) in the 1997 format (so ``B611`` gives whole volts, ``B621`` XX.XX A). 2007
function codes get no answer from a 1997 meter (it does not know them): a master waiting
for a 2007 reply times out, which is what auto-detection relies on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from .bcd import fit
from .codec import Frame, decode_address, encode_frame, reply_control
from .errors import Dlt645Error
from .v1997 import (
    DI_CONSTANT,
    DI_DATE,
    DI_SIZE,
    DI_STATUS,
    DI_TIME,
    ERR_ILLEGAL_DATA,
    ERR_PASSWORD,
    ERR_WRONG_DI,
    ITEMS_1997,
    PASSWORD_SIZE,
    Function1997,
    decode_password,
    encode_password,
    read_reply_1997,
)

if TYPE_CHECKING:
    from .simulator import Dlt645Simulator

_LOGGER = logging.getLogger(__name__)

_BAUD_WORDS = frozenset((0x02, 0x04, 0x08, 0x10, 0x20))  # 600..9600 bit/s


class Answers1997:
    """The DL/T 645-1997 side of a :class:`~meterhub_dlt645.simulator.Dlt645Simulator`."""

    def __init__(self, meter: Dlt645Simulator) -> None:
        self.meter = meter
        self.params: dict[int, Any] = {}  # written 1997 parameters (C032, C033, C034...)
        self.baud_word = 0x04  # 1200 bit/s, the usual 1997 default

    def answer(self, frame: Frame) -> bytes | None:
        """The reply to a request addressed to this meter (None: a 2007 function code)."""
        function = frame.function
        if function == Function1997.READ:
            return self._read(frame)
        if function == Function1997.WRITE:
            return self._write(frame)
        if function == Function1997.WRITE_ADDRESS:
            return self._write_address(frame)
        if function == Function1997.CHANGE_BAUD:
            return self._change_baud(frame)
        if function == Function1997.CHANGE_PASSWORD:
            return self._change_password(frame)
        if function in (Function1997.READ_FOLLOW_UP, Function1997.REREAD,
                        Function1997.DEMAND_CLEAR):
            return self._refuse(function, ERR_ILLEGAL_DATA)  # nothing pending / no demand
        return None

    def _refuse(self, function: int, err: int) -> bytes:
        return encode_frame(self.meter.address, reply_control(function, error=True),
                            bytes((err,)))

    def _ack(self, function: int, data: bytes = b"") -> bytes:
        return encode_frame(self.meter.address, reply_control(function), data)

    def value(self, di: int) -> Any:
        """The value of a 1997 DI now, in its format (None: not supported)."""
        entry = ITEMS_1997.get(di)
        if entry is None:
            return None
        if di in self.params:
            return self.params[di]
        if di == DI_CONSTANT:
            return Decimal(self.meter.constant)
        if di == DI_STATUS:
            return 0
        if entry.di2007 is None:
            return None
        value = self.meter.value_of(entry.di2007)
        if isinstance(value, list):  # a block (901F: total and T1..T4)
            return [fit(v, entry.item.fmt, ROUND_DOWN) for v in value]
        if isinstance(value, Decimal):
            return fit(value, entry.item.fmt, ROUND_DOWN)
        return value

    def _read(self, frame: Frame) -> bytes:
        if len(frame.data) != DI_SIZE:
            return self._refuse(Function1997.READ, ERR_ILLEGAL_DATA)
        di = int.from_bytes(frame.data, "little")
        value = self.value(di)
        if value is None:
            return self._refuse(Function1997.READ, ERR_WRONG_DI)
        return read_reply_1997(self.meter.address, di, ITEMS_1997[di].item.encode(value))

    def _write(self, frame: Frame) -> bytes:
        data = frame.data
        if len(data) < DI_SIZE + PASSWORD_SIZE:
            return self._refuse(Function1997.WRITE, ERR_ILLEGAL_DATA)
        level, password = decode_password(data[DI_SIZE:DI_SIZE + PASSWORD_SIZE])
        if not self.meter.authorised(level, password):
            return self._refuse(Function1997.WRITE, ERR_PASSWORD)
        di = int.from_bytes(data[:DI_SIZE], "little")
        entry = ITEMS_1997.get(di)
        if entry is None or not entry.item.writable:
            return self._refuse(Function1997.WRITE, ERR_WRONG_DI)
        try:
            value = entry.item.decode(data[DI_SIZE + PASSWORD_SIZE:])
        except Dlt645Error:
            return self._refuse(Function1997.WRITE, ERR_ILLEGAL_DATA)
        now = self.meter.meter_now()
        if di == DI_DATE:
            self.meter.set_meter_time(datetime.combine(value.date, now.time()))
        elif di == DI_TIME:
            self.meter.set_meter_time(datetime.combine(now.date(), value))
        else:
            self.params[di] = value
        return self._ack(Function1997.WRITE)

    def _write_address(self, frame: Frame) -> bytes:
        if len(frame.data) != 6:
            return self._refuse(Function1997.WRITE_ADDRESS, ERR_ILLEGAL_DATA)
        try:
            new = decode_address(frame.data)
            if not new.isdigit():
                raise Dlt645Error(f"not a meter address: {new}")
        except Dlt645Error:
            return self._refuse(Function1997.WRITE_ADDRESS, ERR_ILLEGAL_DATA)
        self.meter.address = new
        return self._ack(Function1997.WRITE_ADDRESS)

    def _change_baud(self, frame: Frame) -> bytes:
        if len(frame.data) != 1 or frame.data[0] not in _BAUD_WORDS:
            return self._refuse(Function1997.CHANGE_BAUD, ERR_ILLEGAL_DATA)
        self.baud_word = frame.data[0]
        return self._ack(Function1997.CHANGE_BAUD, frame.data)

    def _change_password(self, frame: Frame) -> bytes:
        data = frame.data
        if len(data) != 2 * PASSWORD_SIZE:
            return self._refuse(Function1997.CHANGE_PASSWORD, ERR_ILLEGAL_DATA)
        level, password = decode_password(data[:PASSWORD_SIZE])
        if not self.meter.authorised(level, password):
            return self._refuse(Function1997.CHANGE_PASSWORD, ERR_PASSWORD)
        new_level, new_password = decode_password(data[PASSWORD_SIZE:])
        if not new_password.isdigit():
            return self._refuse(Function1997.CHANGE_PASSWORD, ERR_ILLEGAL_DATA)
        self.meter.passwords[new_level] = new_password
        return self._ack(Function1997.CHANGE_PASSWORD, encode_password(new_level, new_password))
