"""The ``cjt188`` frame tool: decode any frame to JSON-friendly data, build requests.

``meterhub frame decode --protocol cjt188 HEX`` and
``meterhub frame encode --protocol cjt188 valve-close --address 1234 --param ser=1``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from hub.metering.model import ProtocolCodec
from hub.util.dt import site_time_zone

from .codec import (
    Frame,
    decode_frame,
    normalize_address,
    read_address_request,
    read_request,
    time_request,
    valve_request,
)
from .const import (
    BROADCAST_ADDRESS,
    DI_ADDRESS,
    DI_CURRENT,
    DI_ORDER_CHOICES,
    FUNC_WRITE_ADDRESS,
    FUNC_WRITE_DATA,
    FUNC_WRITE_SYNC,
    PROTOCOL,
    TYPE_ANY,
    TYPE_COLD_WATER,
    WAKE_UP,
    DiOrder,
    parse_di_order,
)
from .errors import Cjt188Error
from .fields import decode_status, hex_bytes
from .payloads import decode_layout, refusal_reasons
from .tables import FUNCTIONS, Layout, di_info, meter_family, meter_type_name

_LOGGER = logging.getLogger(__name__)

_WRITE_FUNCTIONS: Final = frozenset({FUNC_WRITE_DATA, FUNC_WRITE_ADDRESS, FUNC_WRITE_SYNC})
_COMMON_PARAMS: Final = ("di_order", "meter_type", "ser", "preamble")
_ACTION_PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "read": ("di", *_COMMON_PARAMS),
    "read-address": _COMMON_PARAMS,
    "valve-open": _COMMON_PARAMS,
    "valve-close": _COMMON_PARAMS,
    "time-sync": ("time", *_COMMON_PARAMS),
}
_WILDCARD_WORDS: Final = frozenset({"*", "any", "broadcast", "wildcard"})


def function_name(function: int) -> str:
    """The name of a control function (D4..D0)."""
    return FUNCTIONS.get(function, f"unknown function {function:02X}")


def control_meaning(frame: Frame) -> str:
    """What a control code says: function, direction, abnormal, follow-up."""
    name = function_name(frame.function)
    if not frame.is_reply:
        text = f"{name} request"
    elif frame.is_abnormal:
        text = f"{name}, abnormal reply (refused)"
    else:
        text = f"{name}, normal reply"
    return text + (", more frames follow" if frame.follow_up else "")


def decode_to_dict(frame: Frame) -> dict[str, Any]:
    """Everything a frame says, JSON-friendly (Decimals stay Decimals)."""
    out: dict[str, Any] = {
        "protocol": PROTOCOL,
        "meter_type": f"{frame.meter_type:02X}",
        "meter_type_name": meter_type_name(frame.meter_type),
        "address": frame.address,
        "broadcast": frame.address == BROADCAST_ADDRESS,
        "control": f"{frame.control:02X}",
        "control_meaning": control_meaning(frame),
        "function": function_name(frame.function),
        "direction": frame.direction,
        "abnormal": frame.is_abnormal,
        "follow_up": frame.follow_up,
        "length": len(frame.data),
    }
    errors: list[str] = []
    try:
        body = frame.body()
    except Cjt188Error as err:
        out["data"] = hex_bytes(frame.data)
        out["errors"] = [str(err)]
        return out
    if body.di is not None and body.order is not None:
        info = di_info(body.di)
        out["di"] = f"{body.di:04X}"
        out["di_name"] = info.name if info else "unknown"
        out["di_order"] = body.order.value
        out["di_wire"] = hex_bytes(frame.data[:2])
    out["ser"] = body.ser
    values: dict[str, Any] = {}
    if frame.is_abnormal:
        errors.extend(refusal_reasons(function_name(frame.function), frame.control, body.ser,
                                      body.payload))
        if 1 <= len(body.payload) <= 2:
            out["status"] = decode_status(body.payload).as_dict()
    elif frame.is_reply and frame.function in _WRITE_FUNCTIONS:
        if 1 <= len(body.payload) <= 2:
            out["status"] = decode_status(body.payload).as_dict()
        elif body.payload:
            values["payload"] = hex_bytes(body.payload)
            errors.append(f"write reply carries {len(body.payload)} bytes after SER; "
                          "expected none or a 2-byte ST")
    else:
        values, layout_errors = decode_layout(_layout(frame, body.di), body.payload)
        errors.extend(layout_errors)
        if "status" in values:
            out["status"] = values.pop("status")
    out["values"] = values
    out["errors"] = errors
    return out


def _layout(frame: Frame, di: int | None) -> Layout:
    info = di_info(di) if di is not None else None
    if info is None:
        return Layout.RAW
    if not frame.is_reply:
        return info.layout if info.write else Layout.NONE
    layout = info.reply_layout
    if layout is Layout.METERING and meter_family(frame.meter_type) not in ("water", "gas"):
        return Layout.RAW  # heat meters use a longer 901F layout (unverified, PROTOCOLS §3.4)
    return layout


# --- encode parameters -------------------------------------------------------------------


def _param_int(value: Any, what: str, low: int, high: int, *, hex_text: bool) -> int:
    if isinstance(value, bool):
        raise Cjt188Error(f"{what} must be a number, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip().lower()
        base = 16 if hex_text or text.startswith("0x") else 10
        try:
            number = int(text.removeprefix("0x"), base)
        except ValueError:
            raise Cjt188Error(f"{what} must be a number, got {value!r}") from None
    else:
        raise Cjt188Error(f"{what} must be a number, got {value!r}")
    if not low <= number <= high:
        raise Cjt188Error(f"{what} must be {low}-{high}, got {value!r}")
    return number


def parse_di(value: Any) -> int:
    """A DI as 4 hex digits ("901F") or a number."""
    if isinstance(value, str) and len(value.strip().removeprefix("0x")) != 4:
        raise Cjt188Error(f"di must be 4 hex digits like 901F, got {value!r}")
    return _param_int(value, "di", 0, 0xFFFF, hex_text=True)


def parse_meter_type(value: Any) -> int:
    """A meter type byte as hex text ("10") or a number."""
    meter_type = _param_int(value, "meter_type", 0, 0xFF, hex_text=True)
    if meter_family(meter_type) is None:
        raise Cjt188Error(f"wrong meter type {meter_type:02X} (expected 10-19, 20-29, 30-39, "
                          "40-49 or AA)")
    return meter_type


def parse_order(value: Any) -> DiOrder:
    """A DI order in any accepted spelling."""
    order = parse_di_order(value)
    if order is None:
        raise Cjt188Error(f"di_order must be {DI_ORDER_CHOICES}, got {value!r}")
    return order


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise Cjt188Error(f"time must be ISO 8601 like 2025-03-14T09:26:53, "
                              f"got {value!r}") from None
    return when.astimezone(site_time_zone()) if when.tzinfo else when


class Cjt188Codec(ProtocolCodec):
    """CJ/T 188 (water, heat, gas meters) for the frame tool."""

    name = PROTOCOL
    description = "CJ/T 188-2004/2018 household utility meters (water, heat, gas)"
    actions = tuple(_ACTION_PARAMS)

    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode one frame (FE wake-up bytes allowed); Cjt188Error says what is wrong."""
        return decode_to_dict(decode_frame(data))

    def encode(self, action: str, address: str, **params: Any) -> bytes:
        """Build read (di), read-address, valve-open, valve-close or time-sync (time)."""
        allowed = _ACTION_PARAMS.get(action)
        if allowed is None:
            raise Cjt188Error(f"unknown action {action!r}: expected {', '.join(self.actions)}")
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise Cjt188Error(f"unknown parameter {unknown[0]!r} for {action} "
                              f"(expected {', '.join(allowed)})")
        frame = self._build(action, address, params)
        preamble = _param_int(params.get("preamble", 0), "preamble", 0, 4, hex_text=False)
        return bytes((WAKE_UP,)) * preamble + frame

    def _build(self, action: str, address: str, params: Mapping[str, Any]) -> bytes:
        order = parse_order(params.get("di_order", DiOrder.LO_FIRST))
        ser = _param_int(params.get("ser", 0), "ser", 0, 0xFF, hex_text=False)
        if action == "read-address":
            wildcard = str(address).strip().lower() in _WILDCARD_WORDS
            target = BROADCAST_ADDRESS if wildcard else normalize_address(address)
            meter_type = parse_meter_type(params.get("meter_type", TYPE_ANY))
            return read_address_request(address=target, ser=ser, order=order,
                                        meter_type=meter_type)
        target = normalize_address(address)
        meter_type = parse_meter_type(params.get("meter_type", TYPE_COLD_WATER))
        if action == "read":
            di = parse_di(params.get("di", DI_CURRENT))
            if di == DI_ADDRESS:
                return read_address_request(address=target, ser=ser, order=order,
                                            meter_type=meter_type)
            return read_request(target, di, ser=ser, order=order, meter_type=meter_type)
        if action == "time-sync":
            if "time" not in params:
                raise Cjt188Error("time-sync needs --param time=YYYY-MM-DDThh:mm:ss")
            return time_request(target, _parse_time(params["time"]), ser=ser, order=order,
                                meter_type=meter_type)
        return valve_request(target, action == "valve-open", ser=ser, order=order,
                             meter_type=meter_type)
