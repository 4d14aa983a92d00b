"""The ``dlt645_1997`` frame tool: every frame read as DL/T 645-1997, 1997 requests built.

``meterhub frame decode --protocol dlt645`` already recognises 1997 frames by their
function code (01, 02, 04, 0A, 0C, 0F, 10); this codec also reads the shared or ambiguous
ones (08, 03 re-read) the 1997 way, and ``encode`` builds 1997 requests.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from hub.util import dt as dt_util

from .codec import decode_frame, time_sync_request
from .decode1997 import decode_1997
from .errors import Dlt645Error
from .protocol import Dlt645Codec, _int_param, _parse_value, _parse_when
from .v1997 import (
    ITEMS_1997,
    change_baud_request_1997,
    change_password_request_1997,
    follow_up_request_1997,
    parse_di_1997,
    read_request_1997,
    write_address_request_1997,
    write_request_1997,
)

_LOGGER = logging.getLogger(__name__)

PROTOCOL_1997 = "dlt645_1997"
_PASSWORD = ("password_level", "password")
_ACTION_PARAMS: dict[str, tuple[str, ...]] = {
    "read": ("di",),
    "read-follow-up": ("di",),
    "write": ("di", "value", *_PASSWORD),
    "time-sync": ("time",),
    "write-address": ("new_address",),
    "change-baud": ("baud",),
    "change-password": (*_PASSWORD, "new_password_level", "new_password"),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "read": ("di",), "read-follow-up": ("di",), "write": ("di", "value"),
    "write-address": ("new_address",), "change-baud": ("baud",),
    "change-password": ("new_password",),
}


def _level(value: Any) -> int:
    text = str(value).strip().upper().removeprefix("0X")
    if not 1 <= len(text) <= 2 or any(c not in "0123456789ABCDEF" for c in text):
        raise Dlt645Error(f"expected a password level of 2 hex digits like 02, got {value!r}")
    return int(text, 16)


def _password(value: Any) -> str:
    text = str(value).strip().zfill(6)
    if len(text) != 6 or not text.isdigit() or not text.isascii():
        raise Dlt645Error("expected a password of 6 decimal digits")
    return text


class Dlt645V1997Codec(Dlt645Codec):
    """DL/T 645-1997 for the frame tool."""

    name = PROTOCOL_1997
    description = "DL/T 645-1997 electricity meters (2-byte data identifiers, 1200 8E1)"
    actions = tuple(_ACTION_PARAMS)
    action_params = _ACTION_PARAMS
    required_params = _REQUIRED
    action_label = "DL/T 645-1997 action"

    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode one frame as DL/T 645-1997; Dlt645Error for an invalid frame."""
        frame = decode_frame(data)
        out = self._header(frame, data)
        out["protocol"] = PROTOCOL_1997
        decode_1997(frame, out)
        return out

    def _build(self, name: str, address: str, params: Mapping[str, Any]) -> bytes:
        level = _level(params.get("password_level", "02"))
        password = _password(params.get("password", "000000"))
        if name == "read":
            return read_request_1997(address, parse_di_1997(params["di"]))
        if name == "read-follow-up":
            return follow_up_request_1997(address, parse_di_1997(params["di"]))
        if name == "write":
            di = parse_di_1997(params["di"])
            entry = ITEMS_1997.get(di)
            if entry is None:
                raise Dlt645Error(f"unknown DL/T 645-1997 DI {di:04X}: cannot encode its value")
            spec = entry.item
            value = spec.encode(_parse_value(spec, params["value"]))
            return write_request_1997(address, di, value, level, password)
        if name == "time-sync":
            when = (_parse_when(params["time"], "time") if params.get("time")
                    else dt_util.now().replace(tzinfo=None, microsecond=0))
            return time_sync_request(when, address)
        if name == "write-address":
            return write_address_request_1997(str(params["new_address"]).strip(), address)
        if name == "change-baud":
            return change_baud_request_1997(address,
                                            _int_param(params["baud"], "baud", 0, 115200))
        return change_password_request_1997(
            address, level, password, _level(params.get("new_password_level", "02")),
            _password(params["new_password"]))


CODEC_1997 = Dlt645V1997Codec()
