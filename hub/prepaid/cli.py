"""``meterhub account show|recharge|ledger|audit``: through the running hub's API.

``audit`` opens the database directly (read-only) when no hub answers, so the books can be
checked with the hub stopped.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import voluptuous as vol

from .. import validation as cv
from ..bootstrap import prepare
from ..client import HubClient, HubRefused, HubUnreachable, add_hub_options, print_error
from ..i18n import Text, text_of
from .services import METHODS


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``account`` and its sub-commands."""
    account = subparsers.add_parser("account", help="prepaid accounts: balance, recharge, "
                                                    "ledger, audit")
    actions = account.add_subparsers(dest="account_command", metavar="show|recharge|ledger|audit",
                                     required=True)
    show = actions.add_parser("show", help="an account's balance and state")
    show.add_argument("account_id", metavar="ID")
    recharge = actions.add_parser("recharge", help="add a payment (counted once per reference)")
    recharge.add_argument("account_id", metavar="ID")
    recharge.add_argument("amount", metavar="AMOUNT", help="yuan, e.g. 100 or 49.50")
    recharge.add_argument("--method", required=True, choices=METHODS)
    recharge.add_argument("--reference", required=True,
                          help="the payment's transaction id or receipt number")
    ledger = actions.add_parser("ledger", help="an account's ledger entries, newest first")
    ledger.add_argument("account_id", metavar="ID")
    ledger.add_argument("--limit", type=int, default=50)
    audit = actions.add_parser("audit", help="re-derive every balance from the ledger")
    add_hub_options(account, (show, recharge, ledger, audit),
                    data_help="data folder, for audit with the hub stopped (default: beside "
                              "hub.yaml)")
    account.set_defaults(func=cmd_account)


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_account(args: argparse.Namespace) -> int:
    """Run one ``account`` sub-command; problems print a reason and exit 1."""
    prepared = prepare(args.config, data_dir=getattr(args, "data", None))
    config = prepared.config
    client = HubClient(config, args.port)
    try:
        if args.account_command == "show":
            _print(client.request(f"/api/accounts/{args.account_id}"))
        elif args.account_command == "ledger":
            _print(client.request(f"/api/accounts/{args.account_id}/ledger",
                                  params={"limit": str(args.limit)}))
        elif args.account_command == "recharge":
            try:
                amount = cv.money(args.amount)
            except vol.Invalid as err:
                print_error(err.msg, config.language, "AMOUNT")
                return 1
            body = {"account_id": args.account_id, "amount": str(amount),
                    "method": args.method, "reference": args.reference}
            _print(client.call_service("account", "recharge", body))
        else:
            return _audit(client, config.data_dir, config.block("storage"))
    except (ValueError, HubRefused, HubUnreachable) as err:
        print_error(text_of(err), config.language)
        return 1
    return 0


def _audit(client: HubClient, data_dir: Path, block: Any) -> int:
    try:
        report = client.request("/api/ledger/audit")
    except HubUnreachable:
        report = _audit_file(data_dir, block)
    _print(report)
    return 0 if report.get("ok") else 2


def _audit_file(data_dir: Path, block: Any) -> dict[str, Any]:
    from ..ledger import AuditReport, from_fen
    from ..storage import StorageSettings, audit_file

    path = StorageSettings.from_block(block, data_dir).path
    if not path.is_file():
        raise ValueError(Text("prepaid.no_hub_no_database", path=path))
    problems, accounts = audit_file(path)
    report = AuditReport(accounts, problems).as_dict()
    report["source"] = str(path)
    for problem in report["problems"]:
        problem["difference"] = str(from_fen(0) + Decimal(problem["ledger_sum"])
                                    - Decimal(problem["running_total"] or 0))
    return report
