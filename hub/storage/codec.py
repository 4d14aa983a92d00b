"""Compact, exact encodings of what storage keeps: register lists, typed JSON, times.

Registers are stored as ``"<point_key>:<decimal>[verdict]"`` items joined by spaces
(``"1:1234.56 2:301.20w6"``): exact decimal text, a small integer per point name, and the
counter verdict of each register (see write/counters.py). Instantaneous values (schema v6 on) are
the same items packed as bytes, about half the text (see :func:`pack_items`); every
decoder here takes either form. States and event data are JSON in which Decimals and
datetimes keep their type (``{"$d": "1.50"}``, ``{"$t": iso}``).
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import Any

from ..i18n import restored_form

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_US = timedelta(microseconds=1)

_ITEM_RE = re.compile(r"(\d+):(-?[0-9.]+)([a-z]\d*)?")


def to_ms(value: datetime) -> int:
    """An aware datetime as integer epoch milliseconds (exact, floor)."""
    return (value - EPOCH) // _MS


def from_ms(value: int) -> datetime:
    """Integer epoch milliseconds as an aware UTC datetime."""
    return EPOCH + timedelta(milliseconds=value)


def to_us(value: datetime) -> int:
    """An aware datetime as integer epoch microseconds (exact)."""
    return (value - EPOCH) // _US


def from_us(value: int) -> datetime:
    """Integer epoch microseconds as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=value)


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain text without exponent (``1E+3`` becomes ``1000``)."""
    return format(value, "f")


def encode_items(items: Iterable[tuple[int, Decimal, str]]) -> str | None:
    """Encode (point key, value, verdict code) items as text; None when there are none."""
    text = " ".join([f"{key}:{value:f}{code}" for key, value, code in items])
    return text or None


def decode_items(data: str | bytes | None) -> list[tuple[int, Decimal, str]]:
    """Decode what :func:`encode_items` or :func:`pack_items` wrote."""
    if not data:
        return []
    if not isinstance(data, str):
        return unpack_items(data)
    return [(int(key), Decimal(value), code or "") for key, value, code in _ITEM_RE.findall(data)]


@functools.lru_cache(maxsize=512)
def _item_pattern(key: int) -> re.Pattern[str]:
    return re.compile(rf"(?:^| ){key}:(-?[0-9.]+)")


def find_item(data: str | bytes | None, key: int) -> Decimal | None:
    """Return one point's value from an encoded list without decoding the rest."""
    if not data:
        return None
    if not isinstance(data, str):
        for item_key, value, _code in unpack_items(data):
            if item_key == key:
                return value
        return None
    match = _item_pattern(key).search(data)
    return Decimal(match.group(1)) if match else None


# --- packed items ---------------------------------------------------------------------
#
# Per item: varint(point key), varint(head), varint(digits) [, code], where ``digits`` are the
# decimal digits of the plain text of the value as an integer (``0.990`` -> 990), and
# ``head = places << 2 | code << 1 | negative`` with ``places`` the digits after the point.
# With the code bit set, one length byte and the verdict code's ASCII follow. Varints are
# LEB128 (7 bits a byte, low first). The value read back is ``Decimal`` of the same plain
# text ``encode_items`` would have written: nothing is lost, ``-0`` and ``0.990`` included.

_VARINT = [bytes((n,)) if n < 0x80 else bytes((n & 0x7F | 0x80, n >> 7))
           for n in range(0x4000)]


def _varint(value: int) -> bytes:
    if value < 0x4000:
        return _VARINT[value]
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_PACKED_VALUES: dict[str, bytes] = {}


def _pack_value(text: str) -> bytes:
    """varint(head) + varint(digits) of a value's plain text (no verdict code)."""
    packed = _PACKED_VALUES.get(text)
    if packed is None:
        negative = text[0] == "-"
        plain = text[1:] if negative else text
        dot = plain.find(".")
        if dot < 0:
            places, digits = 0, int(plain)
        else:
            places, digits = len(plain) - dot - 1, int(plain[:dot] + plain[dot + 1:])
        packed = _varint(places << 2 | negative) + _varint(digits)
        if len(_PACKED_VALUES) >= 65536:
            _PACKED_VALUES.clear()
        _PACKED_VALUES[text] = packed
    return packed


def pack_item(key: int, value: Decimal, code: str = "") -> bytes:
    """One (point key, value, verdict code) item packed (see :func:`pack_items`)."""
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if not code:
        return _varint(key) + _pack_value(text)
    packed = _pack_value(text)
    head, size = _read_varint(packed, 0)
    raw = code.encode("ascii")
    return _varint(key) + _varint(head | 2) + packed[size:] + _VARINT[len(raw)] + raw


def pack_items(items: Iterable[tuple[int, Decimal, str]]) -> bytes | None:
    """Pack (point key, value, verdict code) items as bytes; None when there are none."""
    data = b"".join([pack_item(key, value, code) for key, value, code in items])
    return data or None


def pack_values(items: Iterable[tuple[int, Decimal]]) -> bytes | None:
    """Pack (point key, value) items without verdict codes (instantaneous values)."""
    parts = []
    for key, value in items:
        text = str(value)
        if "E" in text:
            text = format(value, "f")
        packed = _PACKED_VALUES.get(text)
        parts.append((_VARINT[key] if key < 0x4000 else _varint(key))
                     + (packed if packed is not None else _pack_value(text)))
    return b"".join(parts) or None


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    value, shift = byte & 0x7F, 7
    while True:
        pos += 1
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos + 1
        shift += 7


def unpack_items(data: bytes) -> list[tuple[int, Decimal, str]]:
    """Unpack what :func:`pack_items` wrote."""
    out: list[tuple[int, Decimal, str]] = []
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _read_varint(data, pos)
        head, pos = _read_varint(data, pos)
        digits, pos = _read_varint(data, pos)
        code = ""
        if head & 2:
            size = data[pos]
            code = data[pos + 1:pos + 1 + size].decode("ascii")
            pos += 1 + size
        places = head >> 2
        text = str(digits)
        if places:
            text = text.rjust(places + 1, "0")
            text = f"{text[:-places]}.{text[-places:]}"
        out.append((key, Decimal(f"-{text}" if head & 1 else text), code))
    return out


# --- reading ids ----------------------------------------------------------------------
#
# The hub's reading ids are lower-case hex (``util.ids.new_id``: 18 to 23 characters). Such an
# id is kept as its bytes (half the size; an odd-length id gets one leading zero nibble,
# which cannot be confused with its own first digit because packed ids never start with
# ``0``); any other id is kept as text. SQL reads it back with RID_SQL, Python with
# :func:`unpack_rid`.

_PACKABLE_RID = re.compile(r"[1-9a-f][0-9a-f]*")

RID_SQL = ("CASE WHEN typeof(rid_packed) = 'blob' THEN ltrim(lower(hex(rid_packed)), '0') "
           "ELSE rid_packed END")


def pack_rid(rid: str) -> bytes | str:
    """A reading id as stored: its hex digits as bytes when it is hex, else the text."""
    if _PACKABLE_RID.fullmatch(rid) is None:
        return rid
    return bytes.fromhex(rid if len(rid) % 2 == 0 else "0" + rid)


def unpack_rid(packed: bytes | str) -> str:
    """The reading id :func:`pack_rid` packed."""
    if isinstance(packed, str):
        return packed
    return packed.hex().lstrip("0")


def _typed_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": format(value, "f")}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date | dt_time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.hex().upper()
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    return str(value)


def _typed_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$d" in obj:
            return Decimal(obj["$d"])
        if "$t" in obj:
            return datetime.fromisoformat(obj["$t"])
        if "$text" in obj or "$joined" in obj:  # a message an event carried (stored_forms)
            return restored_form(obj)
    return obj


# json.dumps with options builds a JSONEncoder on every call, and JSONEncoder.encode builds
# its C encoder on every call (together half the time of a state's attributes): each thread
# keeps one C encoder. Its circular-reference markers are emptied by a call that returns;
# one that raises may leave some behind, so that thread's encoder is made anew.
_ENCODER = json.JSONEncoder(default=_typed_default, ensure_ascii=False, separators=(",", ":"))
_ENCODERS = threading.local()


def _c_encoder() -> Any:
    """A C encoder of :data:`_ENCODER`'s options (None where the C module is missing)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    return make({}, _typed_default, json.encoder.encode_basestring, None, ":", ",", False,
                False, True)


def dumps(value: Any) -> str:
    """Typed, compact JSON (Decimals and datetimes come back as themselves)."""
    if isinstance(value, str):
        return _ENCODER.encode(value)
    encoder = getattr(_ENCODERS, "encoder", None)
    if encoder is None:
        encoder = _ENCODERS.encoder = _c_encoder()
        if encoder is None:
            return _ENCODER.encode(value)
    try:
        return "".join(encoder(value, 0))
    except BaseException:
        _ENCODERS.encoder = None  # its markers may hold the failed value's containers
        raise


def loads(text: str | None) -> Any:
    """Read what :func:`dumps` wrote."""
    if text is None:
        return None
    return json.loads(text, object_hook=_typed_hook)


def dumps_mapping(value: Mapping[str, Any]) -> str | None:
    """Typed JSON for a mapping, or None when it is empty."""
    return dumps(dict(value)) if value else None


_JSON_CACHE: dict[str, str] = {}


def dumps_cached(value: Mapping[str, Any]) -> str | None:
    """Like :func:`dumps_mapping`, remembering the text of small recurring mappings.

    Status and quality maps repeat from reading to reading (``{"relay": "closed"}``).
    """
    if not value:
        return None
    key = repr(value)
    found = _JSON_CACHE.get(key)
    if found is None:
        found = dumps(dict(value))
        if len(_JSON_CACHE) > 4096:
            _JSON_CACHE.clear()
        _JSON_CACHE[key] = found
    return found

