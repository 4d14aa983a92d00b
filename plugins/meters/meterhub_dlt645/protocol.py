"""The ``dlt645`` frame tool: decode any frame to a JSON-friendly dict, build requests.

Used by ``meterhub frame decode --protocol dlt645 HEX`` and
``meterhub frame encode --protocol dlt645 ACTION --address A [--di DI] [--param k=v]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.metering.model import ProtocolCodec
from hub.util import dt as dt_util

from .bcd import Kind
from .codec import (
    Credentials,
    Frame,
    address_kind,
    change_baud_request,
    control_meaning,
    decode_address,
    decode_frame,
    di_text,
    encode_address,
    error_reasons,
    follow_up_request,
    freeze_request,
    parse_di,
    parse_freeze,
    parse_relay,
    parse_time_sync,
    parse_write,
    read_address_request,
    read_request,
    relay_request,
    time_sync_request,
    write_request,
)
from .const import (
    BAUD_WORD,
    BROADCAST,
    PREAMBLE,
    PROTOCOL,
    RELAY_ACTION_BY_NAME,
    RELAY_ACTION_NAMES,
    WAKE,
    Function,
    RelayAction,
)
from .decode1997 import decode_1997, item_fields
from .dis import DATA_ITEMS, STATUS_WORD_DIS, DataItem
from .errors import Dlt645Error
from .status import decode_word
from .v1997 import ONLY_1997

_LOGGER = logging.getLogger(__name__)

_RELAY_ACTIONS = {name.replace("_", "-"): action for name, action in
                  RELAY_ACTION_BY_NAME.items()}
_CREDENTIALS = ("password_level", "password", "operator")
_ACTION_PARAMS: dict[str, tuple[str, ...]] = {
    "read": ("di",),
    "read-follow-up": ("di", "seq"),
    "read-address": (),
    "write": ("di", "value", *_CREDENTIALS),
    "time-sync": ("time",),
    "freeze": ("at",),
    "change-baud": ("baud",),
    **dict.fromkeys(_RELAY_ACTIONS, (*_CREDENTIALS, "valid_until", "validity")),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "read": ("di",), "read-follow-up": ("di", "seq"), "write": ("di", "value"),
    "change-baud": ("baud",),
}
DEFAULT_VALIDITY_MINUTES = 10


def _parse_when(text: str, what: str) -> datetime:
    try:
        when = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise Dlt645Error(f"{what}: expected an ISO time like 2030-12-31T12:00:00, "
                          f"got {text!r}") from None
    return dt_util.as_local(when).replace(tzinfo=None) if when.tzinfo else when


def _parse_value(spec: DataItem, text: str) -> Any:
    """A write value given as text, in the DI's format."""
    raw = str(text).strip()
    kind = spec.fmt.kind
    try:
        if kind is Kind.NUMBER:
            return Decimal(raw)
        if kind is Kind.DATE_WEEK:
            return date.fromisoformat(raw)
        if kind is Kind.TIME:
            return time.fromisoformat(raw)
        if kind is Kind.DATETIME:
            return datetime.fromisoformat(raw)
        if kind is Kind.BITS:
            return int(raw, 0)
    except (ValueError, InvalidOperation):
        raise Dlt645Error(f"value {raw!r} does not fit DI {spec.di:08X} "
                          f"({spec.fmt.pattern})") from None
    return raw


def _int_param(value: Any, what: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise Dlt645Error(f"{what}: expected a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise Dlt645Error(f"{what}: expected {low}..{high}, got {number}")
    return number


class Dlt645Codec(ProtocolCodec):
    """DL/T 645-2007 for the frame tool."""

    name = PROTOCOL
    description = ("DL/T 645-2007 multi-function electricity meters (RS-485, DTU); decodes "
                   "DL/T 645-1997 frames too")
    actions = ("read", "read-follow-up", "read-address", "write", *_RELAY_ACTIONS,
               "time-sync", "freeze", "change-baud")

    # --- decode --------------------------------------------------------------------------

    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode one frame into a JSON-friendly dict; Dlt645Error for an invalid frame."""
        frame = decode_frame(data)
        out = self._header(frame, data)
        if frame.function in ONLY_1997:  # 01/81/C1, 02, 04, 0A, 0C, 0F, 10: DL/T 645-1997
            decode_1997(frame, out)
            return out
        # 08 (broadcast time) is the same frame in both versions
        out["version"] = "both" if frame.function == Function.BROADCAST_TIME else "2007"
        if frame.is_error:
            self._error_fields(frame, out)
            return out
        handler = self._DECODERS.get((frame.function, frame.is_reply))
        if handler is not None:
            try:
                handler(self, frame, out)
            except Dlt645Error as err:
                out["data_error"] = str(err)
        return out

    @staticmethod
    def _header(frame: Frame, data: bytes) -> dict[str, Any]:
        """The fields every frame has (control meaning in 2007 words)."""
        preamble = 0
        while preamble < len(data) and data[preamble] == WAKE:
            preamble += 1
        return {
            "protocol": PROTOCOL,
            "address": frame.address,
            "address_kind": address_kind(frame.address),
            "control": f"{frame.control:02X}",
            "control_meaning": control_meaning(frame.control),
            "control_meaning_zh": control_meaning(frame.control, "zh-CN"),
            "function": f"{frame.function:02X}",
            "direction": frame.direction,
            "is_error": frame.is_error,
            "has_follow_up": frame.has_follow_up,
            "length": len(frame.data),
            "data": frame.data.hex().upper(),
            "preamble": preamble,
        }

    @staticmethod
    def _error_fields(frame: Frame, out: dict[str, Any]) -> None:
        data = frame.data
        if len(data) == 1:
            out["error"] = f"{data[0]:02X}"
            out["error_reasons"] = error_reasons(data[0])
            out["error_reasons_zh"] = error_reasons(data[0], "zh-CN")
        elif len(data) == 2:
            word = int.from_bytes(data, "little")
            out["error"] = f"{word:04X}"
            out["error_reasons"] = [f"security error word (SERR) {word:04X}, vendor specific"]
            out["error_reasons_zh"] = [f"安全认证错误字 {word:04X}（厂家定义）"]
        else:
            out["error"] = data.hex().upper()
            out["error_reasons"] = ["abnormal reply without a one-byte error word"]
            out["error_reasons_zh"] = ["异常应答，无单字节错误字"]

    @staticmethod
    def _di_fields(di: int, raw: bytes | None, out: dict[str, Any]) -> None:
        out["di"] = di_text(di)
        spec = DATA_ITEMS.get(di)
        if spec is None:
            out["di_name"] = None
            out["warning"] = f"unknown DI 0x{di:08X}: value left raw"
            if raw:
                out["value_raw"] = raw.hex().upper()
            return
        value = item_fields(spec, raw, out)
        if value is None:
            return
        if di in STATUS_WORD_DIS:
            out["status"] = decode_word(STATUS_WORD_DIS.index(di) + 1, value)
        elif isinstance(value, list) and spec.fmt.kind is Kind.BITS:
            out["status"] = [decode_word(n, word) for n, word in enumerate(value, start=1)]

    def _read_request(self, frame: Frame, out: dict[str, Any]) -> None:
        data = frame.data
        if len(data) < 4:
            raise Dlt645Error(f"a read carries a 4-byte DI, got {len(data)} bytes")
        self._di_fields(int.from_bytes(data[:4], "little"), None, out)
        if len(data) > 4:
            out["extra"] = data[4:].hex().upper()

    def _read_reply(self, frame: Frame, out: dict[str, Any]) -> None:
        data = frame.data
        if len(data) < 4:
            raise Dlt645Error(f"a read reply starts with a 4-byte DI, got {len(data)} bytes")
        di = int.from_bytes(data[:4], "little")
        if frame.has_follow_up:  # a part: the value is completed by follow-up frames
            self._di_fields(di, None, out)
            out["value_part"] = data[4:].hex().upper()
        else:
            self._di_fields(di, data[4:], out)

    def _follow_up_request(self, frame: Frame, out: dict[str, Any]) -> None:
        if len(frame.data) != 5:
            raise Dlt645Error(f"a follow-up read carries DI + SEQ (5 bytes), "
                              f"got {len(frame.data)}")
        self._di_fields(int.from_bytes(frame.data[:4], "little"), None, out)
        out["seq"] = frame.data[4]

    def _follow_up_reply(self, frame: Frame, out: dict[str, Any]) -> None:
        data = frame.data
        if len(data) < 5:
            raise Dlt645Error(f"a follow-up reply carries DI + data + SEQ, got {len(data)} bytes")
        self._di_fields(int.from_bytes(data[:4], "little"), None, out)
        out["value_part"] = data[4:-1].hex().upper()
        out["seq"] = data[-1]

    def _write_request(self, frame: Frame, out: dict[str, Any]) -> None:
        command = parse_write(frame)
        self._credential_fields(command.credentials, out)
        self._di_fields(command.di, command.value, out)

    @staticmethod
    def _credential_fields(credentials: Credentials, out: dict[str, Any]) -> None:
        out["password_level"] = f"{credentials.level:02X}"
        out["password"] = credentials.password
        out["operator"] = credentials.operator

    def _relay_request(self, frame: Frame, out: dict[str, Any]) -> None:
        command = parse_relay(frame)
        self._credential_fields(command.credentials, out)
        out["n1"] = f"{command.action:02X}"
        out["relay_action"] = command.action_name
        try:
            names = RELAY_ACTION_NAMES[RelayAction(command.action)]
            out["relay_action_meaning"], out["relay_action_meaning_zh"] = names[1], names[2]
        except ValueError:
            pass
        out["n2"] = f"{command.n2:02X}"
        out["valid_until"] = command.valid_until.isoformat() if command.valid_until else None
        out["valid_until_raw"] = command.end_raw[::-1].hex().upper()

    def _address_reply(self, frame: Frame, out: dict[str, Any]) -> None:
        if len(frame.data) != 6:
            raise Dlt645Error(f"an address reply carries 6 bytes, got {len(frame.data)}")
        out["value"] = decode_address(frame.data)

    def _time_sync(self, frame: Frame, out: dict[str, Any]) -> None:
        out["time"] = parse_time_sync(frame).isoformat()

    def _freeze(self, frame: Frame, out: dict[str, Any]) -> None:
        out["freeze_at"] = parse_freeze(frame)

    def _baud(self, frame: Frame, out: dict[str, Any]) -> None:
        if len(frame.data) != 1:
            raise Dlt645Error(f"a baud feature word is 1 byte, got {len(frame.data)}")
        by_word = {word: baud for baud, word in BAUD_WORD.items()}
        out["baud_word"] = f"{frame.data[0]:02X}"
        out["baud"] = by_word.get(frame.data[0])

    _DECODERS: dict[tuple[int, bool], Callable[[Dlt645Codec, Frame, dict[str, Any]], None]] = {
        (Function.READ, False): _read_request,
        (Function.READ, True): _read_reply,
        (Function.READ_FOLLOW_UP, False): _follow_up_request,
        (Function.READ_FOLLOW_UP, True): _follow_up_reply,
        (Function.WRITE, False): _write_request,
        (Function.RELAY_CONTROL, False): _relay_request,
        (Function.READ_ADDRESS, True): _address_reply,
        (Function.WRITE_ADDRESS, False): _address_reply,
        (Function.BROADCAST_TIME, False): _time_sync,
        (Function.FREEZE, False): _freeze,
        (Function.CHANGE_BAUD, False): _baud,
        (Function.CHANGE_BAUD, True): _baud,
    }

    # --- encode --------------------------------------------------------------------------

    # what each action takes and needs (a codec of another version replaces these)
    action_params: Mapping[str, tuple[str, ...]] = _ACTION_PARAMS
    required_params: Mapping[str, tuple[str, ...]] = _REQUIRED
    action_label = "action"

    def encode(self, action: str, address: str, **params: Any) -> bytes:
        """Build a request frame; Dlt645Error names a bad action, address or parameter."""
        name = str(action).strip().lower().replace("_", "-")
        if name not in self.action_params:
            raise Dlt645Error(f"unknown {self.action_label} {action!r}: expected one of "
                              f"{', '.join(self.actions)}")
        params = dict(params)
        preamble = self._preamble(params.pop("preamble", 0))
        allowed = self.action_params[name]
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise Dlt645Error(f"unknown parameter {unknown[0]!r} for {name}: expected "
                              f"{', '.join(allowed) or 'none'} (and preamble)")
        missing = [key for key in self.required_params.get(name, ()) if not params.get(key)]
        if missing:
            raise Dlt645Error(f"{name} needs {missing[0]}")
        encode_address(address)  # a bad address is named before anything else
        return preamble + self._build(name, address, params)

    @staticmethod
    def _preamble(value: Any) -> bytes:
        return PREAMBLE[:_int_param(value, "preamble", 0, 4)]

    def _build(self, name: str, address: str, params: Mapping[str, Any]) -> bytes:
        if name == "read":
            return read_request(address, parse_di(params["di"]))
        if name == "read-follow-up":
            return follow_up_request(address, parse_di(params["di"]),
                                     _int_param(params["seq"], "seq", 0, 255))
        if name == "read-address":
            return read_address_request(address)
        if name == "write":
            di = parse_di(params["di"])
            spec = DATA_ITEMS.get(di)
            if spec is None:
                raise Dlt645Error(f"unknown DI 0x{di:08X}: cannot encode its value")
            value = spec.encode(_parse_value(spec, params["value"]))
            return write_request(address, di, value, self._credentials(params))
        if name == "time-sync":
            when = (_parse_when(params["time"], "time") if params.get("time")
                    else dt_util.now().replace(tzinfo=None, microsecond=0))
            return time_sync_request(when, address)
        if name == "freeze":
            return freeze_request(address, params.get("at", "99999999"))
        if name == "change-baud":
            return change_baud_request(address, _int_param(params["baud"], "baud", 0, 115200))
        return self._relay(name, address, params)

    @staticmethod
    def _credentials(params: Mapping[str, Any]) -> Credentials:
        return Credentials.parse(params.get("password_level", "02"),
                                 params.get("password", "000000"),
                                 params.get("operator", "00000000"))

    def _relay(self, name: str, address: str, params: Mapping[str, Any]) -> bytes:
        if address.strip() == BROADCAST:
            raise Dlt645Error("relay control needs a meter address, not the broadcast address")
        if params.get("valid_until"):
            valid_until = _parse_when(params["valid_until"], "valid_until")
        else:
            minutes = _int_param(params.get("validity", DEFAULT_VALIDITY_MINUTES), "validity",
                                 1, 99 * 24 * 60)
            valid_until = (dt_util.now().replace(tzinfo=None, microsecond=0)
                           + timedelta(minutes=minutes))
        return relay_request(address, _RELAY_ACTIONS[name], valid_until,
                             self._credentials(params))


CODEC = Dlt645Codec()
