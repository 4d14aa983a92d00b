"""CJ/T 188 payloads (the DATA after DI and SER): typed decoders and encoders.

The 901F reply of water and gas meters (PROTOCOLS.md §3.4) is decoded field by field, by
length: a short reply (some meters send L=9) or an undecodable field still yields every
other field, with a reason for each field that could not be read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from .codec import address_from_wire
from .errors import Cjt188Error
from .fields import (
    FLOW_BYTES,
    TIME_BYTES,
    MeterStatus,
    decode_day,
    decode_flow,
    decode_status,
    decode_time,
    encode_flow,
    encode_time,
    hex_bytes,
)
from .tables import UNIT_M3, UNITS, VALVE_ACTIONS, Layout, Quantity, Unit

_LOGGER = logging.getLogger(__name__)

METERING_LEN: Final = 2 * (FLOW_BYTES + 1) + TIME_BYTES + 2  # 19 after DI SER (L = 22)


@dataclass(frozen=True, slots=True)
class Amount:
    """A value as the meter sent it, with its unit code."""

    value: Decimal
    unit_code: int

    @property
    def unit(self) -> Unit | None:
        """The unit, if the code is known."""
        return UNITS.get(self.unit_code)

    @property
    def symbol(self) -> str:
        """The unit symbol, or the unknown code."""
        unit = self.unit
        return unit.symbol if unit else f"unknown unit {self.unit_code:02X}"

    def volume_m3(self) -> Decimal:
        """The value in m3 (exact); Cjt188Error if the unit is not a volume."""
        unit = self.unit
        if unit is None or unit.quantity is not Quantity.VOLUME:
            raise Cjt188Error(f"unit {self.symbol} is not a volume")
        return unit.to_base(self.value)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return {"value": self.value, "unit": self.symbol}


def decode_amount(raw: bytes, what: str) -> Amount:
    """4 BCD bytes XXXXXX.XX followed by a unit code."""
    if len(raw) != FLOW_BYTES + 1:
        raise Cjt188Error(f"{what} needs {FLOW_BYTES + 1} bytes, got {len(raw)}")
    return Amount(decode_flow(raw[:FLOW_BYTES], what), raw[FLOW_BYTES])


def encode_amount(value: Decimal, unit: Unit, what: str) -> bytes:
    """``value`` (in ``unit``) as 4 BCD bytes and the unit code."""
    return encode_flow(value, what) + bytes((unit.code,))


@dataclass(slots=True)
class Metering:
    """The 901F reply of a water or gas meter; absent or bad fields are in ``errors``."""

    flow: Amount | None = None
    settlement_flow: Amount | None = None
    meter_time: datetime | None = None
    status: MeterStatus | None = None
    extra: bytes = b""
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view (values, then status)."""
        out: dict[str, Any] = {}
        if self.flow is not None:
            out["flow"] = self.flow.as_dict()
        if self.settlement_flow is not None:
            out["settlement_flow"] = self.settlement_flow.as_dict()
        if self.meter_time is not None:
            out["meter_time"] = self.meter_time.isoformat()
        if self.extra:
            out["extra"] = hex_bytes(self.extra)
        return out


_METERING_FIELDS: Final = (
    ("flow", 0, FLOW_BYTES + 1, "current cumulative flow"),
    ("settlement_flow", FLOW_BYTES + 1, FLOW_BYTES + 1, "cumulative flow at the settlement date"),
    ("meter_time", 2 * (FLOW_BYTES + 1), TIME_BYTES, "meter time"),
    ("status", 2 * (FLOW_BYTES + 1) + TIME_BYTES, 2, "status ST"),
)


def decode_metering(payload: bytes) -> Metering:
    """Decode a 901F reply payload (after DI and SER) of a water or gas meter."""
    result = Metering(extra=payload[METERING_LEN:])
    for name, offset, size, what in _METERING_FIELDS:
        raw = payload[offset:offset + size]
        if len(raw) < size:
            result.errors[name] = (f"{what} is not in the reply (payload of {len(payload)} "
                                   f"bytes, {METERING_LEN} expected)")
            continue
        try:
            if name == "meter_time":
                result.meter_time = decode_time(raw, what)
            elif name == "status":
                result.status = decode_status(raw)
            else:
                setattr(result, name, decode_amount(raw, what))
        except Cjt188Error as err:
            result.errors[name] = str(err)
    return result


def encode_metering(flow: Decimal, settlement_flow: Decimal, meter_time: datetime,
                    status: bytes, unit: Unit = UNIT_M3) -> bytes:
    """A 901F reply payload (after DI and SER); flows given in ``unit``."""
    if len(status) != 2:
        raise Cjt188Error(f"status ST needs 2 bytes, got {len(status)}")
    return (encode_amount(flow, unit, "current cumulative flow")
            + encode_amount(settlement_flow, unit, "settlement-date flow")
            + encode_time(meter_time) + status)


def decode_layout(layout: Layout, payload: bytes) -> tuple[dict[str, Any], list[str]]:
    """Values and error reasons of a payload with a known layout (for the frame tool)."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    try:
        if layout is Layout.METERING:
            metering = decode_metering(payload)
            values.update(metering.as_dict())
            if metering.status is not None:
                values["status"] = metering.status.as_dict()
            errors.extend(metering.errors.values())
        elif layout is Layout.NONE:
            if payload:
                values["extra"] = hex_bytes(payload)
        elif layout is Layout.FLOW:
            values["flow"] = decode_amount(payload, "cumulative flow").as_dict()
        elif layout is Layout.DAY:
            values["day"] = decode_day(payload, "day of month")
        elif layout is Layout.TIME:
            values["time"] = decode_time(payload, "time").isoformat()
        elif layout is Layout.VALVE:
            values.update(decode_valve_action(payload))
        elif layout is Layout.ADDRESS:
            if len(payload) != 7:
                raise Cjt188Error(f"an address needs 7 bytes, got {len(payload)}")
            values["new_address"] = address_from_wire(payload)
        elif layout is Layout.UNIT_FLOW:
            if len(payload) != FLOW_BYTES + 1:
                raise Cjt188Error(f"unit and base reading need 5 bytes, got {len(payload)}")
            values["base_reading"] = decode_amount(payload[1:] + payload[:1],
                                                   "base reading").as_dict()
        else:
            values["payload"] = hex_bytes(payload)
    except Cjt188Error as err:
        values["payload"] = hex_bytes(payload)
        errors.append(str(err))
    return values, errors


def decode_valve_action(payload: bytes) -> dict[str, Any]:
    """An A017 payload: the action asked for and its code."""
    if len(payload) != 1:
        raise Cjt188Error(f"valve control needs 1 byte, got {len(payload)}")
    code = payload[0]
    action = VALVE_ACTIONS.get(code)
    if action is None:
        raise Cjt188Error(f"unknown valve action {code:02X} (55 open, 99 close)")
    return {"valve_action": action, "valve_code": f"{code:02X}"}


def decode_write_status(payload: bytes) -> MeterStatus | None:
    """The ST a write reply may carry after DI and SER (L=3: none, L=5: two bytes)."""
    if not payload:
        return None
    return decode_status(payload)


def refusal_reasons(function_name: str, control: int, ser: int | None,
                    status_raw: bytes) -> list[str]:
    """Readable reasons for an abnormal reply (D6 set): what was refused, and its ST."""
    ser_text = f", SER {ser:02X}" if ser is not None else ""
    reasons = [f"the meter refused the {function_name} request "
               f"(abnormal reply {control:02X}{ser_text})"]
    if 1 <= len(status_raw) <= 2:
        status = decode_status(status_raw)
        battery = "low" if status.battery_low else "ok"
        reasons.append(f"status ST {hex_bytes(status_raw)}: valve {status.valve}, "
                       f"battery {battery}")
    elif status_raw:
        reasons.append(f"error data {hex_bytes(status_raw)}")
    return reasons
