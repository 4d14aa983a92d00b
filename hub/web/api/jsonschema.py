"""voluptuous schemas as JSON Schema (2020-12, as OpenAPI 3.1 uses it).

The services validate with voluptuous; the OpenAPI document describes the same schemas, so
a key added to a service's schema shows up in the document with no second copy. Known
validators (``hub.validation``'s, ``vol.All``/``Any``/``In``/``Range``/``Length``/
``Coerce``, types) map to their JSON Schema; an unknown function maps to "anything" with
its docstring as the description (the service still validates it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import voluptuous as vol

from ... import validation as cv

JsonSchema = dict[str, Any]

_MONEY = {"type": ["string", "number"], "pattern": r"^-?[0-9]+(\.[0-9]{1,2})?$",
          "description": "yuan with at most 2 decimals (text keeps it exact)"}
_NUMBER = {"type": ["string", "number"], "description": "a decimal number (text keeps it exact)"}

_KNOWN: dict[Callable[..., Any], JsonSchema] = {
    cv.string: {"type": "string"},
    cv.slug: {"type": "string", "pattern": "^[a-z0-9_]+$"},
    cv.identifier: {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"},
    cv.entity_id: {"type": "string", "pattern": r"^[a-z0-9_]+\.[a-z0-9_]+$"},
    cv.boolean: {"type": "boolean"},
    cv.positive_int: {"type": "integer", "minimum": 1},
    cv.non_negative_int: {"type": "integer", "minimum": 0},
    cv.port: {"type": "integer", "minimum": 0, "maximum": 65535},
    cv.decimal: _NUMBER,
    cv.non_negative_decimal: {**_NUMBER, "minimum": 0},
    cv.money: _MONEY,
    cv.time_of_day: {"type": "string", "description": "a local time, HH:MM"},
    cv.duration: {"type": "string", "description": "a duration, like 2h or 00:30:00"},
    cv.time_zone: {"type": "string", "description": "an IANA time zone"},
    cv.ensure_list: {"type": "array"},
}
_TYPES: dict[type, JsonSchema] = {
    str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"},
    bool: {"type": "boolean"}, dict: {"type": "object"}, list: {"type": "array"},
    Decimal: _NUMBER, date: {"type": "string", "format": "date"},
    datetime: {"type": "string", "format": "date-time"},
}


def _choices(func: Callable[..., Any]) -> list[str] | None:
    """The words of a ``hub.validation.one_of`` validator."""
    choices = getattr(func, "choices", None)
    return list(choices) if isinstance(choices, list | tuple) else None


def _describe(func: Any) -> JsonSchema:
    doc = inspect.getdoc(func) or ""
    return {"description": doc.split("\n", 1)[0]} if doc else {}


def _merge(parts: list[JsonSchema]) -> JsonSchema:
    """``vol.All``: the first part with a type, narrowed by the others' constraints."""
    out: JsonSchema = {}
    for part in parts:
        for key, value in part.items():
            if key == "description" and "description" in out:
                continue
            if key not in out or key in ("minLength", "maxLength", "minimum", "maximum",
                                         "minItems", "maxItems"):
                out[key] = value
    return out


def _key(marker: Any) -> tuple[str | None, bool, Any]:
    """A schema key: its name, whether it is required, its default."""
    if isinstance(marker, vol.Marker):
        name = marker.schema if isinstance(marker.schema, str) else None
        default = marker.default() if isinstance(marker, vol.Optional) and \
            not isinstance(marker.default, vol.Undefined) else vol.UNDEFINED
        return name, isinstance(marker, vol.Required) and default is vol.UNDEFINED, default
    if isinstance(marker, str):
        return marker, True, vol.UNDEFINED
    return None, False, vol.UNDEFINED


def _plain(value: Any) -> Any:
    """A default value as JSON (Decimals and times as text)."""
    if isinstance(value, Decimal | date | datetime):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _mapping(schema: Mapping[Any, Any], extra: int) -> JsonSchema:
    properties: dict[str, JsonSchema] = {}
    required: list[str] = []
    additional: Any = extra == vol.ALLOW_EXTRA
    for marker, value in schema.items():
        name, needed, default = _key(marker)
        if name is None:  # a validator as key: {cv.slug: cv.string}
            additional = to_json_schema(value)
            continue
        entry = to_json_schema(value)
        if default is not vol.UNDEFINED:
            entry = {**entry, "default": _plain(default)}
        description = getattr(marker, "description", None)
        if description:
            entry = {**entry, "description": str(description)}
        properties[name] = entry
        if needed:
            required.append(name)
    out: JsonSchema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if additional is not True:
        out["additionalProperties"] = additional
    return out


def to_json_schema(schema: Any) -> JsonSchema:
    """The JSON Schema of a voluptuous schema (or validator, type, literal)."""
    if isinstance(schema, vol.Schema):
        if isinstance(schema.schema, Mapping):
            return _mapping(schema.schema, schema.extra)
        return to_json_schema(schema.schema)
    if isinstance(schema, Mapping):
        return _mapping(schema, vol.PREVENT_EXTRA)
    if isinstance(schema, cv.ListOf):
        items = {"type": "array", "items": to_json_schema(schema.schema)}
        return {"anyOf": [items, items["items"]]} if schema.allow_single else items
    if isinstance(schema, list):
        if not schema:
            return {"type": "array"}
        parts = [to_json_schema(item) for item in schema]
        return {"type": "array", "items": parts[0] if len(parts) == 1 else {"anyOf": parts}}
    if isinstance(schema, vol.All):
        return _merge([to_json_schema(part) for part in schema.validators])
    if isinstance(schema, vol.Any):
        return {"anyOf": [to_json_schema(part) for part in schema.validators]}
    if isinstance(schema, vol.In):
        return {"enum": [_plain(v) for v in cast("Iterable[Any]", schema.container)]}
    if isinstance(schema, vol.Range):
        out: JsonSchema = {}
        if schema.min is not None:
            out["minimum"] = _plain(schema.min) if not isinstance(schema.min, Decimal) \
                else float(schema.min)
        if schema.max is not None:
            out["maximum"] = _plain(schema.max) if not isinstance(schema.max, Decimal) \
                else float(schema.max)
        return out
    if isinstance(schema, vol.Length):
        return {key: value for key, value in (("minLength", schema.min),
                                              ("maxLength", schema.max)) if value is not None}
    if isinstance(schema, vol.Coerce):
        return dict(_TYPES.get(schema.type, {})) if isinstance(schema.type, type) else {}
    if isinstance(schema, vol.Datetime):
        return {"type": "string", "format": "date-time"}
    if isinstance(schema, type):
        return dict(_TYPES.get(schema, {}))
    if schema is None:
        return {"type": "null"}
    if isinstance(schema, str | int | bool):
        return {"const": schema}
    if callable(schema):
        if schema in _KNOWN:
            return dict(_KNOWN[schema])
        choices = _choices(schema)
        if choices is not None:
            return {"type": "string", "enum": choices}
        return _describe(schema)
    return {}


def without(schema: JsonSchema, keys: tuple[str, ...]) -> JsonSchema:
    """An object schema less some properties (those a path gives)."""
    if not keys or "properties" not in schema:
        return schema
    out = dict(schema)
    out["properties"] = {k: v for k, v in schema["properties"].items() if k not in keys}
    if "required" in schema:
        required = [k for k in schema["required"] if k not in keys]
        if required:
            out["required"] = required
        else:
            del out["required"]
    return out
