"""Tariffs from YAML: the ``tariffs:`` and ``calendar:`` blocks, the TariffBook, the quote CLI.

A core plugin. Each ``tariffs:`` entry is validated by the schema of its ``type`` (a
registered tariff type); meters must name an existing tariff whose unit suits them. Billing
finds tariffs through the ``tariffs`` component: ``hub.component("tariffs", TariffBook)``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import voluptuous as vol

from .. import validation as cv
from ..events import EVENT_CALENDAR_UNKNOWN_YEAR
from ..hookspecs import hookimpl
from ..i18n import Joined, Text, localize, text_of
from ..metering.config import meter_kind
from ..util.calendar import CALENDAR_SCHEMA, Calendar, holidays_version, newest_official_year
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .periods import ONE_DAY, BillPeriod, anchor, local_midnight, period_of
from .tariff import ChargeLine, Occupancy, Tariff, TariffError, TierHistory, Usage, round_fen

if TYPE_CHECKING:
    from ..config import HubConfig
    from ..core import Hub
    from ..plugins import Registries, Registry

_LOGGER = logging.getLogger(__name__)

KIND_UNITS = {"electricity": "kWh", "water": "m3"}



def tariffs_schema(registries: Registries) -> Any:
    """A list of tariff entries (or a mapping id: entry), each checked by its type's schema."""
    head = vol.Schema({vol.Required("id"): cv.identifier, vol.Required("type"): cv.string},
                      extra=vol.ALLOW_EXTRA)

    def _entry(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise vol.Invalid(Text("billing.tariff_entry", value=cv.show_value(value)))
        name = head(value)["type"]
        tariff_type = registries.tariff_types.get(name)
        if tariff_type is None:
            known = ", ".join(registries.tariff_types.names()) or Text("billing.none_loaded")
            raise vol.Invalid(Text("billing.tariff_type", known=known, value=cv.show_value(name)),
                              path=["type"])
        schema = tariff_type.schema()
        result: dict[str, Any] = (schema if callable(schema) else vol.Schema(schema))(value)
        return result

    as_list = cv.ListOf(_entry, unique="id")

    def _validate(value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, Mapping):
            result: list[dict[str, Any]] = as_list(value)
            return result
        entries: list[dict[str, Any]] = []
        errors: list[vol.Invalid] = []
        for key, item in value.items():
            if isinstance(item, Mapping) and item.get("id", key) != key:
                errors.append(vol.Invalid(Text("billing.tariff_id_key", key=key,
                                               value=cv.show_value(item["id"])), path=[key, "id"]))
                continue
            try:
                entries.append(_entry({"id": key, **item} if isinstance(item, Mapping)
                                      else item))
            except vol.Invalid as err:
                for single in cv.flatten_invalid(err):
                    single.prepend([key])
                    errors.append(single)
        if errors:
            raise vol.MultipleInvalid(errors)
        return entries

    return _validate


def check_meters(config: Mapping[str, Any],
                 registries: Registries) -> list[tuple[list[Any], str]]:
    """A meter's ``tariff`` must exist and suit it; a meter without one is billing's concern."""
    problems: list[tuple[list[Any], str]] = []
    tariffs = {entry["id"]: entry for entry in config.get("tariffs") or []}
    rules = config.get("tariff_defaults") or []
    for index, rule in enumerate(rules):
        if rule["tariff"] not in tariffs:
            known = ", ".join(sorted(tariffs)) or "none configured"
            problems.append((["tariff_defaults", index, "tariff"],
                             f"unknown tariff '{rule['tariff']}' (tariffs: {known})"))
    for index, meter in enumerate(config.get("meters") or []):
        model = getattr(meter, "model", None) or registries.meter_models.get(
            meter.get("model", ""))
        kind = meter_kind(meter, registries) or ""
        tariff_id = meter.get("tariff") or default_tariff(meter, kind, rules)
        if tariff_id is None:
            continue  # not billed here: charging reports it (billing_error) if it must be
        where = ["meters", index, "tariff"] if meter.get("tariff") else ["meters", index]
        entry = tariffs.get(tariff_id)
        if entry is None:
            known = ", ".join(sorted(tariffs)) or "none configured"
            problems.append((where, f"unknown tariff '{tariff_id}' (tariffs: {known})"))
            continue
        if model is None:
            continue
        unit = KIND_UNITS.get(kind)
        if unit is not None and unit != entry["unit"]:
            problems.append((where,
                             f"tariff '{tariff_id}' is priced per {entry['unit']}, but model "
                             f"'{model.name}' measures {kind} ({unit})"))
            continue
        tariff_type = registries.tariff_types.get(entry["type"])
        needs = getattr(tariff_type, "needs_meter_registers", None)
        capabilities = {str(c) for c in getattr(model, "capabilities", ())}
        if callable(needs) and needs(entry) and "tou" not in capabilities:
            problems.append((where,
                             f"tariff '{tariff_id}' prices the meter's own TOU registers, but "
                             f"model '{model.name}' keeps none"))
    return problems


DEFAULTS_SCHEMA = cv.ListOf(cv.Strict({
    vol.Required("tariff"): cv.identifier,
    vol.Optional("kind"): cv.one_of("electricity", "water"),
    vol.Optional("tags", default={}): vol.Schema({cv.slug: cv.string}),
    vol.Optional("accounts", default=[]): cv.ListOf(cv.identifier, allow_single=True),
}))


def default_tariff(meter: Mapping[str, Any], kind: str,
                   rules: Sequence[Mapping[str, Any]]) -> str | None:
    """The first ``tariff_defaults`` rule that fits a meter without its own ``tariff``:
    its kind, every tag it names, and (if it lists accounts) the meter's account."""
    tags = meter.get("tags") or {}
    for rule in rules:
        if rule.get("kind") and rule["kind"] != kind:
            continue
        if any(tags.get(key) != value for key, value in rule["tags"].items()):
            continue
        if rule["accounts"] and meter.get("account") not in rule["accounts"]:
            continue
        return str(rule["tariff"])
    return None


class TariffBook:
    """Every configured tariff, built once, by id; and which one a meter uses."""

    def __init__(self, entries: Sequence[Mapping[str, Any]], types: Registry[Any],
                 calendar: Calendar, defaults: Sequence[Mapping[str, Any]] = (),
                 kind_of: Callable[[Mapping[str, Any]], str] | None = None) -> None:
        self.calendar = calendar
        self.defaults = list(defaults)
        self._kind_of = kind_of or (lambda meter: "")
        self._tariffs: dict[str, Tariff] = {}
        for entry in entries:
            tariff_type = types.get(entry["type"])
            if tariff_type is None:
                raise TariffError(Text("billing.tariff_unknown_type", tariff=entry["id"],
                                       type=entry["type"]))
            self._tariffs[entry["id"]] = tariff_type.create(entry, calendar)

    @classmethod
    def from_config(cls, config: HubConfig, registries: Registries) -> TariffBook:
        """Build from a validated configuration."""
        calendar = Calendar.from_config(config.block("calendar"), config.time_zone)

        def kind_of(meter: Mapping[str, Any]) -> str:
            return meter_kind(meter, registries) or ""

        return cls(config.block("tariffs") or [], registries.tariff_types, calendar,
                   config.block("tariff_defaults") or [], kind_of)

    def get(self, tariff_id: str) -> Tariff:
        """The tariff with this id; TariffError naming the known ones if there is none."""
        tariff = self._tariffs.get(tariff_id)
        if tariff is None:
            known = ", ".join(sorted(self._tariffs)) or Text("billing.none_configured")
            raise TariffError(Text("billing.unknown_tariff", tariff=tariff_id, known=known))
        return tariff

    def for_meter(self, meter: Mapping[str, Any]) -> Tariff:
        """A meter's tariff: its own ``tariff``, else the first fitting ``tariff_defaults``
        rule; TariffError when neither gives one (never a silent price)."""
        tariff_id = meter.get("tariff") or default_tariff(meter, self._kind_of(meter),
                                                          self.defaults)
        if tariff_id is None:
            raise TariffError(Text("billing.meter_no_tariff", meter=meter.get("id")))
        return self.get(tariff_id)

    def ids(self) -> list[str]:
        """Every tariff id, sorted."""
        return sorted(self._tariffs)

    def __contains__(self, tariff_id: object) -> bool:
        return tariff_id in self._tariffs

    def __iter__(self) -> Iterator[Tariff]:
        return iter(self._tariffs.values())

    def __len__(self) -> int:
        return len(self._tariffs)


@hookimpl
def config_schema(registries: Registries) -> dict[str, Any]:
    """Claim ``tariffs`` and ``calendar``."""
    return {"tariffs": tariffs_schema(registries), "calendar": CALENDAR_SCHEMA,
            "tariff_defaults": DEFAULTS_SCHEMA}


@hookimpl
def check_config(config: dict[str, Any], registries: Registries) -> list[tuple[list[Any], str]]:
    """Meters name existing tariffs that suit them."""
    return check_meters(config, registries)


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """``meterhub tariff quote TARIFF_ID --intervals FILE.csv [--period START:END]``."""
    tariff = subparsers.add_parser("tariff", help="check a tariff by hand: quote usage")
    actions = tariff.add_subparsers(dest="tariff_command", metavar="quote", required=True)
    quote = actions.add_parser(
        "quote", help="price interval usage with a tariff; prints JSON lines and the total")
    quote.add_argument("tariff_id", metavar="TARIFF_ID")
    quote.add_argument("--intervals", required=True, type=Path, metavar="FILE.csv",
                       help="rows start,end,kwh (ISO local times); optional columns t1..t63 "
                            "for register-based tariffs")
    quote.add_argument("--used", action=_Checked, parse=_used_arg, metavar="QUANTITY",
                       default=Decimal(0),
                       help="already used in the tier period of the first interval")
    quote.add_argument("--period", action=_Checked, parse=_period_arg, metavar="START:END",
                       help="the bill period (dates, END its last day, up to a year of bill "
                            "months): adds each month's fixed fees and minimum charge as a "
                            "bill does")
    quote.add_argument("--move-in", action=_Checked, parse=_date_arg, metavar="DATE",
                       help="with --period: the tenant's move-in (pro-rates fees, minimum "
                            "and tier thresholds)")
    quote.add_argument("--move-out", action=_Checked, parse=_date_arg, metavar="DATE",
                       help="with --period: the tenant's last day (pro-rates as --move-in)")
    quote.add_argument("-c", "--config", metavar="HUB_YAML", help="configuration file")
    quote.set_defaults(func=cmd_quote)


@hookimpl
def setup(hub: Hub) -> None:
    """Build the TariffBook for billing; a priced date in a year the calendar does not know
    raises an alarm (``calendar_unknown_year``, a landlord notice), not only a log line."""
    book = TariffBook.from_config(hub.config, hub.plugins.registries)
    loop = asyncio.get_running_loop()

    def unknown_year(year: int) -> None:
        hub.bus.fire_threadsafe(loop, EVENT_CALENDAR_UNKNOWN_YEAR, {
            "year": year, "newest_known": newest_official_year(),
            "holidays_version": holidays_version()})

    book.calendar.on_unknown_year = unknown_year
    hub.add_component("tariffs", book)
    _LOGGER.debug("Tariffs: %s", ", ".join(book.ids()) or "none")


class QuoteError(Exception):
    """A usage file that cannot be read; the message names file and line."""


_REGISTER_COLUMN = re.compile(r"^(?:energy_import_)?t(\d{1,2})$")
_QUANTITY_COLUMNS = ("kwh", "m3", "quantity")
# more than any meter counts in one interval: a typo, or a number in another unit
_MAX_QUANTITY = Decimal("1e9")


def _used_arg(text: str) -> Decimal:
    return _quantity(text, "--used")


class _Checked(argparse.Action):
    """An option read by ``parse``; its refusal is worded in the site's language."""

    def __init__(self, *args: Any, parse: Callable[[str], Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parse = parse

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        try:
            setattr(namespace, self.dest, self.parse(values))
        except ValueError as err:
            parser.error(Text("billing.quote_argument", name=option_string,
                              reason=text_of(err)))


def _quantity(text: str, name: str) -> Decimal:
    """A quantity of usage: a finite number from 0 up to a billion; ValueError naming it."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(Text("billing.quantity_nan", name=name, text=text)) from None
    if not value.is_finite():
        raise ValueError(Text("billing.quantity_infinite", name=name, text=text))
    if value < 0:
        raise ValueError(Text("billing.quantity_negative", name=name, text=text))
    if value > _MAX_QUANTITY:
        raise ValueError(Text("billing.quantity_huge", name=name, text=text,
                              limit=f"{_MAX_QUANTITY:,f}"))
    return value


def _known_column(name: str) -> bool:
    return name in ("start", "end", *_QUANTITY_COLUMNS) or bool(_REGISTER_COLUMN.match(name))


def read_intervals(path: Path, tz: tzinfo) -> list[Usage]:
    """Read ``start,end,kwh`` rows (a header is optional; naive times are site-local)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except OSError as err:
        raise QuoteError(Text("billing.quote_file", path=path,
                              reason=err.strerror or err)) from None
    columns = ["start", "end", "quantity"]
    usage: list[Usage] = []
    for line, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        while cells and not cells[-1]:
            cells.pop()  # trailing empty cells (a spreadsheet's export)
        if not cells or cells[0].startswith("#"):
            continue
        if not usage and line == _first_line(rows) and not cells[0][:1].isdigit():
            names = [cell.lower() for cell in cells]
            unknown = [cell for cell, name in zip(cells, names, strict=True)
                       if not _known_column(name)]
            if unknown or "start" not in names or "end" not in names:
                raise QuoteError(
                    Text("billing.quote_header_unknown", path=path, line=line,
                         columns=", ".join(map(repr, unknown))) if unknown
                    else Text("billing.quote_header_start_end", path=path, line=line))
            columns = names
            continue
        if len(cells) > len(columns):
            raise QuoteError(Text("billing.quote_columns", path=path, line=line,
                                  count=len(cells), columns=len(columns),
                                  names=",".join(columns)))
        try:
            usage.append(_usage(dict(zip(columns, cells, strict=False)), tz, line))
        except (ValueError, InvalidOperation) as err:
            raise QuoteError(Text("billing.quote_line", path=path, line=line,
                                  reason=text_of(err))) from None
    if not usage:
        raise QuoteError(Text("billing.quote_no_rows", path=path))
    usage.sort(key=lambda item: (item.start, item.end))
    for before, after in pairwise(usage):
        if after.start < before.end:
            raise QuoteError(Text(
                "billing.quote_overlap", path=path, row=after.sources[0],
                start=after.start.isoformat(), end=after.end.isoformat(),
                other=before.sources[0], other_start=before.start.isoformat(),
                other_end=before.end.isoformat()))
    return usage


def _first_line(rows: list[list[str]]) -> int:
    return next((n for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)), 0)


def _usage(row: dict[str, str], tz: tzinfo, line: int) -> Usage:
    start, end = (_moment(row.get(key, ""), key, tz) for key in ("start", "end"))
    text = next((row[key] for key in _QUANTITY_COLUMNS if key in row), "")
    registers: dict[str, Decimal] = {}
    for key, value in row.items():
        match = _REGISTER_COLUMN.match(key)
        if match and value:
            registers[f"energy_import_t{int(match[1])}"] = _quantity(value, key)
    return Usage(start, end, _quantity(text, "quantity"), registers,
                 (Text("billing.quote_row", line=line),))


def _moment(text: str, name: str, tz: tzinfo) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(Text("billing.quote_time", name=name, text=text)) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


class _QuoteHistory:
    """``--used``: what the tier period of the first row used before it (and before its
    month: a quote's rows start their month); later tier periods start from nothing."""

    def __init__(self, used: Decimal) -> None:
        self.used = used
        self.first: date | None = None

    def __call__(self, period_start: date) -> Decimal:
        if self.first is None:
            self.first = period_start
        return self.used if period_start == self.first else Decimal(0)

    def before(self, period_start: date, _month: date) -> Decimal:
        """What the period used before the month (the same: the rows start their month)."""
        return self(period_start)


def _history(used: Decimal) -> TierHistory:
    return _QuoteHistory(used)


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(Text("billing.quote_date", text=text)) from None


MAX_QUOTE_MONTHS = 12  # a year of bill months: every tier period of a yearly tariff


def _period_arg(text: str) -> BillPeriod:
    """``START:END`` (ISO dates, END the period's last day) as a bill period (a year at most)."""
    start_text, sep, end_text = text.partition(":")
    if not sep:
        raise ValueError(Text("billing.quote_period_form", text=text))
    start, last = _date_arg(start_text.strip()), _date_arg(end_text.strip())
    # the longest period from ``start``: settlement day 31 from a short month's last day
    limit = max(anchor(start.year, start.month + MAX_QUOTE_MONTHS, day) - ONE_DAY
                for day in range(start.day, 32)
                if anchor(start.year, start.month, day) == start)
    if not start <= last <= limit:
        raise ValueError(Text("billing.quote_period_long", months=MAX_QUOTE_MONTHS,
                              start=start, limit=limit, last=last))
    return BillPeriod(start, last + ONE_DAY)


def settlement_day_of(period: BillPeriod) -> int:
    """The settlement day a quoted period stands for: the one whose bill months from its
    start end on its last day (30 June – 30 July: 31), else the day of its start."""
    start = period.start
    for day in range(start.day, 32):
        if anchor(start.year, start.month, day) == start and any(
                anchor(start.year, start.month + months, day) == period.end
                for months in range(1, MAX_QUOTE_MONTHS + 1)):
            return day
    return start.day


def bill_months(period: BillPeriod, settlement_day: int) -> list[BillPeriod]:
    """The bill periods a quoted period holds, the last one cut at its end."""
    out: list[BillPeriod] = []
    current = period_of(period.start, settlement_day)
    while current.start < period.end:
        out.append(BillPeriod(max(current.start, period.start), min(current.end, period.end)))
        current = period_of(current.end, settlement_day)
    return out


def usage_in_period(usage: Sequence[Usage], period: BillPeriod, tz: tzinfo) -> list[Usage]:
    """The part of each usage inside the bill period, split as charging splits a reading.

    A usage wholly outside the period is an error (it belongs to another bill).
    """
    from .charging import slice_usage

    start, end = local_midnight(period.start, tz), local_midnight(period.end, tz)
    out: list[Usage] = []
    for item in usage:
        if not (item.start < end and (item.end > start or item.start == start)):
            raise QuoteError(Text(
                "billing.quote_outside", row=Joined(item.sources) if item.sources
                else Text("billing.quote_a_row"), start=item.start.isoformat(),
                end=item.end.isoformat(), first=period.start, last=period.last_day))
        out.append(slice_usage(item, start, end))
    return out


class _RunningHistory:
    """``--used`` plus what the quote's earlier bill months used (by month, as charging
    keeps it), for a quote that prices its months one by one."""

    def __init__(self, base: TierHistory, tier_period: str | None, tz: tzinfo) -> None:
        from .charging import TierUsage

        self.base = base
        self.tier_period = tier_period
        self.usage = TierUsage({}, tz)

    def __call__(self, period_start: date) -> Decimal:
        return self.base(period_start) + self.usage.history(self.tier_period)(period_start)

    def before(self, period_start: date, month: date) -> Decimal:
        """What the tier period used before ``month``."""
        earlier: Any = self.usage.history(self.tier_period)
        used: Decimal = self.base(period_start) + earlier.before(period_start, month)
        return used


def _rows(lines: Sequence[ChargeLine], month: BillPeriod | None) -> list[dict[str, Any]]:
    return [{
        "component": line.component, "key": line.key, "quantity": _plain(line.quantity),
        "unit": line.unit, "unit_price": str(line.unit_price),
        "amount": str(round_fen(line.amount)),
        "price_from": line.price_from.isoformat() if line.price_from else None,
        **({"period": month.start.isoformat()} if month is not None else {}),
    } for line in lines]


def _with_fees(tariff: Tariff, lines: list[ChargeLine], period: BillPeriod,
               settlement_day: int, occupancy: Occupancy | None) -> list[ChargeLine]:
    from .bills import period_fees

    fees, minimum = period_fees(tariff, period, settlement_day, occupancy, lines)
    return [*lines, *fees, *([minimum] if minimum is not None else [])]


def quote(tariff: Tariff, usage: Sequence[Usage], history: TierHistory | None = None, *,
          period: BillPeriod | None = None,
          occupancy: Occupancy | None = None) -> dict[str, Any]:
    """Price usage and round each line half-up to the fen: what ``tariff quote`` prints.

    With ``period``, each bill month's fixed fees and minimum charge follow its usage lines,
    as a bill has them (pro-rated by ``occupancy``, which also pro-rates tier thresholds); a
    period of several bill months prices them one after the other, tiers counting on, each
    line naming its month.
    """
    base = history or _history(Decimal(0))
    result: dict[str, Any] = {"tariff": tariff.id, "type": tariff.type, "unit": tariff.unit}
    if period is None:
        priced = tariff.charges(usage, history=base, occupancy=occupancy)
        rows = _rows(priced, None)
        total = sum((round_fen(line.amount) for line in priced), Decimal("0.00"))
        return {**result, "lines": rows, "total": str(total)}
    from .charging import slice_usage

    day = settlement_day_of(period)
    months = bill_months(period, day)
    tz = usage[0].start.tzinfo if usage else None
    running = _RunningHistory(base, getattr(tariff, "tier_period", None), tz or ZoneInfo("UTC"))
    rows, totals = [], []
    for month in months:
        sliced: list[Usage] = []
        if tz is not None:
            start, end = local_midnight(month.start, tz), local_midnight(month.end, tz)
            sliced = [slice_usage(item, start, end) for item in usage
                      if item.start < end and (item.end > start or item.start == start)]
        lines = tariff.charges(sliced, history=running, occupancy=occupancy)
        for item in sliced:
            running.usage.add(item, 1)
        lines = _with_fees(tariff, lines, month, day, occupancy)
        rows.extend(_rows(lines, month if len(months) > 1 else None))
        totals.append((month, sum((round_fen(line.amount) for line in lines),
                                  Decimal("0.00"))))
    result["period"] = {
        "start": period.start.isoformat(), "end": period.last_day.isoformat(),
        "move_in": occupancy.move_in.isoformat() if occupancy and occupancy.move_in else None,
        "move_out": occupancy.move_out.isoformat() if occupancy and occupancy.move_out
        else None}
    if len(months) > 1:
        result["months"] = [{"start": month.start.isoformat(),
                             "end": month.last_day.isoformat(), "total": str(amount)}
                            for month, amount in totals]
    total = sum((amount for _month, amount in totals), Decimal("0.00"))
    return {**result, "lines": rows, "total": str(total)}


def _quote_config(path: str | None, folder: Path) -> str | None:
    """The hub.yaml to quote from: ``path`` itself, or — when it holds a list of tariffs (a
    file hub.yaml includes) — a hub.yaml written in ``folder`` that includes it."""
    from ..config import read

    if path is None or not Path(path).is_file():
        return path
    raw, _ctx = read(Path(path))
    if not isinstance(raw, list):
        return path
    hub_yaml = folder / "hub.yaml"
    hub_yaml.write_text(f"tariffs: !include {json.dumps(str(Path(path).resolve()))}\n",
                        encoding="utf-8")
    return str(hub_yaml)


def _occupancy(period: BillPeriod | None, move_in: date | None,
               move_out: date | None) -> Occupancy | None:
    """The tenant's occupancy from --move-in / --move-out (which need --period)."""
    if move_in is None and move_out is None:
        return None
    if period is None:
        raise QuoteError(Text("billing.quote_period_needed"))
    if move_in is not None and move_out is not None and move_out < move_in:
        raise QuoteError(Text("billing.quote_move_order", move_in=move_in, move_out=move_out))
    if (move_in is not None and move_in > period.last_day) or (
            move_out is not None and move_out < period.start):
        raise QuoteError(Text("billing.quote_away", move_in=move_in or "-",
                              move_out=move_out or "-", start=period.start,
                              last=period.last_day))
    return Occupancy(move_in, move_out)


def cmd_quote(args: argparse.Namespace) -> int:
    """Print the priced lines of a usage file as JSON; problems give a reason and exit 1.

    ``-c`` names a hub.yaml, or a file of tariffs alone (a list, like config/tariffs.yaml)."""
    from ..bootstrap import prepare
    from ..util.jsonutil import dumps

    with tempfile.TemporaryDirectory(prefix="meterhub-quote-") as folder:
        prepared = prepare(_quote_config(args.config, Path(folder)))
    if prepared.report_problems():
        return 1
    try:
        book = TariffBook.from_config(prepared.config, prepared.plugins.registries)
        tariff = book.get(args.tariff_id)
        tz = ZoneInfo(prepared.config.time_zone)
        usage = read_intervals(args.intervals, tz)
        period: BillPeriod | None = args.period
        occupancy = _occupancy(period, args.move_in, args.move_out)
        if period is not None:
            usage = usage_in_period(usage, period, tz)
        result = quote(tariff, usage, _history(args.used), period=period, occupancy=occupancy)
    except (TariffError, QuoteError) as err:
        print(localize(Text("cli.error", message=text_of(err)), prepared.config.language),
              file=sys.stderr)
        return 1
    print(dumps(result, indent=2))
    return 0
