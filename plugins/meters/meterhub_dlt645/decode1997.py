"""Frame-tool fields of DL/T 645-1997 frames (and the value fields both versions share)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .bcd import DateWeek
from .codec import Frame, control_meaning, decode_address, parse_time_sync
from .const import BAUD_WORD
from .dis import DataItem
from .errors import Dlt645Error
from .v1997 import (
    DI_SIZE,
    FUNCTION_NAMES_1997,
    ITEMS_1997,
    PASSWORD_SIZE,
    Function1997,
    decode_password,
    error_reasons_1997,
)

_LOGGER = logging.getLogger(__name__)


def item_fields(spec: DataItem, raw: bytes | None, out: dict[str, Any]) -> Any:
    """Names, point, value and unit of one data item; the decoded value (None if not)."""
    out["di_name"] = spec.name_en
    out["di_name_zh"] = spec.name_zh
    if spec.point:
        out["point"] = spec.point
    if raw is None:
        return None
    try:
        value = spec.decode(raw)
    except Dlt645Error as err:
        out["value_error"] = str(err)
        out["value_raw"] = raw.hex().upper()
        return None
    out["values" if isinstance(value, list) else "value"] = spec.render(value)
    if spec.unit:
        out["unit"] = spec.unit
    if isinstance(value, DateWeek):
        out["weekday"] = value.weekday
    return value


def header_1997(frame: Frame, out: dict[str, Any]) -> None:
    """Version and control meaning of a frame read as DL/T 645-1997."""
    out["version"] = "1997"
    out["control_meaning"] = control_meaning(frame.control, "en", FUNCTION_NAMES_1997)
    out["control_meaning_zh"] = control_meaning(frame.control, "zh-CN", FUNCTION_NAMES_1997)


def decode_1997(frame: Frame, out: dict[str, Any]) -> None:
    """Fill ``out`` with the fields of a DL/T 645-1997 frame (a bad data field is noted)."""
    header_1997(frame, out)
    if frame.is_error:
        data = frame.data
        if len(data) == 1:
            out["error"] = f"{data[0]:02X}"
            out["error_reasons"] = error_reasons_1997(data[0])
            out["error_reasons_zh"] = error_reasons_1997(data[0], "zh-CN")
        else:
            out["error"] = data.hex().upper()
            out["error_reasons"] = ["abnormal reply without a one-byte error word"]
            out["error_reasons_zh"] = ["异常应答，无单字节错误字"]
        return
    handler = _DECODERS.get((frame.function, frame.is_reply))
    if handler is None:
        return
    try:
        handler(frame, out)
    except Dlt645Error as err:
        out["data_error"] = str(err)


def _di(frame: Frame, out: dict[str, Any], value: bool) -> None:
    data = frame.data
    if len(data) < DI_SIZE:
        raise Dlt645Error(f"a DL/T 645-1997 {out['control_meaning'].split(':')[0]} carries a "
                          f"2-byte DI, got {len(data)} bytes")
    di = int.from_bytes(data[:DI_SIZE], "little")
    out["di"] = f"{di:04X}"
    entry = ITEMS_1997.get(di)
    raw = data[DI_SIZE:]
    if entry is None:
        out["di_name"] = None
        out["warning"] = f"unknown DL/T 645-1997 DI {di:04X}: value left raw"
        if raw:
            out["value_raw"] = raw.hex().upper()
        return
    if not value:
        item_fields(entry.item, None, out)
        if raw:
            out["extra"] = raw.hex().upper()
    elif frame.has_follow_up or frame.function == Function1997.READ_FOLLOW_UP:
        item_fields(entry.item, None, out)
        out["value_part"] = raw.hex().upper()
    else:
        item_fields(entry.item, raw, out)


def _request(frame: Frame, out: dict[str, Any]) -> None:
    _di(frame, out, value=False)


def _reply(frame: Frame, out: dict[str, Any]) -> None:
    _di(frame, out, value=True)


def _password_fields(raw: bytes, out: dict[str, Any], prefix: str = "") -> None:
    level, password = decode_password(raw)
    out[f"{prefix}password_level"] = f"{level:02X}"
    out[f"{prefix}password"] = password


def _write(frame: Frame, out: dict[str, Any]) -> None:
    data = frame.data
    if len(data) < DI_SIZE + PASSWORD_SIZE:
        raise Dlt645Error(f"a DL/T 645-1997 write needs DI + password (6 bytes), "
                          f"got {len(data)}")
    _password_fields(data[DI_SIZE:DI_SIZE + PASSWORD_SIZE], out)
    di = int.from_bytes(data[:DI_SIZE], "little")
    stripped = Frame(frame.address, frame.control,
                     data[:DI_SIZE] + data[DI_SIZE + PASSWORD_SIZE:])
    _di(stripped, out, value=di in ITEMS_1997)


def _new_address(frame: Frame, out: dict[str, Any]) -> None:
    if len(frame.data) != 6:
        raise Dlt645Error(f"a new device address is 6 bytes, got {len(frame.data)}")
    out["new_address"] = decode_address(frame.data)


def _baud(frame: Frame, out: dict[str, Any]) -> None:
    if len(frame.data) != 1:
        raise Dlt645Error(f"a baud feature word is 1 byte, got {len(frame.data)}")
    by_word = {word: baud for baud, word in BAUD_WORD.items() if baud <= 9600}
    out["baud_word"] = f"{frame.data[0]:02X}"
    out["baud"] = by_word.get(frame.data[0])


def _change_password(frame: Frame, out: dict[str, Any]) -> None:
    if len(frame.data) != 2 * PASSWORD_SIZE:
        raise Dlt645Error(f"a change of password carries 8 bytes, got {len(frame.data)}")
    _password_fields(frame.data[:PASSWORD_SIZE], out)
    _password_fields(frame.data[PASSWORD_SIZE:], out, "new_")


def _password_reply(frame: Frame, out: dict[str, Any]) -> None:
    _password_fields(frame.data, out, "new_")


def _time_sync(frame: Frame, out: dict[str, Any]) -> None:
    out["time"] = parse_time_sync(frame).isoformat()


_DECODERS: dict[tuple[int, bool], Callable[[Frame, dict[str, Any]], None]] = {
    (Function1997.READ, False): _request,
    (Function1997.READ, True): _reply,
    (Function1997.READ_FOLLOW_UP, False): _request,
    (Function1997.READ_FOLLOW_UP, True): _reply,
    (Function1997.WRITE, False): _write,
    (Function1997.WRITE_ADDRESS, False): _new_address,
    (Function1997.CHANGE_BAUD, False): _baud,
    (Function1997.CHANGE_BAUD, True): _baud,
    (Function1997.CHANGE_PASSWORD, False): _change_password,
    (Function1997.CHANGE_PASSWORD, True): _password_reply,
    (Function1997.BROADCAST_TIME, False): _time_sync,
}
