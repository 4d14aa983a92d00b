"""Reports as tables: consumption per tag (环比/同比), arrears, receivable vs received (应收/实收).

Every report is a :class:`Table` (named columns, typed, plain rows) that the API returns as
JSON and :func:`write_table` writes as CSV (UTF-8 with BOM, so Excel opens Chinese text) or
Excel (openpyxl). Percentages are ``(value − base) / base × 100`` rounded half-up to 0.1, and
None (an empty cell) when the base is 0.

Money comes from the ledger's entries (by the time they were written, in the site's local
months): 应收 receivable = charges, shares (公摊) and fees — per-read charges of prepaid
accounts and issued postpaid bills alike — net of their reversals; 实收 received =
recharges (payments) net of their reversals; refunds and manual adjustments have their own
columns. A report reads the ledger only through :class:`LedgerView`.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..i18n import Text, localize
from ..ledger.money import account_entity_id
from ..metering.points import unit_text
from ..util.output import table_format
from .analysis.base import (
    KIND_REGISTERS,
    UNIT_OF_KIND,
    ZERO,
    Catalog,
    Period,
    register_for,
)

if TYPE_CHECKING:
    from ..core import States
    from ..ledger.accounts import Account
    from ..storage import Storage
    from .loss import LossRow, TagLoss
    from .sharing import Allocation

_LOGGER = logging.getLogger(__name__)

CHANGE_PLACES = Decimal("0.1")
RECEIVABLE_KINDS = ("charge", "share", "fee")
RECEIVED_KINDS = ("recharge",)
_LEDGER_KINDS = (*RECEIVABLE_KINDS, *RECEIVED_KINDS, "refund", "adjustment", "reversal")

# column type -> Excel number format (None: as is)
_FORMATS: dict[str, str | None] = {
    "text": None, "int": "0", "quantity": "0.######", "money": "0.00", "percent": "0.0#",
    "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss",
}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "tag": "Tag", "value": "Value", "month": "Month", "kind": "Kind", "unit": "Unit",
        "quantity": "Quantity", "previous": "Previous month", "mom_percent": "MoM %",
        "last_year": "Same month last year", "yoy_percent": "YoY %",
        "account_id": "Account", "name": "Name", "landlord": "Landlord",
        "building": "Building", "billing": "Billing", "balance": "Balance",
        "trip_level": "Trip level", "in_arrears": "At trip level", "since": "Below zero since",
        "overdue_since": "Overdue since", "accounts": "Accounts", "receivable": "Receivable",
        "received": "Received", "refunded": "Refunded", "adjustments": "Adjustments",
        "collection_percent": "Collected %", "advance": "Paid in advance", "meter_id": "Meter",
        "period": "Period",
        "parent_quantity": "Parent", "children_quantity": "Children", "loss": "Loss",
        "loss_percent": "Loss %", "status": "Status", "threshold": "Threshold %",
        "group": "Share group", "split": "Split", "basis": "Basis", "days": "Days",
        "weight": "Weight", "amount": "Amount", "cost": "Common cost",
        "area": "Area (m²)", "persons": "Persons", "per_m2": "Per m²",
        "per_person": "Per person", "day": "Day", "prior": "Period before",
        "year_ago": "A year before",
    },
    "zh-CN": {
        "tag": "标签", "value": "取值", "month": "月份", "kind": "类型", "unit": "单位",
        "quantity": "用量", "previous": "上月", "mom_percent": "环比%",
        "last_year": "去年同月", "yoy_percent": "同比%", "account_id": "账户",
        "name": "名称", "landlord": "房东", "building": "楼栋", "billing": "计费方式",
        "balance": "余额", "trip_level": "断电线", "in_arrears": "已到断电线",
        "since": "欠费起始", "overdue_since": "逾期起始", "accounts": "户数",
        "receivable": "应收", "received": "实收", "refunded": "退款", "adjustments": "调整",
        "collection_percent": "收缴率%", "advance": "预收", "meter_id": "表计", "period": "期间",
        "parent_quantity": "总表用量", "children_quantity": "分表合计", "loss": "损耗",
        "loss_percent": "损耗率%", "status": "状态", "threshold": "阈值%",
        "group": "公摊组", "split": "分摊方式", "basis": "分摊基数", "days": "天数",
        "weight": "权重", "amount": "金额", "cost": "公摊总额",
        "area": "面积(m²)", "persons": "人数", "per_m2": "单位面积用量",
        "per_person": "人均用量", "day": "日期", "prior": "上期", "year_ago": "去年同期",
    },
}

VALUES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "kind.electricity": "电", "kind.water": "水", "billing.prepaid": "预付费",
        "billing.postpaid": "后付费", "in_arrears.True": "是", "in_arrears.False": "否",
        "status.ok": "正常", "status.high": "偏高", "status.negative": "负损耗",
        "status.small": "用量过小", "status.no_usage": "无用量", "status.incomplete": "数据不全",
        "split.area": "按面积", "split.persons": "按人数", "split.consumption": "按用量",
        "split.equal": "平均分摊", "split.ratios": "按比例",
        "sheet.consumption": "用量", "sheet.arrears": "欠费", "sheet.receivable": "应收实收",
        "sheet.loss": "损耗", "sheet.loss_by_tag": "分组损耗", "sheet.share": "公摊",
        "report.wrote": "已将 {count} 行{title}写入 {path}", "report.no_rows": "（无数据）",
    },
    "en": {
        "report.wrote": "Wrote {count} rows of {title} to {path}", "report.no_rows": "(no rows)",
    },
}
"""Words a report's text cells hold (``column.value``) and its sheet names, per language
(English: as they are)."""


@dataclass
class Table:
    """A report: named, typed columns and rows of plain values."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    title: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: rows as objects keyed by column."""
        return {"name": self.name, "title": self.title, "columns": list(self.columns),
                "types": list(self.types),
                "rows": [dict(zip(self.columns, row, strict=True)) for row in self.rows]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Table:
        """Rebuild from :meth:`as_dict` after JSON (numbers back to Decimal, dates to dates)."""
        columns = tuple(data["columns"])
        types = tuple(data["types"])
        rows = [tuple(_parse(item.get(column), kind) for column, kind in
                      zip(columns, types, strict=True)) for item in data["rows"]]
        return cls(data["name"], columns, types, rows, data.get("title", ""))

    def column(self, name: str) -> list[Any]:
        """Every value of one column."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def _parse(value: Any, kind: str) -> Any:
    if value is None or kind == "text":
        return value
    try:
        if kind == "int":
            return int(value)
        if kind in ("quantity", "money", "percent"):
            return Decimal(str(value))
        if kind == "date":
            return date.fromisoformat(str(value))
        if kind == "datetime":
            return datetime.fromisoformat(str(value))
    except (ValueError, InvalidOperation):
        return value
    return value


def change_percent(value: Decimal, base: Decimal | None) -> Decimal | None:
    """``(value − base) / base × 100`` half-up to 0.1; None when there is no base."""
    if not base:
        return None
    return ((value - base) * 100 / base).quantize(CHANGE_PLACES, ROUND_HALF_UP)


def labels(language: str | None) -> dict[str, str]:
    """Column headings in a language (English for unknown ones)."""
    return LABELS.get(language or "en", LABELS["en"])


# --- export -----------------------------------------------------------------------------

def write_table(table: Table, path: Path, fmt: str | None = None, *,
                language: str | None = None, tz: tzinfo | None = None) -> int:
    """Write ``table`` as ``csv`` or ``xlsx`` (default: by the file's suffix); return rows.

    OutputError for an unknown format or a folder that does not exist."""
    fmt = table_format(path, fmt)
    heads = [labels(language).get(column, column) for column in table.columns]
    table = worded(table, language)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(heads)
            for row in table.rows:
                writer.writerow([_csv_cell(value, tz) for value in row])
    else:
        _write_xlsx(table, heads, path, tz)
    return len(table.rows)


def worded(table: Table, language: str | None) -> Table:
    """``table`` with its text cells (kinds, billing, statuses, splits, the usual tag names,
    units as written: ``m³``) and sheet name in ``language``'s words."""
    language = language or "en"
    words = VALUES.get(language, {})

    def word(column: str, value: Any) -> Any:
        if column == "unit" and isinstance(value, str):
            return unit_text(value)
        if column == "tag" and isinstance(value, str):
            return _tag_word(value, language)
        return words.get(f"{column}.{value}", value)
    rows = [tuple(word(column, value) if kind == "text" else value
                  for column, kind, value in zip(table.columns, table.types, row, strict=True))
            for row in table.rows]
    sheet = words.get(f"sheet.{table.name}", table.name)
    return Table(sheet, table.columns, table.types, rows, sheet if table.title else "")


def _tag_word(tag: str, language: str) -> str:
    """A usual tag's name in ``language`` (``building`` → 楼栋); another as it is."""
    text = Text(f"tag.{tag}")
    return localize(text, language) if text != text.key else tag


def _csv_cell(value: Any, tz: tzinfo | None) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_xlsx(table: Table, heads: list[str], path: Path, tz: tzinfo | None) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.name[:31] or "report")
    sheet.append(heads)
    for row in table.rows:
        cells = []
        for value, kind in zip(row, table.types, strict=True):
            if isinstance(value, datetime):
                value = (value.astimezone(tz) if tz else value).replace(tzinfo=None)
            cell = WriteOnlyCell(sheet, value)
            number_format = _FORMATS.get(kind)
            if number_format and value is not None and not isinstance(value, str):
                cell.number_format = number_format
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


# --- consumption per tag ----------------------------------------------------------------

async def consumption_report(storage: Storage, key: str, months: Sequence[Period], *,
                             kinds: Sequence[str] = ("electricity", "water")) -> Table:
    """Per value of tag ``key``, kind and month: usage, 环比 (vs the month before) and 同比
    (vs the same month a year earlier)."""
    tz = storage.tz
    meters = await storage.meters()
    values = sorted({m.tags[key] for m in meters if key in m.tags})
    rows: list[tuple[Any, ...]] = []
    if not months:
        values = []
    for value in values:
        present = [kind for kind in kinds if kind in {
            m.kind for m in meters if m.tags.get(key) == value}]
        if not present:
            continue
        found = await storage.consumption(tags={key: value},
                                          start=months[0].shift(-12).bounds(tz)[0],
                                          end=months[-1].bounds(tz)[1], resolution="month")
        monthly = {(r.start.astimezone(tz).year, r.start.astimezone(tz).month): r.values
                   for r in found}
        for kind in present:
            register = register_for(kind, found) or KIND_REGISTERS[kind][0]
            for month in months:
                current, before, last_year = (
                    _used(monthly, month, register), _used(monthly, month.previous(), register),
                    _used(monthly, month.year_before(), register))
                rows.append((key, value, month.label, kind, UNIT_OF_KIND[kind], current,
                             before, change_percent(current, before), last_year,
                             change_percent(current, last_year)))
    return Table("consumption", ("tag", "value", "month", "kind", "unit", "quantity",
                                 "previous", "mom_percent", "last_year", "yoy_percent"),
                 ("text", "text", "text", "text", "text", "quantity", "quantity", "percent",
                  "quantity", "percent"), rows, f"consumption per {key}")


def _used(monthly: Mapping[tuple[int, int], Mapping[str, Decimal]], period: Period,
          register: str) -> Decimal:
    return monthly.get((period.start.year, period.start.month), {}).get(register, ZERO)


# --- the ledger, through a small protocol --------------------------------------------------

class EntryView(Protocol):
    """What reports read of a ledger entry."""

    @property
    def account_id(self) -> str:
        """The account."""

    @property
    def kind(self) -> str:
        """The entry kind (recharge, charge, share, fee, reversal...)."""

    @property
    def time(self) -> datetime:
        """When it was written."""

    @property
    def detail(self) -> Mapping[str, Any]:
        """What produced it (a reversal says what it reversed)."""

    amount: Decimal
    balance: Decimal


class LedgerView(Protocol):
    """What reports need of the ledger (``hub.ledger.ledger.Ledger`` fits it)."""

    def balance(self, account_id: str) -> Decimal:
        """An account's committed balance."""

    def overdue_since(self, account_id: str) -> date | None:
        """The due date of an account's oldest unpaid postpaid bill."""

    async def entries(self, account_id: str, *, start: datetime | None = None,
                      end: datetime | None = None, kinds: Sequence[str] = (),
                      period: date | None = None, before: int | None = None,
                      limit: int | None = 100,
                      newest_first: bool = True) -> Sequence[EntryView]:
        """An account's entries."""


# --- arrears ---------------------------------------------------------------------------------

async def arrears_report(accounts: Mapping[str, Account], catalog: Catalog,
                         ledger: LedgerView | None, states: States | None = None) -> Table:
    """Accounts whose balance is below zero or at/below their trip level, most owed first.

    Balances come from the ledger, else from the ``account.<id>`` states.
    """
    found: list[tuple[Any, ...]] = []
    for account_id in sorted(accounts):
        account = accounts[account_id]
        balance: Decimal | None
        if ledger is not None:
            balance = ledger.balance(account_id)
        else:
            state = states.get(account_entity_id(account_id)) if states else None
            balance = _decimal(state.state) if state is not None else None
        if balance is None:
            continue
        trip = account.thresholds.trip_level
        if not (balance < 0 or balance <= trip):
            continue
        since = await _below_zero_since(ledger, account_id) if ledger and balance < 0 else None
        overdue = ledger.overdue_since(account_id) if ledger is not None else None
        found.append((account_id, account.name, account.landlord or "",
                      catalog.building_of(account_id, account.tags), account.billing, balance,
                      trip, balance <= trip, since, overdue))
    found.sort(key=lambda row: (row[5], row[0]))
    return Table("arrears", ("account_id", "name", "landlord", "building", "billing",
                             "balance", "trip_level", "in_arrears", "since", "overdue_since"),
                 ("text", "text", "text", "text", "text", "money", "money", "text",
                  "datetime", "date"), found, "arrears")


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


async def _below_zero_since(ledger: LedgerView, account_id: str,
                            page: int = 200) -> datetime | None:
    """When the balance last went from at-or-above zero to below it."""
    entries = await ledger.entries(account_id, limit=page)
    since = None
    for entry in entries:  # newest first
        if entry.balance >= 0:
            return since
        since = entry.time
        if entry.balance - entry.amount >= 0:
            return since
    return since


# --- receivable vs received ---------------------------------------------------------------

def _bucket(entry: EntryView) -> str | None:
    reversed_kind = None
    if entry.kind == "reversal":
        reversed_kind = (entry.detail.get("reversed") or {}).get("kind")
    return money_bucket(entry.kind, reversed_kind)


def money_bucket(kind: str, reversed_kind: str | None = None) -> str | None:
    """Where an entry of ``kind`` counts: receivable, received, refunded, adjustments (a
    reversal counts under the kind it undoes, ``reversed_kind``), or nowhere (None)."""
    if kind == "reversal":
        kind = str(reversed_kind) if reversed_kind else "adjustment"
    if kind in RECEIVABLE_KINDS:
        return "receivable"
    if kind in RECEIVED_KINDS:
        return "received"
    if kind == "refund":
        return "refunded"
    if kind == "adjustment":
        return "adjustments"
    return None


async def receivable_report(accounts: Mapping[str, Account], catalog: Catalog,
                            ledger: LedgerView, months: Sequence[Period],
                            tz: tzinfo) -> Table:
    """Per month (or per day, for day periods: the seed's daily income), landlord and
    building: 应收, 实收, refunds, adjustments, collected %."""
    totals: dict[tuple[str, str, str], dict[str, Decimal]] = {}
    members: dict[tuple[str, str, str], set[str]] = {}
    daily = bool(months) and months[0].resolution == "day"
    if not months:
        return _receivable_table([])
    start, end = months[0].bounds(tz)[0], months[-1].bounds(tz)[1]
    labels_of = {m.start: m.label for m in months}
    for account_id in sorted(accounts):
        account = accounts[account_id]
        where = (account.landlord or "", catalog.building_of(account_id, account.tags))
        for entry in await ledger.entries(account_id, start=start, end=end,
                                          kinds=_LEDGER_KINDS, limit=None,
                                          newest_first=False):
            bucket = _bucket(entry)
            if bucket is None:
                continue
            local = entry.time.astimezone(tz).date()
            label = labels_of.get(local if daily else local.replace(day=1))
            if label is None:
                continue
            key = (label, *where)
            sums = totals.setdefault(key, dict.fromkeys(
                ("receivable", "received", "refunded", "adjustments"), Decimal("0.00")))
            sign = -1 if bucket in ("receivable", "refunded") else 1
            sums[bucket] += sign * entry.amount
            members.setdefault(key, set()).add(account_id)
    rows = []
    for key in sorted(totals):
        sums = totals[key]
        percent, advance = collection(sums["receivable"], sums["received"], sums["refunded"])
        rows.append((*key, len(members[key]), sums["receivable"], sums["received"],
                     sums["refunded"], sums["adjustments"], percent, advance))
    return _receivable_table(rows, "day" if daily else "month")


def collection(receivable: Decimal, received: Decimal,
               refunded: Decimal) -> tuple[Decimal | None, Decimal]:
    """The month's collection rate (收缴率) and what was paid in advance (预收).

    What was received net of refunds covers the month's receivable up to all of it: the rate
    is that part of the receivable, 0–100 %, rounded half-up to 0.1 (None when nothing was
    receivable). What was received beyond the receivable is not a rate above 100 % but money
    paid ahead (prepaid recharges, mostly): it is the ``advance``.
    """
    net = max(received - refunded, Decimal("0.00"))
    if receivable <= 0:
        return None, net
    covered = min(net, receivable)
    percent = (covered * 100 / receivable).quantize(CHANGE_PLACES, ROUND_HALF_UP)
    return percent, net - covered


def _receivable_table(rows: list[tuple[Any, ...]], first: str = "month") -> Table:
    return Table("receivable", (first, "landlord", "building", "accounts", "receivable",
                                "received", "refunded", "adjustments", "collection_percent",
                                "advance"),
                 ("text", "text", "text", "int", "money", "money", "money", "money",
                  "percent", "money"), rows, "receivable vs received")


# --- loss and share tables ------------------------------------------------------------------

def loss_table(rows: Sequence[LossRow]) -> Table:
    """The loss of every parent meter."""
    return Table("loss", ("meter_id", "building", "period", "kind", "unit", "parent_quantity",
                          "children_quantity", "loss", "loss_percent", "threshold", "status"),
                 ("text", "text", "text", "text", "text", "quantity", "quantity", "quantity",
                  "percent", "percent", "text"),
                 [(r.meter_id, r.tags.get("building", ""), r.period.label, r.kind, r.unit,
                   r.parent_quantity, r.children_quantity, r.loss, r.loss_percent,
                   r.limits.threshold_percent, r.status) for r in rows], "loss")


def tag_loss_table(rows: Sequence[TagLoss]) -> Table:
    """Losses summed per building or line."""
    return Table("loss_by_tag", ("tag", "value", "kind", "unit", "parent_quantity",
                                 "children_quantity", "loss", "loss_percent"),
                 ("text", "text", "text", "text", "quantity", "quantity", "quantity",
                  "percent"),
                 [(r.key, r.value, r.kind, r.unit, r.parent_quantity, r.children_quantity,
                   r.loss, r.loss_percent) for r in rows], "loss per tag")


def share_table(allocation: Allocation) -> Table:
    """One allocation: a row per member."""
    from .sharing import weight_decimal

    return Table("share", ("group", "period", "split", "account_id", "basis", "days", "weight",
                           "amount", "cost", "quantity"),
                 ("text", "text", "text", "text", "quantity", "int", "quantity", "money",
                  "money", "quantity"),
                 [(allocation.group_id, allocation.period.label, allocation.split,
                   line.account_id, line.basis, line.days, weight_decimal(line.weight), line.amount,
                   allocation.cost, allocation.quantity) for line in allocation.lines],
                 f"share {allocation.group_id} {allocation.period.label}")
