"""Voluptuous validators shared by config, services and plugins, and readable errors.

Error lines name the key path (``meters[3].address``), say what was expected and show
what was given: ``meters[3].address: expected 12 decimal digits, got '12AB'``.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import time as dt_time
from datetime import timedelta
from decimal import Decimal, DecimalTuple, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from .i18n import Text
from .messages import voluptuous_text
from .util.memory import SharedTable

__all__ = [
    "MONEY_FORM",
    "ListOf",
    "SecretStr",
    "Strict",
    "boolean",
    "decimal",
    "describe_invalid",
    "duplicates",
    "duration",
    "ensure_list",
    "entity_id",
    "flatten_invalid",
    "format_path",
    "humanize_invalid",
    "identifier",
    "ip_address",
    "keys_of",
    "listen_port",
    "lookup",
    "money",
    "non_negative_decimal",
    "non_negative_int",
    "one_of",
    "port",
    "positive_int",
    "show_value",
    "slug",
    "string",
    "time_of_day",
    "time_zone",
]

_SLUG_RE = re.compile(r"^[a-z0-9_]+$")
_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_ENTITY_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DURATION_RE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?"
                          r"\s*(?:(\d+)\s*s)?\s*$")


class SecretStr(str):
    """A string that came from ``!secret``: shown as ``<secret>`` in any error message."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<secret>'"


def show_value(value: Any, limit: int = 60) -> str:
    """Render a value for an error message: short, quoted, secrets hidden."""
    if isinstance(value, SecretStr):
        return "'<secret>'"
    if isinstance(value, Mapping):
        return Text("value.mapping")
    if isinstance(value, list | tuple):
        return Text("value.list")
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 1] + "…"
        return repr(text)
    if value is None:
        return Text("value.null")
    return repr(value) if not isinstance(value, Decimal) else str(value)


def format_path(path: Sequence[Any], root: str = "") -> str:
    """Format a key path as ``meters[3].address``."""
    out = root
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = str(part)
            out += f".{key}" if out else key
    return out


def lookup(data: Any, path: Sequence[Any]) -> tuple[bool, Any]:
    """Follow ``path`` into nested data; return (found, value)."""
    current = data
    for part in path:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            return False, None
    return True, current


def _path_keys(err: vol.Invalid) -> list[Any]:
    # voluptuous wraps keys in Marker objects (Required/Optional) in some paths
    return [getattr(part, "schema", part) for part in err.path]


def flatten_invalid(err: vol.Invalid) -> list[vol.Invalid]:
    """Return every single error inside a (possibly nested) MultipleInvalid."""
    if isinstance(err, vol.MultipleInvalid):
        out: list[vol.Invalid] = []
        for sub in err.errors:
            out.extend(flatten_invalid(sub))
        return out
    return [err]


def describe_invalid(err: vol.Invalid, data: Any) -> tuple[list[Any], str]:
    """Return (key path, message) for one voluptuous error, message made readable."""
    path = _path_keys(err)
    message = voluptuous_text(err.error_message or str(err.msg))
    if message == "extra keys not allowed" and path:
        key = path[-1]
        found, parent = lookup(data, path[:-1])
        hint = ""
        if found and isinstance(parent, Mapping):
            allowed = getattr(err, "allowed_keys", None)
            if allowed:
                close = difflib.get_close_matches(str(key), [str(k) for k in allowed], 1, 0.6)
                if close:
                    hint = close[0]
        if hint:
            return path, Text("validation.unknown_key_hint", key=key, hint=hint)
        return path, Text("validation.unknown_key", key=key)
    if message == "required key not provided":
        return path, Text("validation.required")
    found, value = lookup(data, path)
    if found and "got" not in message and not isinstance(value, Mapping | list) and not (
            path and is_secret(str(path[-1]))):
        message = Text("validation.got", reason=message, value=show_value(value))
    return path, message


_SECRET = re.compile(r"pass(word|wd|phrase)|secret|token|(^|_)key$", re.IGNORECASE)


def is_secret(name: str) -> bool:
    """Whether a setting's name says it holds a secret (a password, a private key, a
    token): an error about it never repeats the value that was typed."""
    return bool(_SECRET.search(name))


def humanize_invalid(err: vol.Invalid, data: Any, root: str = "") -> list[str]:
    """Return one readable line per problem in a voluptuous error."""
    lines = []
    for single in flatten_invalid(err):
        path, message = describe_invalid(single, data)
        where = format_path(path, root)
        lines.append(Text("validation.at", path=where, reason=message) if where else message)
    return lines


class ListOf:
    """Validate every item of a list and report the errors of *all* items, not the first.

    (voluptuous stops a list at the first item with a nested error.) With ``unique="id"``
    two items with the same ``id`` are an error too, reported with the items' own errors.
    """

    def __init__(self, schema: Any, *, allow_single: bool = False,
                 unique: str | None = None) -> None:
        self.schema = schema if isinstance(schema, vol.Schema) else vol.Schema(schema)
        self.allow_single = allow_single
        self.unique = unique

    def __call__(self, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            if self.allow_single:
                value = [value]
            else:
                raise vol.Invalid(Text("validation.list", value=show_value(value)))
        out: list[Any] = []
        errors: list[vol.Invalid] = []
        for index, item in enumerate(value):
            try:
                out.append(self.schema(item))
            except vol.Invalid as err:
                for single in flatten_invalid(err):
                    single.prepend([index])
                    errors.append(single)
        if self.unique is not None:
            errors += duplicates(value, self.unique)
        if errors:
            raise vol.MultipleInvalid(errors)
        return out


class Strict(vol.Schema):
    """A mapping schema whose unknown-key errors carry the allowed keys (for hints)."""

    def __call__(self, data: Any) -> Any:
        try:
            return vol.Schema.__call__(self, data)  # type: ignore[no-untyped-call]
        except vol.Invalid as err:
            allowed = keys_of(self.schema) if isinstance(self.schema, dict) else []
            for single in flatten_invalid(err):
                if single.error_message == "extra keys not allowed":
                    setattr(single, "allowed_keys", allowed)  # noqa: B010
            raise


def string(value: Any) -> str:
    """Coerce a scalar to str; reject mappings, lists and null."""
    if value is None or isinstance(value, Mapping | list):
        raise vol.Invalid(Text("validation.text", value=show_value(value)))
    if isinstance(value, bool):
        raise vol.Invalid(Text("validation.text_quote", value=repr(value)))
    return value if isinstance(value, Text) else str(value)  # a message keeps its key


def slug(value: Any) -> str:
    """A lower-case id of letters, digits and underscores."""
    text = string(value)
    if not _SLUG_RE.match(text):
        raise vol.Invalid(Text("validation.slug", value=show_value(value)))
    return text


def identifier(value: Any) -> str:
    """A stable id: letters, digits, '_', '-', '.'; starts with a letter, digit or '_'."""
    text = string(value)
    if not _ID_RE.match(text):
        raise vol.Invalid(Text("validation.identifier", value=show_value(value)))
    return text


def entity_id(value: Any) -> str:
    """An entity id such as ``meter.r101_e``."""
    text = string(value).lower()
    if not _ENTITY_RE.match(text):
        raise vol.Invalid(Text("validation.entity_id", value=show_value(value)))
    return text


def boolean(value: Any) -> bool:
    """A yes/no value (true/false, on/off, yes/no, 1/0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "on", "yes", "1", "enable"):
            return True
        if lowered in ("false", "off", "no", "0", "disable"):
            return False
    if isinstance(value, int):
        return bool(value)
    raise vol.Invalid(Text("validation.boolean", value=show_value(value)))


def positive_int(value: Any) -> int:
    """A whole number of at least 1."""
    number = _int(value)
    if number < 1:
        raise vol.Invalid(Text("validation.int_min", least=1, value=show_value(value)))
    return number


def non_negative_int(value: Any) -> int:
    """A whole number of at least 0."""
    number = _int(value)
    if number < 0:
        raise vol.Invalid(Text("validation.int_min", least=0, value=show_value(value)))
    return number


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise vol.Invalid(Text("validation.int", value=repr(value)))
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise vol.Invalid(Text("validation.int", value=show_value(value)))


def port(value: Any) -> int:
    """A TCP/UDP port number."""
    number = _int(value)
    if not 1 <= number <= 65535:
        raise vol.Invalid(Text("validation.port", least=1, value=number))
    return number


def listen_port(value: Any) -> int:
    """A port to listen on; 0 lets the system pick a free one."""
    number = _int(value)
    if not 0 <= number <= 65535:
        raise vol.Invalid(Text("validation.port", least=0, value=number))
    return number


def decimal(value: Any) -> Decimal:
    """An exact decimal number (YAML numbers load as Decimal; floats go through their text)."""
    if isinstance(value, bool):
        raise vol.Invalid(Text("validation.number", value=repr(value)))
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise vol.Invalid(Text("validation.number", value=show_value(value))) from None
    else:
        raise vol.Invalid(Text("validation.number", value=show_value(value)))
    if not result.is_finite():
        raise vol.Invalid(Text("validation.finite", value=show_value(value)))
    return result


def non_negative_decimal(value: Any) -> Decimal:
    """A decimal number of at least 0."""
    result = decimal(value)
    if result < 0:
        raise vol.Invalid(Text("validation.number_min", value=show_value(value)))
    return result


_MONEY_TEXT_RE = re.compile(r"^-?[0-9]+(?:\.[0-9]{1,2})?$")
MONEY_FORM = "digits with at most 2 decimals, like 12.5, 12.50 or 1000"


def money(value: Any) -> Decimal:
    """An amount of money in yuan with at most 2 decimals (fen).

    Text, as a person types it (CLI, forms), must be plain digits with at most 2 decimals:
    ``1e3``, ``1,000`` or ``.5`` are refused with the accepted form, never read as a number
    the person did not mean. A number written with an exponent is refused too.
    """
    if isinstance(value, str) and not _MONEY_TEXT_RE.match(value.strip()):
        raise vol.Invalid(Text("validation.money_form", value=show_value(value)))
    if isinstance(value, Decimal) and "E" in str(value):
        raise vol.Invalid(Text("validation.money_form", value=value))
    result = decimal(value)
    try:
        rounded = result.quantize(Decimal("0.01"))
    except InvalidOperation:  # too many digits for any amount of money
        raise vol.Invalid(Text("validation.money", value=show_value(value))) from None
    if result != rounded:
        raise vol.Invalid(Text("validation.money_form", value=show_value(value)))
    return _shared_amount(rounded)


# Amounts are immutable: 10,000 accounts with the same limits share one Decimal per amount
_MAX_SHARED_AMOUNTS = 4096
_AMOUNTS: SharedTable[DecimalTuple, Decimal] = SharedTable(_MAX_SHARED_AMOUNTS)


def _shared_amount(amount: Decimal) -> Decimal:
    """The one Decimal kept for this exact amount (sign, digits and exponent), else itself."""
    return _AMOUNTS.share(amount.as_tuple(), amount)


def time_of_day(value: Any) -> dt_time:
    """A local time of day 'HH:MM' or 'HH:MM:SS' (24 h)."""
    if isinstance(value, dt_time):
        return value
    match = _TIME_RE.match(string(value).strip())
    if match:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour < 24 and minute < 60 and second < 60:
            return dt_time(hour, minute, second)
    raise vol.Invalid(Text("validation.time_of_day", value=show_value(value)))


def duration(value: Any) -> timedelta:
    """A duration: seconds as a number, 'HH:MM[:SS]', '1d 2h 30m 10s', or a mapping."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        if value < 0:
            raise vol.Invalid(Text("validation.duration_min", value=value))
        return timedelta(seconds=float(value))
    if isinstance(value, Mapping):
        allowed = {"days", "hours", "minutes", "seconds"}
        unknown = set(value) - allowed
        if unknown:
            raise vol.Invalid(Text("validation.duration_units", units=sorted(unknown),
                                   allowed=sorted(allowed)))
        return timedelta(**{key: float(decimal(val)) for key, val in value.items()})
    text = string(value).strip()
    match = _TIME_RE.match(text)
    if match:
        return timedelta(hours=int(match[1]), minutes=int(match[2]), seconds=int(match[3] or 0))
    match = _DURATION_RE.match(text)
    if match and any(match.groups()):
        days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    raise vol.Invalid(Text("validation.duration", value=show_value(value)))


def time_zone(value: Any) -> str:
    """An IANA time zone name such as 'Asia/Shanghai'."""
    text = string(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid(Text("validation.time_zone", value=show_value(value))) from None
    return text


def ip_address(value: Any) -> str:
    """An IPv4 or IPv6 address, in its normal form."""
    try:
        return str(ipaddress.ip_address(string(value).strip()))
    except ValueError:
        raise vol.Invalid(Text("validation.ip_address", value=show_value(value))) from None


def ensure_list(value: Any) -> list[Any]:
    """Wrap a single value in a list; null becomes an empty list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def one_of(*choices: str) -> Callable[[Any], str]:
    """One of a fixed set of words, with the choices named in the error."""
    options = list(choices)

    def _validate(value: Any) -> str:
        text = string(value)
        if text not in options:
            close = difflib.get_close_matches(text, options, 1, 0.6)
            if close:
                raise vol.Invalid(Text("validation.one_of_hint", choices=", ".join(options),
                                       value=show_value(value), hint=close[0]))
            raise vol.Invalid(Text("validation.one_of", choices=", ".join(options),
                                   value=show_value(value)))
        return text

    _validate.choices = tuple(options)  # type: ignore[attr-defined]  # for JSON Schema
    return _validate


def duplicates(items: list[Any], key: str = "id") -> list[vol.Invalid]:
    """An error for each item of a list of mappings whose ``key`` an earlier item has."""
    seen: dict[Any, int] = {}
    errors: list[vol.Invalid] = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and key in item and isinstance(item[key], Hashable):
            ident = item[key]
            if isinstance(ident, int | float | Decimal) and not isinstance(ident, bool):
                ident = str(ident)  # as an id validates: 101 and "101" are the same id
            if ident in seen:
                errors.append(vol.Invalid(
                    Text("validation.duplicate", key=key, value=show_value(ident),
                         first=seen[ident]),
                    path=[index, key],
                ))
            else:
                seen[ident] = index
    return errors



def keys_of(mapping: Iterable[Any]) -> list[str]:
    """Return the plain string keys of a schema mapping (markers unwrapped)."""
    return [str(getattr(key, "schema", key)) for key in mapping]
