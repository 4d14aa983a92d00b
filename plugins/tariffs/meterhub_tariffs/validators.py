"""Validators of tariff YAML: prices, fees, month-days and tier tables."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import MAX_BANDS, MAX_TIERS

_LOGGER = logging.getLogger(__name__)

_MONTH_DAY_RE = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
DAY_SECONDS = 86400


def clock(value: Any, *, end: bool = False) -> int:
    """A local time of day 'HH:MM[:SS]' as seconds after midnight ('24:00' only as an end).

    YAML 1.1 reads unquoted 10:00 as the base-60 number 600 and 10:00:00 as 36000; both are
    understood (an hour of 1 or more makes HH:MM:SS at least 3600, HH:MM at most 1440).
    """
    seconds: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value * 60 if value <= 24 * 60 else value
    elif isinstance(value, str):
        match = _CLOCK_RE.match(value.strip())
        if match and int(match[2]) < 60 and int(match[3] or 0) < 60:
            seconds = int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3] or 0)
    limit = DAY_SECONDS if end else DAY_SECONDS - 1
    if seconds is None or not 0 <= seconds <= limit:
        example = "'08:00' (or '24:00' for the end of the day)" if end else "'08:00'"
        raise vol.Invalid(Text("tariffs.time_of_day", example=example,
                               value=cv.show_value(value)))
    return seconds


def clock_end(value: Any) -> int:
    """An end time of day; '24:00' is midnight at the end of the day."""
    return clock(value, end=True)


def show_clock(seconds: int) -> str:
    """'08:00' or '08:00:30'."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def price(value: Any) -> Decimal:
    """A unit price in yuan (any number of decimals), never negative."""
    number = cv.decimal(value)
    if number < 0:
        raise vol.Invalid(Text("tariffs.price_negative", value=number))
    return number


def fee(value: Any) -> Decimal:
    """A fixed amount in yuan with at most 2 decimals, never negative."""
    amount = cv.money(value)
    if amount < 0:
        raise vol.Invalid(Text("tariffs.amount_negative", value=amount))
    return amount


def threshold(value: Any) -> Decimal:
    """A tier threshold: a quantity above 0."""
    number = cv.decimal(value)
    if number <= 0:
        raise vol.Invalid(Text("tariffs.quantity", value=number))
    return number


def month_day(value: Any) -> tuple[int, int]:
    """A day of the year written 'MM-DD' (quote it in YAML: "07-01")."""
    match = _MONTH_DAY_RE.match(cv.string(value).strip())
    if match:
        month, day = int(match[1]), int(match[2])
        try:
            date(2001, month, day)  # a common year: 02-29 is not a yearly start
        except ValueError:
            pass
        else:
            return month, day
    raise vol.Invalid(Text("tariffs.month_day", value=cv.show_value(value)))


def band_prices(value: Any) -> dict[str, Decimal]:
    """Prices by band name (sharp, peak, flat, valley or any name), 1 to 63 bands."""
    prices: dict[str, Decimal] = vol.Schema({cv.slug: price})(value)
    if not prices:
        raise vol.Invalid(Text("tariffs.no_bands"))
    if len(prices) > MAX_BANDS:
        raise vol.Invalid(Text("tariffs.bands_max", limit=MAX_BANDS, count=len(prices)))
    return prices


_BAD = object()  # a threshold that did not validate (reported by the item's own error)


def _bounds(value: Any) -> list[Any]:
    """Each raw tier's threshold: a Decimal, None when it has none, _BAD when invalid."""
    if not isinstance(value, list):
        return []
    out: list[Any] = []
    for tier in value:
        if not isinstance(tier, dict) or tier.get("up_to") is None:
            out.append(None if isinstance(tier, dict) else _BAD)
            continue
        try:
            out.append(threshold(tier["up_to"]))
        except vol.Invalid:
            out.append(_BAD)
    return out


def _order(bounds: list[Any]) -> list[vol.Invalid]:
    """Thresholds rise, every tier but the last has one, the last has none."""
    errors: list[vol.Invalid] = []
    previous: Decimal | None = None
    for index, bound in enumerate(bounds):
        if bound is _BAD:
            continue
        last = index == len(bounds) - 1
        if last and bound is not None:
            errors.append(vol.Invalid(
                Text("tariffs.last_open", bound=bound), path=[index, "up_to"]))
        elif not last and bound is None:
            errors.append(vol.Invalid(
                Text("tariffs.up_to_needed"), path=[index]))
        elif bound is not None and previous is not None and bound <= previous:
            errors.append(vol.Invalid(
                Text("tariffs.tier_order", previous=previous, bound=bound),
                path=[index, "up_to"]))
        previous = bound if bound is not None else previous
    return errors


def tiers(price_key: str) -> Callable[[Any], list[dict[str, Any]]]:
    """A tier table: ``[{up_to: 2880, <price_key>: ...}, ..., {<price_key>: ...}]``."""
    item = cv.Strict({vol.Optional("up_to"): threshold, vol.Required(price_key): price})
    items = cv.ListOf(item)

    def _validate(value: Any) -> list[dict[str, Any]]:
        return _table(items, value)

    return _validate


def surcharge(value: Any) -> Decimal | dict[str, Decimal]:
    """A tier surcharge: one number for every band, or a number per band ``{peak: 0.06}``."""
    if isinstance(value, dict):
        by_band: dict[str, Decimal] = vol.Schema({cv.slug: price})(value)
        if not by_band:
            raise vol.Invalid(Text("tariffs.surcharge_per_band"))
        return by_band
    return price(value)


def surcharge_tiers(value: Any) -> list[dict[str, Any]]:
    """Tier surcharges on band prices: ``[{up_to: 3120, surcharge: 0}, {up_to: 4800,
    surcharge: {peak: 0.06, valley: 0.03}, crossing: 0.05}, {prices: {peak: 0.977, ...}}]``.

    Each tier gives ``surcharge`` (a number or one per band) or ``prices`` (the tier's price
    per band); ``crossing`` is its flat surcharge in the month its threshold is crossed.
    """
    item = cv.Strict({vol.Optional("up_to"): threshold,
                      vol.Optional("surcharge"): surcharge,
                      vol.Optional("prices"): band_prices,
                      vol.Optional("crossing"): price})
    table = _table(cv.ListOf(item), value)
    errors: list[vol.Invalid] = []
    for index, tier in enumerate(table):
        given = [key for key in ("surcharge", "prices") if key in tier]
        if len(given) != 1:
            errors.append(vol.Invalid(
                Text("tariffs.surcharge_not_both" if given else "tariffs.surcharge_or_prices"),
                path=[index]))
    if errors:
        raise vol.MultipleInvalid(errors)
    return table


def _table(items: Callable[[Any], list[dict[str, Any]]], value: Any) -> list[dict[str, Any]]:
    """A validated tier list with its thresholds in order (every mistake in one pass)."""
    try:
        table: list[dict[str, Any]] = items(value)
    except vol.Invalid as err:  # the order of the thresholds that are valid, too
        raise vol.MultipleInvalid([*cv.flatten_invalid(err), *_order(_bounds(value))]) \
            from None
    if not table:
        raise vol.Invalid(Text("tariffs.no_tiers"))
    if len(table) > MAX_TIERS:
        raise vol.Invalid(Text("tariffs.tiers_max", limit=MAX_TIERS, count=len(table)))
    errors = _order([tier.get("up_to") for tier in table])
    if errors:
        raise vol.MultipleInvalid(errors)
    return table
