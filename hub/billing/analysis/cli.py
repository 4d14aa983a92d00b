"""``meterhub report consumption|loss|arrears|receivable``, ``meterhub share preview|split``.

Each asks the running hub (``/api/reports/...``); when no hub answers, it opens the database
itself (the hub must then be stopped: one process per database). With ``-o FILE.csv`` or
``-o FILE.xlsx`` the table is written to the file, else printed (``--json`` for JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...client import HubClient, HubRefused, HubUnreachable, print_error
from ...i18n import Joined, Text, text_of
from ...util.output import OutputError, table_format
from ..invoice_split import INVOICE_SPLITS
from ..reports import VALUES, Table, labels, worded, write_table
from .api import ReportError, report_table

if TYPE_CHECKING:
    from ...bootstrap import Prepared
    from .service import Analysis

OFFLINE_TIMEOUT = 300.0


def _hub_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", metavar="HUB_YAML", help="configuration file")
    parser.add_argument("--data", metavar="DIR", type=Path,
                        help="data folder, when the hub is stopped (default: beside hub.yaml)")
    parser.add_argument("--port", type=int, help="the hub's HTTP port (default: from config)")


def _common(parser: argparse.ArgumentParser) -> None:
    _hub_options(parser)
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write the table to FILE.csv or FILE.xlsx")
    parser.add_argument("--format", choices=("csv", "xlsx"),
                        help="file format (default: from the output's extension)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _months(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", metavar="YYYY-MM", help="one month (default: last month)")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM", help="first month")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM", help="last month (included)")


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``report`` and ``share``."""
    report = subparsers.add_parser("report", help="reports: consumption per tag (环比/同比), "
                                                  "loss, arrears, receivable vs received")
    kinds = report.add_subparsers(
        dest="report", metavar="consumption|loss|arrears|receivable|trend|intensity",
        required=True)
    consumption = kinds.add_parser("consumption", help="usage per tag value and month with "
                                                       "month-over-month and year-over-year")
    consumption.add_argument("--tag", required=True, metavar="KEY",
                             help="tag to group by: building, floor, line, department...")
    consumption.add_argument("--kind", choices=("electricity", "water"),
                             help="only this kind (default: both)")
    _months(consumption)
    loss = kinds.add_parser("loss", help="parent meters against the sum of their children")
    loss.add_argument("--period", metavar="YYYY-MM[-DD]", help="a month or a day "
                                                               "(default: yesterday)")
    loss.add_argument("--by", metavar="KEY", help="sum per value of this tag (building, line)")
    kinds.add_parser("arrears", help="accounts below zero or at their trip level")
    receivable = kinds.add_parser("receivable", help="应收/实收 per month (or --by day: daily "
                                                     "income), landlord, building")
    _months(receivable)
    receivable.add_argument("--by", choices=("day", "month"),
                            help="day: one row per day (--from/--to are days)")
    trend = kinds.add_parser("trend", help="usage per day, month or year with 环比 and 同比")
    trend.add_argument("--by", choices=("day", "month", "year"), default="month")
    trend.add_argument("--from", dest="first", metavar="DATE", help="2026-10-01, 2026-10, 2026")
    trend.add_argument("--to", dest="last", metavar="DATE", help="the last period (included)")
    trend.add_argument("--tag", metavar="KEY=VALUE", help="only meters with this tag")
    trend.add_argument("--meter", metavar="METER_ID", help="only this meter")
    trend.add_argument("--kind", choices=("electricity", "water"))
    intensity = kinds.add_parser("intensity", help="energy use per building, per m² and per "
                                                   "person")
    intensity.add_argument("--period", metavar="YYYY[-MM]", help="a year or a month "
                                                                "(default: this year)")
    intensity.add_argument("--kind", choices=("electricity", "water"))
    for parser in (consumption, loss, receivable, kinds.choices["arrears"], trend, intensity):
        _common(parser)
    report.set_defaults(func=cmd_report)

    share = subparsers.add_parser("share", help="cost sharing (公摊) of common meters")
    actions = share.add_subparsers(dest="share_command", metavar="preview|split",
                                   required=True)
    preview = actions.add_parser("preview", help="how a group's cost for a month would be "
                                                 "split (nothing is posted)")
    preview.add_argument("group", metavar="GROUP")
    preview.add_argument("--period", metavar="YYYY-MM", help="the month (default: last month)")
    _common(preview)
    split = actions.add_parser("split", help="split an invoice's amount (a bill with no meter "
                                             "in the hub) among a group; --post posts it")
    split.add_argument("group", metavar="GROUP")
    split.add_argument("--amount", required=True, metavar="YUAN",
                       help="the invoice's amount: digits with at most 2 decimals")
    split.add_argument("--from", dest="start", required=True, metavar="DATE",
                       help="the invoice period's first day")
    split.add_argument("--to", dest="end", required=True, metavar="DATE",
                       help="the invoice period's last day")
    split.add_argument("--invoice", metavar="NUMBER", help="the invoice number (the "
                                                           "entries' reference; needed to post)")
    split.add_argument("--split", choices=INVOICE_SPLITS,
                       help="area, persons, equal or ratios (default: the group's)")
    split.add_argument("--ratio", action="append", default=[], metavar="ACCOUNT=WEIGHT",
                       help="a fixed ratio (repeat it; with --split ratios)")
    split.add_argument("--post", action="store_true",
                       help="post each share to the ledger (once per invoice)")
    _hub_options(split)
    share.set_defaults(func=cmd_share)


def _params(args: argparse.Namespace) -> dict[str, str]:
    names = {"tag": "tag", "kind": "kind", "month": "month", "first": "from", "last": "to",
             "period": "period", "by": "by", "group": "group", "meter": "meter"}
    return {query: str(getattr(args, attr)) for attr, query in names.items()
            if getattr(args, attr, None)}


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``meterhub report <name>``."""
    return _run(args, args.report, _params(args))


def cmd_share(args: argparse.Namespace) -> int:
    """Run ``meterhub share preview GROUP`` or ``meterhub share split GROUP ...``."""
    if args.share_command == "split":
        return _split(args)
    return _run(args, "share", _params(args))


def _split_data(args: argparse.Namespace) -> dict[str, Any]:
    """The ``share.split`` service data from the command line; ReportError for bad input."""
    import voluptuous as vol

    from ... import validation as cv
    from ..invoice_split import SPLIT_SCHEMA

    data: dict[str, Any] = {"group": args.group, "amount": args.amount, "start": args.start,
                            "end": args.end, "post": args.post}
    if args.invoice:
        data["invoice"] = args.invoice
    if args.split:
        data["split"] = args.split
    if args.ratio:
        ratios: dict[str, str] = {}
        for item in args.ratio:
            account, sep, weight = item.partition("=")
            if not sep or not account.strip():
                raise ReportError(Text("billing.split_ratio", item=repr(item)))
            ratios[account.strip()] = weight.strip()
        data["ratios"] = ratios
    try:
        SPLIT_SCHEMA(data)
    except vol.Invalid as err:
        raise ReportError(Joined(cv.humanize_invalid(err, data))) from None
    return data


def _split(args: argparse.Namespace) -> int:
    from ...bootstrap import prepare
    from ...util.jsonutil import dumps

    prepared = prepare(args.config, data_dir=args.data)
    if prepared.report_problems():
        return 1
    try:
        data = _split_data(args)
        try:
            result = HubClient(prepared.config, args.port).call_service("share", "split", data)
        except HubUnreachable:
            result = asyncio.run(_offline_split(prepared, data))
        except HubRefused as err:
            raise ReportError(str(err)) from None
    except ReportError as err:
        print_error(text_of(err), prepared.config.language)
        return 1
    print(dumps(result, indent=2))
    return 0


async def _offline_split(prepared: Prepared, data: dict[str, Any]) -> Any:
    """Split (and post) with the database opened here (the hub is stopped)."""
    from ..invoice_split import SPLIT_SCHEMA
    from ..sharing import ShareError

    async with _opened(prepared) as analysis:
        try:
            return await analysis.share_split(SPLIT_SCHEMA(data))
        except ShareError as err:
            raise ReportError(text_of(err)) from None


def _run(args: argparse.Namespace, name: str, params: dict[str, str]) -> int:
    from ...bootstrap import prepare

    prepared = prepare(args.config, data_dir=args.data)
    if prepared.report_problems():
        return 1
    config = prepared.config
    try:
        if args.output is not None:  # refused before any work: a .pdf is no CSV
            table_format(args.output, args.format)
    except OutputError as err:
        print_error(text_of(err), config.language)
        return 1
    try:
        try:
            table = Table.from_dict(HubClient(config, args.port).request(
                f"/api/reports/{name}", params=params))
        except HubUnreachable:
            table = asyncio.run(_offline(prepared, name, params))
        except HubRefused as err:
            raise ReportError(str(err)) from None
    except ReportError as err:
        print_error(text_of(err), config.language)
        return 1
    _output(table, args, config.language)
    return 0


async def _offline(prepared: Prepared, name: str, params: dict[str, str]) -> Table:
    """Open the database (the hub is stopped) and build the report here."""
    from ...util import dt

    async with _opened(prepared) as analysis:
        return await report_table(analysis, name, params, dt.now().date())


@contextlib.asynccontextmanager
async def _opened(prepared: Prepared) -> AsyncIterator[Analysis]:
    """The analysis over the database opened here (the hub must be stopped)."""
    from ...ledger.accounts import Account
    from ...ledger.ledger import Ledger
    from ...storage import Storage, StorageSettings
    from ...util import dt
    from ..loss import LossSettings
    from ..sharing import ShareGroup
    from ..tariffs import TariffBook
    from .base import Catalog
    from .service import Analysis

    config = prepared.config
    registries = prepared.plugins.registries
    settings = StorageSettings.from_block(config.block("storage"), config.data_dir)
    if not settings.path.is_file():
        raise ReportError(Text("billing.no_hub_no_database", path=settings.path))
    dt.set_site_time_zone(config.time_zone)
    storage = Storage(settings, time_zone=config.time_zone)
    async with asyncio.timeout(OFFLINE_TIMEOUT):
        await storage.start()
        ledger: Ledger | None = None
        try:
            if storage.status != "ok":
                raise ReportError(Text("billing.no_hub_database_closed",
                                       port=config.http_port, problem=storage.problem))
            accounts = {entry["id"]: Account.from_config(entry)
                        for entry in config.block("accounts") or []}
            ledger = Ledger(storage, accounts)
            await ledger.start()
            catalog = Catalog.from_config(config.block("meters"), registries)
            yield Analysis(
                storage, catalog, accounts, tariffs=TariffBook.from_config(config, registries),
                ledger=ledger, loss=LossSettings.from_block(config.block("loss")),
                groups=[ShareGroup.from_config(entry, catalog)
                        for entry in config.block("share_groups") or []])
        finally:
            if ledger is not None:
                await ledger.stop()
            await storage.stop()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _output(table: Table, args: argparse.Namespace, language: str) -> None:
    if args.output is not None:
        count = write_table(table, args.output, args.format, language=language)
        shown = worded(table, language)
        said = VALUES.get(language, VALUES["en"])
        print(said.get("report.wrote", VALUES["en"]["report.wrote"]).format(
            count=count, title=shown.title or shown.name, path=args.output))
        return
    if args.json:
        from ...util.jsonutil import dumps

        print(dumps(table.as_dict(), indent=2))
        return
    heads = [labels(language).get(column, column) for column in table.columns]
    cells = [[_text(value) for value in row] for row in worded(table, language).rows]
    widths = [max([_width(head)] + [_width(row[i]) for row in cells])
              for i, head in enumerate(heads)]
    for row in [heads, *cells]:
        print("  ".join(_pad(text, width) for text, width in zip(row, widths, strict=True)))
    if not cells:
        print(VALUES.get(language, VALUES["en"]).get("report.no_rows", "(no rows)"))


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
