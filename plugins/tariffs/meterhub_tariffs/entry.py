"""One ``tariffs:`` entry: the keys every type shares, and price versions with validity dates.

Without ``versions`` the entry is one version, valid from ``valid_from`` (or always) until
``valid_until`` (or for ever). With ``versions``, each item overrides the entry's own keys
from its ``valid_from`` (a local date; the price applies from local midnight) until its
``valid_until`` (the last day, inclusive) or the next version's ``valid_from``. The validated
entry keeps the merged keys of every version under ``versions``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text
from hub.util.calendar import date_value

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .validators import fee

_LOGGER = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)

COMMON_KEYS: dict[Any, Any] = {
    vol.Required("id"): cv.identifier,
    vol.Required("type"): cv.string,
    vol.Optional("name"): cv.string,
    vol.Optional("note"): cv.string,
    vol.Optional("valid_from"): date_value,
    vol.Optional("valid_until"): date_value,
    # what the minimum charge is compared with: every line of the tariff, or its usage only
    vol.Optional("minimum_covers", default="all"): cv.one_of("all", "usage"),
}

# Keys every type may change from one version to the next.
VERSIONED_COMMON: dict[Any, Any] = {
    vol.Optional("fixed_fees", default={}): vol.Schema({cv.slug: fee}),
    vol.Optional("minimum_charge"): fee,
}

VERSION_ONLY = ("valid_from", "valid_until", "note")


@dataclass(frozen=True)
class EntrySpec:
    """What a tariff type adds to an entry: its keys and its cross-checks."""

    units: tuple[str, ...]  # allowed units, the first is the default
    keys: Mapping[Any, Any]  # keys a version may change
    fixed_keys: Mapping[Any, Any] = field(default_factory=dict)  # same in every version
    check: Callable[[dict[str, Any]], None] | None = None  # raises vol.Invalid with paths


def _key(part: Any) -> Any:
    return getattr(part, "schema", part)


def entry_schema(spec: EntrySpec) -> Callable[[Any], dict[str, Any]]:
    """The validator of one entry of a type, with ``versions`` merged and checked."""
    full = cv.Strict({
        **COMMON_KEYS,
        vol.Optional("unit", default=spec.units[0]): cv.one_of(*spec.units),
        **spec.fixed_keys,
        **VERSIONED_COMMON,
        **spec.keys,
    })
    versioned = set(cv.keys_of(spec.keys)) | set(cv.keys_of(VERSIONED_COMMON))
    fixed = set(cv.keys_of(full.schema)) - versioned

    def _own_errors(base: Mapping[str, Any]) -> set[tuple[tuple[Any, ...], str]]:
        """The mistakes the base entry makes on its own, without any version."""
        try:
            alone = full(dict(base))
            if spec.check is not None:
                spec.check(alone)
        except vol.Invalid as err:
            return {(tuple(_key(part) for part in single.path), single.error_message)
                    for single in cv.flatten_invalid(err)}
        return set()

    def _validate(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise vol.Invalid(Text("tariffs.entry_map", value=cv.show_value(value)))
        base = {key: item for key, item in value.items() if key != "versions"}
        errors: dict[tuple[tuple[Any, ...], str], vol.Invalid] = {}
        items: list[Mapping[str, Any] | None] = [None]
        if "versions" in value:
            items = list(_version_items(value["versions"], base, versioned, fixed, errors))
        results: list[dict[str, Any] | None] = []
        # errors at keys a version takes from the base entry, with the versions that have them
        inherited: dict[tuple[tuple[Any, ...], str], list[tuple[int, vol.Invalid]]] = {}
        for index, item in enumerate(items):
            try:
                version: dict[str, Any] = full({**base, **(item or {})})
                if spec.check is not None:
                    spec.check(version)
                results.append(version)
            except vol.Invalid as err:
                results.append(None)
                for single in cv.flatten_invalid(err):
                    top = _key(single.path[0]) if single.path else None
                    if item is not None and (top in item or top not in base):
                        single.prepend(["versions", index])
                    path = tuple(_key(part) for part in single.path)
                    if item is not None and not (top in item or top not in base):
                        inherited.setdefault((path, single.error_message), []).append(
                            (index, single))
                    else:
                        errors.setdefault((path, single.error_message), single)
        own = _own_errors(base) if inherited else set()
        for key, found in inherited.items():
            if len(found) == len(items) or key in own:  # the base entry's own mistake
                errors.setdefault(key, found[0][1])
                continue
            for index, single in found:  # only where a version's own keys meet the base
                single.prepend(["versions", index])
                errors.setdefault((tuple(_key(part) for part in single.path),
                                   single.error_message), single)
        for single in _check_dates(results, "versions" in value):
            errors.setdefault((tuple(single.path), single.error_message), single)
        if errors:
            raise vol.MultipleInvalid(list(errors.values()))
        valid = [result for result in results if result is not None]
        head = dict(valid[0])
        head["versions"] = valid
        return head

    return _validate


def _version_items(raw: Any, base: Mapping[str, Any], versioned: set[str], fixed: set[str],
                   errors: dict[tuple[tuple[Any, ...], str], vol.Invalid],
                   ) -> list[Mapping[str, Any]]:
    def fail(path: list[Any], message: str) -> vol.Invalid:
        return errors.setdefault((tuple(path), message), vol.Invalid(message, path=path))

    for key in ("valid_from", "valid_until"):
        if key in base:
            fail([key], f"with versions, each version gives its own {key}, got {base[key]}")
    if not isinstance(raw, list) or not raw:
        fail(["versions"], "expected a list of price versions, each with valid_from")
        return []
    allowed = sorted(versioned | set(VERSION_ONLY))
    items: list[Mapping[str, Any]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            fail(["versions", index], f"expected a mapping, got {cv.show_value(item)}")
            continue
        if "valid_from" not in item:
            fail(["versions", index, "valid_from"], "required key is missing")
        for key in list(item):
            if key in VERSION_ONLY or key in versioned:
                continue
            item = {k: v for k, v in item.items() if k != key}  # reported: left out
            if key in fixed:
                fail(["versions", index, key], f"'{key}' cannot change between versions "
                     f"(write it once, above versions), got {cv.show_value(raw[index][key])}")
            else:
                unknown = fail(["versions", index, key], "extra keys not allowed")
                setattr(unknown, "allowed_keys", allowed)  # noqa: B010 (read by the core)
        items.append(item)
    return items


def _check_dates(results: list[dict[str, Any] | None], versions: bool) -> list[vol.Invalid]:
    """Validity dates of the versions that validated (None: one that did not, skipped)."""
    errors: list[vol.Invalid] = []
    previous: dict[str, Any] | None = None
    for index, version in enumerate(results):
        if version is None:
            previous = None  # its dates are unknown: nothing to compare the next one with
            continue
        where: list[Any] = ["versions", index] if versions else []
        start: date | None = version.get("valid_from")
        until: date | None = version.get("valid_until")
        if start is not None and until is not None and until < start:
            errors.append(vol.Invalid(Text("tariffs.until_before_from", start=start, until=until),
                                      path=[*where, "valid_until"]))
        before: date | None = previous.get("valid_from") if previous else None
        if previous is not None and start is not None and before is not None:
            if start <= before:
                errors.append(vol.Invalid(
                    Text("tariffs.version_order", before=before, start=start),
                    path=[*where, "valid_from"]))
            elif previous.get("valid_until") is not None and previous["valid_until"] >= start:
                errors.append(vol.Invalid(
                    Text("tariffs.version_overlap", start=start, until=previous["valid_until"]),
                    path=["versions", index - 1, "valid_until"]))
            elif previous.get("valid_until") is not None \
                    and previous["valid_until"] + ONE_DAY < start:
                errors.append(vol.Invalid(
                    Text("tariffs.version_gap", first=previous["valid_until"] + ONE_DAY,
                         last=start - ONE_DAY, start=start, until=previous["valid_until"]),
                    path=["versions", index - 1, "valid_until"]))
        previous = version
    return errors
